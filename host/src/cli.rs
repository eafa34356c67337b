//! Command line: `cineflow [serve]`, `cineflow migrate`, `cineflow component run|test|new`.
//! Every setting is a flag and an environment variable (ARCHITECTURE.md, Configuration).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::plugins::Hook;

/// Cinema booking backend with chain-programmable WebAssembly components.
#[derive(Debug, Parser)]
#[command(name = "cineflow", version, about)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Log format: `text` for people, `json` for machines. Verbosity comes from `RUST_LOG`.
    #[arg(
        long,
        env = "CINEFLOW_LOG_FORMAT",
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
// Parsed once at start; boxing the serve arguments would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Serve the HTTP API (the default).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseArgs),
    /// Tools for component authors.
    #[command(subcommand)]
    Component(ComponentCommand),
    /// Talk to a running server: sign in, upload and bind components, canaries, dry runs,
    /// run logs, replays, shadows and receipts.
    Remote(crate::remote::RemoteCommand),
    /// Tools for door staff and integrators: signed ticket codes.
    #[command(subcommand)]
    Ticket(crate::ticket_verify::TicketCommand),
}

/// `cineflow component ...`: tools for component authors. Exit codes (docs/component-guide.md):
/// 0 done (for `run`: an answer, `ok` or `err`), 1 some test case failed (`test`), 2 the
/// component failed (`run`: trap, fuel, time, memory, a broken answer), 3 the component does
/// not load as a component of the hook, 64 a usage error (a missing or malformed file, an
/// input that does not fit the hook, a directory that is not empty).
#[derive(Debug, Subcommand)]
pub enum ComponentCommand {
    /// Run a component once, locally, under the same sandbox and limits as the service, and
    /// print its output with the fuel, time and memory it used.
    Run(RunArgs),
    /// Run a file of test cases (the format of `PUT /chains/{id}/test-cases/{hook}`) against
    /// a component, locally, and print pass or fail per case.
    Test(TestArgs),
    /// Write a starter crate for a hook: the WIT glue, a `src/logic.rs` with unit tests, a
    /// sample input, test cases and a README with the commands to build, run and test it.
    New(NewArgs),
}

/// Arguments of `cineflow component test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// The hook (WIT world) the component implements.
    #[arg(long)]
    pub hook: Hook,
    /// The component file (`.wasm`).
    #[arg(long)]
    pub wasm: PathBuf,
    /// The cases: `{"cases": [{"name", "input", "expect": {"ok": ...} | {"err": ...}}]}`.
    #[arg(long)]
    pub cases: PathBuf,
    /// Print one JSON object (every case's verdict) instead of a line per case.
    #[arg(long)]
    pub json: bool,
    /// Sandbox limits.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Arguments of `cineflow component new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The hook the component will implement.
    #[arg(long)]
    pub hook: Hook,
    /// The crate's name (lowercase letters, digits and `-`); default: the directory's name,
    /// or `my-<hook>`.
    #[arg(long)]
    pub name: Option<String>,
    /// Where to write it (must not exist, or be empty); default: `./<name>`.
    pub dir: Option<PathBuf>,
}

/// Arguments of `cineflow component run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The hook (WIT world) the component implements.
    #[arg(long)]
    pub hook: Hook,
    /// The component file (`.wasm`, a component built for wasm32-wasip2).
    #[arg(long)]
    pub wasm: PathBuf,
    /// The input as JSON: the hook's WIT input record (snake_case fields, kebab-case enum
    /// cases). For booking-rules add `"function": "check-hold"` or `"cancel"`.
    #[arg(long)]
    pub input: PathBuf,
    /// Sandbox limits.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// The run log: every production call of a chain's components, recorded off the request's
/// path (docs/components.md, "Run log").
/// Live seat maps in memory and their event streams (docs/seat-maps.md).
#[derive(Debug, Clone, Args)]
pub struct SeatMapArgs {
    /// Shows whose seat map a replica keeps in memory (the least recently read that nobody
    /// streams go first; about 70 KiB each for 500 seats).
    #[arg(long, env = "CINEFLOW_SEAT_MAP_CACHE_SHOWS", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub seat_map_cache_shows: u32,
    /// Open seat-map event streams a replica serves; more are answered 503.
    #[arg(long, env = "CINEFLOW_SEAT_STREAMS_MAX", default_value_t = 10_000,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub seat_streams_max: u32,
    /// Seconds between full re-reads of every seat map in memory (changes arrive at once
    /// through LISTEN/NOTIFY; this is the safety net).
    #[arg(long, env = "CINEFLOW_SEAT_MAP_RECONCILE_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub seat_map_reconcile_secs: u64,
}

