//! PostgreSQL stopped (fast shutdown) and started again under a serving binary and a client
//! load: during the outage every API request is a prompt 503 `database_unavailable` with
//! `Retry-After` (never a 500, never a hang), `/readyz` is 503 and `/healthz` 200; afterwards
//! the same process serves again, and its LISTEN-driven background tasks recover: the sweeper
//! sends an email queued after the restart, and a binding written after the restart reaches it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};

use crate::pg::PrivatePg;
use crate::server::{Api, Binary};
use crate::support::client::{assert_problem, row_label, s};
use crate::support::hostile;
use crate::support::smtp::SmtpServer;

/// The price of a standard seat (`support::client::prices`).
const STANDARD: i64 = 25_000;
/// How long a request waits for a connection while the database is down.
const ACQUIRE_TIMEOUT_MS: u64 = 1_000;
/// A request answered later than this while the database is down counts as hung. Far above
/// the acquire timeout, far below the 30 s request timeout a real hang would end at.
const PROMPT: Duration = Duration::from_secs(10);

/// One request of the load.
#[derive(Debug)]
struct Sample {
    /// When it was sent and answered, since the load began.
    sent: Duration,
    answered: Duration,
    what: &'static str,
    /// The status, or the transport error.
    status: Result<u16, String>,
    code: Option<String>,
    retry_after: bool,
    problem_json: bool,
    /// The id of what a 2xx answer created (a hold's booking).
    id: Option<String>,
}

/// Clients that read a show and hold seats until told to stop, recording every answer.
struct Load {
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<Vec<Sample>>>,
}

