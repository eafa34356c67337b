//! Signin rate limits (governor): per email, so guessing one account's password is slow, and
//! per client address, so spraying many accounts is slow too.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::ApiError;

/// The two limiters, shared by every request of one process.
#[derive(Clone)]
pub struct SigninLimits {
    by_email: Arc<DefaultKeyedRateLimiter<String>>,
    by_client: Arc<DefaultKeyedRateLimiter<String>>,
}

impl SigninLimits {
    /// `per_email` attempts per email and `per_client` per address, each refilled over a
    /// minute.
    pub fn new(per_email: u32, per_client: u32) -> Self {
        let quota = |n: u32| {
            let n = NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN);
            Quota::per_minute(n).allow_burst(n)
        };
        Self {
            by_email: Arc::new(RateLimiter::keyed(quota(per_email))),
            by_client: Arc::new(RateLimiter::keyed(quota(per_client))),
        }
    }

    /// Takes one attempt from both budgets, or answers 429 with how long to wait.
    pub fn check(&self, email: &str, client: &str) -> Result<(), ApiError> {
        let now = DefaultClock::default().now();
        for (limiter, key, kind) in [
            (&self.by_email, email, "email"),
            (&self.by_client, client, "client"),
        ] {
            if let Err(not_until) = limiter.check_key(&key.to_owned()) {
                tracing::info!(limit = kind, "signin rate limited");
                return Err(ApiError::rate_limited(
                    not_until.wait_time_from(now).as_secs() + 1,
                ));
            }
        }
        Ok(())
    }

    /// Forgets idle keys (called periodically so the maps stay small).
    pub fn prune(&self) {
        self.by_email.retain_recent();
        self.by_client.retain_recent();
    }
}

/// The address a request came from (the peer of the TCP connection), for the per-client
/// limit. Behind a proxy every client shares the proxy's address; the per-email limit still
/// holds.
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

impl ClientAddr {
    /// The limiter key.
    pub fn key(&self) -> String {
        self.0
            .map(|ip| ip.to_string())
            .unwrap_or_else(|| "unknown".to_owned())
    }
}
