//! Each `remote` subcommand: the requests it makes and what it prints, by area: signing in
//! and accounts ([`account`]), the catalogue of a chain of one's own ([`catalogue`]), the
//! component lifecycle ([`components`]), and run logs, replays, shadows and receipts
//! ([`runs`]).

mod account;
mod catalogue;
mod components;
mod runs;

use std::io::Write;

use serde_json::Value;

use super::client::{Answer, Client, parse_server, server_text};
use super::config::{self, Saved};
use super::output;
use super::{Action, ConnectionArgs, RemoteCommand, RemoteError, timeout};

/// Exit code of a command that ran but whose component or replay failed.
const FAILED: u8 = 3;

/// The server and token to use: `--server`/`--token` (or their environment variables) over
/// the saved file. The saved token is only sent to the server it was issued by.
pub(super) fn resolve(
    args: &ConnectionArgs,
    saved: Option<&Saved>,
) -> Result<(url::Url, Option<String>), RemoteError> {
    let server = match (given(&args.server), saved) {
        (Some(raw), _) => parse_server(raw)?,
        (None, Some(saved)) => parse_server(&saved.server)?,
        (None, None) => {
            return Err(RemoteError::Usage(
                "no server: pass --server URL (or set CINEFLOW_SERVER), or run `cineflow remote login --server URL --email ...` first".into(),
            ));
        }
    };
    let token = match given(&args.token) {
        Some(token) => Some(token.to_owned()),
        None => saved
            .filter(|s| parse_server(&s.server).is_ok_and(|u| u == server))
            .map(|s| s.token.clone()),
    };
    Ok((server, token))
}

/// A flag's value, unless empty or blank.
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Runs the command; the exit code when it ran (0, or [`FAILED`]).
pub(super) async fn execute(
    command: RemoteCommand,
    out: &mut dyn Write,
) -> Result<u8, RemoteError> {
    let args = command.connection;
    let path = config::path();
    let both_given = args.server.is_some() && args.token.is_some();
    let saved = match (&path, both_given) {
        (Some(path), false) => config::load(path)?,
        _ => None,
    };
    match &command.action {
        Action::Login {
            email,
            password_stdin,
        } => {
            let (server, _) = resolve(&args, saved.as_ref())?;
            return account::login(&args, server, path.as_deref(), email, *password_stdin, out)
                .await;
        }
        Action::Signup { .. } => {
            let (server, _) = resolve(&args, saved.as_ref())?;
            return account::signup(&args, server, command.action, out).await;
        }
        _ => {}
    }
    let (server, token) = resolve(&args, saved.as_ref())?;
    let Some(token) = token else {
        let server = server_text(&server);
        return Err(RemoteError::Usage(format!(
            "not signed in to {server}: run `cineflow remote login --server {server} --email ...`, or pass --token (CINEFLOW_TOKEN)"
        )));
    };
    let client = Client::new(server, Some(token), args.ca_cert.as_deref(), timeout(&args))?;
    let cx = Cx {
        client,
        json: args.json,
    };
    cx.dispatch(command.action, out).await
}

/// A signed-in client and the output format.
struct Cx {
    client: Client,
    json: bool,
}

impl Cx {
    async fn dispatch(&self, action: Action, out: &mut dyn Write) -> Result<u8, RemoteError> {
        match action {
            Action::Login { .. } | Action::Signup { .. } => Err(RemoteError::Usage(
                "login and signup are handled first".into(),
            )),
            Action::Chains { all } => self.chains(all, out).await,
            Action::Approve { user_id } => self.approve(user_id, out).await,
            a @ (Action::Chain(_)
            | Action::Theatre(_)
            | Action::Screen(_)
            | Action::Movie(_)
            | Action::Show(_)) => self.catalogue(a, out).await,
            a @ (Action::Upload { .. }
            | Action::Components { .. }
            | Action::Bindings { .. }
            | Action::Bind { .. }
            | Action::Unbind { .. }
            | Action::Canary { .. }
            | Action::DryRun { .. }) => self.components(a, out).await,
            a @ (Action::Runs { .. }
            | Action::Run { .. }
            | Action::Replay { .. }
            | Action::ReplayStatus { .. }
            | Action::Shadow(_)
            | Action::Receipt { .. }) => self.runs(a, out).await,
        }
    }

    /// Prints an answer: its JSON with `--json`, else `human`.
    fn show(
        &self,
        out: &mut dyn Write,
        answer: &Answer,
        human: impl FnOnce(&mut dyn Write, &Value) -> std::io::Result<()>,
    ) -> Result<u8, RemoteError> {
        if self.json {
            output::json(out, &answer.body)?;
        } else {
            human(out, &answer.body)?;
        }
        Ok(0)
    }

    /// A bodiless success (204): `message` for people; nothing with `--json` (the server
    /// sent no JSON), unless it did send some.
    fn done(&self, out: &mut dyn Write, answer: &Answer, message: &str) -> Result<u8, RemoteError> {
        if self.json {
            if !answer.body.is_null() {
                output::json(out, &answer.body)?;
            }
        } else {
            writeln!(out, "{message}")?;
        }
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(server: Option<&str>, token: Option<&str>) -> ConnectionArgs {
        ConnectionArgs {
            server: server.map(str::to_owned),
            token: token.map(str::to_owned),
            json: false,
            ca_cert: None,
            timeout_secs: 5,
        }
    }

    fn saved() -> Saved {
        Saved {
            server: "http://127.0.0.1:8080".into(),
            token: "saved-token".into(),
        }
    }

    #[test]
    fn flags_override_the_saved_file() {
        let s = saved();
        let (server, token) = resolve(&args(None, None), Some(&s)).expect("resolves");
        assert_eq!(server_text(&server), "http://127.0.0.1:8080");
        assert_eq!(token.as_deref(), Some("saved-token"));

        let (_, token) = resolve(&args(None, Some("flag-token")), Some(&s)).expect("resolves");
        assert_eq!(token.as_deref(), Some("flag-token"));

        // The same server written differently still gets the saved token.
        let (_, token) =
            resolve(&args(Some("http://127.0.0.1:8080/"), None), Some(&s)).expect("resolves");
        assert_eq!(token.as_deref(), Some("saved-token"));
    }

    #[test]
    fn the_saved_token_never_goes_to_another_server() {
        let s = saved();
        let (server, token) =
            resolve(&args(Some("https://elsewhere.example"), None), Some(&s)).expect("resolves");
        assert_eq!(server_text(&server), "https://elsewhere.example");
        assert_eq!(token, None);
    }

    #[test]
    fn without_server_anywhere_it_is_a_usage_error() {
        let err = resolve(&args(None, Some("t")), None).expect_err("no server");
        assert_eq!(err.exit_code(), 2);
        assert!(err.render().contains("--server"), "{}", err.render());
        let err = resolve(&args(Some("nope"), None), None).expect_err("bad server");
        assert_eq!(err.exit_code(), 2);
    }
}
