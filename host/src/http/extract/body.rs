//! Bodies: JSON objects parsed the way the contract classifies their errors (400 for syntax,
//! unknown fields and wrong types; 422 with the field's path for a missing field or a value
//! outside an enum), and the collection of field problems into one 422.

use crate::http::code::Code;
use std::collections::BTreeMap;

use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::http::ApiError;
use crate::state::AppState;

/// A JSON body. Syntax errors, unknown fields and wrong types are 400 `bad_request`; a
/// missing field or a value outside an enum is 422 `validation_failed` with the field's path.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json") || v.contains("+json"));
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Code::UnsupportedMediaType,
                "expected a JSON body with Content-Type: application/json",
            ));
        }
        let body = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        parse_json(&body).map(ApiJson)
    }
}

/// A JSON body that may be empty (`{}` or nothing at all).
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default> FromRequest<AppState> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let body = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        parse_json(&body).map(OptionalJson)
    }
}

fn body_rejection(e: BytesRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            Code::PayloadTooLarge,
            "the request body is too large",
        )
    } else {
        ApiError::bad_request(e.body_text())
    }
}

/// True when the JSON text escapes a NUL character (`\u0000`): the escape's backslash is not
/// itself escaped (an odd run of backslashes). A raw NUL byte is not valid JSON anyway.
fn has_nul_escape(body: &[u8]) -> bool {
    body.windows(6).enumerate().any(|(i, w)| {
        w[0] == b'\\'
            && w[1] == b'u'
            && &w[2..] == b"0000"
            && body[..i].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 0
    })
}

/// Parses a JSON object body, classifying serde's errors the way the contract asks. Every
/// body of this API is an object; an array would otherwise fill a struct's fields by position.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {}
        Some(_) => return Err(ApiError::bad_request("the body must be a JSON object")),
        None => {
            return Err(ApiError::bad_request(
                "the body is empty; send a JSON object",
            ));
        }
    }
    if has_nul_escape(body) {
        // PostgreSQL text cannot hold NUL; refuse it here rather than fail in the database.
        return Err(ApiError::bad_request(
            "strings may not contain NUL characters (\\u0000)",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(value) => {
            de.end()
                .map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))?;
            Ok(value)
        }
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let message = inner.to_string();
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_owned();
            if inner.is_data()
                && (message.starts_with("missing field")
                    || message.starts_with("unknown variant")
                    || message.starts_with("invalid value"))
            {
                let field = if path == "." {
                    message.split('`').nth(1).unwrap_or("body").to_owned()
                } else if message.starts_with("missing field") {
                    format!("{path}.{}", message.split('`').nth(1).unwrap_or(""))
                } else {
                    path
                };
                Err(validation([(field, message)]))
            } else if inner.is_data() {
                let at = if path == "." {
                    String::new()
                } else {
                    format!(" at `{path}`")
                };
                Err(ApiError::bad_request(format!("{message}{at}")))
            } else {
                Err(ApiError::bad_request(format!("malformed JSON: {message}")))
            }
        }
    }
}

/// 422 `validation_failed` with messages per field.
pub fn validation<I, K, V>(errors: I) -> ApiError
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<String>,
{
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in errors {
        map.entry(k.into()).or_default().push(v.into());
    }
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        Code::ValidationFailed,
        "the request has invalid fields",
    )
    .with_errors(map)
}

/// Collects field errors while a request is turned into a domain command.
#[derive(Default)]
pub struct Problems(Vec<(String, String)>);

impl Problems {
    /// Records a problem with `field`.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push((field.into(), message.into()));
    }

    /// Keeps the value of `result`, or records its error against `field`.
    pub fn check<T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        result: Result<T, E>,
    ) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e.to_string());
                None
            }
        }
    }

    /// `Ok` when nothing was recorded, else 422 with every problem.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(validation(self.0))
        }
    }
}
