//! `ApiError`: every failure of the HTTP layer, rendered as RFC 9457 problem details with a
//! stable machine-readable `code`. Internal causes are logged, never shown.

use crate::http::code::Code;
use std::collections::BTreeMap;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// Problem details (RFC 9457) as sent to clients.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `urn:cineflow:problem:<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short summary of the problem type.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What happened in this case.
    pub detail: String,
    /// Stable machine-readable code, e.g. `not_found`, `validation_failed`.
    pub code: String,
    /// For validation errors: messages per field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<BTreeMap<String, Vec<String>>>,
}

/// An error to answer a request with (boxed: it travels in every handler's `Result`).
#[derive(Debug)]
pub struct ApiError(Box<Details>);

#[derive(Debug)]
struct Details {
    status: StatusCode,
    code: Code,
    detail: String,
    errors: Option<BTreeMap<String, Vec<String>>>,
    retry_after: Option<u64>,
    extra: Option<(&'static str, serde_json::Value)>,
}

impl ApiError {
    /// An error with a status, code and detail.
    pub fn new(status: StatusCode, code: Code, detail: impl Into<String>) -> Self {
        Self(Box::new(Details {
            status,
            code,
            detail: detail.into(),
            errors: None,
            retry_after: None,
            extra: None,
        }))
    }

    /// 429 `rate_limited` with `Retry-After`.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            Code::RateLimited,
            "too many attempts; retry later",
        );
        e.0.retry_after = Some(retry_after_secs.max(1));
        e
    }

    /// Sets `Retry-After` (seconds, at least 1).
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.0.retry_after = Some(secs.max(1));
        self
    }

    /// Adds a top-level member to the problem (e.g. `"seats": [...]`).
    pub fn with_extra(mut self, key: &'static str, value: serde_json::Value) -> Self {
        self.0.extra = Some((key, value));
        self
    }

    /// 404 `not_found`.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, Code::NotFound, detail)
    }

    /// 400 `bad_request`.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Code::BadRequest, detail)
    }

    /// 503 `unavailable`.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, Code::Unavailable, detail)
    }

    /// 503 `database_unavailable` with `Retry-After`: the database cannot serve right now
    /// (down, restarting, or no free connection within `CINEFLOW_DB_ACQUIRE_TIMEOUT_MS`).
    pub fn database_unavailable(detail: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            Code::DatabaseUnavailable,
            detail,
        );
        e.0.retry_after = Some(DATABASE_RETRY_AFTER_SECS);
        e
    }

    /// 503 `plugin_busy` with `Retry-After`: the chain is over its fair share of this
    /// replica's component slots or fuel; other chains are not affected.
    pub fn plugin_busy(detail: impl Into<String>, retry_after: std::time::Duration) -> Self {
        let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, Code::PluginBusy, detail);
        // Whole seconds, rounded up: a client must not come back before the share refills.
        e.0.retry_after = Some(retry_after.as_millis().div_ceil(1000).max(1) as u64);
        e
    }

    /// 500 `internal`: logs `cause` and shows nothing of it.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            Code::Internal,
            "an unexpected error occurred; it has been logged",
        )
    }

    /// Adds per-field messages.
    pub fn with_errors(mut self, errors: BTreeMap<String, Vec<String>>) -> Self {
        self.0.errors = Some(errors);
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.0.code.as_str()
    }
}

impl ApiError {
    /// The problem document's JSON, for answers written below axum (`http::conn`).
    pub fn problem_json(self) -> Vec<u8> {
        serde_json::to_vec(&self.into_problem().1).unwrap_or_default()
    }

