//! The webhook sender: one task per replica (started in `app.rs`, apart from the email
//! sweeper) that claims due deliveries (`SKIP LOCKED` and a lease) and posts each in its own
//! task, under a global cap and caps per endpoint and per chain, so that a hanging endpoint
//! holds at most [`PER_ENDPOINT`] requests and its chain at most [`PER_CHAIN`]: other chains'
//! deliveries keep going out. Delivery is at-least-once (a sender that dies mid-send loses its
//! lease and another sends again); receivers dedupe on `Cineflow-Webhook-Id`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use hyper::header::HeaderName;
use sha2::Sha256;
use sqlx::PgPool;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::WebhookSettings;
use crate::db::webhooks::{self as db, Claimed, Outcome};
use crate::webhook_client::WebhookClient;

/// Requests in flight per replica.
pub const GLOBAL: usize = 32;
/// Requests in flight per endpoint per replica: a slow endpoint gets no more than this.
pub const PER_ENDPOINT: usize = 2;
/// Requests in flight per chain per replica: a chain with many slow endpoints cannot take
/// every global slot.
pub const PER_CHAIN: usize = 8;
/// Added to the request timeout to make the lease: the result is recorded well before
/// another replica may take the delivery again.
const LEASE_MARGIN: Duration = Duration::from_secs(30);

/// The request headers (docs/webhooks.md, "Headers").
pub const ID_HEADER: &str = "cineflow-webhook-id";
/// Unix seconds of the attempt; part of what is signed.
pub const TIMESTAMP_HEADER: &str = "cineflow-webhook-timestamp";
/// `v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub const SIGNATURE_HEADER: &str = "cineflow-webhook-signature";

/// The signature header's value for `body` sent at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// The delay before attempt `attempt + 1`: `base × 2^(attempt-1)`, at most `max`, ±20 %.
pub fn backoff(base: Duration, max: Duration, attempt: i32) -> Duration {
    let exp = u32::try_from(attempt.saturating_sub(1))
        .unwrap_or(0)
        .min(30);
    let full = base.saturating_mul(1u32 << exp).min(max);
    full.mul_f64(0.8 + 0.4 * fastrand::f64())
}

#[derive(Default)]
struct InFlight {
    total: usize,
    endpoints: HashMap<Uuid, usize>,
    chains: HashMap<Uuid, usize>,
}

impl InFlight {
    fn take(&mut self, chain: Uuid, endpoint: Uuid) {
        self.total += 1;
        *self.endpoints.entry(endpoint).or_default() += 1;
        *self.chains.entry(chain).or_default() += 1;
    }

    fn give_back(&mut self, chain: Uuid, endpoint: Uuid) {
        self.total = self.total.saturating_sub(1);
        for (map, key) in [(&mut self.endpoints, endpoint), (&mut self.chains, chain)] {
            if let Some(n) = map.get_mut(&key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    map.remove(&key);
                }
            }
        }
    }

    fn has_room(&self, chain: Uuid, endpoint: Uuid) -> bool {
        self.total < GLOBAL
            && self.endpoints.get(&endpoint).copied().unwrap_or(0) < PER_ENDPOINT
            && self.chains.get(&chain).copied().unwrap_or(0) < PER_CHAIN
    }
}

/// Gives a slot back when its request ends, however it ends.
struct Slot {
    inflight: Arc<Mutex<InFlight>>,
    chain: Uuid,
    endpoint: Uuid,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut f) = self.inflight.lock() {
            f.give_back(self.chain, self.endpoint);
        }
    }
}

/// Sends due deliveries.
pub struct Sender {
    db: PgPool,
    client: WebhookClient,
    settings: WebhookSettings,
    inflight: Arc<Mutex<InFlight>>,
}

impl Sender {
    /// A sender with its own client.
    pub fn new(db: PgPool, settings: WebhookSettings) -> Self {
        Self {
            db,
            client: WebhookClient::new(settings.timeout, settings.allow_private),
            settings,
            inflight: Arc::default(),
        }
    }

