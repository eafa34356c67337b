//! Keeping this replica's table of bindings current: reloads of one chain or of all of them,
//! and compiling an upload ahead of any binding. What triggers them (LISTEN/NOTIFY, the
//! periodic reconcile) is the domain's follower, `domain::components::follow`.

use std::collections::HashMap;

use uuid::Uuid;

use std::sync::Arc;

use super::{
    Active, ActiveCanary, ActiveShadow, BoundComponent, ComponentRegistry, OnFailure, ShadowSpec,
};
use crate::plugins::{Hook, LoadedComponent};

impl ComponentRegistry {
    /// Re-reads `chain`'s bindings and swaps them in.
    pub async fn reload_chain(&self, chain: Uuid) -> anyhow::Result<()> {
        let _serial = self.reloading.lock().await;
        let rows = self.source.bindings(Some(chain)).await?;
        let shadow_rows = self.source.shadows(Some(chain)).await?;
        let loaded = self.load(&rows).await?;
        let shadows = self.load_shadows(&shadow_rows).await?;
        let mut active = self.active.write().unwrap_or_else(|e| e.into_inner());
        active.retain(|(c, _), _| *c != chain);
        active.extend(loaded);
        drop(active);
        let mut active = self.shadows.write().unwrap_or_else(|e| e.into_inner());
        active.retain(|(c, _), _| *c != chain);
        active.extend(shadows);
        Ok(())
    }

    /// Re-reads every binding and swaps the whole table in.
    pub async fn reload_all(&self) -> anyhow::Result<()> {
        let _serial = self.reloading.lock().await;
        let rows = self.source.bindings(None).await?;
        let shadow_rows = self.source.shadows(None).await?;
        let loaded = self.load(&rows).await?;
        let shadows = self.load_shadows(&shadow_rows).await?;
        *self.active.write().unwrap_or_else(|e| e.into_inner()) = loaded;
        *self.shadows.write().unwrap_or_else(|e| e.into_inner()) = shadows;
        Ok(())
    }

    async fn load(&self, rows: &[BoundComponent]) -> anyhow::Result<HashMap<(Uuid, Hook), Active>> {
        let mut out = HashMap::with_capacity(rows.len());
        for row in rows {
            let Ok(hook) = row.hook.parse::<Hook>() else {
                continue;
            };
            let loaded = self.load_one(hook, &row.component_id).await?;
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
                    canary: self.load_canary(row, hook).await?,
                },
            );
        }
        Ok(out)
    }

    /// The binding's canary, if it has one that loads here (one that does not is left out:
    /// everyone is served by the stable component, which is the safe side).
    async fn load_canary(
        &self,
        row: &BoundComponent,
        hook: Hook,
    ) -> anyhow::Result<Option<ActiveCanary>> {
        let Some(spec) = &row.canary else {
            return Ok(None);
        };
        Ok(match self.load_one(hook, &spec.component_id).await? {
            Ok(component) => Some(ActiveCanary {
                component,
                percent: spec.percent,
            }),
            Err(reason) => {
                tracing::warn!(chain = %row.chain, %hook, component = %spec.component_id, %reason, "canary does not load on this replica; the stable component serves everyone");
                None
            }
        })
    }

    async fn load_shadows(
        &self,
        rows: &[ShadowSpec],
    ) -> anyhow::Result<HashMap<(Uuid, Hook), ActiveShadow>> {
        let mut out = HashMap::with_capacity(rows.len());
        for row in rows {
            let Ok(hook) = row.hook.parse::<Hook>() else {
                continue;
            };
            match self.load_one(hook, &row.component_id).await? {
                Ok(component) => {
                    out.insert(
                        (row.chain, hook),
                        ActiveShadow {
                            component,
                            sample_percent: row.sample_percent,
                        },
                    );
                }
                Err(reason) => {
                    tracing::warn!(chain = %row.chain, %hook, component = %row.component_id, %reason, "shadow does not load on this replica");
                }
            }
        }
        Ok(out)
    }

    /// Component `id` of `hook`, compiled (or from the cache); the inner `Err` says why it
    /// does not load, the outer one that storage could not be read.
    async fn load_one(
        &self,
        hook: Hook,
        id: &str,
    ) -> anyhow::Result<Result<Arc<LoadedComponent>, String>> {
        if let Some(hit) = self.plugins.cached(id, hook) {
            return Ok(Ok(hit));
        }
        Ok(match self.source.bytes(id).await? {
            None => Err("its bytes are not stored".to_owned()),
            Some(bytes) => self
                .plugins
                .load(hook, &bytes)
                .await
                .map_err(|e| e.to_string()),
        })
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
