//! Compiled components cached on disk, so a restart or a rebind costs a `deserialize`
//! (~0.2 ms) instead of a Cranelift compile (~12-34 ms, more in debug builds).
//!
//! A compiled artifact is native code that wasmtime runs without validating it again, so
//! nothing is loaded that this host did not write: every file carries an HMAC-SHA256 of its
//! name (the component's sha256 and the engine fingerprint) and contents, under a random key
//! kept beside the artifacts (`mac.key`, 32 bytes, 0600), and is checked before it is
//! deserialised. A file that fails the check is deleted and the component compiled again
//! from its stored bytes. A directory that is not ours or that group or others may write to
//! is not used at all (a warning says so): whoever can write there could swap both.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use hmac::{KeyInit, Mac};
use wasmtime::Engine;
use wasmtime::component::Component;

use super::engine;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// First bytes of an authenticated artifact (then the 32-byte tag, then wasmtime's bytes).
const MAGIC: &[u8; 8] = b"CFCWASM1";
/// Length of the MAC key and of a tag.
const TAG_LEN: usize = 32;
/// The key's file name inside the cache directory.
const KEY_FILE: &str = "mac.key";

/// Where a component came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compiled {
    /// Loaded from an artifact this host wrote earlier.
    FromCache,
    /// Compiled now (and written to the cache if there is one).
    Fresh,
}

impl Compiled {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Compiled::FromCache => "cache",
            Compiled::Fresh => "compiled",
        }
    }
}

/// A directory of `<sha256>-<engine fingerprint>.cwasm` files, each authenticated.
#[derive(Debug, Clone)]
pub struct ArtifactCache {
    dir: Option<PathBuf>,
    fingerprint: String,
    /// The MAC key, read or created on first use; `None` when the cache cannot be trusted.
    key: Arc<OnceLock<Option<[u8; TAG_LEN]>>>,
    /// Whether the refusal of the directory was logged already (once is enough).
    warned: Arc<AtomicBool>,
}

impl ArtifactCache {
    /// A cache in `dir`, or none at all.
    pub fn new(dir: Option<PathBuf>, engine: &Engine) -> Self {
        Self {
            dir,
            fingerprint: engine::fingerprint(engine),
            key: Arc::default(),
            warned: Arc::default(),
        }
    }

    fn name(&self, sha256: &str) -> String {
        format!("{sha256}-{}.cwasm", self.fingerprint)
    }

    /// Loads the compiled form of `bytes` (whose sha256 is `sha256`), compiling on a miss.
    /// Blocking: call it from a blocking thread.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        sha256: &str,
        bytes: &[u8],
    ) -> wasmtime::Result<(Component, Compiled)> {
        let Some((dir, key)) = self.usable() else {
            return Ok((Component::new(engine, bytes)?, Compiled::Fresh));
        };
        let name = self.name(sha256);
        let path = dir.join(&name);
        match fs::read(&path) {
            Ok(file) => match verified(&key, &name, &file) {
                Some(artifact) => match deserialize(engine, artifact) {
                    Ok(component) => return Ok((component, Compiled::FromCache)),
                    Err(e) => {
                        tracing::warn!(path = %path.display(), error = %e, "discarding unreadable compiled component");
                        let _ = fs::remove_file(&path);
                    }
                },
                None => {
                    tracing::warn!(path = %path.display(), "a compiled component failed its integrity check; compiling it again from its stored bytes");
                    let _ = fs::remove_file(&path);
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot read a compiled component");
            }
        }
        let component = Component::new(engine, bytes)?;
        let artifact = component.serialize()?;
        let mut file = Vec::with_capacity(MAGIC.len() + TAG_LEN + artifact.len());
        file.extend_from_slice(MAGIC);
        file.extend_from_slice(&tag(&key, &name, &artifact));
        file.extend_from_slice(&artifact);
        if let Err(e) = write_atomically(dir, &path, &file) {
            tracing::warn!(path = %path.display(), error = %e, "could not cache a compiled component");
        }
        Ok((component, Compiled::Fresh))
    }

    /// The directory and key, when the cache may be used: the directory is ours and only we
    /// may write to it (created 0700 if missing), and its key is sound.
    fn usable(&self) -> Option<(&Path, [u8; TAG_LEN])> {
        let dir = self.dir.as_deref()?;
        if let Err(reason) = check_dir(dir) {
            if !self.warned.swap(true, Ordering::Relaxed) {
                tracing::warn!(dir = %dir.display(), %reason, "not using the compiled-component cache; every component is compiled at load");
            }
            return None;
        }
        let key = self.key.get_or_init(|| match load_key(dir) {
            Ok(key) => Some(key),
            Err(reason) => {
                tracing::warn!(dir = %dir.display(), %reason, "not using the compiled-component cache; every component is compiled at load");
                None
            }
        });
        key.map(|key| (dir, key))
    }
}

