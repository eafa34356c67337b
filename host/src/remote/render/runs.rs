//! The text for people of run logs, replays, shadows and receipts.

use std::io::{self, Write};

use serde_json::Value;

use super::log;
use crate::remote::output::{cell, field, indented_json, items, scalar, short, table};

/// `GET /chains/{id}/runs`.
pub fn runs(out: &mut dyn Write, v: &Value) -> io::Result<()> {
    let list = items(v);
    if list.is_empty() {
        writeln!(out, "no runs")?;
    } else {
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|r| {
                vec![
                    field(r, "id"),
                    field(r, "at"),
                    field(r, "hook"),
                    field(r, "function"),
                    short(&field(r, "component_id")),
                    outcome(r),
                    field(r, "fuel_used"),
                    field(r, "duration_us"),
                ]
            })
            .collect();
        table(
            out,
            &[
                "ID",
                "AT",
                "HOOK",
                "FUNCTION",
                "COMPONENT",
                "OUTCOME",
                "FUEL",
                "µS",
            ],
            &rows,
        )?;
    }
    if let Some(cursor) = v.get("next_cursor").and_then(Value::as_str) {
        writeln!(out, "more: --cursor {}", cell(cursor))?;
    }
    Ok(())
}

/// A run's outcome, marked when the binding's canary served it.
fn outcome(r: &Value) -> String {
    let text = field(r, "outcome");
    if r.get("canary").and_then(Value::as_bool) == Some(true) {
        format!("{text} (canary)")
    } else {
        text
    }
}

/// `GET /chains/{id}/runs/{run_id}`.
pub fn run(out: &mut dyn Write, r: &Value) -> io::Result<()> {
    writeln!(out, "run {}", field(r, "id"))?;
    for key in [
        "at",
        "hook",
        "function",
        "component_id",
        "booking_id",
        "notification_id",
        "outcome",
        "canary",
        "error",
        "fuel_used",
        "duration_us",
        "memory_bytes",
    ] {
        if r.get(key).is_some_and(|v| !v.is_null()) {
            writeln!(out, "  {key:<16} {}", field(r, key))?;
        }
    }
    for key in ["input", "output"] {
        writeln!(out, "{key}:")?;
        indented_json(out, r.get(key).unwrap_or(&Value::Null), 2)?;
    }
    log(out, r)
}

/// `POST /chains/{id}/replays` without waiting.
pub fn replay_queued(out: &mut dyn Write, chain: &str, v: &Value) -> io::Result<()> {
    let id = field(v, "id");
    writeln!(out, "replay {id} {}", field(v, "status"))?;
    writeln!(
        out,
        "  see it with: cineflow remote replay-status --chain {chain} {id} --wait"
    )
}

/// `GET /chains/{id}/replays/{replay_id}`.
pub fn replay(out: &mut dyn Write, v: &Value) -> io::Result<()> {
    writeln!(out, "replay {}: {}", field(v, "id"), field(v, "status"))?;
    writeln!(
        out,
        "  component {} on {}",
        field(v, "component_id"),
        field(v, "hook")
    )?;
    if let Some(p) = v.get("progress").filter(|p| p.is_object()) {
        writeln!(
            out,
            "  progress:      {} of {}",
            field(p, "done"),
            field(p, "total")
        )?;
    }
    writeln!(
        out,
        "  runs:          {}  same: {}  changed: {}",
        field(v, "runs"),
        field(v, "same"),
        field(v, "changed")
    )?;
    writeln!(
        out,
        "  newly refused: {}  newly allowed: {}",
        field(v, "newly_refused"),
        field(v, "newly_allowed")
    )?;
    writeln!(out, "  failures:      {}", failures(v.get("failures")))?;
    writeln!(
        out,
        "  revenue:       {} -> {} (minor units)",
        field(v, "revenue_before_minor"),
        field(v, "revenue_after_minor")
    )?;
    writeln!(
        out,
        "  refunds:       {} -> {} (minor units)",
        field(v, "refunds_before_minor"),
        field(v, "refunds_after_minor")
    )?;
    examples(out, v)
}

/// `failures: {kind: n}` as `trap 2, timeout 1`, or `none`.
fn failures(v: Option<&Value>) -> String {
    match v {
        Some(Value::Object(map)) if !map.is_empty() => map
            .iter()
            .map(|(kind, n)| format!("{} {}", cell(kind), scalar(n)))
            .collect::<Vec<_>>()
            .join(", "),
        Some(Value::Object(_)) => "none".to_owned(),
        Some(other) => scalar(other),
        None => "-".to_owned(),
    }
}

/// Longest example value shown on one line.
const EXAMPLE_CHARS: usize = 160;

fn one_line(v: &Value) -> String {
    let text = cell(&v.to_string());
    if text.chars().count() > EXAMPLE_CHARS {
        let mut cut: String = text.chars().take(EXAMPLE_CHARS).collect();
        cut.push('…');
        cut
    } else {
        text
    }
}

fn examples(out: &mut dyn Write, v: &Value) -> io::Result<()> {
    let list = v.get("examples").and_then(Value::as_array);
    let Some(list) = list.filter(|l| !l.is_empty()) else {
        return Ok(());
    };
    writeln!(out, "  examples:")?;
    for e in list {
        // A replay's examples name the recorded run; a shadow's are live calls, not kept.
        match e.get("run_id").and_then(Value::as_str) {
            Some(id) => writeln!(out, "    run {}", cell(id))?,
            None => writeln!(out, "    a live call")?,
        }
        writeln!(
            out,
            "      before: {}",
            one_line(e.get("before").unwrap_or(&Value::Null))
        )?;
        writeln!(
            out,
            "      after:  {}",
            one_line(e.get("after").unwrap_or(&Value::Null))
        )?;
    }
    Ok(())
}

