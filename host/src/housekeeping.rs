//! Periodic clean-up every replica runs (safe to run on several at once): expired
//! idempotency keys, ended signin/signup limit windows and webhook deliveries past their
//! retention. The job calls [`sweep_once`];
//! tests call it directly.

use std::time::Duration;

use sqlx::PgPool;

use crate::auth::AuthLimits;
use crate::db::{idempotency, webhooks};

/// How often each replica runs [`sweep_once`].
pub const EVERY: Duration = Duration::from_secs(60);

/// How long a sent or failed webhook delivery stays in its endpoint's list: long enough to
/// look into a month's integration trouble, short enough that a busy chain's deliveries do
/// not grow without bound (pending ones are never deleted).
pub const WEBHOOK_DELIVERY_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

/// Rows deleted per statement, so that a large backlog never holds locks for long.
const BATCH: i64 = 5_000;

/// Statements per table per sweep: a sweep deletes at most 100 000 rows of each, so one
/// run stays bounded however large the backlog (a first run on a database that never had
/// housekeeping, say); the next sweep, a minute later, goes on. That is 144 M rows a day per
/// table, far more than any chain writes.
const BATCHES_PER_SWEEP: usize = 20;

/// What one sweep deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Idempotency keys older than 24 h.
    pub idempotency_keys: u64,
    /// Limit windows that had ended.
    pub limit_windows: u64,
    /// Sent or failed webhook deliveries older than [`WEBHOOK_DELIVERY_RETENTION`].
    pub webhook_deliveries: u64,
}

/// Deletes idempotency keys older than 24 h, ended limit windows and finished webhook
/// deliveries older than [`WEBHOOK_DELIVERY_RETENTION`].
pub async fn sweep_once(pool: &PgPool) -> Result<Swept, sqlx::Error> {
    let mut swept = Swept::default();
    for _ in 0..BATCHES_PER_SWEEP {
        let mut conn = pool.acquire().await?;
        let n = idempotency::delete_expired(&mut conn, BATCH).await?;
        swept.idempotency_keys += n;
        if n < BATCH as u64 {
            break;
        }
    }
    swept.limit_windows = AuthLimits::prune(pool).await?;
    let before = chrono::Utc::now()
        - chrono::Duration::from_std(WEBHOOK_DELIVERY_RETENTION).unwrap_or(chrono::Duration::MAX);
    for _ in 0..BATCHES_PER_SWEEP {
        let mut conn = pool.acquire().await?;
        let n = webhooks::delete_finished_before(&mut conn, before, BATCH).await?;
        swept.webhook_deliveries += n;
        if n < BATCH as u64 {
            break;
        }
    }
    if swept != Swept::default() {
        tracing::debug!(?swept, "housekeeping");
    }
    Ok(swept)
}
