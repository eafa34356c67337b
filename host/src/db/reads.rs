//! Where browsing reads go: a PostgreSQL streaming replica (`CINEFLOW_DATABASE_READ_URL`)
//! while it answers and keeps up, the primary otherwise.
//!
//! Only reads whose staleness is harmless come here (public catalogue listings and pages, and
//! later the seat-map layout): a replica may be behind the primary by its replay lag, so a
//! thing created a moment ago may not be found yet. Every write and every read a decision
//! depends on uses the primary pool directly and never this one.
//!
//! A replica that fails is not waited on: its pool has a short acquire timeout, and the first
//! failure opens a circuit that sends every read to the primary for `retry_after`; then one
//! read tries the replica again (the others stay on the primary meanwhile) and closes the
//! circuit if it gets a connection. A statement that fails on the replica (the replica went
//! away under it, or a hot-standby conflict cancelled it) is run again on the primary by
//! [`on_read_pool!`], so the client never sees the replica's loss.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgConnection, PgPool, Postgres};
use tokio_util::sync::CancellationToken;

/// How the read replica is used (`CINEFLOW_DATABASE_READ_*`).
#[derive(Debug, Clone, Copy)]
pub struct ReadSettings {
    /// Connections the replica's pool may open.
    pub max_connections: u32,
    /// Longest wait for a replica connection before the read goes to the primary.
    pub acquire_timeout: Duration,
    /// How long the replica is left alone after a failure.
    pub retry_after: Duration,
    /// Replay lag above which reads go to the primary; `None`: lag is not watched.
    pub max_lag: Option<Duration>,
}

impl Default for ReadSettings {
    fn default() -> Self {
        Self {
            max_connections: 20,
            acquire_timeout: Duration::from_millis(250),
            retry_after: Duration::from_secs(5),
            max_lag: None,
        }
    }
}

/// The replica as `/readyz` and the metrics report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaState {
    /// No `CINEFLOW_DATABASE_READ_URL`: every read is on the primary.
    NotConfigured,
    /// Browsing reads go to the replica.
    Up,
    /// The replica failed; reads are on the primary until it is tried again.
    Down,
    /// The replica answers but is further behind than `CINEFLOW_DATABASE_READ_MAX_LAG_MS`;
    /// reads are on the primary until it catches up.
    Lagging,
}

impl ReplicaState {
    /// The word `/readyz` shows.
    pub fn as_str(self) -> &'static str {
        match self {
            ReplicaState::NotConfigured => "not_configured",
            ReplicaState::Up => "up",
            ReplicaState::Down => "down",
            ReplicaState::Lagging => "lagging",
        }
    }
}

/// The read pool: the primary, and the replica if one is configured. Cheap to clone.
#[derive(Clone)]
pub struct ReadPool {
    primary: PgPool,
    replica: Option<Arc<Replica>>,
}

struct Replica {
    pool: PgPool,
    settings: ReadSettings,
    circuit: Mutex<Circuit>,
}

#[derive(Default)]
struct Circuit {
    /// Set while the replica is considered down: no read tries it before this instant (one
    /// read is let through at it, and the next trial is pushed back meanwhile).
    down_until: Option<Instant>,
    /// The lag watcher's verdict.
    lagging: bool,
}

/// A connection for a browsing read, from the replica or the primary.
pub struct ReadConn {
    conn: PoolConnection<Postgres>,
    from_replica: bool,
}

impl ReadConn {
    /// Whether it came from the replica.
    pub fn is_replica(&self) -> bool {
        self.from_replica
    }
}

impl Deref for ReadConn {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.conn
    }
}

impl DerefMut for ReadConn {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.conn
    }
}

impl ReadPool {
    /// Every read on the primary (no replica configured).
    pub fn primary_only(primary: PgPool) -> Self {
        Self {
            primary,
            replica: None,
        }
    }

