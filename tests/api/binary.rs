//! The real `cineflow` binary: serves, answers the operations endpoints, stops on SIGTERM;
//! and without DATABASE_URL runs its own PostgreSQL cluster.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use cineflow::plugins::Hook;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::support::process::{Builder, CineflowProcess};
use crate::support::{ClosedPort, database_url_for};

/// The signing key of the runs on `DATABASE_URL` (required there).
const JWT_SECRET: &str = "binary-test-secret-0123456789abcdef";

/// The binary on `database_url`, or on its own private cluster without one, keeping its
/// data in `data_dir` (the tests look at it afterwards).
fn server(database_url: Option<&str>, data_dir: &Path) -> Builder {
    let builder = CineflowProcess::builder().data_dir(data_dir);
    match database_url {
        Some(url) => builder
            .database_url(url)
            .env("CINEFLOW_JWT_SECRET", JWT_SECRET),
        None => builder,
    }
}

#[sqlx::test(migrations = false)]
async fn the_binary_serves_readyz_openapi_and_docs(pool: PgPool) {
    let db = pool
        .connect_options()
        .get_database()
        .expect("test database name")
        .to_owned();
    let data = tempfile::tempdir().expect("tempdir");
    let client = reqwest::Client::new();
    let server = server(Some(&database_url_for(&db)), data.path())
        .spawn()
        .await;

    let doc: Value = client
        .get(server.url("/openapi.json"))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert!(doc["paths"]["/api/v1/hooks"].is_object());

    let docs = client.get(server.url("/docs/")).send().await.expect("sent");
    assert_eq!(docs.status(), 200);
    let html = docs.text().await.expect("html");
    assert!(html.contains("swagger-ui"), "{html}");
    // The UI's assets are served by the binary itself (no CDN, no network).
    let css = client
        .get(server.url("/docs/swagger-ui.css"))
        .send()
        .await
        .expect("sent");
    assert_eq!(css.status(), 200);

    // Metrics are served on their own port, not on the API's.
    let metrics = client
        .get(format!("{}/metrics", server.metrics_url()))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("cineflow_component_loads_total"),
        "{metrics}"
    );
    let public = client
        .get(server.url("/metrics"))
        .send()
        .await
        .expect("sent");
    assert_eq!(public.status(), 404);

    // The binary migrated the empty database itself.
    let applied: i64 = sqlx::query_scalar("select count(*) from _sqlx_migrations")
        .fetch_one(&pool)
        .await
        .expect("migrations table");
    assert!(applied >= 1);

    let status = server.stop().await;
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
    // The compiled-component cache was filled (beside its MAC key).
    let cached = std::fs::read_dir(data.path().join("compiled"))
        .expect("cache dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".cwasm"))
        .count();
    assert_eq!(cached, Hook::ALL.len(), "one compiled default per hook");
    assert!(data.path().join("compiled/mac.key").exists());
}

/// `CINEFLOW_ADDR_FILE`: on port 0 the binary says where it listens (here `--listen` on the
/// command line, metrics `off`), and a SIGKILLed process is reported as such.
#[sqlx::test(migrations = false)]
async fn on_port_0_the_binary_writes_the_addresses_it_bound(pool: PgPool) {
    let db = pool
        .connect_options()
        .get_database()
        .expect("test database name")
        .to_owned();
    let data = tempfile::tempdir().expect("tempdir");
    let server = server(Some(&database_url_for(&db)), data.path())
        .env("CINEFLOW_LISTEN", "127.0.0.1:8080")
        .arg("--listen")
        .arg("127.0.0.1:0")
        .env("CINEFLOW_METRICS_LISTEN", "off")
        .spawn()
        .await;
    let addresses = server.addresses();
    assert!(addresses.http.ip().is_loopback(), "{addresses:?}");
    assert_ne!(addresses.http.port(), 0, "{addresses:?}");
    assert_ne!(
        addresses.http.port(),
        8080,
        "the flag wins over the variable"
    );
    assert_eq!(addresses.metrics, None, "metrics are off");
    let hooks = reqwest::get(server.url("/api/v1/hooks"))
        .await
        .expect("sent");
    assert_eq!(hooks.status(), 200);

    let status = server.kill();
    assert!(!status.success(), "SIGKILL is no clean exit: {status}");
    assert!(!server.is_running());
    assert!(
        reqwest::get(server.url("/healthz")).await.is_err(),
        "nothing listens after the kill"
    );
}

