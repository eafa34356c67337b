//! Each `remote` subcommand: the requests it makes and what it prints.

use std::io::{IsTerminal as _, Read as _, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::{StreamExt as _, TryStreamExt as _};
use serde_json::{Value, json};
use uuid::Uuid;

use super::client::{Answer, Client, parse_server, server_text};
use super::config::{self, Saved};
use super::output::{self, items};
use super::{Action, ConnectionArgs, RemoteCommand, RemoteError, ShadowAction, render, timeout};

/// Exit code of a command that ran but whose component or replay failed.
const FAILED: u8 = 3;
/// Time between two looks at a replay.
const POLL: Duration = Duration::from_millis(500);
/// Connection errors in a row tolerated while waiting for a replay.
const POLL_RETRIES: u32 = 5;
/// Chains whose membership is asked at once (`remote chains`).
const PROBES: usize = 8;
/// Largest component file read.
const MAX_COMPONENT_FILE: u64 = 256 * 1024 * 1024;

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
    if let Action::Login {
        email,
        password_stdin,
    } = &command.action
    {
        let (server, _) = resolve(&args, saved.as_ref())?;
        return login(&args, server, path.as_deref(), email, *password_stdin, out).await;
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
        let c = &self.client;
        match action {
            Action::Login { .. } => Err(RemoteError::Usage("login is handled first".into())),
            Action::Chains { all } => self.chains(all, out).await,
            Action::Upload { chain, hook, file } => {
                let bytes = read_component(&file)?;
                let chain = chain.to_string();
                let answer = c
                    .post_bytes(
                        &["chains", &chain, "components"],
                        &[("hook", Some(hook))],
                        "application/wasm",
                        bytes,
                    )
                    .await?;
                self.show(out, &answer, |out, v| {
                    render::uploaded(out, answer.status, v)
                })
            }
            Action::Components { chain } => {
                let answer = c
                    .get(&["chains", &chain.to_string(), "components"], &[])
                    .await?;
                self.show(out, &answer, render::components)
            }
            Action::Bindings { chain } => {
                let answer = c
                    .get(&["chains", &chain.to_string(), "bindings"], &[])
                    .await?;
                self.show(out, &answer, render::bindings)
            }
            Action::Bind {
                chain,
                hook,
                component,
                on_failure,
                canary,
                percent,
            } => {
                let mut body = json!({"component_id": component});
                if let Some(policy) = on_failure {
                    body["on_failure"] = json!(policy.as_str());
                }
                if let (Some(canary), Some(percent)) = (canary, percent) {
                    body["canary"] = json!({"component_id": canary, "percent": percent});
                }
                let answer = c
                    .put_json(&["chains", &chain.to_string(), "bindings", &hook], &body)
                    .await?;
                self.show(out, &answer, render::binding)
            }
            Action::Unbind { chain, hook } => {
                let answer = c
                    .delete(&["chains", &chain.to_string(), "bindings", &hook])
                    .await?;
                self.done(
                    out,
                    &answer,
                    &format!(
                        "{} unbound: the platform default serves it",
                        output::cell(&hook)
                    ),
                )
            }
            Action::Canary {
                chain,
                hook,
                component,
                percent,
                off,
            } => {
                let canary = match (off, component, percent) {
                    (false, Some(component), Some(percent)) => Some((component, percent)),
                    _ => None,
                };
                self.canary(chain, &hook, canary, out).await
            }
            Action::DryRun {
                chain,
                component,
                input,
            } => {
                let input = read_json(&input)?;
                let answer = c
                    .post_json(
                        &[
                            "chains",
                            &chain.to_string(),
                            "components",
                            &component,
                            "invoke",
                        ],
                        &json!({ "input": input }),
                    )
                    .await?;
                self.show(out, &answer, render::dry_run)?;
                let failed = answer.body.get("error").is_some_and(|e| !e.is_null());
                Ok(if failed { FAILED } else { 0 })
            }
            Action::Runs {
                chain,
                hook,
                component,
                outcome,
                filter,
                cursor,
            } => {
                let query = [
                    ("hook", hook),
                    ("component_id", component),
                    ("outcome", outcome),
                    ("from", filter.from),
                    ("to", filter.to),
                    ("limit", filter.limit.map(|l| l.to_string())),
                    ("cursor", cursor),
                ];
                let answer = c
                    .get(&["chains", &chain.to_string(), "runs"], &query)
                    .await?;
                self.show(out, &answer, render::runs)
            }
            Action::Run { chain, run_id } => {
                let answer = c
                    .get(
                        &["chains", &chain.to_string(), "runs", &run_id.to_string()],
                        &[],
                    )
                    .await?;
                self.show(out, &answer, render::run)
            }
            Action::Replay {
                chain,
                hook,
                component,
                filter,
                no_wait,
                wait_secs,
            } => {
                let mut body = json!({"component_id": component, "hook": hook});
                if let Some(from) = filter.from {
                    body["from"] = json!(from);
                }
                if let Some(to) = filter.to {
                    body["to"] = json!(to);
                }
                if let Some(limit) = filter.limit {
                    body["limit"] = json!(limit);
                }
                let chain_text = chain.to_string();
                let answer = c
                    .post_json(&["chains", &chain_text, "replays"], &body)
                    .await?;
                if no_wait {
                    return self.show(out, &answer, |out, v| {
                        render::replay_queued(out, &chain_text, v)
                    });
                }
                let id = answer
                    .body
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        RemoteError::Connection(format!(
                            "the server's answer to POST /chains/{chain}/replays has no id: {}",
                            answer.body
                        ))
                    })?
                    .to_owned();
                self.wait_replay(chain, &id, wait_secs, out).await
            }
            Action::ReplayStatus {
                chain,
                replay_id,
                wait,
                wait_secs,
            } => {
                if wait {
                    return self
                        .wait_replay(chain, &replay_id.to_string(), wait_secs, out)
                        .await;
                }
                let answer = c
                    .get(
                        &[
                            "chains",
                            &chain.to_string(),
                            "replays",
                            &replay_id.to_string(),
                        ],
                        &[],
                    )
                    .await?;
                self.show(out, &answer, render::replay)?;
                Ok(replay_code(&answer.body))
            }
            Action::Shadow(shadow) => self.shadow(shadow, out).await,
            Action::Receipt { booking_id } => {
                let answer = c
                    .get(&["bookings", &booking_id.to_string(), "receipt"], &[])
                    .await?;
                self.show(out, &answer, render::receipt)
            }
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

    /// The caller's chains: every chain for an admin (or `--all`), else those whose members
    /// list the caller may read (the API has no "my chains" list; the probes run eight at a
    /// time).
    async fn chains(&self, all: bool, out: &mut dyn Write) -> Result<u8, RemoteError> {
        let c = &self.client;
        let mut chains = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = c
                .get(
                    &["chains"],
                    &[("limit", Some("200".into())), ("cursor", cursor.clone())],
                )
                .await?
                .body;
            chains.extend(items(&page).iter().cloned());
            match page.get("next_cursor").and_then(Value::as_str) {
                Some(next) if Some(next) != cursor.as_deref() => cursor = Some(next.to_owned()),
                _ => break,
            }
        }
        let admin = !all && {
            let me = c.get(&["users", "me"], &[]).await?.body;
            me.get("role").and_then(Value::as_str) == Some("admin")
        };
        if !all && !admin {
            let probes = chains.into_iter().map(|chain| async move {
                let Some(id) = chain.get("id").and_then(Value::as_str) else {
                    return Ok(None);
                };
                match c
                    .get(&["chains", id, "members"], &[("limit", Some("1".into()))])
                    .await
                {
                    Ok(_) => Ok(Some(chain)),
                    Err(RemoteError::Refused(r)) if matches!(r.status, 403 | 404) => Ok(None),
                    Err(e) => Err(e),
                }
            });
            chains = futures_util::stream::iter(probes)
                .buffered(PROBES)
                .try_filter_map(|c| async move { Ok(c) })
                .try_collect()
                .await?;
        }
        if self.json {
            output::json(out, &json!({"items": chains, "next_cursor": null}))?;
        } else {
            render::chains(out, &chains)?;
        }
        Ok(0)
    }

    /// Re-binds the hook's current component and policy with `canary` (or without one).
    async fn canary(
        &self,
        chain: Uuid,
        hook: &str,
        canary: Option<(String, u8)>,
        out: &mut dyn Write,
    ) -> Result<u8, RemoteError> {
        let chain = chain.to_string();
        let list = self
            .client
            .get(&["chains", &chain, "bindings"], &[])
            .await?
            .body;
        let binding = items(&list)
            .iter()
            .find(|b| b.get("hook").and_then(Value::as_str) == Some(hook))
            .ok_or_else(|| {
                RemoteError::Usage(format!("chain {chain} has no hook {}", output::cell(hook)))
            })?;
        let bound = binding
            .get("bound_component_id")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                RemoteError::Usage(format!(
                    "{} is not bound: a canary runs beside a bound component; `cineflow remote bind` it first",
                    output::cell(hook)
                ))
            })?;
        let mut body = json!({"component_id": bound});
        if let Some(policy) = binding.get("on_failure").and_then(Value::as_str) {
            body["on_failure"] = json!(policy);
        }
        if let Some((component, percent)) = canary {
            body["canary"] = json!({"component_id": component, "percent": percent});
        }
        let answer = self
            .client
            .put_json(&["chains", &chain, "bindings", hook], &body)
            .await?;
        self.show(out, &answer, render::binding)
    }

    /// Polls the replay every half second, with a progress bar on stderr, until it is done
    /// or failed; prints the report.
    async fn wait_replay(
        &self,
        chain: Uuid,
        id: &str,
        wait_secs: u64,
        out: &mut dyn Write,
    ) -> Result<u8, RemoteError> {
        let chain = chain.to_string();
        let bar = progress_bar();
        let deadline = Instant::now() + Duration::from_secs(wait_secs);
        let mut errors = 0;
        let mut status = String::from("queued");
        let report = loop {
            match self
                .client
                .get(&["chains", &chain, "replays", id], &[])
                .await
            {
                Ok(answer) => {
                    errors = 0;
                    let v = answer.body;
                    status = v
                        .get("status")
                        .and_then(Value::as_str)
                        .unwrap_or("unknown")
                        .to_owned();
                    let progress = v.get("progress");
                    let count = |k: &str| progress.and_then(|p| p.get(k)).and_then(Value::as_u64);
                    if let Some(total) = count("total") {
                        bar.set_length(total);
                    }
                    if let Some(done) = count("done") {
                        bar.set_position(done);
                    }
                    bar.set_message(output::cell(&status));
                    if matches!(status.as_str(), "done" | "failed") {
                        break v;
                    }
                }
                Err(RemoteError::Connection(message)) if errors < POLL_RETRIES => {
                    errors += 1;
                    bar.set_message(format!("retrying: {}", output::cell(&message)));
                }
                Err(e) => {
                    bar.finish_and_clear();
                    return Err(e);
                }
            }
            if Instant::now() >= deadline {
                bar.finish_and_clear();
                return Err(RemoteError::Connection(format!(
                    "replay {id} is still {status} after {wait_secs} s; look again with `cineflow remote replay-status --chain {chain} {id} --wait`"
                )));
            }
            tokio::time::sleep(POLL).await;
        };
        bar.finish_and_clear();
        if self.json {
            output::json(out, &report)?;
        } else {
            render::replay(out, &report)?;
        }
        Ok(replay_code(&report))
    }

    async fn shadow(&self, action: ShadowAction, out: &mut dyn Write) -> Result<u8, RemoteError> {
        let c = &self.client;
        match action {
            ShadowAction::Start {
                chain,
                hook,
                component,
                sample,
            } => {
                let mut body = json!({"component_id": component});
                if let Some(sample) = sample {
                    body["sample_percent"] = json!(sample);
                }
                let answer = c
                    .put_json(&["chains", &chain.to_string(), "shadows", &hook], &body)
                    .await?;
                self.show(out, &answer, |out, v| render::shadow(out, &hook, v))
            }
            ShadowAction::Status { chain, hook } => {
                let answer = c
                    .get(&["chains", &chain.to_string(), "shadows", &hook], &[])
                    .await?;
                self.show(out, &answer, |out, v| render::shadow(out, &hook, v))
            }
            ShadowAction::Stop { chain, hook } => {
                let answer = c
                    .delete(&["chains", &chain.to_string(), "shadows", &hook])
                    .await?;
                self.done(
                    out,
                    &answer,
                    &format!("shadow of {} stopped", output::cell(&hook)),
                )
            }
        }
    }
}

