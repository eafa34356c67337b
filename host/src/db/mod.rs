//! PostgreSQL: the pool, the migrations, and one module per aggregate with its SQL.

pub mod audit;
pub mod auth_limits;
pub mod bindings;
pub mod booking_reads;
pub mod booking_seats;
pub mod bookings;
pub mod chains;
pub mod components;
pub mod demo;
pub mod gift_cards;
pub mod idempotency;
pub mod movies;
pub mod outbox;
pub mod payments;
pub mod reads;
pub mod replays;
pub mod reports;
pub mod runs;
pub mod screens;
pub mod shadows;
pub mod shows;
pub mod test_cases;
pub mod theatres;
pub mod ticket_keys;
pub mod tickets;
pub mod users;
pub mod vouchers;
pub mod waitlist;
pub mod webhooks;

use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgConnection, PgPool};

pub use reads::{ReadConn, ReadPool, ReadSettings, ReplicaState};

/// The migrations in `migrations/`, embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// How a replica's connection pool is sized.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    /// Connections this replica may open (`CINEFLOW_DB_MAX_CONNECTIONS`).
    pub max_connections: u32,
    /// How long anything waits for a connection (`CINEFLOW_DB_ACQUIRE_TIMEOUT_MS`): while the
    /// database is down (connections refused) every request waits this long before its 503,
    /// so it is also how fast the API fails during an outage.
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 20,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// Opens a pool to `url`.
#[tracing::instrument(skip_all)]
pub async fn connect(url: &str, settings: PoolSettings) -> anyhow::Result<PgPool> {
    let pool = PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
        .connect(url)
        .await?;
    Ok(pool)
}

/// True when `e` says the database cannot serve right now (down, restarting, unreachable, or
/// no free connection in time), as opposed to refusing a statement: retrying later can help.
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        // Class 08: connection exceptions. 57P01–57P03: the server is shutting down (a fast
        // shutdown ends every session with 57P01), crashed, or not accepting connections yet.
        // 53300: too many connections.
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

/// Sends `payload` on the notification channel `channel`, delivered to listeners when the
/// transaction commits (and not at all if it rolls back).
#[tracing::instrument(skip(conn, payload))]
pub async fn notify(
    conn: &mut PgConnection,
    channel: &str,
    payload: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("select pg_notify($1, $2)")
        .bind(channel)
        .bind(payload)
        .execute(conn)
        .await?;
    Ok(())
}

/// A LISTEN connection of its own, outside `pool`: each follower (bindings, outbox, seat
/// maps, show contexts) holds one for the process's life, and taken from the request pool
/// they would leave it four connections short (two apps in one test, on a test database's
/// small pool, starved each other). Two connections, so that reconnecting never waits on the
/// broken one being returned.
pub async fn listener(pool: &PgPool) -> Result<sqlx::postgres::PgListener, sqlx::Error> {
    let own = PgPoolOptions::new()
        .max_connections(2)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(10))
        .connect_lazy_with((*pool.connect_options()).clone());
    sqlx::postgres::PgListener::connect_with(&own).await
}

/// Applies pending migrations.
#[tracing::instrument(skip_all)]
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// True when the database answers and every migration this binary knows is applied.
#[tracing::instrument(skip_all)]
pub async fn is_ready(pool: &PgPool) -> Result<bool, sqlx::Error> {
    let latest = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    let applied: Option<i64> =
        sqlx::query_scalar("select max(version) from _sqlx_migrations where success")
            .fetch_one(pool)
            .await?;
    Ok(applied.unwrap_or(0) >= latest)
}
