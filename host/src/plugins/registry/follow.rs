//! Keeping this replica's table of bindings current: reloads of one chain or of all of them,
//! LISTEN/NOTIFY for binding changes and uploads (compiled here ahead of any binding), and a
//! periodic reconcile in case a notification was missed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{Active, CHANNEL, ComponentRegistry, OnFailure, UPLOADS_CHANNEL};
use crate::db::bindings as db;
use crate::plugins::Hook;

impl ComponentRegistry {
    /// Re-reads `chain`'s bindings and swaps them in.
    pub async fn reload_chain(&self, chain: Uuid) -> anyhow::Result<()> {
        let _serial = self.reloading.lock().await;
        let rows = {
            let mut conn = self.db.acquire().await?;
            db::bindings(&mut conn, chain).await?
        };
        let loaded = self.load(&rows).await?;
        let mut active = self.active.write().unwrap_or_else(|e| e.into_inner());
        active.retain(|(c, _), _| *c != chain);
        active.extend(loaded);
        Ok(())
    }

    /// Re-reads every binding and swaps the whole table in.
    pub async fn reload_all(&self) -> anyhow::Result<()> {
        let _serial = self.reloading.lock().await;
        let rows = {
            let mut conn = self.db.acquire().await?;
            db::all_bindings(&mut conn).await?
        };
        let loaded = self.load(&rows).await?;
        *self.active.write().unwrap_or_else(|e| e.into_inner()) = loaded;
        Ok(())
    }

    async fn load(&self, rows: &[db::Binding]) -> anyhow::Result<HashMap<(Uuid, Hook), Active>> {
        let mut out = HashMap::with_capacity(rows.len());
        for row in rows {
            let Ok(hook) = row.hook.parse::<Hook>() else {
                continue;
            };
            let loaded = match self.plugins.cached(&row.component_id, hook) {
                Some(hit) => Ok(hit),
                None => {
                    let bytes = {
                        let mut conn = self.db.acquire().await?;
                        db::bytes(&mut conn, &row.component_id).await?
                    };
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
                    tracing::warn!(chain = %row.chain_id, %hook, component = %row.component_id, %reason, policy = on_failure.as_str(), "bound component does not load on this replica");
                    (None, Some(reason))
                }
            };
            out.insert(
                (row.chain_id, hook),
                Active {
                    component,
                    component_id: row.component_id.clone(),
                    broken,
                    on_failure,
                    tripped: row.tripped_at.is_some(),
                },
            );
        }
        Ok(out)
    }

    /// Compiles an uploaded component (`<hook>:<sha256>`) on this replica ahead of any binding.
    async fn precompile(&self, payload: &str) {
        let Some((hook, id)) = payload.split_once(':') else {
            return;
        };
        let Ok(hook) = hook.parse::<Hook>() else {
            return;
        };
        if self.plugins.cached(id, hook).is_some() {
            return;
        }
        let bytes = match self.db.acquire().await {
            Ok(mut conn) => db::bytes(&mut conn, id).await,
            Err(e) => Err(e),
        };
        match bytes {
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

    /// Follows binding changes until `shutdown`: LISTEN for single chains, a full reconcile
    /// on every (re)connection and periodically.
    pub async fn follow(self: Arc<Self>, shutdown: CancellationToken) {
        let mut reconcile = tokio::time::interval(self.settings.reconcile_every);
        reconcile.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !shutdown.is_cancelled() {
            let mut listener = match PgListener::connect_with(&self.db).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot LISTEN for binding changes; retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            };
            if let Err(e) = listener.listen_all([CHANNEL, UPLOADS_CHANNEL]).await {
                tracing::warn!(error = %e, "LISTEN cineflow_bindings failed; retrying");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
            // Anything changed while we were not listening.
            if let Err(e) = self.reload_all().await {
                tracing::warn!(error = %e, "reloading bindings failed");
            }
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    _ = reconcile.tick() => {
                        if let Err(e) = self.reload_all().await {
                            tracing::warn!(error = %e, "reconciling bindings failed");
                        }
                    }
                    received = listener.try_recv() => match received {
                        Ok(Some(n)) if n.channel() == UPLOADS_CHANNEL => {
                            let registry = self.clone();
                            let payload = n.payload().to_owned();
                            tokio::spawn(async move { registry.precompile(&payload).await });
                        }
                        Ok(Some(n)) => {
                            let result = match n.payload().parse::<Uuid>() {
                                Ok(chain) => self.reload_chain(chain).await,
                                Err(_) => self.reload_all().await,
                            };
                            if let Err(e) = result {
                                tracing::warn!(error = %e, "reloading bindings failed");
                            }
                        }
                        // The connection dropped: reconnect and reconcile.
                        Ok(None) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "binding notifications lost; reconnecting");
                            break;
                        }
                    }
                }
            }
        }
    }
}