impl Load {
    /// `clients` loops, each with its own customer and its own rows of the show.
    async fn start(api: &Api, show_id: &str, clients: u32, epoch: Instant) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for client in 0..clients {
            let customer = api.user("customer").await;
            let (api, stop, show) = (api.clone(), stop.clone(), show_id.to_owned());
            tasks.push(tokio::spawn(async move {
                let mut samples = Vec::new();
                // Each seat is tried once: a hold that failed mid-outage may or may not have
                // committed, and a retry of it would be a 409 rather than a fault.
                let mut seats = (client * 6..client * 6 + 6)
                    .flat_map(|r| (1..=50).map(move |n| format!("{}-{n}", row_label(r))));
                while !stop.load(Ordering::Relaxed) {
                    let show_path = format!("/shows/{show}");
                    samples.push(
                        measure(
                            &api,
                            epoch,
                            "read show",
                            Method::GET,
                            &show_path,
                            None,
                            None,
                        )
                        .await,
                    );
                    if let Some(seat) = seats.next() {
                        let body = json!({"show_id": show, "seat_ids": [seat]});
                        let sample = measure(
                            &api,
                            epoch,
                            "hold",
                            Method::POST,
                            "/bookings",
                            Some(&customer),
                            Some(body),
                        )
                        .await;
                        // Release it at once (unmeasured, whatever the answer): the default
                        // rules cap a customer's unpaid seats of a show at 10.
                        if let (Ok(201), Some(id)) = (&sample.status, &sample.id) {
                            let path = format!("/bookings/{id}/cancel");
                            let _ = api.send(Method::POST, &path, Some(&customer), None).await;
                        }
                        samples.push(sample);
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                samples
            }));
        }
        Load { stop, tasks }
    }

    async fn finish(self) -> Vec<Sample> {
        self.stop.store(true, Ordering::Relaxed);
        let mut all = Vec::new();
        for task in self.tasks {
            all.extend(task.await.expect("load task"));
        }
        all
    }
}

async fn measure(
    api: &Api,
    epoch: Instant,
    what: &'static str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Sample {
    let sent = epoch.elapsed();
    let res = api.send(method, path, token, body).await;
    let (status, code, retry_after, problem_json, id) = match res {
        Err(e) => (Err(e.to_string()), None, false, false, None),
        Ok(res) => {
            let status = res.status().as_u16();
            let retry_after = res.headers().contains_key("retry-after");
            let problem_json = res
                .headers()
                .get("content-type")
                .is_some_and(|v| v.as_bytes() == b"application/problem+json");
            let body: Value = res.json().await.unwrap_or_default();
            let code = body["code"].as_str().map(str::to_owned);
            let id = body["id"].as_str().map(str::to_owned);
            (Ok(status), code, retry_after, problem_json, id)
        }
    };
    Sample {
        sent,
        answered: epoch.elapsed(),
        what,
        status,
        code,
        retry_after,
        problem_json,
        id,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_is_503_while_down_and_everything_recovers_without_a_restart() {
    let mut pg = PrivatePg::start().await;
    let smtp = SmtpServer::start().await;
    let smtp_url = smtp.url();
    let acquire = ACQUIRE_TIMEOUT_MS.to_string();
    let binary = Binary::start(
        &pg.url("cineflow"),
        &[
            ("CINEFLOW_SMTP_URL", smtp_url.as_str()),
            ("CINEFLOW_DB_ACQUIRE_TIMEOUT_MS", acquire.as_str()),
            // Once a year and once an hour: what arrives within seconds came through LISTEN.
            ("CINEFLOW_MAIL_SWEEP_CRON", "0 0 0 1 1 *"),
            ("CINEFLOW_BINDINGS_RECONCILE_SECS", "3600"),
        ],
    )
    .await;
    let api = binary.api.clone();
    let admin = api.admin().await;
    let venue = api.venue("Restart Cinemas", 20, 50).await;
    // Uploaded now, bound after the restart by "another replica" (SQL on the database).
    let double = api
        .upload_pricing(&venue.owner, &venue.chain_id, hostile("double"))
        .await;

    let epoch = Instant::now();
    let load = Load::start(&api, &venue.show_id, 3, epoch).await;
    tokio::time::sleep(Duration::from_secs(2)).await;

    // --- down
    let down_at = epoch.elapsed();
    pg.stop().await;
    let health = api.root(Method::GET, "/healthz").await.expect("healthz");
    assert_eq!(health.status(), 200, "the process is alive");
    let ready = api.root(Method::GET, "/readyz").await.expect("readyz");
    let ready = assert_problem(ready, 503, "database_unavailable").await;
    assert!(ready["detail"].is_string(), "{ready}");
    let asked = Instant::now();
    let res = api
        .send(Method::GET, "/chains", Some(&venue.owner), None)
        .await
        .expect("an answer, not a dropped connection");
    let took = asked.elapsed();
    assert!(res.headers().contains_key("retry-after"), "{res:?}");
    assert_problem(res, 503, "database_unavailable").await;
    assert!(
        took < PROMPT,
        "answered in {took:?} while the database is down"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;

    // --- up again, same address; the binary is not touched
    let up_at = epoch.elapsed();
    pg.start_again().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let ready_at = loop {
        let res = api.root(Method::GET, "/readyz").await.expect("readyz");
        if res.status() == 200 {
            break epoch.elapsed();
        }
        assert!(
            Instant::now() < deadline,
            "/readyz not 200 within 30 s of PostgreSQL accepting connections again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    let samples = load.finish().await;
    binary.assert_running();

    let mut unavailable = 0;
    for sample in &samples {
        let status = match &sample.status {
            Ok(status) => *status,
            Err(e) => panic!("{} got no answer: {e} ({sample:?})", sample.what),
        };
        if (200..300).contains(&status) {
            continue;
        }
        assert_eq!(
            status, 503,
            "only 503 while the database is down: {sample:?}"
        );
        assert_eq!(
            sample.code.as_deref(),
            Some("database_unavailable"),
            "{sample:?}"
        );
        assert!(sample.retry_after && sample.problem_json, "{sample:?}");
        assert!(
            sample.answered >= down_at && sample.sent <= ready_at,
            "a failure outside the outage ({down_at:?}–{ready_at:?}): {sample:?}"
        );
        assert!(
            sample.answered - sample.sent < PROMPT,
            "a slow answer while the database is down: {sample:?}"
        );
        unavailable += 1;
    }
    let after = samples.iter().filter(|s| s.sent > ready_at).count();
    let before = samples.iter().filter(|s| s.answered < down_at).count();
    println!(
        "postgres restart: {} requests, {before} before the stop, {unavailable} answered 503 \
         database_unavailable, {after} after /readyz was 200 again; down at {down_at:?}, \
         started again at {up_at:?}, ready at {ready_at:?}",
        samples.len()
    );
    assert!(unavailable > 0, "the load saw the outage");
    assert!(before > 0 && after > 0, "the load ran before and after it");

    // The document declares the 503 on what the load called (and on the rest of the API);
    // the hook list, answered from memory, does not get it.
    let doc: Value = api
        .root(Method::GET, "/openapi.json")
        .await
        .expect("openapi")
        .json()
        .await
        .expect("json");
    for (path, method) in [
        ("/api/v1/shows/{id}", "get"),
        ("/api/v1/bookings", "post"),
        ("/api/v1/chains", "get"),
    ] {
        let declared = &doc["paths"][path][method]["responses"]["503"];
        let description = declared["description"].as_str().unwrap_or_default();
        assert!(
            description.contains("database_unavailable"),
            "{method} {path} declares 503 database_unavailable: {declared}"
        );
    }
    assert!(doc["paths"]["/api/v1/hooks"]["get"]["responses"]["503"].is_null());

    // --- the email sweeper recovered: an email queued now is sent within seconds
    let subject = format!("after the restart {}", uuid::Uuid::new_v4().simple());
    let body = json!({"subject": subject, "content": "PostgreSQL came back.", "recipient_emails": ["ops@example.com"]});
    let queued = api
        .call(
            Method::POST,
            "/notifications",
            Some(&admin),
            Some(body),
            201,
        )
        .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !smtp.messages().iter().any(|m| m.data.contains(&subject)) {
        assert!(
            Instant::now() < deadline,
            "the email queued after the restart was not sent within 30 s ({queued})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut conn = PgConnection::connect(&pg.url("cineflow"))
        .await
        .expect("connect");

    // --- the bindings follower recovered: a binding written elsewhere reaches this replica
    sqlx::query(
        "insert into bindings (chain_id, hook, component_id, on_failure) values ($1::uuid, 'pricing', $2, 'reject')",
    )
    .bind(&venue.chain_id)
    .bind(&double)
    .execute(&mut conn)
    .await
    .expect("bind as another replica would");
    let customer = api.user("customer").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seats = (1..=50).map(|n| format!("{}-{n}", row_label(19)));
    loop {
        let seat = seats.next().expect("a free seat of the last row");
        let body = json!({"show_id": venue.show_id, "seat_ids": [seat]});
        let hold = api
            .call(Method::POST, "/bookings", Some(&customer), Some(body), 201)
            .await;
        if hold["total_minor"] == 2 * STANDARD {
            break;
        }
        // Released, so the default rules' cap of 10 unpaid seats never stops the loop.
        let release = format!("/bookings/{}/cancel", s(&hold, "id"));
        api.call(Method::POST, &release, Some(&customer), None, 200)
            .await;
        assert_eq!(hold["total_minor"], STANDARD, "{hold}");
        assert!(
            Instant::now() < deadline,
            "the binding written after the restart did not reach the replica within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The sweeper also recorded the send in the database it lost for a while.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status: String =
            sqlx::query_scalar("select status from notifications where id = $1::uuid")
                .bind(s(&queued, "id"))
                .fetch_one(&mut conn)
                .await
                .expect("the notification");
        if status == "sent" {
            break;
        }
        assert!(Instant::now() < deadline, "still {status} after delivery");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    conn.close().await.expect("close");

    let status = binary.terminate().await;
    assert!(
        status.success(),
        "graceful shutdown after an outage: {status}"
    );
}
