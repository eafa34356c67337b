//! What the cluster needs from the machine and from PostgreSQL's own files: the binaries, the
//! `postgres` system user to run as when we are root, the ownership of the data directory,
//! what `postmaster.pid` says about a running server, and the URL of a socket.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, ensure};
use tokio::process::Command;

/// What `postmaster.pid` says about a running server.
pub(super) struct Running {
    pub(super) port: u16,
    /// The first socket directory, if any.
    pub(super) socket: Option<PathBuf>,
    /// Whether it listens on TCP.
    pub(super) listens: bool,
}

/// Reads `postmaster.pid`: line 4 is the port, line 5 the first socket directory, line 6 the
/// first listen address (empty with `listen_addresses=''`); documented in `pidfile.h`.
pub(super) fn read_pid_file(path: &Path) -> Result<Running> {
    let text = std::fs::read_to_string(path)?;
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let port = lines
        .get(3)
        .and_then(|l| l.parse().ok())
        .ok_or_else(|| anyhow!("no port in {}", path.display()))?;
    let socket = lines.get(4).filter(|l| !l.is_empty()).map(PathBuf::from);
    let listens = lines.get(5).is_some_and(|l| !l.is_empty());
    Ok(Running {
        port,
        socket,
        listens,
    })
}

/// `postgres://postgres@localhost:PORT/DATABASE?host=<socket dir, percent-encoded>`.
pub(super) fn socket_url(socket: &Path, port: u16, database: &str) -> String {
    let mut host = String::new();
    for &b in socket.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            host.push(char::from(b));
        } else {
            host.push_str(&format!("%{b:02X}"));
        }
    }
    format!("postgres://postgres@localhost:{port}/{database}?host={host}")
}

/// The directory of the machine's PostgreSQL binaries: `CINEFLOW_PG_BIN`, else `pg_config
/// --bindir`, else the newest `/usr/lib/postgresql/*/bin` holding `initdb`.
pub async fn find_bin_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("CINEFLOW_PG_BIN").map(PathBuf::from) {
        let has_initdb = dir.join("initdb").exists();
        ensure!(
            has_initdb,
            "CINEFLOW_PG_BIN={} has no initdb",
            dir.display()
        );
        return Ok(dir);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output().await {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && dir.join("initdb").exists() {
            return Ok(dir);
        }
    }
    // Debian/Ubuntu install each major version side by side and keep initdb off PATH.
    let versions = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten();
    versions
        .filter_map(|e| {
            Some((
                e.file_name().to_str()?.parse::<u32>().ok()?,
                e.path().join("bin"),
            ))
        })
        .filter(|(_, bin)| bin.join("initdb").exists())
        .max()
        .map(|(_, bin)| bin)
        .ok_or_else(|| {
            anyhow!("no PostgreSQL binaries found; install postgresql or set DATABASE_URL")
        })
}

/// The uid and gid of the `postgres` system user (PostgreSQL refuses to run as root).
pub fn postgres_user() -> Result<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd")?;
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() > 3 && f[0] == "postgres")
        .and_then(|f| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
        .ok_or_else(|| {
            anyhow!("running as root, but there is no `postgres` user to run PostgreSQL as")
        })
}

pub(super) fn chown_tree(path: &Path, (uid, gid): (u32, u32)) -> Result<()> {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid))
        .with_context(|| format!("chown {}", path.display()))?;
    if std::fs::symlink_metadata(path)?.is_dir() {
        for entry in std::fs::read_dir(path)? {
            chown_tree(&entry?.path(), (uid, gid))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_urls_escape_the_directory() {
        let url = socket_url(Path::new("/tmp/a b/pg"), 5432, "cineflow");
        assert_eq!(
            url,
            "postgres://postgres@localhost:5432/cineflow?host=%2Ftmp%2Fa%20b%2Fpg"
        );
        let options: sqlx::postgres::PgConnectOptions = url.parse().expect("parses");
        assert_eq!(options.get_socket(), Some(&PathBuf::from("/tmp/a b/pg")));
        assert_eq!(options.get_database(), Some("cineflow"));
    }
}
