//! `cineflow remote`, the real binary, against a real server (the app on a fresh database,
//! with the built components): login, chains, upload, components, bind, bindings, dry run,
//! unbind, `--json`, and how refusals, usage errors, connection errors and closed pipes end;
//! runs, replays, shadows, canaries and receipts on real bookings; signup, approve and the
//! catalogue of a chain of one's own.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::{Value, json};
use sha2::Digest as _;
use sqlx::PgPool;
use tokio::io::AsyncWriteExt as _;
use tokio::process::Command;

use crate::support::app::TestApp;
use crate::support::client::{PASSWORD, email, s};
use crate::support::{ClosedPort, components_dir, hostile, inputs};

const BIN: &str = env!("CARGO_BIN_EXE_cineflow");

/// What one run of the binary did.
#[derive(Debug)]
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }

    #[track_caller]
    fn ok(self) -> Ran {
        assert_eq!(self.code, Some(0), "{self:#?}");
        assert!(!self.stderr.contains("panicked"), "{self:#?}");
        self
    }
}

/// The CLI with its own config file and home, and nothing from the test runner's
/// environment (`CINEFLOW_SERVER`, `CINEFLOW_TOKEN`, ...).
struct Remote {
    dir: tempfile::TempDir,
}

impl Remote {
    fn new() -> Remote {
        Remote {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("cfg/remote.json")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("remote").args(args);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("CINEFLOW_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("CINEFLOW_CONFIG", self.config())
            .env("HOME", self.dir.path())
            .env("RUST_LOG", "error")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    async fn run(&self, args: &[&str]) -> Ran {
        self.run_with(self.command(args), None).await
    }

    async fn run_with(&self, mut cmd: Command, stdin: Option<&str>) -> Ran {
        if stdin.is_some() {
            cmd.stdin(Stdio::piped());
        }
        let mut child = cmd.spawn().expect("the binary starts");
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(text.as_bytes()).await.expect("stdin");
            drop(pipe);
        }
        let out = child.wait_with_output().await.expect("it ends");
        Ran {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    async fn login(&self, app: &TestApp, email: &str, password: &str) -> Ran {
        let server = format!("http://{}", app.addr);
        let cmd = self.command(&[
            "login",
            "--server",
            &server,
            "--email",
            email,
            "--password-stdin",
        ]);
        self.run_with(cmd, Some(&format!("{password}\n"))).await
    }

    fn file(&self, name: &str, body: &Value) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, serde_json::to_vec(body).expect("json")).expect("writes");
        path
    }
}

/// An approved owner: `(email, token)`.
async fn owner(app: &TestApp) -> (String, String) {
    let email = email("remote");
    let user = app.signup("Remote Owner", &email, PASSWORD, "owner").await;
    app.set_user(&s(&user, "id"), json!({"status": "approved"}))
        .await;
    let token = app.signin(&email, PASSWORD).await;
    (email, token)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

fn binding_of<'a>(bindings: &'a Value, hook: &str) -> &'a Value {
    bindings["items"]
        .as_array()
        .and_then(|items| items.iter().find(|b| b["hook"] == hook))
        .unwrap_or_else(|| panic!("no {hook} in {bindings}"))
}

#[sqlx::test(migrations = "../migrations")]
async fn login_upload_bind_dry_run_and_unbind(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (email, token) = owner(&app).await;
    let chain = app.chain(&token, "Remote").await;
    // Another owner's chain is not in `remote chains`.
    let (_, other_token) = owner(&app).await;
    let other_chain = app.chain(&other_token, "Elsewhere").await;
    let remote = Remote::new();

    // login: the token goes to a file only its owner reads, not to the terminal.
    let ran = remote.login(&app, &email, PASSWORD).await.ok();
    assert!(
        ran.stdout
            .contains(&format!("as {email} (owner, approved)")),
        "{ran:?}"
    );
    let saved: Value =
        serde_json::from_slice(&std::fs::read(remote.config()).expect("config written"))
            .expect("config is JSON");
    assert_eq!(saved["server"], format!("http://{}", app.addr));
    let saved_token = saved["token"].as_str().expect("a token");
    assert!(!ran.stdout.contains(saved_token), "{ran:?}");
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(remote.config())
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // chains: only the caller's.
    let ran = remote.run(&["chains"]).await.ok();
    assert!(ran.stdout.starts_with("ID "), "{ran:?}");
    assert!(ran.stdout.contains(&chain), "{ran:?}");
    assert!(!ran.stdout.contains(&other_chain), "{ran:?}");
    let listed = remote.run(&["chains", "--json"]).await.ok().json();
    let ids: Vec<&str> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(ids, [chain.as_str()], "{listed}");

    // upload: 201 the first time, 200 "already stored" the second.
    let wasm = components_dir().join("hostile/double.wasm");
    let sha = sha256_hex(&hostile("double"));
    let args = [
        "upload",
        "--chain",
        &chain,
        "--hook",
        "pricing",
        path_str(&wasm),
    ];
    let ran = remote.run(&args).await.ok();
    assert!(
        ran.stdout
            .starts_with(&format!("uploaded pricing component {sha}\n")),
        "{ran:?}"
    );
    assert!(ran.stdout.contains(" passed, most fuel "), "{ran:?}");
    let ran = remote.run(&args).await.ok();
    assert!(ran.stdout.starts_with("already stored"), "{ran:?}");

    // components, as text and as the server's JSON.
    let ran = remote.run(&["components", "--chain", &chain]).await.ok();
    assert!(ran.stdout.contains(&sha), "{ran:?}");
    let listed = remote
        .run(&["components", "--chain", &chain, "--json"])
        .await
        .ok()
        .json();
    assert_eq!(listed["items"][0]["id"], sha.as_str(), "{listed}");
    assert_eq!(listed["items"][0]["bound"], false, "{listed}");

    // bind, then bindings show it.
    let ran = remote
        .run(&[
            "bind",
            "--chain",
            &chain,
            "--hook",
            "pricing",
            "--component",
            &sha,
            "--on-failure",
            "fallback",
        ])
        .await
        .ok();
    assert!(
        ran.stdout.starts_with(&format!("pricing bound to {sha}\n")),
        "{ran:?}"
    );
    assert!(ran.stdout.contains("on failure: fallback"), "{ran:?}");
    let ran = remote.run(&["bindings", "--chain", &chain]).await.ok();
    let line = ran
        .stdout
        .lines()
        .find(|l| l.starts_with("pricing "))
        .unwrap_or_else(|| panic!("no pricing line: {ran:?}"));
    assert!(line.contains(&sha[..12]), "{line}");
    assert!(line.contains("fallback"), "{line}");
    let bindings = remote
        .run(&["bindings", "--chain", &chain, "--json"])
        .await
        .ok()
        .json();
    let pricing = binding_of(&bindings, "pricing");
    assert_eq!(pricing["bound_component_id"], sha.as_str(), "{bindings}");

    // dry run: the component's output, and its cost.
    let input = serde_json::to_value(inputs::quote_request(2)).expect("json");
    let input_file = remote.file("quote.json", &input);
    let dry = [
        "dry-run",
        "--chain",
        &chain,
        "--component",
        &sha,
        "--input",
        path_str(&input_file),
    ];
    let ran = remote.run(&dry).await.ok();
    assert!(ran.stdout.starts_with("output:\n"), "{ran:?}");
    assert!(ran.stdout.contains("\"total_minor\""), "{ran:?}");
    assert!(ran.stdout.contains("fuel: "), "{ran:?}");
    let mut dry_json = dry.to_vec();
    dry_json.push("--json");
    let answer = remote.run(&dry_json).await.ok().json();
    assert!(answer["output"]["ok"]["total_minor"].is_i64(), "{answer}");
    assert!(answer["fuel_used"].as_u64().unwrap_or(0) > 0, "{answer}");

    // unbind: back to the default.
    let ran = remote
        .run(&["unbind", "--chain", &chain, "--hook", "pricing"])
        .await
        .ok();
    assert!(ran.stdout.contains("pricing unbound"), "{ran:?}");
    let bindings = remote
        .run(&["bindings", "--chain", &chain, "--json"])
        .await
        .ok()
        .json();
    assert!(
        binding_of(&bindings, "pricing")["bound_component_id"].is_null(),
        "{bindings}"
    );

    // `| head`: stdout closed before the answer is written is a clean exit, not a panic.
    let mut cmd = remote.command(&["components", "--chain", &chain]);
    cmd.stdout(Stdio::piped());
    let mut child = cmd.spawn().expect("starts");
    drop(child.stdout.take());
    let out = child.wait_with_output().await.expect("ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[sqlx::test(migrations = "../migrations")]
async fn refusals_exit_1_with_the_problem_and_usage_errors_exit_2(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (email, token) = owner(&app).await;
    let chain = app.chain(&token, "Refusals").await;
    let remote = Remote::new();

    // Not signed in yet: a usage error that says what to do.
    let ran = remote
        .run(&["chains", "--server", &format!("http://{}", app.addr)])
        .await;
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert!(ran.stderr.contains("cineflow remote login"), "{ran:?}");

    // A wrong password: the server's refusal, exit 1, and nothing saved.
    let ran = remote.login(&app, &email, "Wrong-Password-9").await;
    assert_eq!(ran.code, Some(1), "{ran:?}");
    assert!(ran.stderr.starts_with("error: "), "{ran:?}");
    assert!(
        ran.stderr
            .contains("status: 401 Unauthorized, code: invalid_credentials"),
        "{ran:?}"
    );
    assert!(!remote.config().exists());

    remote.login(&app, &email, PASSWORD).await.ok();

    // Binding a component the chain does not have: 422 with the field's message.
    let unknown = "0".repeat(64);
    let bind = [
        "bind",
        "--chain",
        &chain,
        "--hook",
        "pricing",
        "--component",
        &unknown,
    ];
    let ran = remote.run(&bind).await;
    assert_eq!(ran.code, Some(1), "{ran:?}");
    assert!(ran.stdout.is_empty(), "{ran:?}");
    let mut lines = ran.stderr.lines();
    let headline = lines.next().unwrap_or_default();
    assert!(headline.starts_with("error: "), "{ran:?}");
    assert!(
        ran.stderr
            .contains("status: 422 Unprocessable Entity, code: validation_failed"),
        "{ran:?}"
    );
    assert!(
        ran.stderr
            .contains("component_id: not one of this chain's pricing components"),
        "{ran:?}"
    );
    // With --json the problem document is on stdout too.
    let mut bind_json = bind.to_vec();
    bind_json.push("--json");
    let ran = remote.run(&bind_json).await;
    assert_eq!(ran.code, Some(1), "{ran:?}");
    let problem = ran.json();
    assert_eq!(problem["code"], "validation_failed", "{problem}");
    assert_eq!(problem["status"], 422, "{problem}");

    // Unbinding a hook that is not bound, another chain's components: 404.
    let ran = remote
        .run(&["unbind", "--chain", &chain, "--hook", "pricing"])
        .await;
    assert_eq!(ran.code, Some(1), "{ran:?}");
    assert!(ran.stderr.contains("status: 404 Not Found"), "{ran:?}");
    let stranger = uuid::Uuid::now_v7().to_string();
    let ran = remote.run(&["components", "--chain", &stranger]).await;
    assert_eq!(ran.code, Some(1), "{ran:?}");
    assert!(ran.stderr.contains("status: 404 Not Found"), "{ran:?}");

    // An invalid token: 401 with the hint to sign in again.
    let ran = remote
        .run(&["components", "--chain", &chain, "--token", "not-a-jwt"])
        .await;
    assert_eq!(ran.code, Some(1), "{ran:?}");
    assert!(ran.stderr.contains("status: 401"), "{ran:?}");
    assert!(ran.stderr.contains("hint: "), "{ran:?}");

    // Usage errors: a malformed id, a file that is not a component, bad JSON input.
    let ran = remote.run(&["components", "--chain", "not-a-uuid"]).await;
    assert_eq!(ran.code, Some(2), "{ran:?}");
    let not_wasm = remote.file("x.wasm", &json!({"a": 1}));
    let ran = remote
        .run(&[
            "upload",
            "--chain",
            &chain,
            "--hook",
            "pricing",
            path_str(&not_wasm),
        ])
        .await;
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert!(ran.stderr.contains("not a WebAssembly file"), "{ran:?}");
    let bad_input = remote.dir.path().join("bad.json");
    std::fs::write(&bad_input, "{").expect("writes");
    let ran = remote
        .run(&[
            "dry-run",
            "--chain",
            &chain,
            "--component",
            &unknown,
            "--input",
            path_str(&bad_input),
        ])
        .await;
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert!(ran.stderr.contains("not JSON"), "{ran:?}");

    // A dry run whose component traps: the server answered, the component failed: exit 3.
    let wasm = components_dir().join("hostile/trap-on-promo.wasm");
    let trapping = sha256_hex(&hostile("trap-on-promo"));
    remote
        .run(&[
            "upload",
            "--chain",
            &chain,
            "--hook",
            "pricing",
            path_str(&wasm),
        ])
        .await
        .ok();
    let mut input = inputs::quote_request(1);
    input.promo_code = Some("TRAP".into());
    let input_file = remote.file("trap.json", &serde_json::to_value(input).expect("json"));
    let ran = remote
        .run(&[
            "dry-run",
            "--chain",
            &chain,
            "--component",
            &trapping,
            "--input",
            path_str(&input_file),
        ])
        .await;
    assert_eq!(ran.code, Some(3), "{ran:?}");
    assert!(ran.stdout.starts_with("failed: trap: "), "{ran:?}");

    // Nothing listening: a connection error, exit 2 (and the saved token is not sent there).
    let closed = ClosedPort::bind();
    let ran = remote
        .run(&[
            "chains",
            "--server",
            &format!("http://127.0.0.1:{}", closed.port()),
            "--token",
            "t",
        ])
        .await;
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert!(
        ran.stderr.starts_with("error: http://127.0.0.1:"),
        "{ran:?}"
    );
}

impl Remote {
    /// `remote ARGS --server <app> --token TOKEN`: no saved login involved.
    async fn run_as(&self, app: &TestApp, token: &str, args: &[&str]) -> Ran {
        let server = format!("http://{}", app.addr);
        let mut all = args.to_vec();
        all.extend(["--server", &server, "--token", token]);
        self.run(&all).await
    }
}

/// Polls `remote ARGS --json` until `done` accepts its answer (20 s at most).
async fn poll_json(
    remote: &Remote,
    app: &TestApp,
    token: &str,
    args: &[&str],
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut all = args.to_vec();
    all.push("--json");
    loop {
        let v = remote.run_as(app, token, &all).await.ok().json();
        if done(&v) || std::time::Instant::now() > deadline {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

fn count(v: &Value, key: &str) -> i64 {
    v[key]
        .as_i64()
        .unwrap_or_else(|| panic!("no number {key} in {v}"))
}

#[sqlx::test(migrations = "../migrations")]
async fn runs_replay_shadow_canary_and_receipt_against_the_real_server(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Confidence").await;
    let (owner, chain) = (b.venue.token.as_str(), b.venue.chain_id.as_str());
    let (_, customer) = app.customer("Cust").await;
    let remote = Remote::new();

    // The stable pricing (the platform's own, uploaded) bound; the matinee candidate stored.
    let stable_file = components_dir().join("pricing.wasm");
    let candidate_file = components_dir().join("examples/matinee-pricing.wasm");
    let stable = sha256_hex(&std::fs::read(&stable_file).expect("pricing.wasm"));
    let candidate = sha256_hex(&std::fs::read(&candidate_file).expect("matinee-pricing.wasm"));
    for file in [&stable_file, &candidate_file] {
        remote
            .run_as(
                &app,
                owner,
                &[
                    "upload",
                    "--chain",
                    chain,
                    "--hook",
                    "pricing",
                    path_str(file),
                ],
            )
            .await
            .ok();
    }
    remote
        .run_as(
            &app,
            owner,
            &[
                "bind",
                "--chain",
                chain,
                "--hook",
                "pricing",
                "--component",
                &stable,
            ],
        )
        .await
        .ok();

    // Two bookings: the run log gets their quotes, within milliseconds.
    let first = app.hold(&customer, &b.show_id, &["A-1", "A-2"]).await;
    app.hold(&customer, &b.show_id, &["A-3"]).await;
    let runs_args = ["runs", "--chain", chain, "--hook", "pricing"];
    let listed = poll_json(&remote, &app, owner, &runs_args, |v| {
        v["items"].as_array().is_some_and(|i| i.len() >= 2)
    })
    .await;
    let items = listed["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{listed}");
    assert!(
        items
            .iter()
            .all(|r| r["component_id"] == stable.as_str() && r["outcome"] == "ok"),
        "{listed}"
    );
    let ran = remote.run_as(&app, owner, &runs_args).await.ok();
    let header = ran.stdout.lines().next().unwrap_or_default();
    assert!(
        header.starts_with("ID ") && header.contains("OUTCOME"),
        "{ran:?}"
    );
    assert!(ran.stdout.contains(&stable[..12]), "{ran:?}");
    // Filters reach the server: no run of the candidate, a page of one with a cursor.
    let none = remote
        .run_as(
            &app,
            owner,
            &["runs", "--chain", chain, "--component", &candidate],
        )
        .await
        .ok();
    assert_eq!(none.stdout, "no runs\n", "{none:?}");
    let page = remote
        .run_as(
            &app,
            owner,
            &[
                "runs", "--chain", chain, "--hook", "pricing", "--limit", "1",
            ],
        )
        .await
        .ok();
    assert!(page.stdout.contains("more: --cursor "), "{page:?}");

    // One run, with its input and output.
    let run_id = s(&items[0], "id");
    let ran = remote
        .run_as(&app, owner, &["run", "--chain", chain, &run_id])
        .await
        .ok();
    assert!(
        ran.stdout.starts_with(&format!("run {run_id}\n")),
        "{ran:?}"
    );
    assert!(ran.stdout.contains("input:\n"), "{ran:?}");
    assert!(ran.stdout.contains("\"total_minor\""), "{ran:?}");
    let detail = remote
        .run_as(&app, owner, &["run", "--chain", chain, &run_id, "--json"])
        .await
        .ok()
        .json();
    assert!(detail["input"].is_object(), "{detail}");
    assert!(detail["output"]["ok"].is_object(), "{detail}");

    // Replay, waiting for the report: every recorded quote replayed, revenue before as served.
    let ran = remote
        .run_as(
            &app,
            owner,
            &[
                "replay",
                "--chain",
                chain,
                "--hook",
                "pricing",
                "--component",
                &candidate,
            ],
        )
        .await
        .ok();
    assert!(ran.stdout.contains(": done\n"), "{ran:?}");
    assert!(ran.stdout.contains("runs:          2  same: "), "{ran:?}");
    let report = remote
        .run_as(
            &app,
            owner,
            &[
                "replay",
                "--chain",
                chain,
                "--hook",
                "pricing",
                "--component",
                &candidate,
                "--from",
                "2000-01-01T00:00:00Z",
                "--limit",
                "10",
                "--json",
            ],
        )
        .await
        .ok()
        .json();
    assert_eq!(report["status"], "done", "{report}");
    assert_eq!(report["runs"], 2, "{report}");
    assert_eq!(
        count(&report, "same") + count(&report, "changed"),
        2,
        "{report}"
    );
    let total = |booking: &Value| booking["total_minor"].as_i64().expect("total");
    let second_total = 25000; // one standard seat at the show's price
    assert_eq!(
        count(&report, "revenue_before_minor"),
        total(&first) + second_total,
        "{report}"
    );
    // --no-wait prints the id; replay-status shows it, --wait waits for the report.
    let ran = remote
        .run_as(
            &app,
            owner,
            &[
                "replay",
                "--chain",
                chain,
                "--hook",
                "pricing",
                "--component",
                &candidate,
                "--no-wait",
            ],
        )
        .await
        .ok();
    let replay_id = ran
        .stdout
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or_else(|| panic!("no replay id: {ran:?}"))
        .to_owned();
    assert!(ran.stdout.contains("replay-status --chain"), "{ran:?}");
    let ran = remote
        .run_as(
            &app,
            owner,
            &["replay-status", "--chain", chain, &replay_id, "--wait"],
        )
        .await
        .ok();
    assert!(
        ran.stdout.starts_with(&format!("replay {replay_id}: done")),
        "{ran:?}"
    );
    let status = remote
        .run_as(
            &app,
            owner,
            &["replay-status", "--chain", chain, &replay_id, "--json"],
        )
        .await
        .ok()
        .json();
    assert_eq!(status["progress"]["done"], 2, "{status}");
    assert_eq!(status["progress"]["total"], 2, "{status}");

    // Shadow: start, a live booking is compared, status, stop; then there is none (404).
    let ran = remote
        .run_as(
            &app,
            owner,
            &[
                "shadow",
                "start",
                "--chain",
                chain,
                "--hook",
                "pricing",
                "--component",
                &candidate,
                "--sample",
                "100",
            ],
        )
        .await
        .ok();
    assert!(
        ran.stdout
            .starts_with(&format!("shadow of pricing by {candidate}\n")),
        "{ran:?}"
    );
    assert!(ran.stdout.contains("sample:   100%"), "{ran:?}");
    let held = app.hold(&customer, &b.show_id, &["A-4"]).await;
    assert_eq!(held["total_minor"], 25000, "a shadow changes no answer");
    let shadow_args = ["shadow", "status", "--chain", chain, "--hook", "pricing"];
    let summary = poll_json(&remote, &app, owner, &shadow_args, |v| v["runs"] == 1).await;
    assert_eq!(summary["runs"], 1, "{summary}");
    assert_eq!(summary["component_id"], candidate.as_str(), "{summary}");
    let ran = remote.run_as(&app, owner, &shadow_args).await.ok();
    assert!(ran.stdout.contains("runs:     1  same: "), "{ran:?}");
    assert!(ran.stdout.contains("revenue delta: "), "{ran:?}");
    let ran = remote
        .run_as(
            &app,
            owner,
            &["shadow", "stop", "--chain", chain, "--hook", "pricing"],
        )
        .await
        .ok();
    assert_eq!(ran.stdout, "shadow of pricing stopped\n", "{ran:?}");
    let ran = remote.run_as(&app, owner, &shadow_args).await;
    assert_eq!(ran.code, Some(1), "{ran:?}");
    assert!(ran.stderr.contains("status: 404 Not Found"), "{ran:?}");

    // A canary needs a bound component beside it: refused here for an unbound hook.
    let ran = remote
        .run_as(
            &app,
            owner,
            &[
                "canary",
                "--chain",
                chain,
                "--hook",
                "booking-rules",
                "--component",
                &candidate,
                "--percent",
                "5",
            ],
        )
        .await;
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert!(ran.stderr.contains("booking-rules is not bound"), "{ran:?}");

    // Canary: 5 % of the customers on the candidate, the stable binding and its policy kept;
    // --off drops it.
    let ran = remote
        .run_as(
            &app,
            owner,
            &[
                "canary",
                "--chain",
                chain,
                "--hook",
                "pricing",
                "--component",
                &candidate,
                "--percent",
                "5",
            ],
        )
        .await
        .ok();
    assert!(
        ran.stdout
            .starts_with(&format!("pricing bound to {stable}\n")),
        "{ran:?}"
    );
    assert!(
        ran.stdout
            .contains(&format!("canary:     {} 5%", &candidate[..12])),
        "{ran:?}"
    );
    let bindings = remote
        .run_as(&app, owner, &["bindings", "--chain", chain, "--json"])
        .await
        .ok()
        .json();
    let pricing = binding_of(&bindings, "pricing");
    assert_eq!(pricing["bound_component_id"], stable.as_str(), "{bindings}");
    assert_eq!(
        pricing["canary"]["component_id"],
        candidate.as_str(),
        "{bindings}"
    );
    assert_eq!(pricing["canary"]["percent"], 5, "{bindings}");
    let ran = remote
        .run_as(&app, owner, &["bindings", "--chain", chain])
        .await
        .ok();
    assert!(ran.stdout.contains(" 5% ("), "{ran:?}");
    let ran = remote
        .run_as(
            &app,
            owner,
            &["canary", "--chain", chain, "--hook", "pricing", "--off"],
        )
        .await
        .ok();
    assert!(ran.stdout.contains("canary:     -\n"), "{ran:?}");
    let bindings = remote
        .run_as(&app, owner, &["bindings", "--chain", chain, "--json"])
        .await
        .ok()
        .json();
    let pricing = binding_of(&bindings, "pricing");
    assert!(pricing["canary"].is_null(), "{bindings}");
    assert_eq!(pricing["bound_component_id"], stable.as_str(), "{bindings}");

    // Receipt: the decisions behind the first booking, for its customer and the chain's staff.
    let booking_id = s(&first, "id");
    let receipt = remote
        .run_as(&app, &customer, &["receipt", &booking_id, "--json"])
        .await
        .ok()
        .json();
    assert_eq!(receipt["booking_id"], booking_id.as_str(), "{receipt}");
    let decisions = receipt["decisions"].as_array().expect("decisions");
    let quote = decisions
        .iter()
        .find(|d| d["hook"] == "pricing")
        .unwrap_or_else(|| panic!("no pricing decision: {receipt}"));
    assert_eq!(quote["component_id"], stable.as_str(), "{receipt}");
    assert_eq!(
        quote["output"]["ok"]["total_minor"], first["total_minor"],
        "{receipt}"
    );
    let ran = remote
        .run_as(&app, owner, &["receipt", &booking_id])
        .await
        .ok();
    assert!(
        ran.stdout.starts_with(&format!("booking {booking_id}\n")),
        "{ran:?}"
    );
    assert!(
        ran.stdout.contains(&format!("pricing quote by {stable}")),
        "{ran:?}"
    );
    assert!(
        ran.stdout
            .contains(&format!("input sha256: {}", s(quote, "input_sha256"))),
        "{ran:?}"
    );
    // Another customer's receipt is not found.
    let (_, stranger) = app.customer("Stranger").await;
    let ran = remote
        .run_as(&app, &stranger, &["receipt", &booking_id])
        .await;
    assert_eq!(ran.code, Some(1), "{ran:?}");
    assert!(ran.stderr.contains("status: 404 Not Found"), "{ran:?}");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn signup_approve_and_a_chain_of_ones_own(pool: PgPool) {
    use crate::support::app::{ADMIN_EMAIL, ADMIN_PASSWORD};
    let app = TestApp::spawn(pool).await;
    let server = format!("http://{}", app.addr);
    let (owner_cli, admin_cli) = (Remote::new(), Remote::new());
    let owner_email = email("signup");

    // signup: the id on stdout (alone), the pending note on stderr; no token needed.
    let cmd = owner_cli.command(&[
        "signup",
        "--server",
        &server,
        "--name",
        "New Owner",
        "--email",
        &owner_email,
        "--role",
        "owner",
        "--password-stdin",
    ]);
    let ran = owner_cli
        .run_with(cmd, Some(&format!("{PASSWORD}\n")))
        .await
        .ok();
    let owner_id = ran.stdout.trim_end().to_owned();
    assert!(uuid::Uuid::parse_str(&owner_id).is_ok(), "{ran:?}");
    assert!(
        ran.stderr
            .contains(&format!("cineflow remote approve {owner_id}")),
        "{ran:?}"
    );
    // Signing up twice: the server's 409.
    let cmd = owner_cli.command(&[
        "signup",
        "--server",
        &server,
        "--name",
        "Again",
        "--email",
        &owner_email,
        "--role",
        "owner",
        "--password-stdin",
    ]);
    let ran = owner_cli.run_with(cmd, Some(PASSWORD)).await;
    assert_eq!(ran.code, Some(1), "{ran:?}");
    assert!(ran.stderr.contains("status: 409 Conflict"), "{ran:?}");

    // Pending: signed in, but no chain yet.
    owner_cli.login(&app, &owner_email, PASSWORD).await.ok();
    let chain_args = [
        "chain",
        "create",
        "--name",
        "Lakeside",
        "--currency",
        "INR",
        "--timezone",
        "Asia/Kolkata",
    ];
    let ran = owner_cli.run(&chain_args).await;
    assert_eq!(ran.code, Some(1), "{ran:?}");
    assert!(ran.stderr.contains("status: 403 Forbidden"), "{ran:?}");
    // Only an admin approves.
    let ran = owner_cli.run(&["approve", &owner_id]).await;
    assert_eq!(ran.code, Some(1), "{ran:?}");
    assert!(ran.stderr.contains("status: 403 Forbidden"), "{ran:?}");
    admin_cli
        .login(&app, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .ok();
    let ran = admin_cli.run(&["approve", &owner_id]).await.ok();
    assert_eq!(
        ran.stdout,
        format!("approved {owner_email} (owner, approved)\n"),
        "{ran:?}"
    );

    // The chain, theatre, screen, movie and show: each prints its id; --json the record.
    let chain = owner_cli
        .run(&chain_args)
        .await
        .ok()
        .stdout
        .trim_end()
        .to_owned();
    assert!(uuid::Uuid::parse_str(&chain).is_ok(), "{chain}");
    let theatre = owner_cli
        .run(&[
            "theatre",
            "create",
            "--chain",
            &chain,
            "--name",
            "Lakeside Central",
            "--description",
            "By the lake.",
            "--city",
            "Bengaluru",
            "--address",
            "12 Lake Road",
            "--pin-code",
            "560001",
            "--json",
        ])
        .await
        .ok()
        .json();
    assert_eq!(theatre["chain_id"], chain.as_str(), "{theatre}");
    assert_eq!(theatre["city"], "Bengaluru", "{theatre}");
    let theatre = s(&theatre, "id");
    let screen = owner_cli
        .run(&[
            "screen",
            "create",
            "--theatre",
            &theatre,
            "--name",
            "Screen 1",
            "--rows",
            "A:10:standard,B:8:premium:7+8",
        ])
        .await
        .ok()
        .stdout
        .trim_end()
        .to_owned();
    let seen = app.get_ok(&format!("/screens/{screen}"), None).await;
    assert_eq!(seen["capacity"], 16, "{seen}");
    let rows = owner_cli.file(
        "rows.json",
        &json!({"rows": [{"label": "A", "seats": 4, "class": "vip"}]}),
    );
    let small = owner_cli
        .run(&[
            "screen",
            "create",
            "--theatre",
            &theatre,
            "--name",
            "Screen 2",
            "--rows-file",
            path_str(&rows),
            "--json",
        ])
        .await
        .ok()
        .json();
    assert_eq!(small["capacity"], 4, "{small}");
    let ran = owner_cli
        .run(&[
            "screen",
            "create",
            "--theatre",
            &theatre,
            "--name",
            "X",
            "--rows",
            "A:ten:vip",
        ])
        .await;
    assert_eq!(ran.code, Some(2), "{ran:?}");
    let movie = owner_cli
        .run(&[
            "movie",
            "create",
            "--chain",
            &chain,
            "--title",
            "The Long Night",
            "--description",
            "A film about films.",
            "--cast",
            "Ada Lovelace,Alan Turing",
            "--director",
            "Grace Hopper",
            "--trailer-url",
            "https://videos.example.com/t.mp4",
            "--release-date",
            "2026-01-15",
            "--languages",
            "English,Hindi",
            "--runtime-minutes",
            "120",
            "--certificate",
            "UA",
        ])
        .await
        .ok()
        .stdout
        .trim_end()
        .to_owned();
    let seen = app.get_ok(&format!("/movies/{movie}"), None).await;
    assert_eq!(
        seen["cast"],
        json!(["Ada Lovelace", "Alan Turing"]),
        "{seen}"
    );
    assert_eq!(seen["chain_id"], chain.as_str(), "{seen}");
    let starts_at = crate::support::client::base_time(7).to_rfc3339();
    let show_args = [
        "show",
        "create",
        "--screen",
        &screen,
        "--movie",
        &movie,
        "--starts-at",
        &starts_at,
        "--prices",
        "standard=25000,premium=40000",
    ];
    // Not on the theatre's now-showing list yet: the server refuses.
    let ran = owner_cli.run(&show_args).await;
    assert_eq!(ran.code, Some(1), "{ran:?}");
    let ran = owner_cli
        .run(&[
            "theatre",
            "add-movie",
            "--theatre",
            &theatre,
            "--movie",
            &movie,
        ])
        .await
        .ok();
    assert_eq!(ran.stdout, format!("{movie}\n"), "{ran:?}");
    let show = owner_cli
        .run(&show_args)
        .await
        .ok()
        .stdout
        .trim_end()
        .to_owned();
    let seen = app.get_ok(&format!("/shows/{show}"), None).await;
    assert_eq!(
        seen["prices"],
        json!({"standard": 25000, "premium": 40000}),
        "{seen}"
    );
    assert_eq!(seen["currency"], "INR", "{seen}");

    // A customer signs up approved: no note.
    let cmd = owner_cli.command(&[
        "signup",
        "--server",
        &server,
        "--name",
        "C",
        "--email",
        &email("cust"),
        "--password-stdin",
    ]);
    let ran = owner_cli.run_with(cmd, Some(PASSWORD)).await.ok();
    assert!(ran.stderr.is_empty(), "{ran:?}");
    app.stop().await;
}
