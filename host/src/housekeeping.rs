//! Periodic clean-up every replica runs (safe to run on several at once): expired
//! idempotency keys and ended signin/signup limit windows. The job calls [`sweep_once`];
//! tests call it directly.

use std::time::Duration;

use sqlx::PgPool;

use crate::auth::AuthLimits;
use crate::db::idempotency;

/// How often each replica runs [`sweep_once`].
pub const EVERY: Duration = Duration::from_secs(60);

/// Rows deleted per statement, so that a large backlog never holds locks for long.
const BATCH: i64 = 5_000;

/// What one sweep deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Idempotency keys older than 24 h.
    pub idempotency_keys: u64,
    /// Limit windows that had ended.
    pub limit_windows: u64,
}

/// Deletes idempotency keys older than 24 h and ended limit windows.
pub async fn sweep_once(pool: &PgPool) -> Result<Swept, sqlx::Error> {
    let mut swept = Swept::default();
    loop {
        let mut conn = pool.acquire().await?;
        let n = idempotency::delete_expired(&mut conn, BATCH).await?;
        swept.idempotency_keys += n;
        if n < BATCH as u64 {
            break;
        }
    }
    swept.limit_windows = AuthLimits::prune(pool).await?;
    if swept != Swept::default() {
        tracing::debug!(?swept, "housekeeping");
    }
    Ok(swept)
}
