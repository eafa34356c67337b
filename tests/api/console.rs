//! The operator console: its files are served by the binary with a strict policy, and its
//! session is an HttpOnly cookie whose writes need the session's CSRF token.

use reqwest::Method;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::support::app::TestApp;
use crate::support::client::{PASSWORD, assert_problem, expect_json, expect_status, s};

/// Signs `email` in to the console: `(cookie header value, csrf token, Set-Cookie line)`.
async fn console_signin(app: &TestApp, email: &str) -> (String, String, String) {
    let res = app
        .post_json(
            "/auth/session",
            None,
            json!({"email": email, "password": PASSWORD}),
        )
        .await;
    let set_cookie = res
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no Set-Cookie on a console sign-in"));
    let body = expect_json(res, 200).await;
    let cookie = set_cookie
        .split(';')
        .next()
        .map(str::to_owned)
        .unwrap_or_default();
    (cookie, s(&body, "csrf_token"), set_cookie)
}

async fn with_cookie(
    app: &TestApp,
    method: Method,
    path: &str,
    cookie: &str,
    csrf: Option<&str>,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = app
        .client
        .request(method, app.api(path))
        .header(COOKIE, cookie);
    if let Some(token) = csrf {
        req = req.header("x-csrf-token", token);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    req.send().await.expect("request sent")
}

#[sqlx::test(migrations = "../migrations")]
async fn a_console_session_is_an_http_only_strict_cookie_and_reads_back(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, owner_email) = {
        let (_, token) = app.approved_owner("Console Owner").await;
        let me = app.get_ok("/users/me", Some(&token)).await;
        (token, s(&me, "email"))
    };
    let (cookie, csrf, set_cookie) = console_signin(&app, &owner_email).await;
    assert!(cookie.starts_with("cineflow_session="), "{set_cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(
            set_cookie.contains(attribute),
            "{attribute} missing: {set_cookie}"
        );
    }
    // The test server is plain http: no Secure (a browser would drop the cookie).
    assert!(!set_cookie.contains("Secure"), "{set_cookie}");
    assert!(!csrf.is_empty());

    let res = with_cookie(&app, Method::GET, "/auth/session", &cookie, None, None).await;
    let session = expect_json(res, 200).await;
    assert_eq!(session["user"]["email"], owner_email.as_str());
    assert_eq!(session["csrf_token"], csrf.as_str());
    assert!(session["expires_at"].is_string(), "{session}");

    // The cookie authenticates the API's reads like a bearer token.
    let res = with_cookie(&app, Method::GET, "/users/me", &cookie, None, None).await;
    let me = expect_json(res, 200).await;
    assert_eq!(me["email"], owner_email.as_str());

    // No cookie: 401 on the session, anonymous elsewhere.
    let res = app.get_auth("/auth/session", None).await;
    assert_problem(res, 401, "unauthorized").await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_cookie_write_needs_the_sessions_csrf_token_and_this_site(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, token) = app.approved_owner("Csrf Owner").await;
    let me = app.get_ok("/users/me", Some(&token)).await;
    let (cookie, csrf, _) = console_signin(&app, &s(&me, "email")).await;
    let chain = json!({"name": format!("Csrf Chain {}", uuid::Uuid::new_v4().simple()), "currency": "INR", "timezone": "Asia/Kolkata"});

    // Without the header, with another session's token, with garbage: refused, nothing made.
    let res = with_cookie(
        &app,
        Method::POST,
        "/chains",
        &cookie,
        None,
        Some(chain.clone()),
    )
    .await;
    assert_problem(res, 403, "csrf_failed").await;
    let (_, other_csrf, _) = {
        let (_, t) = app.approved_owner("Other Owner").await;
        let other = app.get_ok("/users/me", Some(&t)).await;
        console_signin(&app, &s(&other, "email")).await
    };
    let res = with_cookie(
        &app,
        Method::POST,
        "/chains",
        &cookie,
        Some(&other_csrf),
        Some(chain.clone()),
    )
    .await;
    assert_problem(res, 403, "csrf_failed").await;
    let res = with_cookie(
        &app,
        Method::POST,
        "/chains",
        &cookie,
        Some("garbage"),
        Some(chain.clone()),
    )
    .await;
    assert_problem(res, 403, "csrf_failed").await;
    let chains = app.get_ok("/chains", Some(&token)).await;
    assert_eq!(
        chains["items"].as_array().map(Vec::len),
        Some(0),
        "{chains}"
    );

    // With the right token but sent by another site's page (the browser says so): refused.
    let res = app
        .client
        .post(app.api("/chains"))
        .header(COOKIE, &cookie)
        .header("x-csrf-token", &csrf)
        .header("sec-fetch-site", "cross-site")
        .json(&chain)
        .send()
        .await
        .expect("request sent");
    assert_problem(res, 403, "csrf_failed").await;

    // From the console itself: done.
    let res = app
        .client
        .post(app.api("/chains"))
        .header(COOKIE, &cookie)
        .header("x-csrf-token", &csrf)
        .header("sec-fetch-site", "same-origin")
        .json(&chain)
        .send()
        .await
        .expect("request sent");
    expect_json(res, 201).await;

    // A bearer token needs no CSRF token (it is not sent by the browser on its own).
    let res = app
        .post_json(
            "/chains",
            Some(&token),
            json!({"name": format!("Bearer Chain {}", uuid::Uuid::new_v4().simple()), "currency": "INR", "timezone": "Asia/Kolkata"}),
        )
        .await;
    expect_json(res, 201).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn signing_out_clears_the_cookie_and_a_bad_cookie_is_401(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, token) = app.approved_owner("Signout Owner").await;
    let me = app.get_ok("/users/me", Some(&token)).await;
    let (cookie, _, _) = console_signin(&app, &s(&me, "email")).await;

    let res = with_cookie(&app, Method::DELETE, "/auth/session", &cookie, None, None).await;
    let cleared = res
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    expect_status(res, 204).await;
    assert!(cleared.starts_with("cineflow_session=;"), "{cleared}");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");

    let res = with_cookie(
        &app,
        Method::GET,
        "/users/me",
        "cineflow_session=not-a-token",
        None,
        None,
    )
    .await;
    assert_problem(res, 401, "unauthorized").await;

    // A sign-in posted by another site's page is refused before the password is checked.
    let res = app
        .client
        .post(app.api("/auth/session"))
        .header("sec-fetch-site", "cross-site")
        .json(&json!({"email": s(&me, "email"), "password": PASSWORD}))
        .send()
        .await
        .expect("request sent");
    assert_problem(res, 403, "csrf_failed").await;
    // Wrong password: the signin's own answer.
    let res = app
        .post_json(
            "/auth/session",
            None,
            json!({"email": s(&me, "email"), "password": "wrong-password-123"}),
        )
        .await;
    assert_problem(res, 401, "invalid_credentials").await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_console_is_served_with_a_strict_policy_and_revalidates(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let res = app
        .client
        .get(app.url("/console/"))
        .send()
        .await
        .expect("request sent");
    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(ct.starts_with("text/html"), "{ct}");
    let csp = headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(
        headers
            .get("x-content-type-options")
            .and_then(|v| v.to_str().ok()),
        Some("nosniff")
    );
    let html = res.text().await.expect("body");
    assert!(html.contains("/console/app.js"), "{html}");
    // No inline script anywhere in the shell.
    assert!(!html.contains("<script>"), "{html}");

    let res = app
        .client
        .get(app.url("/console/app.js"))
        .send()
        .await
        .expect("request sent");
    assert_eq!(res.status(), 200);
    let etag = res
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .expect("an ETag");
    let res = app
        .client
        .get(app.url("/console/app.js"))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("request sent");
    assert_eq!(res.status(), 304);

    let res = app
        .client
        .get(app.url("/console/../Cargo.toml"))
        .send()
        .await
        .expect("request sent");
    assert_ne!(res.status(), 200);
    let res = app
        .client
        .get(app.url("/console/no-such-file.js"))
        .send()
        .await
        .expect("request sent");
    assert_problem(res, 404, "not_found").await;
    let res = app
        .client
        .get(app.url("/console"))
        .send()
        .await
        .expect("request sent");
    // reqwest follows the redirect to the shell.
    assert_eq!(res.status(), 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn staff_me_lists_only_the_chains_the_caller_runs(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, mine) = app.approved_owner("Mine Owner").await;
    let (_, theirs) = app.approved_owner("Their Owner").await;
    let my_chain = app.chain(&mine, "My Chain").await;
    let their_chain = app.chain(&theirs, "Their Chain").await;

    let all = app.get_ok("/chains", None).await;
    let all_ids: Vec<String> = crate::support::client::ids(&all);
    assert!(all_ids.contains(&my_chain) && all_ids.contains(&their_chain));

    let page = app.get_ok("/chains?staff=me", Some(&mine)).await;
    assert_eq!(crate::support::client::ids(&page), vec![my_chain.clone()]);
    let page = app.get_ok("/chains?staff=me", Some(&theirs)).await;
    assert_eq!(
        crate::support::client::ids(&page),
        vec![their_chain.clone()]
    );
    let admin = app.admin_token().await;
    let page = app.get_ok("/chains?staff=me", Some(&admin)).await;
    assert_eq!(crate::support::client::ids(&page).len(), 2);
    let (_, customer) = app.customer("Chainless").await;
    let page = app.get_ok("/chains?staff=me", Some(&customer)).await;
    assert_eq!(crate::support::client::ids(&page).len(), 0);

    let res = app.get_auth("/chains?staff=me", None).await;
    assert_problem(res, 401, "unauthorized").await;
    let res = app.get_auth("/chains?staff=you", Some(&mine)).await;
    assert_problem(res, 422, "validation_failed").await;
}

#[sqlx::test(migrations = "../migrations")]
async fn chain_staff_read_their_chains_outbox_and_nobody_elses(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, owner) = app.approved_owner("Outbox Owner").await;
    let (_, other) = app.approved_owner("Outbox Other").await;
    let chain = app.chain(&owner, "Outbox Chain").await;
    let other_chain = app.chain(&other, "Other Outbox Chain").await;
    // A theatre's creation emails its chain's owner: one notification of this chain.
    app.theatre(&owner, &chain).await;
    app.theatre(&other, &other_chain).await;

    let page = app
        .get_ok(&format!("/notifications?chain_id={chain}"), Some(&owner))
        .await;
    let mine = crate::support::client::ids(&page);
    assert!(!mine.is_empty(), "{page}");
    let admin = app.admin_token().await;
    let all = app.get_ok("/notifications", Some(&admin)).await;
    let theirs = app
        .get_ok(
            &format!("/notifications?chain_id={other_chain}"),
            Some(&admin),
        )
        .await;
    for id in crate::support::client::ids(&theirs) {
        assert!(!mine.contains(&id), "another chain's email listed: {page}");
    }
    assert!(crate::support::client::ids(&all).len() >= mine.len());

    // Another chain's owner: 404; an owner without chain_id, or a customer: 403.
    let res = app
        .get_auth(&format!("/notifications?chain_id={chain}"), Some(&other))
        .await;
    assert_problem(res, 404, "not_found").await;
    let res = app.get_auth("/notifications", Some(&owner)).await;
    assert_problem(res, 403, "forbidden").await;
    let (_, customer) = app.customer("Outbox Customer").await;
    let res = app
        .get_auth(&format!("/notifications?chain_id={chain}"), Some(&customer))
        .await;
    assert_problem(res, 403, "forbidden").await;
}
