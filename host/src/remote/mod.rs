//! `cineflow remote`: the component author's and operator's client of a running server —
//! sign in once, then upload, bind, canary, dry-run, replay and shadow components and read
//! run logs and receipts (docs/component-guide.md, "The remote CLI").
//!
//! It also sets up a chain of one's own from nothing: sign up, approve (an admin), create a
//! chain, theatre, screen, movie and show; each of those prints the new id, so a script
//! captures it (`CHAIN=$(cineflow remote chain create ...)`).
//!
//! Output is for people by default; `--json` prints the server's JSON, pretty. Errors go to
//! stderr; the exit codes are in [`error`].

mod args;
mod client;
mod commands;
pub mod config;
mod error;
mod output;
mod render;
mod setup_args;
#[cfg(test)]
mod stub_tests;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

pub use args::{Action, OnFailureArg, RunFilter, ShadowAction, SignupRole};
pub use error::{Refusal, RemoteError};
pub use setup_args::{ChainAction, MovieAction, ScreenAction, ShowAction, TheatreAction};

/// `cineflow remote ...`
#[derive(Debug, Args)]
pub struct RemoteCommand {
    /// Where and who.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// What to do.
    #[command(subcommand)]
    pub action: Action,
}

/// The server, the token and the output format, for every `remote` command.
#[derive(Debug, Clone, Args)]
pub struct ConnectionArgs {
    /// The server's base URL, e.g. `https://cineflow.example.com` (default: the one `remote
    /// login` saved).
    #[arg(long, env = "CINEFLOW_SERVER", global = true)]
    pub server: Option<String>,
    /// Bearer token (default: the one `remote login` saved, when it was for this server).
    #[arg(long, env = "CINEFLOW_TOKEN", global = true, hide_env_values = true)]
    pub token: Option<String>,
    /// Print the server's JSON answer (pretty) instead of text for people.
    #[arg(long, global = true)]
    pub json: bool,
    /// A PEM file of certificate authorities to trust beside the usual public ones (a server
    /// with a private CA).
    #[arg(long, env = "CINEFLOW_CA_CERT", global = true)]
    pub ca_cert: Option<PathBuf>,
    /// Seconds one request may take.
    #[arg(long, env = "CINEFLOW_REMOTE_TIMEOUT_SECS", global = true, default_value_t = 120,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout_secs: u64,
}

/// Runs a `remote` command: writes its answer to stdout, any error to stderr, and returns
/// the exit code.
/// With `--json`, a refusal's problem document also goes to stdout, so that a script reads
/// its `code` the same way it reads a success.
pub async fn run(command: RemoteCommand) -> ExitCode {
    use std::io::Write as _;
    let json = command.connection.json;
    let mut stdout = std::io::stdout().lock();
    let mut result = commands::execute(command, &mut stdout).await;
    if json
        && let Err(RemoteError::Refused(Refusal {
            body: Some(body), ..
        })) = &result
        && let Err(e) = output::json(&mut stdout, body)
    {
        result = Err(e.into());
    }
    let result = result.and_then(|code| {
        stdout.flush()?;
        Ok(code)
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            // A closed stderr leaves nothing to tell: the exit code still says it.
            let _ = writeln!(std::io::stderr().lock(), "{}", e.render());
            ExitCode::from(e.exit_code())
        }
    }
}

/// How long one request may take.
fn timeout(args: &ConnectionArgs) -> Duration {
    Duration::from_secs(args.timeout_secs)
}
