//! A chain's own test cases per hook: stored, read and removed by the chain's staff, and run
//! at every upload of the chain's components for that hook (see `upload`). The format and the
//! checking are `plugins::cases`, shared with `cineflow component test`.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::ChainComponents;
use crate::db::test_cases as db;
use crate::domain::{ChainAccess, DomainError};
use crate::plugins::Hook;
use crate::plugins::cases::{self, TestCases};

/// A chain's stored cases for one hook.
#[derive(Debug, Clone)]
pub struct ChainCases {
    /// The hook.
    pub hook: Hook,
    /// The cases.
    pub cases: TestCases,
    /// When they were last replaced.
    pub updated_at: DateTime<Utc>,
    /// Who replaced them.
    pub updated_by: Option<Uuid>,
}

impl ChainComponents {
    /// Replaces the chain's cases for `hook`, after checking each (its name, and its input
    /// against the hook's input record and input cap).
    pub async fn put_test_cases(
        &self,
        access: &ChainAccess,
        hook: Hook,
        cases: TestCases,
    ) -> Result<ChainCases, DomainError> {
        cases::validate(hook, &cases, &self.plugins.limits(hook))
            .map_err(|p| DomainError::invalid(p.path(), p.message))?;
        let json = serde_json::to_value(&cases)
            .map_err(|e| DomainError::Internal(format!("test cases as JSON: {e}")))?;
        let mut conn = self.pool.acquire().await?;
        let stored = db::put(
            &mut conn,
            access.chain(),
            hook.as_str(),
            &json,
            access.actor().id(),
        )
        .await?;
        Ok(ChainCases {
            hook,
            cases,
            updated_at: stored.updated_at,
            updated_by: stored.updated_by,
        })
    }

    /// The chain's cases for `hook`; not found when it has none.
    pub async fn test_cases(
        &self,
        access: &ChainAccess,
        hook: Hook,
    ) -> Result<ChainCases, DomainError> {
        let mut conn = self.pool.acquire().await?;
        self.stored_cases(&mut conn, access.chain(), hook)
            .await?
            .ok_or_else(|| DomainError::NotFound(format!("this chain has no {hook} test cases")))
    }

    /// Removes the chain's cases for `hook`; not found when it had none.
    pub async fn delete_test_cases(
        &self,
        access: &ChainAccess,
        hook: Hook,
    ) -> Result<(), DomainError> {
        let mut conn = self.pool.acquire().await?;
        if db::delete(&mut conn, access.chain(), hook.as_str()).await? {
            Ok(())
        } else {
            Err(DomainError::NotFound(format!(
                "this chain has no {hook} test cases"
            )))
        }
    }

    pub(super) async fn stored_cases(
        &self,
        conn: &mut sqlx::PgConnection,
        chain: Uuid,
        hook: Hook,
    ) -> Result<Option<ChainCases>, DomainError> {
        let Some(row) = db::find(conn, chain, hook.as_str()).await? else {
            return Ok(None);
        };
        let cases = serde_json::from_value(row.cases).map_err(|e| {
            DomainError::Internal(format!("stored {hook} test cases do not parse: {e}"))
        })?;
        Ok(Some(ChainCases {
            hook,
            cases,
            updated_at: row.updated_at,
            updated_by: row.updated_by,
        }))
    }
}
