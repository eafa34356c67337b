//! Validated configuration, built once from the command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use lettre::message::Mailbox;

use crate::cli::{DatabaseArgs, LimitArgs, MailArgs, ServeArgs};
use crate::mail::{SmtpSettings, SweepSettings};
use crate::plugins::{ComponentQuota, RegistrySettings};
use crate::plugins::{Limits, RuntimeConfig, ShareSettings};

/// Where the data lives.
#[derive(Clone)]
pub enum DatabaseSource {
    /// An external server.
    Url(String),
    /// A private cluster in this directory.
    Local(PathBuf),
}

impl std::fmt::Debug for DatabaseSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // URLs may carry a password.
            DatabaseSource::Url(_) => f.write_str("Url(<redacted>)"),
            DatabaseSource::Local(dir) => f.debug_tuple("Local").field(dir).finish(),
        }
    }
}

impl DatabaseSource {
    /// From the command line.
    pub fn from_args(args: &DatabaseArgs) -> Self {
        match &args.database_url {
            Some(url) if !url.trim().is_empty() => DatabaseSource::Url(url.clone()),
            _ => DatabaseSource::Local(args.data_dir.join("pg")),
        }
    }
}

/// A streaming replica for browsing reads (`CINEFLOW_DATABASE_READ_*`).
#[derive(Clone)]
pub struct ReadReplica {
    /// Its URL.
    pub url: String,
    /// Its pool, timeout, circuit and lag limit.
    pub settings: crate::db::ReadSettings,
}

impl std::fmt::Debug for ReadReplica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password.
        f.debug_struct("ReadReplica")
            .field("url", &"<redacted>")
            .field("settings", &self.settings)
            .finish()
    }
}

impl ReadReplica {
    /// From the command line; `None` when no URL is set. The replica's pool is as large as
    /// the primary's (`CINEFLOW_DB_MAX_CONNECTIONS`).
    pub fn from_args(
        args: &crate::cli::ReadReplicaArgs,
        pool: crate::db::PoolSettings,
    ) -> Option<Self> {
        let url = args.database_read_url.as_deref().map(str::trim)?;
        if url.is_empty() {
            return None;
        }
        Some(Self {
            url: url.to_owned(),
            settings: crate::db::ReadSettings {
                max_connections: pool.max_connections,
                acquire_timeout: Duration::from_millis(args.database_read_acquire_timeout_ms),
                retry_after: Duration::from_millis(args.database_read_retry_ms),
                max_lag: args.database_read_max_lag_ms.map(Duration::from_millis),
            },
        })
    }
}

/// Everything `cineflow serve` needs.
#[derive(Clone)]
pub struct Config {
    /// HTTP address.
    pub listen: SocketAddr,
    /// Where clients reach the API (links in emails); `None`: `http://` and the bound address.
    pub public_url: Option<String>,
    /// Where `GET /metrics` is served, apart from the API; `None`: nowhere.
    pub metrics_listen: Option<SocketAddr>,
    /// Database.
    pub database: DatabaseSource,
    /// Size of the database pool and how long a request waits for a connection.
    pub db_pool: crate::db::PoolSettings,
    /// A streaming replica for browsing reads; `None`: every read is on the primary.
    pub read_replica: Option<ReadReplica>,
    /// Default components.
    pub components_dir: PathBuf,
    /// Component runtime settings.
    pub runtime: RuntimeConfig,
    /// Request timeout.
    pub request_timeout: Duration,
    /// Token signing secret; `None` → generated and kept in `secret_file`.
    pub jwt_secret: Option<String>,
    /// Where a generated secret is kept (local runs).
    pub secret_file: PathBuf,
    /// Access token lifetime.
    pub token_ttl: Duration,
    /// Bootstrap admin (email, password).
    pub admin: Option<(String, String)>,
    /// Failed signins per minute: per email, per client address.
    pub signin_limits: (u32, u32),
    /// Signups per minute per client address.
    pub signup_per_client: u32,
    /// Password hashes that may run at once.
    pub password_hash_concurrency: usize,
    /// Longest wait for a hashing slot before 503 `busy`.
    pub password_hash_wait: Duration,
    /// Gap a screen needs between two shows.
    pub cleaning_buffer: Duration,
    /// Load demo data at start.
    pub demo: bool,
    /// Email delivery.
    pub mail: MailConfig,
    /// Bindings: breaker threshold, reconcile period.
    pub registry: RegistrySettings,
    /// The run log, its buffer and retention, and the shadow queue.
    pub run_log: crate::domain::runs::RunLogSettings,
    /// Webhooks: address policy, attempts, backoff, timeout.
    pub webhooks: crate::domain::webhooks::WebhookSettings,
    /// Live seat maps: shows kept, streams allowed, reconcile interval.
    pub live_seats: crate::domain::live_seats::LiveSeatSettings,
}

