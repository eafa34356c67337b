//! An in-process app on a fresh test database, served on an ephemeral port.

use std::net::SocketAddr;
use std::time::Duration;

use cineflow::app::App;
use cineflow::config::{Config, DatabaseSource, MailConfig};
use cineflow::plugins::{Limits, RuntimeConfig};
use cineflow::state::AppState;
use sqlx::PgPool;
use tokio::sync::oneshot;

use super::components_dir;

pub struct TestApp {
    pub addr: SocketAddr,
    /// Where `GET /metrics` is served (its own port), when the config asked for it.
    pub metrics_addr: Option<SocketAddr>,
    pub state: AppState,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// The admin every test app bootstraps from configuration.
pub const ADMIN_EMAIL: &str = "admin@test.cineflow.local";
/// Their password.
pub const ADMIN_PASSWORD: &str = "Admin-Password-1";

pub fn config(limits: Limits) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().expect("valid address"),
        public_url: None,
        metrics_listen: Some("127.0.0.1:0".parse().expect("valid address")),
        database: DatabaseSource::Url("unused: the test brings its pool".into()),
        db_pool: Default::default(),
        read_replica: None,
        components_dir: components_dir(),
        runtime: RuntimeConfig::uniform(limits, None),
        request_timeout: Duration::from_secs(30),
        jwt_secret: Some("test-secret-0123456789abcdef0123456789".into()),
        secret_file: std::env::temp_dir().join("cineflow-unused-secret"),
        token_ttl: Duration::from_secs(3600),
        admin: Some((ADMIN_EMAIL.into(), ADMIN_PASSWORD.into())),
        signin_limits: (1000, 1000),
        signup_per_client: 1000,
        password_hash_concurrency: cineflow::auth::Passwords::default_concurrency(),
        // Generous: tests on a loaded machine must not see `busy` unless they ask for it.
        password_hash_wait: Duration::from_secs(30),
        cleaning_buffer: Duration::from_secs(15 * 60),
        demo: false,
        mail: MailConfig::default(),
        registry: Default::default(),
        run_log: Default::default(),
        webhooks: Default::default(),
        live_seats: Default::default(),
    }
}

impl TestApp {
    pub async fn spawn(pool: PgPool) -> TestApp {
        Self::spawn_with(pool, Limits::default()).await
    }

    pub async fn spawn_with(pool: PgPool, limits: Limits) -> TestApp {
        Self::spawn_config(pool, config(limits)).await
    }

    /// An app whose signin allows `per_email` attempts per email per minute.
    pub async fn spawn_with_signin_limit(pool: PgPool, per_email: u32) -> TestApp {
        let mut config = config(Limits::default());
        config.signin_limits = (per_email, 1000);
        Self::spawn_config(pool, config).await
    }

    pub async fn spawn_config(pool: PgPool, config: Config) -> TestApp {
        let app = App::build_with_pool(config, pool)
            .await
            .expect("app builds");
        let addr = app.local_addr().expect("bound");
        let metrics_addr = app.metrics_addr();
        let state = app.state().clone();
        let (tx, rx) = oneshot::channel();
        let server = tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        TestApp {
            addr,
            metrics_addr,
            state,
            client: reqwest::Client::new(),
            stop: Some(tx),
            server: Some(server),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// The Prometheus text of the metrics endpoint (on its own port).
    pub async fn metrics(&self) -> String {
        let addr = self.metrics_addr.expect("this app serves metrics");
        let res = self
            .client
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .expect("metrics scraped");
        assert_eq!(res.status(), 200);
        res.text().await.expect("metrics text")
    }

    /// Stops the server and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("server ran");
        }
    }
}
