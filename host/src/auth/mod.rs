//! Passwords (argon2id, bounded), access tokens (JWT, HS256) and the signin and signup
//! limits.

pub mod limits;
pub mod passwords;

pub use limits::{AuthLimits, LimitError, SigninAttempt};
pub use passwords::{HashError, Passwords};

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
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
    /// Key of the console's CSRF tokens, derived from the same secret so that every replica
    /// derives the same token for the same session.
    csrf: [u8; 32],
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
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"cineflow console csrf v1");
        let mut csrf = [0u8; 32];
        csrf.copy_from_slice(&mac.finalize().into_bytes());
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            csrf,
            ttl,
        }
    }

    /// The CSRF token of a console session: an HMAC of its session token, so nothing is
    /// stored and a token is good exactly as long as its session (docs/console.md).
    pub fn csrf_token(&self, session: &str) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.csrf_mac(session))
    }

    /// Whether `presented` is the CSRF token of `session` (compared in constant time).
    pub fn csrf_matches(&self, session: &str, presented: &str) -> bool {
        use base64::Engine as _;
        let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(presented) else {
            return false;
        };
        let mut mac = self.csrf_hmac();
        mac.update(session.as_bytes());
        mac.verify_slice(&bytes).is_ok()
    }

    fn csrf_hmac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as KeyInit>::new_from_slice(&self.csrf)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"))
    }

    fn csrf_mac(&self, session: &str) -> [u8; 32] {
        let mut mac = self.csrf_hmac();
        mac.update(session.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(&mac.finalize().into_bytes());
        out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csrf_token_matches_its_own_session_only() {
        let keys = AuthKeys::new(&[7; 32], Duration::from_secs(60));
        let token = keys.csrf_token("session-a");
        assert!(keys.csrf_matches("session-a", &token));
        assert!(!keys.csrf_matches("session-b", &token));
        assert!(!keys.csrf_matches("session-a", "not base64 !"));
        assert!(!keys.csrf_matches("session-a", ""));
        let other = AuthKeys::new(&[8; 32], Duration::from_secs(60));
        assert!(!other.csrf_matches("session-a", &token));
    }
}
