//! Webhooks per chain (API.md, "Webhooks"; docs/webhooks.md): staff register endpoints (the
//! secret shown once), private addresses are refused unless allowed, a booking's events are
//! delivered signed to a real HTTP server in the test, retried after a 500, failed after the
//! last attempt, redelivered; a deleted endpoint gets nothing; a hanging endpoint of one chain
//! delays neither another chain's deliveries nor an email; a refused change queues nothing.

use std::time::{Duration, Instant};

use cineflow::config::Config;
use cineflow::domain::webhooks::WebhookSettings;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::support::app::{TestApp, config};
use crate::support::client::{Bookable, expect_json, s};
use crate::support::receiver::Hit;

mod checkin;
mod delivery;
mod endpoints;

/// Private addresses allowed (the receiver is on 127.0.0.1), quick retries, 3 attempts.
fn fast() -> Config {
    let mut c = config(Default::default());
    c.webhooks = WebhookSettings {
        allow_private: true,
        max_attempts: 3,
        retry_base: Duration::from_millis(200),
        retry_max: Duration::from_millis(400),
        timeout: Duration::from_secs(3),
        poll: Duration::from_millis(100),
        run_sender: true,
    };
    c
}

impl TestApp {
    async fn try_webhook(&self, b: &Bookable, body: Value) -> reqwest::Response {
        let path = format!("/chains/{}/webhooks", b.venue.chain_id);
        self.post_json(&path, Some(&b.venue.token), body).await
    }

    /// An endpoint of the bookable's chain for `events` (201 expected).
    async fn webhook(&self, b: &Bookable, url: &str, events: &[&str]) -> Value {
        let res = self
            .try_webhook(b, json!({"url": url, "events": events}))
            .await;
        expect_json(res, 201).await
    }

    async fn deliveries(&self, b: &Bookable, hook: &Value, query: &str) -> Vec<Value> {
        let path = format!(
            "/chains/{}/webhooks/{}/deliveries{query}",
            b.venue.chain_id,
            s(hook, "id")
        );
        let page = self.get_ok(&path, Some(&b.venue.token)).await;
        page["items"].as_array().expect("items").clone()
    }

    /// Waits until the endpoint's deliveries of `kind` reach `status`.
    async fn delivery_in(&self, b: &Bookable, hook: &Value, kind: &str, status: &str) -> Value {
        let start = Instant::now();
        loop {
            let all = self.deliveries(b, hook, "").await;
            if let Some(d) = all
                .iter()
                .find(|d| d["event"] == kind && d["status"] == status)
            {
                return d.clone();
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "no {status} {kind}: {all:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Checks a hit's signature with the endpoint's secret, as an integrator would.
fn assert_signed(hit: &Hit, secret: &str) {
    let ts = hit.header("cineflow-webhook-timestamp");
    let sig = hit.header("cineflow-webhook-signature");
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(ts.as_bytes());
    mac.update(b".");
    mac.update(&hit.body);
    let hex = sig.strip_prefix("v1=").expect("v1= signature");
    let raw = hex::decode(hex).expect("hex signature");
    mac.verify_slice(&raw).expect("a valid signature");
    let age = chrono::Utc::now().timestamp() - ts.parse::<i64>().expect("unix seconds");
    assert!((0..60).contains(&age), "timestamp {ts} is recent");
}
