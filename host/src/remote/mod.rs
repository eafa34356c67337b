//! `cineflow remote`: the component author's and operator's client of a running server —
//! sign in once, then upload, bind, canary, dry-run, replay and shadow components and read
//! run logs and receipts (docs/component-guide.md, "The remote CLI").
//!
//! Output is for people by default; `--json` prints the server's JSON, pretty. Errors go to
//! stderr; the exit codes are in [`error`].

mod client;
mod commands;
pub mod config;
mod error;
mod output;
mod render;
#[cfg(test)]
mod stub_tests;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use uuid::Uuid;

pub use error::{Refusal, RemoteError};

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

/// `--on-failure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnFailureArg {
    /// The call fails (503 `plugin_unavailable` for holds).
    Reject,
    /// The platform default answers instead.
    Fallback,
}

impl OnFailureArg {
    fn as_str(self) -> &'static str {
        match self {
            OnFailureArg::Reject => "reject",
            OnFailureArg::Fallback => "fallback",
        }
    }
}

/// Which runs (`remote runs`, `remote replay`): filters the server applies.
#[derive(Debug, Clone, Args)]
pub struct RunFilter {
    /// Runs from this time on (RFC 3339, e.g. `2026-12-01T00:00:00Z`).
    #[arg(long, value_parser = parse_time)]
    pub from: Option<String>,
    /// Runs before this time (RFC 3339).
    #[arg(long, value_parser = parse_time)]
    pub to: Option<String>,
    /// At most this many runs.
    #[arg(long)]
    pub limit: Option<u32>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Action {
    /// Sign in (`POST /api/v1/auth/signin`) and save the server and token to the config file.
    Login {
        /// The account's email.
        #[arg(long)]
        email: String,
        /// Read the password from standard input (one line) instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// The chains you are staff of (every chain for an admin, or with `--all`).
    Chains {
        /// Every chain on the server.
        #[arg(long)]
        all: bool,
    },
    /// Upload a component (checked against the hook's fixtures); prints its id.
    Upload {
        /// The chain's id.
        #[arg(long)]
        chain: Uuid,
        /// The hook it implements: `booking-rules`, `pricing`, `notify-templates`, ...
        #[arg(long)]
        hook: String,
        /// The `.wasm` component file.
        file: PathBuf,
    },
    /// The chain's uploaded components.
    Components {
        /// The chain's id.
        #[arg(long)]
        chain: Uuid,
    },
    /// Which component serves each hook of the chain, with policy, breaker and canary.
    Bindings {
        /// The chain's id.
        #[arg(long)]
        chain: Uuid,
    },
    /// Bind a hook to one of the chain's components (optionally with a canary).
    Bind {
        /// The chain's id.
        #[arg(long)]
        chain: Uuid,
        /// The hook: `booking-rules`, `pricing`, `notify-templates`, ...
        #[arg(long)]
        hook: String,
        /// The component's id (sha256).
        #[arg(long)]
        component: String,
        /// What a failure of the component leads to (the server's default when omitted).
        #[arg(long, value_enum)]
        on_failure: Option<OnFailureArg>,
        /// A component that gets `--percent` of the calls.
        #[arg(long, requires = "percent")]
        canary: Option<String>,
        /// The canary's share of calls, 1 to 99.
        #[arg(long, requires = "canary", value_parser = clap::value_parser!(u8).range(1..=99))]
        percent: Option<u8>,
    },
    /// Unbind a hook: the chain gets the platform default again.
    Unbind {
        /// The chain's id.
        #[arg(long)]
        chain: Uuid,
        /// The hook: `booking-rules`, `pricing`, `notify-templates`, ...
        #[arg(long)]
        hook: String,
    },
    /// Add, change or (`--off`) remove the canary of a bound hook: re-binds its current
    /// component and policy with the canary.
    Canary {
        /// The chain's id.
        #[arg(long)]
        chain: Uuid,
        /// The hook: `booking-rules`, `pricing`, `notify-templates`, ...
        #[arg(long)]
        hook: String,
        /// The canary component's id.
        #[arg(long, required_unless_present = "off", conflicts_with = "off")]
        component: Option<String>,
        /// Its share of calls, 1 to 99.
        #[arg(long, required_unless_present = "off", conflicts_with = "off",
              value_parser = clap::value_parser!(u8).range(1..=99))]
        percent: Option<u8>,
        /// Remove the canary.
        #[arg(long)]
        off: bool,
    },
    /// Run one of the chain's components on an input, touching no data.
    DryRun {
        /// The chain's id.
        #[arg(long)]
        chain: Uuid,
        #[arg(long)]
        component: String,
        /// The input as JSON (the hook's WIT record; `-` reads standard input).
        #[arg(long)]
        input: PathBuf,
    },
    /// The chain's run log, newest first.
    Runs {
        /// The chain's id.
        #[arg(long)]
        chain: Uuid,
        /// Only runs of this hook.
        #[arg(long)]
        hook: Option<String>,
        /// Only runs of this component.
        #[arg(long)]
        component: Option<String>,
        /// `ok`, `refused`, or a failure kind (`trap`, `out_of_fuel`, `timeout`, ...).
        #[arg(long)]
        outcome: Option<String>,
        #[command(flatten)]
        filter: RunFilter,
        /// The `next_cursor` of the previous page.
        #[arg(long)]
        cursor: Option<String>,
    },
    /// One run with its input, output and log.
    Run {
        /// The chain's id.
        #[arg(long)]
        chain: Uuid,
        /// The run's id.
        run_id: Uuid,
    },
    /// Replay logged runs of a hook through another component and report what would change.
    Replay {
        /// The chain's id.
        #[arg(long)]
        chain: Uuid,
        /// The hook: `booking-rules`, `pricing`, `notify-templates`, ...
        #[arg(long)]
        hook: String,
        /// The component to replay the runs through.
        #[arg(long)]
        component: String,
        #[command(flatten)]
        filter: RunFilter,
        /// Print the replay's id and return at once instead of waiting for its report.
        #[arg(long)]
        no_wait: bool,
        /// Longest wait for the report, in seconds.
        #[arg(long, default_value_t = 1800)]
        wait_secs: u64,
    },
    /// A replay's state, or its report once done (`--wait` waits for it).
    ReplayStatus {
        /// The chain's id.
        #[arg(long)]
        chain: Uuid,
        /// The replay's id.
        replay_id: Uuid,
        /// Wait until it is done or failed.
        #[arg(long)]
        wait: bool,
        /// Longest wait, in seconds.
        #[arg(long, default_value_t = 1800)]
        wait_secs: u64,
    },
    /// Shadow a hook: run another component beside the bound one on live calls and compare.
    #[command(subcommand)]
    Shadow(ShadowAction),
    /// Every component decision behind a booking, with inputs to reproduce each.
    Receipt {
        /// The booking's id.
        booking_id: Uuid,
    },
}

