//! Writing answers for people: aligned tables, fields of the server's JSON, and text cleaned
//! of terminal control sequences (a server, or whoever wrote a component's log, must not be
//! able to move the cursor or retitle the terminal of the person reading).
//!
//! Everything is written with `writeln!` into a `Write` and the error returned, so that a
//! closed pipe (`| head`) ends the command quietly instead of a panic in `println!`.

use std::io::Write;

use serde_json::Value;

/// `s` with every control character but newline and tab replaced by U+FFFD.
pub fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

/// `s` cleaned and on one line (newlines and tabs become spaces): for table cells.
pub fn cell(s: &str) -> String {
    clean(s).replace(['\n', '\t'], " ")
}

/// A field of a JSON object as cell text: `-` when absent or null.
pub fn field(v: &Value, key: &str) -> String {
    scalar(v.get(key).unwrap_or(&Value::Null))
}

/// A JSON value as cell text: strings bare, null as `-`, others compact.
pub fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "-".to_owned(),
        Value::String(s) => cell(s),
        other => cell(&other.to_string()),
    }
}

/// The first 12 hex digits of a component id (a sha256), as `git` shortens commits.
pub fn short(id: &str) -> String {
    cell(&id.chars().take(12).collect::<String>())
}

/// `v` pretty-printed, then a newline (`--json`).
pub fn json(out: &mut dyn Write, v: &Value) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(v).map_err(std::io::Error::other)?;
    writeln!(out, "{text}")
}

/// `v` pretty-printed and cleaned, each line indented by `indent` spaces.
pub fn indented_json(out: &mut dyn Write, v: &Value, indent: usize) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(v).map_err(std::io::Error::other)?;
    for line in clean(&text).lines() {
        writeln!(out, "{:indent$}{line}", "")?;
    }
    Ok(())
}

/// An aligned table: a header row, then one row per item; the last column is not padded.
pub fn table(out: &mut dyn Write, headers: &[&str], rows: &[Vec<String>]) -> std::io::Result<()> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, c) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        let mut text = String::new();
        for (i, c) in cells.into_iter().enumerate() {
            if i == last {
                text.push_str(c);
            } else {
                let pad = widths.get(i).copied().unwrap_or(0);
                text.push_str(&format!("{c:<pad$}  "));
            }
        }
        text.trim_end().to_owned()
    };
    writeln!(out, "{}", line(headers.to_vec()))?;
    for row in rows {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}

/// The `items` of a list answer (empty when absent).
pub fn items(v: &Value) -> &[Value] {
    v.get("items")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> String {
        let mut buf = Vec::new();
        f(&mut buf).expect("writes");
        String::from_utf8(buf).expect("utf-8")
    }

    #[test]
    fn tables_align_their_columns() {
        let rows = vec![
            vec!["pricing".to_owned(), "abc".to_owned(), "x".to_owned()],
            vec!["booking-rules".to_owned(), "-".to_owned(), "y".to_owned()],
        ];
        assert_eq!(
            text(|w| table(w, &["HOOK", "ID", "NOTE"], &rows)),
            "HOOK           ID   NOTE\npricing        abc  x\nbooking-rules  -    y\n"
        );
    }

    #[test]
    fn fields_render_null_as_a_dash_and_are_cleaned() {
        let v = json!({"a": null, "b": "x\u{1b}[31my\nz", "c": 5});
        assert_eq!(field(&v, "a"), "-");
        assert_eq!(field(&v, "missing"), "-");
        assert_eq!(field(&v, "b"), "x\u{fffd}[31my z");
        assert_eq!(field(&v, "c"), "5");
        assert_eq!(short(&"ab".repeat(32)), "abababababab");
    }

    #[test]
    fn a_closed_pipe_surfaces_as_an_error_not_a_panic() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let err = json(&mut Closed, &json!({"a": 1})).expect_err("fails");
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
    }
}
