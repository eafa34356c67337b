//! The text for people of each answer, from the server's JSON (field names as in API.md).
//! Pure functions of the JSON, so each is tested without a server; a field a server leaves
//! out shows as `-` rather than failing.

use std::io::{self, Write};

use serde_json::Value;

use super::output::{cell, clean, field, indented_json, items, scalar, short, table};

/// `GET /chains` (the caller's).
pub fn chains(out: &mut dyn Write, chains: &[Value]) -> io::Result<()> {
    if chains.is_empty() {
        return writeln!(out, "no chains");
    }
    let rows: Vec<Vec<String>> = chains
        .iter()
        .map(|c| {
            vec![
                field(c, "id"),
                field(c, "name"),
                field(c, "currency"),
                field(c, "timezone"),
            ]
        })
        .collect();
    table(out, &["ID", "NAME", "CURRENCY", "TIMEZONE"], &rows)
}

/// `POST /chains/{id}/components`: 201 new, 200 already stored.
pub fn uploaded(out: &mut dyn Write, status: u16, v: &Value) -> io::Result<()> {
    let what = if status == 201 {
        "uploaded"
    } else {
        "already stored"
    };
    writeln!(
        out,
        "{what} {} component {}",
        field(v, "hook"),
        field(v, "id")
    )?;
    writeln!(out, "  size:     {} bytes", field(v, "size_bytes"))?;
    let fixtures = v.get("fixtures").unwrap_or(&Value::Null);
    writeln!(
        out,
        "  fixtures: {} passed, most fuel {}",
        field(fixtures, "passed"),
        field(fixtures, "fuel_max")
    )?;
    writeln!(out, "  bound:    {}", yes_no(v.get("bound")))
}

/// `GET /chains/{id}/components`.
pub fn components(out: &mut dyn Write, v: &Value) -> io::Result<()> {
    let list = items(v);
    if list.is_empty() {
        return writeln!(out, "no components");
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|c| {
            let fixtures = c.get("fixtures").unwrap_or(&Value::Null);
            vec![
                field(c, "id"),
                field(c, "hook"),
                field(c, "size_bytes"),
                field(c, "uploaded_at"),
                field(fixtures, "passed"),
                yes_no(c.get("bound")).to_owned(),
            ]
        })
        .collect();
    table(
        out,
        &["ID", "HOOK", "BYTES", "UPLOADED", "FIXTURES", "BOUND"],
        &rows,
    )
}

fn yes_no(v: Option<&Value>) -> &'static str {
    match v.and_then(Value::as_bool) {
        Some(true) => "yes",
        Some(false) => "no",
        None => "-",
    }
}

/// Who serves a binding: the bound component, or the default (marked).
fn serving(b: &Value) -> String {
    let id = b.get("component_id").and_then(Value::as_str);
    let default = b.get("default_component_id").and_then(Value::as_str);
    match id {
        None => "-".to_owned(),
        Some(id)
            if b.get("bound_component_id").is_none_or(Value::is_null) || Some(id) == default =>
        {
            format!("{} (default)", short(id))
        }
        Some(id) => short(id),
    }
}

fn canary_text(b: &Value) -> String {
    match b.get("canary") {
        Some(c) if c.is_object() => {
            let mut text = format!(
                "{} {}%",
                short(&field(c, "component_id")),
                field(c, "percent")
            );
            if c.get("calls").is_some() {
                text.push_str(&format!(
                    " ({} calls, {} failures)",
                    field(c, "calls"),
                    field(c, "failures")
                ));
            }
            text
        }
        _ => "-".to_owned(),
    }
}

fn breaker_text(b: &Value) -> String {
    match b.get("breaker") {
        Some(Value::Object(_)) => field(b.get("breaker").unwrap_or(&Value::Null), "state"),
        Some(other) => scalar(other),
        None => "-".to_owned(),
    }
}

/// `GET /chains/{id}/bindings`.
pub fn bindings(out: &mut dyn Write, v: &Value) -> io::Result<()> {
    let rows: Vec<Vec<String>> = items(v)
        .iter()
        .map(|b| {
            vec![
                field(b, "hook"),
                serving(b),
                b.get("bound_component_id")
                    .and_then(Value::as_str)
                    .map(short)
                    .unwrap_or_else(|| "-".to_owned()),
                field(b, "on_failure"),
                breaker_text(b),
                canary_text(b),
            ]
        })
        .collect();
    table(
        out,
        &[
            "HOOK",
            "SERVING",
            "BOUND",
            "ON_FAILURE",
            "BREAKER",
            "CANARY",
        ],
        &rows,
    )
}

/// One binding (`PUT /chains/{id}/bindings/{hook}`).
pub fn binding(out: &mut dyn Write, b: &Value) -> io::Result<()> {
    writeln!(
        out,
        "{} bound to {}",
        field(b, "hook"),
        field(b, "bound_component_id")
    )?;
    writeln!(out, "  on failure: {}", field(b, "on_failure"))?;
    writeln!(out, "  breaker:    {}", breaker_text(b))?;
    writeln!(out, "  canary:     {}", canary_text(b))?;
    writeln!(out, "  bound at:   {}", field(b, "bound_at"))
}

