//! The holes closed in the isolation review (issue 13; docs/SECURITY.md lists each with its
//! fix): admin powers of unapproved admins, signin limits that locked accounts out and lived
//! in each process, unbounded signups and password hashing, rejected accounts signing in,
//! short JWT secrets, and idempotency keys that were never deleted.

use std::net::IpAddr;
use std::time::Duration;

use cineflow::app::App;
use cineflow::plugins::Limits;
use serde_json::json;
use sqlx::PgPool;

use crate::support::app::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, config};
use crate::support::client::{PASSWORD, assert_problem, email, expect_json, s};

/// An HTTP client whose connections come from `ip` (any 127.0.0.0/8 address is local on
/// Linux), so that one test can speak as several client addresses.
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().expect("ip"))
        .build()
        .expect("client")
}

async fn signin_from(
    app: &TestApp,
    client: &reqwest::Client,
    email: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(app.api("/auth/signin"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("request sent")
}

async fn signup_from(app: &TestApp, client: &reqwest::Client) -> reqwest::Response {
    client
        .post(app.api("/auth/signup"))
        .json(&json!({"name": "Flood", "email": email("flood"), "password": PASSWORD}))
        .send()
        .await
        .expect("request sent")
}

fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After in seconds: {:?}", res.headers()))
}

async fn spawn_with_signin_limits(pool: PgPool, per_email: u32, per_client: u32) -> TestApp {
    let mut cfg = config(Limits::default());
    cfg.signin_limits = (per_email, per_client);
    TestApp::spawn_config(pool, cfg).await
}

// ---------------------------------------------------------------------------------------
// 1. Admin powers need an approved admin

#[sqlx::test(migrations = "../migrations")]
async fn a_pending_or_rejected_admin_has_no_admin_powers_over_bookings_payments_audit_or_cancel(
    pool: PgPool,
) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Powers").await;
    let (customer_id, customer) = app.customer("Buyer").await;
    let booking = app.hold(&customer, &b.show_id, &["A-1"]).await;
    let payment = app.pay(&customer, &booking).await;
    let booking_id = s(&booking, "id");
    let payment_id = s(&payment, "id");

    // Two more admins: one pending, one rejected (the bootstrap admin stays approved).
    let mut unapproved = Vec::new();
    for status in ["pending", "rejected"] {
        let address = email(status);
        let user = app.signup("Admin?", &address, PASSWORD, "customer").await;
        app.set_user(&s(&user, "id"), json!({"role": "admin"}))
            .await;
        let token = app.signin(&address, PASSWORD).await;
        let after = app
            .set_user(&s(&user, "id"), json!({"status": status}))
            .await;
        assert_eq!(after["role"], "admin");
        unapproved.push((status, token));
    }
    for (status, token) in &unapproved {
        let token = Some(token.as_str());
        for path in [
            format!("/bookings/{booking_id}"),
            format!("/bookings/{booking_id}/audit"),
            format!("/payments/{payment_id}"),
        ] {
            let res = app.get_auth(&path, token).await;
            assert_eq!(res.status(), 404, "{status} admin, GET {path}");
        }
        // Lists show the caller's own rows only, whatever the filters ask for.
        let bookings = app
            .get_ok(&format!("/bookings?user_id={customer_id}"), token)
            .await;
        assert_eq!(bookings["items"], json!([]), "{status} admin: {bookings}");
        let payments = app.get_ok("/payments", token).await;
        assert_eq!(payments["items"], json!([]), "{status} admin: {payments}");
        let res = app
            .get_auth(&format!("/bookings?chain_id={}", b.venue.chain_id), token)
            .await;
        assert_eq!(res.status(), 404, "{status} admin, chain bookings");
        let res = app
            .get_auth(&format!("/payments?chain_id={}", b.venue.chain_id), token)
            .await;
        assert_eq!(res.status(), 404, "{status} admin, chain payments");
        assert_problem(
            app.cancel_booking(token, &booking_id).await,
            404,
            "not_found",
        )
        .await;
        assert_problem(app.get_auth("/users", token).await, 403, "forbidden").await;
        // Chain staff powers too: another chain's theatre is not theirs to change.
        let res = app
            .patch_json(
                &format!("/theatres/{}", b.venue.theatre_id),
                token,
                json!({"name": "Taken over"}),
            )
            .await;
        assert_problem(res, 403, "forbidden").await;
    }

    // The approved admin still has every one of these powers.
    let admin = app.admin_token().await;
    let admin = Some(admin.as_str());
    app.get_ok(&format!("/bookings/{booking_id}/audit"), admin)
        .await;
    app.get_ok(&format!("/payments/{payment_id}"), admin).await;
    let all = app
        .get_ok(&format!("/bookings?user_id={customer_id}"), admin)
        .await;
    assert_eq!(all["items"].as_array().map(Vec::len), Some(1), "{all}");
    let cancelled = expect_json(app.cancel_booking(admin, &booking_id).await, 200).await;
    assert_eq!(cancelled["status"], "cancelled");
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// 2. Signin limits count failures, in PostgreSQL

#[sqlx::test(migrations = "../migrations")]
async fn failed_signins_from_one_address_do_not_lock_the_account_out_for_another(pool: PgPool) {
    let app = spawn_with_signin_limits(pool, 3, 1000).await;
    let attacker = client_from("127.0.0.2");
    let owner = client_from("127.0.0.1");
    for _ in 0..3 {
        let res = signin_from(&app, &attacker, ADMIN_EMAIL, "Wrong-Password-1").await;
        assert_problem(res, 401, "invalid_credentials").await;
    }
    let res = signin_from(&app, &attacker, ADMIN_EMAIL, "Wrong-Password-1").await;
    assert!((1..=60).contains(&retry_after(&res)));
    assert_problem(res, 429, "rate_limited").await;
    // The attacker's address is refused even with the right password: no guessing through.
    let res = signin_from(&app, &attacker, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_problem(res, 429, "rate_limited").await;

    // The admin, from an address without failures, signs in, and again.
    for _ in 0..3 {
        expect_json(
            signin_from(&app, &owner, ADMIN_EMAIL, ADMIN_PASSWORD).await,
            200,
        )
        .await;
    }
    // While the account is under attack each address gets one failure a minute on it.
    let third = client_from("127.0.0.3");
    let res = signin_from(&app, &third, ADMIN_EMAIL, "Wrong-Password-2").await;
    assert_problem(res, 401, "invalid_credentials").await;
    let res = signin_from(&app, &third, ADMIN_EMAIL, "Wrong-Password-3").await;
    assert_problem(res, 429, "rate_limited").await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn correct_passwords_do_not_count_against_the_signin_limits(pool: PgPool) {
    let app = spawn_with_signin_limits(pool, 2, 2).await;
    for _ in 0..6 {
        app.admin_token().await;
    }
    // Failures still count: two for this email from this address, then 429.
    for _ in 0..2 {
        let res = app
            .post_json(
                "/auth/signin",
                None,
                json!({"email": ADMIN_EMAIL, "password": "Wrong-Password-1"}),
            )
            .await;
        assert_problem(res, 401, "invalid_credentials").await;
    }
    let res = app
        .post_json(
            "/auth/signin",
            None,
            json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
        )
        .await;
    assert_problem(res, 429, "rate_limited").await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn signin_limits_hold_across_replicas(pool: PgPool) {
    let a = spawn_with_signin_limits(pool.clone(), 3, 1000).await;
    let b = spawn_with_signin_limits(pool, 3, 1000).await;
    let address = email("target");
    a.signup("Target", &address, PASSWORD, "customer").await;
    for app in [&a, &b, &a] {
        let res = app
            .post_json(
                "/auth/signin",
                None,
                json!({"email": address, "password": "Wrong-Password-1"}),
            )
            .await;
        assert_problem(res, 401, "invalid_credentials").await;
    }
    for app in [&b, &a] {
        let res = app
            .post_json(
                "/auth/signin",
                None,
                json!({"email": address, "password": "Wrong-Password-1"}),
            )
            .await;
        assert_problem(res, 429, "rate_limited").await;
    }
    a.stop().await;
    b.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_signin_limiter_stores_fixed_size_digests_and_never_an_overlong_email(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let huge = format!("{}@example.com", "a".repeat(100_000));
    let res = app
        .post_json(
            "/auth/signin",
            None,
            json!({"email": huge, "password": "Wrong-Password-1"}),
        )
        .await;
    assert_problem(res, 401, "invalid_credentials").await;
    let rows: i64 = sqlx::query_scalar("select count(*) from auth_limits")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(rows, 0, "an overlong email is refused before the limiter");

    let address = email("known");
    let res = app
        .post_json(
            "/auth/signin",
            None,
            json!({"email": address, "password": "Wrong-Password-1"}),
        )
        .await;
    assert_problem(res, 401, "invalid_credentials").await;
    let keys: Vec<(String, Vec<u8>)> = sqlx::query_as("select scope, key from auth_limits")
        .fetch_all(&pool)
        .await
        .expect("rows");
    assert_eq!(
        keys.len(),
        3,
        "client, email and email-from-client: {keys:?}"
    );
    for (scope, key) in &keys {
        assert_eq!(key.len(), 32, "{scope}");
        assert!(
            !String::from_utf8_lossy(key).contains("known"),
            "{scope} stores a digest, not the address"
        );
    }
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// 3. Signups are limited and password hashing is bounded

#[sqlx::test(migrations = "../migrations")]
async fn signups_are_rate_limited_per_client_address(pool: PgPool) {
    let mut cfg = config(Limits::default());
    cfg.signup_per_client = 2;
    let app = TestApp::spawn_config(pool, cfg).await;
    let first = client_from("127.0.0.1");
    for _ in 0..2 {
        expect_json(signup_from(&app, &first).await, 201).await;
    }
    let res = signup_from(&app, &first).await;
    assert!((1..=60).contains(&retry_after(&res)));
    assert_problem(res, 429, "rate_limited").await;
    // Another address has its own budget.
    expect_json(signup_from(&app, &client_from("127.0.0.2")).await, 201).await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn password_hashing_beyond_its_bound_is_503_busy_and_does_not_count_as_a_failure(
    pool: PgPool,
) {
    let mut cfg = config(Limits::default());
    cfg.password_hash_concurrency = 1;
    cfg.password_hash_wait = Duration::ZERO;
    let app = TestApp::spawn_config(pool, cfg).await;
    assert_eq!(app.state.passwords.concurrency(), 1);
    let attempts = (0..12).map(|i| {
        let app = &app;
        async move {
            if i % 2 == 0 {
                signup_from(app, &app.client).await
            } else {
                app.post_json(
                    "/auth/signin",
                    None,
                    json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
                )
                .await
            }
        }
    });
    let answers = futures_util::future::join_all(attempts).await;
    let (mut ok, mut busy) = (0, 0);
    for res in answers {
        match res.status().as_u16() {
            200 | 201 => ok += 1,
            503 => {
                assert!(retry_after(&res) >= 1);
                assert_problem(res, 503, "busy").await;
                busy += 1;
            }
            other => panic!(
                "unexpected {other}: {}",
                res.text().await.unwrap_or_default()
            ),
        }
    }
    assert!(ok >= 1 && busy >= 1, "ok {ok}, busy {busy}");
    assert_eq!(app.state.passwords.in_use(), 0);
    // Neither the busy nor the successful signins count as failures.
    let failures: i64 = sqlx::query_scalar(
        "select coalesce(sum(hits), 0) from auth_limits where scope like 'signin-%'",
    )
    .fetch_one(&app.state.db)
    .await
    .expect("sum");
    assert_eq!(failures, 0);
    app.admin_token().await;
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// 4. A rejected account cannot sign in

#[sqlx::test(migrations = "../migrations")]
async fn a_rejected_account_is_refused_at_signin_but_only_with_the_right_password(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    // A pending owner signs in to see its status.
    let (owner_id, owner_email, _) = app.pending_owner("Hopeful").await;
    let (customer_id, customer_email, _) = app.customer_with_email("Banned").await;
    for (id, address) in [(&owner_id, &owner_email), (&customer_id, &customer_email)] {
        app.set_user(id, json!({"status": "rejected"})).await;
        let res = app
            .post_json(
                "/auth/signin",
                None,
                json!({"email": address, "password": PASSWORD}),
            )
            .await;
        let body = assert_problem(res, 403, "account_rejected").await;
        assert!(body.get("access_token").is_none());
        // Without the password a rejected account looks like every other.
        let res = app
            .post_json(
                "/auth/signin",
                None,
                json!({"email": address, "password": "Wrong-Password-1"}),
            )
            .await;
        assert_problem(res, 401, "invalid_credentials").await;
    }
    // Approved again, it signs in.
    app.set_user(&owner_id, json!({"status": "approved"})).await;
    app.signin(&owner_email, PASSWORD).await;
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// 5. The JWT secret has at least 32 bytes

#[sqlx::test(migrations = "../migrations")]
async fn the_app_refuses_a_jwt_secret_shorter_than_32_bytes(pool: PgPool) {
    let mut cfg = config(Limits::default());
    cfg.jwt_secret = Some("s".repeat(31));
    let Err(err) = App::build_with_pool(cfg, pool.clone()).await else {
        panic!("the app started with a 31-byte JWT secret");
    };
    let message = format!("{err:#}");
    assert!(
        message.contains("CINEFLOW_JWT_SECRET") && message.contains("32"),
        "the error names the variable and the minimum: {message}"
    );
    let mut cfg = config(Limits::default());
    cfg.jwt_secret = Some("s".repeat(32));
    App::build_with_pool(cfg, pool)
        .await
        .expect("32 bytes are enough");
}

// ---------------------------------------------------------------------------------------
// 6. Housekeeping: idempotency keys expire after 24 h, ended limit windows go

#[sqlx::test(migrations = "../migrations")]
async fn housekeeping_deletes_idempotency_keys_older_than_a_day_and_ended_limit_windows(
    pool: PgPool,
) {
    let app = TestApp::spawn(pool.clone()).await;
    let (customer_id, _) = app.customer("Keys").await;
    app.stop().await;
    // Only the rows below: the signup and signin above counted in windows of their own.
    sqlx::query("delete from auth_limits")
        .execute(&pool)
        .await
        .expect("emptied");
    let user = uuid::Uuid::parse_str(&customer_id).expect("uuid");
    for (key, age_hours) in [("old", 25), ("recent", 23), ("new", 0)] {
        sqlx::query(
            "insert into idempotency_keys (user_id, key, request, status_code, response, created_at)
             values ($1, $2, 'POST /api/v1/bookings', 201, '{}', now() - make_interval(hours => $3))",
        )
        .bind(user)
        .bind(key)
        .bind(age_hours)
        .execute(&pool)
        .await
        .expect("key inserted");
    }
    for (byte, ends_in_secs) in [(1u8, -5.0f64), (2, 30.0)] {
        sqlx::query(
            "insert into auth_limits (scope, key, hits, window_ends_at)
             values ('signin-client', $1, 3, now() + make_interval(secs => $2))",
        )
        .bind(vec![byte; 32])
        .bind(ends_in_secs)
        .execute(&pool)
        .await
        .expect("window inserted");
    }

    let swept = cineflow::housekeeping::sweep_once(&pool)
        .await
        .expect("sweep");
    assert_eq!(swept.idempotency_keys, 1);
    assert_eq!(swept.limit_windows, 1);
    let keys: Vec<String> = sqlx::query_scalar("select key from idempotency_keys order by key")
        .fetch_all(&pool)
        .await
        .expect("keys");
    assert_eq!(keys, ["new", "recent"]);
    let windows: Vec<Vec<u8>> = sqlx::query_scalar("select key from auth_limits")
        .fetch_all(&pool)
        .await
        .expect("windows");
    assert_eq!(windows, [vec![2u8; 32]]);
    // A second sweep finds nothing more.
    let again = cineflow::housekeeping::sweep_once(&pool)
        .await
        .expect("sweep");
    assert_eq!((again.idempotency_keys, again.limit_windows), (0, 0));
}

// ---------------------------------------------------------------------------------------
// The OpenAPI document declares the new answers

#[sqlx::test(migrations = "../migrations")]
async fn the_openapi_document_declares_the_new_refusals(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let doc: serde_json::Value = app.get("/openapi.json").await.json().await.expect("json");
    for (path, statuses) in [
        ("/api/v1/auth/signin", &["401", "403", "429", "503"][..]),
        ("/api/v1/auth/signup", &["409", "429", "503"][..]),
        ("/api/v1/auth/password", &["403", "503"][..]),
    ] {
        let responses = &doc["paths"][path]["post"]["responses"];
        for status in statuses {
            assert!(
                responses[status].is_object(),
                "POST {path} declares {status}"
            );
        }
    }
    let signin = &doc["paths"]["/api/v1/auth/signin"]["post"]["responses"];
    let text = signin.to_string();
    for code in ["account_rejected", "rate_limited", "busy"] {
        assert!(text.contains(code), "signin names `{code}`: {text}");
    }
    app.stop().await;
}
