//! Which component serves each hook of a chain: bind (closing an open breaker), unbind (back
//! to the platform default), and the state of every hook. A change is in force on this
//! replica when the use case returns and on every other within a second (the registry
//! follows PostgreSQL notifications).

use crate::domain::webhooks::events::{self as webhooks, ComponentData, Event};
use serde_json::json;

use super::{Binding, ChainComponents, db};
use crate::domain::{ChainAccess, DomainError};
use crate::plugins::OnFailure;
use crate::plugins::{ChainUsage, Hook};

/// One hook of a chain: its binding (if any) and the platform default.
#[derive(Debug, Clone)]
pub struct HookBinding {
    /// The hook.
    pub hook: Hook,
    /// The chain's binding.
    pub binding: Option<Binding>,
    /// The platform default's id.
    pub default_component: Option<String>,
    /// The binding's canary and its record, from the run log.
    pub canary: Option<CanaryState>,
}

/// A binding's canary.
#[derive(Debug, Clone)]
pub struct CanaryState {
    /// The candidate.
    pub component_id: String,
    /// The share of customers it serves.
    pub percent: u8,
    /// Since when.
    pub since: chrono::DateTime<chrono::Utc>,
    /// Calls it served since (every replica, from the run log).
    pub calls: i64,
    /// Of which failed.
    pub failures: i64,
}

/// A canary to set with a binding.
#[derive(Debug, Clone)]
pub struct CanaryRequest {
    /// The candidate (one of the chain's components of the hook, not the stable one).
    pub component_id: String,
    /// The share of customers it serves, 1..=99.
    pub percent: u8,
}

impl HookBinding {
    /// The breaker is open: the default serves until the hook is bound again.
    pub fn tripped(&self) -> bool {
        self.binding
            .as_ref()
            .is_some_and(|b| b.tripped_at.is_some())
    }

    /// The component serving the hook now: the bound one, or the default (no binding, or
    /// the breaker is open).
    pub fn serving(&self) -> Option<&str> {
        match &self.binding {
            Some(b) if !self.tripped() => Some(&b.component_id),
            _ => self.default_component.as_deref(),
        }
    }

    /// What a failure of the bound component leads to.
    pub fn on_failure(&self) -> OnFailure {
        self.binding
            .as_ref()
            .and_then(|b| OnFailure::parse(&b.on_failure))
            .unwrap_or(OnFailure::default_for(self.hook))
    }
}

impl ChainComponents {
    async fn hook_binding(
        &self,
        conn: &mut sqlx::PgConnection,
        hook: Hook,
        binding: Option<Binding>,
    ) -> Result<HookBinding, DomainError> {
        let canary = match binding.as_ref().map(|b| {
            (
                b.chain_id,
                b.canary_component_id.as_ref(),
                b.canary_percent,
                b.canary_since,
            )
        }) {
            Some((chain, Some(component), Some(percent), Some(since))) => {
                let (calls, failures) =
                    crate::db::runs::canary_counts(conn, chain, component, since).await?;
                Some(CanaryState {
                    component_id: component.clone(),
                    percent: u8::try_from(percent.clamp(0, 100)).unwrap_or(0),
                    since,
                    calls,
                    failures,
                })
            }
            _ => None,
        };
        Ok(HookBinding {
            hook,
            binding,
            default_component: self.registry.default_for(hook).map(|d| d.id.clone()),
            canary,
        })
    }

    /// Every hook of the chain, and the chain's use of its fair share on this replica.
    pub async fn bindings(
        &self,
        access: &ChainAccess,
    ) -> Result<(Vec<HookBinding>, ChainUsage), DomainError> {
        let chain = access.chain();
        let mut conn = self.pool.acquire().await?;
        let rows = db::bindings(&mut conn, chain).await?;
        let mut hooks = Vec::with_capacity(Hook::ALL.len());
        for hook in Hook::ALL {
            let row = rows.iter().find(|b| b.hook == hook.as_str()).cloned();
            hooks.push(self.hook_binding(&mut conn, hook, row).await?);
        }
        Ok((hooks, self.plugins.share().usage(chain)))
    }

