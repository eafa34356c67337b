//! `cineflow component run`, the component author's local runner, end to end.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::{components_dir, inputs};

const BIN: &str = env!("CARGO_BIN_EXE_cineflow");

fn run(hook: &str, wasm: &str, input: &Value) -> (Option<i32>, Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let input_path = dir.path().join("input.json");
    std::fs::write(&input_path, serde_json::to_vec(input).expect("json")).expect("write");
    let out = Command::new(BIN)
        .args(["component", "run", "--hook", hook, "--wasm"])
        .arg(components_dir().join(wasm))
        .arg("--input")
        .arg(&input_path)
        .env("RUST_LOG", "error")
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), report)
}

#[test]
fn run_prints_the_quote_and_its_cost() {
    let input = serde_json::to_value(inputs::quote_request(4)).expect("json");
    let (code, report) = run("pricing", "pricing.wasm", &input);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["output"]["ok"]["total_minor"], 130_000);
    assert_eq!(
        report["output"]["ok"]["items"].as_array().map(Vec::len),
        Some(4)
    );
    assert!(report["stats"]["fuel_used"].as_u64().unwrap_or(0) > 0);
    assert!(report["stats"]["memory_bytes"].as_u64().unwrap_or(0) > 0);
    assert!(report["stats"]["duration_us"].is_u64());
    assert_eq!(report["component"].as_str().map(str::len), Some(64));
}

#[test]
fn run_takes_the_booking_rules_function_from_the_input() {
    let mut input = serde_json::to_value(inputs::cancel_request(50_000, 3)).expect("json");
    input["function"] = "cancel".into();
    let (code, report) = run("booking-rules", "booking-rules.wasm", &input);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["output"]["ok"], 50_000);

    let mut input = serde_json::to_value(inputs::hold_request(2)).expect("json");
    input["function"] = "check-hold".into();
    let (_, report) = run("booking-rules", "booking-rules.wasm", &input);
    assert_eq!(report["output"]["ok"]["hold_seconds"], 600);
}

#[test]
fn run_reports_a_trap_with_a_failing_exit_code() {
    let input = serde_json::to_value(inputs::quote_request(1)).expect("json");
    let (code, report) = run("pricing", "hostile/loop.wasm", &input);
    assert_eq!(code, Some(2), "{report}");
    assert_eq!(report["error"]["kind"], "out_of_fuel");
    assert_eq!(report["stats"]["fuel_used"], 50_000_000);
}

/// Runs the binary with `args`, answering its exit code, stdout and stderr.
fn cineflow(args: &[&std::ffi::OsStr]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .expect("runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write_json(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec(value).expect("json")).expect("write");
    path
}

#[test]
fn run_rejects_a_component_of_the_wrong_world_with_exit_3_and_a_json_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write_json(
        dir.path(),
        "input.json",
        &serde_json::to_value(inputs::quote_request(1)).expect("json"),
    );
    let wasm = components_dir().join("notify-templates.wasm");
    let (code, stdout, stderr) = cineflow(&[
        "component".as_ref(),
        "run".as_ref(),
        "--hook".as_ref(),
        "pricing".as_ref(),
        "--wasm".as_ref(),
        wasm.as_os_str(),
        "--input".as_ref(),
        input.as_os_str(),
    ]);
    assert_eq!(code, Some(3), "{stdout}{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("a JSON report");
    assert_eq!(report["error"]["kind"], "invalid_component", "{report}");
    assert!(
        report["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("does not implement the pricing world")),
        "{report}"
    );
    assert_eq!(report["component"].as_str().map(str::len), Some(64));
    assert!(
        stderr.contains("does not implement the pricing world"),
        "{stderr}"
    );
}

#[test]
fn run_answers_usage_errors_with_exit_64() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wasm = components_dir().join("pricing.wasm");
    let not_json = dir.path().join("not.json");
    std::fs::write(&not_json, "{ nope").expect("write");
    let wrong_record = write_json(dir.path(), "wrong.json", &serde_json::json!({"foo": 1}));
    let missing = dir.path().join("missing.json");
    for input in [&not_json, &wrong_record, &missing] {
        let (code, stdout, stderr) = cineflow(&[
            "component".as_ref(),
            "run".as_ref(),
            "--hook".as_ref(),
            "pricing".as_ref(),
            "--wasm".as_ref(),
            wasm.as_os_str(),
            "--input".as_ref(),
            input.as_os_str(),
        ]);
        assert_eq!(code, Some(64), "{}: {stdout}{stderr}", input.display());
        let report: Value = serde_json::from_str(&stdout).expect("a JSON report");
        assert!(report["error"]["message"].is_string(), "{report}");
    }
}

#[test]
fn a_failure_report_names_the_panic_and_a_closed_pipe_is_no_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write_json(
        dir.path(),
        "input.json",
        &serde_json::to_value(inputs::quote_request(1)).expect("json"),
    );
    let (code, report) = run(
        "pricing",
        "hostile/panic.wasm",
        &serde_json::to_value(inputs::quote_request(1)).expect("json"),
    );
    assert_eq!(code, Some(2), "{report}");
    assert!(
        report["error"]["panic"]
            .as_str()
            .is_some_and(|p| p.ends_with("hostile guest panicked on purpose")),
        "{report}"
    );
    assert!(
        report["error"]["backtrace"]
            .as_str()
            .is_some_and(|b| b.contains("hostile_guest::Component")),
        "{report}"
    );

    // `| head`: the reader is gone before the report is written.
    let mut child = Command::new(BIN)
        .args(["component", "run", "--hook", "pricing", "--wasm"])
        .arg(components_dir().join("hostile/noisy.wasm"))
        .arg("--input")
        .arg(&input)
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

#[test]
fn test_runs_a_case_file_and_exits_1_when_a_case_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, one) = run(
        "pricing",
        "hostile/well-behaved.wasm",
        &serde_json::to_value(inputs::quote_request(1)).expect("json"),
    );
    let cases = write_json(
        dir.path(),
        "cases.json",
        &serde_json::json!({"cases": [
            {"name": "one seat", "input": inputs::quote_request(1), "expect": {"ok": one["output"]["ok"]}},
            {"name": "any refusal", "input": inputs::quote_request(1), "expect": {"err": null}},
        ]}),
    );
    let test = |wasm: &str| {
        let wasm = components_dir().join(wasm);
        cineflow(&[
            "component".as_ref(),
            "test".as_ref(),
            "--hook".as_ref(),
            "pricing".as_ref(),
            "--wasm".as_ref(),
            wasm.as_os_str(),
            "--cases".as_ref(),
            cases.as_os_str(),
        ])
    };
    let (code, stdout, stderr) = test("hostile/well-behaved.wasm");
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("PASS  one seat"), "{stdout}");
    assert!(stdout.contains("FAIL  any refusal"), "{stdout}");
    assert!(
        stdout.contains("expected {\"err\":\"<any reason>\"}, got {\"ok\":"),
        "{stdout}"
    );
    assert!(
        stdout.trim_end().ends_with("1 passed, 1 failed"),
        "{stdout}"
    );
    let (code, stdout, _) = test("notify-templates.wasm");
    assert_eq!(code, Some(3), "{stdout}");

    let only_first = write_json(
        dir.path(),
        "cases.json",
        &serde_json::json!({"cases": [
            {"name": "one seat", "input": inputs::quote_request(1), "expect": {"ok": one["output"]["ok"]}},
        ]}),
    );
    assert_eq!(only_first, cases);
    let (code, stdout, _) = test("hostile/well-behaved.wasm");
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.trim_end().ends_with("1 passed, 0 failed"),
        "{stdout}"
    );
}

