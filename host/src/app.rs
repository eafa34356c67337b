//! The launch seam: `App::build` prepares everything and binds the listener (port 0 works);
//! `App::run_until` serves until the shutdown future resolves.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::auth::{AuthKeys, AuthLimits, Passwords};
use crate::config::{Config, DatabaseSource, MailConfig};
use crate::localdb::LocalDb;
use crate::mail::{Mailer, Sweeper};
use crate::plugins::ComponentRegistry;
use crate::plugins::PluginRuntime;
use crate::state::{AppState, CatalogueSettings};
use crate::{bootstrap, db, defaults, demo, http, telemetry};

/// A ready-to-serve Cineflow.
pub struct App {
    listener: TcpListener,
    /// `GET /metrics`, on its own address (`CINEFLOW_METRICS_LISTEN`), if any.
    metrics_listener: Option<TcpListener>,
    router: axum::Router,
    state: AppState,
    local_db: Option<LocalDb>,
    mail: MailConfig,
    webhooks: crate::domain::webhooks::WebhookSettings,
}

impl App {
    /// Connects to (or starts) the database, migrates, loads the default components and
    /// binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<App> {
        let (pool, local_db) = open_database(&config.database, config.db_pool).await?;
        db::migrate(&pool).await.context("applying migrations")?;
        let mut app = Self::build_with_pool(config, pool).await?;
        app.local_db = local_db;
        Ok(app)
    }

    /// Like [`App::build`] on an existing, migrated pool (tests bring their own database).
    pub async fn build_with_pool(config: Config, pool: PgPool) -> anyhow::Result<App> {
        // Install the recorder before anything records (the first component load does).
        telemetry::metrics_handle();
        // Browsing reads go to the streaming replica if one is configured (connected lazily:
        // a replica that is down does not stop the start), else to the primary.
        let reads = match &config.read_replica {
            Some(replica) => {
                db::ReadPool::with_replica(pool.clone(), &replica.url, replica.settings)
                    .context("CINEFLOW_DATABASE_READ_URL")?
            }
            None => db::ReadPool::primary_only(pool.clone()),
        };
        let plugins = Arc::new(PluginRuntime::new(config.runtime.clone())?);
        let stored = Arc::new(crate::domain::components::StoredComponents::new(
            pool.clone(),
        ));
        let secret = match &config.jwt_secret {
            Some(secret) => secret.clone(),
            None if matches!(config.database, DatabaseSource::Local(_)) => {
                local_secret(&config.secret_file).await?
            }
            None => anyhow::bail!("CINEFLOW_JWT_SECRET is required when DATABASE_URL is set"),
        };
        if secret.len() < crate::auth::MIN_SECRET_BYTES {
            anyhow::bail!(
                "CINEFLOW_JWT_SECRET must be at least {} bytes (it has {}); \
                 generate one with `openssl rand -hex 32`",
                crate::auth::MIN_SECRET_BYTES,
                secret.len()
            );
        }
        if config
            .mail
            .service_token
            .as_ref()
            .is_some_and(|t| t.trim().chars().count() < 32)
        {
            anyhow::bail!("CINEFLOW_SERVICE_TOKEN must be at least 32 characters");
        }
        let defaults = Arc::new(defaults::load(&config.components_dir, &plugins, &*stored).await?);
        // Pseudonyms are keyed by the token secret, which every replica shares, so a customer
        // has one pseudonym across replicas and replays.
        let recorder = crate::domain::runs::Recorder::start(
            pool.clone(),
            plugins.clone(),
            &config.run_log,
            crate::domain::runs::Pseudonymizer::new(secret.as_bytes()),
        );
        let components = Arc::new(ComponentRegistry::new(
            stored.clone(),
            stored,
            plugins.clone(),
            defaults.clone(),
            config.registry,
            recorder.clone(),
        ));
        components
            .reload_all()
            .await
            .context("loading the chains' bindings")?;
        let passwords = Passwords::new(config.password_hash_concurrency, config.password_hash_wait);
        if let Some((email, password)) = &config.admin {
            bootstrap::admin(&pool, &passwords, email, password).await?;
        }
        let (per_email, per_client) = config.signin_limits;
        let gateway: Arc<dyn crate::gateway::PaymentGateway> =
            Arc::new(crate::gateway::TestGateway);
        let seat_maps: Arc<crate::seat_maps::SeatMaps> = Arc::default();
        let live_seats = Arc::new(crate::domain::live_seats::LiveSeats::new(
            pool.clone(),
            seat_maps.clone(),
            config.live_seats.clone(),
        ));
        // Bound before the state is made: the default public URL is the bound address (port 0
        // picks one).
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let public_url = match &config.public_url {
            Some(url) => url.clone(),
            None => format!("http://{}", listener.local_addr()?),
        };
        // Ticket keys are sealed under a key derived from the token secret, which every
        // replica shares (docs/tickets.md, "Keys").
        let ticket_issuer = crate::domain::tickets::TicketIssuer::new(
            Arc::new(crate::domain::tickets::KeyRing::new(secret.as_bytes())),
            &public_url,
        );
        let (seats_freed, freed_notices) = crate::domain::waitlist::seats_freed();
        let bookings = crate::domain::bookings::Bookings::new(
            pool.clone(),
            components.clone(),
            plugins.clone(),
            seat_maps.clone(),
            gateway.clone(),
            ticket_issuer.clone(),
        )
        .with_seats_freed(seats_freed.clone())
        .with_live_seats(live_seats.clone())
        .with_show_contexts(Arc::default());
        let waitlist = crate::domain::waitlist::Waitlist::new(
            pool.clone(),
            bookings.clone(),
            seat_maps.clone(),
            (seats_freed, freed_notices),
        );
        let catalogue = crate::domain::catalogue::Catalogue::new(
            pool.clone(),
            reads.clone(),
            CatalogueSettings {
                cleaning_buffer: config.cleaning_buffer,
            },
        );
        let accounts = crate::domain::accounts::Accounts::new(
            pool.clone(),
            passwords.clone(),
            AuthKeys::new(secret.as_bytes(), config.token_ttl),
            AuthLimits {
                signin_per_email: per_email,
                signin_per_client: per_client,
                signup_per_client: config.signup_per_client,
            },
        );
        let state = AppState {
            chains: crate::domain::chains::Chains::new(pool.clone()),
            chain_components: crate::domain::components::ChainComponents::new(
                pool.clone(),
                plugins.clone(),
                components.clone(),
            ),
            notifications: crate::domain::notifications::Notifications::new(pool.clone()),
            gift_cards: crate::domain::gift_cards::GiftCards::new(pool.clone()),
            vouchers: crate::domain::vouchers::Vouchers::new(pool.clone()),
            reports: crate::domain::reports::Reports::new(pool.clone()),
            tickets: crate::domain::tickets::Tickets::new(pool.clone(), ticket_issuer),
            webhooks: crate::domain::webhooks::Webhooks::new(
                pool.clone(),
                config.webhooks.allow_private,
            ),
            runs: crate::domain::runs::Runs::new(
                pool.clone(),
                components.clone(),
                recorder,
                config.run_log.clone(),
            ),
            idempotency: crate::domain::idempotency::Idempotency::new(
                pool.clone(),
                config.request_timeout,
            ),
            db: pool,
            reads,
            plugins,
            defaults,
            components,
            bookings,
            waitlist,
            accounts,
            passwords,
            catalogue: catalogue.with_live_seats(live_seats.clone()),
            live_seats,
            service_token: config.mail.service_token.as_deref().map(Arc::from),
            mail_domain: Arc::from(config.mail.from.email.domain()),
            secure_cookies: public_url.starts_with("https://"),
        };
        // After the services exist: the demo's activity goes through them.
        if config.demo {
            demo::load(&state, config.cleaning_buffer, &config.components_dir).await?;
        }
        // A bad SMTP URL or cron line stops the start, not the first send.
        if let Some(smtp) = &config.mail.smtp {
            Mailer::new(smtp, &config.mail.from)?;
            tokio_cron_scheduler::Job::new_async(config.mail.sweep.cron.as_str(), |_, _| {
                Box::pin(async {})
            })
            .map_err(|e| {
                anyhow::anyhow!(
                    "CINEFLOW_MAIL_SWEEP_CRON {:?} is not a 6-field cron line: {e}",
                    config.mail.sweep.cron
                )
            })?;
        }
        let router = http::router(state.clone(), config.request_timeout);
        let metrics_listener = match config.metrics_listen {
            Some(addr) => Some(TcpListener::bind(addr).await.with_context(|| {
                format!("binding CINEFLOW_METRICS_LISTEN {addr} (`off` serves no metrics)")
            })?),
            None => None,
        };
        Ok(App {
            listener,
            metrics_listener,
            router,
            state,
            local_db: None,
            mail: config.mail,
            webhooks: config.webhooks,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The bound address of the metrics endpoint, when metrics are served.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
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
        // Idempotency keys older than 24 h and ended limit windows go (every replica; the
        // deletes are idempotent).
        let pool = self.state.db.clone();
        let housekeeper = tokio::spawn(async move {
            let mut every = tokio::time::interval(crate::housekeeping::EVERY);
            loop {
                every.tick().await;
                if let Err(e) = crate::housekeeping::sweep_once(&pool).await {
                    tracing::warn!(error = %e, "housekeeping failed; will retry");
                }
            }
        });
        // Expired holds stop blocking seats at once (the seat ranges end at expires_at); this
        // job records them as expired and queues their emails.
        let pool = self.state.db.clone();
        let expirer = tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(15));
            loop {
                every.tick().await;
                // Each run is bounded; one that reached its bound may have left more due.
                loop {
                    match crate::domain::bookings::expire_due(&pool).await {
                        Ok(n) if n >= crate::domain::bookings::EXPIRE_PER_RUN => {}
                        Ok(_) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "expiring holds failed; will retry");
                            break;
                        }
                    }
                }
            }
        });
        let stop_sweeper = CancellationToken::new();
        let sweeper = self.start_sweeper(stop_sweeper.clone()).await?;
        // Webhooks go out from their own task, apart from the email sweeper: a hanging
        // endpoint holds its own slots, never an email's.
        let webhook_sender = self.webhooks.run_sender.then(|| {
            let sender = Arc::new(crate::domain::webhooks::sender::Sender::new(
                self.state.db.clone(),
                self.webhooks.clone(),
            ));
            tokio::spawn(sender.run(stop_sweeper.clone()))
        });
        // Waiting lists: a pass right after a commit frees seats, and a sweep every few
        // seconds (expired holds and offers free seats without any commit), on every replica.
        let offers = tokio::spawn(self.state.waitlist.clone().run_offers(stop_sweeper.clone()));
        let waitlist_sweeps =
            tokio::spawn(self.state.waitlist.clone().run_sweeps(stop_sweeper.clone()));
        // Replays run on whichever replica claims them, two at a time per replica (so one
        // chain's long replay does not hold up another's); runs past their retention go (every
        // replica; the deletes are idempotent).
        let replays: Vec<_> = (0..crate::domain::runs::REPLAYS_PER_REPLICA)
            .map(|_| {
                tokio::spawn(crate::domain::runs::replay_worker(
                    self.state.db.clone(),
                    self.state.plugins.clone(),
                    stop_sweeper.clone(),
                ))
            })
            .collect();
        let runs = self.state.runs.clone();
        let pruner = tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
            loop {
                every.tick().await;
                match runs.prune().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(runs = n, "pruned runs past their retention"),
                    Err(e) => tracing::warn!(error = %e, "pruning the run log failed; will retry"),
                }
            }
        });
        let follower = tokio::spawn(crate::domain::components::follow(
            self.state.components.clone(),
            self.state.db.clone(),
            stop_sweeper.clone(),
        ));
        let seat_follower = tokio::spawn(crate::domain::live_seats::follow(
            self.state.live_seats.clone(),
            self.state.db.clone(),
            stop_sweeper.clone(),
        ));
        // Open seat-map streams end when shutdown starts; otherwise the graceful shutdown
        // would wait for clients that listen forever.
        let closing = self.state.live_seats.closing();
        let shutdown = async move {
            shutdown.await;
            closing.cancel();
        };
        // The read replica's lag, once a second, when CINEFLOW_DATABASE_READ_MAX_LAG_MS is set.
        let lag_watcher = tokio::spawn(self.state.reads.clone().watch_lag(stop_sweeper.clone()));
        let context_follower = tokio::spawn(crate::show_contexts::follow(
            self.state.bookings.show_contexts(),
            self.state.db.clone(),
            stop_sweeper.clone(),
        ));
        let stop_metrics = CancellationToken::new();
        let metrics = self.metrics_listener.map(|listener| {
            if let Ok(addr) = listener.local_addr() {
                tracing::info!(%addr, "serving metrics");
            }
            let stop = stop_metrics.clone();
            tokio::spawn(async move {
                axum::serve(
                    http::conn::ProblemListener::new(listener),
                    http::metrics_router(),
                )
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
            })
        });
        let served = axum::serve(
            http::conn::ProblemListener::new(self.listener).with_connect_info(),
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        housekeeper.abort();
        stop_metrics.cancel();
        if let Some(metrics) = metrics
            && let Ok(Err(e)) = metrics.await
        {
            tracing::warn!(error = %e, "the metrics server failed");
        }
        expirer.abort();
        pruner.abort();
        stop_sweeper.cancel();
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            futures_util::future::join_all(replays),
        )
        .await;
        follower.abort();
        seat_follower.abort();
        lag_watcher.abort();
        context_follower.abort();
        if let Some(sender) = webhook_sender {
            // Requests in flight end within the webhook timeout (or their leases run out).
            let _ = sender.await;
        }
        offers.abort();
        waitlist_sweeps.abort();
        if let Some(sweeper) = sweeper {
            // Sends in flight finish (or their lease runs out and another replica sends them).
            match tokio::time::timeout(std::time::Duration::from_secs(10), sweeper).await {
                Ok(Ok(Err(e))) => {
                    tracing::warn!(error = %e, "the email sweeper stopped with an error")
                }
                Ok(_) => {}
                Err(_) => {
                    tracing::warn!("the email sweeper did not stop in 10 s; its claims will expire")
                }
            }
        }
        if let Some(local) = self.local_db {
            local.stop().await?;
        }
        served.context("HTTP server failed")
    }
}

