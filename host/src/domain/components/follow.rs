//! Following binding changes on this replica: LISTEN for single chains and for uploads
//! (compiled here ahead of any binding), a full reconcile on every (re)connection and
//! periodically, in case a notification was missed. The registry does the reloading; this is
//! where the notifications come from.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::plugins::ComponentRegistry;

/// The NOTIFY channel of binding changes (payload: the chain id; a trigger on `bindings`
/// fires it).
pub const CHANNEL: &str = "cineflow_bindings";

/// The NOTIFY channel of uploads (payload: `<hook>:<sha256>`): every replica compiles the
/// component ahead of a binding, so a later switch costs no compilation anywhere.
pub const UPLOADS_CHANNEL: &str = "cineflow_component_uploads";

/// Follows binding changes until `shutdown`: LISTEN for single chains, a full reconcile
/// on every (re)connection and periodically.
pub async fn follow(registry: Arc<ComponentRegistry>, pool: PgPool, shutdown: CancellationToken) {
    let mut reconcile = tokio::time::interval(registry.settings().reconcile_every);
    reconcile.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !shutdown.is_cancelled() {
        let mut listener = match crate::db::listener(&pool).await {
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
        if let Err(e) = registry.reload_all().await {
            tracing::warn!(error = %e, "reloading bindings failed");
        }
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = reconcile.tick() => {
                    if let Err(e) = registry.reload_all().await {
                        tracing::warn!(error = %e, "reconciling bindings failed");
                    }
                }
                received = listener.try_recv() => match received {
                    Ok(Some(n)) if n.channel() == UPLOADS_CHANNEL => {
                        let registry = registry.clone();
                        let payload = n.payload().to_owned();
                        tokio::spawn(async move { registry.precompile(&payload).await });
                    }
                    Ok(Some(n)) => {
                        let result = match n.payload().parse::<Uuid>() {
                            Ok(chain) => registry.reload_chain(chain).await,
                            Err(_) => registry.reload_all().await,
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
