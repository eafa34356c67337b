//! The file `cineflow remote login` writes: which server, and the token it gave.
//!
//! Where: `$CINEFLOW_CONFIG` (a file path), else `$XDG_CONFIG_HOME/cineflow/remote.json`,
//! else `~/.config/cineflow/remote.json`. The token is a credential: the file is created
//! mode 0600 (its directory 0700) and replaced whole by a rename, so a reader never sees half
//! of it and no other user can read it, even for a moment.

use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::RemoteError;

/// What the file holds.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    /// The server's base URL, as given to `login` (normalised: no trailing slash).
    pub server: String,
    /// The bearer token `POST /api/v1/auth/signin` returned.
    pub token: String,
}

impl std::fmt::Debug for Saved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Saved")
            .field("server", &self.server)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// The file's path from the environment (`var` looks a variable up: `std::env::var_os` in
/// the binary, a map in tests). `None` when neither `CINEFLOW_CONFIG`, `XDG_CONFIG_HOME` nor
/// `HOME` is set. Empty or relative `XDG_CONFIG_HOME` is ignored, as the XDG spec says.
pub fn path_from(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let set = |name: &str| var(name).filter(|v| !v.is_empty());
    if let Some(file) = set("CINEFLOW_CONFIG") {
        return Some(PathBuf::from(file));
    }
    let base = set("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| set("HOME").map(|home| PathBuf::from(home).join(".config")))?;
    Some(base.join("cineflow").join("remote.json"))
}

/// The file's path in this process's environment.
pub fn path() -> Option<PathBuf> {
    path_from(|name| std::env::var_os(name))
}

/// Reads the file: `None` when it does not exist.
pub fn load(path: &Path) -> Result<Option<Saved>, RemoteError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(RemoteError::Usage(format!(
                "reading {}: {e}",
                path.display()
            )));
        }
    };
    serde_json::from_str(&text).map(Some).map_err(|e| {
        RemoteError::Usage(format!(
            "{} is not a remote config ({e}); run `cineflow remote login` again",
            path.display()
        ))
    })
}

/// Writes the file (mode 0600), creating its directory (mode 0700) if needed.
pub fn save(path: &Path, saved: &Saved) -> Result<(), RemoteError> {
    let fail = |what: &str, e: std::io::Error| {
        RemoteError::Usage(format!("{what} {}: {e}", path.display()))
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    set_dir_mode(&mut builder);
    builder
        .create(&dir)
        .map_err(|e| fail("creating the directory of", e))?;
    let mut body = serde_json::to_vec_pretty(saved)
        .map_err(|e| RemoteError::Usage(format!("encoding the config: {e}")))?;
    body.push(b'\n');
    let mut partial = path.as_os_str().to_owned();
    partial.push(format!(".{}.partial", std::process::id()));
    let partial = PathBuf::from(partial);
    let written = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        set_file_mode(&mut options);
        let mut file = options.open(&partial)?;
        // A file left by an older run may have had wider permissions: narrow them.
        restrict(&file)?;
        file.write_all(&body)?;
        file.sync_all()?;
        std::fs::rename(&partial, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(fail("writing", e));
    }
    Ok(())
}

#[cfg(unix)]
fn set_dir_mode(builder: &mut std::fs::DirBuilder) {
    use std::os::unix::fs::DirBuilderExt as _;
    builder.mode(0o700);
}

#[cfg(not(unix))]
fn set_dir_mode(_: &mut std::fs::DirBuilder) {}

#[cfg(unix)]
fn set_file_mode(options: &mut std::fs::OpenOptions) {
    use std::os::unix::fs::OpenOptionsExt as _;
    options.mode(0o600);
}

#[cfg(not(unix))]
fn set_file_mode(_: &mut std::fs::OpenOptions) {}

#[cfg(unix)]
fn restrict(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict(_: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let map: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), OsString::from(v)))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn the_path_prefers_cineflow_config_then_xdg_then_home() {
        let all = [
            ("CINEFLOW_CONFIG", "/tmp/x/remote.json"),
            ("XDG_CONFIG_HOME", "/xdg"),
            ("HOME", "/home/ann"),
        ];
        assert_eq!(
            path_from(env(&all)),
            Some(PathBuf::from("/tmp/x/remote.json"))
        );
        assert_eq!(
            path_from(env(&all[1..])),
            Some(PathBuf::from("/xdg/cineflow/remote.json"))
        );
        assert_eq!(
            path_from(env(&all[2..])),
            Some(PathBuf::from("/home/ann/.config/cineflow/remote.json"))
        );
        assert_eq!(path_from(env(&[])), None);
    }

    #[test]
    fn empty_or_relative_values_are_ignored() {
        let vars = [
            ("CINEFLOW_CONFIG", ""),
            ("XDG_CONFIG_HOME", "relative/dir"),
            ("HOME", "/home/ann"),
        ];
        assert_eq!(
            path_from(env(&vars)),
            Some(PathBuf::from("/home/ann/.config/cineflow/remote.json"))
        );
    }

    #[test]
    fn save_then_load_round_trips_and_a_missing_file_is_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nested/cineflow/remote.json");
        assert_eq!(load(&path).expect("loads"), None);
        let saved = Saved {
            server: "http://127.0.0.1:8080".into(),
            token: "tok".into(),
        };
        save(&path, &saved).expect("saves");
        assert_eq!(load(&path).expect("loads"), Some(saved.clone()));
        // Saving again replaces the file whole.
        let other = Saved {
            token: "tok2".into(),
            ..saved
        };
        save(&path, &other).expect("saves");
        assert_eq!(load(&path).expect("loads"), Some(other));
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().expect("dir"))
            .expect("lists")
            .filter_map(Result::ok)
            .filter(|e| e.file_name() != "remote.json")
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("cfg/remote.json");
        let saved = Saved {
            server: "https://cineflow.example".into(),
            token: "secret".into(),
        };
        save(&path, &saved).expect("saves");
        let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().expect("dir")), 0o700);

        // A file someone made world-readable is narrowed on the next save.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        save(&path, &saved).expect("saves");
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn a_corrupt_file_is_a_usage_error_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("remote.json");
        std::fs::write(&path, "{not json").expect("writes");
        let err = load(&path).expect_err("refused");
        assert!(
            matches!(&err, RemoteError::Usage(m) if m.contains("remote.json")),
            "{err:?}"
        );
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn debug_never_shows_the_token() {
        let saved = Saved {
            server: "http://s".into(),
            token: "very-secret".into(),
        };
        assert!(!format!("{saved:?}").contains("very-secret"));
    }
}