    /// Reads on the replica at `url`, falling back to `primary`. The replica's pool connects
    /// lazily: a replica that is down at start-up does not stop the start (only a URL that
    /// does not parse does).
    pub fn with_replica(
        primary: PgPool,
        url: &str,
        settings: ReadSettings,
    ) -> anyhow::Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .connect_lazy(url)?;
        metrics::gauge!("cineflow_read_replica_up").set(1.0);
        Ok(Self {
            primary,
            replica: Some(Arc::new(Replica {
                pool,
                settings,
                circuit: Mutex::default(),
            })),
        })
    }

    /// The primary pool, for callers that mean the primary.
    pub fn primary(&self) -> &PgPool {
        &self.primary
    }

    /// A connection for a browsing read: the replica's when it is configured, not known to
    /// be down or lagging, and gives a connection within its acquire timeout; the primary's
    /// otherwise. Fails only when the primary gives none.
    pub async fn read(&self) -> Result<ReadConn, sqlx::Error> {
        if let Some(replica) = &self.replica
            && replica.may_try()
        {
            match replica.pool.acquire().await {
                Ok(conn) => {
                    replica.succeeded();
                    metrics::counter!("cineflow_db_reads_total", "pool" => "replica").increment(1);
                    return Ok(ReadConn {
                        conn,
                        from_replica: true,
                    });
                }
                Err(e) => replica.failed(&e),
            }
        }
        self.read_on_primary().await
    }

    /// A connection of the primary, as a [`ReadConn`] (the retry after a replica failure).
    pub async fn read_on_primary(&self) -> Result<ReadConn, sqlx::Error> {
        let conn = self.primary.acquire().await?;
        metrics::counter!("cineflow_db_reads_total", "pool" => "primary").increment(1);
        Ok(ReadConn {
            conn,
            from_replica: false,
        })
    }

    /// Called with the error of a statement run on `conn`: true when the read should run
    /// again on the primary, which is for every error on the replica. Reads are read-only,
    /// so running one again is safe, and an error the primary would give too (none is
    /// expected: "not found" is not an error) comes back from there. Every error but a
    /// hot-standby conflict also opens the circuit: the replica went away, or cannot run
    /// this binary's statements (a schema it has not replayed yet, during an upgrade). A
    /// conflict (replay cancelled the statement, SQLSTATE 40001 on a standby) says nothing
    /// against the replica.
    pub fn retry_on_primary(&self, conn: &ReadConn, e: &sqlx::Error) -> bool {
        let Some(replica) = self.replica.as_ref().filter(|_| conn.from_replica) else {
            return false;
        };
        let conflict =
            matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("40001"));
        let reason = if conflict { "conflict" } else { "failure" };
        metrics::counter!("cineflow_read_replica_retries_total", "reason" => reason).increment(1);
        if !conflict {
            replica.failed(e);
        }
        true
    }

    /// The replica's state now.
    pub fn replica_state(&self) -> ReplicaState {
        let Some(replica) = &self.replica else {
            return ReplicaState::NotConfigured;
        };
        let circuit = replica.circuit();
        if circuit.down_until.is_some() {
            ReplicaState::Down
        } else if circuit.lagging {
            ReplicaState::Lagging
        } else {
            ReplicaState::Up
        }
    }

    /// Watches the replica's replay lag once a second, if a limit is set, until `stop`;
    /// returns at once otherwise.
    pub async fn watch_lag(self, stop: CancellationToken) {
        let Some(replica) = self.replica else {
            return;
        };
        let Some(max_lag) = replica.settings.max_lag else {
            return;
        };
        let mut every = tokio::time::interval(Duration::from_secs(1));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = every.tick() => {}
            }
            // A replica known to be down is tried by reads, not by this watcher, until its
            // retry time: a lagging replica gets no reads, so after that this watcher is what
            // finds it back.
            if replica
                .circuit()
                .down_until
                .is_some_and(|until| Instant::now() < until)
            {
                continue;
            }
            match replay_lag(&replica.pool).await {
                Ok(lag) => {
                    replica.succeeded();
                    replica.set_lag(lag, max_lag);
                }
                Err(e) => replica.failed(&e),
            }
        }
    }
}

impl Replica {
    fn circuit(&self) -> MutexGuard<'_, Circuit> {
        // Two plain fields, never left half-written: a poisoned lock's data is good.
        self.circuit.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether this read may use the replica. While the circuit is open, the first read at
    /// or after `down_until` is the trial, and pushes the next one back so that the others
    /// keep going to the primary instead of waiting on a replica that may still be gone.
    fn may_try(&self) -> bool {
        let mut circuit = self.circuit();
        if circuit.lagging {
            return false;
        }
        match circuit.down_until {
            None => true,
            Some(until) => {
                let now = Instant::now();
                if now < until {
                    return false;
                }
                circuit.down_until = Some(now + self.settings.retry_after);
                true
            }
        }
    }

    fn succeeded(&self) {
        let mut circuit = self.circuit();
        if circuit.down_until.take().is_some() {
            drop(circuit);
            tracing::info!("the read replica answers again; browsing reads are back on it");
            metrics::gauge!("cineflow_read_replica_up").set(1.0);
        }
    }

    fn failed(&self, e: &sqlx::Error) {
        metrics::counter!("cineflow_read_replica_failures_total").increment(1);
        let mut circuit = self.circuit();
        let was_up = circuit.down_until.is_none();
        circuit.down_until = Some(Instant::now() + self.settings.retry_after);
        drop(circuit);
        if was_up {
            tracing::warn!(
                error = %e,
                retry_in = ?self.settings.retry_after,
                "the read replica failed; browsing reads go to the primary"
            );
            metrics::gauge!("cineflow_read_replica_up").set(0.0);
        }
    }