/// `Ok` when `dir` is (or, missing, now is) a directory owned by this process's user that
/// neither group nor others may write to.
fn check_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    let meta = match fs::symlink_metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| format!("cannot create it: {e}"))?;
            fs::symlink_metadata(dir).map_err(|e| e.to_string())?
        }
        Err(e) => return Err(e.to_string()),
    };
    if !meta.is_dir() {
        return Err("it is not a directory (or is a symbolic link)".into());
    }
    let me = own_uid().map_err(|e| format!("cannot tell who we are: {e}"))?;
    if meta.uid() != me {
        return Err(format!(
            "it belongs to uid {}, not to us ({me})",
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "group or others may write to it (mode {:o}); chmod 700 it",
            meta.mode() & 0o7777
        ));
    }
    Ok(())
}

/// This process's effective uid (the owner of what it creates), without `unsafe` libc calls.
fn own_uid() -> std::io::Result<u32> {
    fs::metadata("/proc/self").map(|m| m.uid())
}

/// The key in `dir`, created (32 random bytes, 0600) when missing. A key that others may read,
/// or that is not ours or not 32 bytes, is refused rather than trusted or replaced.
fn load_key(dir: &Path) -> Result<[u8; TAG_LEN], String> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join(KEY_FILE);
    if let Err(e) = fs::symlink_metadata(&path) {
        if e.kind() != std::io::ErrorKind::NotFound {
            return Err(format!("{}: {e}", path.display()));
        }
        let mut key = [0u8; TAG_LEN];
        fill_random(&mut key);
        // Written aside, then linked into place: never a half-written key, and a key another
        // thread or process created first wins.
        let tmp = dir.join(format!(".tmp-key-{}", uuid::Uuid::new_v4()));
        let written = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .and_then(|mut f| f.write_all(&key).and_then(|()| f.sync_all()));
        let linked = written.and_then(|()| fs::hard_link(&tmp, &path));
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(format!("cannot create {}: {e}", path.display())),
        }
    }
    let meta = fs::symlink_metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let me = own_uid().map_err(|e| format!("cannot tell who we are: {e}"))?;
    if !meta.is_file() || meta.uid() != me || meta.permissions().mode() & 0o077 != 0 {
        return Err(format!(
            "{} must be a regular file of ours that only we may read (mode 600)",
            path.display()
        ));
    }
    let bytes = fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    bytes
        .try_into()
        .map_err(|_| format!("{} is not a {TAG_LEN}-byte key", path.display()))
}

/// Random bytes from the kernel.
fn fill_random(buf: &mut [u8]) {
    use std::io::Read;
    let read = fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(buf));
    if read.is_err() {
        // No /dev/urandom: fall back to v4 UUIDs (the OS's random source via `uuid`).
        for chunk in buf.chunks_mut(16) {
            let random = uuid::Uuid::new_v4();
            chunk.copy_from_slice(&random.as_bytes()[..chunk.len()]);
        }
    }
}

/// The tag of an artifact: HMAC-SHA256 over its name and contents.
fn tag(key: &[u8; TAG_LEN], name: &str, artifact: &[u8]) -> [u8; TAG_LEN] {
    mac(key, name, artifact).finalize().into_bytes().into()
}

fn mac(key: &[u8; TAG_LEN], name: &str, artifact: &[u8]) -> HmacSha256 {
    let mut mac =
        <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(name.as_bytes());
    mac.update(&[0]);
    mac.update(artifact);
    mac
}

/// wasmtime's bytes of `file` when its tag is right for `name` under `key` (compared in
/// constant time).
fn verified<'a>(key: &[u8; TAG_LEN], name: &str, file: &'a [u8]) -> Option<&'a [u8]> {
    let rest = file.strip_prefix(MAGIC.as_slice())?;
    let (tag, artifact) = rest.split_at_checked(TAG_LEN)?;
    mac(key, name, artifact).verify_slice(tag).ok()?;
    Some(artifact)
}

#[allow(unsafe_code)]
fn deserialize(engine: &Engine, artifact: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: wasmtime trusts serialized artifacts. This one carries a valid HMAC under the
    // cache's private key (0600, in a directory only we may write to), so this host wrote
    // it, for this component (the name with its sha256 is covered) and this engine (the
    // fingerprint too; wasmtime also rejects another version or configuration itself).
    unsafe { Component::deserialize(engine, artifact) }
}

