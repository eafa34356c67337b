//! The component lifecycle: upload, list, bind, unbind, canary and dry-run.

use std::io::{Read as _, Write};
use std::path::Path;

use serde_json::{Value, json};
use uuid::Uuid;

use super::{Cx, FAILED};
use crate::remote::output::{self, items};
use crate::remote::{Action, RemoteError, render};

/// Largest component file read.
const MAX_COMPONENT_FILE: u64 = 256 * 1024 * 1024;

impl Cx {
    pub(super) async fn components(
        &self,
        action: Action,
        out: &mut dyn Write,
    ) -> Result<u8, RemoteError> {
        let c = &self.client;
        match action {
            Action::Upload { chain, hook, file } => {
                let bytes = read_component(&file)?;
                let chain = chain.to_string();
                let answer = c
                    .post_bytes(
                        &["chains", &chain, "components"],
                        &[("hook", Some(hook))],
                        "application/wasm",
                        bytes,
                    )
                    .await?;
                self.show(out, &answer, |out, v| {
                    render::uploaded(out, answer.status, v)
                })
            }
            Action::Components { chain } => {
                let answer = c
                    .get(&["chains", &chain.to_string(), "components"], &[])
                    .await?;
                self.show(out, &answer, render::components)
            }
            Action::Bindings { chain } => {
                let answer = c
                    .get(&["chains", &chain.to_string(), "bindings"], &[])
                    .await?;
                self.show(out, &answer, render::bindings)
            }
            Action::Bind {
                chain,
                hook,
                component,
                on_failure,
                canary,
                percent,
            } => {
                let mut body = json!({"component_id": component});
                if let Some(policy) = on_failure {
                    body["on_failure"] = json!(policy.as_str());
                }
                if let (Some(canary), Some(percent)) = (canary, percent) {
                    body["canary"] = json!({"component_id": canary, "percent": percent});
                }
                let answer = c
                    .put_json(&["chains", &chain.to_string(), "bindings", &hook], &body)
                    .await?;
                self.show(out, &answer, render::binding)
            }
            Action::Unbind { chain, hook } => {
                let answer = c
                    .delete(&["chains", &chain.to_string(), "bindings", &hook])
                    .await?;
                self.done(
                    out,
                    &answer,
                    &format!(
                        "{} unbound: the platform default serves it",
                        output::cell(&hook)
                    ),
                )
            }
            Action::Canary {
                chain,
                hook,
                component,
                percent,
                off,
            } => {
                let canary = match (off, component, percent) {
                    (false, Some(component), Some(percent)) => Some((component, percent)),
                    _ => None,
                };
                self.canary(chain, &hook, canary, out).await
            }
            Action::DryRun {
                chain,
                component,
                input,
            } => {
                let input = read_json(&input)?;
                let answer = c
                    .post_json(
                        &[
                            "chains",
                            &chain.to_string(),
                            "components",
                            &component,
                            "invoke",
                        ],
                        &json!({ "input": input }),
                    )
                    .await?;
                self.show(out, &answer, render::dry_run)?;
                let failed = answer.body.get("error").is_some_and(|e| !e.is_null());
                Ok(if failed { FAILED } else { 0 })
            }
            other => Err(RemoteError::Usage(format!(
                "not a component lifecycle command: {other:?}"
            ))),
        }
    }

    /// Re-binds the hook's current component and policy with `canary` (or without one).
    pub(super) async fn canary(
        &self,
        chain: Uuid,
        hook: &str,
        canary: Option<(String, u8)>,
        out: &mut dyn Write,
    ) -> Result<u8, RemoteError> {
        let chain = chain.to_string();
        let list = self
            .client
            .get(&["chains", &chain, "bindings"], &[])
            .await?
            .body;
        let binding = items(&list)
            .iter()
            .find(|b| b.get("hook").and_then(Value::as_str) == Some(hook))
            .ok_or_else(|| {
                RemoteError::Usage(format!("chain {chain} has no hook {}", output::cell(hook)))
            })?;
        let bound = binding
            .get("bound_component_id")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                RemoteError::Usage(format!(
                    "{} is not bound: a canary runs beside a bound component; `cineflow remote bind` it first",
                    output::cell(hook)
                ))
            })?;
        let mut body = json!({"component_id": bound});
        if let Some(policy) = binding.get("on_failure").and_then(Value::as_str) {
            body["on_failure"] = json!(policy);
        }
        if let Some((component, percent)) = canary {
            body["canary"] = json!({"component_id": component, "percent": percent});
        }
        let answer = self
            .client
            .put_json(&["chains", &chain, "bindings", hook], &body)
            .await?;
        self.show(out, &answer, render::binding)
    }
}

/// A component file: must exist, be of a sane size and start like WebAssembly.
fn read_component(path: &Path) -> Result<Vec<u8>, RemoteError> {
    let fail = |e: &dyn std::fmt::Display| RemoteError::Usage(format!("{}: {e}", path.display()));
    let len = std::fs::metadata(path).map_err(|e| fail(&e))?.len();
    if len > MAX_COMPONENT_FILE {
        return Err(fail(&format!("{len} bytes is not a component")));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(&e))?;
    if !bytes.starts_with(b"\0asm") {
        return Err(fail(&"not a WebAssembly file (no \\0asm header)"));
    }
    Ok(bytes)
}

/// A JSON file, or standard input for `-`.
pub(super) fn read_json(path: &Path) -> Result<Value, RemoteError> {
    let fail = |e: &dyn std::fmt::Display| RemoteError::Usage(format!("{}: {e}", path.display()));
    let text = if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .lock()
            .read_to_string(&mut text)
            .map_err(|e| fail(&e))?;
        text
    } else {
        std::fs::read_to_string(path).map_err(|e| fail(&e))?
    };
    serde_json::from_str(&text).map_err(|e| fail(&format!("not JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_files_are_checked_before_upload() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("missing.wasm");
        assert_eq!(
            read_component(&missing).expect_err("missing").exit_code(),
            2
        );
        let text = dir.path().join("x.wasm");
        std::fs::write(&text, "hello").expect("writes");
        let err = read_component(&text).expect_err("not wasm");
        assert!(
            err.render().contains("not a WebAssembly file"),
            "{}",
            err.render()
        );
        let wasm = dir.path().join("ok.wasm");
        std::fs::write(&wasm, b"\0asm\x0d\0\x01\0").expect("writes");
        assert_eq!(read_component(&wasm).expect("reads").len(), 8);
    }
}
