//! The commands whose endpoints are newer than this client (canary, runs, replays, shadows,
//! receipts), against a stub server that answers as API.md says: what they send, how they
//! wait, what they print and how they exit. The real server's routes are tested in
//! tests/api/remote_cli.rs.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use clap::Parser;
use serde_json::{Value, json};

use super::{RemoteCommand, commands};

const CHAIN: &str = "01900000-0000-7000-8000-00000000c4a1";
const BOUND: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const CANARY: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/// What the stub saw, and how the replay it reports goes on.
#[derive(Default)]
struct Seen {
    puts: Vec<Value>,
    queries: Vec<String>,
    replay_bodies: Vec<Value>,
    polls: u32,
    replay_ends: &'static str,
}

type Shared = Arc<Mutex<Seen>>;

fn seen(state: &Shared) -> std::sync::MutexGuard<'_, Seen> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

async fn bindings() -> Json<Value> {
    Json(json!({"items": [
        {"hook": "pricing", "component_id": BOUND, "bound_component_id": BOUND,
         "default_component_id": CANARY, "on_failure": "fallback",
         "breaker": {"state": "closed"}, "canary": null},
        {"hook": "booking-rules", "component_id": CANARY, "bound_component_id": null,
         "default_component_id": CANARY, "on_failure": "reject",
         "breaker": {"state": "closed"}, "canary": null}
    ], "next_cursor": null}))
}

async fn bind(
    State(state): State<Shared>,
    Path((_, hook)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Json<Value> {
    seen(&state).puts.push(body.clone());
    Json(json!({"hook": hook, "component_id": body["component_id"],
                "bound_component_id": body["component_id"], "on_failure": body["on_failure"],
                "breaker": {"state": "closed"}, "canary": body.get("canary")}))
}

async fn runs(State(state): State<Shared>, RawQuery(q): RawQuery) -> Json<Value> {
    seen(&state).queries.push(q.unwrap_or_default());
    Json(
        json!({"items": [{"id": "r1", "at": "2026-12-01T10:00:00Z", "hook": "pricing",
        "function": "quote", "component_id": BOUND, "booking_id": null,
        "notification_id": null, "outcome": "ok", "fuel_used": 10, "duration_us": 20,
        "memory_bytes": 30}], "next_cursor": "next-page"}),
    )
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

async fn no_shadow() -> (StatusCode, [(&'static str, &'static str); 1], Json<Value>) {
    (
        StatusCode::NOT_FOUND,
        [("content-type", "application/problem+json")],
        Json(
            json!({"type": "about:blank", "title": "Not Found", "status": 404,
                    "detail": "no shadow for this hook", "code": "not_found"}),
        ),
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
        .route("/api/v1/chains/{id}/bindings", get(bindings))
        .route(
            "/api/v1/chains/{id}/bindings/{hook}",
            axum::routing::put(bind),
        )
        .route("/api/v1/chains/{id}/runs", get(runs))
        .route(
            "/api/v1/chains/{id}/replays",
            axum::routing::post(start_replay),
        )
        .route("/api/v1/chains/{id}/replays/{replay_id}", get(replay))
        .route("/api/v1/chains/{id}/shadows/{hook}", get(no_shadow))
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
async fn canary_rebinds_the_current_component_and_policy() {
    let (server, state) = stub("done").await;
    let (code, out) = remote(
        &server,
        &[
            "canary",
            "--chain",
            CHAIN,
            "--hook",
            "pricing",
            "--component",
            CANARY,
            "--percent",
            "10",
        ],
    )
    .await;
    assert_eq!(code, Ok(0), "{out}");
    assert!(out.contains("canary:     bbbbbbbbbbbb 10%"), "{out}");
    let (code, _) = remote(
        &server,
        &["canary", "--chain", CHAIN, "--hook", "pricing", "--off"],
    )
    .await;
    assert_eq!(code, Ok(0));
    let puts = seen(&state).puts.clone();
    assert_eq!(
        puts,
        [
            json!({"component_id": BOUND, "on_failure": "fallback",
                   "canary": {"component_id": CANARY, "percent": 10}}),
            json!({"component_id": BOUND, "on_failure": "fallback"}),
        ]
    );

    // A hook that is not bound has nothing to put a canary beside.
    let (code, _) = remote(
        &server,
        &[
            "canary",
            "--chain",
            CHAIN,
            "--hook",
            "booking-rules",
            "--component",
            CANARY,
            "--percent",
            "5",
        ],
    )
    .await;
    let err = code.expect_err("refused here");
    assert!(err.contains("booking-rules is not bound"), "{err}");
}

#[tokio::test]
async fn runs_pass_their_filters_and_show_the_next_cursor() {
    let (server, state) = stub("done").await;
    let (code, out) = remote(
        &server,
        &[
            "runs",
            "--chain",
            CHAIN,
            "--hook",
            "pricing",
            "--outcome",
            "trap",
            "--from",
            "2026-12-01T00:00:00+05:30",
            "--limit",
            "5",
        ],
    )
    .await;
    assert_eq!(code, Ok(0), "{out}");
    assert!(out.contains("r1"), "{out}");
    assert!(out.ends_with("more: --cursor next-page\n"), "{out}");
    assert_eq!(
        seen(&state).queries,
        ["hook=pricing&outcome=trap&from=2026-12-01T00%3A00%3A00%2B05%3A30&limit=5"]
    );
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

#[tokio::test]
async fn a_missing_shadow_is_the_servers_404() {
    let (server, _) = stub("done").await;
    let (code, _) = remote(
        &server,
        &["shadow", "status", "--chain", CHAIN, "--hook", "pricing"],
    )
    .await;
    let err = code.expect_err("404");
    assert!(
        err.starts_with("error: no shadow for this hook\n  status: 404 Not Found, code: not_found"),
        "{err}"
    );
}