/// Webhook delivery (docs/webhooks.md).
#[derive(Debug, Clone, Args)]
pub struct WebhookArgs {
    /// Let webhook URLs reach private, loopback, link-local and other reserved addresses
    /// (tests, closed networks). Off: such an endpoint is refused with `url_not_allowed`.
    #[arg(long, env = "CINEFLOW_WEBHOOK_ALLOW_PRIVATE", default_value_t = false,
          value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub webhook_allow_private: bool,
    /// Attempts before a delivery is marked failed.
    #[arg(long, env = "CINEFLOW_WEBHOOK_MAX_ATTEMPTS", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..=50))]
    pub webhook_max_attempts: u32,
    /// Milliseconds before the first retry; doubled each time up to an hour, ±20 %.
    #[arg(long, env = "CINEFLOW_WEBHOOK_RETRY_BASE_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub webhook_retry_base_ms: u64,
    /// Milliseconds one delivery request may take, connecting included.
    #[arg(long, env = "CINEFLOW_WEBHOOK_TIMEOUT_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(100..=120_000))]
    pub webhook_timeout_ms: u64,
}

#[derive(Debug, Clone, Args)]
pub struct RunLogArgs {
    /// Record production calls (`false` turns the run log off; replays then have nothing new
    /// to replay).
    #[arg(long = "run-log", env = "CINEFLOW_RUN_LOG", default_value_t = true,
          value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub enabled: bool,
    /// Records waiting to be written on this replica; past it they are dropped and counted
    /// (`cineflow_run_log_dropped_total`), never waited for.
    #[arg(long, env = "CINEFLOW_RUN_LOG_BUFFER", default_value_t = 10_000,
          value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub run_log_buffer: u32,
    /// Shadow calls waiting to run on this replica; past it they are dropped and counted.
    #[arg(long, env = "CINEFLOW_SHADOW_QUEUE", default_value_t = 1_000,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub shadow_queue: u32,
    /// Runs older than this many days are deleted.
    #[arg(long, env = "CINEFLOW_RUN_LOG_RETENTION_DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub run_log_retention_days: u32,
    /// At most this many runs are kept per chain (the oldest go first).
    #[arg(long, env = "CINEFLOW_RUN_LOG_MAX_PER_CHAIN", default_value_t = 1_000_000,
          value_parser = clap::value_parser!(u32).range(1..=100_000_000))]
    pub run_log_max_per_chain: u32,
}

/// Where the database is.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL URL. When unset, a private cluster is started under the data directory
    /// from the machine's PostgreSQL binaries.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Local state: the private PostgreSQL cluster and the compiled-component cache.
    #[arg(long, env = "CINEFLOW_DATA_DIR", default_value = ".cineflow")]
    pub data_dir: PathBuf,
    /// Longest wait for a database connection, in milliseconds; a request that gets none in
    /// time is answered 503 `database_unavailable` (so this is how fast the API fails while
    /// PostgreSQL is down).
    #[arg(long, env = "CINEFLOW_DB_ACQUIRE_TIMEOUT_MS", default_value_t = 5_000,
        value_parser = clap::value_parser!(u64).range(100..=60_000))]
    pub db_acquire_timeout_ms: u64,
    /// Connections this replica's pool may open. Replicas × this must stay below the server's
    /// `max_connections` (docs/OPERATIONS.md, sizing).
    #[arg(long, env = "CINEFLOW_DB_MAX_CONNECTIONS", default_value_t = 20,
        value_parser = clap::value_parser!(u32).range(2..=1000))]
    pub db_max_connections: u32,
}

impl DatabaseArgs {
    /// The pool settings these arguments give.
    pub fn pool_settings(&self) -> crate::db::PoolSettings {
        crate::db::PoolSettings {
            max_connections: self.db_max_connections,
            acquire_timeout: std::time::Duration::from_millis(self.db_acquire_timeout_ms),
        }
    }
}

