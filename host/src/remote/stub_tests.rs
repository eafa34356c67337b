//! What the real server cannot be made to do on demand: a replay seen queued, then running,
//! then failed. Against a stub that answers as API.md says: how `remote replay` polls, what
//! it sends, and that a failed replay exits 3. Every command against the real server is in
//! tests/api/remote_cli.rs.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use clap::Parser;
use serde_json::{Value, json};

use super::{RemoteCommand, commands};

const CHAIN: &str = "01900000-0000-7000-8000-00000000c4a1";
const CANARY: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/// What the stub saw, and how the replay it reports goes on.
#[derive(Default)]
struct Seen {
    replay_bodies: Vec<Value>,
    polls: u32,
    replay_ends: &'static str,
}

type Shared = Arc<Mutex<Seen>>;

fn seen(state: &Shared) -> std::sync::MutexGuard<'_, Seen> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

async fn start_replay(
    State(state): State<Shared>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    seen(&state).replay_bodies.push(body);
    (
        StatusCode::CREATED,
        Json(json!({"id": "01900000-0000-7000-8000-0000000000r1", "status": "queued"})),
    )
}

async fn replay(State(state): State<Shared>) -> Json<Value> {
    let mut seen = seen(&state);
    seen.polls += 1;
    let (status, done) = match seen.polls {
        1 => ("queued", 0),
        2 => ("running", 1),
        _ => (seen.replay_ends, 3),
    };
    Json(
        json!({"id": "rp", "status": status, "component_id": CANARY, "hook": "pricing",
        "progress": {"done": done, "total": 3}, "runs": done, "same": 2, "changed": 1,
        "newly_refused": 0, "newly_allowed": 0, "failures": {},
        "revenue_before_minor": 1000, "revenue_after_minor": 900,
        "refunds_before_minor": 0, "refunds_after_minor": 0, "examples": []}),
    )
}

/// The stub on a free port of 127.0.0.1 (the listener is bound before the port is known,
/// so no one can take it first).
async fn stub(replay_ends: &'static str) -> (String, Shared) {
    let state: Shared = Arc::new(Mutex::new(Seen {
        replay_ends,
        ..Seen::default()
    }));
    let app = Router::new()
        .route(
            "/api/v1/chains/{id}/replays",
            axum::routing::post(start_replay),
        )
        .route("/api/v1/chains/{id}/replays/{replay_id}", get(replay))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), state)
}

#[derive(Parser)]
struct Line {
    #[command(flatten)]
    command: RemoteCommand,
}

/// Runs `cineflow remote <args>` against `server` with a token: (exit code, stdout).
async fn remote(server: &str, args: &[&str]) -> (Result<u8, String>, String) {
    let mut argv = vec!["remote", "--server", server, "--token", "t"];
    argv.extend_from_slice(args);
    let line = Line::try_parse_from(argv).unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    let code = commands::execute(line.command, &mut out)
        .await
        .map_err(|e| e.render());
    (code, String::from_utf8_lossy(&out).into_owned())
}

#[tokio::test]
async fn replay_waits_for_the_report_and_a_failed_one_exits_3() {
    let (server, state) = stub("done").await;
    let args = [
        "replay",
        "--chain",
        CHAIN,
        "--hook",
        "pricing",
        "--component",
        CANARY,
        "--limit",
        "3",
    ];
    let (code, out) = remote(&server, &args).await;
    assert_eq!(code, Ok(0), "{out}");
    assert!(out.starts_with("replay rp: done\n"), "{out}");
    assert!(out.contains("revenue:       1000 -> 900"), "{out}");
    {
        let seen = seen(&state);
        assert_eq!(seen.polls, 3);
        assert_eq!(
            seen.replay_bodies,
            [json!({"component_id": CANARY, "hook": "pricing", "limit": 3})]
        );
    }

    let (server, _) = stub("failed").await;
    let (code, out) = remote(&server, &args).await;
    assert_eq!(code, Ok(3), "{out}");

    // --no-wait: the id and how to look again.
    let mut no_wait = args.to_vec();
    no_wait.push("--no-wait");
    let (code, out) = remote(&server, &no_wait).await;
    assert_eq!(code, Ok(0), "{out}");
    assert!(out.contains("replay-status --chain"), "{out}");
}
