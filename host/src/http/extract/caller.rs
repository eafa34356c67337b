//! Who is calling: the bearer token's account (asked of the domain's accounts service), and
//! the role an endpoint needs of it.

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

fn unauthorized(detail: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, Code::Unauthorized, detail)
}

fn forbidden(detail: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, Code::Forbidden, detail)
}
