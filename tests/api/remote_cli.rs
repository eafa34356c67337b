//! `cineflow remote`, the real binary, against a real server (the app on a fresh database,
//! with the built components): login, chains, upload, components, bind, bindings, dry run,
//! unbind, `--json`, and how refusals, usage errors, connection errors and closed pipes end.

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
