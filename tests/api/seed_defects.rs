//! One test per defect of the original system (docs/original-system.md) that accounts,
//! chains and the catalogue fix, named after it.

use std::collections::HashSet;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::support::app::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp};
use crate::support::client::{
    PASSWORD, assert_invalid, assert_problem, base_time, email, expect_json, expect_status, ids,
    movie_body, s, screen_body, show_body, theatre_body, unique,
};

/// Every status a request got must be below 500.
fn assert_not_5xx(status: u16, what: &str) {
    assert!(status < 500, "{what}: server error {status}");
}

// ---------------------------------------------------------------------------------------
// S1: self-service admin, pending owners acting as owners

#[sqlx::test(migrations = "../migrations")]
async fn s1_self_service_admin_is_impossible(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for role in ["admin", "ADMIN", "Admin"] {
        let address = email("mallory");
        let res = app
            .post_json(
                "/auth/signup",
                None,
                json!({"name": "Mallory", "email": address, "password": PASSWORD, "role": role}),
            )
            .await;
        assert_invalid(res, "role").await;
        // No account was created.
        let res = app
            .post_json(
                "/auth/signin",
                None,
                json!({"email": address, "password": PASSWORD}),
            )
            .await;
        assert_problem(res, 401, "invalid_credentials").await;
    }
    let res = app
        .post_json(
            "/auth/signup",
            None,
            json!({"name": "Mallory", "email": email("m"), "password": PASSWORD, "userRole": "ADMIN"}),
        )
        .await;
    assert_problem(res, 400, "bad_request").await;
    // The only admin is the bootstrapped one.
    let admin = app.admin_token().await;
    let admins = app.get_ok("/users?role=admin", Some(&admin)).await;
    assert_eq!(admins["items"].as_array().expect("items").len(), 1);
    assert_eq!(admins["items"][0]["email"], ADMIN_EMAIL);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn s1_pending_owner_has_no_owner_capabilities(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let v = app.venue("Real").await;
    let (_, _, pending) = app.pending_owner("Pending").await;
    let checks: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::POST,
            "/chains".into(),
            Some(json!({"name": unique("P"), "currency": "INR", "timezone": "Asia/Kolkata"})),
        ),
        (
            Method::POST,
            "/movies".into(),
            Some(movie_body("Pending Film")),
        ),
        (
            Method::PATCH,
            format!("/movies/{}", v.movie_id),
            Some(json!({"title": "Hijacked"})),
        ),
        (
            Method::POST,
            "/theatres".into(),
            Some(theatre_body(&v.chain_id, "Pending Hall", "Goa")),
        ),
        (
            Method::POST,
            "/shows".into(),
            Some(show_body(&v.screen_id, &v.movie_id, base_time(9))),
        ),
        (Method::GET, "/users".into(), None),
    ];
    for (method, path, body) in &checks {
        let res = app
            .request(method.clone(), path, Some(&pending), body.clone())
            .await;
        assert_problem(res, 403, "forbidden").await;
    }

    // A member whose approval is withdrawn loses the chain's capabilities too.
    app.set_user(&v.owner_id, json!({"status": "rejected"}))
        .await;
    let member_checks: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::POST,
            "/theatres".into(),
            Some(theatre_body(&v.chain_id, "Rejected Hall", "Goa")),
        ),
        (
            Method::PATCH,
            format!("/theatres/{}", v.theatre_id),
            Some(json!({"name": "Rejected"})),
        ),
        (
            Method::POST,
            format!("/theatres/{}/screens", v.theatre_id),
            Some(screen_body("Rejected")),
        ),
        (
            Method::POST,
            "/shows".into(),
            Some(show_body(&v.screen_id, &v.movie_id, base_time(9))),
        ),
        (
            Method::POST,
            "/movies".into(),
            Some(movie_body("Rejected Film")),
        ),
    ];
    for (method, path, body) in &member_checks {
        let res = app
            .request(method.clone(), path, Some(&v.token), body.clone())
            .await;
        assert_problem(res, 403, "forbidden").await;
    }
    let theatre = app
        .get_ok(&format!("/theatres/{}", v.theatre_id), None)
        .await;
    assert_ne!(theatre["name"], "Rejected");
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// S2: mass assignment