/// A streaming replica of the database for browsing reads (docs/OPERATIONS.md, "Read
/// replicas").
#[derive(Debug, Clone, Args)]
pub struct ReadReplicaArgs {
    /// PostgreSQL URL of a streaming replica (hot standby) of `DATABASE_URL`. Public
    /// catalogue listings and pages are read from it; everything else stays on the primary.
    /// Unset: every read is on the primary.
    #[arg(long, env = "CINEFLOW_DATABASE_READ_URL", hide_env_values = true)]
    pub database_read_url: Option<String>,
    /// Longest wait for a replica connection, in milliseconds, before the read goes to the
    /// primary and the replica is left alone for `CINEFLOW_DATABASE_READ_RETRY_MS`.
    #[arg(long, env = "CINEFLOW_DATABASE_READ_ACQUIRE_TIMEOUT_MS", default_value_t = 250,
        value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub database_read_acquire_timeout_ms: u64,
    /// How long a failed replica is left alone, in milliseconds, before one read tries it again.
    #[arg(long, env = "CINEFLOW_DATABASE_READ_RETRY_MS", default_value_t = 5_000,
        value_parser = clap::value_parser!(u64).range(100..=600_000))]
    pub database_read_retry_ms: u64,
    /// Replay lag, in milliseconds, above which reads go to the primary (checked once a
    /// second with `pg_last_xact_replay_timestamp()`). Unset: lag is not watched.
    #[arg(long, env = "CINEFLOW_DATABASE_READ_MAX_LAG_MS",
        value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub database_read_max_lag_ms: Option<u64>,
}

/// Arguments of `cineflow serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to serve HTTP on (port 0 picks a free port).
    #[arg(long, env = "CINEFLOW_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The API's address as its clients reach it (`https://tickets.example.com`), for the
    /// links in emails (a ticket's QR code). Default: `http://` and the bound address.
    #[arg(long, env = "CINEFLOW_PUBLIC_URL", value_parser = crate::config::parse_public_url)]
    pub public_url: Option<String>,
    /// Address to serve Prometheus metrics on (`GET /metrics`), apart from the API: they name
    /// components and counts that are no business of the public. Loopback by default; `off`
    /// serves no metrics.
    #[arg(long, env = "CINEFLOW_METRICS_LISTEN", default_value = "127.0.0.1:9464",
          value_parser = parse_metrics_listen)]
    pub metrics_listen: MetricsListen,
    /// Once the listeners are bound, write their addresses to this file as one JSON object
    /// (`{"http":"127.0.0.1:PORT","metrics":"127.0.0.1:PORT"}`, `metrics` null when `off`),
    /// atomically: whoever started the process on port 0 learns the ports without reading
    /// the log.
    #[arg(long, env = "CINEFLOW_ADDR_FILE")]
    pub addr_file: Option<PathBuf>,
    /// Database settings.
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// A PostgreSQL streaming replica for browsing reads.
    #[command(flatten)]
    pub read_replica: ReadReplicaArgs,
    /// Directory holding the platform's default components (`booking-rules.wasm`,
    /// `pricing.wasm`, `notify-templates.wasm`); `scripts/build-components.sh` fills it.
    #[arg(
        long,
        env = "CINEFLOW_COMPONENTS_DIR",
        default_value = "target/components"
    )]
    pub components_dir: PathBuf,
    /// Longest time a request may take before it is answered with 503.
    #[arg(long, env = "CINEFLOW_REQUEST_TIMEOUT_MS", default_value_t = 30_000)]
    pub request_timeout_ms: u64,
    /// Sandbox limits.
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Accounts and tokens.
    #[command(flatten)]
    pub accounts: AccountArgs,
    /// Minutes a screen needs between two shows (cleaning, seating).
    #[arg(long, env = "CINEFLOW_CLEANING_MINUTES", default_value_t = 15)]
    pub cleaning_minutes: u32,
    /// Load the demo chain, theatre, movies, a week of shows and demo accounts at start.
    #[arg(long, env = "CINEFLOW_DEMO", default_value_t = false, value_parser = clap::builder::BoolishValueParser::new())]
    pub demo: bool,
    /// Email delivery.
    #[command(flatten)]
    pub mail: MailArgs,
    /// The run log of production component calls.
    #[command(flatten)]
    pub run_log: RunLogArgs,
    /// Webhooks of the chains (docs/webhooks.md).
    #[command(flatten)]
    pub webhooks: WebhookArgs,
    /// Live seat maps (docs/seat-maps.md).
    #[command(flatten)]
    pub seat_maps: SeatMapArgs,
    /// Consecutive failures of a chain's bound component that trip its breaker (the chain
    /// then gets the platform default until it binds again).
    #[arg(long, env = "CINEFLOW_BREAKER_FAILURES", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub breaker_failures: u32,
    /// Seconds between full re-reads of every binding (changes arrive at once through
    /// LISTEN/NOTIFY; this is the safety net).
    #[arg(long, env = "CINEFLOW_BINDINGS_RECONCILE_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub bindings_reconcile_secs: u64,
    /// Components one chain may store (uploads past it: 409 `quota_exceeded`).
    #[arg(long, env = "CINEFLOW_CHAIN_MAX_COMPONENTS", default_value_t = 50,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub chain_max_components: u32,
    /// Bytes one chain's stored components may take together.
    #[arg(long, env = "CINEFLOW_CHAIN_COMPONENT_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub chain_component_bytes: u64,
}

