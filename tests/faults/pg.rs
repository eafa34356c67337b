//! A private PostgreSQL cluster that a test may stop and start again at the same address, so
//! that the machine's shared server (5432, used by every other test) is never touched.
//!
//! `cineflow::localdb` picks a new port on every start, which a restart test cannot use (the
//! served binary keeps its `DATABASE_URL`), so this drives `initdb` and `pg_ctl` directly, the
//! same way: PostgreSQL refuses to run as root, so as root every command runs as `postgres`.
//!
//! The cluster listens on a Unix socket in its own directory only, not on TCP: a TCP port
//! found free for it could be taken by another process before it binds, or while it is down
//! between the stop and the start, and PostgreSQL cannot bind port 0 and tell. The socket's
//! path is the cluster's alone.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection};

/// Names the socket file; nothing binds a TCP port.
const SOCKET_PORT: u16 = 5432;

pub struct PrivatePg {
    /// Holds the cluster; removed on drop.
    _root: tempfile::TempDir,
    dir: PathBuf,
    bin: PathBuf,
    user: Option<(u32, u32)>,
    running: bool,
}

impl PrivatePg {
    /// Initialises a cluster in a temporary directory, starts it (on a socket in that
    /// directory) and creates the database `cineflow`.
    pub async fn start() -> PrivatePg {
        // Under /tmp: as root the cluster runs as `postgres`, which must be able to reach it.
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod temp dir");
        let dir = root.path().join("pg");
        std::fs::create_dir(&dir).expect("cluster dir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .expect("chmod cluster dir");
        let user = running_as_root().then(postgres_user);
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).expect("chown cluster dir");
        }
        let mut pg = PrivatePg {
            _root: root,
            dir,
            bin: bin_dir(),
            user,
            running: false,
        };
        pg.run(
            "initdb",
            &["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
        )
        .await;
        pg.start_again().await;
        let mut conn = PgConnection::connect(&pg.url("postgres"))
            .await
            .expect("connect to the private cluster");
        sqlx::raw_sql("create database cineflow")
            .execute(&mut conn)
            .await
            .expect("create database cineflow");
        conn.close().await.expect("close");
        pg
    }

    /// `postgres://postgres@localhost/<database>?host=<the cluster's directory>`: the
    /// socket `<dir>/.s.PGSQL.5432` (the port only names the socket file).
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres@localhost:{SOCKET_PORT}/{database}?host={}",
            self.dir.display()
        )
    }

    /// Fast shutdown (`pg_ctl stop -m fast`): sessions are ended, the socket goes.
    pub async fn stop(&mut self) {
        self.run("pg_ctl", &["stop", "-m", "fast", "-w"]).await;
        self.running = false;
    }

    /// Starts the stopped cluster at the same address and waits until it accepts connections.
    pub async fn start_again(&mut self) {
        // pg_ctl hands the options to a shell: `''` is the empty list of TCP addresses.
        let options = format!(
            "-p {SOCKET_PORT} -k {} -c listen_addresses='' -c fsync=off -c synchronous_commit=off",
            self.dir.display()
        );
        let log = self.dir.join("server.log");
        let log = log.to_str().expect("utf-8 path");
        self.run(
            "pg_ctl",
            &["start", "-w", "-t", "60", "-l", log, "-o", options.as_str()],
        )
        .await;
        self.running = true;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match PgConnection::connect(&self.url("postgres")).await {
                Ok(conn) => {
                    let _ = conn.close().await;
                    return;
                }
                Err(e) => assert!(
                    Instant::now() < deadline,
                    "the private cluster does not accept connections: {e}"
                ),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `program -D <dir> args…` as the cluster's user; panics with its output on failure.
    async fn run(&self, program: &str, args: &[&str]) {
        let out = tokio::process::Command::from(self.command(program, args))
            .output()
            .await
            .unwrap_or_else(|e| panic!("running {program}: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?} failed ({}): {}{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log_tail()
        );
    }

    fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(self.bin.join(program));
        cmd.arg("-D").arg(&self.dir).args(args);
        // The postgres user may not be allowed into the test's working directory.
        cmd.current_dir(&self.dir);
        if let Some((uid, gid)) = self.user {
            cmd.uid(uid).gid(gid);
        }
        cmd
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        if self.running {
            let _ = self
                .command("pg_ctl", &["stop", "-m", "immediate", "-w"])
                .output();
        }
    }
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// The `postgres` system user's uid and gid.
fn postgres_user() -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").expect("/etc/passwd");
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() > 3 && f[0] == "postgres")
        .and_then(|f| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
        .expect("running as root needs a `postgres` user to run PostgreSQL as")
}

/// `CINEFLOW_PG_BIN`, else `pg_config --bindir`, else the newest `/usr/lib/postgresql/*/bin`.
fn bin_dir() -> PathBuf {
    let has_initdb = |dir: &Path| dir.join("initdb").exists() && dir.join("pg_ctl").exists();
    if let Some(dir) = std::env::var_os("CINEFLOW_PG_BIN").map(PathBuf::from) {
        assert!(has_initdb(&dir), "CINEFLOW_PG_BIN has no initdb/pg_ctl");
        return dir;
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_initdb(&dir) {
            return dir;
        }
    }
    std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, bin)| has_initdb(bin))
        .max()
        .map(|(_, bin)| bin)
        .expect("these tests need PostgreSQL's initdb and pg_ctl (apt install postgresql)")
}