/// `GET /chains/{id}/shadows/{hook}` (and the answer of `PUT`).
pub fn shadow(out: &mut dyn Write, hook: &str, v: &Value) -> io::Result<()> {
    writeln!(
        out,
        "shadow of {} by {}",
        cell(hook),
        field(v, "component_id")
    )?;
    writeln!(out, "  since:    {}", field(v, "since"))?;
    writeln!(out, "  sample:   {}%", field(v, "sample_percent"))?;
    if v.get("runs").is_some() {
        writeln!(
            out,
            "  runs:     {}  same: {}  changed: {}",
            field(v, "runs"),
            field(v, "same"),
            field(v, "changed")
        )?;
        writeln!(out, "  failures: {}", failures(v.get("failures")))?;
        writeln!(
            out,
            "  revenue delta: {} (minor units)",
            field(v, "revenue_delta_minor")
        )?;
    }
    examples(out, v)
}

/// `GET /bookings/{id}/receipt`.
pub fn receipt(out: &mut dyn Write, v: &Value) -> io::Result<()> {
    writeln!(out, "booking {}", field(v, "booking_id"))?;
    let decisions = v
        .get("decisions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if decisions.is_empty() {
        return writeln!(out, "  no component decisions");
    }
    for (i, d) in decisions.iter().enumerate() {
        let canary = if d.get("canary").and_then(Value::as_bool) == Some(true) {
            " (canary)"
        } else {
            ""
        };
        writeln!(
            out,
            "{}. {} {} by {}{canary} at {}",
            i + 1,
            field(d, "hook"),
            field(d, "function"),
            field(d, "component_id"),
            field(d, "at")
        )?;
        writeln!(out, "   input sha256: {}", field(d, "input_sha256"))?;
        writeln!(out, "   input:")?;
        indented_json(out, d.get("input").unwrap_or(&Value::Null), 5)?;
        writeln!(out, "   output:")?;
        indented_json(out, d.get("output").unwrap_or(&Value::Null), 5)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(f: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> String {
        let mut buf = Vec::new();
        f(&mut buf).expect("writes");
        String::from_utf8(buf).expect("utf-8")
    }

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn a_replay_report_shows_every_count_and_its_examples() {
        let v = json!({"id": "r1", "status": "done", "component_id": A, "hook": "pricing",
            "progress": {"done": 40, "total": 40}, "runs": 40, "same": 37, "changed": 3,
            "newly_refused": 1, "newly_allowed": 0, "failures": {"trap": 2},
            "revenue_before_minor": 100000, "revenue_after_minor": 90000,
            "refunds_before_minor": 0, "refunds_after_minor": 500,
            "examples": [{"run_id": "x1", "before": {"ok": {"total_minor": 500}},
                          "after": {"ok": {"total_minor": 400}}}]});
        let t = text(|w| replay(w, &v));
        for expected in [
            "replay r1: done",
            "progress:      40 of 40",
            "runs:          40  same: 37  changed: 3",
            "newly refused: 1  newly allowed: 0",
            "failures:      trap 2",
            "revenue:       100000 -> 90000",
            "refunds:       0 -> 500",
            "run x1",
            r#"before: {"ok":{"total_minor":500}}"#,
            r#"after:  {"ok":{"total_minor":400}}"#,
        ] {
            assert!(t.contains(expected), "{expected:?} in\n{t}");
        }
    }

    #[test]
    fn runs_show_the_next_cursor_and_receipts_each_decision() {
        let v = json!({"items": [{"id": "r", "at": "t", "hook": "pricing", "function": "quote",
                                  "component_id": A, "outcome": "ok", "fuel_used": 3,
                                  "duration_us": 4, "memory_bytes": 5}],
                       "next_cursor": "abc"});
        let t = text(|w| runs(w, &v));
        assert!(t.contains("aaaaaaaaaaaa  ok"), "{t}");
        assert!(t.ends_with("more: --cursor abc\n"), "{t}");

        let receipt_json = json!({"booking_id": "bk", "decisions": [
            {"hook": "pricing", "function": "quote", "component_id": A, "input_sha256": B,
             "input": {"seats": []}, "output": {"ok": {"total_minor": 0}}, "at": "t"}]});
        let t = text(|w| receipt(w, &receipt_json));
        assert!(t.starts_with("booking bk\n1. pricing quote by aaaa"), "{t}");
        assert!(t.contains(&format!("input sha256: {B}")), "{t}");
        assert!(t.contains("\"seats\": []"), "{t}");
    }

    #[test]
    fn shadows_show_their_counts() {
        let v = json!({"component_id": A, "since": "t", "sample_percent": 25, "runs": 10,
                       "same": 9, "changed": 1, "failures": {}, "revenue_delta_minor": -300,
                       "examples": []});
        let t = text(|w| shadow(w, "pricing", &v));
        assert!(t.contains("sample:   25%"), "{t}");
        let with_example = json!({"component_id": A, "examples": [{"before": 1, "after": 2}]});
        let e = text(|w| shadow(w, "pricing", &with_example));
        assert!(
            e.contains("    a live call\n      before: 1\n      after:  2\n"),
            "{e}"
        );
        assert!(t.contains("failures: none"), "{t}");
        assert!(t.contains("revenue delta: -300"), "{t}");
    }
}
