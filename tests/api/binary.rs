//! The real `cineflow` binary: serves, answers the operations endpoints, stops on SIGTERM;
//! and without DATABASE_URL runs its own PostgreSQL cluster.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::PgPool;

use crate::support::{components_dir, database_url_for};

const BIN: &str = env!("CARGO_BIN_EXE_cineflow");

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(database_url: Option<&str>, data_dir: &Path) -> Server {
        let port = free_port();
        let mut cmd = Command::new(BIN);
        cmd.arg("serve")
            .env("CINEFLOW_LISTEN", format!("127.0.0.1:{port}"))
            .env("CINEFLOW_DATA_DIR", data_dir)
            .env("CINEFLOW_COMPONENTS_DIR", components_dir())
            .env("RUST_LOG", "warn")
            .env_remove("CINEFLOW_JWT_SECRET")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        match database_url {
            Some(url) => cmd
                .env("DATABASE_URL", url)
                .env("CINEFLOW_JWT_SECRET", "binary-test-secret-0123456789abcdef"),
            None => cmd.env_remove("DATABASE_URL"),
        };
        let child = cmd.spawn().expect("cineflow starts");
        Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
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

    let metrics = client
        .get(format!("{}/metrics", server.base))
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

    // The binary migrated the empty database itself.
    let applied: i64 = sqlx::query_scalar("select count(*) from _sqlx_migrations")
        .fetch_one(&pool)
        .await
        .expect("migrations table");
    assert!(applied >= 1);

    let status = server.terminate();
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
    // The compiled-component cache was filled.
    let cached = std::fs::read_dir(data.path().join("compiled"))
        .expect("cache dir")
        .count();
    assert_eq!(cached, 3);
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
    assert_eq!(hooks["items"].as_array().map(Vec::len), Some(3));
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
