//! A chain's own test cases for a hook: inputs with the answer the chain expects. The upload
//! of a chain's component runs them after the hook's fixtures (a failing case refuses the
//! upload), and `cineflow component test` runs the same file locally; both go through here,
//! so a case passes or fails the same way in both places.
//!
//! The format (`PUT /chains/{id}/test-cases/{hook}`, `--cases FILE`):
//! `{"cases": [{"name": "...", "input": <dry-run input>, "expect": {"ok": <output>} |
//! {"err": "<reason>" | null}}]}`: `ok` must equal the answer exactly (as JSON), `err` with a
//! reason must be that refusal, `err: null` any refusal. A failure (trap, fuel, a broken
//! answer) never passes.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::invoke::{self, Invocation};
use super::report::{LOG_IN_REPORT, cap, tail};
use super::{FailureKind, Hook, Limits, LoadedComponent, PluginRuntime, Tenant};

/// The most cases a chain keeps for one hook.
pub const MAX_CASES: usize = 200;
/// The longest case name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// The most of an expected or actual answer a failure quotes.
const VALUE_IN_REPORT: usize = 1024;

/// A hook's test cases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCases {
    /// In the order they run.
    pub cases: Vec<TestCase>,
}

/// One case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    /// Names the case in refusals and reports.
    pub name: String,
    /// The hook's input as JSON, as in a dry run.
    pub input: Value,
    /// The answer expected.
    pub expect: Expect,
}

/// The answer a case expects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum Expect {
    /// Exactly this output.
    Ok(Value),
    /// A refusal with this reason, or any refusal (`null`).
    Err(Option<String>),
}

/// Why a set of cases is not acceptable: the case (by index, none for the whole set) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseProblem {
    /// Index of the offending case.
    pub index: Option<usize>,
    /// Its field at fault (`name`, `input`, `expect`), when one is.
    pub field: Option<&'static str>,
    /// What is wrong.
    pub message: String,
}

impl CaseProblem {
    /// Where the problem is: `cases`, `cases[3]` or `cases[3].input`.
    pub fn path(&self) -> String {
        match (self.index, self.field) {
            (Some(i), Some(field)) => format!("cases[{i}].{field}"),
            (Some(i), None) => format!("cases[{i}]"),
            (None, _) => "cases".to_owned(),
        }
    }
}

impl std::fmt::Display for CaseProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path(), self.message)
    }
}

/// Checks `cases` for `hook`: at most [`MAX_CASES`], each named (uniquely, at most
/// [`MAX_NAME_CHARS`]), each input parsing as the hook's input within its input cap.
pub fn validate(hook: Hook, cases: &TestCases, limits: &Limits) -> Result<(), CaseProblem> {
    if cases.cases.is_empty() {
        return Err(CaseProblem {
            index: None,
            field: None,
            message: "at least one case is needed (DELETE removes them all)".into(),
        });
    }
    if cases.cases.len() > MAX_CASES {
        return Err(CaseProblem {
            index: None,
            field: None,
            message: format!(
                "{} cases; a hook keeps at most {MAX_CASES}",
                cases.cases.len()
            ),
        });
    }
    let mut seen = std::collections::HashSet::new();
    for (i, case) in cases.cases.iter().enumerate() {
        let problem = |field: &'static str| {
            move |message: String| CaseProblem {
                index: Some(i),
                field: Some(field),
                message,
            }
        };
        let name = case.name.trim();
        if name.is_empty() || case.name.chars().count() > MAX_NAME_CHARS {
            return Err(problem("name")(format!(
                "the name must be 1 to {MAX_NAME_CHARS} characters"
            )));
        }
        if !seen.insert(name) {
            return Err(problem("name")(format!("the name {name:?} is used twice")));
        }
        let size = invoke::input_size(hook, case.input.clone()).map_err(problem("input"))?;
        if size as u64 > limits.max_input_bytes {
            return Err(problem("input")(format!(
                "the input of ~{size} bytes exceeds the {hook} input cap of {}",
                limits.max_input_bytes
            )));
        }
        if let Expect::Err(Some(reason)) = &case.expect
            && reason.len() as u64 > limits.max_output_bytes
        {
            return Err(problem("expect")(
                "the expected reason exceeds the output cap".into(),
            ));
        }
    }
    Ok(())
}

