//! Accounts: signup, signin, password change, the caller, and the admin's user management.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::{AdminUser, ApiJson, ApiPath, ApiQuery, AuthUser, Problems};
use super::page::{Page, PageRequest};
use super::ratelimit::ClientAddr;
use super::{ApiError, Problem};
use crate::db::outbox::{self, OutboxEvent};
use crate::db::users::{self, NewUser, UserFilter};
use crate::domain::access;
use crate::domain::hook_io::EventKind;
use crate::domain::types::{AccountStatus, Role, User};
use crate::domain::types::{Email, Password};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/signup", post(signup))
        .route("/auth/signin", post(signin))
        .route("/auth/password", post(change_password))
        .route("/users/me", get(me))
        .route("/users", get(list_users))
        .route("/users/{id}", patch(update_user))
}

/// A user as the API shows it (never the password hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    id: Uuid,
    name: String,
    email: String,
    role: Role,
    status: AccountStatus,
    created_at: DateTime<Utc>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            name: u.name,
            email: u.email,
            role: u.role,
            status: u.status,
            created_at: u.created_at,
        }
    }
}

/// Signup body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SignupBody {
    name: String,
    email: String,
    password: String,
    /// `customer` (default) or `owner`; nobody signs up as admin.
    #[serde(default)]
    role: Option<String>,
}

/// Creates an account: customers are approved at once, owners wait for an admin. Signups are
/// limited per client address, and password hashing is bounded per replica.
#[utoipa::path(post, path = "/api/v1/auth/signup", tag = "accounts", request_body = SignupBody,
    responses(
        (status = 201, description = "Account created", body = UserView),
        (status = 400, description = "Malformed JSON or unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`email_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: too many signups from this address, with Retry-After", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`busy`: every password-hashing slot is taken, with Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn signup(
    State(state): State<AppState>,
    client: ClientAddr,
    ApiJson(body): ApiJson<SignupBody>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    state
        .auth_limits
        .check_signup(&state.db, &client.key())
        .await?;
    let mut problems = Problems::default();
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        problems.add("name", "must be 1 to 100 characters");
    }
    let email = problems.check("email", Email::parse(&body.email));
    let password = problems.check("password", Password::parse(&body.password));
    let role = match body.role.as_deref() {
        None | Some("customer") => Some(Role::Customer),
        Some("owner") => Some(Role::Owner),
        Some("admin") => {
            problems.add("role", "admins are created by other admins, not by signup");
            None
        }
        Some(_) => {
            problems.add("role", "must be `customer` or `owner`");
            None
        }
    };
    problems.finish()?;
    let (Some(email), Some(password), Some(role)) = (email, password, role) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let hash = state.passwords.hash(password.expose().to_owned()).await?;
    let status = if role == Role::Customer {
        AccountStatus::Approved
    } else {
        AccountStatus::Pending
    };
    let mut conn = state.db.acquire().await?;
    let user = users::insert(
        &mut conn,
        &NewUser {
            name,
            email: email.as_str(),
            password_hash: &hash,
            role,
            status,
        },
    )
    .await
    .map_err(|e| {
        ApiError::on_constraint(
            e,
            &[(
                "users_email_key",
                StatusCode::CONFLICT,
                "email_taken",
                "an account with this email exists",
            )],
        )
    })?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Signin body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SigninBody {
    email: String,
    password: String,
}

/// An access token.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct TokenResponse {
    access_token: String,
    /// Always `Bearer`.
    token_type: &'static str,
    /// Seconds until the token expires.
    expires_in: u64,
    user: UserView,
}

/// Exchanges email and password for a token. Unknown email and wrong password get the same
/// answer after the same work. Failed attempts are limited per client address and per email
/// (a correct password from an address without failures is not blocked by others' failures);
/// a rejected account is refused only after its password was verified.
#[utoipa::path(post, path = "/api/v1/auth/signin", tag = "accounts", request_body = SigninBody,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "`invalid_credentials`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`account_rejected`: the password is right but an admin rejected the account", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`, with Retry-After", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`busy`: every password-hashing slot is taken, with Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn signin(
    State(state): State<AppState>,
    client: ClientAddr,
    ApiJson(body): ApiJson<SigninBody>,
) -> Result<Response, ApiError> {
    let email = body.email.trim().to_ascii_lowercase();
    if email.len() > MAX_EMAIL_BYTES {
        // No account has such an address (signup refuses it): nothing to count or check.
        return Err(invalid_credentials());
    }
    let attempt = state
        .auth_limits
        .begin_signin(&state.db, &email, &client.key())
        .await?;
    let found = {
        let mut conn = state.db.acquire().await?;
        users::find_credentials(&mut conn, &email).await?
    };
    let (user, hash) = found.map_or((None, None), |(u, h)| (Some(u), Some(h)));
    let matches = match state.passwords.verify_or_dummy(body.password, hash).await {
        Ok(matches) => matches,
        Err(busy) => {
            state
                .auth_limits
                .signin_not_failed(&state.db, attempt)
                .await?;
            return Err(busy.into());
        }
    };
    let Some(user) = user.filter(|_| matches) else {
        state.auth_limits.signin_failed(&state.db, attempt).await?;
        return Err(invalid_credentials());
    };
    state
        .auth_limits
        .signin_not_failed(&state.db, attempt)
        .await?;
    // Only now, with the password verified: without it, rejected accounts look like any other.
    if !access::may_sign_in(&user) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "account_rejected",
            "an admin rejected this account",
        ));
    }
    let token = state
        .auth
        .issue(user.id, user.token_version)
        .map_err(ApiError::internal)?;
    let body = TokenResponse {
        access_token: token,
        token_type: "Bearer",
        expires_in: state.auth.ttl.as_secs(),
        user: user.into(),
    };
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The longest address `Email` accepts (RFC 5321's path limit).
const MAX_EMAIL_BYTES: usize = 254;

fn invalid_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "the email or the password is wrong",
    )
}