    fn set_lag(&self, lag: Duration, max_lag: Duration) {
        metrics::gauge!("cineflow_read_replica_lag_seconds").set(lag.as_secs_f64());
        let lagging = lag > max_lag;
        let mut circuit = self.circuit();
        let changed = circuit.lagging != lagging;
        circuit.lagging = lagging;
        drop(circuit);
        if changed && lagging {
            tracing::warn!(
                ?lag,
                ?max_lag,
                "the read replica lags; browsing reads go to the primary"
            );
        } else if changed {
            tracing::info!(
                ?lag,
                "the read replica caught up; browsing reads are back on it"
            );
        }
    }
}

/// How far the replica's replay is behind what it has received: zero when it has replayed
/// everything it received (an idle primary sends nothing, and the time since the last
/// replayed commit would otherwise grow without any lag), else the age of the last
/// replayed commit. Zero on a server that is not in recovery.
async fn replay_lag(pool: &PgPool) -> Result<Duration, sqlx::Error> {
    let ms = sqlx::query_scalar!(
        r#"select (case
             when not pg_is_in_recovery()
               or pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() then 0
             else coalesce(extract(epoch from now() - pg_last_xact_replay_timestamp()) * 1000, 0)
           end)::float8 as "lag_ms!""#
    )
    .fetch_one(pool)
    .await?;
    Ok(Duration::from_secs_f64(ms.max(0.0) / 1000.0))
}

/// Runs a browsing read on the read pool, again on the primary if the replica fails under it.
///
/// `on_read_pool!(reads, |conn| future)`: `reads` is a [`ReadPool`], `conn` is bound to a
/// `&mut PgConnection`, and `future` (evaluated once per try, so it may be built twice) yields
/// `Result<T, sqlx::Error>`. Evaluates to that result; a primary that gives no connection is
/// returned with `?` (the caller's error type converts from `sqlx::Error`).
macro_rules! on_read_pool {
    ($reads:expr, |$conn:ident| $body:expr) => {{
        let reads: &$crate::db::reads::ReadPool = &$reads;
        let mut lease = reads.read().await?;
        let first = {
            let $conn: &mut sqlx::PgConnection = &mut lease;
            $body.await
        };
        match first {
            Err(e) if reads.retry_on_primary(&lease, &e) => {
                drop(lease);
                let mut lease = reads.read_on_primary().await?;
                let $conn: &mut sqlx::PgConnection = &mut lease;
                $body.await
            }
            other => other,
        }
    }};
}
pub(crate) use on_read_pool;

#[cfg(test)]
mod tests {
    use super::*;

    /// A read pool whose replica and primary are never connected to (lazy pools).
    fn pools(retry_after: Duration) -> ReadPool {
        let primary = PgPoolOptions::new()
            .connect_lazy("postgres://postgres@127.0.0.1:1/primary")
            .expect("a URL that parses");
        let settings = ReadSettings {
            retry_after,
            ..ReadSettings::default()
        };
        ReadPool::with_replica(primary, "postgres://postgres@127.0.0.1:1/replica", settings)
            .expect("a URL that parses")
    }

    #[tokio::test]
    async fn a_failure_opens_the_circuit_and_one_read_at_a_time_tries_again() {
        let reads = pools(Duration::from_millis(50));
        let replica = reads.replica.clone().expect("a replica");
        assert_eq!(reads.replica_state(), ReplicaState::Up);
        assert!(replica.may_try());
        replica.failed(&sqlx::Error::PoolTimedOut);
        assert_eq!(reads.replica_state(), ReplicaState::Down);
        assert!(!replica.may_try(), "left alone after a failure");
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(replica.may_try(), "tried again after retry_after");
        assert!(!replica.may_try(), "by one read, not by all at once");
        assert_eq!(reads.replica_state(), ReplicaState::Down);
        replica.succeeded();
        assert_eq!(reads.replica_state(), ReplicaState::Up);
        assert!(replica.may_try());
    }

    #[tokio::test]
    async fn lag_above_the_limit_sends_reads_to_the_primary_until_it_catches_up() {
        let reads = pools(Duration::from_secs(5));
        let replica = reads.replica.clone().expect("a replica");
        let max = Duration::from_millis(500);
        replica.set_lag(Duration::from_millis(800), max);
        assert_eq!(reads.replica_state(), ReplicaState::Lagging);
        assert!(!replica.may_try());
        replica.set_lag(Duration::from_millis(100), max);
        assert_eq!(reads.replica_state(), ReplicaState::Up);
        assert!(replica.may_try());
    }
}
