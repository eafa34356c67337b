//! Extractors that turn every bad input into a problem+json `ApiError`, and the ones that
//! say who is calling and what they may do. Handlers take these instead of axum's own.

use std::collections::BTreeMap;

use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::ApiError;
use crate::db;
use crate::domain::access;
use crate::domain::types::{AccountStatus, Role, User};
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
                "unsupported_media_type",
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
            "payload_too_large",
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
        "validation_failed",
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

/// Query parameters; an unknown or malformed parameter is 400, and so is a parameter whose
/// decoded text PostgreSQL cannot store (a NUL, or bytes that are not UTF-8).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        check_query_text(query)?;
        serde_urlencoded::from_str(query)
            .map(ApiQuery)
            .map_err(|e| ApiError::bad_request(format!("invalid query string: {e}")))
    }
}

/// Path parameters; a malformed id is 400, never 500, and so is a parameter holding a NUL
/// (axum already refuses one that is not UTF-8).
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let path = axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("invalid path: {}", e.body_text())))?;
        let raw = axum::extract::RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("invalid path: {}", e.body_text())))?;
        for (name, value) in &raw {
            check_text(name, value.as_bytes())?;
        }
        Ok(ApiPath(path.0))
    }
}

/// A header the host reads as text: absent, or visible ASCII and spaces (what `HeaderValue`
/// calls a string); anything else (obs-text bytes, which may not be UTF-8) is 400.
pub fn header_text<'a>(
    headers: &'a axum::http::HeaderMap,
    name: &str,
) -> Result<Option<&'a str>, ApiError> {
    headers
        .get(name)
        .map(|v| {
            v.to_str().map_err(|_| {
                ApiError::bad_request(format!("the {name} header must be visible ASCII text"))
            })
        })
        .transpose()
}

/// 400 unless every key and value of `query`, once percent-decoded, is text PostgreSQL can
/// store: serde_urlencoded would pass a NUL through and turn invalid UTF-8 into U+FFFD.
fn check_query_text(query: &str) -> Result<(), ApiError> {
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode(key);
        let name = String::from_utf8_lossy(&key).into_owned();
        check_text(&name, &key)?;
        check_text(&name, &percent_decode(value))?;
    }
    Ok(())
}

/// 400 when `bytes` (the parameter `name`) hold a NUL or are not UTF-8.
fn check_text(name: &str, bytes: &[u8]) -> Result<(), ApiError> {
    let name: String = name.chars().filter(|c| !c.is_control()).take(64).collect();
    if bytes.contains(&0) {
        return Err(ApiError::bad_request(format!(
            "parameter `{name}` contains a NUL character, which no text may hold"
        )));
    }
    if std::str::from_utf8(bytes).is_err() {
        return Err(ApiError::bad_request(format!(
            "parameter `{name}` is not valid UTF-8"
        )));
    }
    Ok(())
}

