//! Console sessions: the same signin as `POST /auth/signin`, answered with an HttpOnly cookie
//! instead of a token the page could read, and the CSRF token every write must echo.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::accounts::{SigninBody, UserView};
use super::code::Code;
use super::extract::ApiJson;
use super::extract::{SESSION_COOKIE, refuse_other_sites, session_cookie};
use super::ratelimit::ClientAddr;
use super::{ApiError, Problem};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_session, current_session, end_session))
}

/// A console session.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct SessionView {
    user: UserView,
    /// Send it as `X-CSRF-Token` with every POST, PUT, PATCH and DELETE.
    csrf_token: String,
    expires_at: Option<DateTime<Utc>>,
}

/// Signs in to the console: the session is an HttpOnly, SameSite=Strict cookie (Secure when
/// the service is reached over TLS), and the answer carries the CSRF token the console sends
/// with every write. The same limits and answers as `POST /auth/signin`.
#[utoipa::path(post, path = "/api/v1/auth/session", tag = "accounts", request_body = SigninBody,
    responses(
        (status = 200, description = "Signed in; `Set-Cookie: cineflow_session=…`", body = SessionView),
        (status = 401, description = "`invalid_credentials`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`account_rejected`, or `csrf_failed`: sent from another site", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`, with Retry-After", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`busy`: every password-hashing slot is taken, with Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn create_session(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SigninBody>,
) -> Result<Response, ApiError> {
    // A sign-in from another site would put the visitor in the attacker's account.
    refuse_other_sites(&headers)?;
    let signed_in = state
        .accounts
        .signin(&client.key(), &body.email, body.password)
        .await?;
    let view = SessionView {
        csrf_token: state.accounts.csrf_token(&signed_in.token),
        expires_at: state.accounts.token_expiry(&signed_in.token),
        user: signed_in.user.into(),
    };
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        signed_in.token,
        signed_in.expires_in.as_secs(),
        if secure(&state, &headers) {
            "; Secure"
        } else {
            ""
        },
    );
    session_response(Json(view).into_response(), &cookie)
}

/// The console's current session, read back after a reload (the cookie is HttpOnly).
#[utoipa::path(get, path = "/api/v1/auth/session", tag = "accounts",
    responses(
        (status = 200, description = "Signed in", body = SessionView),
        (status = 401, description = "`unauthorized`: no session cookie, or it expired or was revoked", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn current_session(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(token) = session_cookie(&headers) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            Code::Unauthorized,
            "no console session: sign in with POST /api/v1/auth/session",
        ));
    };
    let actor = state.accounts.authenticate(token).await?;
    let view = SessionView {
        csrf_token: state.accounts.csrf_token(token),
        expires_at: state.accounts.token_expiry(token),
        user: actor.into_user().into(),
    };
    let mut response = Json(view).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Signs out of the console: the cookie is cleared. Whatever the request carries, the answer
/// is 204 (signing out twice, or after the session expired, is not an error).
#[utoipa::path(delete, path = "/api/v1/auth/session", tag = "accounts",
    responses((status = 204, description = "Signed out; the cookie is cleared")))]
pub(super) async fn end_session(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let cookie = format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        if secure(&state, &headers) {
            "; Secure"
        } else {
            ""
        },
    );
    session_response(StatusCode::NO_CONTENT.into_response(), &cookie)
}

/// Whether the cookie gets `Secure`: the public URL is https, or a proxy in front says the
/// request arrived over TLS.
fn secure(state: &AppState, headers: &HeaderMap) -> bool {
    state.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

fn session_response(mut response: Response, cookie: &str) -> Result<Response, ApiError> {
    let value = HeaderValue::from_str(cookie)
        .map_err(|_| ApiError::internal("the session cookie is not a valid header value"))?;
    let headers = response.headers_mut();
    headers.insert(header::SET_COOKIE, value);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
