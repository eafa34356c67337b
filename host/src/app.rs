//! The launch seam: `App::build` prepares everything and binds the listener (port 0 works);
//! `App::run_until` serves until the shutdown future resolves.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use sqlx::PgPool;
use tokio::net::TcpListener;

use crate::auth::AuthKeys;
use crate::config::{Config, DatabaseSource};
use crate::http::ratelimit::SigninLimits;
use crate::localdb::LocalDb;
use crate::plugins::PluginRuntime;
use crate::state::{AppState, CatalogueSettings};
use crate::{bootstrap, db, defaults, demo, http, telemetry};

/// A ready-to-serve Cineflow.
pub struct App {
    listener: TcpListener,
    router: axum::Router,
    state: AppState,
    local_db: Option<LocalDb>,
}

impl App {
    /// Connects to (or starts) the database, migrates, loads the default components and
    /// binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<App> {
        let (pool, local_db) = open_database(&config.database).await?;
        db::migrate(&pool).await.context("applying migrations")?;
        let mut app = Self::build_with_pool(config, pool).await?;
        app.local_db = local_db;
        Ok(app)
    }

    /// Like [`App::build`] on an existing, migrated pool (tests bring their own database).
    pub async fn build_with_pool(config: Config, pool: PgPool) -> anyhow::Result<App> {
        // Install the recorder before anything records (the first component load does).
        telemetry::metrics_handle();
        let plugins = Arc::new(PluginRuntime::new(config.runtime.clone())?);
        let defaults = defaults::load(&config.components_dir, &plugins, &pool).await?;
        let secret = match &config.jwt_secret {
            Some(secret) => secret.clone(),
            None if matches!(config.database, DatabaseSource::Local(_)) => {
                local_secret(&config.secret_file).await?
            }
            None => anyhow::bail!("CINEFLOW_JWT_SECRET is required when DATABASE_URL is set"),
        };
        if let Some((email, password)) = &config.admin {
            bootstrap::admin(&pool, email, password).await?;
        }
        if config.demo {
            demo::load(&pool, config.cleaning_buffer).await?;
        }
        let (per_email, per_client) = config.signin_limits;
        let state = AppState {
            db: pool,
            plugins,
            defaults: Arc::new(defaults),
            auth: AuthKeys::new(secret.as_bytes(), config.token_ttl),
            signin_limits: SigninLimits::new(per_email, per_client),
            catalogue: CatalogueSettings {
                cleaning_buffer: config.cleaning_buffer,
            },
            gateway: Arc::new(crate::gateway::TestGateway),
            seat_maps: Arc::default(),
        };
        let router = http::router(state.clone(), config.request_timeout);
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        Ok(App {
            listener,
            router,
            state,
            local_db: None,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The shared state, for tests and tools.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, lets requests in flight finish, then stops the
    /// private database if this process started one.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let addr = self.local_addr()?;
        tracing::info!(%addr, "serving HTTP");
        let limits = self.state.signin_limits.clone();
        let pruner = tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                every.tick().await;
                limits.prune();
            }
        });
        // Expired holds stop blocking seats at once (the seat ranges end at expires_at); this
        // job records them as expired and queues their emails.
        let pool = self.state.db.clone();
        let expirer = tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(15));
            loop {
                every.tick().await;
                if let Err(e) = crate::bookings::expire_due(&pool).await {
                    tracing::warn!(error = %e, "expiring holds failed; will retry");
                }
            }
        });
        let served = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        pruner.abort();
        expirer.abort();
        if let Some(local) = self.local_db {
            local.stop().await?;
        }
        served.context("HTTP server failed")
    }
}

/// The pool for `source`, starting a private cluster when no URL is configured.
pub async fn open_database(source: &DatabaseSource) -> anyhow::Result<(PgPool, Option<LocalDb>)> {
    match source {
        DatabaseSource::Url(url) => {
            let pool = db::connect(url)
                .await
                .context("connecting to DATABASE_URL")?;
            Ok((pool, None))
        }
        DatabaseSource::Local(dir) => {
            let local = LocalDb::start(dir)
                .await
                .context("starting the private PostgreSQL cluster")?;
            let pool = db::connect(local.database_url()).await?;
            Ok((pool, Some(local)))
        }
    }
}

/// The signing secret of a local run: generated once, kept (0600) in the data directory so
/// tokens survive restarts.
async fn local_secret(path: &std::path::Path) -> anyhow::Result<String> {
    if let Ok(existing) = tokio::fs::read_to_string(path).await
        && existing.trim().len() >= 32
    {
        return Ok(existing.trim().to_owned());
    }
    let secret = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let path = path.to_owned();
    let value = secret.clone();
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)?;
        file.write_all(value.as_bytes())
    })
    .await??;
    Ok(secret)
}
