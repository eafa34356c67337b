//! Comparing a candidate's answers with the recorded ones: what a replay and a shadow report.
//! A run is `same` when the candidate answered exactly what was answered, `changed` when it
//! answered something else, and a failure (counted by kind) when it did not answer; so
//! `runs = same + changed + Σ failures`.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::plugins::Hook;
use crate::plugins::invoke::Invocation;
use crate::plugins::registry::failure_name;

/// What the candidate did with one input.
#[derive(Debug, Clone)]
pub enum After {
    /// An answer in the dry-run form (`{"ok": ...}` or `{"err": ...}`).
    Answer(Value),
    /// No answer: the failure's kind (run-log words) and message.
    Failed(&'static str, String),
}

impl After {
    /// The candidate's side of an invocation; an input the candidate's hook cannot read is a
    /// bad input, reported as `unavailable`.
    pub fn of(invocation: Result<Invocation, String>) -> Self {
        match invocation {
            Ok(inv) => match inv.outcome {
                Ok(Ok(v)) => After::Answer(json!({ "ok": v })),
                Ok(Err(reason)) => After::Answer(json!({ "err": reason })),
                Err(e) => After::Failed(failure_name(e.kind), e.message),
            },
            Err(message) => After::Failed("unavailable", message),
        }
    }

    fn to_json(&self) -> Value {
        match self {
            After::Answer(v) => v.clone(),
            After::Failed(kind, message) => {
                json!({ "error": { "kind": kind, "message": message } })
            }
        }
    }
}

/// The running totals of a comparison.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Inputs compared.
    pub runs: i64,
    /// Same answer.
    pub same: i64,
    /// Another answer.
    pub changed: i64,
    /// Answered before, refused now.
    pub newly_refused: i64,
    /// Refused before, answered now.
    pub newly_allowed: i64,
    /// Seat-picker inputs for which other seats were chosen.
    pub seats_changed: i64,
    /// Candidate failures by kind.
    pub failures: BTreeMap<String, i64>,
    /// Quoted totals before (pricing).
    pub revenue_before_minor: i64,
    /// Quoted totals after.
    pub revenue_after_minor: i64,
    /// Refunds before (booking-rules `cancel`).
    pub refunds_before_minor: i64,
    /// Refunds after.
    pub refunds_after_minor: i64,
    /// Up to `max_examples` diffs: `{run_id, before, after}`.
    pub examples: Vec<Value>,
}

impl Tally {
    /// Adds one input: `before` is the recorded answer (`None` when the recorded call
    /// failed), `after` the candidate's.
    pub fn add(
        &mut self,
        (hook, function): (Hook, &str),
        run_id: Option<Uuid>,
        before: Option<&Value>,
        after: &After,
        max_examples: usize,
    ) {
        self.runs += 1;
        let amount = |v: Option<&Value>, field: Option<&str>| -> i64 {
            let ok = v.and_then(|v| v.get("ok"));
            let n = match field {
                Some(f) => ok.and_then(|o| o.get(f)),
                None => ok,
            };
            n.and_then(Value::as_i64).unwrap_or(0)
        };
        let after_value = match after {
            After::Answer(v) => Some(v),
            After::Failed(..) => None,
        };
        match hook {
            Hook::Pricing => {
                self.revenue_before_minor += amount(before, Some("total_minor"));
                self.revenue_after_minor += amount(after_value, Some("total_minor"));
            }
            Hook::BookingRules if function == "cancel" => {
                self.refunds_before_minor += amount(before, None);
                self.refunds_after_minor += amount(after_value, None);
            }
            _ => {}
        }
        let is_ok = |v: Option<&Value>| v.is_some_and(|v| v.get("ok").is_some());
        let is_err = |v: Option<&Value>| v.is_some_and(|v| v.get("err").is_some());
        let differs = match after {
            After::Failed(kind, _) => {
                *self.failures.entry((*kind).to_owned()).or_default() += 1;
                true
            }
            After::Answer(v) if before == Some(v) => {
                self.same += 1;
                false
            }
            After::Answer(_) => {
                self.changed += 1;
                if is_ok(before) && is_err(after_value) {
                    self.newly_refused += 1;
                }
                if is_err(before) && is_ok(after_value) {
                    self.newly_allowed += 1;
                }
                if hook == Hook::SeatPicker {
                    self.seats_changed += 1;
                }
                true
            }
        };
        if differs && self.examples.len() < max_examples {
            let mut example = json!({
                "before": before.cloned().unwrap_or(Value::Null),
                "after": after.to_json(),
            });
            if let (Some(id), Value::Object(map)) = (run_id, &mut example) {
                map.insert("run_id".into(), json!(id));
            }
            self.examples.push(example);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cheaper_quote_changes_revenue_and_a_refusal_is_counted() {
        let mut t = Tally::default();
        let before = json!({"ok": {"items": [], "total_minor": 1000}});
        let cheaper = After::Answer(json!({"ok": {"items": [], "total_minor": 800}}));
        t.add((Hook::Pricing, "quote"), None, Some(&before), &cheaper, 10);
        t.add(
            (Hook::Pricing, "quote"),
            None,
            Some(&before),
            &After::Answer(before.clone()),
            10,
        );
        t.add(
            (Hook::Pricing, "quote"),
            None,
            Some(&before),
            &After::Answer(json!({"err": "no"})),
            10,
        );
        t.add(
            (Hook::Pricing, "quote"),
            None,
            Some(&before),
            &After::Failed("trap", "x".into()),
            10,
        );
        assert_eq!((t.runs, t.same, t.changed, t.newly_refused), (4, 1, 2, 1));
        assert_eq!(t.failures.get("trap"), Some(&1));
        assert_eq!(t.revenue_before_minor, 4000);
        assert_eq!(t.revenue_after_minor, 1800);
        assert_eq!(t.examples.len(), 3);
    }

    #[test]
    fn refunds_count_for_cancel_only() {
        let mut t = Tally::default();
        t.add(
            (Hook::BookingRules, "cancel"),
            None,
            Some(&json!({"ok": 500})),
            &After::Answer(json!({"ok": 250})),
            0,
        );
        t.add(
            (Hook::BookingRules, "check-hold"),
            None,
            Some(&json!({"ok": {"hold_seconds": 5}})),
            &After::Answer(json!({"ok": {"hold_seconds": 5}})),
            0,
        );
        assert_eq!((t.refunds_before_minor, t.refunds_after_minor), (500, 250));
        assert_eq!((t.same, t.changed), (1, 1));
        assert!(t.examples.is_empty());
    }
}