/// What one case did.
#[derive(Debug, Clone)]
pub struct CaseOutcome {
    /// The case's name.
    pub name: String,
    /// Passed, or why not.
    pub verdict: Result<(), String>,
    /// Fuel used.
    pub fuel_used: u64,
}

/// The chain was over its fair share: the case could not run now.
#[derive(Debug, Clone)]
pub struct CasesBusy {
    /// Why.
    pub message: String,
    /// When to try again.
    pub retry_after: std::time::Duration,
}

/// Runs one case; `Err` only when the chain's share refused the call (retry later).
pub async fn run_case(
    runtime: &PluginRuntime,
    tenant: Tenant,
    component: &LoadedComponent,
    case: &TestCase,
) -> Result<CaseOutcome, CasesBusy> {
    let invocation = match invoke::invoke(runtime, tenant, component, case.input.clone()).await {
        Ok(invocation) => invocation,
        Err(why) => {
            return Ok(CaseOutcome {
                name: case.name.clone(),
                verdict: Err(why),
                fuel_used: 0,
            });
        }
    };
    if let Err(e) = &invocation.outcome
        && matches!(e.kind, FailureKind::Busy | FailureKind::Unavailable)
    {
        return Err(CasesBusy {
            message: e.message.clone(),
            retry_after: e.retry_after.unwrap_or(std::time::Duration::from_secs(1)),
        });
    }
    Ok(CaseOutcome {
        name: case.name.clone(),
        fuel_used: invocation.stats.fuel_used,
        verdict: verdict(&case.expect, &invocation),
    })
}

/// Whether `invocation` is what `expect` asks for; if not, the expected answer, the one got
/// and the guest's log (or, for a failure, its report), for the case's author.
pub fn verdict(expect: &Expect, invocation: &Invocation) -> Result<(), String> {
    let got = match &invocation.outcome {
        Ok(Ok(v)) => json!({ "ok": v }),
        Ok(Err(reason)) => json!({ "err": reason }),
        Err(e) => {
            return Err(format!(
                "expected {}, the component failed: {}",
                shown(&expected_json(expect)),
                e.report()
            ));
        }
    };
    let passed = match (expect, &invocation.outcome) {
        (Expect::Ok(want), Ok(Ok(v))) => want == v,
        (Expect::Err(None), Ok(Err(_))) => true,
        (Expect::Err(Some(want)), Ok(Err(reason))) => want == reason,
        _ => false,
    };
    if passed {
        return Ok(());
    }
    let mut why = format!(
        "expected {}, got {}",
        shown(&expected_json(expect)),
        shown(&got)
    );
    let log = invocation.log.trim_end();
    if !log.is_empty() {
        why.push_str("\nguest log:\n");
        why.push_str(&tail(log, LOG_IN_REPORT));
    }
    Err(why)
}

fn expected_json(expect: &Expect) -> Value {
    match expect {
        Expect::Ok(v) => json!({ "ok": v }),
        Expect::Err(None) => json!({ "err": "<any reason>" }),
        Expect::Err(Some(reason)) => json!({ "err": reason }),
    }
}

fn shown(v: &Value) -> String {
    cap(&v.to_string(), VALUE_IN_REPORT)
}

/// Why an upload's test cases did not pass.
#[derive(Debug, Clone)]
pub enum CasesError {
    /// A case failed: names it, with the expected and the actual answer and the guest's log.
    Failed(String),
    /// The chain was over its fair share.
    Busy(CasesBusy),
}

