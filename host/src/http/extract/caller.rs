//! Who is calling: the bearer token's account (asked of the domain's accounts service), and
//! the role an endpoint needs of it. The console's session cookie carries the same token;
//! a request authenticated by the cookie must prove it comes from the console itself before
//! it may change anything (docs/console.md, "Sessions").

use crate::http::code::Code;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;

use crate::domain::access;
use crate::domain::types::{AccountStatus, Role, User};
use crate::http::ApiError;
use crate::state::AppState;

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
                "authentication required: send Authorization: Bearer <token> (or sign in to the console)",
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
            let Some(session) = session_cookie(&parts.headers) else {
                return Ok(MaybeAuthUser(None));
            };
            if !parts.method.is_safe() {
                check_console_write(parts, state, session)?;
            }
            let actor = state.accounts.authenticate(session).await?;
            return Ok(MaybeAuthUser(Some(AuthUser(actor.into_user()))));
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
        let actor = state.accounts.authenticate(token).await?;
        Ok(MaybeAuthUser(Some(AuthUser(actor.into_user()))))
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
/// customer. Which chains they may touch is asked per resource, of the domain's `Actor`.
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

/// The console's session cookie.
pub const SESSION_COOKIE: &str = "cineflow_session";

/// The header that carries a console session's CSRF token on every write.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The value of the session cookie, if the request carries one.
pub fn session_cookie(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// A browser says where a request comes from (`Sec-Fetch-Site`); a write or a sign-in from
/// another site is refused whatever else it carries.
pub fn refuse_other_sites(headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some("cross-site" | "same-site") => Err(csrf_failed(
            "this request comes from another site; the console only accepts its own pages' requests",
        )),
        _ => Ok(()),
    }
}

/// A cookie-authenticated write: from this site, with the session's CSRF token.
fn check_console_write(parts: &Parts, state: &AppState, session: &str) -> Result<(), ApiError> {
    refuse_other_sites(&parts.headers)?;
    let presented = parts
        .headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or_default();
    if presented.is_empty() {
        return Err(csrf_failed(
            "a write with the console's session cookie needs the X-CSRF-Token header (GET /api/v1/auth/session gives it)",
        ));
    }
    if !state.accounts.csrf_matches(session, presented) {
        return Err(csrf_failed(
            "the X-CSRF-Token header is not this session's token",
        ));
    }
    Ok(())
}

fn csrf_failed(detail: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, Code::CsrfFailed, detail)
}

fn unauthorized(detail: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, Code::Unauthorized, detail)
}

fn forbidden(detail: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, Code::Forbidden, detail)
}
