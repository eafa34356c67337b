//! A failed call told to people: [`CallError::report`] and its pieces. The cause comes apart
//! from wasmtime's backtrace (so neither cuts the other), the guest's panic message is read
//! back from its log (a Rust guest's panic hook writes it to stderr before the trap), and
//! long texts are cut at a line or character boundary with a marker saying so.

use std::fmt::Write as _;

use super::CallError;

/// The most of a guest's log a report quotes: its tail, where the panic is.
pub const LOG_IN_REPORT: usize = 2048;

/// Splits a call's error into its cause (every layer of the error but the backtrace, joined
/// with `: `) and the guest's backtrace, one frame a line.
pub(crate) fn split(e: &wasmtime::Error) -> (String, Option<String>) {
    let trace = e
        .downcast_ref::<wasmtime::WasmBacktrace>()
        .map(ToString::to_string);
    let parts: Vec<String> = e
        .chain()
        .map(|c| c.to_string())
        .filter(|part| Some(part) != trace.as_ref())
        .collect();
    let message = if parts.is_empty() {
        e.to_string()
    } else {
        parts.join(": ")
    };
    (
        message,
        trace.as_deref().map(frames).filter(|f| !f.is_empty()),
    )
}

/// The frames of wasmtime's backtrace text without its header and its hint about an
/// environment variable (the host decides about debug info, not the environment). A Rust
/// panic's own machinery (from `abort` up to `panic_fmt`) is left out with a note: the frame
/// after it is the guest's code that panicked.
fn frames(trace: &str) -> String {
    let lines: Vec<&str> = trace
        .lines()
        .filter(|l| !l.starts_with("error while executing at wasm backtrace"))
        .filter(|l| !l.starts_with("note: using the `WASMTIME_BACKTRACE_DETAILS"))
        .map(str::trim_end)
        .collect();
    let machinery = lines.iter().rposition(|l| {
        l.contains("::panicking::panic")
            || l.contains("rust_begin_unwind")
            || l.contains("__rust_start_panic")
    });
    match machinery {
        Some(last) if last + 1 < lines.len() => format!(
            "    (frames 0-{last}: the panic runtime)\n{}",
            lines[last + 1..].join("\n")
        ),
        _ => lines.join("\n"),
    }
}

/// The panic a Rust guest's log records: `panicked at <file:line:col>: <message>`. The std
/// hook writes `thread '<name>' panicked at <location>:` and the message on the next lines.
pub fn panic_in(log: &str) -> Option<String> {
    let mut lines = log.lines();
    let location = lines.by_ref().find_map(|line| {
        // `thread '<unnamed>' panicked at` (older std), `thread '<unnamed>' (1) panicked at`.
        if !line.starts_with("thread '") {
            return None;
        }
        let (_, rest) = line.split_once(" panicked at ")?;
        Some(rest.trim_end().trim_end_matches(':').to_owned())
    })?;
    let message: Vec<&str> = lines
        .take_while(|l| !l.starts_with("note: ") && !l.starts_with("thread '"))
        .collect();
    let message = message.join("\n");
    let message = message.trim();
    Some(if message.is_empty() {
        format!("panicked at {location}")
    } else {
        format!("panicked at {location}: {message}")
    })
}

pub(super) fn render(e: &CallError) -> String {
    let mut out = format!("{} ({}): {}", e.hook, e.kind.as_str(), e.message);
    if let Some(panic) = e.panic() {
        let _ = write!(out, "\nthe component {panic}");
    }
    if let Some(trace) = &e.backtrace {
        let _ = write!(out, "\nwasm backtrace:\n{trace}");
    }
    let log = e.log.trim_end();
    if !log.is_empty() {
        let _ = write!(out, "\nguest log:\n{}", tail(log, LOG_IN_REPORT));
    }
    out
}

/// `text` if it fits in `max` bytes; else its start, cut after the last whole line that fits
/// (or at a character boundary when even the first line does not), and a marker line saying
/// how much was cut. The result is at most `max` bytes plus the marker.
pub fn cap(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let head = &text[..floor_char_boundary(text, max)];
    let head = match head.rfind('\n') {
        Some(end) if end > 0 => &head[..end],
        _ => head,
    };
    format!(
        "{head}\n[… {} more bytes not shown]",
        text.len() - head.len()
    )
}