/// `component new` for every hook, built for wasm32-wasip2 (in the workspace's target
/// directory, sharing one target directory so wit-bindgen compiles once), then run on its
/// sample input and tested with its own cases.
#[test]
fn new_writes_a_crate_for_each_hook_that_builds_runs_and_passes_its_cases() {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    let root = target.join("component-new-test");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("mkdir");
    for hook in [
        "pricing",
        "booking-rules",
        "notify-templates",
        "seat-picker",
    ] {
        let dir = root.join(format!("my-{hook}"));
        let (code, stdout, stderr) = cineflow(&[
            "component".as_ref(),
            "new".as_ref(),
            "--hook".as_ref(),
            hook.as_ref(),
            dir.as_os_str(),
        ]);
        assert_eq!(code, Some(0), "{stdout}{stderr}");
        for file in [
            "Cargo.toml",
            "README.md",
            "src/lib.rs",
            "src/logic.rs",
            "wit/types.wit",
            "sample-input.json",
            "cases.json",
        ] {
            assert!(dir.join(file).is_file(), "{hook}: {file}");
        }
        // Not over an existing crate.
        let (code, _, stderr) = cineflow(&[
            "component".as_ref(),
            "new".as_ref(),
            "--hook".as_ref(),
            hook.as_ref(),
            dir.as_os_str(),
        ]);
        assert_eq!(code, Some(64), "{stderr}");

        // Offline: the crate's one dependency, wit-bindgen 0.63, is the workspace's own and
        // already in cargo's cache, so the test needs no network.
        let built = Command::new(env!("CARGO"))
            .args([
                "build",
                "--offline",
                "--quiet",
                "--target",
                "wasm32-wasip2",
                "--profile",
                "wasm",
            ])
            .current_dir(&dir)
            .env("CARGO_TARGET_DIR", root.join("target"))
            .env_remove("RUSTFLAGS")
            .output()
            .expect("cargo runs");
        assert!(
            built.status.success(),
            "{hook}: {}",
            String::from_utf8_lossy(&built.stderr)
        );
        let wasm = root
            .join("target/wasm32-wasip2/wasm")
            .join(format!("my_{}.wasm", hook.replace('-', "_")));
        let (code, stdout, stderr) = cineflow(&[
            "component".as_ref(),
            "run".as_ref(),
            "--hook".as_ref(),
            hook.as_ref(),
            "--wasm".as_ref(),
            wasm.as_os_str(),
            "--input".as_ref(),
            dir.join("sample-input.json").as_os_str(),
        ]);
        assert_eq!(code, Some(0), "{hook}: {stdout}{stderr}");
        let report: Value = serde_json::from_str(&stdout).expect("a JSON report");
        assert!(
            report["output"]["ok"].is_object() || report["output"]["ok"].is_array(),
            "{hook}: {report}"
        );
        let (code, stdout, stderr) = cineflow(&[
            "component".as_ref(),
            "test".as_ref(),
            "--hook".as_ref(),
            hook.as_ref(),
            "--wasm".as_ref(),
            wasm.as_os_str(),
            "--cases".as_ref(),
            dir.join("cases.json").as_os_str(),
        ]);
        assert_eq!(code, Some(0), "{hook}: {stdout}{stderr}");
    }
}
