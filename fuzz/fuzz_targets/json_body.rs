//! Every JSON request body: `parse_json` (object check, the `\u0000` guard, serde with
//! field paths). Never panics, refuses with 400/422 only, and nothing it accepts holds a NUL.
#![no_main]

use std::collections::BTreeMap;

use axum::http::StatusCode;
use cineflow::http::ApiError;
use cineflow::http::extract::parse_json;
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use serde_json::Value;

/// A body with the shapes the API's request structs use: required and optional fields,
/// an enum, nesting, numbers of several widths, unknown fields refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Typed {
    name: String,
    count: u32,
    amount_minor: Option<i64>,
    kind: Kind,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    nested: Option<Nested>,
    #[serde(default)]
    extra: BTreeMap<String, Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Kind {
    Standard,
    Premium,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Nested {
    seat_ids: Vec<String>,
    ok: bool,
}

fuzz_target!(|data: &[u8]| {
    match parse_json::<Value>(data) {
        Ok(value) => {
            assert!(value.is_object(), "only objects are accepted");
            assert!(!holds_nul(&value), "a NUL got past the guard: {value}");
        }
        Err(e) => assert_client_error(&e),
    }
    if let Err(e) = parse_json::<Typed>(data) {
        assert_client_error(&e);
    }
});

fn assert_client_error(e: &ApiError) {
    assert!(
        matches!(
            e.status(),
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY
        ),
        "a bad body must be a client error, got {} {}",
        e.status(),
        e.code()
    );
}

/// PostgreSQL text cannot store NUL: no string, key or value, may carry one.
fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        _ => false,
    }
}