/// 0 for a replay that is done (or still going), [`FAILED`] for one that failed.
fn replay_code(report: &Value) -> u8 {
    if report.get("status").and_then(Value::as_str) == Some("failed") {
        FAILED
    } else {
        0
    }
}

/// A bar on stderr; drawn only when stderr is a terminal.
fn progress_bar() -> indicatif::ProgressBar {
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "replay {msg:10} [{bar:40}] {pos}/{len} runs ({elapsed})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// `cineflow remote login`: signs in and saves the server and token.
async fn login(
    args: &ConnectionArgs,
    server: url::Url,
    path: Option<&Path>,
    email: &str,
    password_stdin: bool,
    out: &mut dyn Write,
) -> Result<u8, RemoteError> {
    let path = path.ok_or_else(|| {
        RemoteError::Usage("nowhere to save the token: set CINEFLOW_CONFIG (a file) or HOME".into())
    })?;
    let password = read_password(email, password_stdin)?;
    let loopback = match server.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    if server.scheme() == "http" && !loopback {
        let _ = writeln!(
            std::io::stderr().lock(),
            "warning: {} is plain http: the password and token cross the network unencrypted",
            server_text(&server)
        );
    }
    let client = Client::new(server.clone(), None, args.ca_cert.as_deref(), timeout(args))?;
    let answer = client
        .post_json(
            &["auth", "signin"],
            &json!({"email": email, "password": password}),
        )
        .await?;
    let token = answer
        .body
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| RemoteError::Connection("the signin answer has no access_token".into()))?
        .to_owned();
    config::save(
        path,
        &Saved {
            server: server_text(&server),
            token,
        },
    )?;
    let mut shown = answer.body;
    // The token is in the file; it is not for the terminal's scrollback.
    if let Some(token) = shown.get_mut("access_token") {
        *token = json!("<saved>");
    }
    if args.json {
        output::json(out, &shown)?;
    } else {
        let user = shown.get("user").unwrap_or(&Value::Null);
        writeln!(
            out,
            "signed in to {} as {} ({}, {})",
            server_text(&server),
            output::field(user, "email"),
            output::field(user, "role"),
            output::field(user, "status"),
        )?;
        let minutes = shown
            .get("expires_in")
            .and_then(Value::as_u64)
            .map(|s| format!("{} min", s / 60))
            .unwrap_or_else(|| "-".into());
        writeln!(
            out,
            "token valid for {minutes}, saved in {}",
            path.display()
        )?;
    }
    Ok(0)
}