#[sqlx::test(migrations = "../migrations")]
async fn s2_mass_assignment_fields_are_rejected(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let v = app.venue("Mass").await;
    let admin = app.admin_token().await;
    let show = app
        .show(&v.token, &v.screen_id, &v.movie_id, base_time(7))
        .await;
    let show_id = s(&show, "id");
    let other_chain = app.chain(&v.token, "Other").await;

    let signup = |extra: Value| {
        let mut body =
            json!({"name": "Eve", "email": email("eve"), "password": PASSWORD, "role": "owner"});
        for (k, val) in extra.as_object().expect("object") {
            body[k] = val.clone();
        }
        body
    };
    let mut theatre = theatre_body(&v.chain_id, "Smuggler", "Goa");
    theatre["owner_id"] = json!(v.owner_id);
    let mut movie = movie_body("Smuggled");
    movie["created_at"] = json!("2020-01-01T00:00:00Z");
    let mut new_show = show_body(&v.screen_id, &v.movie_id, base_time(8));
    new_show["chain_id"] = json!(other_chain);
    let mut status_show = show_body(&v.screen_id, &v.movie_id, base_time(9));
    status_show["status"] = json!("cancelled");

    let cases: Vec<(Method, String, &str, Value)> = vec![
        (
            Method::POST,
            "/auth/signup".into(),
            "",
            signup(json!({"status": "approved"})),
        ),
        (
            Method::POST,
            "/auth/signup".into(),
            "",
            signup(json!({"id": uuid::Uuid::now_v7()})),
        ),
        (
            Method::POST,
            "/auth/signup".into(),
            "",
            signup(json!({"password_hash": "$argon2id$v=19$m=1,t=1,p=1$AAAA$AAAA"})),
        ),
        (Method::POST, "/theatres".into(), "owner", theatre),
        (
            Method::PATCH,
            format!("/theatres/{}", v.theatre_id),
            "owner",
            json!({"chain_id": other_chain}),
        ),
        (
            Method::PATCH,
            format!("/theatres/{}", v.theatre_id),
            "owner",
            json!({"movies": [v.movie_id]}),
        ),
        (Method::POST, "/movies".into(), "owner", movie),
        (
            Method::PATCH,
            format!("/movies/{}", v.movie_id),
            "owner",
            json!({"id": uuid::Uuid::now_v7()}),
        ),
        (Method::POST, "/shows".into(), "owner", new_show),
        (Method::POST, "/shows".into(), "owner", status_show),
        (
            Method::PATCH,
            format!("/shows/{show_id}"),
            "owner",
            json!({"status": "cancelled"}),
        ),
        (
            Method::PATCH,
            format!("/shows/{show_id}"),
            "owner",
            json!({"movie_id": v.movie_id}),
        ),
        (
            Method::PATCH,
            format!("/users/{}", v.owner_id),
            "admin",
            json!({"status": "approved", "email": "taken@example.com"}),
        ),
        (
            Method::POST,
            "/chains".into(),
            "owner",
            json!({"name": unique("C"), "currency": "INR", "timezone": "Asia/Kolkata", "owner_id": v.owner_id}),
        ),
        (
            Method::POST,
            format!("/theatres/{}/screens", v.theatre_id),
            "owner",
            {
                let mut b = screen_body("Smuggled");
                b["chain_id"] = json!(other_chain);
                b
            },
        ),
    ];
    for (method, path, who, body) in cases {
        let token = match who {
            "owner" => Some(v.token.as_str()),
            "admin" => Some(admin.as_str()),
            _ => None,
        };
        let res = app
            .request(method.clone(), &path, token, Some(body.clone()))
            .await;
        let got = res.status().as_u16();
        let text = res.text().await.expect("body");
        assert_eq!(got, 400, "{method} {path} with {body}: {text}");
        let problem: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(problem["code"], "bad_request", "{text}");
    }

    // Nothing moved.
    let theatre = app
        .get_ok(&format!("/theatres/{}", v.theatre_id), None)
        .await;
    assert_eq!(theatre["chain_id"], v.chain_id);
    assert_eq!(app.get_ok(&format!("/shows/{show_id}"), None).await, show);
    let shows = app
        .get_ok(&format!("/shows?theatre_id={}", v.theatre_id), None)
        .await;
    assert_eq!(ids(&shows), vec![show_id]);
    let approved = app
        .get_ok("/users?role=owner&status=approved", Some(&admin))
        .await;
    assert_eq!(ids(&approved), vec![v.owner_id.clone()]);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// S3: missing ownership checks

#[sqlx::test(migrations = "../migrations")]
async fn s3_owner_cannot_touch_another_chains_theatre(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let a = app.venue("Alpha").await;
    let b = app.venue("Beta").await;
    let before = app
        .get_ok(&format!("/theatres/{}", a.theatre_id), None)
        .await;
    let show = app
        .show(&a.token, &a.screen_id, &a.movie_id, base_time(7))
        .await;
    let show_path = format!("/shows/{}", s(&show, "id"));
    let theatre_path = format!("/theatres/{}", a.theatre_id);

    assert_problem(
        app.patch_json(&theatre_path, Some(&b.token), json!({"name": "Mine now"}))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.delete(&theatre_path, Some(&b.token)).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.post_json(
            "/theatres",
            Some(&b.token),
            theatre_body(&a.chain_id, "Annex", "Goa"),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.patch_json(
            &show_path,
            Some(&b.token),
            json!({"prices": {"standard": 1, "premium": 1}}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.delete(&show_path, Some(&b.token)).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.post_json(
            &format!("/theatres/{}/movies", a.theatre_id),
            Some(&b.token),
            json!({"movie_ids": [b.movie_id]}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.post_json(
            &format!("/chains/{}/members", a.chain_id),
            Some(&b.token),
            json!({"user_id": b.owner_id}),
        )
        .await,
        404,
        "not_found",
    )
    .await;

    assert_eq!(app.get_ok(&theatre_path, None).await, before);
    assert_eq!(app.get_ok(&show_path, None).await, show);
    // A's owner still can.
    let res = app
        .patch_json(
            &theatre_path,
            Some(&a.token),
            json!({"name": "Renamed by A"}),
        )
        .await;
    assert_eq!(expect_json(res, 200).await["name"], "Renamed by A");
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// S4: unauthenticated writes

#[sqlx::test(migrations = "../migrations")]
async fn s4_now_showing_list_needs_auth(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let v = app.venue("Auth").await;
    let another = app.movie(&v.token).await;
    let path = format!("/theatres/{}/movies", v.theatre_id);
    assert_problem(
        app.post_json(&path, None, json!({"movie_ids": [another]}))
            .await,
        401,
        "unauthorized",
    )
    .await;
    assert_problem(
        app.delete(&format!("{path}/{}", v.movie_id), None).await,
        401,
        "unauthorized",
    )
    .await;
    assert_problem(
        app.request(
            Method::PATCH,
            &path,
            None,
            Some(json!({"movie_ids": [another]})),
        )
        .await,
        405,
        "method_not_allowed",
    )
    .await;
    let list = app.get_ok(&path, None).await;
    assert_eq!(ids(&list), vec![v.movie_id.clone()]);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// S5: password hashes in responses

#[sqlx::test(migrations = "../migrations")]
async fn s5_password_hash_never_returned(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let address = email("hash");
    let mut texts: Vec<(String, String)> = Vec::new();

    let res = app
        .post_json(
            "/auth/signup",
            None,
            json!({"name": "Hash", "email": address, "password": PASSWORD, "role": "owner"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let text = res.text().await.expect("body");
    let id = s(&serde_json::from_str(&text).expect("json"), "id");
    texts.push(("signup".into(), text));

    let res = app
        .post_json(
            "/auth/signin",
            None,
            json!({"email": address, "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.expect("body");
    let token = s(&serde_json::from_str(&text).expect("json"), "access_token");
    texts.push(("signin".into(), text));

    let res = app.get_auth("/users/me", Some(&token)).await;
    assert_eq!(res.status(), 200);
    texts.push(("me".into(), res.text().await.expect("body")));

    let admin = app.admin_token().await;
    let res = app.get_auth("/users", Some(&admin)).await;
    assert_eq!(res.status(), 200);
    texts.push(("users".into(), res.text().await.expect("body")));

    let res = app
        .patch_json(
            &format!("/users/{id}"),
            Some(&admin),
            json!({"status": "approved"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    texts.push(("patch user".into(), res.text().await.expect("body")));

    let res = app
        .post_json(
            "/auth/signin",
            None,
            json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 200);
    texts.push(("admin signin".into(), res.text().await.expect("body")));

    let owner = app.signin(&address, PASSWORD).await;
    let chain = app.chain(&owner, "Hashless").await;
    let res = app
        .get_auth(&format!("/chains/{chain}/members"), Some(&owner))
        .await;
    assert_eq!(res.status(), 200);
    texts.push(("members".into(), res.text().await.expect("body")));

    let res = app
        .post_json(
            "/auth/signin",
            None,
            json!({"email": address, "password": "Wrong-Password-1"}),
        )
        .await;
    assert_eq!(res.status(), 401);
    texts.push(("failed signin".into(), res.text().await.expect("body")));

    for (what, text) in &texts {
        let lower = text.to_lowercase();
        assert!(!lower.contains("argon2"), "{what} leaks a hash: {text}");
        // Successful answers have no password-ish field at all (an error may say
        // "the password is wrong").
        if !what.starts_with("failed") {
            assert!(
                !lower.contains("password"),
                "{what} mentions a password: {text}"
            );
        }
        assert!(
            !text.contains(PASSWORD),
            "{what} echoes the password: {text}"
        );
    }

    // The database does keep an argon2id hash, not the password.
    let (hash,): (String,) = sqlx::query_as("select password_hash from users where id = $1")
        .bind(uuid::Uuid::parse_str(&id).expect("uuid"))
        .fetch_one(&pool)
        .await
        .expect("user row");
    assert!(hash.starts_with("$argon2id$"), "stored hash: {hash}");
    assert!(!hash.contains(PASSWORD));
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// S6: user enumeration and brute force

#[sqlx::test(migrations = "../migrations")]
async fn s6_signin_does_not_reveal_which_emails_exist(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let address = email("exists");
    app.signup("Exists", &address, PASSWORD, "customer").await;
    let wrong_password = app
        .post_json(
            "/auth/signin",
            None,
            json!({"email": address, "password": "Wrong-Password-1"}),
        )
        .await;
    let wrong_password = assert_problem(wrong_password, 401, "invalid_credentials").await;
    let unknown = app
        .post_json(
            "/auth/signin",
            None,
            json!({"email": email("ghost"), "password": "Wrong-Password-1"}),
        )
        .await;
    let unknown = assert_problem(unknown, 401, "invalid_credentials").await;
    assert_eq!(
        wrong_password, unknown,
        "the two failures must be indistinguishable"
    );
    let text = wrong_password.to_string();
    assert!(!text.contains(&address), "{text}");
    assert!(!text.contains("Exists"), "{text}");

    // Signup does not leak it by name either (names need not be unique).
    app.signup("Exists", &email("other"), PASSWORD, "customer")
        .await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn s6_signin_is_rate_limited(pool: PgPool) {
    let app = TestApp::spawn_with_signin_limit(pool, 3).await;
    let address = email("brute");
    app.signup("Brute", &address, PASSWORD, "customer").await;
    let attempt = |password: &'static str, who: String| {
        let app = &app;
        async move {
            app.post_json(
                "/auth/signin",
                None,
                json!({"email": who, "password": password}),
            )
            .await
        }
    };
    for _ in 0..3 {
        let res = attempt("Wrong-Password-1", address.clone()).await;
        assert_problem(res, 401, "invalid_credentials").await;
    }
    let res = attempt("Wrong-Password-1", address.clone()).await;
    let retry_after = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().expect("ascii").to_owned());
    assert_problem(res, 429, "rate_limited").await;
    let secs: u64 = retry_after
        .expect("Retry-After header")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&secs), "Retry-After {secs}");
    // The right password is refused too while limited: no guessing through the limit.
    let res = attempt(PASSWORD, address.clone()).await;
    assert_problem(res, 429, "rate_limited").await;
    // Another email is unaffected.
    let other = email("innocent");
    app.signup("Innocent", &other, PASSWORD, "customer").await;
    let res = attempt(PASSWORD, other).await;
    expect_json(res, 200).await;
    // Upper-casing the email does not dodge the per-email limit.
    let res = attempt("Wrong-Password-1", address.to_uppercase()).await;
    assert_problem(res, 429, "rate_limited").await;
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// S7: tokens

fn forge(secret: &[u8], sub: &str, exp_offset_secs: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    sign(
        secret,
        &json!({
            "sub": sub,
            "ver": 0,
            "iat": now,
            "exp": now + exp_offset_secs,
            "iss": "cineflow",
        }),
    )
}

/// The secret the test app signs its tokens with.
fn test_secret() -> Vec<u8> {
    crate::support::app::config(cineflow::plugins::Limits::default())
        .jwt_secret
        .expect("the test config sets a JWT secret")
        .into_bytes()
}

fn sign(secret: &[u8], claims: &Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .expect("encode")
}

fn unsigned(sub: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT"}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(
        json!({"sub": sub, "ver": 0, "iat": now, "exp": now + 3600, "iss": "cineflow"}).to_string(),
    );
    format!("{header}.{payload}.")
}

#[sqlx::test(migrations = "../migrations")]
async fn s7_expired_token_is_401(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let address = email("tok");
    let user = app.signup("Tok", &address, PASSWORD, "customer").await;
    let sub = s(&user, "id");
    let real = app.signin(&address, PASSWORD).await;

    // A real token with its payload swapped for an expired one (signature no longer matches),
    // tokens signed with another secret (valid and expired), an unsigned one, and garbage.
    let parts: Vec<&str> = real.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT has three parts: {real}");
    let now = chrono::Utc::now().timestamp();
    let expired_payload = URL_SAFE_NO_PAD.encode(
        json!({"sub": sub, "ver": 0, "iat": now - 7200, "exp": now - 3600, "iss": "cineflow"})
            .to_string(),
    );
    let tampered = format!("{}.{}.{}", parts[0], expired_payload, parts[2]);
    // Change the signature's first character (a whole 6 bits of the MAC).
    let first = parts[2].chars().next().expect("a signature");
    let flipped = format!(
        "{}.{}.{}{}",
        parts[0],
        parts[1],
        if first == 'A' { 'B' } else { 'A' },
        &parts[2][1..]
    );

    // Signed with the app's own secret: a good token works; expired, wrong issuer, no
    // expiry or an unknown user do not.
    let secret = test_secret();
    let good = forge(&secret, &sub, 3600);
    app.get_ok("/users/me", Some(&good)).await;
    let expired = forge(&secret, &sub, -120);
    let wrong_issuer = sign(
        &secret,
        &json!({"sub": sub, "ver": 0, "iat": now, "exp": now + 3600, "iss": "someone-else"}),
    );
    let no_expiry = sign(
        &secret,
        &json!({"sub": sub, "ver": 0, "iat": now, "iss": "cineflow"}),
    );
    let unknown_user = forge(&secret, &uuid::Uuid::now_v7().to_string(), 3600);

    let tokens = [
        expired,
        wrong_issuer,
        no_expiry,
        unknown_user,
        tampered,
        flipped,
        forge(b"other", &sub, 3600),
        forge(b"other", &sub, -3600),
        unsigned(&sub),
        "garbage".to_owned(),
        "a.b.c".to_owned(),
        String::new(),
    ];
    for token in &tokens {
        let res = app
            .client
            .get(app.api("/users/me"))
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await
            .expect("sent");
        let status = res.status().as_u16();
        assert_eq!(status, 401, "token {token:?}");
        assert_problem(res, 401, "unauthorized").await;
    }
    // The real one still works.
    app.get_ok("/users/me", Some(&real)).await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn s7_missing_token_is_401_and_wrong_role_is_403(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (owner_id, owner) = app.approved_owner("Owner").await;
    let (_, customer) = app.customer("Cust").await;
    // Missing token → 401, not 403.
    for (method, path, body) in [
        (Method::GET, "/users/me".to_owned(), None),
        (Method::GET, "/users".to_owned(), None),
        (
            Method::PATCH,
            format!("/users/{owner_id}"),
            Some(json!({"status": "rejected"})),
        ),
        (Method::POST, "/movies".to_owned(), Some(movie_body("X"))),
        (
            Method::POST,
            "/auth/password".to_owned(),
            Some(json!({"old_password": PASSWORD, "new_password": "Another-One-99"})),
        ),
    ] {
        let res = app.request(method, &path, None, body).await;
        assert_problem(res, 401, "unauthorized").await;
    }
    // Authenticated with the wrong role → 403, not 401.
    for token in [&owner, &customer] {
        assert_problem(app.get_auth("/users", Some(token)).await, 403, "forbidden").await;
        assert_problem(
            app.patch_json(
                &format!("/users/{owner_id}"),
                Some(token),
                json!({"status": "rejected"}),
            )
            .await,
            403,
            "forbidden",
        )
        .await;
    }
    let movie = app.movie(&owner).await;
    assert_problem(
        app.delete(&format!("/movies/{movie}"), Some(&owner)).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.post_json("/movies", Some(&customer), movie_body("Y"))
            .await,
        403,
        "forbidden",
    )
    .await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn s7_password_change_revokes_old_tokens(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let address = email("revoke");
    app.signup("Rev", &address, PASSWORD, "owner").await;
    let first = app.signin(&address, PASSWORD).await;
    let second = app.signin(&address, PASSWORD).await;
    let new_password = "Fresh-Password-2026";
    let res = app
        .post_json(
            "/auth/password",
            Some(&second),
            json!({"old_password": PASSWORD, "new_password": new_password}),
        )
        .await;
    expect_status(res, 204).await;
    for old in [&first, &second] {
        assert_problem(
            app.get_auth("/users/me", Some(old)).await,
            401,
            "unauthorized",
        )
        .await;
        // Nor can an old token change the password again.
        assert_problem(
            app.post_json(
                "/auth/password",
                Some(old),
                json!({"old_password": new_password, "new_password": "Third-Password-33"}),
            )
            .await,
            401,
            "unauthorized",
        )
        .await;
    }
    let res = app
        .post_json(
            "/auth/signin",
            None,
            json!({"email": address, "password": PASSWORD}),
        )
        .await;
    assert_problem(res, 401, "invalid_credentials").await;
    let fresh = app.signin(&address, new_password).await;
    let me = app.get_ok("/users/me", Some(&fresh)).await;
    assert_eq!(me["email"], address);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// S8: odd uniqueness, narrow email regex

#[sqlx::test(migrations = "../migrations")]
async fn s8_long_tlds_are_valid_emails_and_names_need_not_be_unique(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let tag = uuid::Uuid::new_v4().simple().to_string();
    for address in [
        format!("x-{tag}@example.museum"),
        format!("y-{tag}@studio.photography"),
        format!("z-{tag}@mail.co.uk"),
        format!("first.last+tag-{tag}@example.international"),
    ] {
        let user = app.signup("Sam Same", &address, PASSWORD, "customer").await;
        assert_eq!(user["email"], address);
        assert_eq!(user["name"], "Sam Same");
        app.signin(&address, PASSWORD).await;
    }
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// C5: unhandled errors crashing the process

#[sqlx::test(migrations = "../migrations")]
async fn c5_unknown_ids_never_crash_the_server(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let v = app.venue("Crash").await;
    let admin = app.admin_token().await;
    let ghost = uuid::Uuid::now_v7().to_string();
    let t = base_time(7);

    // Unknown ids inside bodies: a client error, 404 or 422.
    let body_cases: Vec<(Method, String, Value)> = vec![
        (
            Method::POST,
            "/shows".into(),
            show_body(&v.screen_id, &ghost, t),
        ),
        (
            Method::POST,
            "/shows".into(),
            show_body(&ghost, &v.movie_id, t),
        ),
        (
            Method::POST,
            "/theatres".into(),
            theatre_body(&ghost, "Ghost", "Goa"),
        ),
        (
            Method::POST,
            format!("/theatres/{}/movies", v.theatre_id),
            json!({"movie_ids": [ghost]}),
        ),
        (
            Method::POST,
            format!("/chains/{}/members", v.chain_id),
            json!({"user_id": ghost}),
        ),
    ];
    for (method, path, body) in body_cases {
        let res = app
            .request(method.clone(), &path, Some(&admin), Some(body.clone()))
            .await;
        let status = res.status().as_u16();
        let text = res.text().await.expect("body");
        assert!(
            status == 404 || status == 422,
            "{method} {path} {body}: got {status}: {text}"
        );
    }
    // Unknown ids in paths: 404.
    let path_cases: Vec<(Method, String, Option<Value>)> = vec![
        (Method::DELETE, format!("/movies/{ghost}"), None),
        (
            Method::PATCH,
            format!("/movies/{ghost}"),
            Some(json!({"title": "X"})),
        ),
        (
            Method::PATCH,
            format!("/theatres/{ghost}"),
            Some(json!({"name": "X"})),
        ),
        (Method::DELETE, format!("/theatres/{ghost}"), None),
        (
            Method::GET,
            format!("/theatres/{ghost}/movies/{ghost}"),
            None,
        ),
        (
            Method::GET,
            format!("/theatres/{}/movies/{ghost}", v.theatre_id),
            None,
        ),
        (
            Method::DELETE,
            format!("/theatres/{}/movies/{ghost}", v.theatre_id),
            None,
        ),
        (
            Method::POST,
            format!("/theatres/{ghost}/screens"),
            Some(screen_body("S")),
        ),
        (
            Method::PATCH,
            format!("/shows/{ghost}"),
            Some(json!({"format": "3D"})),
        ),
        (Method::DELETE, format!("/shows/{ghost}"), None),
        (Method::GET, format!("/shows/{ghost}/seats"), None),
        (Method::GET, format!("/screens/{ghost}"), None),
        (Method::GET, format!("/chains/{ghost}"), None),
        (
            Method::POST,
            format!("/chains/{ghost}/members"),
            Some(json!({"user_id": v.owner_id})),
        ),
        (
            Method::PATCH,
            format!("/users/{ghost}"),
            Some(json!({"status": "approved"})),
        ),
    ];
    for (method, path, body) in path_cases {
        let res = app.request(method.clone(), &path, Some(&admin), body).await;
        let status = res.status().as_u16();
        assert_not_5xx(status, &format!("{method} {path}"));
        assert_problem(res, 404, "not_found").await;
    }
    // Still alive and serving.
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    app.get_ok(&format!("/theatres/{}", v.theatre_id), None)
        .await;
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// C6: malformed ids, duplicate keys, empty lists

#[sqlx::test(migrations = "../migrations")]
async fn c6_malformed_ids_are_400(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let v = app.venue("Malformed").await;
    let admin = app.admin_token().await;
    let cases: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/movies/not-a-uuid".into(), None),
        (
            Method::PATCH,
            "/movies/123".into(),
            Some(json!({"title": "X"})),
        ),
        (
            Method::DELETE,
            "/movies/5f1a2b3c4d5e6f7a8b9c0d1e".into(),
            None,
        ),
        (Method::GET, "/theatres/not-a-uuid".into(), None),
        (
            Method::PATCH,
            "/theatres/zzz".into(),
            Some(json!({"name": "X"})),
        ),
        (Method::DELETE, "/theatres/zzz".into(), None),
        (Method::GET, "/theatres/zzz/movies".into(), None),
        (
            Method::POST,
            "/theatres/zzz/movies".into(),
            Some(json!({"movie_ids": [v.movie_id]})),
        ),
        (
            Method::GET,
            format!("/theatres/{}/movies/zzz", v.theatre_id),
            None,
        ),
        (
            Method::DELETE,
            format!("/theatres/{}/movies/zzz", v.theatre_id),
            None,
        ),
        (Method::GET, "/theatres/zzz/screens".into(), None),
        (
            Method::POST,
            "/theatres/zzz/screens".into(),
            Some(screen_body("S")),
        ),
        (Method::GET, "/screens/zzz".into(), None),
        (Method::GET, "/shows/zzz".into(), None),
        (Method::GET, "/shows/zzz/seats".into(), None),
        (
            Method::PATCH,
            "/shows/zzz".into(),
            Some(json!({"format": "3D"})),
        ),
        (Method::DELETE, "/shows/zzz".into(), None),
        (Method::GET, "/chains/zzz".into(), None),
        (Method::GET, "/chains/zzz/members".into(), None),
        (
            Method::POST,
            "/chains/zzz/members".into(),
            Some(json!({"user_id": v.owner_id})),
        ),
        (
            Method::PATCH,
            "/users/zzz".into(),
            Some(json!({"status": "approved"})),
        ),
        (
            Method::GET,
            "/movies/00000000-0000-0000-0000-00000000000g".into(),
            None,
        ),
    ];
    for (method, path, body) in cases {
        let res = app.request(method.clone(), &path, Some(&admin), body).await;
        assert_not_5xx(res.status().as_u16(), &format!("{method} {path}"));
        assert_problem(res, 400, "bad_request").await;
    }
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn c6_empty_lists_are_200(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let empty = json!({"items": [], "next_cursor": null});
    for path in ["/chains", "/movies", "/theatres", "/shows"] {
        assert_eq!(app.get_ok(path, None).await, empty, "{path}");
    }
    let (_, token) = app.approved_owner("Empty").await;
    let chain = app.chain(&token, "Empty").await;
    let theatre = app.theatre(&token, &chain).await;
    for path in [
        format!("/theatres/{theatre}/movies"),
        format!("/theatres/{theatre}/screens"),
        format!("/shows?theatre_id={theatre}"),
        format!("/theatres?chain_id={}", uuid::Uuid::now_v7()),
        "/theatres?city=Atlantis".to_owned(),
        "/theatres?q=nothing-matches".to_owned(),
        "/movies?q=nothing-matches".to_owned(),
        "/movies?release_status=coming_soon".to_owned(),
        "/movies?language=Klingon".to_owned(),
        "/shows?city=Atlantis".to_owned(),
    ] {
        assert_eq!(app.get_ok(&path, None).await, empty, "{path}");
    }
    let admin = app.admin_token().await;
    assert_eq!(
        app.get_ok("/users?status=rejected", Some(&admin)).await,
        empty
    );
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn c6_duplicate_email_is_409_not_500(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let address = email("twice");
    app.signup("One", &address, PASSWORD, "customer").await;
    for (variant, role) in [
        (address.clone(), "customer"),
        (address.to_uppercase(), "owner"),
        (format!("  {address}"), "customer"),
    ] {
        let res = app
            .post_json(
                "/auth/signup",
                None,
                json!({"name": "Two", "email": variant, "password": PASSWORD, "role": role}),
            )
            .await;
        let status = res.status().as_u16();
        assert_not_5xx(status, &variant);
        if variant.trim() == variant {
            assert_problem(res, 409, "email_taken").await;
        } else {
            // Surrounding spaces: either trimmed (→ taken) or refused as invalid.
            assert!(status == 409 || status == 422, "{variant:?}: {status}");
        }
    }
    // Concurrent duplicates: exactly one wins, the other is 409.
    let racy = email("race");
    let body = json!({"name": "Race", "email": racy, "password": PASSWORD});
    let (r1, r2) = tokio::join!(
        app.post_json("/auth/signup", None, body.clone()),
        app.post_json("/auth/signup", None, body.clone()),
    );
    let mut statuses = [r1.status().as_u16(), r2.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409]);
    // Duplicate chain names are 409 too.
    let (_, owner) = app.approved_owner("Dup").await;
    let name = unique("Dup Chain");
    let chain = json!({"name": name, "currency": "INR", "timezone": "Asia/Kolkata"});
    expect_json(
        app.post_json("/chains", Some(&owner), chain.clone()).await,
        201,
    )
    .await;
    assert_problem(
        app.post_json("/chains", Some(&owner), chain).await,
        409,
        "chain_name_taken",
    )
    .await;
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// C7: shared mutable response bodies

fn problem_keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
    k.sort();
    k
}

#[sqlx::test(migrations = "../migrations")]
async fn c7_error_bodies_never_leak_between_requests(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let address = email("leak");
    app.signup("Leak", &address, PASSWORD, "customer").await;
    let base = ["code", "detail", "status", "title", "type"];

    // Sequential: a 422 with errors, a 409, a 404, a success — each body stands alone.
    let weak = app
        .post_json(
            "/auth/signup",
            None,
            json!({"name": "W", "email": email("weak"), "password": "weak"}),
        )
        .await;
    let weak = assert_problem(weak, 422, "validation_failed").await;
    let mut with_errors: Vec<&str> = base.to_vec();
    with_errors.push("errors");
    with_errors.sort_unstable();
    assert_eq!(problem_keys(&weak), with_errors);
    assert_eq!(
        weak["errors"]
            .as_object()
            .expect("errors")
            .keys()
            .collect::<Vec<_>>(),
        ["password"]
    );

    let taken = app
        .post_json(
            "/auth/signup",
            None,
            json!({"name": "T", "email": address, "password": PASSWORD}),
        )
        .await;
    let taken = assert_problem(taken, 409, "email_taken").await;
    assert_eq!(problem_keys(&taken), base);

    let missing = app
        .get_auth(&format!("/movies/{}", uuid::Uuid::now_v7()), None)
        .await;
    let missing = assert_problem(missing, 404, "not_found").await;
    assert_eq!(problem_keys(&missing), base);
    assert_ne!(missing["detail"], taken["detail"]);

    let ok = app.get_ok("/movies", None).await;
    assert_eq!(ok, json!({"items": [], "next_cursor": null}));

    // Concurrent: different users' errors never mix.
    let (_, customer) = app.customer("Other").await;
    for _ in 0..5 {
        let ghost_theatre = format!("/theatres/{}", uuid::Uuid::now_v7());
        let (a, b, c, d) = tokio::join!(
            app.post_json(
                "/auth/signup",
                None,
                json!({"name": "W", "email": "bad-email", "password": PASSWORD}),
            ),
            app.post_json("/movies", Some(&customer), movie_body("Nope")),
            app.get_auth(&ghost_theatre, None),
            app.get_auth("/users/me", Some(&customer)),
        );
        let a = assert_problem(a, 422, "validation_failed").await;
        assert_eq!(
            a["errors"]
                .as_object()
                .expect("errors")
                .keys()
                .collect::<Vec<_>>(),
            ["email"]
        );
        let b = assert_problem(b, 403, "forbidden").await;
        assert_eq!(problem_keys(&b), base);
        let c = assert_problem(c, 404, "not_found").await;
        assert_eq!(problem_keys(&c), base);
        let d = expect_json(d, 200).await;
        assert!(d.get("code").is_none() && d.get("errors").is_none(), "{d}");
        assert_eq!(d["name"], "Other");
    }
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// C8: truthiness validation, no type checks

#[sqlx::test(migrations = "../migrations")]
async fn c8_zero_price_is_accepted_and_strings_for_numbers_rejected(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let v = app.venue("Free").await;
    let t = base_time(7);
    let mut free = show_body(&v.screen_id, &v.movie_id, t);
    free["prices"] = json!({"standard": 0, "premium": 0});
    let show = expect_json(app.post_json("/shows", Some(&v.token), free).await, 201).await;
    assert_eq!(show["prices"], json!({"standard": 0, "premium": 0}));
    let seats = app
        .get_ok(&format!("/shows/{}/seats", s(&show, "id")), None)
        .await;
    assert_eq!(seats["items"][0]["price_minor"], 0);

    let later = t + Duration::hours(5);
    for prices in [
        json!({"standard": "25000", "premium": 40000}),
        json!({"standard": 250.5, "premium": 40000}),
        json!({"standard": null, "premium": 40000}),
        json!({"standard": true, "premium": 40000}),
    ] {
        let mut body = show_body(&v.screen_id, &v.movie_id, later);
        body["prices"] = prices.clone();
        let res = app.post_json("/shows", Some(&v.token), body).await;
        assert_problem(res, 400, "bad_request").await;
    }
    let mut body = movie_body("Typed");
    body["runtime_minutes"] = json!("120");
    assert_problem(
        app.post_json("/movies", Some(&v.token), body).await,
        400,
        "bad_request",
    )
    .await;
    let mut body = screen_body("Typed");
    body["rows"][0]["seats"] = json!("10");
    assert_problem(
        app.post_json(
            &format!("/theatres/{}/screens", v.theatre_id),
            Some(&v.token),
            body,
        )
        .await,
        400,
        "bad_request",
    )
    .await;
    // Only the free show exists.
    let shows = app
        .get_ok(&format!("/shows?theatre_id={}", v.theatre_id), None)
        .await;
    assert_eq!(ids(&shows), vec![s(&show, "id")]);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// C9: pagination

async fn walk(app: &TestApp, path: &str, limit: u32, token: Option<&str>) -> Vec<String> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1000 {
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit={limit}&cursor={c}"),
            None => format!("{path}{sep}limit={limit}"),
        };
        let page = app.get_ok(&url, token).await;
        let got = ids(&page);
        assert!(got.len() <= limit as usize, "{url}: {} items", got.len());
        match page["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(
                    got.len(),
                    limit as usize,
                    "{url}: a short page with a cursor"
                );
                all.extend(got);
                cursor = Some(next.to_owned());
            }
            None => {
                assert!(page["next_cursor"].is_null(), "{url}: {page}");
                all.extend(got);
                return all;
            }
        }
    }
    panic!("{path}: pagination never ended");
}

fn assert_each_once(walked: &[String], want: &HashSet<String>, what: &str) {
    let unique: HashSet<&String> = walked.iter().collect();
    assert_eq!(unique.len(), walked.len(), "{what}: an item came twice");
    let walked: HashSet<String> = walked.iter().cloned().collect();
    assert_eq!(&walked, want, "{what}: items differ");
}

#[sqlx::test(migrations = "../migrations")]
async fn c9_pagination_walks_every_item_once(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, token) = app.approved_owner("Pager").await;
    let admin = app.admin_token().await;

    // 52 movies: more than the default page of 50.
    let mut movies = HashSet::new();
    for i in 0..52 {
        movies.insert(
            app.movie_with(&token, movie_body(&format!("Film {i:02}")))
                .await["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    let first = app.get_ok("/movies", None).await;
    assert_eq!(first["items"].as_array().expect("items").len(), 50);
    assert!(first["next_cursor"].is_string(), "default limit is 50");
    for limit in [1, 3, 7, 50, 51, 52, 200] {
        let walked = walk(&app, "/movies", limit, None).await;
        assert_each_once(&walked, &movies, &format!("movies limit {limit}"));
    }
    // Filters and cursors combine.
    let walked = walk(&app, "/movies?q=film%200", 4, None).await;
    let want: HashSet<String> = walk(&app, "/movies?q=film%200", 200, None)
        .await
        .into_iter()
        .collect();
    assert_eq!(want.len(), 10);
    assert_each_once(&walked, &want, "movies q=film 0");

    let chain = app.chain(&token, "Pages").await;
    let mut theatres = HashSet::new();
    for i in 0..7 {
        let t = app
            .theatre_with(&token, theatre_body(&chain, &format!("Hall {i}"), "Mysuru"))
            .await;
        theatres.insert(s(&t, "id"));
    }
    let walked = walk(&app, "/theatres?city=mysuru", 2, None).await;
    assert_each_once(&walked, &theatres, "theatres");

    let mut users = HashSet::new();
    for i in 0..5 {
        let u = app
            .signup(&format!("U{i}"), &email("page"), PASSWORD, "customer")
            .await;
        users.insert(s(&u, "id"));
    }
    let walked = walk(&app, "/users?role=customer", 2, Some(&admin)).await;
    assert_each_once(&walked, &users, "users");

    let theatre = theatres.iter().next().expect("a theatre").clone();
    let screen = app.screen(&token, &theatre).await;
    let movie = app.movie(&token).await;
    app.now_showing(&token, &theatre, &movie).await;
    let t = base_time(7);
    let mut shows = HashSet::new();
    for i in 0..5 {
        let show = app
            .show(&token, &screen, &movie, t + Duration::hours(3 * i))
            .await;
        shows.insert(s(&show, "id"));
    }
    let walked = walk(&app, &format!("/shows?theatre_id={theatre}"), 2, None).await;
    assert_each_once(&walked, &shows, "shows");

    // Bad page requests.
    for bad in ["/movies?limit=0", "/movies?limit=201"] {
        assert_problem(app.get_auth(bad, None).await, 422, "validation_failed").await;
    }
    for bad in [
        "/movies?cursor=garbage!",
        "/movies?cursor=djE6bm90LWEtdXVpZA",
        "/theatres?cursor=%FF%FE",
        "/movies?limit=ten",
        "/movies?page=2",
    ] {
        assert_problem(app.get_auth(bad, None).await, 400, "bad_request").await;
    }
    app.stop().await;
}

/// Found by schemathesis: a NUL character in a JSON string reached PostgreSQL (which cannot
/// store it) and came back as a 500. Every JSON body now refuses it with 400.
#[sqlx::test(migrations = "../migrations")]
async fn c6_a_nul_character_in_a_json_string_is_400_not_500(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let res = app
        .client
        .post(app.api("/auth/signin"))
        .header("content-type", "application/json")
        .body(r#"{"email":"a\u0000@example.com","password":"whatever-123"}"#)
        .send()
        .await
        .expect("sent");
    assert_problem(res, 400, "bad_request").await;
    // An escaped backslash followed by the text u0000 is not a NUL.
    let res = app
        .client
        .post(app.api("/auth/signin"))
        .header("content-type", "application/json")
        .body(r#"{"email":"a\\u0000@example.com","password":"whatever-123"}"#)
        .send()
        .await
        .expect("sent");
    assert_problem(res, 401, "invalid_credentials").await;
    app.stop().await;
}
