//! Passwords (argon2id, bounded), access tokens (JWT, HS256) and the signin and signup
//! limits.

pub mod limits;
pub mod passwords;

pub use limits::{AuthLimits, LimitError, SigninAttempt};
pub use passwords::{HashError, Passwords};

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Issuer written into and required from every token.
pub const ISSUER: &str = "cineflow";

/// The shortest accepted signing secret, in bytes: HS256 keys shorter than its 256-bit
/// output can be brute-forced offline from any one token.
pub const MIN_SECRET_BYTES: usize = 32;

/// Signing keys and token lifetime; lives in `AppState` so tests can choose their own.
#[derive(Clone)]
pub struct AuthKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// How long an access token is valid.
    pub ttl: Duration,
}

impl std::fmt::Debug for AuthKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthKeys")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// What a token says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: Uuid,
    /// The user's token version when issued; a password change bumps it, revoking every
    /// token issued before.
    pub ver: i32,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
    /// Always [`ISSUER`].
    pub iss: String,
}

impl AuthKeys {
    /// Keys from a shared secret.
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            ttl,
        }
    }

    /// Issues a token for `user` at token version `ver`.
    pub fn issue(&self, user: Uuid, ver: i32) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user,
            ver,
            iat: now,
            exp: now + i64::try_from(self.ttl.as_secs()).unwrap_or(3600),
            iss: ISSUER.to_owned(),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// Verifies signature, algorithm, issuer and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, jsonwebtoken::errors::Error> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 5;
        Ok(jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)?.claims)
    }
}
