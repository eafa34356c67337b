//! Password hashing (argon2id) behind a bound. Each hash or verification takes 19 MiB and
//! tens of milliseconds of a core, so without a bound a flood of signups took a fresh server
//! from 75 MB to 1 GB resident (issue 13). At most `concurrency` run at once per process; a
//! caller waits up to `wait` for a turn and is then told the server is busy.

use std::sync::Arc;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use tokio::sync::{OnceCell, Semaphore};
use uuid::Uuid;

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Every slot stayed taken for the whole wait: retry shortly.
    #[error("every password-hashing slot is busy")]
    Busy,
    /// argon2 or the blocking pool failed.
    #[error("password hashing failed: {0}")]
    Failed(String),
}

/// The bounded hasher, shared by every request of one process (it lives in `AppState`).
#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    concurrency: usize,
    wait: Duration,
    dummy: Arc<OnceCell<String>>,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords")
            .field("concurrency", &self.concurrency)
            .field("wait", &self.wait)
            .finish_non_exhaustive()
    }
}

impl Passwords {
    /// At most `concurrency` (at least 1) hashes at once; a caller waits at most `wait`.
    pub fn new(concurrency: usize, wait: Duration) -> Self {
        let concurrency = concurrency.max(1);
        Self {
            permits: Arc::new(Semaphore::new(concurrency)),
            concurrency,
            wait,
            dummy: Arc::default(),
        }
    }

    /// The default bound: two per core, enough to keep every core busy while one hash waits
    /// for its thread, and 2 × cores × 19 MiB of memory at most.
    pub fn default_concurrency() -> usize {
        std::thread::available_parallelism().map_or(2, |n| n.get() * 2)
    }

    /// How many hashes may run at once.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Hashes running right now.
    pub fn in_use(&self) -> usize {
        self.concurrency - self.permits.available_permits()
    }

    /// Runs `work` on the blocking pool once a slot is free. The slot moves into the blocking
    /// task, so it stays taken until argon2 is done even if the request is dropped meanwhile.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let permit =
            match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
                Ok(Ok(permit)) => permit,
                Ok(Err(_)) | Err(_) => {
                    tracing::info!(
                        concurrency = self.concurrency,
                        "password hashing busy; request refused"
                    );
                    return Err(HashError::Busy);
                }
            };
        tokio::task::spawn_blocking(move || {
            let _slot = permit;
            work()
        })
        .await
        .map_err(|e| HashError::Failed(e.to_string()))
    }

    /// Hashes a password with argon2id (default parameters: 19 MiB, 2 passes).
    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        self.run(move || {
            Argon2::default()
                .hash_password(password.as_bytes())
                .map(|hash: PasswordHash| hash.to_string())
                .map_err(|e| HashError::Failed(e.to_string()))
        })
        .await?
    }

    /// Checks a password against a stored hash. A malformed hash counts as a mismatch.
    pub async fn verify(&self, password: String, hash: String) -> Result<bool, HashError> {
        self.run(move || {
            PasswordHash::new(&hash)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
    }

    /// Checks a password against `hash`, or, when there is none (no such account), against a
    /// hash of a random password, so that "no such user" costs the same as "wrong password".
    /// Without a hash the answer is always `false`.
    pub async fn verify_or_dummy(
        &self,
        password: String,
        hash: Option<String>,
    ) -> Result<bool, HashError> {
        match hash {
            Some(hash) => self.verify(password, hash).await,
            None => {
                let dummy = self
                    .dummy
                    .get_or_try_init(|| self.hash(Uuid::new_v4().to_string()))
                    .await?
                    .clone();
                self.verify(password, dummy).await.map(|_| false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_caller_waits_for_a_free_slot_then_is_busy() {
        let passwords = Passwords::new(1, Duration::from_millis(50));
        let held = passwords
            .permits
            .clone()
            .acquire_owned()
            .await
            .expect("open");
        assert_eq!(passwords.in_use(), 1);
        assert!(matches!(
            passwords.hash("Correct-Horse-42".into()).await,
            Err(HashError::Busy)
        ));
        // A slot freed within the wait is taken.
        let release = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            drop(held);
        });
        let hash = passwords
            .hash("Correct-Horse-42".into())
            .await
            .expect("hashed once the slot was free");
        release.await.expect("joined");
        assert_eq!(passwords.in_use(), 0);
        assert!(
            passwords
                .verify("Correct-Horse-42".into(), hash.clone())
                .await
                .expect("free")
        );
        assert!(
            !passwords
                .verify("Wrong-Horse-42".into(), hash)
                .await
                .expect("free")
        );
        assert!(
            !passwords
                .verify_or_dummy("Correct-Horse-42".into(), None)
                .await
                .expect("free")
        );
    }
}