/// Email delivery settings.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// The SMTP server; `None` keeps mail queued.
    pub smtp: Option<SmtpSettings>,
    /// The sender (also used for Message-IDs).
    pub from: Mailbox,
    /// How the sweeper runs.
    pub sweep: SweepSettings,
    /// Run the sweeper in this process (tests drive it by hand).
    pub run_sweeper: bool,
    /// Token for `POST /notifications` from other services.
    pub service_token: Option<String>,
}

impl MailConfig {
    /// From the mail flags.
    pub fn from_args(args: &MailArgs) -> Self {
        let sweep = SweepSettings {
            cron: args.mail_sweep_cron.clone(),
            batch: args.mail_batch,
            // Ten claims per sweep, then the next sweep (see `SweepSettings::per_sweep`).
            per_sweep: args.mail_batch.saturating_mul(10),
            concurrency: args.mail_concurrency as usize,
            max_attempts: args.mail_max_attempts,
            lease: Duration::from_secs(args.mail_lease_secs),
            retry_base: Duration::from_secs(args.mail_retry_base_secs),
            ..SweepSettings::default()
        };
        Self {
            smtp: args
                .smtp_url
                .as_ref()
                .filter(|u| !u.trim().is_empty())
                .map(|url| SmtpSettings {
                    url: url.trim().to_owned(),
                    pool_size: args.mail_concurrency,
                    timeout: Duration::from_secs(args.smtp_timeout_secs),
                }),
            from: args.mail_from.clone(),
            sweep,
            run_sweeper: true,
            service_token: args
                .service_token
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
        }
    }
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            smtp: None,
            from: Mailbox::new(
                Some("Cineflow".to_owned()),
                lettre::Address::new("no-reply", "cineflow.local")
                    .expect("a constant, valid address"),
            ),
            sweep: SweepSettings::default(),
            run_sweeper: true,
            service_token: None,
        }
    }
}

impl Config {
    /// From `cineflow serve` arguments.
    pub fn from_args(args: &ServeArgs) -> Self {
        Self {
            listen: args.listen,
            public_url: args.public_url.clone().filter(|u| !u.is_empty()),
            metrics_listen: args.metrics_listen.0,
            database: DatabaseSource::from_args(&args.database),
            db_pool: args.database.pool_settings(),
            read_replica: ReadReplica::from_args(&args.read_replica, args.database.pool_settings()),
            components_dir: args.components_dir.clone(),
            runtime: runtime_config(&args.limits, Some(args.database.data_dir.join("compiled"))),
            request_timeout: Duration::from_millis(args.request_timeout_ms),
            jwt_secret: args.accounts.jwt_secret.clone().filter(|s| !s.is_empty()),
            secret_file: args.database.data_dir.join("jwt-secret"),
            token_ttl: Duration::from_secs(args.accounts.token_ttl_secs.max(60)),
            admin: args
                .accounts
                .admin_email
                .clone()
                .zip(args.accounts.admin_password.clone()),
            signin_limits: (
                args.accounts.signin_per_email,
                args.accounts.signin_per_client,
            ),
            signup_per_client: args.accounts.signup_per_client,
            password_hash_concurrency: args
                .accounts
                .password_hash_concurrency
                .map_or_else(crate::auth::Passwords::default_concurrency, |n| n as usize),
            password_hash_wait: Duration::from_millis(args.accounts.password_hash_wait_ms),
            cleaning_buffer: Duration::from_secs(u64::from(args.cleaning_minutes) * 60),
            demo: args.demo,
            mail: MailConfig::from_args(&args.mail),
            registry: RegistrySettings {
                breaker_failures: args.breaker_failures,
                reconcile_every: Duration::from_secs(args.bindings_reconcile_secs),
                quota: ComponentQuota {
                    max_components: args.chain_max_components,
                    max_bytes: args.chain_component_bytes,
                },
            },
            run_log: crate::domain::runs::RunLogSettings {
                enabled: args.run_log.enabled,
                buffer: args.run_log.run_log_buffer as usize,
                shadow_queue: args.run_log.shadow_queue as usize,
                retention_days: args.run_log.run_log_retention_days,
                max_runs_per_chain: args.run_log.run_log_max_per_chain,
            },
            webhooks: crate::domain::webhooks::WebhookSettings {
                allow_private: args.webhooks.webhook_allow_private,
                max_attempts: args.webhooks.webhook_max_attempts,
                retry_base: Duration::from_millis(args.webhooks.webhook_retry_base_ms),
                timeout: Duration::from_millis(args.webhooks.webhook_timeout_ms),
                ..Default::default()
            },
            live_seats: crate::domain::live_seats::LiveSeatSettings {
                max_shows: args.seat_maps.seat_map_cache_shows as usize,
                max_streams: args.seat_maps.seat_streams_max as usize,
                reconcile_every: Duration::from_secs(args.seat_maps.seat_map_reconcile_secs),
            },
        }
    }
}

