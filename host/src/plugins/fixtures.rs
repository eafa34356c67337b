//! The hooks' fixtures (`plugins/hooks/<hook>/fixtures.json`, compiled into the binary): inputs every
//! uploaded component must handle within its limits, with an answer that passes the host's
//! output checks and, where the fixture says so, is an `ok` (or a refusal).

use serde::Deserialize;
use serde_json::Value;

use crate::plugins::{FailureKind, Hook, LoadedComponent, PluginRuntime, Tenant};
use crate::plugins::{hooks, invoke};

#[derive(Debug, Deserialize)]
struct FixtureFile {
    cases: Vec<Fixture>,
}

/// One fixture.
#[derive(Debug, Deserialize)]
pub struct Fixture {
    /// Shown in refusals.
    pub name: String,
    /// The hook's input as JSON.
    pub input: Value,
    /// What the answer must be.
    pub expect: Expect,
}

/// The property a fixture checks beyond "no failure, valid output".
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    /// An answer, not a refusal.
    Ok,
    /// A refusal.
    Err,
    /// Either.
    Any,
}

/// The fixtures of `hook`.
pub fn of(hook: Hook) -> Result<Vec<Fixture>, String> {
    serde_json::from_str::<FixtureFile>(hooks::module(hook).fixtures())
        .map(|f| f.cases)
        .map_err(|e| format!("the {hook} fixtures are malformed: {e}"))
}

/// What a component did on the fixtures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixtureReport {
    /// Fixtures passed (all of them, when this is returned).
    pub passed: usize,
    /// Most fuel any fixture used.
    pub fuel_max: u64,
}

/// Why an upload's fixtures did not pass.
#[derive(Debug)]
pub enum FixtureError {
    /// The component failed one: the reason names it.
    Failed(String),
    /// The chain was over its fair share, so they could not run now.
    Busy {
        /// Why.
        message: String,
        /// When to try again.
        retry_after: std::time::Duration,
    },
}

impl From<String> for FixtureError {
    fn from(reason: String) -> Self {
        FixtureError::Failed(reason)
    }
}

/// Runs every fixture of the component's hook; `Err` names the first one it failed and why.
pub async fn run(
    runtime: &PluginRuntime,
    tenant: Tenant,
    component: &LoadedComponent,
) -> Result<FixtureReport, FixtureError> {
    let mut report = FixtureReport {
        passed: 0,
        fuel_max: 0,
    };
    for fixture in of(component.hook)? {
        let invocation = invoke::invoke(runtime, tenant, component, fixture.input)
            .await
            .map_err(|e| format!("fixture {:?}: {e}", fixture.name))?;
        report.fuel_max = report.fuel_max.max(invocation.stats.fuel_used);
        match (invocation.outcome, fixture.expect) {
            (Err(e), _) if matches!(e.kind, FailureKind::Busy | FailureKind::Unavailable) => {
                return Err(FixtureError::Busy {
                    message: e.message,
                    retry_after: e.retry_after.unwrap_or(std::time::Duration::from_secs(1)),
                });
            }
            (Err(e), _) => {
                return Err(FixtureError::Failed(format!(
                    "fixture {:?}: the component failed: {}",
                    fixture.name,
                    e.report()
                )));
            }
            (Ok(Err(reason)), Expect::Ok) => {
                return Err(FixtureError::Failed(format!(
                    "fixture {:?}: expected an answer, the component refused: {reason}",
                    fixture.name
                )));
            }
            (Ok(Ok(_)), Expect::Err) => {
                return Err(FixtureError::Failed(format!(
                    "fixture {:?}: expected a refusal, the component answered",
                    fixture.name
                )));
            }
            _ => report.passed += 1,
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hook_has_well_formed_fixtures() {
        for hook in Hook::ALL {
            let cases = of(hook).expect("fixtures parse");
            assert!(cases.len() >= 3, "{hook} has a few fixtures");
        }
    }
}
