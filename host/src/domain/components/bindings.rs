//! Which component serves each hook of a chain: bind (closing an open breaker), unbind (back
//! to the platform default), and the state of every hook. A change is in force on this
//! replica when the use case returns and on every other within a second (the registry
//! follows PostgreSQL notifications).

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
    fn hook_binding(&self, hook: Hook, binding: Option<Binding>) -> HookBinding {
        HookBinding {
            hook,
            binding,
            default_component: self.registry.default_for(hook).map(|d| d.id.clone()),
        }
    }

    /// Every hook of the chain, and the chain's use of its fair share on this replica.
    pub async fn bindings(
        &self,
        access: &ChainAccess,
    ) -> Result<(Vec<HookBinding>, ChainUsage), DomainError> {
        let chain = access.chain();
        let mut conn = self.pool.acquire().await?;
        let rows = db::bindings(&mut conn, chain).await?;
        drop(conn);
        let hooks = Hook::ALL
            .into_iter()
            .map(|hook| {
                let row = rows.iter().find(|b| b.hook == hook.as_str()).cloned();
                self.hook_binding(hook, row)
            })
            .collect();
        Ok((hooks, self.plugins.share().usage(chain)))
    }

    /// Binds `hook` to one of the chain's components of that hook, with a failure policy
    /// (the hook's default when `None`).
    pub async fn bind(
        &self,
        access: &ChainAccess,
        hook: Hook,
        component: &str,
        on_failure: Option<OnFailure>,
    ) -> Result<HookBinding, DomainError> {
        let chain = access.chain();
        let mut tx = self.pool.begin().await?;
        let on_failure = on_failure.unwrap_or(OnFailure::default_for(hook));
        let known = db::component(&mut tx, chain, component)
            .await?
            .filter(|c| c.hook == hook.as_str());
        if known.is_none() {
            return Err(DomainError::invalid(
                "component_id",
                format!("not one of this chain's {hook} components (upload it first)"),
            ));
        }
        let (binding, previous) = db::bind(
            &mut tx,
            chain,
            hook.as_str(),
            component,
            on_failure.as_str(),
            access.actor().id(),
        )
        .await?;
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
        tx.commit().await?;
        self.registry.reload_chain(chain).await.map_err(|e| {
            DomainError::Internal(format!("the binding is stored but not loaded here: {e}"))
        })?;
        Ok(self.hook_binding(hook, Some(binding)))
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
        tx.commit().await?;
        self.registry.reload_chain(chain).await.map_err(|e| {
            DomainError::Internal(format!("the change is stored but not loaded here: {e}"))
        })
    }
}
