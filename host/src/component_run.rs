//! `cineflow component run|test|new`: the component author's tools. `run` and `test` use the
//! same engine, sandbox, limits and output checks as the service, and `test` the same case
//! checking as an upload (`plugins::cases`). Each command ends with an [`exit`] code and
//! what to print; nothing here writes to the terminal itself, and the printing in
//! [`Finished::emit`] survives a closed pipe (`| head`).

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::cli::{ComponentCommand, LimitArgs, RunArgs, TestArgs};
use crate::config::runtime_config;
use crate::plugins::cases::{self, TestCases};
use crate::plugins::invoke;
use crate::plugins::{Hook, LoadedComponent, PluginRuntime, Tenant};

/// The exit codes of `cineflow component ...` (docs/component-guide.md).
pub mod exit {
    /// `run`: the component answered (`ok` or `err`). `test`: every case passed. `new`: written.
    pub const OK: u8 = 0;
    /// `test`: at least one case failed.
    pub const CASES_FAILED: u8 = 1;
    /// `run`: the component failed (trap, fuel, time, memory, a broken answer).
    pub const COMPONENT_FAILED: u8 = 2;
    /// The file is not a component of the hook (not a component, another world, imports the
    /// host does not provide, too large).
    pub const NOT_LOADED: u8 = 3;
    /// Bad arguments: a file that cannot be read or is not the JSON expected, an input that
    /// does not fit the hook, a directory that is not empty (as `EX_USAGE` of sysexits.h).
    pub const USAGE: u8 = 64;
    /// Anything else (the engine could not start, a file could not be written).
    pub const INTERNAL: u8 = 70;
}

/// How a command ended: its exit code, what goes to stdout and what to stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// The exit code ([`exit`]).
    pub code: u8,
    /// Printed to stdout (a JSON report, or the lines of `test`).
    pub stdout: String,
    /// Printed to stderr, for people (a failure's report, what went wrong).
    pub stderr: String,
}

impl Finished {
    fn json(code: u8, report: &Value, stderr: String) -> Self {
        Self {
            code,
            stdout: serde_json::to_string_pretty(report).unwrap_or_else(|_| report.to_string()),
            stderr,
        }
    }

    /// An error report `{"error": {"kind", "message"}}` with `code`.
    fn error(code: u8, kind: &str, message: String) -> Self {
        Self::json(
            code,
            &json!({ "error": { "kind": kind, "message": message } }),
            format!("error: {message}"),
        )
    }

    /// Prints stdout and stderr. A reader that went away (`| head`) is not an error: the
    /// exit code stays the command's.
    pub fn emit(&self) {
        if !self.stdout.is_empty() {
            let mut out = std::io::stdout().lock();
            let written = out
                .write_all(self.stdout.as_bytes())
                .and_then(|()| out.write_all(b"\n"))
                .and_then(|()| out.flush());
            if let Err(e) = written
                && e.kind() != std::io::ErrorKind::BrokenPipe
            {
                let _ = writeln!(std::io::stderr(), "error: writing the output: {e}");
            }
        }
        if !self.stderr.is_empty() {
            let _ = writeln!(std::io::stderr().lock(), "{}", self.stderr);
        }
    }
}

/// Runs one `cineflow component` command.
pub async fn execute(command: ComponentCommand) -> Finished {
    match command {
        ComponentCommand::Run(args) => run(&args).await,
        ComponentCommand::Test(args) => test(&args).await,
        ComponentCommand::New(args) => crate::component_new::write(&args),
    }
}

/// `cineflow component run`: one call, and the report of `POST .../invoke`.
pub async fn run(args: &RunArgs) -> Finished {
    let bytes = match read(&args.wasm).await {
        Ok(b) => b,
        Err(e) => return e,
    };
    let input = match read_json(&args.input).await {
        Ok(v) => v,
        Err(e) => return e,
    };
    let (runtime, component) = match load(&args.limits, args.hook, &bytes).await {
        Ok(loaded) => loaded,
        Err(e) => return e,
    };
    let invocation = match invoke::invoke(&runtime, Tenant::Platform, &component, input).await {
        Ok(invocation) => invocation,
        Err(why) => {
            return Finished::error(
                exit::USAGE,
                "bad_input",
                format!("{}: {why}", args.input.display()),
            );
        }
    };
    let mut report = invocation.report();
    if let Some(map) = report.as_object_mut() {
        map.insert("component".into(), json!(component.id));
    }
    match &invocation.outcome {
        Err(e) => Finished::json(exit::COMPONENT_FAILED, &report, e.report()),
        Ok(_) => Finished::json(exit::OK, &report, String::new()),
    }
}

