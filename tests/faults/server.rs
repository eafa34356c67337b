//! The real `cineflow` binary under test, a fresh database on the shared server for it, and a
//! small HTTP client with the setup steps the scenarios need (the `TestApp` helpers of the API
//! tests drive an in-process app and cannot be pointed at another process).

use std::time::Duration;

use reqwest::{Method, Response};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};

use crate::support::client::{
    PASSWORD, base_time, big_screen_body, email, expect_json, movie_body, s, show_body,
    theatre_body, unique,
};
use crate::support::database_url_for;
use crate::support::process::CineflowProcess;

const JWT_SECRET: &str = "faults-test-secret-0123456789abcdef0123";
pub const ADMIN_EMAIL: &str = "admin@faults.cineflow.local";
pub const ADMIN_PASSWORD: &str = "Faults-Admin-2026";

/// A database of its own on the server of `DATABASE_URL`, dropped by [`TempDatabase::drop_now`].
pub struct TempDatabase {
    pub name: String,
    pub url: String,
}

impl TempDatabase {
    pub async fn create() -> TempDatabase {
        let name = format!("cineflow_faults_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&database_url_for("postgres"))
            .await
            .expect("connect to DATABASE_URL's server");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("create database {name}")))
            .execute(&mut admin)
            .await
            .expect("create the test database");
        admin.close().await.expect("close");
        TempDatabase {
            url: database_url_for(&name),
            name,
        }
    }

    /// A connection, for checks and for changes "another replica" makes.
    pub async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.url).await.expect("connect")
    }

    pub async fn drop_now(self) {
        let mut admin = PgConnection::connect(&database_url_for("postgres"))
            .await
            .expect("connect to DATABASE_URL's server");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "drop database if exists {} with (force)",
            self.name
        )))
        .execute(&mut admin)
        .await
        .expect("drop the test database");
        let _ = admin.close().await;
    }
}

/// A running `cineflow serve` (the shared harness, `support::process`) and a client of it.
pub struct Binary {
    process: CineflowProcess,
    pub api: Api,
}

impl Binary {
    /// Starts the binary on `database_url` with the fault tests' admin, plus `env`, and waits
    /// until `/readyz` is 200.
    pub async fn start(database_url: &str, env: &[(&str, &str)]) -> Binary {
        let process = CineflowProcess::builder()
            .database_url(database_url)
            .env("CINEFLOW_JWT_SECRET", JWT_SECRET)
            .env("CINEFLOW_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("CINEFLOW_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("CINEFLOW_SIGNIN_PER_EMAIL_PER_MINUTE", "1000")
            .env("CINEFLOW_SIGNIN_PER_CLIENT_PER_MINUTE", "1000")
            .env("CINEFLOW_SIGNUP_PER_CLIENT_PER_MINUTE", "1000")
            .env("CINEFLOW_PASSWORD_HASH_WAIT_MS", "30000")
            .envs(env.iter().copied())
            // A failed scenario needs no graceful stop: the process is SIGKILLed at once.
            .drop_grace(Duration::ZERO)
            .spawn()
            .await;
        Binary {
            api: Api::new(process.base_url()),
            process,
        }
    }

    /// The Prometheus text of the metrics endpoint.
    pub async fn metrics(&self) -> String {
        self.api
            .client
            .get(format!("{}/metrics", self.process.metrics_url()))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text")
    }

    /// Panics (with the log) if the process has exited.
    pub fn assert_running(&self) {
        self.process.assert_running();
    }

    /// SIGTERM, then the exit status (SIGKILLed, and so not a success, if it does not stop
    /// within 30 s).
    pub async fn terminate(self) -> std::process::ExitStatus {
        self.process.stop().await
    }
}

/// A client of one server.
#[derive(Clone)]
pub struct Api {
    pub client: reqwest::Client,
    pub base: String,
}

/// An approved owner's chain with a theatre, a movie now showing and a big show a week ahead.
#[derive(Debug, Clone)]
pub struct Venue {
    pub owner: String,
    pub chain_id: String,
    pub show_id: String,
}

impl Api {
    fn new(base: String) -> Api {
        let client = reqwest::Client::builder()
            // A hang shows as an error instead of a stuck test; the server's own request
            // timeout is 30 s.
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        Api { client, base }
    }

