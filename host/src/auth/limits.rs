//! Signin and signup limits, counted in PostgreSQL so that they hold across replicas.
//!
//! Signin counts *failures*, so that nobody can lock an account out by failing on purpose:
//!
//! - per client address (`signin_per_client` a minute): every attempt reserves one before its
//!   password is checked and a correct password gives it back. When they are spent, the
//!   address is refused (429) before anything is checked, a correct password included: only
//!   that address's own failures spent them.
//! - per email and client (`signin_per_email` a minute): the same, for one account from one
//!   address, so guessing one account's password from one address is slow.
//! - per email (`signin_per_email` a minute, all addresses together): when they are spent the
//!   account is under attack from several addresses, and each address then gets one attempt
//!   a minute on it (its per-email-and-client budget drops to one). An address with no failure
//!   on the account, such as its owner's, still signs in with the right password.
//!
//! Signup counts every attempt per client address (`signup_per_client` a minute).
//!
//! Keys are sha256 digests of the email (lowercased) and of the client's address (IPv6 by its
//! /64, which one subscriber usually holds whole), so what is stored has a fixed size.

use std::time::Duration;

use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::db::auth_limits;

/// Every limit counts per minute.
pub const WINDOW: Duration = Duration::from_secs(60);

const SIGNIN_CLIENT: &str = "signin-client";
const SIGNIN_EMAIL: &str = "signin-email";
const SIGNIN_EMAIL_CLIENT: &str = "signin-email-client";
const SIGNUP_CLIENT: &str = "signup-client";

/// Why an attempt is refused before any work.
#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    /// A budget is spent: retry after this many seconds.
    #[error("rate limited for {retry_after_secs} s")]
    Limited {
        /// Seconds until the window ends.
        retry_after_secs: u64,
    },
    /// The counters could not be read or written.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The budgets (per minute).
#[derive(Debug, Clone, Copy)]
pub struct AuthLimits {
    /// Failed signins per email (and per email from one address).
    pub signin_per_email: u32,
    /// Failed signins per client address.
    pub signin_per_client: u32,
    /// Signups per client address.
    pub signup_per_client: u32,
}

/// A signin that reserved its share of the budgets; report how it ended with
/// [`AuthLimits::signin_failed`] or [`AuthLimits::signin_not_failed`]. Dropped without either
/// (the request was cut off), it stays counted as a failure.
#[derive(Debug)]
#[must_use]
pub struct SigninAttempt {
    email: [u8; 32],
    email_client: [u8; 32],
    client: [u8; 32],
}

fn digest(parts: &[&str]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        // Length-prefixed, so that no two different part lists give the same bytes.
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.finalize().into()
}

impl AuthLimits {
    /// Reserves one failure of the client's and the (email, client) budgets, or refuses.
    /// `email` is the normalised (trimmed, lowercased) address, `client` the client's key.
    pub async fn begin_signin(
        &self,
        pool: &PgPool,
        email: &str,
        client: &str,
    ) -> Result<SigninAttempt, LimitError> {
        let attempt = SigninAttempt {
            email: digest(&[email]),
            email_client: digest(&[email, client]),
            client: digest(&[client]),
        };
        let mut conn = pool.acquire().await?;
        if let Some(retry_after_secs) = auth_limits::take(
            &mut conn,
            SIGNIN_CLIENT,
            &attempt.client,
            self.signin_per_client.max(1),
            WINDOW,
        )
        .await?
        {
            tracing::info!(limit = "client", "signin rate limited");
            return Err(LimitError::Limited { retry_after_secs });
        }
        let under_attack = auth_limits::hits(&mut conn, SIGNIN_EMAIL, &attempt.email).await?
            >= self.signin_per_email.max(1);
        let per_email_client = if under_attack {
            1
        } else {
            self.signin_per_email.max(1)
        };
        if let Some(retry_after_secs) = auth_limits::take(
            &mut conn,
            SIGNIN_EMAIL_CLIENT,
            &attempt.email_client,
            per_email_client,
            WINDOW,
        )
        .await?
        {
            auth_limits::give_back(&mut conn, SIGNIN_CLIENT, &attempt.client).await?;
            tracing::info!(limit = "email", under_attack, "signin rate limited");
            return Err(LimitError::Limited { retry_after_secs });
        }
        Ok(attempt)
    }

    /// The password was wrong (or the account unknown): the reservations stay, and the
    /// account's own failure count grows.
    pub async fn signin_failed(
        &self,
        pool: &PgPool,
        attempt: SigninAttempt,
    ) -> Result<(), LimitError> {
        let mut conn = pool.acquire().await?;
        auth_limits::take(&mut conn, SIGNIN_EMAIL, &attempt.email, u32::MAX, WINDOW).await?;
        Ok(())
    }

    /// The password was right, or it could not be checked (busy): nothing counts.
    pub async fn signin_not_failed(
        &self,
        pool: &PgPool,
        attempt: SigninAttempt,
    ) -> Result<(), LimitError> {
        let mut conn = pool.acquire().await?;
        auth_limits::give_back(&mut conn, SIGNIN_CLIENT, &attempt.client).await?;
        auth_limits::give_back(&mut conn, SIGNIN_EMAIL_CLIENT, &attempt.email_client).await?;
        Ok(())
    }

    /// Counts one signup from `client`, or refuses.
    pub async fn check_signup(&self, pool: &PgPool, client: &str) -> Result<(), LimitError> {
        let mut conn = pool.acquire().await?;
        match auth_limits::take(
            &mut conn,
            SIGNUP_CLIENT,
            &digest(&[client]),
            self.signup_per_client.max(1),
            WINDOW,
        )
        .await?
        {
            None => Ok(()),
            Some(retry_after_secs) => {
                tracing::info!(limit = "client", "signup rate limited");
                Err(LimitError::Limited { retry_after_secs })
            }
        }
    }

    /// Forgets windows that have ended (the periodic housekeeping calls it).
    pub async fn prune(pool: &PgPool) -> Result<u64, sqlx::Error> {
        let mut conn = pool.acquire().await?;
        auth_limits::prune(&mut conn).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_a_fixed_size_and_do_not_collide_across_part_boundaries() {
        let long = "a".repeat(100_000);
        assert_eq!(digest(&[&long]).len(), 32);
        assert_ne!(digest(&["ab", "c"]), digest(&["a", "bc"]));
        assert_ne!(digest(&["abc"]), digest(&["abc", ""]));
    }
}