    /// Sweeps every `poll` until `stop`; then lets requests in flight finish (they end within
    /// the timeout) and returns.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        let mut tasks = JoinSet::new();
        let mut every = tokio::time::interval(self.settings.poll);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = every.tick() => {}
            }
            while tasks.try_join_next().is_some() {}
            if let Err(e) = self.sweep_once(&mut tasks).await {
                tracing::warn!(error = %e, "claiming webhook deliveries failed; will retry");
            }
        }
        // Requests in flight get a few seconds to end; a hanging endpoint must not hold up
        // the shutdown for its whole timeout.
        let wait = self.settings.timeout.min(Duration::from_secs(5));
        if tokio::time::timeout(wait, async { while tasks.join_next().await.is_some() {} })
            .await
            .is_err()
        {
            // Their leases run out and another replica sends them.
            tasks.abort_all();
        }
    }

    /// Claims what the caps leave room for and starts a task per delivery; the number started.
    pub async fn sweep_once(
        self: &Arc<Self>,
        tasks: &mut JoinSet<()>,
    ) -> Result<usize, sqlx::Error> {
        let (busy, room) = {
            let f = self.lock();
            let busy: Vec<Uuid> = f
                .endpoints
                .iter()
                .filter(|(_, n)| **n >= PER_ENDPOINT)
                .map(|(id, _)| *id)
                .collect();
            (busy, GLOBAL.saturating_sub(f.total))
        };
        if room == 0 {
            return Ok(0);
        }
        let mut conn = self.db.acquire().await?;
        let candidates =
            db::candidates(&mut conn, &busy, PER_ENDPOINT as i64, (room * 4) as i64).await?;
        // Reserve the slots before claiming, so that the caps hold across the await.
        let mut picked = Vec::new();
        {
            let mut f = self.lock();
            for c in candidates {
                if f.has_room(c.chain_id, c.endpoint_id) {
                    f.take(c.chain_id, c.endpoint_id);
                    picked.push(c);
                }
            }
        }
        if picked.is_empty() {
            return Ok(0);
        }
        let ids: Vec<Uuid> = picked.iter().map(|c| c.id).collect();
        let lease = self.client.timeout() + LEASE_MARGIN;
        let claimed = match db::claim(&mut conn, &ids, lease).await {
            Ok(claimed) => claimed,
            Err(e) => {
                let mut f = self.lock();
                picked
                    .iter()
                    .for_each(|c| f.give_back(c.chain_id, c.endpoint_id));
                return Err(e);
            }
        };
        drop(conn);
        {
            // Rows another replica claimed first give their slot back.
            let mut f = self.lock();
            for c in picked
                .iter()
                .filter(|c| !claimed.iter().any(|d| d.id == c.id))
            {
                f.give_back(c.chain_id, c.endpoint_id);
            }
        }
        let started = claimed.len();
        for delivery in claimed {
            let slot = Slot {
                inflight: self.inflight.clone(),
                chain: delivery.chain_id,
                endpoint: delivery.endpoint_id,
            };
            let me = self.clone();
            tasks.spawn(async move {
                let _slot = slot;
                me.deliver(delivery).await;
            });
        }
        Ok(started)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, InFlight> {
        self.inflight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// One attempt: sign, post, record.
    #[tracing::instrument(skip_all, fields(delivery = %d.id, endpoint = %d.endpoint_id, attempt = d.attempt))]
    async fn deliver(&self, d: Claimed) {
        let timestamp = chrono::Utc::now().timestamp();
        let headers = [
            (HeaderName::from_static(ID_HEADER), d.event_id.to_string()),
            (
                HeaderName::from_static(TIMESTAMP_HEADER),
                timestamp.to_string(),
            ),
            (
                HeaderName::from_static(SIGNATURE_HEADER),
                signature(&d.secret, timestamp, &d.body),
            ),
        ];
        let result = self
            .client
            .post(&d.url, &headers, Bytes::from(d.body))
            .await;
        let (code, error) = match result {
            Ok(code) if (200..300).contains(&code) => (Some(code), None),
            Ok(code) if (300..400).contains(&code) => (
                Some(code),
                Some(format!("answered {code}: redirects are not followed")),
            ),
            Ok(code) => (Some(code), Some(format!("answered {code}"))),
            Err(e) => (e.status, Some(e.message)),
        };
        let last = d.attempt >= i32::try_from(self.settings.max_attempts).unwrap_or(i32::MAX);
        let outcome = match (&error, code) {
            (None, Some(code)) => Outcome::Sent(code),
            (Some(e), _) if last => Outcome::Failed(code, e),
            (Some(e), _) => Outcome::Retry(
                code,
                e,
                backoff(self.settings.retry_base, self.settings.retry_max, d.attempt),
            ),
            (None, None) => Outcome::Failed(None, "no status"),
        };
        let recorded = async {
            let mut conn = self.db.acquire().await?;
            db::record(&mut conn, d.id, d.token, outcome).await
        };
        match recorded.await {
            Ok(true) => {}
            Ok(false) => tracing::debug!("the delivery was claimed again meanwhile"),
            // The lease runs out and the delivery is sent again: at-least-once.
            Err(e) => tracing::warn!(error = %e, "recording a webhook attempt failed"),
        }
        if let Some(e) = error {
            tracing::debug!(error = %e, "webhook attempt failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_stops_at_the_cap() {
        let base = Duration::from_secs(10);
        let max = Duration::from_secs(3600);
        for attempt in 1..=12 {
            let full = base
                .saturating_mul(1 << (attempt - 1))
                .min(max)
                .as_secs_f64();
            let d = backoff(base, max, attempt).as_secs_f64();
            assert!(
                d >= full * 0.8 - 1e-9 && d <= full * 1.2 + 1e-9,
                "{attempt}: {d}"
            );
        }
    }

    #[test]
    fn the_signature_is_the_hmac_of_timestamp_dot_body() {
        // Computed independently: printf '1700000000.{}' | openssl dgst -sha256 -hmac whsec_k
        let s = signature("whsec_k", 1_700_000_000, b"{}");
        assert_eq!(
            s,
            "v1=8b20524faff2b12e1089e404a8cf60fbe577e5320e899ebff7329ebbcb9ada22"
        );
        assert_ne!(s, signature("whsec_k", 1_700_000_001, b"{}"));
    }
}