#[tokio::test]
async fn without_database_url_the_binary_runs_a_private_postgres() {
    // Under /tmp: the cluster runs as `postgres` when tests run as root, and a clone may live
    // below a directory that user cannot enter.
    let data = tempfile::tempdir().expect("tempdir");
    make_traversable(data.path());
    let client = reqwest::Client::new();
    let server = server(None, data.path()).spawn().await;
    let hooks: Value = client
        .get(server.url("/api/v1/hooks"))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(
        hooks["items"].as_array().map(Vec::len),
        Some(Hook::ALL.len())
    );
    assert!(data.path().join("pg/PG_VERSION").exists());
    let status = server.stop().await;
    assert!(status.success(), "{status}");
    assert!(
        !data.path().join("pg/postmaster.pid").exists(),
        "the private cluster is stopped on exit"
    );
}

/// The private cluster runs as `postgres` when the tests run as root, so it must be able to
/// reach the directory.
fn make_traversable(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755));
}

#[sqlx::test(migrations = false)]
async fn migrate_applies_the_migrations_and_exits(pool: PgPool) {
    let db = pool
        .connect_options()
        .get_database()
        .expect("test database name")
        .to_owned();
    let out = CineflowProcess::builder()
        .subcommand("migrate")
        .database_url(database_url_for(&db))
        .run_to_exit(Duration::from_secs(120))
        .await;
    assert!(out.status.success(), "{}: {}", out.status, out.log);
    let tables: i64 = sqlx::query_scalar(
        "select count(*) from information_schema.tables where table_name in ('components', 'platform_defaults')",
    )
    .fetch_one(&pool)
    .await
    .expect("query");
    assert_eq!(tables, 2);
}

/// SEED N4: the old service started (and ran its cron) without a database. The binary exits
/// non-zero, says why, and never listens.
#[tokio::test]
async fn without_its_database_the_binary_refuses_to_start() {
    let closed = ClosedPort::bind();
    let out = CineflowProcess::builder()
        .database_url(format!(
            "postgres://postgres@127.0.0.1:{}/nowhere",
            closed.port()
        ))
        .env("CINEFLOW_JWT_SECRET", JWT_SECRET)
        .env("CINEFLOW_SMTP_URL", "smtp://127.0.0.1:1")
        .run_to_exit(Duration::from_secs(120))
        .await;
    assert!(!out.status.success(), "exit status {:?}", out.status);
    assert!(
        out.stderr.contains("DATABASE_URL"),
        "names what is missing: {}",
        out.stderr
    );
    // On port 0 there is no port to probe afterwards; the address file is written once the
    // listeners are bound, so its absence says they never were.
    assert_eq!(out.addresses, None, "nothing listens: {}", out.log);
}

/// A cron line that cannot be parsed stops the start with a message instead of a sweeper
/// that never runs.
#[sqlx::test(migrations = false)]
async fn a_bad_sweep_cron_line_stops_the_start(pool: PgPool) {
    let db = pool
        .connect_options()
        .get_database()
        .expect("test database name")
        .to_owned();
    let out = CineflowProcess::builder()
        .database_url(database_url_for(&db))
        .env("CINEFLOW_JWT_SECRET", JWT_SECRET)
        .env("CINEFLOW_SMTP_URL", "smtp://127.0.0.1:1")
        .env("CINEFLOW_MAIL_SWEEP_CRON", "every ten seconds")
        .run_to_exit(Duration::from_secs(120))
        .await;
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("CINEFLOW_MAIL_SWEEP_CRON"),
        "{}",
        out.stderr
    );
}

// ---------------------------------------------------------------------------------------
// Email end to end: the binary, its sweeper and a real SMTP server in another process.

