//! Webhooks per chain (API.md, "Webhooks"; docs/webhooks.md): a chain's staff register
//! endpoints subscribed to event kinds; every change of the chain writes its deliveries in
//! its own transaction ([`emit`]); the [`sender`] posts them, signed, with retries.

pub mod events;
pub mod sender;

use std::time::Duration;

use base64::Engine as _;
use sqlx::PgPool;
use uuid::Uuid;

use super::{ChainAccess, DomainError};
use crate::db::webhooks as db;
use crate::webhook_client::{self, UrlRefusal};

pub use crate::db::webhooks::{Delivery, Endpoint};
pub use events::{Event, EventKind, emit};

/// Most live endpoints a chain may have (each event writes one row per subscribed endpoint).
pub const MAX_ENDPOINTS: i64 = 20;
/// Longest description.
pub const MAX_DESCRIPTION: usize = 200;

/// How webhooks are sent (`CINEFLOW_WEBHOOK_*`).
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Let endpoints reach private, loopback and other reserved addresses (tests, closed
    /// networks).
    pub allow_private: bool,
    /// Attempts before a delivery is `failed`.
    pub max_attempts: u32,
    /// Delay before the first retry; doubled each time up to `retry_max`, ±20 % jitter.
    pub retry_base: Duration,
    /// Longest delay between attempts.
    pub retry_max: Duration,
    /// Longest a request may take, connecting included.
    pub timeout: Duration,
    /// How often a sender looks for due deliveries.
    pub poll: Duration,
    /// Run the sender in this process.
    pub run_sender: bool,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private: false,
            max_attempts: 8,
            retry_base: Duration::from_secs(10),
            retry_max: Duration::from_secs(3600),
            timeout: Duration::from_secs(10),
            poll: Duration::from_millis(500),
            run_sender: true,
        }
    }
}

/// A new endpoint, parsed at the edge (the URL's form; its addresses are checked here).
#[derive(Debug)]
pub struct NewEndpoint {
    pub url: String,
    pub events: Vec<EventKind>,
    pub description: Option<String>,
}

/// A created endpoint and its secret (shown this once; `Debug` leaves it out).
pub struct CreatedEndpoint {
    pub endpoint: Endpoint,
    pub secret: String,
}

impl std::fmt::Debug for CreatedEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedEndpoint")
            .field("endpoint", &self.endpoint)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// The webhooks service.
#[derive(Clone)]
pub struct Webhooks {
    pool: PgPool,
    allow_private: bool,
}

/// `whsec_` and 32 bytes from the system's CSPRNG (ring's), base64url without padding.
fn new_secret() -> Result<String, DomainError> {
    let mut bytes = [0u8; 32];
    tokio_rustls::rustls::crypto::ring::default_provider()
        .secure_random
        .fill(&mut bytes)
        .map_err(|_| DomainError::Internal("the system's random source failed".into()))?;
    Ok(format!(
        "whsec_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

fn not_found() -> DomainError {
    DomainError::NotFound("no such webhook".into())
}

impl Webhooks {
    /// The service over its pool.
    pub fn new(pool: PgPool, allow_private: bool) -> Self {
        Self {
            pool,
            allow_private,
        }
    }

    /// Registers an endpoint after resolving its host and checking every address.
    pub async fn create(
        &self,
        access: &ChainAccess,
        cmd: NewEndpoint,
    ) -> Result<CreatedEndpoint, DomainError> {
        let url = webhook_client::parse_url(&cmd.url).map_err(url_error)?;
        webhook_client::resolve(&url, self.allow_private)
            .await
            .map_err(url_error)?;
        let secret = new_secret()?;
        let events: Vec<String> = cmd.events.iter().map(|k| k.as_str().to_owned()).collect();
        let mut tx = self.pool.begin().await?;
        if db::lock_and_count(&mut tx, access.chain()).await? >= MAX_ENDPOINTS {
            return Err(DomainError::QuotaExceeded(format!(
                "a chain may have at most {MAX_ENDPOINTS} webhook endpoints"
            )));
        }
        let endpoint = db::insert_endpoint(
            &mut tx,
            access.chain(),
            url.as_str(),
            &events,
            cmd.description.as_deref(),
            &secret,
            access.actor().id(),
        )
        .await?;
        tx.commit().await?;
        Ok(CreatedEndpoint { endpoint, secret })
    }

    /// The chain's live endpoints.
    pub async fn list(&self, access: &ChainAccess) -> Result<Vec<Endpoint>, DomainError> {
        let mut conn = self.pool.acquire().await?;
        Ok(db::list_endpoints(&mut conn, access.chain()).await?)
    }

    /// Deletes an endpoint; its pending deliveries are not sent.
    pub async fn delete(&self, access: &ChainAccess, id: Uuid) -> Result<(), DomainError> {
        let mut tx = self.pool.begin().await?;
        if !db::delete_endpoint(&mut tx, access.chain(), id).await? {
            return Err(not_found());
        }
        tx.commit().await?;
        Ok(())
    }

    /// Gives an endpoint a new secret (the old one stops signing at once).
    pub async fn rotate_secret(
        &self,
        access: &ChainAccess,
        id: Uuid,
    ) -> Result<String, DomainError> {
        let secret = new_secret()?;
        let mut conn = self.pool.acquire().await?;
        if !db::set_secret(&mut conn, access.chain(), id, &secret).await? {
            return Err(not_found());
        }
        Ok(secret)
    }

    /// An endpoint's deliveries, newest first.
    pub async fn deliveries(
        &self,
        access: &ChainAccess,
        endpoint: Uuid,
        status: Option<&str>,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<Delivery>, DomainError> {
        let mut conn = self.pool.acquire().await?;
        if !db::endpoint_exists(&mut conn, access.chain(), endpoint).await? {
            return Err(not_found());
        }
        Ok(db::list_deliveries(&mut conn, access.chain(), endpoint, status, after, limit).await?)
    }

    /// Sends a delivery again now, with a fresh budget of attempts.
    pub async fn redeliver(
        &self,
        access: &ChainAccess,
        endpoint: Uuid,
        delivery: Uuid,
    ) -> Result<(), DomainError> {
        let mut conn = self.pool.acquire().await?;
        if !db::redeliver(&mut conn, access.chain(), endpoint, delivery).await? {
            return Err(DomainError::NotFound("no such delivery".into()));
        }
        Ok(())
    }
}

fn url_error(r: UrlRefusal) -> DomainError {
    match r {
        UrlRefusal::Invalid(m) => DomainError::Invalid(vec![("url".into(), m)]),
        UrlRefusal::NotAllowed(m) => DomainError::UrlNotAllowed(m),
    }
}