/// Where the metrics are served: an address, or nowhere (`off`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsListen(pub Option<SocketAddr>);

fn parse_metrics_listen(s: &str) -> Result<MetricsListen, String> {
    if s.trim().eq_ignore_ascii_case("off") {
        return Ok(MetricsListen(None));
    }
    s.trim()
        .parse()
        .map(|addr| MetricsListen(Some(addr)))
        .map_err(|e| format!("not an address like 127.0.0.1:9464, nor `off`: {e}"))
}

/// Email delivery and the notification API.
#[derive(Clone, Args)]
pub struct MailArgs {
    /// SMTP server in lettre's URL syntax: `smtp://host:port` (plain), add `?tls=required`
    /// for STARTTLS, `smtps://host:port` for TLS, `user:pass@` for credentials. Unset: emails
    /// are queued but not sent.
    #[arg(long, env = "CINEFLOW_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Sender of every email.
    #[arg(long, env = "CINEFLOW_MAIL_FROM", default_value = "Cineflow <no-reply@cineflow.local>",
          value_parser = parse_mailbox)]
    pub mail_from: lettre::message::Mailbox,
    /// When the sweeper runs without being woken: 6-field cron with seconds, UTC.
    #[arg(
        long,
        env = "CINEFLOW_MAIL_SWEEP_CRON",
        default_value = "*/10 * * * * *"
    )]
    pub mail_sweep_cron: String,
    /// Attempts before an email is marked failed.
    #[arg(long, env = "CINEFLOW_MAIL_MAX_ATTEMPTS", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=100))]
    pub mail_max_attempts: u32,
    /// Emails sent at once (also the SMTP connection pool size).
    #[arg(long, env = "CINEFLOW_MAIL_CONCURRENCY", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..=256))]
    pub mail_concurrency: u32,
    /// Emails claimed per batch.
    #[arg(long, env = "CINEFLOW_MAIL_BATCH", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub mail_batch: u32,
    /// Seconds a claimed email stays reserved for its sweeper; after that another may send it.
    #[arg(long, env = "CINEFLOW_MAIL_LEASE_SECS", default_value_t = 120,
          value_parser = clap::value_parser!(u64).range(5..=86_400))]
    pub mail_lease_secs: u64,
    /// Seconds before the first retry (doubling each time, up to an hour, with jitter).
    #[arg(long, env = "CINEFLOW_MAIL_RETRY_BASE_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub mail_retry_base_secs: u64,
    /// Seconds setting up one SMTP connection (connect, TLS, EHLO, AUTH) may take, and then
    /// each whole message.
    #[arg(long, env = "CINEFLOW_SMTP_TIMEOUT_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub smtp_timeout_secs: u64,
    /// Bearer token other services use for `POST /api/v1/notifications` (at least 32
    /// characters). Unset: only admins may queue emails.
    #[arg(long, env = "CINEFLOW_SERVICE_TOKEN", hide_env_values = true)]
    pub service_token: Option<String>,
}

