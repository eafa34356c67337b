//! Table `ticket_keys` (migration 0018): each chain's ticket-signing keys, the private half
//! sealed (host/src/domain/tickets/keys.rs), at most one active per chain.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use tracing::instrument;
use uuid::Uuid;

/// A chain's key as stored (the sealed private half apart: [`sealed_key`]).
#[derive(Debug, Clone)]
pub struct KeyRow {
    /// 16 hex digits.
    pub key_id: String,
    /// The 32 raw bytes.
    pub public_key: Vec<u8>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Rotated out, or active.
    pub retired_at: Option<DateTime<Utc>>,
    /// A retired key verifies codes until then.
    pub valid_until: Option<DateTime<Utc>>,
    /// Active, or retired and before `valid_until`, by the database's clock.
    pub usable: bool,
}

/// A new key: id, public half, sealed private half.
pub struct NewKey<'a> {
    /// Chain.
    pub chain: Uuid,
    /// 16 hex digits.
    pub key_id: &'a str,
    /// 32 bytes.
    pub public_key: &'a [u8],
    /// Nonce, ciphertext and tag.
    pub sealed: &'a [u8],
}

/// Stores a key as the chain's active one, unless it has one already (then nothing).
#[instrument(skip_all, fields(chain = %key.chain, key_id = key.key_id))]
pub async fn insert_key(conn: &mut PgConnection, key: &NewKey<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        r#"insert into ticket_keys (key_id, chain_id, public_key, sealed_key)
           values ($1, $2, $3, $4)
           on conflict (chain_id) where retired_at is null do nothing"#,
        key.key_id,
        key.chain,
        key.public_key,
        key.sealed,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The chain's active key, share-locked until the transaction ends: a rotation (which locks
/// it for update) waits for the tickets being signed with it, so it sees them.
#[instrument(skip_all, fields(%chain))]
pub async fn active_key(conn: &mut PgConnection, chain: Uuid) -> sqlx::Result<Option<KeyRow>> {
    sqlx::query_as!(
        KeyRow,
        r#"select key_id, public_key, created_at, retired_at, valid_until, true as "usable!"
           from ticket_keys where chain_id = $1 and retired_at is null for share"#,
        chain
    )
    .fetch_optional(conn)
    .await
}

/// The chain's active key, locked for update (rotation).
#[instrument(skip_all, fields(%chain))]
pub async fn lock_active_key(conn: &mut PgConnection, chain: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        "select key_id from ticket_keys where chain_id = $1 and retired_at is null for update",
        chain
    )
    .fetch_optional(conn)
    .await
}

/// Retires the key: valid until the end of the last show it has valid tickets for, or now.
#[instrument(skip_all, fields(%chain, key_id))]
pub async fn retire_key(conn: &mut PgConnection, chain: Uuid, key_id: &str) -> sqlx::Result<()> {
    sqlx::query!(
        r#"update ticket_keys k set retired_at = statement_timestamp(),
               valid_until = greatest(statement_timestamp(), (
                   select max(s.ends_at) from tickets t
                   join shows s on s.id = t.show_id and s.chain_id = t.chain_id
                   where t.chain_id = $1 and t.key_id = $2 and t.status = 'valid'))
           where k.chain_id = $1 and k.key_id = $2 and k.retired_at is null"#,
        chain,
        key_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The chain's usable keys: the active one and retired ones still valid, newest first.
#[instrument(skip_all, fields(%chain))]
pub async fn usable_keys(conn: &mut PgConnection, chain: Uuid) -> sqlx::Result<Vec<KeyRow>> {
    sqlx::query_as!(
        KeyRow,
        r#"select key_id, public_key, created_at, retired_at, valid_until, true as "usable!"
           from ticket_keys
           where chain_id = $1 and (retired_at is null or valid_until > statement_timestamp())
           order by created_at desc, key_id"#,
        chain
    )
    .fetch_all(conn)
    .await
}

/// One of the chain's keys by id, usable at `at` (default: now) or not (another chain's:
/// none).
#[instrument(skip_all, fields(%chain, key_id))]
pub async fn find_key(
    conn: &mut PgConnection,
    chain: Uuid,
    key_id: &str,
    at: Option<DateTime<Utc>>,
) -> sqlx::Result<Option<KeyRow>> {
    sqlx::query_as!(
        KeyRow,
        r#"select key_id, public_key, created_at, retired_at, valid_until,
                  (retired_at is null
                   or valid_until > coalesce($3, statement_timestamp())) as "usable!"
           from ticket_keys where chain_id = $1 and key_id = $2"#,
        chain,
        key_id,
        at
    )
    .fetch_optional(conn)
    .await
}

/// The sealed private half of one of the chain's keys.
#[instrument(skip_all, fields(%chain, key_id))]
pub async fn sealed_key(
    conn: &mut PgConnection,
    chain: Uuid,
    key_id: &str,
) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar!(
        "select sealed_key from ticket_keys where chain_id = $1 and key_id = $2",
        chain,
        key_id
    )
    .fetch_optional(conn)
    .await
}
