//! Table `idempotency_keys`: the first response to a (user, key) is kept 24 h and replayed;
//! the housekeeping job deletes older keys.

use std::time::Duration;

use sqlx::PgConnection;
use uuid::Uuid;

/// What the key store says about a request.
#[derive(Debug)]
pub enum Claim {
    /// First use: go ahead, then [`complete`] (or [`release`] on a server error).
    Fresh,
    /// Seen before and finished: replay this status and body.
    Replay {
        /// HTTP status of the first response.
        status: u16,
        /// Its body.
        body: serde_json::Value,
    },
    /// Seen before for another request (method/path): the key is being reused wrongly.
    Mismatch,
    /// The first request with this key is still running.
    InFlight,
}

/// Claims `key` for `request` (e.g. `POST /api/v1/bookings`), or reports its earlier use.
/// Keys older than 24 h are forgotten, and so is a claim without an answer older than
/// `abandoned_after`: no request runs that long, so its request died before answering (a
/// timeout, or its replica was killed) and the key may be used again.
#[tracing::instrument(skip_all)]
pub async fn claim(
    conn: &mut PgConnection,
    user: Uuid,
    key: &str,
    request: &str,
    abandoned_after: Duration,
) -> Result<Claim, sqlx::Error> {
    sqlx::query!(
        r#"delete from idempotency_keys where user_id = $1 and key = $2
           and (created_at < now() - make_interval(secs => $4)
                or (status_code is null and created_at < now() - make_interval(secs => $3)))"#,
        user,
        key,
        abandoned_after.as_secs_f64(),
        KEEP_FOR.as_secs_f64(),
    )
    .execute(&mut *conn)
    .await?;
    let inserted = sqlx::query!(
        r#"insert into idempotency_keys (user_id, key, request) values ($1, $2, $3) on conflict do nothing"#,
        user,
        key,
        request,
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(Claim::Fresh);
    }
    let row = sqlx::query!(
        r#"select request, status_code,
                 response from idempotency_keys where user_id = $1 and key = $2"#,
        user,
        key,
    )
    .fetch_optional(conn)
    .await?
    .map(|r| (r.request, r.status_code, r.response));
    Ok(match row {
        None => Claim::InFlight,
        Some((req, _, _)) if req != request => Claim::Mismatch,
        Some((_, Some(status), Some(body))) => Claim::Replay {
            status: u16::try_from(status).unwrap_or(500),
            body,
        },
        Some(_) => Claim::InFlight,
    })
}

/// Stores the response to replay.
#[tracing::instrument(skip_all)]
pub async fn complete(
    conn: &mut PgConnection,
    user: Uuid,
    key: &str,
    status: u16,
    body: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update idempotency_keys set status_code = $3, response = $4 where user_id = $1 and key = $2"#,
        user,
        key,
        i32::from(status),
        body,
    )
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets a claim (the request failed on our side and may be retried with the same key).
#[tracing::instrument(skip_all)]
pub async fn release(conn: &mut PgConnection, user: Uuid, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"delete from idempotency_keys where user_id = $1 and key = $2 and status_code is null"#,
        user,
        key,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// How long a key's first answer is kept and replayed.
pub const KEEP_FOR: Duration = Duration::from_secs(24 * 60 * 60);

/// Deletes up to `batch` keys older than [`KEEP_FOR`] (oldest first, through
/// `idempotency_keys_created_idx`); returns how many went.
#[tracing::instrument(skip_all)]
pub async fn delete_expired(conn: &mut PgConnection, batch: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        r#"delete from idempotency_keys where (user_id, key) in (
             select user_id, key from idempotency_keys
              where created_at < now() - make_interval(secs => $1)
              order by created_at limit $2)"#,
        KEEP_FOR.as_secs_f64(),
        batch,
    )
    .execute(conn)
    .await?
    .rows_affected())
}
