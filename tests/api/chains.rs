//! Chains and their members.

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::support::app::TestApp;
use crate::support::client::{
    assert_invalid, assert_problem, expect_json, ids, parse_time, s, unique,
};

fn chain_body(name: &str) -> Value {
    json!({"name": name, "currency": "INR", "timezone": "Asia/Kolkata"})
}

#[sqlx::test(migrations = "../migrations")]
async fn an_approved_owner_creates_a_chain_and_becomes_its_member(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (owner_id, token) = app.approved_owner("Owner").await;
    let name = unique("PVR");
    let res = app
        .post_json("/chains", Some(&token), chain_body(&name))
        .await;
    let chain = expect_json(res, 201).await;
    let mut keys: Vec<&String> = chain.as_object().expect("object").keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["created_at", "currency", "id", "name", "timezone"],
        "{chain}"
    );
    assert_eq!(chain["name"], name);
    assert_eq!(chain["currency"], "INR");
    assert_eq!(chain["timezone"], "Asia/Kolkata");
    parse_time(&chain["created_at"]);
    let id = s(&chain, "id");

    let members = app
        .get_ok(&format!("/chains/{id}/members"), Some(&token))
        .await;
    let items = members["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{members}");
    assert_eq!(items[0]["user_id"], owner_id);
    assert!(members["next_cursor"].is_null());
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_admin_creates_a_chain(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.admin_token().await;
    let res = app
        .post_json("/chains", Some(&admin), chain_body(&unique("Admin Chain")))
        .await;
    expect_json(res, 201).await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn creating_a_chain_needs_an_approved_owner_or_admin(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, customer) = app.customer("Cust").await;
    let (_, _, pending) = app.pending_owner("Pending").await;
    assert_problem(
        app.post_json("/chains", None, chain_body("No Token")).await,
        401,
        "unauthorized",
    )
    .await;
    for token in [&customer, &pending] {
        assert_problem(
            app.post_json("/chains", Some(token), chain_body(&unique("Nope")))
                .await,
            403,
            "forbidden",
        )
        .await;
    }
    let list = app.get_ok("/chains", None).await;
    assert_eq!(list, json!({"items": [], "next_cursor": null}));
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn creating_a_chain_validates_currency_timezone_and_name(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, token) = app.approved_owner("Owner").await;
    for currency in ["inr", "RUPEES", "IN", "I1R", ""] {
        let res = app
            .post_json(
                "/chains",
                Some(&token),
                json!({"name": unique("C"), "currency": currency, "timezone": "Asia/Kolkata"}),
            )
            .await;
        assert_invalid(res, "currency").await;
    }
    for timezone in ["Mars/Olympus", "", "Asia/Bangalore"] {
        let res = app
            .post_json(
                "/chains",
                Some(&token),
                json!({"name": unique("C"), "currency": "INR", "timezone": timezone}),
            )
            .await;
        assert_invalid(res, "timezone").await;
    }
    let res = app
        .post_json(
            "/chains",
            Some(&token),
            json!({"currency": "INR", "timezone": "Asia/Kolkata"}),
        )
        .await;
    assert_invalid(res, "name").await;
    let res = app
        .post_json(
            "/chains",
            Some(&token),
            json!({"name": "  ", "currency": "INR", "timezone": "Asia/Kolkata"}),
        )
        .await;
    assert_invalid(res, "name").await;
    let res = app
        .post_json(
            "/chains",
            Some(&token),
            json!({"name": unique("C"), "currency": "INR", "timezone": "Europe/London", "owner_id": "x"}),
        )
        .await;
    assert_problem(res, 400, "bad_request").await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_duplicate_chain_name_is_409(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, a) = app.approved_owner("A").await;
    let (_, b) = app.approved_owner("B").await;
    let name = unique("INOX");
    expect_json(
        app.post_json("/chains", Some(&a), chain_body(&name)).await,
        201,
    )
    .await;
    assert_problem(
        app.post_json("/chains", Some(&b), chain_body(&name)).await,
        409,
        "chain_name_taken",
    )
    .await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn chains_are_public(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, token) = app.approved_owner("Owner").await;
    let first = app.chain(&token, "First").await;
    let second = app.chain(&token, "Second").await;
    let list = app.get_ok("/chains", None).await;
    assert_eq!(ids(&list), vec![first.clone(), second]);
    assert!(list["next_cursor"].is_null());
    let one = app.get_ok(&format!("/chains/{first}"), None).await;
    assert_eq!(one["id"], first);
    assert_eq!(one["currency"], "INR");
    assert_problem(
        app.get_auth(&format!("/chains/{}", uuid::Uuid::now_v7()), None)
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get_auth("/chains/not-a-uuid", None).await,
        400,
        "bad_request",
    )
    .await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_member_adds_an_approved_owner(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (a_id, a) = app.approved_owner("Alpha").await;
    let (b_id, b) = app.approved_owner("Beta").await;
    let chain = app.chain(&a, "Shared").await;
    let res = app
        .post_json(
            &format!("/chains/{chain}/members"),
            Some(&a),
            json!({"user_id": b_id}),
        )
        .await;
    let member = expect_json(res, 201).await;
    let mut keys: Vec<&String> = member.as_object().expect("object").keys().collect();
    keys.sort();
    assert_eq!(keys, ["added_at", "email", "name", "user_id"], "{member}");
    assert_eq!(member["user_id"], b_id);
    assert_eq!(member["name"], "Beta");
    parse_time(&member["added_at"]);

    let members = app
        .get_ok(&format!("/chains/{chain}/members"), Some(&b))
        .await;
    let mut got: Vec<String> = members["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| s(m, "user_id"))
        .collect();
    got.sort();
    let mut want = vec![a_id, b_id];
    want.sort();
    assert_eq!(got, want);
    // The new member can act for the chain.
    let theatre = app.theatre(&b, &chain).await;
    assert!(!theatre.is_empty());
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn only_approved_owners_can_become_members(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, a) = app.approved_owner("Alpha").await;
    let chain = app.chain(&a, "Strict").await;
    let (customer_id, _) = app.customer("Cust").await;
    let (pending_id, _, _) = app.pending_owner("Pending").await;
    let path = format!("/chains/{chain}/members");
    for user_id in [customer_id, pending_id, uuid::Uuid::now_v7().to_string()] {
        let res = app
            .post_json(&path, Some(&a), json!({"user_id": user_id}))
            .await;
        assert_problem(res, 422, "validation_failed").await;
    }
    let res = app
        .post_json(&path, Some(&a), json!({"user_id": "not-a-uuid"}))
        .await;
    let status = res.status().as_u16();
    assert!(
        status == 400 || status == 422,
        "a malformed user_id is a client error, got {status}"
    );
    let res = app.post_json(&path, Some(&a), json!({})).await;
    assert_invalid(res, "user_id").await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn members_are_visible_to_members_and_admins_only(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, a) = app.approved_owner("Alpha").await;
    let (b_id, b) = app.approved_owner("Beta").await;
    let (c_id, _) = app.approved_owner("Gamma").await;
    let chain_a = app.chain(&a, "A").await;
    let _chain_b = app.chain(&b, "B").await;
    let path = format!("/chains/{chain_a}/members");

    assert_problem(app.get_auth(&path, None).await, 401, "unauthorized").await;
    assert_problem(app.get_auth(&path, Some(&b)).await, 404, "not_found").await;
    assert_problem(
        app.post_json(&path, Some(&b), json!({"user_id": b_id}))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.post_json(&path, None, json!({"user_id": b_id})).await,
        401,
        "unauthorized",
    )
    .await;

    let admin = app.admin_token().await;
    let members = app.get_ok(&path, Some(&admin)).await;
    assert_eq!(members["items"].as_array().expect("items").len(), 1);
    let res = app
        .post_json(&path, Some(&admin), json!({"user_id": c_id}))
        .await;
    expect_json(res, 201).await;
    let members = app.get_ok(&path, Some(&admin)).await;
    assert_eq!(members["items"].as_array().expect("items").len(), 2);

    assert_problem(
        app.get_auth(
            &format!("/chains/{}/members", uuid::Uuid::now_v7()),
            Some(&admin),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    app.stop().await;
}