impl std::fmt::Debug for MailArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailArgs")
            .field(
                "smtp_url",
                &self.smtp_url.as_deref().map(crate::mail::smtp::redact),
            )
            .field("mail_from", &self.mail_from.to_string())
            .field("mail_sweep_cron", &self.mail_sweep_cron)
            .field(
                "service_token",
                &self.service_token.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

fn parse_mailbox(s: &str) -> Result<lettre::message::Mailbox, String> {
    s.parse()
        .map_err(|e| format!("not a sender address like `Name <user@example.com>`: {e}"))
}

/// Accounts and tokens.
#[derive(Clone, Args)]
pub struct AccountArgs {
    /// Token signing key (HS256), at least 32 bytes. Required with DATABASE_URL; for the
    /// private local cluster one is generated and kept in the data directory.
    #[arg(long, env = "CINEFLOW_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Lifetime of an access token, in seconds.
    #[arg(long, env = "CINEFLOW_TOKEN_TTL_SECS", default_value_t = 3600)]
    pub token_ttl_secs: u64,
    /// Email of the bootstrap admin, created or updated at start (with the password below).
    #[arg(long, env = "CINEFLOW_ADMIN_EMAIL")]
    pub admin_email: Option<String>,
    /// Password of the bootstrap admin.
    #[arg(long, env = "CINEFLOW_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// Failed signins per email per minute (from one address; from all addresses together,
    /// after which each address gets one attempt a minute on that account) before 429. A
    /// correct password from an address without failures still signs in.
    #[arg(long, env = "CINEFLOW_SIGNIN_PER_EMAIL_PER_MINUTE", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub signin_per_email: u32,
    /// Failed signins per client address per minute before every signin from it is 429.
    #[arg(long, env = "CINEFLOW_SIGNIN_PER_CLIENT_PER_MINUTE", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub signin_per_client: u32,
    /// Signups per client address per minute before 429.
    #[arg(long, env = "CINEFLOW_SIGNUP_PER_CLIENT_PER_MINUTE", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub signup_per_client: u32,
    /// Password hashes (argon2id, 19 MiB each) that may run at once in this process, for
    /// signups, signins and password changes together. Default: 2 × the CPU cores.
    #[arg(long, env = "CINEFLOW_PASSWORD_HASH_CONCURRENCY",
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub password_hash_concurrency: Option<u32>,
    /// Milliseconds a request waits for a free hashing slot before 503 `busy`.
    #[arg(long, env = "CINEFLOW_PASSWORD_HASH_WAIT_MS", default_value_t = 2_000,
          value_parser = clap::value_parser!(u64).range(0..=30_000))]
    pub password_hash_wait_ms: u64,
}

impl std::fmt::Debug for AccountArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountArgs")
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("token_ttl_secs", &self.token_ttl_secs)
            .field("admin_email", &self.admin_email)
            .field(
                "admin_password",
                &self.admin_password.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

/// Limits every component call runs under (defaults from ARCHITECTURE.md).
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Fuel (about one unit per wasm instruction) per call.
    #[arg(long, env = "CINEFLOW_COMPONENT_FUEL", default_value_t = 50_000_000)]
    pub component_fuel: u64,
    /// Wall-clock deadline per call, in milliseconds.
    #[arg(long, env = "CINEFLOW_COMPONENT_DEADLINE_MS", default_value_t = 100)]
    pub component_deadline_ms: u64,
    /// Linear memory per call, in MiB.
    #[arg(long, env = "CINEFLOW_COMPONENT_MEMORY_MIB", default_value_t = 16)]
    pub component_memory_mib: u64,
    /// Largest input passed to a component, in bytes.
    #[arg(
        long,
        env = "CINEFLOW_COMPONENT_MAX_INPUT_BYTES",
        default_value_t = 65_536
    )]
    pub component_max_input_bytes: u64,
    /// Largest output accepted from a component, in bytes.
    #[arg(
        long,
        env = "CINEFLOW_COMPONENT_MAX_OUTPUT_BYTES",
        default_value_t = 65_536
    )]
    pub component_max_output_bytes: u64,
    /// Largest component accepted, in bytes.
    #[arg(
        long,
        env = "CINEFLOW_COMPONENT_MAX_BYTES",
        default_value_t = 2_097_152
    )]
    pub component_max_bytes: u64,
    /// Instance slots: how many component calls may run at once.
    #[arg(
        long,
        env = "CINEFLOW_COMPONENT_MAX_CONCURRENT_CALLS",
        default_value_t = 1000
    )]
    pub component_max_concurrent_calls: u32,
    /// Instance slots one chain may hold at once on this replica (default: an eighth of
    /// the pool, at least 1).
    #[arg(long, env = "CINEFLOW_CHAIN_MAX_CONCURRENT_CALLS")]
    pub chain_max_concurrent_calls: Option<u32>,
    /// Fuel one chain may burn per second on this replica (default: an eighth of the
    /// replica's CPU in fuel, at least one call's fuel).
    #[arg(long, env = "CINEFLOW_CHAIN_FUEL_PER_SECOND")]
    pub chain_fuel_per_second: Option<u64>,
    /// How long a call waits for one of its chain's slots before 503 `plugin_busy`, in ms.
    #[arg(long, env = "CINEFLOW_CHAIN_QUEUE_MS", default_value_t = 2000)]
    pub chain_queue_ms: u64,
}

/// `serve` with every setting at its default (or its environment variable).
#[derive(Debug, Parser)]
pub struct DefaultServe {
    /// The settings.
    #[command(flatten)]
    pub serve: ServeArgs,
}