    fn into_problem(self) -> (Details, serde_json::Value) {
        let mut this = *self.0;
        let title = this.status.canonical_reason().unwrap_or("Error").to_owned();
        let body = Problem {
            type_uri: format!("urn:cineflow:problem:{}", this.code),
            title,
            status: this.status.as_u16(),
            detail: std::mem::take(&mut this.detail),
            code: this.code.as_str().to_owned(),
            errors: this.errors.take(),
        };
        let mut value = serde_json::to_value(&body).unwrap_or_default();
        if let (Some((key, extra)), Some(map)) = (this.extra.take(), value.as_object_mut()) {
            map.insert(key.to_owned(), extra);
        }
        (this, value)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (this, value) = self.into_problem();
        let mut response = (this.status, Json(value)).into_response();
        if let Some(secs) = this.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

/// `Retry-After` of a `busy` answer: a password-hashing slot frees within tens of
/// milliseconds.
const HASHING_RETRY_AFTER_SECS: u64 = 1;

/// `Retry-After` of a `database_unavailable` answer: a restart takes seconds, and the pool
/// reconnects on the next request by itself.
const DATABASE_RETRY_AFTER_SECS: u64 = 2;

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        if crate::domain::error::is_database_unavailable(&e) {
            tracing::warn!(error = %e, "database unavailable");
            return Self::database_unavailable("the database is unavailable; retry shortly");
        }
        Self::internal(e)
    }
}

/// Turns error responses produced outside our handlers (a body over the limit, a timeout,
/// axum's own rejections) into problem+json, so that every failure has the same shape and a
/// stable `code`. Responses that already are problem+json pass through untouched.
pub async fn problem_for_bare_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let code = match status {
        StatusCode::BAD_REQUEST => Code::BadRequest,
        StatusCode::UNAUTHORIZED => Code::Unauthorized,
        StatusCode::FORBIDDEN => Code::Forbidden,
        StatusCode::NOT_FOUND => Code::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => Code::MethodNotAllowed,
        StatusCode::REQUEST_TIMEOUT => Code::RequestTimeout,
        StatusCode::CONFLICT => Code::Conflict,
        StatusCode::PAYLOAD_TOO_LARGE => Code::PayloadTooLarge,
        StatusCode::URI_TOO_LONG => Code::UriTooLong,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => Code::HeadersTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Code::UnsupportedMediaType,
        StatusCode::UNPROCESSABLE_ENTITY => Code::ValidationFailed,
        StatusCode::TOO_MANY_REQUESTS => Code::RateLimited,
        StatusCode::SERVICE_UNAVAILABLE => Code::Unavailable,
        s if s.is_server_error() => Code::Internal,
        _ => Code::BadRequest,
    };
    let (parts, body) = response.into_parts();
    let detail = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "the request body is too large".to_owned(),
        StatusCode::SERVICE_UNAVAILABLE => {
            "the request could not be completed in time; retry shortly".to_owned()
        }
        s if s.is_server_error() => "an unexpected error occurred".to_owned(),
        // axum's rejection texts describe the client's mistake and contain nothing internal.
        _ => {
            let body = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
            let text = String::from_utf8_lossy(&body).trim().to_owned();
            if text.is_empty() {
                status.canonical_reason().unwrap_or("error").to_owned()
            } else {
                text
            }
        }
    };
    let mut problem = ApiError::new(status, code, detail).into_response();
    if let Some(retry) = parts.headers.get(header::RETRY_AFTER).cloned() {
        problem.headers_mut().insert(header::RETRY_AFTER, retry);
    }
    problem
}

