//! The registry's storage, over `db::bindings` and `db::components`: which component each
//! chain bound, the components' bytes, the breaker's trips with their audit entries, and the
//! platform defaults. The plugins layer asks through its `BindingSource` and `BreakerLog`
//! traits (start-up through `DefaultsStore`) and never sees SQL.

use crate::domain::webhooks::events::{self as webhooks, ComponentData, Event};
use futures_util::future::BoxFuture;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::bindings as db;
use crate::defaults::DefaultsStore;
use crate::plugins::Hook;
use crate::plugins::registry::{BindingSource, BoundComponent, BreakerLog, CanarySpec, ShadowSpec};

/// Bindings, bytes, breaker trips and the platform defaults in PostgreSQL.
#[derive(Debug, Clone)]
pub struct StoredComponents {
    pool: PgPool,
}

impl StoredComponents {
    /// Over `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

impl From<db::Binding> for BoundComponent {
    fn from(b: db::Binding) -> Self {
        Self {
            chain: b.chain_id,
            hook: b.hook,
            component_id: b.component_id,
            on_failure: b.on_failure,
            tripped: b.tripped_at.is_some(),
            canary: match (b.canary_component_id, b.canary_percent) {
                (Some(component_id), Some(percent)) => Some(CanarySpec {
                    component_id,
                    percent: u8::try_from(percent.clamp(0, 100)).unwrap_or(0),
                }),
                _ => None,
            },
        }
    }
}

impl BindingSource for StoredComponents {
    fn bindings(&self, chain: Option<Uuid>) -> BoxFuture<'_, anyhow::Result<Vec<BoundComponent>>> {
        Box::pin(async move {
            let mut conn = self.pool.acquire().await?;
            let rows = match chain {
                Some(chain) => db::bindings(&mut conn, chain).await?,
                None => db::all_bindings(&mut conn).await?,
            };
            Ok(rows.into_iter().map(BoundComponent::from).collect())
        })
    }

    fn shadows(&self, chain: Option<Uuid>) -> BoxFuture<'_, anyhow::Result<Vec<ShadowSpec>>> {
        Box::pin(async move {
            let mut conn = self.pool.acquire().await?;
            let rows = crate::db::shadows::all(&mut conn, chain).await?;
            Ok(rows
                .into_iter()
                .map(|s| ShadowSpec {
                    chain: s.chain_id,
                    hook: s.hook,
                    component_id: s.component_id,
                    sample_percent: u8::try_from(s.sample_percent.clamp(1, 100)).unwrap_or(100),
                })
                .collect())
        })
    }

    fn bytes<'a>(&'a self, id: &'a str) -> BoxFuture<'a, anyhow::Result<Option<Vec<u8>>>> {
        Box::pin(async move {
            let mut conn = self.pool.acquire().await?;
            Ok(db::bytes(&mut conn, id).await?)
        })
    }
}

impl BreakerLog for StoredComponents {
    fn trip<'a>(
        &'a self,
        chain: Uuid,
        hook: Hook,
        component: &'a str,
        reason: &'a str,
    ) -> BoxFuture<'a, anyhow::Result<bool>> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
            if !db::trip(&mut tx, chain, hook.as_str(), component, reason).await? {
                return Ok(false);
            }
            db::audit(
                &mut tx,
                chain,
                "breaker-tripped",
                hook.as_str(),
                Some(component),
                None,
                json!({ "reason": reason }),
            )
            .await?;
            let tripped = Event::ComponentBreakerTripped(incident(hook, component, reason));
            webhooks::emit(&mut tx, chain, tripped).await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    fn trip_canary<'a>(
        &'a self,
        chain: Uuid,
        hook: Hook,
        component: &'a str,
        reason: &'a str,
    ) -> BoxFuture<'a, anyhow::Result<bool>> {
        self.remove_canary(chain, hook, component, reason)
    }
}

impl StoredComponents {
    fn remove_canary<'a>(
        &'a self,
        chain: Uuid,
        hook: Hook,
        component: &'a str,
        reason: &'a str,
    ) -> BoxFuture<'a, anyhow::Result<bool>> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
            if !db::remove_canary(&mut tx, chain, hook.as_str(), component).await? {
                return Ok(false);
            }
            db::audit(
                &mut tx,
                chain,
                "canary-tripped",
                hook.as_str(),
                Some(component),
                None,
                json!({ "reason": reason }),
            )
            .await?;
            let rolled_back = Event::ComponentCanaryRolledBack(incident(hook, component, reason));
            webhooks::emit(&mut tx, chain, rolled_back).await?;
            tx.commit().await?;
            Ok(true)
        })
    }
}

impl DefaultsStore for StoredComponents {
    fn store_default<'a>(
        &'a self,
        hook: Hook,
        id: &'a str,
        bytes: &'a [u8],
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
            // Every hook has a default, stored at start-up: so the hook's row exists before
            // any chain can upload a component for it, with no migration per hook.
            crate::db::components::register_hook(&mut tx, hook.as_str()).await?;
            crate::db::components::insert_if_absent(&mut tx, id, bytes).await?;
            crate::db::components::set_platform_default(&mut tx, hook.as_str(), id).await?;
            tx.commit().await?;
            Ok(())
        })
    }
}

/// The webhook data of a breaker trip or a canary rollback.
fn incident(hook: Hook, component: &str, reason: &str) -> ComponentData {
    ComponentData {
        hook: hook.as_str().to_owned(),
        component_id: Some(component.to_owned()),
        reason: Some(reason.to_owned()),
    }
}
