//! Whether this replica can serve: the database answers and every migration this binary
//! knows is applied.

use sqlx::PgPool;

/// The answer of the readiness check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    /// Ready to serve.
    Ready,
    /// The database answers but migrations are pending.
    MigrationsPending,
    /// The database cannot be reached.
    DatabaseUnreachable,
    /// The check failed otherwise.
    Failed,
}

/// Asks the database.
pub async fn readiness(pool: &PgPool) -> Readiness {
    match crate::db::is_ready(pool).await {
        Ok(true) => Readiness::Ready,
        Ok(false) => Readiness::MigrationsPending,
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            if crate::db::is_unavailable(&e) {
                Readiness::DatabaseUnreachable
            } else {
                Readiness::Failed
            }
        }
    }
}

/// The read replica's state for `/readyz`: `up`, `down` or `lagging`; `None` when none is
/// configured. Never a reason to be unready: reads fall back to the primary.
pub fn read_replica(reads: &crate::db::ReadPool) -> Option<&'static str> {
    match reads.replica_state() {
        crate::db::ReplicaState::NotConfigured => None,
        state => Some(state.as_str()),
    }
}
