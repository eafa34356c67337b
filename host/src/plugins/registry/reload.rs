//! Keeping this replica's table of bindings current: reloads of one chain or of all of them,
//! and compiling an upload ahead of any binding. What triggers them (LISTEN/NOTIFY, the
//! periodic reconcile) is the domain's follower, `domain::components::follow`.

use std::collections::HashMap;

use uuid::Uuid;

use super::{Active, BoundComponent, ComponentRegistry, OnFailure};
use crate::plugins::Hook;

impl ComponentRegistry {
    /// Re-reads `chain`'s bindings and swaps them in.
    pub async fn reload_chain(&self, chain: Uuid) -> anyhow::Result<()> {
        let _serial = self.reloading.lock().await;
        let rows = self.source.bindings(Some(chain)).await?;
        let loaded = self.load(&rows).await?;
        let mut active = self.active.write().unwrap_or_else(|e| e.into_inner());
        active.retain(|(c, _), _| *c != chain);
        active.extend(loaded);
        Ok(())
    }

    /// Re-reads every binding and swaps the whole table in.
    pub async fn reload_all(&self) -> anyhow::Result<()> {
        let _serial = self.reloading.lock().await;
        let rows = self.source.bindings(None).await?;
        let loaded = self.load(&rows).await?;
        *self.active.write().unwrap_or_else(|e| e.into_inner()) = loaded;
        Ok(())
    }

    async fn load(&self, rows: &[BoundComponent]) -> anyhow::Result<HashMap<(Uuid, Hook), Active>> {
        let mut out = HashMap::with_capacity(rows.len());
        for row in rows {
            let Ok(hook) = row.hook.parse::<Hook>() else {
                continue;
            };
            let loaded = match self.plugins.cached(&row.component_id, hook) {
                Some(hit) => Ok(hit),
                None => {
                    let bytes = self.source.bytes(&row.component_id).await?;
                    match bytes {
                        None => Err("its bytes are not stored".to_owned()),
                        Some(bytes) => self
                            .plugins
                            .load(hook, &bytes)
                            .await
                            .map_err(|e| e.to_string()),
                    }
                }
            };
            let on_failure =
                OnFailure::parse(&row.on_failure).unwrap_or(OnFailure::default_for(hook));
            let (component, broken) = match loaded {
                Ok(c) => (Some(c), None),
                Err(reason) => {
                    tracing::warn!(chain = %row.chain, %hook, component = %row.component_id, %reason, policy = on_failure.as_str(), "bound component does not load on this replica");
                    (None, Some(reason))
                }
            };
            out.insert(
                (row.chain, hook),
                Active {
                    component,
                    component_id: row.component_id.clone(),
                    broken,
                    on_failure,
                    tripped: row.tripped,
                },
            );
        }
        Ok(out)
    }

    /// Compiles an uploaded component (`<hook>:<sha256>`) on this replica ahead of any binding.
    pub async fn precompile(&self, payload: &str) {
        let Some((hook, id)) = payload.split_once(':') else {
            return;
        };
        let Ok(hook) = hook.parse::<Hook>() else {
            return;
        };
        if self.plugins.cached(id, hook).is_some() {
            return;
        }
        match self.source.bytes(id).await {
            Ok(Some(bytes)) => {
                if let Err(e) = self.plugins.load(hook, &bytes).await {
                    tracing::warn!(%hook, component = id, error = %e, "an uploaded component does not load on this replica");
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::debug!(error = %e, "could not read an uploaded component to precompile it")
            }
        }
    }
}