/// Runs `cases` in order, stopping at the first that fails; answers how many passed.
pub async fn check_all(
    runtime: &PluginRuntime,
    tenant: Tenant,
    component: &LoadedComponent,
    cases: &TestCases,
) -> Result<usize, CasesError> {
    for (index, case) in cases.cases.iter().enumerate() {
        let outcome = run_case(runtime, tenant, component, case)
            .await
            .map_err(CasesError::Busy)?;
        if let Err(why) = &outcome.verdict {
            return Err(CasesError::Failed(format!(
                "test case {:?} (cases[{index}]): {why}",
                outcome.name
            )));
        }
    }
    Ok(cases.cases.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::CallStats;

    fn answered(v: Value, log: &str) -> Invocation {
        Invocation {
            outcome: Ok(Ok(v)),
            stats: CallStats::default(),
            log: log.into(),
        }
    }

    #[test]
    fn the_case_format_reads_ok_err_and_any_refusal() {
        let cases: TestCases = serde_json::from_value(json!({"cases": [
            {"name": "a", "input": {}, "expect": {"ok": {"total_minor": 1}}},
            {"name": "b", "input": {}, "expect": {"err": "no"}},
            {"name": "c", "input": {}, "expect": {"err": null}},
        ]}))
        .expect("parses");
        assert_eq!(cases.cases[0].expect, Expect::Ok(json!({"total_minor": 1})));
        assert_eq!(cases.cases[1].expect, Expect::Err(Some("no".into())));
        assert_eq!(cases.cases[2].expect, Expect::Err(None));
        for bad in [
            json!({"cases": [{"name": "a", "input": {}, "expect": {"maybe": 1}}]}),
            json!({"cases": [{"name": "a", "input": {}, "expect": {"ok": 1, "err": null}}]}),
            json!({"cases": [{"name": "a", "input": {}, "expect": {"ok": 1}, "x": 1}]}),
        ] {
            assert!(
                serde_json::from_value::<TestCases>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn verdicts_compare_the_whole_answer() {
        let ok = Expect::Ok(json!({"total_minor": 10}));
        assert_eq!(
            verdict(&ok, &answered(json!({"total_minor": 10}), "")),
            Ok(())
        );
        let why =
            verdict(&ok, &answered(json!({"total_minor": 9}), "said hi\n")).expect_err("differs");
        assert!(
            why.contains(r#"expected {"ok":{"total_minor":10}}, got {"ok":{"total_minor":9}}"#),
            "{why}"
        );
        assert!(why.ends_with("guest log:\nsaid hi"), "{why}");
        let refused = Invocation {
            outcome: Ok(Err("nope".into())),
            stats: CallStats::default(),
            log: String::new(),
        };
        assert_eq!(verdict(&Expect::Err(None), &refused), Ok(()));
        assert_eq!(verdict(&Expect::Err(Some("nope".into())), &refused), Ok(()));
        assert!(verdict(&Expect::Err(Some("other".into())), &refused).is_err());
        assert!(verdict(&ok, &refused).is_err());
    }

    #[test]
    fn validation_names_the_case() {
        let limits = Limits::default();
        let input = crate::plugins::fixtures::of(Hook::Pricing)
            .expect("fixtures")
            .remove(0)
            .input;
        let good = |name: &str| TestCase {
            name: name.into(),
            input: input.clone(),
            expect: Expect::Err(None),
        };
        let cases = TestCases {
            cases: vec![good("one"), good("two")],
        };
        assert_eq!(validate(Hook::Pricing, &cases, &limits), Ok(()));
        let mut bad = cases.clone();
        bad.cases.push(TestCase {
            input: json!({"foo": 1}),
            ..good("three")
        });
        let problem = validate(Hook::Pricing, &bad, &limits).expect_err("bad input");
        assert_eq!(problem.index, Some(2), "{problem}");
        let twice = TestCases {
            cases: vec![good("one"), good("one")],
        };
        assert_eq!(
            validate(Hook::Pricing, &twice, &limits).map_err(|p| p.index),
            Err(Some(1))
        );
        let many = TestCases {
            cases: (0..=MAX_CASES).map(|i| good(&i.to_string())).collect(),
        };
        assert_eq!(
            validate(Hook::Pricing, &many, &limits).map_err(|p| p.index),
            Err(None)
        );
    }
}