/// `cineflow component test`: every case of the file, pass or fail each.
pub async fn test(args: &TestArgs) -> Finished {
    let bytes = match read(&args.wasm).await {
        Ok(b) => b,
        Err(e) => return e,
    };
    let raw = match read_json(&args.cases).await {
        Ok(v) => v,
        Err(e) => return e,
    };
    let cases: TestCases = match serde_json::from_value(raw) {
        Ok(c) => c,
        Err(e) => {
            return Finished::error(
                exit::USAGE,
                "bad_cases",
                format!(
                    "{} is not a test-case file ({{\"cases\": [{{\"name\", \"input\", \"expect\"}}]}}): {e}",
                    args.cases.display()
                ),
            );
        }
    };
    let (runtime, component) = match load(&args.limits, args.hook, &bytes).await {
        Ok(loaded) => loaded,
        Err(e) => return e,
    };
    if let Err(problem) = cases::validate(args.hook, &cases, &runtime.limits(args.hook)) {
        return Finished::error(
            exit::USAGE,
            "bad_cases",
            format!("{}: {problem}", args.cases.display()),
        );
    }
    let mut lines = Vec::new();
    let mut results = Vec::new();
    let mut failed = 0usize;
    for case in &cases.cases {
        let outcome = match cases::run_case(&runtime, Tenant::Platform, &component, case).await {
            Ok(outcome) => outcome,
            Err(busy) => cases::CaseOutcome {
                name: case.name.clone(),
                verdict: Err(format!("not run: {}", busy.message)),
                fuel_used: 0,
            },
        };
        match &outcome.verdict {
            Ok(()) => lines.push(format!(
                "PASS  {}  (fuel {})",
                outcome.name, outcome.fuel_used
            )),
            Err(why) => {
                failed += 1;
                lines.push(format!("FAIL  {}", outcome.name));
                lines.extend(why.lines().map(|l| format!("      {l}")));
            }
        }
        results.push(json!({
            "name": outcome.name,
            "passed": outcome.verdict.is_ok(),
            "why": outcome.verdict.err(),
            "fuel_used": outcome.fuel_used,
        }));
    }
    let passed = cases.cases.len() - failed;
    let code = if failed == 0 {
        exit::OK
    } else {
        exit::CASES_FAILED
    };
    if args.json {
        return Finished::json(
            code,
            &json!({
                "component": component.id,
                "passed": passed,
                "failed": failed,
                "cases": results,
            }),
            String::new(),
        );
    }
    lines.push(format!("{passed} passed, {failed} failed"));
    Finished {
        code,
        stdout: lines.join("\n"),
        stderr: String::new(),
    }
}

async fn load(
    limits: &LimitArgs,
    hook: Hook,
    bytes: &[u8],
) -> Result<(PluginRuntime, Arc<LoadedComponent>), Finished> {
    let runtime = PluginRuntime::new(runtime_config(limits, None)).map_err(|e| {
        Finished::error(
            exit::INTERNAL,
            "internal",
            format!("the engine did not start: {e:#}"),
        )
    })?;
    match runtime.load(hook, bytes).await {
        Ok(component) => Ok((runtime, component)),
        Err(e) => {
            let message = e.to_string();
            Err(Finished::json(
                exit::NOT_LOADED,
                &json!({
                    "component": crate::plugins::sha256_hex(bytes),
                    "error": { "kind": "invalid_component", "message": message },
                }),
                format!("error: {message}"),
            ))
        }
    }
}

async fn read(path: &Path) -> Result<Vec<u8>, Finished> {
    tokio::fs::read(path).await.map_err(|e| {
        Finished::error(
            exit::USAGE,
            "usage",
            format!("reading {}: {e}", path.display()),
        )
    })
}

async fn read_json(path: &Path) -> Result<Value, Finished> {
    let bytes = read(path).await?;
    serde_json::from_slice(&bytes).map_err(|e| {
        Finished::error(
            exit::USAGE,
            "usage",
            format!("{} is not valid JSON: {e}", path.display()),
        )
    })
}
