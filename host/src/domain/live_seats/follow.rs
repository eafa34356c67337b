//! Keeping this replica's seat maps true: LISTEN for every replica's seat announcements, a
//! re-read of every map after each (re)connection and every `reconcile_every`, and a 100 ms
//! clock for the holds of streamed shows that run out.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::LiveSeats;

/// The NOTIFY channel of seat changes (migration 0020).
pub const CHANNEL: &str = "cineflow_seats";

/// How often the clock frees run-out holds in streamed maps (reads do it themselves).
const TICK: Duration = Duration::from_millis(100);

/// Follows seat announcements until `shutdown`.
pub async fn follow(live: Arc<LiveSeats>, pool: PgPool, shutdown: CancellationToken) {
    let mut reconcile = tokio::time::interval(live.settings().reconcile_every);
    reconcile.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut reconciling = Reconciling(None);
    while !shutdown.is_cancelled() {
        let mut listener = match connect(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot LISTEN for seat changes; retrying");
                // Without announcements every map may go stale: each read re-reads its show
                // until the connection is back.
                live.stale_all();
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        // Anything that changed while nobody listened.
        live.stale_all();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = tick.tick() => live.tick_streamed(),
                _ = reconcile.tick() => {
                    // Off this loop, so that announcements keep flowing meanwhile; one pass
                    // at a time.
                    if reconciling.0.as_ref().is_none_or(tokio::task::JoinHandle::is_finished) {
                        let live = live.clone();
                        reconciling.0 = Some(tokio::spawn(async move { live.reconcile().await }));
                    }
                }
                received = listener.try_recv() => match received {
                    Ok(Some(n)) => live.announce(n.payload()),
                    Ok(None) => {
                        tracing::warn!("seat announcements' connection dropped; reconnecting");
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "seat announcements lost; reconnecting");
                        break;
                    }
                }
            }
        }
        live.stale_all();
    }
}

/// The reconcile pass in flight, stopped when following stops.
struct Reconciling(Option<tokio::task::JoinHandle<()>>);

impl Drop for Reconciling {
    fn drop(&mut self) {
        if let Some(task) = &self.0 {
            task.abort();
        }
    }
}

async fn connect(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = crate::db::listener(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}