    /// A request to a path at the root (`/readyz`).
    pub async fn root(&self, method: Method, path: &str) -> reqwest::Result<Response> {
        self.client
            .request(method, format!("{}{path}", self.base))
            .send()
            .await
    }

    /// A request to an API path (relative to `/api/v1`), with an optional token and body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> reqwest::Result<Response> {
        let mut req = self
            .client
            .request(method, format!("{}/api/v1{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await
    }

    /// Like [`Api::send`], expecting `status` and a JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        status: u16,
    ) -> Value {
        let res = self
            .send(method, path, token, body)
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        expect_json(res, status).await
    }

    pub async fn signin(&self, email: &str, password: &str) -> String {
        let body = json!({"email": email, "password": password});
        let res = self
            .call(Method::POST, "/auth/signin", None, Some(body), 200)
            .await;
        s(&res, "access_token")
    }

    pub async fn admin(&self) -> String {
        self.signin(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// A signed-in user of `role` (an owner is approved by the admin).
    pub async fn user(&self, role: &str) -> String {
        let email = email(role);
        let body =
            json!({"name": "Fault Tester", "email": email, "password": PASSWORD, "role": role});
        let user = self
            .call(Method::POST, "/auth/signup", None, Some(body), 201)
            .await;
        if role == "owner" {
            let admin = self.admin().await;
            let path = format!("/users/{}", s(&user, "id"));
            let approve = Some(json!({"status": "approved"}));
            self.call(Method::PATCH, &path, Some(&admin), approve, 200)
                .await;
        }
        self.signin(&email, PASSWORD).await
    }

    /// A chain with one show on a screen of `rows` × `seats` standard seats.
    pub async fn venue(&self, name: &str, rows: u32, seats: u32) -> Venue {
        let owner = self.user("owner").await;
        let t = Some(owner.as_str());
        let chain = json!({"name": unique(name), "currency": "INR", "timezone": "Asia/Kolkata"});
        let chain_id = s(
            &self
                .call(Method::POST, "/chains", t, Some(chain), 201)
                .await,
            "id",
        );
        let theatre = theatre_body(&chain_id, name, "Bengaluru");
        let theatre_id = s(
            &self
                .call(Method::POST, "/theatres", t, Some(theatre), 201)
                .await,
            "id",
        );
        let mut movie = movie_body(&unique("The Long Night"));
        movie["chain_id"] = json!(chain_id);
        let movie_id = s(
            &self
                .call(Method::POST, "/movies", t, Some(movie), 201)
                .await,
            "id",
        );
        let showing = json!({"movie_ids": [movie_id]});
        let path = format!("/theatres/{theatre_id}/movies");
        self.call(Method::POST, &path, t, Some(showing), 200).await;
        let path = format!("/theatres/{theatre_id}/screens");
        let screen = big_screen_body(&unique("Screen"), rows, seats);
        let screen_id = s(
            &self.call(Method::POST, &path, t, Some(screen), 201).await,
            "id",
        );
        let show = show_body(&screen_id, &movie_id, base_time(7));
        let show_id = s(
            &self.call(Method::POST, "/shows", t, Some(show), 201).await,
            "id",
        );
        Venue {
            owner,
            chain_id,
            show_id,
        }
    }

    /// `POST /chains/{chain}/components?hook=pricing` (201 expected); returns the id.
    pub async fn upload_pricing(&self, owner: &str, chain_id: &str, bytes: Vec<u8>) -> String {
        let res = self
            .client
            .post(format!(
                "{}/api/v1/chains/{chain_id}/components?hook=pricing",
                self.base
            ))
            .bearer_auth(owner)
            .header("content-type", "application/wasm")
            .body(bytes)
            .send()
            .await
            .expect("upload sent");
        s(&expect_json(res, 201).await, "id")
    }

    /// Binds the chain's pricing to `component_id` with `on_failure` (200 expected).
    pub async fn bind_pricing(
        &self,
        owner: &str,
        chain_id: &str,
        component_id: &str,
        on_failure: &str,
    ) {
        let body = json!({"component_id": component_id, "on_failure": on_failure});
        let path = format!("/chains/{chain_id}/bindings/pricing");
        self.call(Method::PUT, &path, Some(owner), Some(body), 200)
            .await;
    }
}

/// Percentile `p` (0–1) of sorted samples, nearest rank.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}
