//! `Idempotency-Key` for writes that hold seats or move money: the first response to a
//! (user, key) is stored in PostgreSQL and replayed for 24 h, on every replica.

use std::future::Future;

use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::ApiError;
use crate::domain::DomainError;
use crate::domain::idempotency::Claim;
use crate::state::AppState;

/// The `Idempotency-Key` header, if sent: 1 to [`MAX_KEY_LEN`] visible ASCII characters.
pub struct IdempotencyKey(pub Option<String>);

/// Longest `Idempotency-Key`.
pub const MAX_KEY_LEN: usize = 255;

/// The header's schema in the OpenAPI document: what [`IdempotencyKey`] accepts.
pub(crate) fn key_schema() -> utoipa::openapi::schema::Object {
    super::schema::text(1, MAX_KEY_LEN)
        .pattern(Some(format!("^[!-~]{{1,{MAX_KEY_LEN}}}$")))
        .description(Some(format!(
            "1 to {MAX_KEY_LEN} visible ASCII characters; anything else is 400"
        )))
        .build()
}

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        // Text only (no NUL, no bytes that are not UTF-8): the key is stored in PostgreSQL.
        let Some(raw) = super::extract::header_text(&parts.headers, "idempotency-key")? else {
            return Ok(IdempotencyKey(None));
        };
        let key = Some(raw.trim())
            .filter(|k| {
                (1..=MAX_KEY_LEN).contains(&k.len()) && k.chars().all(|c| c.is_ascii_graphic())
            })
            .ok_or_else(|| {
                ApiError::bad_request("Idempotency-Key must be 1 to 255 visible ASCII characters")
            })?;
        Ok(IdempotencyKey(Some(key.to_owned())))
    }
}

/// Runs `work` once per (user, key): a repeat gets the stored response, a repeat while the
/// first is still running gets 409 `idempotency_conflict`. Server errors are not stored, so
/// the client may retry them with the same key.
pub async fn run<F, Fut>(
    state: &AppState,
    user: Uuid,
    key: IdempotencyKey,
    request: &str,
    work: F,
) -> Result<Response, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(StatusCode, serde_json::Value), ApiError>>,
{
    let Some(key) = key.0 else {
        let (status, body) = work().await?;
        return Ok((status, Json(body)).into_response());
    };
    // Only a digest of the request is kept (it may contain a card token).
    let fingerprint = crate::plugins::sha256_hex(request.as_bytes());
    let store = &state.idempotency;
    match store.claim(user, &key, &fingerprint).await? {
        Claim::Fresh => {}
        Claim::Replay { status, body } => return Ok(replay(status, body)),
        Claim::Mismatch => {
            return Err(DomainError::IdempotencyKeyReused(
                "this Idempotency-Key was used for a different request (other seats, amount or path)"
                    .into(),
            )
            .into());
        }
        Claim::InFlight => return Err(DomainError::IdempotencyConflict.into()),
    }
    let outcome = work().await;
    match outcome {
        Ok((status, body)) => {
            store.complete(user, &key, status.as_u16(), &body).await?;
            Ok((status, Json(body)).into_response())
        }
        Err(e) if e.status().is_server_error() => {
            store.release(user, &key).await?;
            Err(e)
        }
        Err(e) => {
            let status = e.status();
            let response = e.into_response();
            let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024)
                .await
                .unwrap_or_default();
            let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            store.complete(user, &key, status.as_u16(), &body).await?;
            Ok(replay(status.as_u16(), body).into_response())
        }
    }
}

fn replay(status: u16, body: serde_json::Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, Json(body)).into_response();
    if status.is_client_error() || status.is_server_error() {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
    }
    response
}