/// Prints every message of a Maildir as JSON, decoded (headers unfolded, bodies out of
/// base64 / quoted-printable) by Python's own `email` package.
const READ_MAILDIR: &str = r#"
import email, email.policy, json, os, sys
out = []
for sub in ("new", "cur"):
    d = os.path.join(sys.argv[1], sub)
    if not os.path.isdir(d):
        continue
    for name in sorted(os.listdir(d)):
        with open(os.path.join(d, name), "rb") as f:
            m = email.message_from_binary_file(f, policy=email.policy.default)
        texts = [p.get_content() for p in m.walk() if p.get_content_maintype() == "text"]
        out.append({
            "file": name,
            "to": str(m.get("To", "")),
            "rcpt_to": str(m.get("X-RcptTo", "")),
            "from": str(m.get("From", "")),
            "subject": str(m.get("Subject", "")),
            "message_id": str(m.get("Message-ID", "")),
            "text": "\n".join(texts),
        })
print(json.dumps(out))
"#;

/// Fails (never skips) when the SMTP server the test needs is not installed.
fn require_aiosmtpd() {
    let found = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "this test needs Python's aiosmtpd (`python3 -c 'import aiosmtpd'` failed): \
         scripts/test.sh installs it; or run `python3 -m pip install aiosmtpd`"
    );
}

/// aiosmtpd's SMTP server with its `Mailbox` handler (what `python3 -m aiosmtpd -n -c
/// aiosmtpd.handlers.Mailbox MAILDIR` runs) on a socket it binds to port 0 of 127.0.0.1
/// itself, so that no port is picked free and released before it takes it. It writes the
/// port it got to `argv[2]` (renamed into place whole).
const AIOSMTPD_ON_PORT_0: &str = r#"
import asyncio, os, socket, sys
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP
maildir, port_file = sys.argv[1], sys.argv[2]
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.bind(("127.0.0.1", 0))
sock.listen(128)
handler = Mailbox(maildir)
loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
loop.run_until_complete(loop.create_server(lambda: SMTP(handler), sock=sock))
with open(port_file + ".partial", "w") as f:
    f.write(str(sock.getsockname()[1]))
os.rename(port_file + ".partial", port_file)
loop.run_forever()
"#;

/// aiosmtpd on a port of 127.0.0.1 it picks, writing each message it accepts into a Maildir
/// (its `Mailbox` handler); killed on drop, also when the test fails.
struct MailSink {
    child: Child,
    /// Known once [`MailSink::wait_ready`] has read it.
    port: Option<u16>,
    port_file: std::path::PathBuf,
    maildir: std::path::PathBuf,
    log: std::path::PathBuf,
}

impl MailSink {
    fn start(dir: &Path) -> MailSink {
        require_aiosmtpd();
        let maildir = dir.join("maildir");
        let port_file = dir.join("aiosmtpd.port");
        let log = dir.join("aiosmtpd.log");
        let out = std::fs::File::create(&log).expect("aiosmtpd log file");
        let err = out.try_clone().expect("aiosmtpd log file");
        let child = Command::new("python3")
            .args(["-c", AIOSMTPD_ON_PORT_0])
            .arg(&maildir)
            .arg(&port_file)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("python3 starts");
        MailSink {
            child,
            port: None,
            port_file,
            maildir,
            log,
        }
    }

