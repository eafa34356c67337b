//! `CINEFLOW_DATABASE_READ_URL` against a real PostgreSQL streaming replica.
//!
//! The machine's shared server holds every test's databases, so it is not replicated: this
//! test runs a private primary (`initdb` on a free port, `wal_level=replica`, a replication
//! line in `pg_hba.conf`) and a hot standby of it made with `pg_basebackup -R`, both from the
//! machine's PostgreSQL binaries (`cineflow::localdb::find_bin_dir`), and starts the real
//! `cineflow` binary with `DATABASE_URL` = the primary and `CINEFLOW_DATABASE_READ_URL` = the
//! standby.
//!
//! The proof that a read was served by the standby: the standby's WAL replay is paused
//! (`pg_wal_replay_pause()`), and things created through the API afterwards exist on the
//! primary only. A public read that does not find them was answered by the standby; a write
//! or a decision that does find them (editing the new movie, scheduling a show of it,
//! holding and paying seats of that show) ran on the primary. Then the standby is stopped
//! (`pg_ctl stop -m immediate`: every read still answers 200, from the primary) and started
//! again (reads go back to it), and a second process with `CINEFLOW_DATABASE_READ_MAX_LAG_MS`
//! finds the paused standby lagging and reads the primary until it catches up.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};

use crate::cluster::{Cluster, hold};
use crate::support::client::{base_time, movie_body, payment_body, s, show_body, unique};

/// One PostgreSQL server of the test's own, listening on 127.0.0.1 only, its data directory
/// owned by the `postgres` system user when the test runs as root. Dropping it stops it.
struct PgServer {
    name: &'static str,
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    /// uid and gid to run PostgreSQL's commands as (`None`: as ourselves).
    user: Option<(u32, u32)>,
}

