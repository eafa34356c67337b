//! The key store behind `Idempotency-Key`: the first answer to a (user, key) is kept 24 h and
//! replayed on every replica; a claim whose request died before answering is given up.

use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;

use super::DomainError;
use crate::db::idempotency;

pub use crate::db::idempotency::Claim;

/// The idempotency service.
#[derive(Clone)]
pub struct Idempotency {
    pool: PgPool,
    abandoned_after: Duration,
}

impl Idempotency {
    /// The store; a claim without an answer after `request_timeout` belongs to a request that
    /// was cut off (timed out, or its replica was killed) before it could record one. Without
    /// giving such claims up, their key would answer "in flight" for 24 h. The margin lets
    /// the cut-off request's transaction roll back first.
    pub fn new(pool: PgPool, request_timeout: Duration) -> Self {
        Self {
            pool,
            abandoned_after: request_timeout + Duration::from_secs(1),
        }
    }

    /// Claims `key` for the request whose digest is `fingerprint`, or reports its earlier use.
    pub async fn claim(
        &self,
        user: Uuid,
        key: &str,
        fingerprint: &str,
    ) -> Result<Claim, DomainError> {
        let mut conn = self.pool.acquire().await?;
        Ok(idempotency::claim(&mut conn, user, key, fingerprint, self.abandoned_after).await?)
    }

    /// Records the answer to replay.
    pub async fn complete(
        &self,
        user: Uuid,
        key: &str,
        status: u16,
        body: &serde_json::Value,
    ) -> Result<(), DomainError> {
        let mut conn = self.pool.acquire().await?;
        Ok(idempotency::complete(&mut conn, user, key, status, body).await?)
    }

    /// Gives the key up (the request failed on our side; the client may retry with it).
    pub async fn release(&self, user: Uuid, key: &str) -> Result<(), DomainError> {
        let mut conn = self.pool.acquire().await?;
        Ok(idempotency::release(&mut conn, user, key).await?)
    }
}