/// Password change body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PasswordBody {
    old_password: String,
    new_password: String,
}

/// Changes the caller's password; every token issued before stops working.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "accounts", request_body = PasswordBody,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Changed; sign in again"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`wrong_password`: the old password is wrong", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: weak new password", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`busy`: every password-hashing slot is taken, with Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn change_password(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    let mut problems = Problems::default();
    let new = problems.check("new_password", Password::parse(&body.new_password));
    problems.finish()?;
    let Some(new) = new else {
        return Err(ApiError::internal("validated password missing"));
    };
    // No connection is held while argon2 runs (or waits for a slot).
    let stored = {
        let mut conn = state.db.acquire().await?;
        users::password_hash(&mut conn, user.id)
            .await?
            .unwrap_or_default()
    };
    if !state.passwords.verify(body.old_password, stored).await? {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "wrong_password",
            "the old password is wrong",
        ));
    }
    let hash = state.passwords.hash(new.expose().to_owned()).await?;
    let mut conn = state.db.acquire().await?;
    users::set_password(&mut conn, user.id, &hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller.
#[utoipa::path(get, path = "/api/v1/users/me", tag = "accounts", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = UserView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn me(AuthUser(user): AuthUser) -> Json<UserView> {
    Json(user.into())
}

/// User list filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(super) struct UserQuery {
    role: Option<Role>,
    status: Option<AccountStatus>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// Lists users (admins only).
#[utoipa::path(get, path = "/api/v1/users", tag = "accounts", params(UserQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of users", body = Page<UserView>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn list_users(
    State(state): State<AppState>,
    _admin: AdminUser,
    ApiQuery(q): ApiQuery<UserQuery>,
) -> Result<Json<Page<UserView>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let filter = UserFilter {
        role: q.role,
        status: q.status,
    };
    let mut conn = state.db.acquire().await?;
    let rows = users::list(&mut conn, &filter, page.after, page.fetch()).await?;
    Ok(Json(
        Page::from_rows(rows, page, |u| u.id).map(UserView::from),
    ))
}

/// Role/status change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct UpdateUserBody {
    role: Option<Role>,
    status: Option<AccountStatus>,
}

/// Changes a user's role or status (admins only); approving an account emails its owner.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "accounts", request_body = UpdateUserBody,
    params(("id" = Uuid, Path, description = "User id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = UserView),
        (status = 400, description = "Malformed id or body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`last_admin`: the change would leave no approved admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Nothing to change", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn update_user(
    State(state): State<AppState>,
    _admin: AdminUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateUserBody>,
) -> Result<Json<UserView>, ApiError> {
    if body.role.is_none() && body.status.is_none() {
        return Err(super::extract::validation([(
            "body",
            "send `role`, `status` or both",
        )]));
    }
    let mut tx = state.db.begin().await?;
    users::lock_admins(&mut tx).await?;
    let before = users::find(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such user"))?;
    let after = users::update_role_status(&mut tx, id, body.role, body.status)
        .await?
        .ok_or_else(|| ApiError::not_found("no such user"))?;
    if access::is_admin(&before)
        && !access::is_admin(&after)
        && users::approved_admins(&mut tx).await? == 0
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "last_admin",
            "this would leave no approved admin; approve another admin first",
        ));
    }
    if before.status != AccountStatus::Approved && after.status == AccountStatus::Approved {
        outbox::enqueue(
            &mut tx,
            &OutboxEvent {
                kind: EventKind::AccountApproved,
                chain_id: None,
                recipients: vec![after.email.clone()],
                fields: vec![
                    ("name", after.name.clone()),
                    ("role", after.role.as_str().to_owned()),
                ],
                dedupe_key: None,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Json(after.into()))
}
