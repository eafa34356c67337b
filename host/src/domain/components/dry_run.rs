//! Dry runs: one of the chain's components on an input, under the same sandbox, limits and
//! fair share as a real call, touching no data.

use serde_json::Value;

use super::{ChainComponents, db, no_such_component};
use crate::domain::{ChainAccess, DomainError};
use crate::plugins::invoke::{self, Invocation};
use crate::plugins::{FailureKind, Hook, LoadError, Tenant};

impl ChainComponents {
    /// Runs `component` of `chain` on `input` (the hook's input record as JSON). A chain over
    /// its fair share is answered like its bookings (busy, and when to retry); any other
    /// failure of the call is part of the result.
    pub async fn dry_run(
        &self,
        access: &ChainAccess,
        component: &str,
        input: Value,
    ) -> Result<Invocation, DomainError> {
        let chain = access.chain();
        let mut conn = self.pool.acquire().await?;
        let record = db::component(&mut conn, chain, component)
            .await?
            .ok_or_else(no_such_component)?;
        let hook: Hook = record.hook.parse().map_err(|_| {
            DomainError::Internal(format!("stored component of unknown hook {}", record.hook))
        })?;
        let loaded = match self.plugins.cached(&record.component_id, hook) {
            Some(c) => c,
            None => {
                let bytes = db::bytes(&mut conn, &record.component_id)
                    .await?
                    .ok_or_else(no_such_component)?;
                match self
                    .plugins
                    .load_for(Tenant::Chain(chain), hook, &bytes)
                    .await
                {
                    Ok(c) => c,
                    Err(LoadError::Busy(why)) => {
                        return Err(DomainError::PluginBusy {
                            message: why,
                            retry_after: std::time::Duration::from_secs(1),
                        });
                    }
                    Err(e) => return Err(DomainError::InvalidComponent(e.to_string())),
                }
            }
        };
        drop(conn);
        let invocation = invoke::invoke(&self.plugins, Tenant::Chain(chain), &loaded, input)
            .await
            .map_err(|reason| DomainError::invalid("input", reason))?;
        if let Err(e) = &invocation.outcome
            && e.kind == FailureKind::Busy
        {
            return Err(DomainError::PluginBusy {
                message: e.message.clone(),
                retry_after: e.retry_after.unwrap_or(std::time::Duration::from_secs(1)),
            });
        }
        Ok(invocation)
    }
}