    /// Binds `hook` to one of the chain's components of that hook, with a failure policy
    /// (the hook's default when `None`) and optionally a canary serving a share of the
    /// customers (a binding without one removes any canary).
    pub async fn bind(
        &self,
        access: &ChainAccess,
        hook: Hook,
        component: &str,
        on_failure: Option<OnFailure>,
        canary: Option<&CanaryRequest>,
    ) -> Result<HookBinding, DomainError> {
        let chain = access.chain();
        let mut tx = self.pool.begin().await?;
        let on_failure = on_failure.unwrap_or(OnFailure::default_for(hook));
        let is_ours = async |tx: &mut sqlx::PgConnection, id: &str| -> Result<bool, DomainError> {
            Ok(db::component(tx, chain, id)
                .await?
                .is_some_and(|c| c.hook == hook.as_str()))
        };
        if !is_ours(&mut tx, component).await? {
            return Err(DomainError::invalid(
                "component_id",
                format!("not one of this chain's {hook} components (upload it first)"),
            ));
        }
        if let Some(c) = canary {
            if !(1..=99).contains(&c.percent) {
                return Err(DomainError::invalid(
                    "canary.percent",
                    "must be between 1 and 99",
                ));
            }
            if c.component_id == component {
                return Err(DomainError::invalid(
                    "canary.component_id",
                    "must differ from the bound component",
                ));
            }
            if !is_ours(&mut tx, &c.component_id).await? {
                return Err(DomainError::invalid(
                    "canary.component_id",
                    format!("not one of this chain's {hook} components (upload it first)"),
                ));
            }
        }
        let had_canary = db::bindings(&mut tx, chain)
            .await?
            .into_iter()
            .find(|b| b.hook == hook.as_str())
            .and_then(|b| b.canary_component_id);
        let (binding, previous) = db::bind(
            &mut tx,
            chain,
            hook.as_str(),
            component,
            on_failure.as_str(),
            access.actor().id(),
            canary.map(|c| (c.component_id.as_str(), i32::from(c.percent))),
        )
        .await?;
        match (canary, had_canary) {
            (Some(c), _) => {
                db::audit(
                    &mut tx,
                    chain,
                    "canary-set",
                    hook.as_str(),
                    Some(&c.component_id),
                    Some(access.actor().id()),
                    json!({ "percent": c.percent, "stable": component }),
                )
                .await?;
            }
            (None, Some(old)) => {
                db::audit(
                    &mut tx,
                    chain,
                    "canary-removed",
                    hook.as_str(),
                    Some(&old),
                    Some(access.actor().id()),
                    json!({}),
                )
                .await?;
            }
            (None, None) => {}
        }
        db::audit(
            &mut tx,
            chain,
            "bound",
            hook.as_str(),
            Some(component),
            Some(access.actor().id()),
            json!({ "previous": previous, "on_failure": on_failure.as_str() }),
        )
        .await?;
        let bound = Event::ComponentBound(ComponentData {
            hook: hook.as_str().to_owned(),
            component_id: Some(component.to_owned()),
            reason: None,
        });
        webhooks::emit(&mut tx, chain, bound).await?;
        tx.commit().await?;
        self.registry.reload_chain(chain).await.map_err(|e| {
            DomainError::Internal(format!("the binding is stored but not loaded here: {e}"))
        })?;
        let mut conn = self.pool.acquire().await?;
        self.hook_binding(&mut conn, hook, Some(binding)).await
    }

    /// Unbinds `hook`: the chain gets the platform default again (its components stay, for
    /// a later rebind).
    pub async fn unbind(&self, access: &ChainAccess, hook: Hook) -> Result<(), DomainError> {
        let chain = access.chain();
        let mut tx = self.pool.begin().await?;
        let Some(previous) = db::unbind(&mut tx, chain, hook.as_str()).await? else {
            return Err(DomainError::NotFound("this hook is not bound".into()));
        };
        db::audit(
            &mut tx,
            chain,
            "unbound",
            hook.as_str(),
            Some(&previous),
            Some(access.actor().id()),
            json!({}),
        )
        .await?;
        let unbound = Event::ComponentUnbound(ComponentData {
            hook: hook.as_str().to_owned(),
            component_id: Some(previous.clone()),
            reason: None,
        });
        webhooks::emit(&mut tx, chain, unbound).await?;
        tx.commit().await?;
        self.registry.reload_chain(chain).await.map_err(|e| {
            DomainError::Internal(format!("the change is stored but not loaded here: {e}"))
        })
    }
}
