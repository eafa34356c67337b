//! Table `auth_limits`: counters of the signin and signup limits, shared by every replica.
//! One row per (scope, key) counts hits in a fixed window; keys are 32-byte digests, so a row's
//! size does not depend on what a request sent.

use std::time::Duration;

use sqlx::PgConnection;

/// Counts one hit against `(scope, key)` if fewer than `limit` were counted in the current
/// window (a window starts at the first hit after the previous one ended and lasts `window`).
/// `None` when counted; otherwise the whole seconds until the window ends (at least 1).
#[tracing::instrument(skip_all, fields(scope = scope))]
pub async fn take(
    conn: &mut PgConnection,
    scope: &str,
    key: &[u8; 32],
    limit: u32,
    window: Duration,
) -> Result<Option<u64>, sqlx::Error> {
    // The row lock of `on conflict do update` orders concurrent hits on one key, so no more
    // than `limit` are ever counted in a window, whichever replica they reach.
    let counted: Option<i32> = sqlx::query_scalar!(
        r#"insert into auth_limits as l (scope, key, hits, window_ends_at)
         values ($1, $2, 1, now() + make_interval(secs => $4))
         on conflict (scope, key) do update
            set hits = case when l.window_ends_at <= now() then 1 else l.hits + 1 end,
                window_ends_at = case when l.window_ends_at <= now()
                                      then excluded.window_ends_at else l.window_ends_at end
          where l.window_ends_at <= now() or l.hits < $3
         returning hits"#,
        scope,
        key.as_slice(),
        // `hits` is an int4: a limit past its range is no limit.
        i32::try_from(limit).unwrap_or(i32::MAX),
        window.as_secs_f64(),
    )
    .fetch_optional(&mut *conn)
    .await?;
    if counted.is_some() {
        return Ok(None);
    }
    let retry: Option<i64> = sqlx::query_scalar!(
        r#"select ceil(extract(epoch from window_ends_at - now()))::bigint
           from auth_limits where scope = $1 and key = $2"#,
        scope,
        key.as_slice(),
    )
    .fetch_optional(conn)
    .await?
    .flatten();
    Ok(Some(
        retry
            .and_then(|s| u64::try_from(s).ok())
            .unwrap_or(1)
            .max(1),
    ))
}

/// Takes back one hit of the current window (a reserved attempt that turned out not to count).
#[tracing::instrument(skip_all, fields(scope = scope))]
pub async fn give_back(
    conn: &mut PgConnection,
    scope: &str,
    key: &[u8; 32],
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update auth_limits set hits = greatest(hits - 1, 0)
          where scope = $1 and key = $2 and window_ends_at > now()"#,
        scope,
        key.as_slice(),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Hits counted against `(scope, key)` in its current window.
#[tracing::instrument(skip_all, fields(scope = scope))]
pub async fn hits(
    conn: &mut PgConnection,
    scope: &str,
    key: &[u8; 32],
) -> Result<u32, sqlx::Error> {
    let hits: Option<i32> = sqlx::query_scalar!(
        r#"select hits from auth_limits where scope = $1 and key = $2 and window_ends_at > now()"#,
        scope,
        key.as_slice(),
    )
    .fetch_optional(conn)
    .await?;
    Ok(hits.and_then(|h| u32::try_from(h).ok()).unwrap_or(0))
}

/// Deletes the rows whose window has ended (they count nothing any more).
#[tracing::instrument(skip_all)]
pub async fn prune(conn: &mut PgConnection) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query!(r#"delete from auth_limits where window_ends_at <= now()"#)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}