/// The password: all of stdin with `--password-stdin` (less a final newline); else a
/// prompt without echo on the terminal, or a line of stdin when it is not a terminal.
fn read_password(email: &str, from_stdin: bool) -> Result<String, RemoteError> {
    let stdin_fail = |e: std::io::Error| RemoteError::Usage(format!("reading the password: {e}"));
    let mut password = if from_stdin {
        let mut text = String::new();
        std::io::stdin()
            .lock()
            .read_to_string(&mut text)
            .map_err(stdin_fail)?;
        text
    } else if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("password for {}: ", output::cell(email)))
            .map_err(stdin_fail)?
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map_err(stdin_fail)?;
        line
    };
    if password.ends_with('\n') {
        password.pop();
        if password.ends_with('\r') {
            password.pop();
        }
    }
    if password.is_empty() {
        return Err(RemoteError::Usage("empty password".into()));
    }
    Ok(password)
}

/// A component file: must exist, be of a sane size and start like WebAssembly.
fn read_component(path: &Path) -> Result<Vec<u8>, RemoteError> {
    let fail = |e: &dyn std::fmt::Display| RemoteError::Usage(format!("{}: {e}", path.display()));
    let len = std::fs::metadata(path).map_err(|e| fail(&e))?.len();
    if len > MAX_COMPONENT_FILE {
        return Err(fail(&format!("{len} bytes is not a component")));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(&e))?;
    if !bytes.starts_with(b"\0asm") {
        return Err(fail(&"not a WebAssembly file (no \\0asm header)"));
    }
    Ok(bytes)
}

