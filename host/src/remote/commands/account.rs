//! Signing in and accounts: login, signup, approve, and the caller's chains.

use std::io::{IsTerminal as _, Read as _, Write};
use std::path::Path;

use futures_util::{StreamExt as _, TryStreamExt as _};
use serde_json::{Value, json};
use uuid::Uuid;

use super::Cx;
use crate::remote::client::{Client, server_text};
use crate::remote::config::{self, Saved};
use crate::remote::output::{self, items};
use crate::remote::{Action, ConnectionArgs, RemoteError, render, timeout};

/// Chains whose membership is asked at once (`remote chains`).
const PROBES: usize = 8;

impl Cx {
    /// `cineflow remote approve`: an admin sets a pending account's status to approved.
    pub(super) async fn approve(&self, user: Uuid, out: &mut dyn Write) -> Result<u8, RemoteError> {
        let answer = self
            .client
            .patch_json(
                &["users", &user.to_string()],
                &json!({"status": "approved"}),
            )
            .await?;
        self.show(out, &answer, |out, v| {
            writeln!(
                out,
                "approved {} ({}, {})",
                output::field(v, "email"),
                output::field(v, "role"),
                output::field(v, "status")
            )
        })
    }

    /// The caller's chains: every chain for an admin (or `--all`), else those whose members
    /// list the caller may read (the API has no "my chains" list; the probes run eight at a
    /// time).
    pub(super) async fn chains(&self, all: bool, out: &mut dyn Write) -> Result<u8, RemoteError> {
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
}

/// `cineflow remote login`: signs in and saves the server and token.
pub(super) async fn login(
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

/// `cineflow remote signup`: creates an account; prints its id (stdout) and, for an owner,
/// who must approve it (stderr). Nothing is saved: `remote login` signs in.
pub(super) async fn signup(
    args: &ConnectionArgs,
    server: url::Url,
    action: Action,
    out: &mut dyn Write,
) -> Result<u8, RemoteError> {
    let Action::Signup {
        name,
        email,
        role,
        password_stdin,
    } = action
    else {
        return Err(RemoteError::Usage("not a signup".into()));
    };
    let password = read_password(&email, password_stdin)?;
    let client = Client::new(server, None, args.ca_cert.as_deref(), timeout(args))?;
    let answer = client
        .post_json(
            &["auth", "signup"],
            &json!({"name": name, "email": email, "password": password, "role": role.as_str()}),
        )
        .await?;
    if args.json {
        output::json(out, &answer.body)?;
    } else {
        writeln!(out, "{}", output::field(&answer.body, "id"))?;
    }
    if answer.body.get("status").and_then(Value::as_str) == Some("pending") {
        let _ = writeln!(
            std::io::stderr().lock(),
            "{} is pending: an admin approves it with `cineflow remote approve {}`",
            output::cell(&email),
            output::field(&answer.body, "id")
        );
    }
    Ok(0)
}