/// `application/x-www-form-urlencoded` decoding of one key or value: `+` is a space, `%XX` a
/// byte; a `%` not followed by two hex digits stays as it is (as serde_urlencoded does).
fn percent_decode(raw: &str) -> Vec<u8> {
    let bytes = raw.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).and_then(|&b| hex(b)),
                bytes.get(i + 2).and_then(|&b| hex(b)),
            ) {
                (Some(hi), Some(lo)) => {
                    // Two hex digits make one byte: hi * 16 + lo < 256.
                    out.push((hi * 16 + lo) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// The authenticated caller, freshly loaded: a valid token for a user who still exists and
/// whose token version matches. Anything else is 401.
#[derive(Debug, Clone)]
pub struct AuthUser(pub User);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match MaybeAuthUser::from_request_parts(parts, state).await?.0 {
            Some(user) => Ok(user),
            None => Err(unauthorized(
                "authentication required: send Authorization: Bearer <token>",
            )),
        }
    }
}

/// The caller if a token was sent (a bad token is still 401), or nobody.
pub struct MaybeAuthUser(pub Option<AuthUser>);

impl FromRequestParts<AppState> for MaybeAuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(header) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
            return Ok(MaybeAuthUser(None));
        };
        let token = header
            .to_str()
            .ok()
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <token>`"))?;
        let claims = state.auth.verify(token).map_err(|e| {
            tracing::debug!(error = %e, "token rejected");
            unauthorized("the token is invalid or expired")
        })?;
        let mut conn = state.db.acquire().await?;
        let user = db::users::find(&mut conn, claims.sub)
            .await?
            .filter(|u| u.token_version == claims.ver)
            .ok_or_else(|| {
                tracing::debug!(user = %claims.sub, "token revoked or user gone");
                unauthorized("the token is no longer valid")
            })?;
        Ok(MaybeAuthUser(Some(AuthUser(user))))
    }
}

/// An approved admin; anyone else authenticated is 403.
pub struct AdminUser(pub User);

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let AuthUser(user) = AuthUser::from_request_parts(parts, state).await?;
        if access::is_admin(&user) {
            Ok(AdminUser(user))
        } else {
            Err(forbidden("this needs an admin"))
        }
    }
}

/// Chain staff: an approved owner or an admin. A pending or rejected owner is 403, as is a
/// customer. Which chains they may touch is checked per resource with [`require_member`].
pub struct StaffUser(pub User);

impl FromRequestParts<AppState> for StaffUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let AuthUser(user) = AuthUser::from_request_parts(parts, state).await?;
        if access::is_staff(&user) {
            return Ok(StaffUser(user));
        }
        match (user.role, user.status) {
            (Role::Owner, AccountStatus::Pending) => Err(forbidden(
                "your owner account is waiting for an admin's approval",
            )),
            (Role::Owner, _) => Err(forbidden("your owner account was not approved")),
            (Role::Admin, _) => Err(forbidden("your admin account is not approved")),
            _ => Err(forbidden("this needs a theatre chain's staff account")),
        }
    }
}

/// Chain staff may act on `chain_id`: approved admins on every chain that exists, owners on
/// their own. Another chain's resources, and a chain that does not exist, are reported as not
/// found, never as forbidden (and never as an empty list under a chain that is not there).
pub async fn require_member(state: &AppState, user: &User, chain_id: Uuid) -> Result<(), ApiError> {
    let mut conn = state.db.acquire().await?;
    if access::is_admin(user) {
        return match db::chains::find(&mut conn, chain_id).await? {
            Some(_) => Ok(()),
            None => Err(ApiError::not_found("no such chain")),
        };
    }
    if db::chains::is_member(&mut conn, chain_id, user.id).await? {
        Ok(())
    } else {
        Err(ApiError::not_found("no such resource"))
    }
}

fn unauthorized(detail: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
}

fn forbidden(detail: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_text_refuses_nul_and_invalid_utf8_wherever_it_is() {
        for ok in [
            "",
            "q=abc",
            "q=caf%C3%A9&limit=5",
            "q=a+b%20c",
            "q=100%",
            "q=%zz",
            "&&q=",
        ] {
            assert!(check_query_text(ok).is_ok(), "{ok}");
        }
        for bad in [
            "q=%00",
            "q=a%00b",
            "%00=x",
            "limit=5&city=%00",
            "q=%FF",
            "q=%C3",
            "q=%c3%28",
        ] {
            let err = check_query_text(bad).expect_err(bad);
            assert_eq!(err.code(), "bad_request", "{bad}");
        }
    }

    #[test]
    fn percent_decoding_matches_form_urlencoding() {
        assert_eq!(percent_decode("a+b%20c%2B"), b"a b c+");
        assert_eq!(percent_decode("%"), b"%");
        assert_eq!(percent_decode("%4"), b"%4");
        assert_eq!(percent_decode("%41%4a%4A"), b"AJJ");
    }
}
