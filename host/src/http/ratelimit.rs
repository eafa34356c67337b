//! The HTTP side of the signin and signup limits and of the bounded password hasher: who the
//! client is, and how a refusal is answered. The decisions are in `crate::auth::limits`.

use std::net::IpAddr;

use super::ApiError;
use crate::auth::{HashError, LimitError};

impl From<LimitError> for ApiError {
    fn from(e: LimitError) -> Self {
        crate::domain::DomainError::from(e).into()
    }
}

impl From<HashError> for ApiError {
    fn from(e: HashError) -> Self {
        crate::domain::DomainError::from(e).into()
    }
}

/// The address a request came from (the peer of the TCP connection), for the per-client
/// limits. Behind a proxy every client shares the proxy's address.
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
    /// The limiter key: an IPv4 address, or an IPv6 address's /64 (one subscriber usually
    /// holds a whole /64, so counting single IPv6 addresses would let one client have 2^64
    /// budgets).
    pub fn key(&self) -> String {
        match self.0.map(|ip| ip.to_canonical()) {
            Some(IpAddr::V4(v4)) => v4.to_string(),
            Some(IpAddr::V6(v6)) => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
            None => "unknown".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_by_their_64_and_mapped_ipv4_as_ipv4() {
        let key = |s: &str| ClientAddr(Some(s.parse().expect("ip"))).key();
        assert_eq!(key("2001:db8:1:2:3:4:5:6"), key("2001:db8:1:2:ffff::1"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(key("192.0.2.7"), "192.0.2.7");
        assert_eq!(ClientAddr(None).key(), "unknown");
    }
}
