//! A process-wide cache of show contexts (the show, its theatre's, movie's and screen's names,
//! its chain's time zone), so a hold or a payment does not read five joined rows per request.
//!
//! Kept true on every replica: migration 0021's triggers NOTIFY `cineflow_show_contexts` when
//! a show, screen, theatre, movie or chain changes, and [`follow`] forgets what changed. The
//! cache is used only while that LISTEN is up (before it is, and after it dropped until it is
//! back, every read goes to the database), and a reconnection forgets everything, since
//! notifications sent meanwhile were lost. A read that raced an invalidation is not kept
//! (a generation counter). What a decision depends on is also checked where it is written: a
//! hold's insert compares the show's and chain's `updated_at` with the context's
//! (`show_hold_check`), so a hold is never decided on a price, start time, status or time zone
//! that changed, whatever a notification's delay.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::db::shows::{self, ShowContext};

/// The NOTIFY channel (payload: a show id, or empty for "forget them all").
pub const CHANNEL: &str = "cineflow_show_contexts";

/// Shows kept; past this the cache starts over (a context is a few hundred bytes).
const MAX_SHOWS: usize = 65_536;

/// Show contexts by show id.
#[derive(Default)]
pub struct ShowContexts {
    by_show: RwLock<HashMap<Uuid, Arc<ShowContext>>>,
    /// Bumped by every invalidation: a read from the database started before one is not kept.
    generation: AtomicU64,
    /// The LISTEN is up: only then may an entry be served.
    live: AtomicBool,
}

impl ShowContexts {
    /// The show's context from memory, or read with a connection of `pool` (taken only then).
    pub async fn get(
        &self,
        pool: &PgPool,
        show: Uuid,
    ) -> Result<Option<Arc<ShowContext>>, sqlx::Error> {
        if let Some(hit) = self.peek(show) {
            return Ok(Some(hit));
        }
        let mut conn = pool.acquire().await?;
        self.get_in(&mut conn, show).await
    }

    /// The show's context if this replica has it (and may serve it).
    pub fn peek(&self, show: Uuid) -> Option<Arc<ShowContext>> {
        if !self.live.load(Ordering::Acquire) {
            return None;
        }
        self.by_show
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&show)
            .cloned()
    }

    /// The show's context from memory, or read on `conn` (a transaction's, say).
    pub async fn get_in(
        &self,
        conn: &mut PgConnection,
        show: Uuid,
    ) -> Result<Option<Arc<ShowContext>>, sqlx::Error> {
        if let Some(hit) = self.peek(show) {
            return Ok(Some(hit));
        }
        let live = self.live.load(Ordering::Acquire);
        let generation = self.generation.load(Ordering::Acquire);
        let Some(ctx) = shows::context(conn, show).await? else {
            return Ok(None);
        };
        let ctx = Arc::new(ctx);
        if live {
            let mut map = self.by_show.write().unwrap_or_else(|e| e.into_inner());
            // Checked under the write lock, which every invalidation takes too.
            if self.generation.load(Ordering::Acquire) == generation {
                if map.len() >= MAX_SHOWS {
                    map.clear();
                }
                map.insert(show, ctx.clone());
            }
        }
        Ok(Some(ctx))
    }

    /// Forgets one show's context (it changed).
    pub fn forget(&self, show: Uuid) {
        let mut map = self.by_show.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        map.remove(&show);
    }

    /// Forgets every context.
    pub fn forget_all(&self) {
        let mut map = self.by_show.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        map.clear();
    }

    fn set_live(&self, live: bool) {
        // Forget first: entries kept while nobody listened may be stale.
        self.forget_all();
        self.live.store(live, Ordering::Release);
    }
}

/// Follows changes of show contexts until `shutdown`: LISTEN, forget what a notification
/// names; on every (re)connection forget everything.
pub async fn follow(contexts: Arc<ShowContexts>, pool: PgPool, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        let mut listener = match crate::db::listener(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot LISTEN for show changes; retrying");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "LISTEN cineflow_show_contexts failed; retrying");
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(Duration::from_secs(1)) => continue,
            }
        }
        contexts.set_live(true);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => {
                    contexts.set_live(false);
                    return;
                }
                received = listener.try_recv() => match received {
                    Ok(Some(n)) => match n.payload().parse::<Uuid>() {
                        Ok(show) => contexts.forget(show),
                        Err(_) => contexts.forget_all(),
                    },
                    // The connection dropped: serve from the database until we listen again.
                    Ok(None) => {
                        contexts.set_live(false);
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "show change notifications lost; reconnecting");
                        contexts.set_live(false);
                        break;
                    }
                }
            }
        }
    }
}
