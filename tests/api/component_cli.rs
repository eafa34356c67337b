//! `cineflow component run`, the component author's local runner, end to end.

use std::process::Command;

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

#[test]
fn run_rejects_a_component_of_the_wrong_world() {
    let input = serde_json::to_value(inputs::quote_request(1)).expect("json");
    let dir = tempfile::tempdir().expect("tempdir");
    let input_path = dir.path().join("input.json");
    std::fs::write(&input_path, serde_json::to_vec(&input).expect("json")).expect("write");
    let out = Command::new(BIN)
        .args(["component", "run", "--hook", "pricing", "--wasm"])
        .arg(components_dir().join("notify-templates.wasm"))
        .arg("--input")
        .arg(&input_path)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("does not implement the pricing world"),
        "{stderr}"
    );
}
