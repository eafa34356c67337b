//! docs/component-guide.md, followed verbatim: every ```sh block between a
//! `<!-- walkthrough:start -->` and its `<!-- walkthrough:end -->`, in order, in one bash
//! (`-euo pipefail`), with the real `cineflow` binary first on `PATH`, against a real server
//! on a fresh database. Nothing in the blocks is rewritten: the guide's documented variables
//! (`SERVER`, `OWNER_EMAIL`, ...) come from the environment, as the guide says to set them.
//! Then the server's state is checked: the approved owner's chain, the replay done with the
//! revenue difference computed here, the canary set and gone, the binding rolled back.
//!
//! Between two blocks the script prints a marker line of its own (outside the guide's blocks),
//! so that each block's output is known. With `CINEFLOW_WALKTHROUGH_TRANSCRIPT=FILE` the run
//! is also written to FILE as markdown, each block followed by its output
//! (docs/cli-walkthrough.md holds one).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use sha2::Digest as _;
use sqlx::PgPool;
use tokio::process::Command;

use crate::support::app::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp};
use crate::support::client::{PASSWORD, email, s};
use crate::support::components_dir;

const BIN: &str = env!("CARGO_BIN_EXE_cineflow");
const START: &str = "<!-- walkthrough:start -->";
const END: &str = "<!-- walkthrough:end -->";
/// The line the script prints before the output of block N: `@@walkthrough block N@@`.
const BLOCK_MARK: &str = "@@walkthrough block ";
/// The variables the guide tells its reader to set.
const PLACEHOLDERS: [&str; 7] = [
    "SERVER",
    "OWNER_EMAIL",
    "OWNER_PASSWORD",
    "ADMIN_EMAIL",
    "ADMIN_PASSWORD",
    "CUSTOMER_EMAIL",
    "CUSTOMER_PASSWORD",
];

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("the repository root")
}

/// The ```sh blocks between each start and end marker, in document order.
fn walkthrough_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut rest = markdown;
    while let Some(i) = rest.find(START) {
        let after = &rest[i + START.len()..];
        let j = after
            .find(END)
            .expect("every walkthrough:start has its walkthrough:end");
        let mut block: Option<String> = None;
        for line in after[..j].lines() {
            match (block.as_mut(), line.trim_end()) {
                (None, "```sh") => block = Some(String::new()),
                (Some(_), "```") => blocks.extend(block.take()),
                (Some(b), _) => {
                    b.push_str(line);
                    b.push('\n');
                }
                (None, _) => {}
            }
        }
        assert!(
            block.is_none(),
            "a ```sh block of the walkthrough is not closed"
        );
        assert!(
            !after[..j].contains(START),
            "walkthrough:start twice without walkthrough:end"
        );
        rest = &after[j + END.len()..];
    }
    blocks
}

/// Where the guide's `target/components/...` paths resolve: the repository root when the
/// tests' components are built there, else a directory whose `target/components` is them.
fn working_dir(scratch: &Path) -> PathBuf {
    let root = repo_root();
    let built = components_dir()
        .canonicalize()
        .expect("the built components");
    if root.join("target/components").canonicalize().ok() == Some(built.clone()) {
        return root;
    }
    let dir = scratch.join("checkout");
    std::fs::create_dir_all(dir.join("target")).expect("mkdir");
    std::os::unix::fs::symlink(&built, dir.join("target/components")).expect("symlink");
    dir
}