/// `cineflow remote shadow ...`
#[derive(Debug, Subcommand)]
pub enum ShadowAction {
    /// Start (or change) the hook's shadow.
    Start {
        /// The chain's id.
        #[arg(long)]
        chain: Uuid,
        /// The hook: `booking-rules`, `pricing`, `notify-templates`, ...
        #[arg(long)]
        hook: String,
        /// The shadow component's id.
        #[arg(long)]
        component: String,
        /// Percent of calls shadowed, 1 to 100 (the server's default: 100).
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=100))]
        sample: Option<u8>,
    },
    /// The shadow's comparison so far.
    Status {
        /// The chain's id.
        #[arg(long)]
        chain: Uuid,
        /// The hook: `booking-rules`, `pricing`, `notify-templates`, ...
        #[arg(long)]
        hook: String,
    },
    /// Stop the shadow.
    Stop {
        /// The chain's id.
        #[arg(long)]
        chain: Uuid,
        /// The hook: `booking-rules`, `pricing`, `notify-templates`, ...
        #[arg(long)]
        hook: String,
    },
}

fn parse_time(raw: &str) -> Result<String, String> {
    chrono::DateTime::parse_from_rfc3339(raw)
        .map(|t| t.to_rfc3339())
        .map_err(|e| format!("not an RFC 3339 time like 2026-12-01T18:30:00+05:30: {e}"))
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
