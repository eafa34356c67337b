//! A private PostgreSQL cluster for `cineflow serve` when `DATABASE_URL` is unset.
//!
//! Uses the machine's PostgreSQL binaries. PostgreSQL refuses to run as root, so when we
//! are root every PostgreSQL command runs as the `postgres` system user instead.
//!
//! The cluster trusts whoever connects (no passwords to manage), so it listens on no TCP
//! port at all (`listen_addresses=''`): only on a Unix socket inside the data directory,
//! which is 0700, so only its owner (and root) can reach it.

mod pg_tools;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use sqlx::{Connection, PgConnection};
use tokio::process::{Child, Command};

use pg_tools::{Running, chown_tree, read_pid_file, socket_url};
// Also for the tests that run clusters of their own (a primary and its streaming replica,
// tests/replicas/read_replica.rs).
pub use pg_tools::{find_bin_dir, postgres_user};

/// A private PostgreSQL cluster owned by this process.
pub struct LocalDb {
    dir: PathBuf,
    bin: PathBuf,
    /// uid/gid to run PostgreSQL commands as; `None` means as ourselves.
    user: Option<(u32, u32)>,
    url: String,
    child: Option<Child>,
    /// False when we reused a server started by an earlier run, or after `stop`.
    owned: bool,
}

impl LocalDb {
    /// Starts (initialising on first use) the cluster whose data lives in `dir`, and returns once it accepts connections.
    /// Creates the database `cineflow` if missing.
    pub async fn start(dir: &Path) -> Result<LocalDb> {
        let started = Instant::now();
        let bin = find_bin_dir().await?;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let dir = dir.canonicalize()?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        let user = if std::fs::metadata("/proc/self")?.uid() == 0 {
            let ids = postgres_user()?;
            chown_tree(&dir, ids)?;
            Some(ids)
        } else {
            None
        };
        let mut db = LocalDb {
            dir,
            bin,
            user,
            url: String::new(),
            child: None,
            owned: false,
        };

        if !db.dir.join("PG_VERSION").exists() {
            // Trust over the (0700) socket; refuse TCP even if someone turns it on later.
            let args = "-U postgres --auth-local=trust --auth-host=reject -E UTF8 --no-sync --no-instructions";
            let out = db.cmd("initdb").args(args.split(' ')).output();
            let out = out.await.context("running initdb")?;
            let err = String::from_utf8_lossy(&out.stderr);
            if !out.status.success() {
                bail!("initdb failed: {}", err.trim());
            }
        }

        let pid_file = db.dir.join("postmaster.pid");
        let mut status = db.cmd("pg_ctl");
        status.arg("status").stdout(Stdio::null());
        let running = pid_file.exists() && status.status().await?.success();
        let reused = if running {
            match read_pid_file(&pid_file)? {
                // Listening on TCP (started by an older version) or on no socket we can reach:
                // stop it and start it our way.
                Running { listens: true, .. } | Running { socket: None, .. } => {
                    tracing::info!(dir = %db.dir.display(), "restarting PostgreSQL left running by an earlier run: it listened on TCP");
                    let out = Command::from(db.pg_ctl_stop()).output().await?;
                    if !out.status.success() {
                        bail!(
                            "pg_ctl stop failed: {}",
                            String::from_utf8_lossy(&out.stderr).trim()
                        );
                    }
                    None
                }
                Running {
                    port,
                    socket: Some(socket),
                    ..
                } => Some((socket, port)),
            }
        } else {
            None
        };
        let (socket, port) = match reused {
            Some(found) => {
                tracing::info!(dir = %db.dir.display(), "reusing PostgreSQL left running by an earlier run; it will not be stopped on exit");
                found
            }
            None => db.spawn_postgres()?,
        };
        db.url = socket_url(&socket, port, "cineflow");
        db.wait_ready(&socket, port).await?;
        tracing::info!(dir = %db.dir.display(), socket = %socket.display(), elapsed = ?started.elapsed(), "local PostgreSQL ready");
        Ok(db)
    }

    /// URL of the `cineflow` database over the cluster's Unix socket, e.g.
    /// `postgres://postgres@localhost:PORT/cineflow?host=%2F…%2Fpg` (`host` names the socket's
    /// directory; the port only names the socket file, `.s.PGSQL.PORT`: no TCP port is open).
    pub fn database_url(&self) -> &str {
        &self.url
    }

    /// Fast shutdown (like `pg_ctl stop -m fast`), waiting for it to finish.
    pub async fn stop(mut self) -> Result<()> {
        if !std::mem::take(&mut self.owned) {
            return Ok(());
        }
        let out = Command::from(self.pg_ctl_stop()).output().await?;
        if let Some(child) = self.child.as_mut() {
            child.wait().await?;
        }
        // pg_ctl fails if the server is already gone (e.g. killed by the terminal's Ctrl-C); that is fine.
        let err = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() && self.dir.join("postmaster.pid").exists() {
            bail!("pg_ctl stop failed: {}", err.trim());
        }
        Ok(())
    }

    /// `program -D dir`, run as the cluster's user from inside the data directory (the
    /// postgres user may not be allowed into our working directory).
    fn std_cmd(&self, program: &str) -> StdCommand {
        use std::os::unix::process::CommandExt;
        let mut cmd = StdCommand::new(self.bin.join(program));
        cmd.arg("-D").arg(&self.dir).current_dir(&self.dir);
        if let Some((uid, gid)) = self.user {
            cmd.uid(uid).gid(gid);
        }
        cmd
    }

    fn cmd(&self, program: &str) -> Command {
        Command::from(self.std_cmd(program))
    }

