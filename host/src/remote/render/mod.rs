//! The text for people of each answer, from the server's JSON (field names as in API.md).
//! Pure functions of the JSON, so each is tested without a server; a field a server leaves
//! out shows as `-` rather than failing. Run logs, replays, shadows and receipts are in
//! [`runs`].

mod runs;

pub use runs::{receipt, replay, replay_queued, run, runs, shadow};

use std::io::{self, Write};

use serde_json::Value;

use super::output::{clean, field, indented_json, items, scalar, short, table};

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

/// Who serves a binding: the bound component, or the default (marked) when nothing is bound
/// or the breaker has it serving instead.
fn serving(b: &Value) -> String {
    let id = b.get("component_id").and_then(Value::as_str);
    let bound = b.get("bound_component_id").and_then(Value::as_str);
    let default = b.get("default_component_id").and_then(Value::as_str);
    match id {
        None => "-".to_owned(),
        Some(id) if bound == Some(id) => short(id),
        Some(id) if bound.is_none() || Some(id) == default => format!("{} (default)", short(id)),
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

pub(super) fn log(out: &mut dyn Write, v: &Value) -> io::Result<()> {
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
             "breaker": {"state": "closed"}, "canary": null},
            {"hook": "seat-picker", "component_id": B, "bound_component_id": B,
             "default_component_id": B, "on_failure": "fallback",
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
        // Bound to the same bytes as the default: the binding serves, not the default.
        assert_eq!(
            words(3)[..3],
            ["seat-picker", "bbbbbbbbbbbb", "bbbbbbbbbbbb"],
            "{t}"
        );
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
    fn uploads_say_whether_they_were_new() {
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