/// A JSON file, or standard input for `-`.
fn read_json(path: &Path) -> Result<Value, RemoteError> {
    let fail = |e: &dyn std::fmt::Display| RemoteError::Usage(format!("{}: {e}", path.display()));
    let text = if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .lock()
            .read_to_string(&mut text)
            .map_err(|e| fail(&e))?;
        text
    } else {
        std::fs::read_to_string(path).map_err(|e| fail(&e))?
    };
    serde_json::from_str(&text).map_err(|e| fail(&format!("not JSON: {e}")))
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

    #[test]
    fn component_files_are_checked_before_upload() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("missing.wasm");
        assert_eq!(
            read_component(&missing).expect_err("missing").exit_code(),
            2
        );
        let text = dir.path().join("x.wasm");
        std::fs::write(&text, "hello").expect("writes");
        let err = read_component(&text).expect_err("not wasm");
        assert!(
            err.render().contains("not a WebAssembly file"),
            "{}",
            err.render()
        );
        let wasm = dir.path().join("ok.wasm");
        std::fs::write(&wasm, b"\0asm\x0d\0\x01\0").expect("writes");
        assert_eq!(read_component(&wasm).expect("reads").len(), 8);
    }

    #[test]
    fn replays_that_failed_exit_with_three() {
        assert_eq!(replay_code(&json!({"status": "failed"})), FAILED);
        assert_eq!(replay_code(&json!({"status": "done"})), 0);
    }
}