/// The end of `text` in at most `max` bytes, starting at a line (or character) boundary,
/// with a marker line first when something was left out.
pub fn tail(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    let rest = &text[start..];
    let rest = match rest.find('\n') {
        Some(nl) if nl + 1 < rest.len() => &rest[nl + 1..],
        _ => rest,
    };
    format!(
        "[… {} earlier bytes not shown]\n{rest}",
        text.len() - rest.len()
    )
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::{FailureKind, Hook};

    const LOG: &str = "hostile guest: about to panic\n\
        thread '<unnamed>' panicked at tests/guests/hostile/src/lib.rs:132:17:\n\
        hostile guest panicked on purpose\n\
        note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";

    #[test]
    fn the_panic_is_read_from_the_log() {
        assert_eq!(
            panic_in(LOG).as_deref(),
            Some(
                "panicked at tests/guests/hostile/src/lib.rs:132:17: hostile guest panicked on purpose"
            )
        );
        assert_eq!(panic_in("just a line\n"), None);
        assert_eq!(
            panic_in("thread '<unnamed>' (1) panicked at src/lib.rs:9:5:\nboom\nnote: x\n")
                .as_deref(),
            Some("panicked at src/lib.rs:9:5: boom")
        );
        assert_eq!(
            panic_in("thread 'main' panicked at src/lib.rs:1:1:\n").as_deref(),
            Some("panicked at src/lib.rs:1:1")
        );
    }

    #[test]
    fn a_report_has_the_cause_the_panic_the_trace_and_the_log() {
        let mut e = CallError::new(
            Hook::Pricing,
            "ab".repeat(32),
            FailureKind::Trap,
            "wasm trap: wasm `unreachable` instruction executed".into(),
        );
        e.log = LOG.into();
        e.backtrace = Some("    0:   0x1234 - hostile_guest::quote".into());
        let report = e.report();
        assert!(report.starts_with("pricing (trap): wasm trap"), "{report}");
        assert!(
            report.contains("the component panicked at tests/guests/hostile/src/lib.rs:132:17: hostile guest panicked on purpose"),
            "{report}"
        );
        assert!(report.contains("hostile_guest::quote"), "{report}");
        assert!(
            report.contains("guest log:\nhostile guest: about to panic"),
            "{report}"
        );
    }

    #[test]
    fn the_panic_runtime_frames_are_left_out() {
        let trace = "error while executing at wasm backtrace:\n    0:   0x5a05 - g.wasm!abort\n    \
            1:   0xa0f3 - g.wasm!core[6d9e]::panicking::panic_fmt\n    \
            2:    0xdec - g.wasm!<g::Component as g::Guest>::quote\n";
        assert_eq!(
            frames(trace),
            "    (frames 0-1: the panic runtime)\n    2:    0xdec - g.wasm!<g::Component as g::Guest>::quote"
        );
        assert_eq!(
            frames("    0: 0x1 - g.wasm!spin"),
            "    0: 0x1 - g.wasm!spin"
        );
    }

    #[test]
    fn cap_cuts_at_a_line_or_char_boundary_with_a_marker() {
        assert_eq!(cap("short", 10), "short");
        let text = "line one\nline two\nline three";
        let capped = cap(text, 15);
        assert_eq!(capped, "line one\n[… 20 more bytes not shown]");
        // One long line of multi-byte characters: cut between characters.
        let wide = "é".repeat(100);
        let capped = cap(&wide, 51);
        let (head, marker) = capped.split_once('\n').expect("a marker line");
        assert_eq!(head, "é".repeat(25));
        assert_eq!(marker, "[… 150 more bytes not shown]");
    }

    #[test]
    fn tail_keeps_the_end_from_a_line_boundary() {
        let text = "first line\nsecond line\nthird";
        assert_eq!(tail(text, 100), text);
        assert_eq!(tail(text, 12), "[… 23 earlier bytes not shown]\nthird");
        let wide = "ü".repeat(10);
        let t = tail(&wide, 5);
        assert!(t.ends_with(&"ü".repeat(2)), "{t}");
    }
}