impl PgServer {
    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bin.join(program));
        // The postgres user may not be allowed into our working directory.
        cmd.current_dir(self.dir.parent().expect("the data directory has a parent"));
        if let Some((uid, gid)) = self.user {
            use std::os::unix::process::CommandExt;
            cmd.uid(uid).gid(gid);
        }
        cmd
    }

    fn run(&self, program: &str, args: &[&str]) -> Output {
        let out = self
            .command(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{program} does not run: {e}"));
        assert!(
            out.status.success(),
            "{} {program} {args:?} failed: {}{}",
            self.name,
            String::from_utf8_lossy(&out.stderr),
            self.log_tail()
        );
        out
    }

    /// A fresh primary: `initdb` (trust, as the test's private cluster reachable on 127.0.0.1
    /// only), `wal_level=replica` and a `replication` line for the standby's base backup and
    /// stream, started on a free port with the database `cineflow` made.
    async fn primary(root: &Path, bin: &Path, user: Option<(u32, u32)>) -> PgServer {
        let server = PgServer::new("primary", root, bin, user);
        let dir = server.dir.to_str().expect("a UTF-8 path");
        server.run(
            "initdb",
            &[
                "-D",
                dir,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ],
        );
        let conf = format!(
            "listen_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{dir}'\n\
             wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n\
             fsync = off\nsynchronous_commit = off\nmax_connections = 50\n",
            server.port
        );
        append(&server.dir.join("postgresql.conf"), &conf);
        append(
            &server.dir.join("pg_hba.conf"),
            "host replication postgres 127.0.0.1/32 trust\n",
        );
        server.start();
        let mut conn = server.connect("postgres").await;
        sqlx::raw_sql("create database cineflow")
            .execute(&mut conn)
            .await
            .expect("create database cineflow");
        server
    }

    /// A hot standby of `primary`: `pg_basebackup -R` (which writes `standby.signal` and the
    /// `primary_conninfo` to stream from), on a port of its own.
    async fn standby_of(primary: &PgServer, root: &Path) -> PgServer {
        let server = PgServer::new("standby", root, &primary.bin, primary.user);
        let dir = server.dir.to_str().expect("a UTF-8 path");
        let port = primary.port.to_string();
        server.run(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-D",
                dir,
                "-R",
                "-X",
                "stream",
                "--checkpoint=fast",
                "--no-sync",
            ],
        );
        // The copied configuration names the primary's port and socket directory.
        append(
            &server.dir.join("postgresql.conf"),
            &format!(
                "port = {}\nunix_socket_directories = '{dir}'\n",
                server.port
            ),
        );
        server.start();
        server.wait_in_recovery().await;
        server
    }

    fn new(name: &'static str, root: &Path, bin: &Path, user: Option<(u32, u32)>) -> PgServer {
        let dir = root.join(name);
        std::fs::create_dir(&dir).expect("data directory");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).expect("chown");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        PgServer {
            name,
            bin: bin.to_owned(),
            dir,
            port,
            user,
        }
    }

    fn start(&self) {
        let dir = self.dir.to_str().expect("a UTF-8 path");
        let log = self.dir.join("server.log");
        let log = log.to_str().expect("a UTF-8 path");
        self.run("pg_ctl", &["-D", dir, "-l", log, "-w", "-t", "60", "start"]);
    }

    /// `pg_ctl stop -m immediate`: the server is gone at once, its connections cut.
    fn stop_immediate(&self) {
        let dir = self.dir.to_str().expect("a UTF-8 path");
        self.run("pg_ctl", &["-D", dir, "-m", "immediate", "-w", "stop"]);
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    async fn connect(&self, database: &str) -> PgConnection {
        PgConnection::connect(&self.url(database))
            .await
            .unwrap_or_else(|e| panic!("connecting to the {}: {e}", self.name))
    }

    /// Waits until the standby accepts connections to `cineflow` and is in recovery.
    async fn wait_in_recovery(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(mut conn) = PgConnection::connect(&self.url("cineflow")).await {
                let recovering: bool = sqlx::query_scalar("select pg_is_in_recovery()")
                    .fetch_one(&mut conn)
                    .await
                    .expect("pg_is_in_recovery");
                assert!(recovering, "the standby is not in recovery");
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the standby accepts no connections{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        format!(
            "\n---- {} server.log ----\n{}",
            self.name,
            lines[lines.len().saturating_sub(20)..].join("\n")
        )
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        if self.dir.join("postmaster.pid").exists() {
            let _ = self
                .command("pg_ctl")
                .arg("-D")
                .arg(&self.dir)
                .args(["-m", "immediate", "-w", "stop"])
                .output();
        }
    }
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    file.write_all(text.as_bytes()).expect("append");
}

/// Waits until the standby has replayed everything the primary has written so far.
async fn catch_up(primary: &PgServer, standby: &PgServer) {
    let mut p = primary.connect("cineflow").await;
    let lsn: String = sqlx::query_scalar("select pg_current_wal_lsn()::text")
        .fetch_one(&mut p)
        .await
        .expect("primary's LSN");
    let mut conn = standby.connect("cineflow").await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let replayed: bool =
            sqlx::query_scalar("select pg_last_wal_replay_lsn() >= $1::text::pg_lsn")
                .bind(&lsn)
                .fetch_one(&mut conn)
                .await
                .expect("standby's replay LSN");
        if replayed {
            break;
        }
        assert!(Instant::now() < deadline, "the standby does not catch up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the standby has replayed everything the primary has written so far, then
/// pauses its replay: from here on, what the primary commits is not on the standby.
async fn pause_replay(primary: &PgServer, standby: &PgServer) {
    catch_up(primary, standby).await;
    let mut conn = standby.connect("cineflow").await;
    // The startup process checks for a pause before it applies each record, so from the
    // moment the pause is requested ("pause requested", then "paused" once it meets a record)
    // nothing more is replayed.
    sqlx::query("select pg_wal_replay_pause()")
        .execute(&mut conn)
        .await
        .expect("pause replay");
    let state: String = sqlx::query_scalar("select pg_get_wal_replay_pause_state()")
        .fetch_one(&mut conn)
        .await
        .expect("pause state");
    assert_ne!(state, "not paused");
}

async fn resume_replay(standby: &PgServer) {
    let mut conn = standby.connect("cineflow").await;
    sqlx::query("select pg_wal_replay_resume()")
        .execute(&mut conn)
        .await
        .expect("resume replay");
}

/// Whether the primary has the movie (read there directly).
async fn movie_on_primary(primary: &PgServer, id: &str) -> bool {
    let mut conn = primary.connect("cineflow").await;
    sqlx::query_scalar("select exists(select 1 from movies where id = $1::uuid)")
        .bind(id)
        .fetch_one(&mut conn)
        .await
        .expect("read on the primary")
}

/// Every public catalogue read of the venue: each must answer 200.
fn browsing_paths(theatre: &str, screen: &str, show: &str, movie: &str) -> Vec<String> {
    vec![
        "/movies".into(),
        format!("/movies/{movie}"),
        "/theatres".into(),
        format!("/theatres/{theatre}"),
        format!("/theatres/{theatre}/screens"),
        format!("/theatres/{theatre}/movies"),
        format!("/theatres/{theatre}/movies/{movie}"),
        format!("/screens/{screen}"),
        "/shows".into(),
        format!("/shows/{show}"),
    ]
}

/// Ids of a page's items.
fn item_ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {page}"))
        .iter()
        .map(|item| s(item, "id"))
        .collect()
}

async fn readyz(cluster: &Cluster) -> Value {
    let res = cluster
        .client
        .get(cluster.replicas[0].url("/readyz"))
        .send()
        .await
        .expect("/readyz");
    assert_eq!(
        res.status(),
        200,
        "readiness must not depend on the replica"
    );
    res.json().await.expect("/readyz json")
}

/// A movie of the venue's chain, made through the API; its id.
async fn new_movie(cluster: &Cluster, token: &str, chain_id: &str) -> String {
    let mut movie = movie_body(&unique("Replica Proof"));
    movie["chain_id"] = json!(chain_id);
    let created = cluster
        .expect(0, Method::POST, "/movies", Some(token), Some(movie), 201)
        .await;
    s(&created, "id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsing_reads_are_served_by_the_standby_and_survive_its_loss() {
    let _serial = crate::SERIAL.lock().await;
    let started = Instant::now();
    let bin = cineflow::localdb::find_bin_dir()
        .await
        .expect("the machine's PostgreSQL binaries");
    let user = if nix_is_root() {
        Some(cineflow::localdb::postgres_user().expect("the postgres user"))
    } else {
        None
    };
    let root = tempfile::Builder::new()
        .prefix("cf-read-replica-")
        .tempdir()
        .expect("a temporary directory");
    {
        // The postgres user must reach the data directories inside.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
    }
    let primary = PgServer::primary(root.path(), &bin, user).await;
    let standby = PgServer::standby_of(&primary, root.path()).await;
    eprintln!("primary and standby ready in {:?}", started.elapsed());

    let cluster = Cluster::start(
        &primary.url("cineflow"),
        vec![vec![
            ("CINEFLOW_DATABASE_READ_URL".into(), standby.url("cineflow")),
            // A short circuit, so that the test sees the replica tried again soon.
            ("CINEFLOW_DATABASE_READ_RETRY_MS".into(), "500".into()),
            ("CINEFLOW_DB_MAX_CONNECTIONS".into(), "10".into()),
        ]],
    )
    .await;
    assert_eq!(readyz(&cluster).await["read_replica"], "up");
    let venue = cluster.venue(0, 4, 10).await;
    // Public reads are the standby's, a moment behind: the show just made may not be there yet.
    catch_up(&primary, &standby).await;
    let owner = venue.owner_token.as_str();
    let show = cluster
        .expect(
            0,
            Method::GET,
            &format!("/shows/{}", venue.show_id),
            None,
            None,
            200,
        )
        .await;
    let (theatre_id, screen_id, movie_id) = (
        s(&show, "theatre_id"),
        s(&show, "screen_id"),
        s(&show, "movie_id"),
    );
    let customer = cluster.customer(0).await;

    // 1. Replay paused: what is made now exists on the primary only.
    pause_replay(&primary, &standby).await;
    let fresh = new_movie(&cluster, owner, &venue.chain_id).await;
    assert!(movie_on_primary(&primary, &fresh).await);
    // Public reads come from the standby, which has not seen it.
    cluster
        .expect(0, Method::GET, &format!("/movies/{fresh}"), None, None, 404)
        .await;
    let listed = cluster
        .expect(0, Method::GET, "/movies?limit=100", None, None, 200)
        .await;
    let listed = item_ids(&listed);
    assert!(listed.contains(&movie_id), "the venue's movie is listed");
    assert!(
        !listed.contains(&fresh),
        "the listing came from the primary"
    );
    // Writes, and the reads they decide on, are on the primary: the owner edits the movie
    // the standby does not have, puts it on the theatre's list and schedules a show of it.
    let edit = json!({"title": unique("Edited On The Primary")});
    cluster
        .expect(
            0,
            Method::PATCH,
            &format!("/movies/{fresh}"),
            Some(owner),
            Some(edit),
            200,
        )
        .await;
    let showing = json!({"movie_ids": [fresh]});
    let path = format!("/theatres/{theatre_id}/movies");
    cluster
        .expect(0, Method::POST, &path, Some(owner), Some(showing), 200)
        .await;
    let new_show = show_body(&screen_id, &fresh, base_time(9));
    let new_show = cluster
        .expect(0, Method::POST, "/shows", Some(owner), Some(new_show), 201)
        .await;
    let new_show_id = s(&new_show, "id");
    cluster
        .expect(
            0,
            Method::GET,
            &format!("/shows/{new_show_id}"),
            None,
            None,
            404,
        )
        .await;
    // A customer holds and pays seats of the show only the primary knows.
    let seats = vec![crate::seat(0, 10), crate::seat(1, 10)];
    let token = Some(customer.token.as_str());
    let booking = cluster
        .expect(
            0,
            Method::POST,
            "/bookings",
            token,
            Some(hold(&new_show_id, &seats)),
            201,
        )
        .await;
    let path = format!("/bookings/{}/payments", s(&booking, "id"));
    cluster
        .expect(
            0,
            Method::POST,
            &path,
            token,
            Some(payment_body(&booking)),
            201,
        )
        .await;
    let replica_reads = cluster
        .counter(0, "cineflow_db_reads_total{pool=\"replica\"}")
        .await;
    assert!(replica_reads >= 3.0, "{replica_reads} reads on the replica");
    resume_replay(&standby).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let res = cluster
            .send(
                0,
                Method::GET,
                &format!("/shows/{new_show_id}"),
                None,
                None,
                None,
            )
            .await
            .expect("GET the new show");
        if res.status() == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the standby does not catch up after the resume"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "the standby served the reads, the primary the rest ({:?})",
        started.elapsed()
    );

    // 2. The standby goes away: every read still answers 200, from the primary.
    standby.stop_immediate();
    let fresh_2 = new_movie(&cluster, owner, &venue.chain_id).await;
    for round in 0..3 {
        let mut paths = browsing_paths(&theatre_id, &screen_id, &new_show_id, &fresh);
        // Made after the standby went: only the primary can answer it.
        paths.push(format!("/movies/{fresh_2}"));
        for path in paths {
            let res = cluster
                .send(0, Method::GET, &path, None, None, None)
                .await
                .unwrap_or_else(|e| panic!("GET {path}: {e}"));
            assert_eq!(
                res.status(),
                200,
                "GET {path} (round {round}) with the standby down"
            );
        }
    }
    assert_eq!(readyz(&cluster).await["read_replica"], "down");
    let seats = vec![crate::seat(2, 10)];
    cluster
        .expect(
            0,
            Method::POST,
            "/bookings",
            token,
            Some(hold(&new_show_id, &seats)),
            201,
        )
        .await;
    assert!(
        cluster
            .counter(0, "cineflow_read_replica_failures_total")
            .await
            >= 1.0
    );
    assert!(
        cluster.replicas[0]
            .log()
            .contains("the read replica failed; browsing reads go to the primary"),
        "the loss is logged"
    );
    eprintln!(
        "every read answered by the primary with the standby down ({:?})",
        started.elapsed()
    );

    // 3. It comes back: reads go to it again.
    standby.start();
    standby.wait_in_recovery().await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        cluster
            .expect(0, Method::GET, "/movies", None, None, 200)
            .await;
        if readyz(&cluster).await["read_replica"] == "up" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "reads do not go back to the standby"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    pause_replay(&primary, &standby).await;
    let fresh_3 = new_movie(&cluster, owner, &venue.chain_id).await;
    cluster
        .expect(
            0,
            Method::GET,
            &format!("/movies/{fresh_3}"),
            None,
            None,
            404,
        )
        .await;
    resume_replay(&standby).await;
    eprintln!("reads back on the standby ({:?})", started.elapsed());

    // 4. The lag guard: a second process with CINEFLOW_DATABASE_READ_MAX_LAG_MS finds the
    // paused standby behind, and reads the primary meanwhile.
    let guarded = Cluster::start(
        &primary.url("cineflow"),
        vec![vec![
            ("CINEFLOW_DATABASE_READ_URL".into(), standby.url("cineflow")),
            ("CINEFLOW_DATABASE_READ_MAX_LAG_MS".into(), "200".into()),
            ("CINEFLOW_DB_MAX_CONNECTIONS".into(), "5".into()),
        ]],
    )
    .await;
    pause_replay(&primary, &standby).await;
    let fresh_4 = new_movie(&cluster, owner, &venue.chain_id).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let res = guarded
            .send(
                0,
                Method::GET,
                &format!("/movies/{fresh_4}"),
                None,
                None,
                None,
            )
            .await
            .expect("GET the movie");
        // Replay is paused: only the primary has it.
        if res.status() == 200 {
            break;
        }
        assert_eq!(res.status(), 404);
        assert!(
            Instant::now() < deadline,
            "the lag guard never sends reads to the primary"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(readyz(&guarded).await["read_replica"], "lagging");
    assert!(
        guarded
            .counter(0, "cineflow_read_replica_lag_seconds")
            .await
            > 0.2
    );
    resume_replay(&standby).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while readyz(&guarded).await["read_replica"] != "up" {
        assert!(
            Instant::now() < deadline,
            "the guard does not see the standby catch up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "the lag guard read the primary while the standby lagged ({:?})",
        started.elapsed()
    );
    drop(guarded);
    drop(cluster);
}

/// Whether this process runs as root (PostgreSQL then runs as the `postgres` user).
fn nix_is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}