fn write_atomically(dir: &Path, path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = dir.join(format!(".tmp-{}", uuid::Uuid::new_v4()));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(data)?;
    file.sync_all()?;
    fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest component: the preamble alone.
    const EMPTY: &[u8] = b"\0asm\x0d\x00\x01\x00";
    /// A component holding one empty core module.
    const WITH_MODULE: &[u8] = b"\0asm\x0d\x00\x01\x00\x01\x08\0asm\x01\0\0\0";

    fn cache_in(dir: &Path) -> (Engine, ArtifactCache) {
        let engine = Engine::default();
        let cache = ArtifactCache::new(Some(dir.to_owned()), &engine);
        (engine, cache)
    }

    fn load(cache: &ArtifactCache, engine: &Engine, bytes: &[u8]) -> Compiled {
        let sha = super::super::sha256_hex(bytes);
        cache
            .load_or_compile(engine, &sha, bytes)
            .map(|(_, how)| how)
            .unwrap_or_else(|e| panic!("loads: {e:#}"))
    }

    fn artifact(cache: &ArtifactCache, dir: &Path, bytes: &[u8]) -> PathBuf {
        dir.join(cache.name(&super::super::sha256_hex(bytes)))
    }

    #[test]
    fn an_artifact_is_reused_and_its_key_is_private() {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = root.path().join("compiled");
        let (engine, cache) = cache_in(&dir);
        assert_eq!(load(&cache, &engine, EMPTY), Compiled::Fresh);
        assert_eq!(load(&cache, &engine, EMPTY), Compiled::FromCache);
        let mode = |p: &Path| fs::metadata(p).map(|m| m.permissions().mode() & 0o777).ok();
        assert_eq!(mode(&dir), Some(0o700));
        assert_eq!(mode(&dir.join(KEY_FILE)), Some(0o600));
        assert_eq!(mode(&artifact(&cache, &dir, EMPTY)), Some(0o600));
        // Another cache on the same directory (a restart) reads the same key.
        let (engine, again) = cache_in(&dir);
        assert_eq!(load(&again, &engine, EMPTY), Compiled::FromCache);
    }

    /// A valid artifact of another component put in this one's place, or a flipped byte,
    /// fails the check: the component is compiled again from its bytes, never loaded.
    #[test]
    fn a_tampered_artifact_is_compiled_again_not_loaded() {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = root.path().join("compiled");
        let (engine, cache) = cache_in(&dir);
        assert_eq!(load(&cache, &engine, EMPTY), Compiled::Fresh);
        assert_eq!(load(&cache, &engine, WITH_MODULE), Compiled::Fresh);
        let empty = artifact(&cache, &dir, EMPTY);
        let other = artifact(&cache, &dir, WITH_MODULE);

        fs::copy(&other, &empty).expect("swap in another component's artifact");
        assert_eq!(load(&cache, &engine, EMPTY), Compiled::Fresh);
        assert_eq!(
            load(&cache, &engine, EMPTY),
            Compiled::FromCache,
            "rewritten"
        );

        let mut bytes = fs::read(&empty).expect("read");
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x01;
        fs::write(&empty, &bytes).expect("tamper");
        assert_eq!(load(&cache, &engine, EMPTY), Compiled::Fresh);

        // wasmtime's own serialization, as written before artifacts were authenticated.
        let plain = Component::new(&engine, EMPTY)
            .and_then(|c| c.serialize())
            .expect("serialize");
        fs::write(&empty, plain).expect("unauthenticated artifact");
        assert_eq!(load(&cache, &engine, EMPTY), Compiled::Fresh);
    }

    #[test]
    fn a_directory_others_may_write_to_is_not_used() {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = root.path().join("compiled");
        fs::create_dir(&dir).expect("dir");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).expect("chmod");
        let (engine, cache) = cache_in(&dir);
        assert_eq!(load(&cache, &engine, EMPTY), Compiled::Fresh);
        assert_eq!(load(&cache, &engine, EMPTY), Compiled::Fresh);
        let entries = fs::read_dir(&dir).expect("list").count();
        assert_eq!(
            entries, 0,
            "nothing is written to, or read from, that directory"
        );

        fs::set_permissions(&dir, fs::Permissions::from_mode(0o720)).expect("chmod");
        assert_eq!(load(&cache, &engine, EMPTY), Compiled::Fresh);
        assert_eq!(load(&cache, &engine, EMPTY), Compiled::Fresh);

        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).expect("chmod");
        assert_eq!(load(&cache, &engine, EMPTY), Compiled::Fresh);
        assert_eq!(load(&cache, &engine, EMPTY), Compiled::FromCache);
    }

    #[test]
    fn a_key_others_may_read_is_refused() {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = root.path().join("compiled");
        fs::create_dir(&dir).expect("dir");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).expect("chmod");
        fs::write(dir.join(KEY_FILE), [7u8; TAG_LEN]).expect("key");
        fs::set_permissions(dir.join(KEY_FILE), fs::Permissions::from_mode(0o644)).expect("chmod");
        let (engine, cache) = cache_in(&dir);
        assert_eq!(load(&cache, &engine, EMPTY), Compiled::Fresh);
        assert_eq!(load(&cache, &engine, EMPTY), Compiled::Fresh);
    }
}