/// Runtime settings from the limit flags.
pub fn runtime_config(args: &LimitArgs, cache_dir: Option<PathBuf>) -> RuntimeConfig {
    let limits = Limits {
        fuel: args.component_fuel,
        deadline: Duration::from_millis(args.component_deadline_ms.max(1)),
        max_memory_bytes: args.component_memory_mib.max(1) * 1024 * 1024,
        max_input_bytes: args.component_max_input_bytes,
        max_output_bytes: args.component_max_output_bytes,
        max_component_bytes: args.component_max_bytes,
        ..Limits::default()
    };
    let (fuel, deadline) = (limits.fuel, limits.deadline);
    let mut config = RuntimeConfig::uniform(limits, cache_dir);
    config.max_concurrent_calls = args.component_max_concurrent_calls.max(1);
    let defaults = ShareSettings::defaults_here(config.max_concurrent_calls, fuel, deadline);
    config.share = Some(ShareSettings {
        max_concurrent_calls: args
            .chain_max_concurrent_calls
            .unwrap_or(defaults.max_concurrent_calls)
            .clamp(1, config.max_concurrent_calls),
        fuel_per_second: args
            .chain_fuel_per_second
            .unwrap_or(defaults.fuel_per_second)
            .max(1),
        queue_wait: Duration::from_millis(args.chain_queue_ms),
    });
    config
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("metrics_listen", &self.metrics_listen)
            .field("database", &self.database)
            .field("read_replica", &self.read_replica)
            .field("components_dir", &self.components_dir)
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("admin", &self.admin.as_ref().map(|(e, _)| e))
            .field("demo", &self.demo)
            .finish_non_exhaustive()
    }
}

/// An `http` or `https` URL without query or fragment (empty: unset), kept without a trailing
/// slash.
pub fn parse_public_url(s: &str) -> Result<String, String> {
    if s.is_empty() {
        return Ok(String::new());
    }
    let url = url::Url::parse(s).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("must be an http or https URL with a host".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must have no query or fragment".into());
    }
    Ok(s.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn public_urls_are_http_or_https_with_a_host_and_nothing_after_the_path() {
        use super::parse_public_url as parse;
        assert_eq!(
            parse("https://tickets.example.com/").as_deref(),
            Ok("https://tickets.example.com")
        );
        assert_eq!(
            parse("http://10.0.0.1:8080/cf").as_deref(),
            Ok("http://10.0.0.1:8080/cf")
        );
        assert_eq!(parse("").as_deref(), Ok(""));
        for bad in [
            "ftp://x",
            "tickets.example.com",
            "https://x/?a=1",
            "https://x/#f",
            "mailto:a@b",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
