//! Accounts: signup, signin, password change, the caller, and the admin's user management.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::{AdminUser, ApiJson, ApiPath, ApiQuery, AuthUser, Problems};
use super::page::{Page, PageRequest};
use super::ratelimit::ClientAddr;
use super::schema;
use super::{ApiError, Problem};
use crate::domain::Actor;
use crate::domain::accounts::{SignupCommand, UserFilter};
use crate::domain::types::{AccountStatus, Role, User};
use crate::domain::types::{Email, Password};
use crate::state::AppState;

/// The routes of this module, each declared once: its path and method come from the
/// handler's `#[utoipa::path]`, which also puts it in the OpenAPI document.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup))
        .routes(routes!(signin))
        .routes(routes!(change_password))
        .routes(routes!(me))
        .routes(routes!(list_users))
        .routes(routes!(update_user))
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
    /// Display name, trimmed.
    #[schema(schema_with = signup_name)]
    name: String,
    #[schema(schema_with = schema::email)]
    email: String,
    #[schema(schema_with = schema::new_password)]
    password: String,
    /// `customer` (default) or `owner`; nobody signs up as admin.
    #[serde(default)]
    #[schema(schema_with = signup_role)]
    role: Option<String>,
}

/// Most characters of a display name (trimmed).
const MAX_NAME: usize = 100;
/// The roles [`signup`] accepts.
const SIGNUP_ROLES: [Role; 2] = [Role::Customer, Role::Owner];

fn signup_name() -> utoipa::openapi::Object {
    schema::text(1, MAX_NAME).build()
}

fn signup_role() -> utoipa::openapi::schema::OneOfBuilder {
    schema::nullable(schema::one_of(SIGNUP_ROLES.map(Role::as_str)))
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
    state.accounts.admit_signup(&client.key()).await?;
    let mut problems = Problems::default();
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
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
    let command = SignupCommand {
        name: name.to_owned(),
        email,
        password,
        role,
    };
    let user = state.accounts.signup(command).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Signin body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SigninBody {
    /// Any text: an address that is not an account's gets the same 401 as a wrong password.
    pub(super) email: String,
    #[schema(schema_with = schema::password)]
    pub(super) password: String,
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
    let signed_in = state
        .accounts
        .signin(&client.key(), &body.email, body.password)
        .await?;
    let body = TokenResponse {
        access_token: signed_in.token,
        token_type: "Bearer",
        expires_in: signed_in.expires_in.as_secs(),
        user: signed_in.user.into(),
    };
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Password change body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PasswordBody {
    #[schema(schema_with = schema::password)]
    old_password: String,
    #[schema(schema_with = schema::new_password)]
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
    state
        .accounts
        .change_password(&Actor::new(user), body.old_password, new)
        .await?;
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
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct UserQuery {
    role: Option<Role>,
    status: Option<AccountStatus>,
    #[param(schema_with = crate::http::schema::page_limit)]
    limit: Option<u32>,
    #[param(schema_with = crate::http::schema::page_cursor)]
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
    AdminUser(admin): AdminUser,
    ApiQuery(q): ApiQuery<UserQuery>,
) -> Result<Json<Page<UserView>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let filter = UserFilter {
        role: q.role,
        status: q.status,
    };
    let rows = state
        .accounts
        .list(&Actor::new(admin), &filter, page.after, page.fetch())
        .await?;
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

/// `PATCH /users/{id}`'s body: [`UpdateUserBody`] with at least one of its fields not null
/// (`Accounts::update` answers 422 "send `role`, `status` or both" otherwise).
pub(super) struct UserChangeBody;

impl utoipa::PartialSchema for UserChangeBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AllOfBuilder, AnyOfBuilder, ObjectBuilder, Type};
        let sent = |field: &str| {
            ObjectBuilder::new()
                .required(field)
                .property(field, ObjectBuilder::new().schema_type(Type::String))
        };
        AllOfBuilder::new()
            .item(<UpdateUserBody as utoipa::PartialSchema>::schema())
            .item(AnyOfBuilder::new().item(sent("role")).item(sent("status")))
            .description(Some("`role`, `status` or both"))
            .into()
    }
}

impl utoipa::ToSchema for UserChangeBody {}

/// Changes a user's role or status (admins only); approving an account emails its owner.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "accounts", request_body = inline(UserChangeBody),
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
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateUserBody>,
) -> Result<Json<UserView>, ApiError> {
    let after = state
        .accounts
        .update(&Actor::new(admin), id, body.role, body.status)
        .await?;
    Ok(Json(after.into()))
}
