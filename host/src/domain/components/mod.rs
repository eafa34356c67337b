//! A chain's own components: upload (checked, then run against the hook's fixtures), the
//! list, bind / unbind per hook (with the breaker's state), dry runs, call statistics and the
//! trail of changes. Every use case is for the chain's staff and admins: another chain's
//! components do not exist for the actor.

mod bindings;
mod dry_run;
mod follow;
mod store;
mod test_cases;
mod upload;

use std::sync::Arc;

use sqlx::PgPool;
use uuid::Uuid;

use super::{ChainAccess, DomainError};
use crate::db::bindings as db;
use crate::plugins::ComponentRegistry;
use crate::plugins::{Hook, LoadError, PluginRuntime};

pub use crate::db::bindings::{AuditEntry, Binding, ChainComponent};
pub use bindings::{CanaryRequest, CanaryState, HookBinding};
pub use follow::{CHANNEL, UPLOADS_CHANNEL, follow};
pub use store::StoredComponents;
pub use test_cases::ChainCases;
pub use upload::Uploaded;

/// The chain-components service.
#[derive(Clone)]
pub struct ChainComponents {
    pool: PgPool,
    plugins: Arc<PluginRuntime>,
    registry: Arc<ComponentRegistry>,
}

/// A component of the chain, and whether one of its hooks is bound to it.
#[derive(Debug)]
pub struct Listed {
    /// The record.
    pub component: ChainComponent,
    /// Bound to one of the chain's hooks.
    pub bound: bool,
}

impl ChainComponents {
    /// The service over its dependencies.
    pub fn new(
        pool: PgPool,
        plugins: Arc<PluginRuntime>,
        registry: Arc<ComponentRegistry>,
    ) -> Self {
        Self {
            pool,
            plugins,
            registry,
        }
    }

    /// The largest component `hook` accepts, in bytes (the edge stops reading past it).
    pub fn size_cap(&self, hook: Hook) -> u64 {
        self.plugins.limits(hook).max_component_bytes
    }

    /// The chain's uploads, newest first.
    pub async fn list(&self, access: &ChainAccess) -> Result<Vec<Listed>, DomainError> {
        let chain = access.chain();
        let mut conn = self.pool.acquire().await?;
        let bound: Vec<String> = db::bindings(&mut conn, chain)
            .await?
            .into_iter()
            .map(|b| b.component_id)
            .collect();
        Ok(db::components(&mut conn, chain)
            .await?
            .into_iter()
            .map(|component| Listed {
                bound: bound.contains(&component.component_id),
                component,
            })
            .collect())
    }

    /// Every upload, binding change, breaker trip, canary, shadow and replay request of the
    /// chain, oldest first.
    pub async fn audit(
        &self,
        access: &ChainAccess,
        after: Option<Uuid>,
        fetch: i64,
    ) -> Result<Vec<AuditEntry>, DomainError> {
        let chain = access.chain();
        let mut conn = self.pool.acquire().await?;
        Ok(db::audit_trail(&mut conn, chain, after, fetch).await?)
    }
}

fn no_such_component() -> DomainError {
    DomainError::NotFound("no such component".into())
}

/// A component that did not load: too large, the replica busy compiling, or not a valid
/// component of the hook.
fn load_refusal(e: LoadError) -> DomainError {
    match e {
        LoadError::TooLarge { limit, .. } => DomainError::ComponentTooLarge { cap: limit },
        LoadError::Busy(why) => DomainError::PluginBusy {
            message: why,
            retry_after: std::time::Duration::from_secs(1),
        },
        e => DomainError::InvalidComponent(e.to_string()),
    }
}
