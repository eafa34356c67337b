//! Three (or more) real `cineflow serve` processes on one database, and a client that talks
//! to each of them by index.

use std::time::{Duration, Instant};

use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::support::client::{
    PASSWORD, base_time, big_screen_body, email, expect_json, movie_body, s, show_body,
    theatre_body, unique,
};
use crate::support::process::{Builder, CineflowProcess};

/// Every replica signs tokens with this key, so a token from one is good on the others.
const JWT_SECRET: &str = "replicas-test-secret-0123456789abcdef0123";
/// The bootstrap admin every replica creates (or finds) at start.
pub const ADMIN_EMAIL: &str = "admin@replicas.cineflow.local";
const ADMIN_PASSWORD: &str = "Replicas-Admin-2026";

/// One `cineflow serve` process (the shared harness, `support::process`) with the settings
/// every replica shares. Dropping it SIGKILLs the process, so a failing test leaves nothing
/// running and waits for no graceful stop; a failing test also gets the end of each
/// replica's log on stderr.
fn replica(name: String, database_url: &str, env: &[(String, String)]) -> Builder {
    CineflowProcess::builder()
        .name(name)
        .database_url(database_url)
        .env("CINEFLOW_JWT_SECRET", JWT_SECRET)
        .env("CINEFLOW_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("CINEFLOW_ADMIN_PASSWORD", ADMIN_PASSWORD)
        // Dozens of test users sign up and in through each replica within a second (the
        // limits are shared by the replicas, through the database).
        .env("CINEFLOW_SIGNIN_PER_EMAIL_PER_MINUTE", "10000")
        .env("CINEFLOW_SIGNIN_PER_CLIENT_PER_MINUTE", "100000")
        .env("CINEFLOW_SIGNUP_PER_CLIENT_PER_MINUTE", "100000")
        // Concurrent signups on a busy 2-core machine may wait longer than the default 2 s.
        .env("CINEFLOW_PASSWORD_HASH_WAIT_MS", "30000")
        .env("CINEFLOW_DEMO", "false")
        // Bursts of concurrent requests open many connections at once on a busy 2-core
        // machine; a short acquire timeout would turn that wait into 503s.
        .env("CINEFLOW_DB_ACQUIRE_TIMEOUT_MS", "15000")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .drop_grace(Duration::ZERO)
}

/// Replicas sharing one database, and one HTTP client for all of them.
pub struct Cluster {
    pub replicas: Vec<CineflowProcess>,
    pub client: reqwest::Client,
}

/// An approved owner's chain with a show a week ahead on a screen of `rows` × `seats`.
#[derive(Debug, Clone)]
pub struct Venue {
    pub owner_token: String,
    pub chain_id: String,
    pub show_id: String,
}

/// A signed-in customer.
#[derive(Debug, Clone)]
pub struct Customer {
    pub email: String,
    pub token: String,
}

impl Cluster {
    /// Starts one replica per entry of `envs` (each entry: that replica's extra
    /// environment), all at once, and waits until every one is ready. Starting together
    /// also makes them migrate the fresh database and register the defaults side by side.
    pub async fn start(database_url: &str, envs: Vec<Vec<(String, String)>>) -> Cluster {
        let client = reqwest::Client::builder()
            // A request that hangs fails the test instead of hanging it.
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        let started = Instant::now();
        // All spawned at once (each `spawn` starts its process before it first waits), then
        // awaited together.
        let replicas = futures_util::future::join_all(
            envs.iter()
                .enumerate()
                .map(|(i, env)| replica(format!("replica {}", i + 1), database_url, env).spawn()),
        )
        .await;
        eprintln!(
            "{} replicas ready in {:?}",
            replicas.len(),
            started.elapsed()
        );
        Cluster { replicas, client }
    }

    /// `n` replicas with the same extra environment.
    pub async fn start_same(database_url: &str, n: usize, env: &[(&str, &str)]) -> Cluster {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Self::start(database_url, vec![env; n]).await
    }

    /// The URL of an API path (relative to `/api/v1`) on replica `i`.
    pub fn api(&self, i: usize, path: &str) -> String {
        self.replicas[i].url(&format!("/api/v1{path}"))
    }

    /// Any request to replica `i`; a transport error (refused, reset) is returned, not
    /// panicked on, for the tests that kill replicas.
    pub async fn send(
        &self,
        i: usize,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        idempotency_key: Option<&str>,
    ) -> reqwest::Result<Response> {
        let mut req = self.client.request(method, self.api(i, path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        if let Some(key) = idempotency_key {
            req = req.header("idempotency-key", key);
        }
        req.send().await
    }

    /// A request to replica `i` that must be answered with `status`; returns the JSON body.
    pub async fn expect(
        &self,
        i: usize,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        status: u16,
    ) -> Value {
        let res = self
            .send(i, method, path, token, body, None)
            .await
            .unwrap_or_else(|e| panic!("{}: {path}: {e}", self.replicas[i].name()));
        expect_json(res, status).await
    }

    /// Signs in through replica `i`; returns the access token.
    pub async fn signin(&self, i: usize, email: &str, password: &str) -> String {
        let body = json!({"email": email, "password": password});
        let res = self
            .expect(i, Method::POST, "/auth/signin", None, Some(body), 200)
            .await;
        s(&res, "access_token")
    }

    /// The bootstrap admin's token, from replica `i`.
    pub async fn admin_token(&self, i: usize) -> String {
        self.signin(i, ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// A customer who signs up through replica `i` and signs in through the next one.
    pub async fn customer(&self, i: usize) -> Customer {
        let email = email("customer");
        let body =
            json!({"name": "Customer", "email": email, "password": PASSWORD, "role": "customer"});
        self.expect(i, Method::POST, "/auth/signup", None, Some(body), 201)
            .await;
        let token = self
            .signin((i + 1) % self.replicas.len(), &email, PASSWORD)
            .await;
        Customer { email, token }
    }

    /// `n` customers, signed up concurrently over the replicas.
    pub async fn customers(&self, n: usize) -> Vec<Customer> {
        futures_util::future::join_all((0..n).map(|i| self.customer(i % self.replicas.len()))).await
    }

    /// An approved owner with a chain, theatre, screen of `rows` × `seats`, a movie and a
    /// show a week ahead, all made through replica `i`.
    pub async fn venue(&self, i: usize, rows: u32, seats: u32) -> Venue {
        let admin = self.admin_token(i).await;
        let email = email("owner");
        let body = json!({"name": "Owner", "email": email, "password": PASSWORD, "role": "owner"});
        let owner = self
            .expect(i, Method::POST, "/auth/signup", None, Some(body), 201)
            .await;
        let path = format!("/users/{}", s(&owner, "id"));
        let approve = json!({"status": "approved"});
        self.expect(i, Method::PATCH, &path, Some(&admin), Some(approve), 200)
            .await;
        let token = self.signin(i, &email, PASSWORD).await;
        let t = Some(token.as_str());
        let chain =
            json!({"name": unique("Replicas"), "currency": "INR", "timezone": "Asia/Kolkata"});
        let chain_id = s(
            &self
                .expect(i, Method::POST, "/chains", t, Some(chain), 201)
                .await,
            "id",
        );
        let theatre = theatre_body(&chain_id, "Regal Central", "Bengaluru");
        let theatre_id = s(
            &self
                .expect(i, Method::POST, "/theatres", t, Some(theatre), 201)
                .await,
            "id",
        );
        let screen = big_screen_body(&unique("Screen"), rows, seats);
        let screen_path = format!("/theatres/{theatre_id}/screens");
        let screen_id = s(
            &self
                .expect(i, Method::POST, &screen_path, t, Some(screen), 201)
                .await,
            "id",
        );
        let mut movie = movie_body(&unique("The Long Night"));
        movie["chain_id"] = json!(chain_id);
        let movie_id = s(
            &self
                .expect(i, Method::POST, "/movies", t, Some(movie), 201)
                .await,
            "id",
        );
        let showing = json!({"movie_ids": [movie_id]});
        let showing_path = format!("/theatres/{theatre_id}/movies");
        self.expect(i, Method::POST, &showing_path, t, Some(showing), 200)
            .await;
        let show = show_body(&screen_id, &movie_id, base_time(7));
        let show_id = s(
            &self
                .expect(i, Method::POST, "/shows", t, Some(show), 201)
                .await,
            "id",
        );
        Venue {
            owner_token: token,
            chain_id,
            show_id,
        }
    }

    /// The state of every seat of a show as replica `i` reports it, by seat id.
    pub async fn seat_states(
        &self,
        i: usize,
        show_id: &str,
    ) -> std::collections::BTreeMap<String, String> {
        let seats = self
            .expect(
                i,
                Method::GET,
                &format!("/shows/{show_id}/seats"),
                None,
                None,
                200,
            )
            .await;
        seats["items"]
            .as_array()
            .unwrap_or_else(|| panic!("no items in {seats}"))
            .iter()
            .map(|seat| (s(seat, "id"), s(seat, "state")))
            .collect()
    }

    /// A counter of replica `i`'s Prometheus metrics (0 when it was never incremented).
    pub async fn counter(&self, i: usize, name: &str) -> f64 {
        let text = self
            .client
            .get(format!("{}/metrics", self.replicas[i].metrics_url()))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text");
        text.lines()
            .filter(|l| l.starts_with(name) && !l.starts_with('#'))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }
}

/// The database URL of a `#[sqlx::test]` pool's database, for the replicas.
pub fn database_url_of(pool: &sqlx::PgPool) -> String {
    let name = pool
        .connect_options()
        .get_database()
        .expect("test database name")
        .to_owned();
    crate::support::database_url_for(&name)
}

/// The booking body of a hold.
pub fn hold(show_id: &str, seats: &[String]) -> Value {
    json!({"show_id": show_id, "seat_ids": seats})
}