    fn url(&self) -> String {
        let port = self.port.expect("MailSink::wait_ready first");
        format!("smtp://127.0.0.1:{port}")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the server has reported its port and accepts connections there.
    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if self.port.is_none() {
                self.port = std::fs::read_to_string(&self.port_file)
                    .ok()
                    .and_then(|port| port.trim().parse().ok());
            }
            if let Some(port) = self.port
                && tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .is_ok()
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("aiosmtpd exited ({status}): {}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen within 20 s: {}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Every message received so far, decoded.
    fn messages(&self) -> Vec<Mail> {
        let out = Command::new("python3")
            .args(["-c", READ_MAILDIR])
            .arg(&self.maildir)
            .output()
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "reading the maildir failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("the maildir as JSON")
    }
}

impl Drop for MailSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A message of the Maildir, as `READ_MAILDIR` decodes it.
#[derive(Debug, Deserialize)]
struct Mail {
    to: String,
    /// The envelope recipients (aiosmtpd's `X-RcptTo`).
    rcpt_to: String,
    from: String,
    message_id: String,
    /// Every text part.
    text: String,
}

/// `POST /auth/signin`.
#[derive(Debug, Deserialize)]
struct Token {
    access_token: String,
}

/// A list answer.
#[derive(Debug, Deserialize)]
struct Page<T> {
    items: Vec<T>,
}

/// A show of `GET /shows`.
#[derive(Debug, Deserialize)]
struct Show {
    id: String,
    starts_at: DateTime<Utc>,
}

/// A booking (a hold) of `POST /bookings`.
#[derive(Debug, Deserialize)]
struct Hold {
    id: String,
    total_minor: i64,
    currency: String,
}

/// `GET /notifications/{id}`: how its delivery went.
#[derive(Debug, Deserialize)]
struct Delivery {
    status: String,
    attempts: i64,
    message_id: Option<String>,
    sent_at: Option<DateTime<Utc>>,
}

/// Sends a JSON request and expects `status`; returns the body as a `T`.
async fn call<T: DeserializeOwned>(
    req: reqwest::RequestBuilder,
    body: Option<Value>,
    status: u16,
) -> T {
    let req = match body {
        Some(body) => req.json(&body),
        None => req,
    };
    let res = req.send().await.expect("request sent");
    let got = res.status().as_u16();
    let url = res.url().to_string();
    let body = res.text().await.expect("body");
    assert_eq!(got, status, "{url}: {body}");
    serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("{url}: not a {} ({e}): {body}", std::any::type_name::<T>()))
}

/// Signs in; the access token.
async fn signin(client: &reqwest::Client, api: &str, email: &str, password: &str) -> String {
    let token: Token = call(
        client.post(format!("{api}/auth/signin")),
        Some(json!({"email": email, "password": password})),
        200,
    )
    .await;
    token.access_token
}

/// Holds `seats` of a demo show a day or more ahead (well clear of any cut-off) and pays for
/// them in full; returns the hold.
async fn book_a_demo_show(
    client: &reqwest::Client,
    api: &str,
    token: &str,
    seats: &[&str],
    idempotency_key: &str,
) -> Hold {
    let shows: Page<Show> = call(client.get(format!("{api}/shows?limit=200")), None, 200).await;
    let soon = Utc::now() + chrono::Duration::days(1);
    let show = shows
        .items
        .iter()
        .find(|show| show.starts_at > soon)
        .unwrap_or_else(|| panic!("no demo show a day ahead in {shows:?}"));
    let hold: Hold = call(
        client
            .post(format!("{api}/bookings"))
            .bearer_auth(token)
            .header("idempotency-key", idempotency_key),
        Some(json!({"show_id": show.id, "seat_ids": seats})),
        201,
    )
    .await;
    let _: Value = call(
        client
            .post(format!("{api}/bookings/{}/payments", hold.id))
            .bearer_auth(token),
        Some(json!({
            "amount_minor": hold.total_minor,
            "currency": hold.currency,
            "card_token": "tok_visa",
        })),
        201,
    )
    .await;
    hold
}

#[sqlx::test(migrations = false)]
async fn the_binary_emails_a_paid_booking_to_the_demo_customer_over_smtp(pool: PgPool) {
    let db = pool
        .connect_options()
        .get_database()
        .expect("test database name")
        .to_owned();
    let mail = tempfile::tempdir().expect("tempdir");
    let mut sink = MailSink::start(mail.path());
    sink.wait_ready().await;

    let data = tempfile::tempdir().expect("tempdir");
    let server = server(Some(&database_url_for(&db)), data.path())
        .env("CINEFLOW_DEMO", "true")
        .env("CINEFLOW_SMTP_URL", sink.url())
        // The demo admin of scripts/run.sh, to read the queue afterwards.
        .env("CINEFLOW_ADMIN_EMAIL", "admin@demo.cineflow.local")
        .env("CINEFLOW_ADMIN_PASSWORD", "Demo-Admin-2026")
        .spawn()
        .await;
    let client = reqwest::Client::new();
    let api = server.url("/api/v1");

    // The README's walkthrough: sign in as the demo customer, hold two seats, pay.
    let customer = "customer@demo.cineflow.local";
    let token = signin(&client, &api, customer, "Demo-Customer-2026").await;
    let hold = book_a_demo_show(&client, &api, &token, &["C-5", "C-6"], "binary-mail-hold").await;
    let booking_id = hold.id;

    // The sweeper (woken by the new row) sends the confirmation within seconds.
    let deadline = Instant::now() + Duration::from_secs(20);
    let message = loop {
        let found = sink
            .messages()
            .into_iter()
            .find(|m| m.text.contains(&booking_id));
        if let Some(m) = found {
            break m;
        }
        assert!(
            Instant::now() < deadline,
            "no email mentioning booking {booking_id} within 20 s; received: {:?}; aiosmtpd: {}",
            sink.messages(),
            sink.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        message.rcpt_to.contains(customer),
        "the envelope goes to the demo customer: {message:?}"
    );
    assert!(
        message.to.contains(customer),
        "To: names the demo customer: {message:?}"
    );
    assert!(
        message.from.contains("@cineflow.local"),
        "the default sender: {message:?}"
    );
    let message_id = message.message_id;
    let notification = message_id
        .strip_prefix('<')
        .and_then(|m| m.strip_suffix("@cineflow.local>"))
        .and_then(|id| uuid::Uuid::parse_str(id).ok())
        .unwrap_or_else(|| panic!("Message-ID is not <uuid@cineflow.local>: {message_id:?}"));

    // The Message-ID is the notification's id: the booking's confirmation row.
    let (kind, recipients): (String, Vec<String>) = sqlx::query_as(
        "select kind, recipient_emails from notifications where id = $1 and fields->>'booking-id' = $2",
    )
    .bind(notification)
    .bind(&booking_id)
    .fetch_one(&pool)
    .await
    .expect("the notification of the booking");
    assert_eq!(kind, "booking-confirmed");
    assert_eq!(recipients, [customer]);

    // The admin API shows it sent, with the same Message-ID.
    let admin = signin(
        &client,
        &api,
        "admin@demo.cineflow.local",
        "Demo-Admin-2026",
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let seen = loop {
        let seen: Delivery = call(
            client
                .get(format!("{api}/notifications/{notification}"))
                .bearer_auth(&admin),
            None,
            200,
        )
        .await;
        if seen.status == "sent" || Instant::now() > deadline {
            break seen;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(seen.status, "sent", "{seen:?}");
    assert_eq!(seen.attempts, 1, "{seen:?}");
    assert_eq!(
        seen.message_id.as_deref(),
        Some(message_id.as_str()),
        "{seen:?}"
    );
    assert!(seen.sent_at.is_some(), "{seen:?}");

    // One email for one booking.
    let about_it = sink
        .messages()
        .into_iter()
        .filter(|m| m.text.contains(&booking_id))
        .count();
    assert_eq!(about_it, 1, "{:?}", sink.messages());

    let status = server.stop().await;
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
    drop(sink);
}

/// S5 end to end: a real process at `debug` with every secret configured, driven through
/// signup, signin, a password change, a booking and a failing email, never writes a secret,
/// a password, a token or a password hash to its log.
#[sqlx::test(migrations = false)]
async fn s5_a_debug_log_holds_no_secret_password_token_or_hash(pool: PgPool) {
    let db = pool
        .connect_options()
        .get_database()
        .expect("test database name")
        .to_owned();
    // Trust authentication ignores the password, so a URL with one still connects.
    let db_password = "Db-Secret-Password-5150";
    let mut url = reqwest::Url::parse(&database_url_for(&db)).expect("DATABASE_URL is a URL");
    if url.username().is_empty() {
        url.set_username("postgres").expect("a URL with a host");
    }
    url.set_password(Some(db_password))
        .expect("a URL with a host");
    let jwt_secret = "Jwt-Secret-Never-Logged-0123456789abcdef";
    let admin_password = "Admin-Secret-Password-7788";
    let smtp_password = "Smtp-Secret-Password-3131";
    let service_token = "Service-Token-Secret-0123456789abcdef-42";
    // Nothing listens there: the email fails and its error is logged.
    let closed = ClosedPort::bind();
    let smtp_url = format!("smtp://mailer:{smtp_password}@127.0.0.1:{}", closed.port());

    let data = tempfile::tempdir().expect("tempdir");
    let server = server(Some(url.as_str()), data.path())
        .env("RUST_LOG", "debug")
        .env("CINEFLOW_JWT_SECRET", jwt_secret)
        .env("CINEFLOW_ADMIN_EMAIL", "admin@logs.cineflow.local")
        .env("CINEFLOW_ADMIN_PASSWORD", admin_password)
        .env("CINEFLOW_SMTP_URL", &smtp_url)
        .env("CINEFLOW_SERVICE_TOKEN", service_token)
        .env("CINEFLOW_DEMO", "true")
        .env("CINEFLOW_MAIL_RETRY_BASE_SECS", "1")
        .spawn()
        .await;
    let client = reqwest::Client::new();
    let api = server.url("/api/v1");

    let password = "Customer-Secret-Password-1";
    let new_password = "Customer-Secret-Password-2";
    let address = format!("logs-{}@example.com", uuid::Uuid::new_v4().simple());
    let _: Value = call(
        client.post(format!("{api}/auth/signup")),
        Some(json!({"name": "Log Reader", "email": address, "password": password, "role": "customer"})),
        201,
    )
    .await;
    let first_token = signin(&client, &api, &address, password).await;
    // A wrong password too: failures are where secrets tend to get logged.
    let res = client
        .post(format!("{api}/auth/signin"))
        .json(&json!({"email": address, "password": "Wrong-Secret-Password-9"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 401);
    let res = client
        .post(format!("{api}/auth/password"))
        .bearer_auth(&first_token)
        .json(&json!({"old_password": password, "new_password": new_password}))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 204);
    let token = signin(&client, &api, &address, new_password).await;
    let admin_token = signin(&client, &api, "admin@logs.cineflow.local", admin_password).await;

    // A paid booking queues a confirmation, which fails against the closed SMTP port.
    book_a_demo_show(&client, &api, &token, &["D-3"], "binary-logs-hold").await;
    // The service token at work, once right and once wrong.
    let res = client
        .post(format!("{api}/notifications"))
        .bearer_auth(service_token)
        .json(&json!({"recipient_emails": ["someone@example.com"], "subject": "Hello", "content": "Hi"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 201, "the service token is accepted");
    let res = client
        .post(format!("{api}/notifications"))
        .bearer_auth(format!("{service_token}-wrong"))
        .json(&json!({"recipient_emails": ["someone@example.com"], "subject": "Hello", "content": "Hi"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 401, "a wrong service token is refused");

    // Wait until the sweeper has tried (and failed) at least once.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let failed: i64 = sqlx::query_scalar(
            "select count(*) from notifications where attempts > 0 and last_error is not null",
        )
        .fetch_one(&pool)
        .await
        .expect("notifications");
        if failed > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the sweeper did not try the email within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let status = server.stop().await;
    assert!(status.success(), "{status}");

    // Everything the process wrote, stdout as well as its log on stderr.
    let log = server.log();
    assert!(log.lines().count() > 20, "a debug log was written: {log}");
    for (what, secret) in [
        ("the database password", db_password),
        ("the JWT secret", jwt_secret),
        ("the admin password", admin_password),
        ("the SMTP password", smtp_password),
        ("the service token", service_token),
        ("a customer password", password),
        ("a customer's new password", new_password),
        ("a wrong password", "Wrong-Secret-Password-9"),
        ("an access token", &first_token),
        ("an access token", &token),
        ("an access token", &admin_token),
        ("a password hash", "$argon2"),
    ] {
        if let Some(line) = log.lines().find(|l| l.contains(secret)) {
            panic!("{what} is in the log: {line}");
        }
    }
}
