//! The real `cineflow` binary: serves, answers the operations endpoints, stops on SIGTERM;
//! and without DATABASE_URL runs its own PostgreSQL cluster.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cineflow::plugins::Hook;
use sqlx::PgPool;

use crate::support::{components_dir, database_url_for, free_port};

const BIN: &str = env!("CARGO_BIN_EXE_cineflow");

struct Server {
    child: Child,
    base: String,
    /// The metrics address (`CINEFLOW_METRICS_LISTEN`), a port of its own.
    metrics: String,
}

impl Server {
    fn start(database_url: Option<&str>, data_dir: &Path) -> Server {
        Self::start_with(database_url, data_dir, &[])
    }

    /// Like [`Server::start`], with more environment variables.
    fn start_with(database_url: Option<&str>, data_dir: &Path, env: &[(&str, &str)]) -> Server {
        Self::spawn(database_url, data_dir, env, Stdio::inherit())
    }

    /// Like [`Server::start_with`], with the process's log (stderr) going to `stderr`.
    fn spawn(
        database_url: Option<&str>,
        data_dir: &Path,
        env: &[(&str, &str)],
        stderr: Stdio,
    ) -> Server {
        let port = free_port();
        let metrics_port = free_port();
        let mut cmd = Command::new(BIN);
        cmd.arg("serve")
            .env("CINEFLOW_LISTEN", format!("127.0.0.1:{port}"))
            .env(
                "CINEFLOW_METRICS_LISTEN",
                format!("127.0.0.1:{metrics_port}"),
            )
            .env("CINEFLOW_DATA_DIR", data_dir)
            .env("CINEFLOW_COMPONENTS_DIR", components_dir())
            .env("RUST_LOG", "warn")
            .env_remove("CINEFLOW_JWT_SECRET")
            .stdout(Stdio::null())
            .stderr(stderr);
        match database_url {
            Some(url) => cmd
                .env("DATABASE_URL", url)
                .env("CINEFLOW_JWT_SECRET", "binary-test-secret-0123456789abcdef"),
            None => cmd.env_remove("DATABASE_URL"),
        };
        cmd.envs(env.iter().copied());
        let child = cmd.spawn().expect("cineflow starts");
        Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            metrics: format!("http://127.0.0.1:{metrics_port}"),
        }
    }

    async fn wait_ready(&mut self, client: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(res) = client.get(format!("{}/readyz", self.base)).send().await
                && res.status() == 200
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("cineflow exited before becoming ready: {status}");
            }
            assert!(Instant::now() < deadline, "cineflow did not become ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM, then the exit status.
    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("cineflow did not stop within 30 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A test that fails half-way does not leave the server running.
impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // SIGTERM first, so that a private cluster is stopped too; SIGKILL if that hangs.
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(15);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
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
    let mut server = Server::start(Some(&database_url_for(&db)), data.path());
    server.wait_ready(&client).await;

    let doc: serde_json::Value = client
        .get(format!("{}/openapi.json", server.base))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert!(doc["paths"]["/api/v1/hooks"].is_object());

    let docs = client
        .get(format!("{}/docs/", server.base))
        .send()
        .await
        .expect("sent");
    assert_eq!(docs.status(), 200);
    let html = docs.text().await.expect("html");
    assert!(html.contains("swagger-ui"), "{html}");
    // The UI's assets are served by the binary itself (no CDN, no network).
    let css = client
        .get(format!("{}/docs/swagger-ui.css", server.base))
        .send()
        .await
        .expect("sent");
    assert_eq!(css.status(), 200);

    // Metrics are served on their own port, not on the API's.
    let metrics = client
        .get(format!("{}/metrics", server.metrics))
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
        .get(format!("{}/metrics", server.base))
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

    let status = server.terminate();
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

#[tokio::test]
async fn without_database_url_the_binary_runs_a_private_postgres() {
    // Under /tmp: the cluster runs as `postgres` when tests run as root, and a clone may live
    // below a directory that user cannot enter.
    let data = tempfile::tempdir().expect("tempdir");
    make_traversable(data.path());
    let client = reqwest::Client::new();
    let mut server = Server::start(None, data.path());
    server.wait_ready(&client).await;
    let hooks: serde_json::Value = client
        .get(format!("{}/api/v1/hooks", server.base))
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
    let status = server.terminate();
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
    let status = Command::new(BIN)
        .arg("migrate")
        .env("DATABASE_URL", database_url_for(&db))
        .env("RUST_LOG", "warn")
        .status()
        .expect("runs");
    assert!(status.success());
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
#[test]
fn without_its_database_the_binary_refuses_to_start() {
    let closed = free_port();
    let port = free_port();
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(BIN)
        .arg("serve")
        .env(
            "DATABASE_URL",
            format!("postgres://postgres@127.0.0.1:{closed}/nowhere"),
        )
        .env("CINEFLOW_JWT_SECRET", "binary-test-secret-0123456789abcdef")
        .env("CINEFLOW_LISTEN", format!("127.0.0.1:{port}"))
        .env("CINEFLOW_DATA_DIR", dir.path())
        .env("CINEFLOW_COMPONENTS_DIR", components_dir())
        .env("CINEFLOW_SMTP_URL", "smtp://127.0.0.1:1")
        .env("RUST_LOG", "warn")
        .output()
        .expect("runs");
    assert!(!out.status.success(), "exit status {:?}", out.status);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("DATABASE_URL"),
        "names what is missing: {stderr}"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "nothing listens"
    );
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
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(BIN)
        .arg("serve")
        .env("DATABASE_URL", database_url_for(&db))
        .env("CINEFLOW_JWT_SECRET", "binary-test-secret-0123456789abcdef")
        .env("CINEFLOW_LISTEN", format!("127.0.0.1:{}", free_port()))
        .env("CINEFLOW_DATA_DIR", dir.path())
        .env("CINEFLOW_COMPONENTS_DIR", components_dir())
        .env("CINEFLOW_SMTP_URL", "smtp://127.0.0.1:1")
        .env("CINEFLOW_MAIL_SWEEP_CRON", "every ten seconds")
        .env("RUST_LOG", "warn")
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("CINEFLOW_MAIL_SWEEP_CRON"), "{stderr}");
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

/// `python3 -m aiosmtpd` on a free port of 127.0.0.1, writing each message it accepts into
/// a Maildir (its `Mailbox` handler); killed on drop, also when the test fails.
struct MailSink {
    child: Child,
    port: u16,
    maildir: std::path::PathBuf,
    log: std::path::PathBuf,
}

impl MailSink {
    fn start(dir: &Path) -> MailSink {
        require_aiosmtpd();
        let port = free_port();
        let maildir = dir.join("maildir");
        let log = dir.join("aiosmtpd.log");
        let out = std::fs::File::create(&log).expect("aiosmtpd log file");
        let err = out.try_clone().expect("aiosmtpd log file");
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("python3 starts");
        MailSink {
            child,
            port,
            maildir,
            log,
        }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the server accepts connections.
    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
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
    fn messages(&self) -> Vec<serde_json::Value> {
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

/// `v[key]` as a string.
fn text(v: &serde_json::Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` is not a string in {v}"))
        .to_owned()
}

/// Sends a JSON request and expects `status`; returns the body.
async fn call(
    req: reqwest::RequestBuilder,
    body: Option<serde_json::Value>,
    status: u16,
) -> serde_json::Value {
    let req = match body {
        Some(body) => req.json(&body),
        None => req,
    };
    let res = req.send().await.expect("request sent");
    let got = res.status().as_u16();
    let url = res.url().to_string();
    let body = res.text().await.expect("body");
    assert_eq!(got, status, "{url}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: not JSON ({e}): {body}"))
}

/// Holds `seats` of a demo show a day or more ahead (well clear of any cut-off) and pays for
/// them in full; returns the hold.
async fn book_a_demo_show(
    client: &reqwest::Client,
    api: &str,
    token: &str,
    seats: &[&str],
    idempotency_key: &str,
) -> serde_json::Value {
    use serde_json::json;

    let shows = call(client.get(format!("{api}/shows?limit=200")), None, 200).await;
    let soon = chrono::Utc::now() + chrono::Duration::days(1);
    let show = shows["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|show| {
            chrono::DateTime::parse_from_rfc3339(&text(show, "starts_at")).is_ok_and(|t| t > soon)
        })
        .unwrap_or_else(|| panic!("no demo show a day ahead in {shows}"))
        .clone();
    let hold = call(
        client
            .post(format!("{api}/bookings"))
            .bearer_auth(token)
            .header("idempotency-key", idempotency_key),
        Some(json!({"show_id": text(&show, "id"), "seat_ids": seats})),
        201,
    )
    .await;
    call(
        client
            .post(format!("{api}/bookings/{}/payments", text(&hold, "id")))
            .bearer_auth(token),
        Some(json!({
            "amount_minor": hold["total_minor"],
            "currency": hold["currency"],
            "card_token": "tok_visa",
        })),
        201,
    )
    .await;
    hold
}

#[sqlx::test(migrations = false)]
async fn the_binary_emails_a_paid_booking_to_the_demo_customer_over_smtp(pool: PgPool) {
    use serde_json::json;

    let db = pool
        .connect_options()
        .get_database()
        .expect("test database name")
        .to_owned();
    let mail = tempfile::tempdir().expect("tempdir");
    let mut sink = MailSink::start(mail.path());
    sink.wait_ready().await;

    let data = tempfile::tempdir().expect("tempdir");
    let smtp_url = sink.url();
    let mut server = Server::start_with(
        Some(&database_url_for(&db)),
        data.path(),
        &[
            ("CINEFLOW_DEMO", "true"),
            ("CINEFLOW_SMTP_URL", &smtp_url),
            // The demo admin of scripts/run.sh, to read the queue afterwards.
            ("CINEFLOW_ADMIN_EMAIL", "admin@demo.cineflow.local"),
            ("CINEFLOW_ADMIN_PASSWORD", "Demo-Admin-2026"),
        ],
    );
    let client = reqwest::Client::new();
    server.wait_ready(&client).await;
    let api = format!("{}/api/v1", server.base);

    // The README's walkthrough: sign in as the demo customer, hold two seats, pay.
    let customer = "customer@demo.cineflow.local";
    let signin = call(
        client.post(format!("{api}/auth/signin")),
        Some(json!({"email": customer, "password": "Demo-Customer-2026"})),
        200,
    )
    .await;
    let token = text(&signin, "access_token");
    let hold = book_a_demo_show(&client, &api, &token, &["C-5", "C-6"], "binary-mail-hold").await;
    let booking_id = text(&hold, "id");

    // The sweeper (woken by the new row) sends the confirmation within seconds.
    let deadline = Instant::now() + Duration::from_secs(20);
    let message = loop {
        let found = sink
            .messages()
            .into_iter()
            .find(|m| text(m, "text").contains(&booking_id));
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
        text(&message, "rcpt_to").contains(customer),
        "the envelope goes to the demo customer: {message}"
    );
    assert!(
        text(&message, "to").contains(customer),
        "To: names the demo customer: {message}"
    );
    assert!(
        text(&message, "from").contains("@cineflow.local"),
        "the default sender: {message}"
    );
    let message_id = text(&message, "message_id");
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
    let admin = call(
        client.post(format!("{api}/auth/signin")),
        Some(json!({"email": "admin@demo.cineflow.local", "password": "Demo-Admin-2026"})),
        200,
    )
    .await;
    let admin = text(&admin, "access_token");
    let deadline = Instant::now() + Duration::from_secs(10);
    let seen = loop {
        let seen = call(
            client
                .get(format!("{api}/notifications/{notification}"))
                .bearer_auth(&admin),
            None,
            200,
        )
        .await;
        if seen["status"] == "sent" || Instant::now() > deadline {
            break seen;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(seen["status"], "sent", "{seen}");
    assert_eq!(seen["attempts"], 1, "{seen}");
    assert_eq!(seen["message_id"], message_id.as_str(), "{seen}");
    assert!(seen["sent_at"].is_string(), "{seen}");

    // One email for one booking.
    let about_it = sink
        .messages()
        .into_iter()
        .filter(|m| text(m, "text").contains(&booking_id))
        .count();
    assert_eq!(about_it, 1, "{:?}", sink.messages());

    let status = server.terminate();
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
    drop(sink);
}

/// S5 end to end: a real process at `debug` with every secret configured, driven through
/// signup, signin, a password change, a booking and a failing email, never writes a secret,
/// a password, a token or a password hash to its log.
#[sqlx::test(migrations = false)]
async fn s5_a_debug_log_holds_no_secret_password_token_or_hash(pool: PgPool) {
    use serde_json::json;

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
    let smtp_url = format!("smtp://mailer:{smtp_password}@127.0.0.1:{}", free_port());

    let data = tempfile::tempdir().expect("tempdir");
    let log_path = data.path().join("stderr.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut server = Server::spawn(
        Some(url.as_str()),
        data.path(),
        &[
            ("RUST_LOG", "debug"),
            ("CINEFLOW_JWT_SECRET", jwt_secret),
            ("CINEFLOW_ADMIN_EMAIL", "admin@logs.cineflow.local"),
            ("CINEFLOW_ADMIN_PASSWORD", admin_password),
            ("CINEFLOW_SMTP_URL", &smtp_url),
            ("CINEFLOW_SERVICE_TOKEN", service_token),
            ("CINEFLOW_DEMO", "true"),
            ("CINEFLOW_MAIL_RETRY_BASE_SECS", "1"),
        ],
        Stdio::from(log),
    );
    let client = reqwest::Client::new();
    server.wait_ready(&client).await;
    let api = format!("{}/api/v1", server.base);

    let password = "Customer-Secret-Password-1";
    let new_password = "Customer-Secret-Password-2";
    let address = format!("logs-{}@example.com", uuid::Uuid::new_v4().simple());
    call(
        client.post(format!("{api}/auth/signup")),
        Some(json!({"name": "Log Reader", "email": address, "password": password, "role": "customer"})),
        201,
    )
    .await;
    let signin = call(
        client.post(format!("{api}/auth/signin")),
        Some(json!({"email": address, "password": password})),
        200,
    )
    .await;
    let first_token = text(&signin, "access_token");
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
    let signin = call(
        client.post(format!("{api}/auth/signin")),
        Some(json!({"email": address, "password": new_password})),
        200,
    )
    .await;
    let token = text(&signin, "access_token");
    let admin = call(
        client.post(format!("{api}/auth/signin")),
        Some(json!({"email": "admin@logs.cineflow.local", "password": admin_password})),
        200,
    )
    .await;
    let admin_token = text(&admin, "access_token");

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
    let status = server.terminate();
    assert!(status.success(), "{status}");

    let log = std::fs::read_to_string(&log_path).expect("log");
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