/// `POST /chains/{id}/components/{component_id}/invoke`.
pub fn dry_run(out: &mut dyn Write, v: &Value) -> io::Result<()> {
    match v.get("error") {
        Some(error) if !error.is_null() => writeln!(
            out,
            "failed: {}: {}",
            field(error, "kind"),
            field(error, "message")
        )?,
        _ => {
            writeln!(out, "output:")?;
            indented_json(out, v.get("output").unwrap_or(&Value::Null), 2)?;
        }
    }
    writeln!(
        out,
        "fuel: {}  time: {} µs  memory: {} bytes",
        field(v, "fuel_used"),
        field(v, "duration_us"),
        field(v, "memory_bytes")
    )?;
    log(out, v)
}

fn log(out: &mut dyn Write, v: &Value) -> io::Result<()> {
    let text = v.get("log").and_then(Value::as_str).unwrap_or("");
    if text.is_empty() {
        return Ok(());
    }
    writeln!(out, "log:")?;
    for line in clean(text).lines() {
        writeln!(out, "  {line}")?;
    }
    Ok(())
}

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
                    field(r, "outcome"),
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
        writeln!(out, "    run {}", field(e, "run_id"))?;
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
        writeln!(
            out,
            "{}. {} {} by {} at {}",
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
    fn bindings_mark_the_default_and_show_a_canary() {
        let v = json!({"items": [
            {"hook": "pricing", "component_id": A, "bound_component_id": A,
             "default_component_id": B, "on_failure": "reject",
             "breaker": {"state": "closed", "tripped_at": null, "reason": null},
             "canary": {"component_id": B, "percent": 10, "since": "2026-12-01T00:00:00Z",
                        "calls": 7, "failures": 1, "breaker": {"state": "closed"}}},
            {"hook": "booking-rules", "component_id": B, "bound_component_id": null,
             "default_component_id": B, "on_failure": "reject",
             "breaker": {"state": "closed"}, "canary": null}
        ], "next_cursor": null});
        let t = text(|w| bindings(w, &v));
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("HOOK"), "{t}");
        let words = |i: usize| lines[i].split_whitespace().collect::<Vec<_>>();
        assert_eq!(
            words(1)[..6],
            [
                "pricing",
                "aaaaaaaaaaaa",
                "aaaaaaaaaaaa",
                "reject",
                "closed",
                "bbbbbbbbbbbb"
            ],
            "{t}"
        );
        assert!(
            lines[1].ends_with("bbbbbbbbbbbb 10% (7 calls, 1 failures)"),
            "{t}"
        );
        assert_eq!(
            words(2)[..3],
            ["booking-rules", "bbbbbbbbbbbb", "(default)"],
            "{t}"
        );
        assert!(lines[2].ends_with('-'), "{t}");
    }

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
    fn a_failed_dry_run_says_why_and_a_good_one_shows_the_output() {
        let failed = json!({"output": null, "error": {"kind": "out_of_fuel", "message": "all fuel used"},
                            "fuel_used": 50, "duration_us": 9, "memory_bytes": 65536, "log": "a\nb"});
        let t = text(|w| dry_run(w, &failed));
        assert!(t.starts_with("failed: out_of_fuel: all fuel used\n"), "{t}");
        assert!(
            t.contains("fuel: 50  time: 9 µs  memory: 65536 bytes"),
            "{t}"
        );
        assert!(t.ends_with("log:\n  a\n  b\n"), "{t}");

        let ok = json!({"output": {"ok": {"total_minor": 5}}, "error": null,
                        "fuel_used": 1, "duration_us": 1, "memory_bytes": 1, "log": ""});
        let t = text(|w| dry_run(w, &ok));
        assert!(t.starts_with("output:\n  {\n    \"ok\": {"), "{t}");
        assert!(!t.contains("log:"), "{t}");
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
    fn shadows_and_uploads() {
        let v = json!({"component_id": A, "since": "t", "sample_percent": 25, "runs": 10,
                       "same": 9, "changed": 1, "failures": {}, "revenue_delta_minor": -300,
                       "examples": []});
        let t = text(|w| shadow(w, "pricing", &v));
        assert!(t.contains("sample:   25%"), "{t}");
        assert!(t.contains("failures: none"), "{t}");
        assert!(t.contains("revenue delta: -300"), "{t}");

        let up = json!({"id": A, "hook": "pricing", "size_bytes": 100,
                        "fixtures": {"passed": 5, "fuel_max": 1234}, "bound": false});
        let t = text(|w| uploaded(w, 201, &up));
        assert!(
            t.starts_with(&format!("uploaded pricing component {A}\n")),
            "{t}"
        );
        assert!(t.contains("fixtures: 5 passed, most fuel 1234"), "{t}");
        assert!(text(|w| uploaded(w, 200, &up)).starts_with("already stored"));
    }
}