fn sha256_file(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Each block, then what it printed (stdout and stderr as they came).
fn markdown(blocks: &[String], log: &str) -> String {
    let mut outputs = vec![String::new(); blocks.len()];
    let mut current: Option<usize> = None;
    for line in log.lines() {
        if let Some(n) = line
            .strip_prefix(BLOCK_MARK)
            .and_then(|rest| rest.strip_suffix("@@"))
            .and_then(|n| n.parse::<usize>().ok())
        {
            current = Some(n);
        } else if let Some(out) = current.and_then(|n| outputs.get_mut(n)) {
            out.push_str(line);
            out.push('\n');
        }
    }
    let mut md = String::new();
    for (block, output) in blocks.iter().zip(outputs) {
        md.push_str(&format!("```sh\n{block}```\n\n"));
        let output = output.trim_matches('\n');
        if !output.is_empty() {
            md.push_str(&format!("```text\n{output}\n```\n\n"));
        }
    }
    md
}

#[test]
fn the_markers_enclose_the_guides_shell_blocks() {
    let md = "a\n<!-- walkthrough:start -->\n```sh\necho 1\n```\n```text\nno\n```\n\
              <!-- walkthrough:end -->\n```sh\nnot this\n```\n\
              <!-- walkthrough:start -->\n```sh\necho 2\necho 3\n```\n<!-- walkthrough:end -->\n";
    assert_eq!(walkthrough_blocks(md), ["echo 1\n", "echo 2\necho 3\n"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_guide_walkthrough_runs_verbatim(pool: PgPool) {
    let guide = std::fs::read_to_string(repo_root().join("docs/component-guide.md"))
        .expect("docs/component-guide.md");
    let blocks = walkthrough_blocks(&guide);
    assert!(blocks.len() >= 10, "{blocks:?}");
    for name in PLACEHOLDERS {
        assert!(
            guide.contains(&format!("{name}=")),
            "the guide says how to set {name}"
        );
    }

    let app = TestApp::spawn(pool).await;
    let scratch = tempfile::tempdir().expect("tempdir");
    let cwd = working_dir(scratch.path());
    let script = scratch.path().join("walkthrough.sh");
    let text: String = blocks
        .iter()
        .enumerate()
        .map(|(i, block)| format!("printf '\\n{BLOCK_MARK}%d@@\\n' {i}\n{block}"))
        .collect();
    std::fs::write(&script, text).expect("script written");
    let log_path = scratch.path().join("walkthrough.log");
    let log = std::fs::File::create(&log_path).expect("log file");

    let bin_dir = Path::new(BIN).parent().expect("the binary's directory");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let server = format!("http://{}", app.addr);
    let (owner_email, customer_email) = (email("guide-owner"), email("guide-customer"));
    let mut cmd = Command::new("bash");
    cmd.args(["-e", "-u", "-o", "pipefail"])
        .arg(&script)
        .current_dir(&cwd);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("CINEFLOW_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("PATH", path)
        .env("HOME", scratch.path())
        .env("CINEFLOW_CONFIG", scratch.path().join("cfg/remote.json"))
        .env("RUST_LOG", "error")
        .env("SERVER", &server)
        .env("OWNER_EMAIL", &owner_email)
        .env("OWNER_PASSWORD", PASSWORD)
        .env("ADMIN_EMAIL", ADMIN_EMAIL)
        .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("CUSTOMER_EMAIL", &customer_email)
        .env("CUSTOMER_PASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log fd"))
        .stderr(log)
        .kill_on_drop(true);
    let status = tokio::time::timeout(Duration::from_secs(300), cmd.status())
        .await
        .expect("the walkthrough ends within 5 minutes")
        .expect("bash runs");
    let transcript = std::fs::read_to_string(&log_path).expect("log");
    if let Ok(out) = std::env::var("CINEFLOW_WALKTHROUGH_TRANSCRIPT") {
        std::fs::write(&out, markdown(&blocks, &transcript)).expect("transcript written");
    }
    assert!(status.success(), "{status}\n{transcript}");
    assert!(!transcript.contains("panicked"), "{transcript}");

    // The owner's chain: the only one on this fresh server.
    let owner = app.signin(&owner_email, PASSWORD).await;
    let chains = app.get_ok("/chains", None).await;
    let items = chains["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{chains}");
    let chain = s(&items[0], "id");
    let me = app.get_ok("/users/me", Some(&owner)).await;
    assert_eq!(me["status"], "approved", "{me}");

    let stable = sha256_file(&cwd.join("target/components/pricing.wasm"));
    let candidate = sha256_file(&cwd.join("target/components/examples/matinee-pricing.wasm"));

    // The replay of last week: both holds (A-1 + A-2 standard, B-1 premium) on a weekday
    // matinee in Kolkata, 20 % + 10 % off each seat.
    let replays = app
        .get_ok(&format!("/chains/{chain}/replays"), Some(&owner))
        .await;
    let replay = &replays["items"][0];
    assert_eq!(replay["status"], "done", "{replays}");
    assert_eq!(replay["component_id"], candidate.as_str(), "{replays}");
    assert_eq!(replay["runs"], 2, "{replays}");
    assert_eq!(replay["changed"], 2, "{replays}");
    let before = 2 * 25000 + 40000;
    let after = 2 * (25000 - 25000 * 30 / 100) + (40000 - 40000 * 30 / 100);
    assert_eq!(replay["revenue_before_minor"], before, "{replays}");
    assert_eq!(replay["revenue_after_minor"], after, "{replays}");
    assert!(transcript.contains(&format!("revenue:       {before} -> {after}")));

    // The shadow was started and stopped; the canary was set at 5 % and is gone; the binding
    // is back on the stable component.
    assert!(
        transcript.contains(&format!("shadow of pricing by {candidate}")),
        "{transcript}"
    );
    let shadow = app
        .get_auth(&format!("/chains/{chain}/shadows/pricing"), Some(&owner))
        .await;
    assert_eq!(shadow.status(), 404);
    assert!(
        transcript.contains(&format!("canary:     {} 5%", &candidate[..12])),
        "{transcript}"
    );
    assert!(
        transcript.contains(&format!("pricing bound to {candidate}\n")),
        "{transcript}"
    );
    let bindings = app
        .get_ok(&format!("/chains/{chain}/bindings"), Some(&owner))
        .await;
    let pricing: &Value = bindings["items"]
        .as_array()
        .and_then(|b| b.iter().find(|b| b["hook"] == "pricing"))
        .unwrap_or_else(|| panic!("no pricing binding: {bindings}"));
    assert_eq!(pricing["bound_component_id"], stable.as_str(), "{bindings}");
    assert!(pricing["canary"].is_null(), "{bindings}");

    // The receipt printed the booking's decisions.
    assert!(transcript.contains("pricing quote by "), "{transcript}");
    app.stop().await;
}