impl App {
    /// Starts the email sweeper, or says clearly why mail is not being sent.
    async fn start_sweeper(
        &self,
        stop: CancellationToken,
    ) -> anyhow::Result<Option<tokio::task::JoinHandle<anyhow::Result<()>>>> {
        if !self.mail.run_sweeper {
            return Ok(None);
        }
        let Some(smtp) = &self.mail.smtp else {
            let mut conn = self.state.db.acquire().await?;
            let pending = db::outbox::unsent_count(&mut conn).await?;
            tracing::warn!(
                pending,
                "CINEFLOW_SMTP_URL is not set: emails are queued in the database but not sent \
                 (set it, e.g. smtp://127.0.0.1:1025, and they go out on the next start)"
            );
            return Ok(None);
        };
        let sweeper = Arc::new(Sweeper::new(
            self.state.db.clone(),
            self.state.plugins.clone(),
            self.state.components.clone(),
            Mailer::new(smtp, &self.mail.from)?,
            self.mail.sweep.clone(),
        ));
        Ok(Some(tokio::spawn(sweeper.run(stop))))
    }
}

/// The pool for `source`, starting a private cluster when no URL is configured.
pub async fn open_database(
    source: &DatabaseSource,
    pool: db::PoolSettings,
) -> anyhow::Result<(PgPool, Option<LocalDb>)> {
    match source {
        DatabaseSource::Url(url) => {
            let pool = db::connect(url, pool)
                .await
                .context("connecting to DATABASE_URL")?;
            Ok((pool, None))
        }
        DatabaseSource::Local(dir) => {
            let local = LocalDb::start(dir)
                .await
                .context("starting the private PostgreSQL cluster")?;
            let pool = db::connect(local.database_url(), pool).await?;
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
