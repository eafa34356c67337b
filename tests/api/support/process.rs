//! The one way the tests start the real `cineflow` binary (`tests/api`, `tests/faults` and
//! `tests/replicas` all use it).
//!
//! The process listens on port 0 for both its API and its metrics, and reports the ports it
//! got through `CINEFLOW_ADDR_FILE` (written atomically once both listeners are bound): no
//! test picks a "free" port and releases it for the binary to take, which another process
//! could take first. [`Builder::spawn`] returns once that file is there and `/readyz` is 200;
//! stdout and stderr are captured into a buffer the test can read ([`CineflowProcess::log`])
//! and that a failing test prints. [`CineflowProcess::stop`] sends SIGTERM and SIGKILLs after
//! a grace period; dropping the process stops it too.
//!
//! ```ignore
//! let server = CineflowProcess::builder()
//!     .database_url(&url)
//!     .env("CINEFLOW_JWT_SECRET", SECRET)
//!     .spawn()
//!     .await;
//! let res = reqwest::get(server.url("/api/v1/hooks")).await?;
//! assert!(server.stop().await.success());
//! ```

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::components_dir;

/// The binary Cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_cineflow");

/// Lines of the log a failing test prints.
const TAIL_LINES: usize = 60;

/// What the binary wrote to `CINEFLOW_ADDR_FILE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub struct Addresses {
    /// The API.
    pub http: SocketAddr,
    /// `GET /metrics`; `None` with `CINEFLOW_METRICS_LISTEN=off`.
    pub metrics: Option<SocketAddr>,
}

/// How to start one `cineflow` process.
#[must_use]
pub struct Builder {
    name: String,
    args: Vec<OsString>,
    /// `None` removes the variable.
    env: BTreeMap<OsString, Option<OsString>>,
    data_dir: Option<PathBuf>,
    ready_timeout: Duration,
    stop_grace: Duration,
    drop_grace: Duration,
}

/// A running (or stopped) `cineflow` process.
pub struct CineflowProcess {
    child: Supervised,
    addresses: Addresses,
    data_dir: PathBuf,
    stop_grace: Duration,
    drop_grace: Duration,
    /// Holds the address file and the default data directory; removed after the process.
    _dir: tempfile::TempDir,
}

/// How a process started with [`Builder::run_to_exit`] ended.
#[derive(Debug)]
pub struct Exited {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// stdout and stderr interleaved, line by line, as they arrived.
    pub log: String,
    /// What it reported in `CINEFLOW_ADDR_FILE`: `None` if it never bound its listeners.
    pub addresses: Option<Addresses>,
}

impl CineflowProcess {
    /// `cineflow serve` on port 0 (API and metrics), logging at `warn`, with the built
    /// components and a data directory of its own; no database unless one is given.
    pub fn builder() -> Builder {
        let mut env = BTreeMap::new();
        // The test runner's own settings (its DATABASE_URL names the shared `postgres`
        // database) must not leak into the process: it gets exactly what the test sets.
        for (key, _) in std::env::vars_os() {
            let name = key.to_string_lossy();
            if name.starts_with("CINEFLOW_") || name == "DATABASE_URL" || name == "RUST_LOG" {
                env.insert(key, None);
            }
        }
        Builder {
            name: "cineflow".to_owned(),
            args: vec!["serve".into()],
            env,
            data_dir: None,
            ready_timeout: Duration::from_secs(120),
            stop_grace: Duration::from_secs(30),
            drop_grace: Duration::from_secs(10),
        }
        .env("CINEFLOW_LISTEN", "127.0.0.1:0")
        .env("CINEFLOW_METRICS_LISTEN", "127.0.0.1:0")
        .env("CINEFLOW_COMPONENTS_DIR", components_dir())
        .env("RUST_LOG", "warn")
    }

    /// The name it was given (in messages).
    pub fn name(&self) -> &str {
        &self.child.name
    }

    pub fn pid(&self) -> u32 {
        self.child.pid
    }

    /// Where it listens.
    pub fn addresses(&self) -> Addresses {
        self.addresses
    }

