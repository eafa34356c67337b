//! Run logs, replays (waiting with a progress bar), shadows and receipts.

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use uuid::Uuid;

use super::{Cx, FAILED};
use crate::remote::output;
use crate::remote::{Action, RemoteError, ShadowAction, render};

/// Time between two looks at a replay.
const POLL: Duration = Duration::from_millis(500);
/// Connection errors in a row tolerated while waiting for a replay.
const POLL_RETRIES: u32 = 5;

impl Cx {
    pub(super) async fn runs(
        &self,
        action: Action,
        out: &mut dyn Write,
    ) -> Result<u8, RemoteError> {
        let c = &self.client;
        match action {
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
            other => Err(RemoteError::Usage(format!(
                "not a run-log command: {other:?}"
            ))),
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn replays_that_failed_exit_with_three() {
        assert_eq!(replay_code(&json!({"status": "failed"})), FAILED);
        assert_eq!(replay_code(&json!({"status": "done"})), 0);
    }
}