    fn pg_ctl_stop(&self) -> StdCommand {
        let mut cmd = self.std_cmd("pg_ctl");
        cmd.args(["stop", "-m", "fast", "-w"]);
        cmd
    }

    /// Spawns the postmaster listening on a Unix socket only, and returns the socket's
    /// directory and port (which names the socket file).
    fn spawn_postgres(&mut self) -> Result<(PathBuf, u16)> {
        let log_path = self.dir.join("server.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)?;
        if let Some((uid, gid)) = self.user {
            std::os::unix::fs::chown(&log_path, Some(uid), Some(gid))?;
        }
        // The port only names the socket file; one that is free on TCP makes it plain that
        // nothing listens there (and keeps the name unique like a TCP port would).
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let socket = self.socket_dir(port)?;
        let child = self
            .cmd("postgres")
            .args(["-p", &port.to_string(), "-k"])
            .arg(&socket)
            .args(["-c", "listen_addresses="])
            .args(["-c", "synchronous_commit=off"])
            .args(["-c", "logging_collector=off"])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            // Own process group: the terminal's Ctrl-C must not kill the database before
            // the server has drained its requests; `stop` shuts it down afterwards.
            .process_group(0)
            .spawn()
            .context("spawning postgres")?;
        self.child = Some(child);
        self.owned = true;
        Ok((socket, port))
    }

    /// The data directory, or, when its path is too long for a socket (107 bytes on Linux),
    /// a private (0700) directory under the temporary directory named after it.
    fn socket_dir(&self, port: u16) -> Result<PathBuf> {
        let socket_file = format!(".s.PGSQL.{port}");
        if self.dir.as_os_str().len() + 1 + socket_file.len() < 107 {
            return Ok(self.dir.clone());
        }
        let digest = crate::plugins::sha256_hex(self.dir.as_os_str().as_encoded_bytes());
        let dir = std::env::temp_dir().join(format!("cineflow-pg-{}", &digest[..16]));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        if let Some((uid, gid)) = self.user {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))?;
        }
        let meta = std::fs::symlink_metadata(&dir)?;
        let owner = self
            .user
            .map_or(std::fs::metadata("/proc/self")?.uid(), |(uid, _)| uid);
        ensure!(
            meta.is_dir() && meta.uid() == owner,
            "{} is not a directory of the cluster's user",
            dir.display()
        );
        Ok(dir)
    }

    async fn wait_ready(&mut self, socket: &Path, port: u16) -> Result<()> {
        let admin_url = socket_url(socket, port, "postgres");
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut conn = loop {
            let exited = match self.child.as_mut() {
                Some(child) => child.try_wait()?,
                None => None,
            };
            if let Some(status) = exited {
                self.owned = false;
                bail!("postgres exited early ({status}){}", self.log_tail());
            }
            match PgConnection::connect(&admin_url).await {
                Ok(conn) => break conn,
                Err(e) if Instant::now() >= deadline => {
                    bail!("PostgreSQL not ready after 30 s ({e}){}", self.log_tail())
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        let exists: bool = sqlx::query_scalar(
            "select exists(select 1 from pg_database where datname = 'cineflow')",
        )
        .fetch_one(&mut conn)
        .await?;
        if !exists {
            sqlx::raw_sql("create database cineflow")
                .execute(&mut conn)
                .await
                .context("creating database cineflow")?;
        }
        conn.close().await?;
        Ok(())
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
        format!("; server.log ends with:\n{tail}")
    }
}

impl Drop for LocalDb {
    fn drop(&mut self) {
        if !self.owned {
            return;
        }
        let out = self.pg_ctl_stop().output();
        if !out.is_ok_and(|out| out.status.success()) {
            tracing::warn!(dir = %self.dir.display(), "could not stop local PostgreSQL");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cluster trusts every connection, so it must not be reachable over TCP: it listens
    /// on its socket in the 0700 data directory only.
    #[tokio::test]
    async fn listens_on_its_socket_only_never_on_tcp() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("cineflow-localdb-{}", uuid::Uuid::new_v4()));
        let db = LocalDb::start(&dir).await?;
        assert!(
            !db.database_url().contains("127.0.0.1"),
            "{}",
            db.database_url()
        );
        let mut conn = PgConnection::connect(db.database_url()).await?;
        let listen: String = sqlx::query_scalar("show listen_addresses")
            .fetch_one(&mut conn)
            .await?;
        assert_eq!(listen, "");
        let port: i32 = sqlx::query_scalar("select current_setting('port')::int")
            .fetch_one(&mut conn)
            .await?;
        let port = u16::try_from(port)?;
        conn.close().await?;
        for host in ["127.0.0.1", "::1"] {
            assert!(
                std::net::TcpStream::connect((host, port)).is_err(),
                "something accepts TCP on {host}:{port}"
            );
        }
        let pid = read_pid_file(&dir.join("postmaster.pid"))?;
        assert!(!pid.listens);
        assert!(pid.socket.is_some());
        let mode = std::fs::metadata(&dir)?.permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        db.stop().await?;
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }

    #[tokio::test]
    async fn starts_restarts_and_stops() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("cineflow-localdb-{}", uuid::Uuid::new_v4()));
        for _ in 0..2 {
            let db = LocalDb::start(&dir).await?;
            let mut conn = PgConnection::connect(db.database_url()).await?;
            let one: i32 = sqlx::query_scalar("select 1").fetch_one(&mut conn).await?;
            assert_eq!(one, 1);
            conn.close().await?;
            db.stop().await?;
        }
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }
}