/// Every domain refusal's status and stable `code`, in one place.
impl From<crate::domain::DomainError> for ApiError {
    fn from(e: crate::domain::DomainError) -> Self {
        use crate::domain::DomainError as E;
        let detail = e.to_string();
        match e {
            E::NotFound(m) => ApiError::not_found(m),
            E::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, Code::Forbidden, m),
            E::Invalid(fields) => super::extract::validation(fields),
            E::ShowClosed => ApiError::new(StatusCode::CONFLICT, Code::ShowClosed, detail),
            E::SeatsAvailable => ApiError::new(StatusCode::CONFLICT, Code::SeatsAvailable, detail),
            E::AlreadyWaiting => ApiError::new(StatusCode::CONFLICT, Code::AlreadyWaiting, detail),
            E::SeatUnavailable(seats) => {
                ApiError::new(StatusCode::CONFLICT, Code::SeatUnavailable, detail)
                    .with_extra("seats", serde_json::json!(seats))
            }
            E::NoSeatsFit(reason) => {
                ApiError::new(StatusCode::CONFLICT, Code::SeatUnavailable, reason)
                    .with_extra("seats", serde_json::json!([]))
            }
            E::RuleViolation(reason) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                Code::RuleViolation,
                reason,
            ),
            E::PluginUnavailable(m) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, Code::PluginUnavailable, m)
            }
            E::PluginBusy {
                message,
                retry_after,
            } => ApiError::plugin_busy(message, retry_after),
            E::AmountMismatch(m) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, Code::AmountMismatch, m)
            }
            E::HoldExpired => ApiError::new(StatusCode::GONE, Code::HoldExpired, detail),
            E::AlreadyPaid => ApiError::new(StatusCode::CONFLICT, Code::AlreadyPaid, detail),
            E::InvalidState(m) => ApiError::new(StatusCode::CONFLICT, Code::InvalidState, m),
            E::PaymentDeclined => {
                ApiError::new(StatusCode::PAYMENT_REQUIRED, Code::PaymentDeclined, detail)
            }
            E::PaymentUnavailable(m) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, Code::PaymentUnavailable, m)
            }
            E::Overloaded(m) => ApiError::unavailable(m),
            E::GiftCardInvalid(m) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, Code::GiftCardInvalid, m)
            }
            E::ScreenBusy => ApiError::new(StatusCode::CONFLICT, Code::ScreenBusy, detail),
            E::MovieNotShowing => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                Code::MovieNotShowing,
                detail,
            ),
            E::ScreenNameTaken => {
                ApiError::new(StatusCode::CONFLICT, Code::ScreenNameTaken, detail)
            }
            E::InUse(m) => ApiError::new(StatusCode::CONFLICT, Code::InUse, m),
            E::Unauthenticated(m) => ApiError::new(StatusCode::UNAUTHORIZED, Code::Unauthorized, m),
            E::InvalidCredentials => {
                ApiError::new(StatusCode::UNAUTHORIZED, Code::InvalidCredentials, detail)
            }
            E::AccountRejected => {
                ApiError::new(StatusCode::FORBIDDEN, Code::AccountRejected, detail)
            }
            E::WrongPassword => ApiError::new(StatusCode::FORBIDDEN, Code::WrongPassword, detail),
            E::EmailTaken => ApiError::new(StatusCode::CONFLICT, Code::EmailTaken, detail),
            E::LastAdmin => ApiError::new(StatusCode::CONFLICT, Code::LastAdmin, detail),
            E::ChainNameTaken => ApiError::new(StatusCode::CONFLICT, Code::ChainNameTaken, detail),
            E::RateLimited { retry_after_secs } => ApiError::rate_limited(retry_after_secs),
            E::HashingBusy => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, Code::Busy, detail)
                .with_retry_after(HASHING_RETRY_AFTER_SECS),
            E::IdempotencyKeyReused(m) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                Code::IdempotencyKeyReused,
                m,
            ),
            E::IdempotencyConflict => {
                ApiError::new(StatusCode::CONFLICT, Code::IdempotencyConflict, detail)
            }
            E::InvalidComponent(m) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, Code::InvalidComponent, m)
            }
            E::ComponentTooLarge { .. } => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                Code::ComponentTooLarge,
                detail,
            ),
            E::QuotaExceeded(m) => ApiError::new(StatusCode::CONFLICT, Code::QuotaExceeded, m),
            E::UrlNotAllowed(m) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, Code::UrlNotAllowed, m)
            }
            E::Voucher(refusal) => {
                use crate::domain::vouchers::VoucherRefusal as R;
                let code = match refusal {
                    R::Unknown(_) => Code::VoucherUnknown,
                    R::Exhausted(_) => Code::VoucherExhausted,
                    R::Expired(_) => Code::VoucherExpired,
                    R::NotApplicable(_) => Code::VoucherNotApplicable,
                };
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
            }
            E::VoucherCodeTaken => {
                ApiError::new(StatusCode::CONFLICT, Code::VoucherCodeTaken, detail)
            }
            E::NotificationNotFailed(m) => {
                ApiError::new(StatusCode::CONFLICT, Code::NotificationNotFailed, m)
            }
            E::Internal(m) => ApiError::internal(m),
            E::Db(e) => ApiError::from(e),
        }
    }
}
