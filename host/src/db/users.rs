//! Table `users`.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

pub use crate::domain::types::User;
use crate::domain::types::{AccountStatus, Role};

struct UserRow {
    id: Uuid,
    name: String,
    email: String,
    role: Role,
    status: AccountStatus,
    token_version: i32,
    created_at: DateTime<Utc>,
}

impl UserRow {
    fn into_domain(self) -> User {
        User {
            id: self.id,
            name: self.name,
            email: self.email,
            role: self.role,
            status: self.status,
            token_version: self.token_version,
            created_at: self.created_at,
        }
    }
}

/// A new account.
pub struct NewUser<'a> {
    /// Display name.
    pub name: &'a str,
    /// Lowercased email.
    pub email: &'a str,
    /// argon2id PHC string.
    pub password_hash: &'a str,
    /// Role.
    pub role: Role,
    /// Status.
    pub status: AccountStatus,
}

/// Inserts a user; `users_email_key` is violated when the email is taken.
#[tracing::instrument(skip_all)]
pub async fn insert(conn: &mut PgConnection, new: &NewUser<'_>) -> Result<User, sqlx::Error> {
    let row: UserRow = sqlx::query_as!(
        UserRow,
        r#"insert into users (id, name, email, password_hash, role, status)
         values ($1, $2, $3, $4, $5, $6) returning id, name, email::text as "email!",
                role as "role: Role", status as "status: AccountStatus", token_version,
                created_at"#,
        Uuid::now_v7(),
        new.name,
        new.email,
        new.password_hash,
        new.role.as_str(),
        new.status.as_str(),
    )
    .fetch_one(conn)
    .await?;
    Ok(row.into_domain())
}

/// The user with this id.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<User>, sqlx::Error> {
    let row: Option<UserRow> = sqlx::query_as!(
        UserRow,
        r#"select id, name, email::text as "email!", role as "role: Role",
                 status as "status: AccountStatus", token_version,
                 created_at from users where id = $1"#,
        id,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(UserRow::into_domain))
}

/// The user with this email and their password hash.
#[tracing::instrument(skip_all)]
pub async fn find_credentials(
    conn: &mut PgConnection,
    email: &str,
) -> Result<Option<(User, String)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select id, name, email::text as "email!", role as "role: Role",
                 status as "status: AccountStatus", token_version, created_at,
                 password_hash from users where email = $1"#,
        email,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| {
        let user = User {
            id: r.id,
            name: r.name,
            email: r.email,
            role: r.role,
            status: r.status,
            token_version: r.token_version,
            created_at: r.created_at,
        };
        (user, r.password_hash)
    }))
}

/// The stored hash of a user.
#[tracing::instrument(skip_all)]
pub async fn password_hash(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(r#"select password_hash from users where id = $1"#, id,)
        .fetch_optional(conn)
        .await
}

/// Sets a new password and revokes every token issued before.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn set_password(
    conn: &mut PgConnection,
    id: Uuid,
    hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update users set password_hash = $2, token_version = token_version + 1 where id = $1"#,
        id,
        hash,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Changes role and/or status; returns the updated user.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn update_role_status(
    conn: &mut PgConnection,
    id: Uuid,
    role: Option<Role>,
    status: Option<AccountStatus>,
) -> Result<Option<User>, sqlx::Error> {
    let row: Option<UserRow> = sqlx::query_as!(
        UserRow,
        r#"update users set role = coalesce($2, role), status = coalesce($3, status)
         where id = $1 returning id, name, email::text as "email!", role as "role: Role",
                status as "status: AccountStatus", token_version, created_at"#,
        id,
        role.map(Role::as_str),
        status.map(AccountStatus::as_str),
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(UserRow::into_domain))
}

/// Locks every admin row until the transaction ends, so that two concurrent changes cannot
/// both demote "another" admin and leave none.
#[tracing::instrument(skip_all)]
pub async fn lock_admins(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query!(r#"select id from users where role = 'admin' order by id for update"#,)
        .fetch_all(conn)
        .await?;
    Ok(())
}

/// Approved admins (as this transaction sees them).
#[tracing::instrument(skip_all)]
pub async fn approved_admins(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select count(*) as "v!" from users where role = 'admin' and status = 'approved'"#,
    )
    .fetch_one(conn)
    .await
}

/// Creates or updates the bootstrap admin from configuration.
#[tracing::instrument(skip_all)]
pub async fn upsert_admin(
    conn: &mut PgConnection,
    email: &str,
    password_hash: &str,
) -> Result<User, sqlx::Error> {
    let row: UserRow = sqlx::query_as!(
        UserRow,
        r#"insert into users (id, name, email, password_hash, role, status)
         values ($1, 'Administrator', $2, $3, 'admin', 'approved')
         on conflict (email) do update
            set password_hash = excluded.password_hash, role = 'admin', status = 'approved',
                token_version = users.token_version
                    + case when users.password_hash = excluded.password_hash then 0 else 1 end
         returning id, name, email::text as "email!", role as "role: Role",
                status as "status: AccountStatus", token_version, created_at"#,
        Uuid::now_v7(),
        email,
        password_hash,
    )
    .fetch_one(conn)
    .await?;
    Ok(row.into_domain())
}

/// Filters of the admin's user list.
#[derive(Debug, Default)]
pub struct UserFilter {
    /// Only this role.
    pub role: Option<Role>,
    /// Only this status.
    pub status: Option<AccountStatus>,
}

/// A page of users in id order.
#[tracing::instrument(skip_all)]
pub async fn list(
    conn: &mut PgConnection,
    filter: &UserFilter,
    after: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<User>, sqlx::Error> {
    let rows: Vec<UserRow> = sqlx::query_as!(
        UserRow,
        r#"select id, name, email::text as "email!", role as "role: Role",
                 status as "status: AccountStatus", token_version, created_at from users
         where ($1::text is null or role = $1) and ($2::text is null or status = $2)
           and ($3::uuid is null or id > $3)
         order by id limit $4"#,
        filter.role.map(Role::as_str),
        filter.status.map(AccountStatus::as_str),
        after,
        fetch,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(UserRow::into_domain).collect())
}