    /// `http://127.0.0.1:<port>` of the API.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addresses.http)
    }

    /// The URL of `path` (from the root: `/readyz`, `/api/v1/hooks`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    /// `http://127.0.0.1:<port>` of the metrics endpoint.
    pub fn metrics_url(&self) -> String {
        let addr = self
            .addresses
            .metrics
            .unwrap_or_else(|| panic!("{} serves no metrics", self.name()));
        format!("http://{addr}")
    }

    /// Its data directory (`CINEFLOW_DATA_DIR`).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Everything it wrote so far, stdout and stderr interleaved line by line.
    pub fn log(&self) -> String {
        self.child.output.lock().log.clone()
    }

    /// Its stderr so far.
    pub fn stderr(&self) -> String {
        self.child.output.lock().stderr.clone()
    }

    /// Its stdout so far.
    pub fn stdout(&self) -> String {
        self.child.output.lock().stdout.clone()
    }

    /// The last lines of the log.
    pub fn log_tail(&self) -> String {
        tail(&self.log(), TAIL_LINES)
    }

    /// Whether it is still running.
    pub fn is_running(&self) -> bool {
        self.child.try_wait().is_none()
    }

    /// Panics, with the end of the log, if the process has exited.
    pub fn assert_running(&self) {
        if let Some(status) = self.child.try_wait() {
            panic!(
                "{} exited ({status}); log:\n{}",
                self.name(),
                self.log_tail()
            );
        }
    }

    /// SIGTERM, then the exit status. A process still running after the grace period
    /// (30 s unless [`Builder::stop_grace`] says otherwise) is SIGKILLed: its status then
    /// says so, and is not a success.
    pub async fn stop(&self) -> ExitStatus {
        if let Some(status) = self.child.try_wait() {
            self.child.drain_output().await;
            return status;
        }
        self.child.signal("TERM");
        let deadline = Instant::now() + self.stop_grace;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait() {
                self.child.drain_output().await;
                return status;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        eprintln!(
            "{} did not stop within {:?} of SIGTERM; sending SIGKILL; log:\n{}",
            self.name(),
            self.stop_grace,
            self.log_tail()
        );
        let status = self.child.kill();
        self.child.drain_output().await;
        status
    }

    /// SIGKILL (`kill -9`): no shutdown hook runs, open transactions and connections are
    /// cut. Returns the exit status (that of the earlier exit, if it had already ended).
    pub fn kill(&self) -> ExitStatus {
        self.child.kill()
    }
}

