//! Tables `chains` and `chain_members`.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// A theatre chain.
#[derive(Debug, Clone)]
pub struct Chain {
    /// Id.
    pub id: Uuid,
    /// Display name (unique).
    pub name: String,
    /// ISO 4217 code of every price of the chain.
    pub currency: String,
    /// IANA time zone of the chain's theatres.
    pub timezone: String,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// A member of a chain's staff.
#[derive(Debug, Clone)]
pub struct Member {
    /// The user.
    pub user_id: Uuid,
    /// Their name.
    pub name: String,
    /// Their email.
    pub email: String,
    /// When they joined the chain.
    pub added_at: DateTime<Utc>,
}

/// Creates a chain with `creator` as its first member.
#[tracing::instrument(skip_all)]
pub async fn insert(
    conn: &mut PgConnection,
    name: &str,
    currency: &str,
    timezone: &str,
    creator: Uuid,
) -> Result<Chain, sqlx::Error> {
    let chain: Chain = sqlx::query_as!(
        Chain,
        r#"insert into chains (id, name, currency, timezone) values ($1, $2, $3, $4)
         returning id, name, currency, timezone, created_at"#,
        Uuid::now_v7(),
        name,
        currency,
        timezone,
    )
    .fetch_one(&mut *conn)
    .await?;
    add_member(conn, chain.id, creator).await?;
    Ok(chain)
}

/// Creates the chain `id` unless it exists (the demo data's fixed chain).
#[tracing::instrument(skip_all, fields(%id))]
pub async fn ensure(
    conn: &mut PgConnection,
    id: Uuid,
    name: &str,
    currency: &str,
    timezone: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"insert into chains (id, name, currency, timezone) values ($1, $2, $3, $4)
         on conflict do nothing"#,
        id,
        name,
        currency,
        timezone,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// One chain.
#[tracing::instrument(skip_all)]
pub async fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<Chain>, sqlx::Error> {
    sqlx::query_as!(
        Chain,
        r#"select id, name, currency, timezone, created_at from chains where id = $1"#,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// A page of chains.
#[tracing::instrument(skip_all)]
pub async fn list(
    conn: &mut PgConnection,
    after: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<Chain>, sqlx::Error> {
    sqlx::query_as!(
        Chain,
        r#"select id, name, currency, timezone, created_at from chains
         where ($1::uuid is null or id > $1) order by id limit $2"#,
        after,
        fetch,
    )
    .fetch_all(conn)
    .await
}

/// The chains `user` is staff of, in id order.
#[tracing::instrument(skip_all)]
pub async fn list_of_member(
    conn: &mut PgConnection,
    user: Uuid,
    after: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<Chain>, sqlx::Error> {
    sqlx::query_as!(
        Chain,
        r#"select c.id, c.name, c.currency, c.timezone, c.created_at
             from chains c join chain_members m on m.chain_id = c.id and m.user_id = $1
            where ($2::uuid is null or c.id > $2) order by c.id limit $3"#,
        user,
        after,
        fetch,
    )
    .fetch_all(conn)
    .await
}

/// Adds a member (idempotent).
#[tracing::instrument(skip_all)]
pub async fn add_member(
    conn: &mut PgConnection,
    chain: Uuid,
    user: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"insert into chain_members (chain_id, user_id) values ($1, $2) on conflict do nothing"#,
        chain,
        user,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether `user` is on the chain's staff.
#[tracing::instrument(skip_all)]
pub async fn is_member(
    conn: &mut PgConnection,
    chain: Uuid,
    user: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from chain_members where chain_id = $1 and user_id = $2) as "v!""#,
        chain,
        user,
    )
    .fetch_one(conn)
    .await
}

/// A page of the chain's members, ordered by user id.
#[tracing::instrument(skip_all)]
pub async fn members(
    conn: &mut PgConnection,
    chain: Uuid,
    after: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<Member>, sqlx::Error> {
    sqlx::query_as!(
        Member,
        r#"select u.id as user_id, u.name, u.email::text as "email!", m.added_at
         from chain_members m join users u on u.id = m.user_id
         where m.chain_id = $1 and ($2::uuid is null or u.id > $2)
         order by u.id limit $3"#,
        chain,
        after,
        fetch,
    )
    .fetch_all(conn)
    .await
}

/// Locks the chain's row until the end of the transaction: serialises a chain's quota checks.
#[tracing::instrument(skip_all)]
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query_scalar!(r#"select id from chains where id = $1 for update"#, id)
        .fetch_optional(conn)
        .await?;
    Ok(())
}