/// A failing test leaves nothing running, and shows the end of the log.
impl Drop for CineflowProcess {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "---- log of {} (pid {}, last lines) ----\n{}",
                self.name(),
                self.pid(),
                self.log_tail()
            );
        }
        if self.child.try_wait().is_some() || self.drop_grace.is_zero() {
            return; // `Supervised` SIGKILLs what still runs.
        }
        // SIGTERM first, so that a private PostgreSQL cluster it started is stopped too.
        self.child.signal("TERM");
        let deadline = Instant::now() + self.drop_grace;
        while Instant::now() < deadline && self.child.try_wait().is_none() {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Builder {
    /// Sets an environment variable of the process.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.env
            .insert(key.as_ref().to_owned(), Some(value.as_ref().to_owned()));
        self
    }

    /// Sets each of `vars`.
    pub fn envs<K: AsRef<OsStr>, V: AsRef<OsStr>>(
        mut self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        for (key, value) in vars {
            self = self.env(key, value);
        }
        self
    }

    /// Unsets a variable (the test runner's `CINEFLOW_*`, `DATABASE_URL` and `RUST_LOG` are
    /// never passed on in the first place).
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.env.insert(key.as_ref().to_owned(), None);
        self
    }

    /// `DATABASE_URL`. Without one the binary starts a private PostgreSQL cluster in its
    /// data directory.
    pub fn database_url(self, url: impl AsRef<OsStr>) -> Self {
        self.env("DATABASE_URL", url)
    }

    /// `CINEFLOW_COMPONENTS_DIR` (default: the directory `scripts/build-components.sh` fills).
    pub fn components_dir(self, dir: impl AsRef<Path>) -> Self {
        self.env("CINEFLOW_COMPONENTS_DIR", dir.as_ref())
    }

    /// `CINEFLOW_DATA_DIR` (default: a directory of the process's own, removed with it).
    pub fn data_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.data_dir = Some(dir.as_ref().to_owned());
        self
    }

    /// One more command-line argument (after the subcommand).
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Replaces `serve` (and any argument given so far), e.g. with `migrate`.
    pub fn subcommand(mut self, name: impl AsRef<OsStr>) -> Self {
        self.args = vec![name.as_ref().to_owned()];
        self
    }

    /// The name in messages and in a failing test's log (default `cineflow`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// How long [`Builder::spawn`] waits for `/readyz` (default 120 s: a first start compiles
    /// the default components).
    pub fn ready_timeout(mut self, timeout: Duration) -> Self {
        self.ready_timeout = timeout;
        self
    }

    /// How long [`CineflowProcess::stop`] waits after SIGTERM before SIGKILL (default 30 s).
    pub fn stop_grace(mut self, grace: Duration) -> Self {
        self.stop_grace = grace;
        self
    }

    /// How long dropping a running process waits after SIGTERM before SIGKILL (default
    /// 10 s); zero SIGKILLs at once.
    pub fn drop_grace(mut self, grace: Duration) -> Self {
        self.drop_grace = grace;
        self
    }

    /// Starts the process and waits until it has reported its addresses and `/readyz`
    /// answers 200; panics (with the log) if it exits first or the timeout passes.
    pub async fn spawn(self) -> CineflowProcess {
        let (timeout, stop_grace, drop_grace) =
            (self.ready_timeout, self.stop_grace, self.drop_grace);
        let started = self.start();
        let child = &started.child;
        let deadline = Instant::now() + timeout;
        let addresses = loop {
            if let Some(addresses) = read_addresses(&started.addr_file) {
                break addresses;
            }
            child.assert_alive(
                deadline,
                timeout,
                "reporting its addresses (CINEFLOW_ADDR_FILE)",
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("HTTP client");
        let readyz = format!("http://{}/readyz", addresses.http);
        loop {
            let answer = match client.get(&readyz).send().await {
                Ok(res) if res.status() == 200 => break,
                Ok(res) => format!("{} {}", res.status(), res.text().await.unwrap_or_default()),
                Err(e) => e.to_string(),
            };
            child.assert_alive(deadline, timeout, &format!("/readyz 200 (last: {answer})"));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        CineflowProcess {
            child: started.child,
            addresses,
            data_dir: started.data_dir,
            stop_grace,
            drop_grace,
            _dir: started.dir,
        }
    }

    /// Runs the process to its end (for starts that must fail, and one-shot subcommands);
    /// panics if it is still running after `timeout` (and kills it).
    pub async fn run_to_exit(self, timeout: Duration) -> Exited {
        let started = self.start();
        let child = &started.child;
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = child.try_wait() {
                break status;
            }
            child.assert_alive(deadline, timeout, "exiting");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        child.drain_output().await;
        let output = child.output.lock();
        Exited {
            status,
            stdout: output.stdout.clone(),
            stderr: output.stderr.clone(),
            log: output.log.clone(),
            addresses: read_addresses(&started.addr_file),
        }
    }

    /// Spawns the child, its output captured.
    fn start(self) -> Started {
        let dir = tempfile::tempdir().expect("a temporary directory for the process");
        let addr_file = dir.path().join("addresses.json");
        let data_dir = self.data_dir.unwrap_or_else(|| dir.path().join("data"));
        let mut cmd = Command::new(BIN);
        cmd.args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in &self.env {
            match value {
                Some(value) => cmd.env(key, value),
                None => cmd.env_remove(key),
            };
        }
        // Last, so that no `env` can point them elsewhere: the harness reads this address
        // file, and the data directory is the one `CineflowProcess::data_dir` names.
        cmd.env("CINEFLOW_ADDR_FILE", &addr_file)
            .env("CINEFLOW_DATA_DIR", &data_dir);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not start: {e}", self.name));
        let output = Arc::new(Output::default());
        let mut readers = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            readers.push(pump(stdout, Stream::Stdout, output.clone()));
        }
        if let Some(stderr) = child.stderr.take() {
            readers.push(pump(stderr, Stream::Stderr, output.clone()));
        }
        Started {
            child: Supervised {
                name: self.name,
                pid: child.id(),
                child: Mutex::new(Some(child)),
                status: Mutex::new(None),
                output,
                readers: Mutex::new(readers),
            },
            addr_file,
            data_dir,
            dir,
        }
    }
}

/// A child just spawned, with where it will report its addresses.
struct Started {
    child: Supervised,
    addr_file: PathBuf,
    data_dir: PathBuf,
    dir: tempfile::TempDir,
}

/// The child process and its captured output; SIGKILLed on drop if still running.
struct Supervised {
    name: String,
    pid: u32,
    /// `None` once reaped. Locked while signalling, so that the pid is still the child's.
    child: Mutex<Option<Child>>,
    status: Mutex<Option<ExitStatus>>,
    output: Arc<Output>,
    readers: Mutex<Vec<JoinHandle<()>>>,
}

impl Supervised {
    /// The exit status once it has exited (reaping it).
    fn try_wait(&self) -> Option<ExitStatus> {
        let mut child = lock(&self.child);
        if let Some(running) = child.as_mut()
            && let Ok(Some(status)) = running.try_wait()
        {
            *lock(&self.status) = Some(status);
            *child = None;
        }
        drop(child);
        *lock(&self.status)
    }

    /// `kill -<signal>`, unless it has been reaped already.
    fn signal(&self, signal: &str) {
        let child = lock(&self.child);
        if child.is_some() {
            let sent = Command::new("kill")
                .arg(format!("-{signal}"))
                .arg(self.pid.to_string())
                .status();
            assert!(
                sent.is_ok_and(|s| s.success()),
                "kill -{signal} {} failed",
                self.pid
            );
        }
    }

    /// SIGKILL and reap; the exit status.
    fn kill(&self) -> ExitStatus {
        let mut child = lock(&self.child);
        if let Some(mut running) = child.take() {
            let _ = running.kill();
            let status = running.wait().expect("waiting for the killed process");
            *lock(&self.status) = Some(status);
        }
        drop(child);
        lock(&self.status).expect("a reaped process has a status")
    }

    /// Panics (after SIGKILL, with the log) if the process exited or `deadline` passed.
    fn assert_alive(&self, deadline: Instant, timeout: Duration, waiting_for: &str) {
        if let Some(status) = self.try_wait() {
            panic!(
                "{} exited ({status}) while the test waited for {waiting_for}; log:\n{}",
                self.name,
                self.output.lock().log
            );
        }
        if Instant::now() > deadline {
            self.kill();
            panic!(
                "{}: no {waiting_for} within {timeout:?}; log:\n{}",
                self.name,
                self.output.lock().log
            );
        }
    }

    /// Waits (briefly) until the readers have seen the end of stdout and stderr, so that the
    /// log read after an exit holds everything. A grandchild still holding the pipes (none
    /// should) only ends the wait at its deadline.
    async fn drain_output(&self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if lock(&self.readers).iter().all(JoinHandle::is_finished) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        if lock(&self.child).is_some() {
            self.kill();
        }
    }
}

/// The address file, once the process has renamed it into place.
fn read_addresses(path: &Path) -> Option<Addresses> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not the addresses ({e}): {text}", path.display())),
    )
}

#[derive(Clone, Copy)]
enum Stream {
    Stdout,
    Stderr,
}

/// The captured output.
#[derive(Default)]
struct Output(Mutex<Captured>);

#[derive(Default)]
struct Captured {
    stdout: String,
    stderr: String,
    log: String,
}

impl Output {
    fn lock(&self) -> MutexGuard<'_, Captured> {
        lock(&self.0)
    }
}

/// Reads `stream` line by line into `output` until it closes (whole lines, so that stdout
/// and stderr interleave without tearing each other's lines).
fn pump(stream: impl Read + Send + 'static, which: Stream, output: Arc<Output>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let text = String::from_utf8_lossy(&line);
            let mut captured = output.lock();
            match which {
                Stream::Stdout => captured.stdout.push_str(&text),
                Stream::Stderr => captured.stderr.push_str(&text),
            }
            captured.log.push_str(&text);
        }
    })
}

/// A poisoned lock still holds good data here (a panicking test thread poisoned it).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
