//! Vouchers (API.md, "Box office"; docs/bookings.md, "Vouchers"): chain staff create, list,
//! read and change them; a hold whose promo code is a voucher claims one redemption in its
//! transaction, and the count of live redemptions never exceeds `max_redemptions`, even with 40
//! customers racing for the last one through the real binary. A cancelled or expired hold
//! releases its redemption; a confirmed booking keeps it.

use std::time::Duration;

use chrono::Utc;
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::task::JoinSet;

use crate::support::app::TestApp;
use crate::support::client::{
    Bookable, assert_invalid, assert_problem, base_time, bookings_count, expect_json, expire_hold,
    hold_body, rfc3339, s, uuid_of,
};
use crate::support::database_url_for;
use crate::support::process::CineflowProcess;

/// A percentage voucher body for `code` with `max` redemptions.
fn voucher_body(code: &str, max: i64) -> Value {
    json!({"code": code, "max_redemptions": max, "discount": {"percent": 10}})
}

impl TestApp {
    /// `POST /chains/{chain}/vouchers`, whatever the answer.
    async fn try_voucher(&self, token: &str, chain: &str, body: Value) -> reqwest::Response {
        self.post_json(&format!("/chains/{chain}/vouchers"), Some(token), body)
            .await
    }

    /// A voucher of the bookable's chain (201 expected).
    async fn voucher(&self, b: &Bookable, body: Value) -> Value {
        expect_json(
            self.try_voucher(&b.venue.token, &b.venue.chain_id, body)
                .await,
            201,
        )
        .await
    }

    /// `GET /chains/{chain}/vouchers/{id}` by the bookable's owner (200 expected).
    async fn voucher_detail(&self, b: &Bookable, voucher: &Value) -> Value {
        self.get_ok(
            &format!("/chains/{}/vouchers/{}", b.venue.chain_id, s(voucher, "id")),
            Some(&b.venue.token),
        )
        .await
    }

    /// `redeemed` of a voucher of the bookable's chain.
    async fn redeemed(&self, b: &Bookable, voucher: &Value) -> i64 {
        let v = self.voucher_detail(b, voucher).await;
        v["redeemed"]
            .as_i64()
            .unwrap_or_else(|| panic!("no redeemed in {v}"))
    }

    /// `POST /bookings` of `seats` with `promo_code`, whatever the answer.
    async fn hold_with(
        &self,
        token: &str,
        show: &str,
        seats: &[&str],
        code: &str,
    ) -> reqwest::Response {
        let mut body = hold_body(show, seats);
        body["promo_code"] = json!(code);
        self.post_json("/bookings", Some(token), body).await
    }
}

/// Live redemptions of a voucher, counted in the database itself.
async fn live_redemptions(pool: &PgPool, voucher: &str) -> i64 {
    sqlx::query_scalar(
        "select count(*) from bookings where voucher_id = $1 and booking_is_live(status, expires_at)",
    )
    .bind(uuid_of(voucher))
    .fetch_one(pool)
    .await
    .expect("count live redemptions")
}

#[sqlx::test(migrations = "../migrations")]
async fn staff_create_list_read_and_change_vouchers(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Voucher Cinemas").await;
    let (chain, token) = (&b.venue.chain_id, &b.venue.token);
    let until = base_time(30);
    let created = app
        .voucher(
            &b,
            json!({
                "code": "Summer-10",
                "max_redemptions": 5,
                "valid_until": rfc3339(until),
                "show_ids": [b.show_id],
                "discount": {"amount_minor": 5000},
            }),
        )
        .await;
    assert_eq!(created["code"], "Summer-10");
    assert_eq!(created["chain_id"], chain.as_str());
    assert_eq!(created["redeemed"], 0);
    assert_eq!(created["max_redemptions"], 5);
    assert_eq!(created["active"], true);
    assert_eq!(created["discount"], json!({"amount_minor": 5000}));
    assert_eq!(created["show_ids"], json!([b.show_id]));
    assert_eq!(created["movie_ids"], json!([]));
    assert!(created["valid_from"].is_null());
    assert_eq!(
        crate::support::client::parse_time(&created["valid_until"]),
        until
    );
    let second = app.voucher(&b, voucher_body("WINTER", 1)).await;

    let page = app
        .get_ok(&format!("/chains/{chain}/vouchers"), Some(token))
        .await;
    let codes: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|v| v["code"].as_str())
        .collect();
    assert_eq!(codes, ["Summer-10", "WINTER"], "{page}");
    let first_page = app
        .get_ok(&format!("/chains/{chain}/vouchers?limit=1"), Some(token))
        .await;
    let cursor = s(&first_page, "next_cursor");
    let rest = app
        .get_ok(
            &format!("/chains/{chain}/vouchers?limit=1&cursor={cursor}"),
            Some(token),
        )
        .await;
    assert_eq!(rest["items"][0]["id"], second["id"], "{rest}");

    let detail = app.voucher_detail(&b, &created).await;
    assert_eq!(detail["code"], "Summer-10");
    assert_eq!(detail["redemptions"], json!([]));

    let path = format!("/chains/{chain}/vouchers/{}", s(&created, "id"));
    let changed = expect_json(
        app.patch_json(
            &path,
            Some(token),
            json!({"active": false, "max_redemptions": 7, "valid_until": null}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(changed["active"], false);
    assert_eq!(changed["max_redemptions"], 7);
    assert!(changed["valid_until"].is_null(), "{changed}");
    assert_eq!(changed["code"], "Summer-10");
    // `{}` changes nothing; an absent `valid_until` is not a null one.
    let same = expect_json(app.patch_json(&path, Some(token), json!({})).await, 200).await;
    assert_eq!(same["max_redemptions"], 7);
    assert_eq!(same["active"], false);
    // The code, scope and discount are fixed.
    for field in [
        json!({"code": "OTHER"}),
        json!({"discount": {"percent": 5}}),
    ] {
        assert_problem(
            app.patch_json(&path, Some(token), field).await,
            400,
            "bad_request",
        )
        .await;
    }

    // An admin manages any chain's vouchers.
    let admin = app.admin_token().await;
    let by_admin = expect_json(
        app.try_voucher(&admin, chain, voucher_body("ADMIN-MADE", 2))
            .await,
        201,
    )
    .await;
    assert_eq!(by_admin["chain_id"], chain.as_str());
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_voucher_body_is_validated(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Strict Cinemas").await;
    let other = app.bookable("Elsewhere").await;
    let (chain, token) = (&b.venue.chain_id, &b.venue.token);
    let bad = |patch: Value| {
        let mut body = voucher_body("GOOD-CODE", 3);
        if let (Some(body), Some(patch)) = (body.as_object_mut(), patch.as_object()) {
            for (k, v) in patch {
                body.insert(k.clone(), v.clone());
            }
        }
        body
    };
    let now = Utc::now();
    for (patch, field) in [
        (json!({"code": "ab"}), "code"),
        (json!({"code": "x".repeat(33)}), "code"),
        (json!({"code": "NO SPACES"}), "code"),
        (json!({"code": "NO.DOTS"}), "code"),
        (json!({"max_redemptions": 0}), "max_redemptions"),
        (json!({"max_redemptions": 1_000_001}), "max_redemptions"),
        (json!({"discount": {"percent": 0}}), "discount"),
        (json!({"discount": {"percent": 101}}), "discount"),
        (json!({"discount": {"amount_minor": 0}}), "discount"),
        (json!({"discount": {}}), "discount"),
        (
            json!({"discount": {"percent": 10, "amount_minor": 100}}),
            "discount",
        ),
        (json!({"valid_from": "tomorrow"}), "valid_from"),
        (
            json!({"valid_from": rfc3339(now + chrono::Duration::days(2)), "valid_until": rfc3339(now + chrono::Duration::days(1))}),
            "valid_until",
        ),
        (json!({"show_ids": [other.show_id]}), "show_ids"),
        (json!({"show_ids": [b.show_id, b.show_id]}), "show_ids"),
        (
            json!({"movie_ids": [uuid::Uuid::now_v7().to_string()]}),
            "movie_ids",
        ),
    ] {
        assert_invalid(app.try_voucher(token, chain, bad(patch)).await, field).await;
    }
    // A missing field is 422 too; an unknown field or a wrong type is 400.
    assert_invalid(
        app.try_voucher(
            token,
            chain,
            json!({"code": "ABC", "discount": {"percent": 5}}),
        )
        .await,
        "max_redemptions",
    )
    .await;
    for body in [
        bad(json!({"redeemed": 0})),
        bad(json!({"discount": {"percent": 5, "extra": 1}})),
        bad(json!({"max_redemptions": "three"})),
    ] {
        assert_problem(
            app.try_voucher(token, chain, body).await,
            400,
            "bad_request",
        )
        .await;
    }
    // Another chain's movie is fine: every chain may show any movie.
    app.voucher(&b, bad(json!({"movie_ids": [other.venue.movie_id]})))
        .await;

    let voucher = app.voucher(&b, voucher_body("PATCHED", 3)).await;
    let path = format!("/chains/{chain}/vouchers/{}", s(&voucher, "id"));
    for (body, field) in [
        (json!({"max_redemptions": 0}), "max_redemptions"),
        (json!({"valid_until": "soon"}), "valid_until"),
    ] {
        assert_invalid(app.patch_json(&path, Some(token), body).await, field).await;
    }
    let windowed = app
        .voucher(
            &b,
            bad(json!({"code": "WINDOWED", "valid_from": rfc3339(base_time(2))})),
        )
        .await;
    assert_invalid(
        app.patch_json(
            &format!("/chains/{chain}/vouchers/{}", s(&windowed, "id")),
            Some(token),
            json!({"valid_until": rfc3339(base_time(1))}),
        )
        .await,
        "valid_until",
    )
    .await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_code_is_unique_in_its_chain_whatever_the_case(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Unique Cinemas").await;
    let other = app.bookable("Other Cinemas").await;
    app.voucher(&b, voucher_body("Summer", 3)).await;
    for code in ["Summer", "SUMMER", "summer"] {
        assert_problem(
            app.try_voucher(&b.venue.token, &b.venue.chain_id, voucher_body(code, 1))
                .await,
            409,
            "voucher_code_taken",
        )
        .await;
    }
    // Another chain has its own codes.
    app.voucher(&other, voucher_body("SUMMER", 1)).await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn only_the_chains_staff_and_admins_see_its_vouchers(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Private Cinemas").await;
    let other = app.bookable("Nosy Cinemas").await;
    let voucher = app.voucher(&b, voucher_body("SECRET", 3)).await;
    let theirs = app.voucher(&other, voucher_body("THEIRS", 3)).await;
    let chain = &b.venue.chain_id;
    let one = format!("/chains/{chain}/vouchers/{}", s(&voucher, "id"));
    let list = format!("/chains/{chain}/vouchers");
    let (_, customer) = app.customer("Curious").await;

    // Another chain's owner: not found, whatever they ask.
    let nosy = &other.venue.token;
    assert_problem(app.get_auth(&list, Some(nosy)).await, 404, "not_found").await;
    assert_problem(app.get_auth(&one, Some(nosy)).await, 404, "not_found").await;
    assert_problem(
        app.patch_json(&one, Some(nosy), json!({"active": false}))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.try_voucher(nosy, chain, voucher_body("INTRUDER", 1))
            .await,
        404,
        "not_found",
    )
    .await;
    // A customer is not staff at all; nobody signed in is 401.
    assert_problem(app.get_auth(&list, Some(&customer)).await, 403, "forbidden").await;
    assert_problem(
        app.try_voucher(&customer, chain, voucher_body("MINE", 1))
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(app.get_auth(&list, None).await, 401, "unauthorized").await;
    // Another chain's voucher through this chain's path is not found either.
    assert_problem(
        app.get_auth(
            &format!("/chains/{chain}/vouchers/{}", s(&theirs, "id")),
            Some(&b.venue.token),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get_auth(
            &format!("/chains/{chain}/vouchers/nope"),
            Some(&b.venue.token),
        )
        .await,
        400,
        "bad_request",
    )
    .await;
    // Nothing changed.
    let detail = app.voucher_detail(&b, &voucher).await;
    assert_eq!(detail["active"], true);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_hold_with_a_voucher_shows_it_and_counts_held_and_confirmed_redemptions(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Redeeming Cinemas").await;
    let voucher = app.voucher(&b, voucher_body("Summer-10", 3)).await;
    let (customer_id, customer) = app.customer("Asha").await;

    // Matched whatever the case: the booking keeps what was typed and names the voucher.
    let held = expect_json(
        app.hold_with(&customer, &b.show_id, &["A-1", "A-2"], " summer-10 ")
            .await,
        201,
    )
    .await;
    assert_eq!(held["promo_code"], "summer-10");
    assert_eq!(held["voucher_code"], "Summer-10");
    assert!(held["discount_minor"].is_i64(), "{held}");
    let id = s(&held, "id");
    let read = app.booking(&customer, &id).await;
    assert_eq!(read["voucher_code"], "Summer-10");
    assert_eq!(read["discount_minor"], held["discount_minor"]);
    // A booking without a voucher says so.
    let plain = app.hold(&customer, &b.show_id, &["A-9"]).await;
    assert!(plain["voucher_code"].is_null(), "{plain}");
    assert_eq!(plain["discount_minor"], 0);
    assert!(plain["promo_code"].is_null());

    assert_eq!(app.redeemed(&b, &voucher).await, 1);
    let detail = app.voucher_detail(&b, &voucher).await;
    let redemptions = detail["redemptions"].as_array().expect("redemptions");
    assert_eq!(redemptions.len(), 1, "{detail}");
    assert_eq!(redemptions[0]["booking_id"], id.as_str());
    assert_eq!(redemptions[0]["user_id"], customer_id.as_str());
    assert_eq!(redemptions[0]["status"], "held");

    // A confirmed booking keeps its redemption.
    app.pay(&customer, &held).await;
    assert_eq!(app.redeemed(&b, &voucher).await, 1);
    let detail = app.voucher_detail(&b, &voucher).await;
    assert_eq!(detail["redemptions"][0]["status"], "confirmed");
    let (_, other) = app.customer("Ravi").await;
    expect_json(
        app.hold_with(&other, &b.show_id, &["A-3"], "SUMMER-10")
            .await,
        201,
    )
    .await;
    assert_eq!(app.redeemed(&b, &voucher).await, 2);
    assert_eq!(live_redemptions(&pool, &s(&voucher, "id")).await, 2);

    // The hold's pricing decision in the audit trail names the voucher.
    let trail = app
        .get_ok(&format!("/bookings/{id}/audit"), Some(&b.venue.token))
        .await;
    let pricing = trail["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|e| e["hook"] == "pricing")
        .unwrap_or_else(|| panic!("no pricing decision in {trail}"));
    assert_eq!(
        pricing["detail"]["voucher"]["code"], "Summer-10",
        "{pricing}"
    );
    assert_eq!(pricing["detail"]["voucher"]["id"], voucher["id"]);
    assert_eq!(
        pricing["detail"]["voucher"]["discount"],
        json!({"percent": 10})
    );
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn each_reason_a_voucher_cannot_be_redeemed_has_its_own_code(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Refusing Cinemas").await;
    let (_, customer) = app.customer("Asha").await;
    let refused = |code: &'static str, expected: &'static str| {
        let (app, customer, show) = (&app, &customer, &b.show_id);
        async move {
            assert_problem(
                app.hold_with(customer, show, &["A-1"], code).await,
                422,
                expected,
            )
            .await
        }
    };

    // Neither a voucher nor a code the chain's pricing knows: the component's reason.
    let unknown = refused("NOPE-NOPE", "voucher_unknown").await;
    assert!(
        s(&unknown, "detail").contains("unknown promo code"),
        "{unknown}"
    );

    // Exhausted: its one redemption is held by someone else.
    app.voucher(&b, voucher_body("ONCE", 1)).await;
    let (_, first) = app.customer("First").await;
    expect_json(
        app.hold_with(&first, &b.show_id, &["A-10"], "ONCE").await,
        201,
    )
    .await;
    let exhausted = refused("once", "voucher_exhausted").await;
    assert!(s(&exhausted, "detail").contains("ONCE"), "{exhausted}");

    // Expired, not yet valid, switched off: outside its window.
    let past = Utc::now() - chrono::Duration::days(1);
    app.voucher(
        &b,
        json!({"code": "OLD", "max_redemptions": 5, "valid_from": rfc3339(past - chrono::Duration::days(1)),
               "valid_until": rfc3339(past), "discount": {"percent": 10}}),
    )
    .await;
    refused("OLD", "voucher_expired").await;
    app.voucher(
        &b,
        json!({"code": "LATER", "max_redemptions": 5, "valid_from": rfc3339(base_time(1)),
               "discount": {"percent": 10}}),
    )
    .await;
    refused("LATER", "voucher_expired").await;
    let off = app.voucher(&b, voucher_body("OFF", 5)).await;
    expect_json(
        app.patch_json(
            &format!("/chains/{}/vouchers/{}", b.venue.chain_id, s(&off, "id")),
            Some(&b.venue.token),
            json!({"active": false}),
        )
        .await,
        200,
    )
    .await;
    refused("OFF", "voucher_expired").await;

    // Not for this show: another show, or another movie.
    let later = app
        .show(
            &b.venue.token,
            &b.venue.screen_id,
            &b.venue.movie_id,
            base_time(9),
        )
        .await;
    app.voucher(
        &b,
        json!({"code": "OTHER-SHOW", "max_redemptions": 5, "show_ids": [later["id"]],
               "discount": {"percent": 10}}),
    )
    .await;
    refused("OTHER-SHOW", "voucher_not_applicable").await;
    let other_movie = app.movie(&b.venue.token).await;
    app.voucher(
        &b,
        json!({"code": "OTHER-MOVIE", "max_redemptions": 5, "movie_ids": [other_movie],
               "discount": {"percent": 10}}),
    )
    .await;
    refused("OTHER-MOVIE", "voucher_not_applicable").await;

    // No refusal took a seat or made a booking (only the first customer's hold exists).
    assert_eq!(bookings_count(&pool).await, 1);
    assert_eq!(app.seats_in_state(&b.show_id, "held").await, ["A-10"]);

    // The show's movie, or the show itself, is in scope.
    app.voucher(
        &b,
        json!({"code": "THIS-MOVIE", "max_redemptions": 5, "movie_ids": [b.venue.movie_id],
               "show_ids": [later["id"]], "discount": {"percent": 10}}),
    )
    .await;
    expect_json(
        app.hold_with(&customer, &b.show_id, &["A-1"], "THIS-MOVIE")
            .await,
        201,
    )
    .await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn cancelling_a_hold_or_a_booking_releases_its_redemption(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Releasing Cinemas").await;
    let voucher = app.voucher(&b, voucher_body("ONE", 1)).await;
    let (_, first) = app.customer("First").await;
    let (_, second) = app.customer("Second").await;

    let held = expect_json(
        app.hold_with(&first, &b.show_id, &["A-1"], "ONE").await,
        201,
    )
    .await;
    assert_problem(
        app.hold_with(&second, &b.show_id, &["A-2"], "ONE").await,
        422,
        "voucher_exhausted",
    )
    .await;
    expect_json(app.cancel_booking(Some(&first), &s(&held, "id")).await, 200).await;
    assert_eq!(app.redeemed(&b, &voucher).await, 0);

    // Free again: the second customer takes it, pays, cancels, and frees it once more.
    let second_hold = expect_json(
        app.hold_with(&second, &b.show_id, &["A-2"], "ONE").await,
        201,
    )
    .await;
    app.pay(&second, &second_hold).await;
    assert_eq!(app.redeemed(&b, &voucher).await, 1);
    expect_json(
        app.cancel_booking(Some(&second), &s(&second_hold, "id"))
            .await,
        200,
    )
    .await;
    assert_eq!(app.redeemed(&b, &voucher).await, 0);
    expect_json(
        app.hold_with(&first, &b.show_id, &["A-3"], "ONE").await,
        201,
    )
    .await;

    // Past redemptions stay listed, as their bookings are now.
    let detail = app.voucher_detail(&b, &voucher).await;
    let statuses: Vec<&str> = detail["redemptions"]
        .as_array()
        .expect("redemptions")
        .iter()
        .filter_map(|r| r["status"].as_str())
        .collect();
    assert_eq!(statuses, ["held", "cancelled", "cancelled"], "{detail}");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_expired_hold_releases_its_redemption_at_its_expiry(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Expiring Cinemas").await;
    let voucher = app.voucher(&b, voucher_body("FLEETING", 1)).await;
    let (_, first) = app.customer("First").await;
    let (_, second) = app.customer("Second").await;
    let held = expect_json(
        app.hold_with(&first, &b.show_id, &["A-1"], "FLEETING")
            .await,
        201,
    )
    .await;
    assert_eq!(app.redeemed(&b, &voucher).await, 1);

    // Its time runs out: released at once, before any expiry job recorded it.
    expire_hold(&pool, &s(&held, "id")).await;
    assert_eq!(app.redeemed(&b, &voucher).await, 0);
    let detail = app.voucher_detail(&b, &voucher).await;
    assert_eq!(detail["redemptions"][0]["status"], "expired");
    let retaken = expect_json(
        app.hold_with(&second, &b.show_id, &["A-2"], "FLEETING")
            .await,
        201,
    )
    .await;
    // The lapsed hold cannot be paid, so it can never take the redemption back.
    assert_problem(app.try_pay(&first, &held).await, 410, "hold_expired").await;
    app.pay(&second, &retaken).await;
    assert_eq!(live_redemptions(&pool, &s(&voucher, "id")).await, 1);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn max_redemptions_cannot_go_below_the_live_redemptions(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Shrinking Cinemas").await;
    let voucher = app.voucher(&b, voucher_body("TWICE", 2)).await;
    let path = format!(
        "/chains/{}/vouchers/{}",
        b.venue.chain_id,
        s(&voucher, "id")
    );
    let token = Some(b.venue.token.as_str());
    for (name, seat) in [("First", "A-1"), ("Second", "A-2")] {
        let (_, customer) = app.customer(name).await;
        expect_json(
            app.hold_with(&customer, &b.show_id, &[seat], "TWICE").await,
            201,
        )
        .await;
    }
    let problem = assert_problem(
        app.patch_json(&path, token, json!({"max_redemptions": 1}))
            .await,
        409,
        "invalid_state",
    )
    .await;
    assert!(s(&problem, "detail").contains("2 redemptions"), "{problem}");
    let same = expect_json(
        app.patch_json(&path, token, json!({"max_redemptions": 2}))
            .await,
        200,
    )
    .await;
    assert_eq!(same["redeemed"], 2);
    let more = expect_json(
        app.patch_json(&path, token, json!({"max_redemptions": 3}))
            .await,
        200,
    )
    .await;
    assert_eq!(more["max_redemptions"], 3);
    let (_, third) = app.customer("Third").await;
    expect_json(
        app.hold_with(&third, &b.show_id, &["A-3"], "TWICE").await,
        201,
    )
    .await;
    app.stop().await;
}

/// 40 customers, each for a seat of their own, hold with a voucher that has one redemption
/// left, all at once, through the real binary (its own process and runtime): exactly one wins
/// it, the 39 others are told `voucher_exhausted`, and the database counts exactly
/// `max_redemptions` live redemptions.
#[sqlx::test(migrations = "../migrations")]
async fn forty_customers_racing_for_the_last_redemption_leave_exactly_max_redemptions(
    pool: PgPool,
) {
    const RACERS: usize = 40;
    let app = TestApp::spawn(pool.clone()).await;
    let venue = app.venue("Racing Cinemas").await;
    // 5 rows of 10: a seat for each racer and for the two redemptions already live.
    let show = app.big_show(&venue, 5, 10).await;
    let b = Bookable {
        venue,
        show_id: show.clone(),
    };
    let voucher = app.voucher(&b, voucher_body("LAST-ONE", 3)).await;
    let (_, early) = app.customer("Early").await;
    let paid = expect_json(
        app.hold_with(&early, &show, &["E-9"], "LAST-ONE").await,
        201,
    )
    .await;
    app.pay(&early, &paid).await;
    expect_json(
        app.hold_with(&early, &show, &["E-10"], "LAST-ONE").await,
        201,
    )
    .await;
    assert_eq!(app.redeemed(&b, &voucher).await, 2, "one redemption left");

    let mut racers = Vec::with_capacity(RACERS);
    for i in 0..RACERS {
        let (_, token) = app.customer(&format!("Racer {i}")).await;
        let seat = format!(
            "{}-{}",
            crate::support::client::row_label((i / 10) as u32),
            i % 10 + 1
        );
        racers.push((token, seat));
    }

    // The real binary on the same database; the test app's tokens are valid there (same
    // signing key). Generous queues: on a busy machine the racers wait, they are not shed.
    let db = pool
        .connect_options()
        .get_database()
        .expect("test database name")
        .to_owned();
    let server = CineflowProcess::builder()
        .database_url(database_url_for(&db))
        .env(
            "CINEFLOW_JWT_SECRET",
            "test-secret-0123456789abcdef0123456789",
        )
        .env("CINEFLOW_DB_ACQUIRE_TIMEOUT_MS", "60000")
        .env("CINEFLOW_REQUEST_TIMEOUT_MS", "120000")
        .env("CINEFLOW_CHAIN_QUEUE_MS", "120000")
        .env("CINEFLOW_CHAIN_FUEL_PER_SECOND", "1000000000000000")
        .spawn()
        .await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(180))
        .build()
        .expect("client");
    let url = server.url("/api/v1/bookings");
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(RACERS));
    let mut set = JoinSet::new();
    for (token, seat) in racers {
        let (client, url, show, barrier) =
            (client.clone(), url.clone(), show.clone(), barrier.clone());
        set.spawn(async move {
            let body = json!({"show_id": show, "seat_ids": [seat], "promo_code": "last-one"});
            barrier.wait().await;
            let res = client
                .post(&url)
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
                .expect("request sent");
            let status = res.status().as_u16();
            let body: Value = res.json().await.expect("JSON answer");
            (status, body)
        });
    }
    let mut won = Vec::new();
    let mut exhausted = 0;
    let mut unexpected = Vec::new();
    while let Some(joined) = set.join_next().await {
        let (status, body) = joined.expect("racer");
        match (status, body["code"].as_str()) {
            (201, _) => won.push(body),
            (422, Some("voucher_exhausted")) => exhausted += 1,
            _ => unexpected.push((status, body)),
        }
    }
    assert!(
        unexpected.is_empty(),
        "unexpected answers: {unexpected:?}\n{}",
        server.log_tail()
    );
    assert_eq!(won.len(), 1, "one winner: {won:?}");
    assert_eq!(won[0]["voucher_code"], "LAST-ONE");
    assert_eq!(exhausted, RACERS - 1);
    assert_eq!(live_redemptions(&pool, &s(&voucher, "id")).await, 3);
    assert_eq!(app.redeemed(&b, &voucher).await, 3);
    // The losers took nothing: the winner's seat and the early customer's two are taken.
    let taken: i64 = sqlx::query_scalar(
        "select count(*) from booking_seats where show_id = $1 and taken_until > now()",
    )
    .bind(uuid_of(&show))
    .fetch_one(&pool)
    .await
    .expect("taken seats");
    assert_eq!(taken, 3);
    assert!(server.stop().await.success(), "{}", server.log_tail());
    app.stop().await;
}

/// The default pricing (WIT 0.3.0) takes a voucher's discount off: a percentage of the total
/// rounded down, an amount up to the total, from the last seat's line up; the booking, its
/// payment and its confirmation email show it.
#[sqlx::test(migrations = "../migrations")]
async fn the_default_pricing_takes_the_vouchers_discount_off_the_total(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Discount Cinemas").await;
    let (_, customer) = app.customer("Asha").await;
    for (code, discount) in [
        ("TEN", json!({"percent": 10})),
        ("THIRD", json!({"percent": 33})),
        ("ALL", json!({"percent": 100})),
        ("FLAT", json!({"amount_minor": 30000})),
        ("HUGE", json!({"amount_minor": 90000})),
    ] {
        app.voucher(
            &b,
            json!({"code": code, "max_redemptions": 5, "discount": discount}),
        )
        .await;
    }
    // Two standard seats: 2 × 25 000 = 50 000 before the discount.
    for (code, total, off, items) in [
        ("TEN", 45000, 5000, [25000, 20000]),
        ("THIRD", 33500, 16500, [25000, 8500]),
        ("ALL", 0, 50000, [0, 0]),
        ("FLAT", 20000, 30000, [20000, 0]),
        ("HUGE", 0, 50000, [0, 0]),
    ] {
        let held = expect_json(
            app.hold_with(&customer, &b.show_id, &["A-1", "A-2"], code)
                .await,
            201,
        )
        .await;
        assert_eq!(held["total_minor"], total, "{code}: {held}");
        assert_eq!(held["discount_minor"], off, "{code}: {held}");
        let amounts: Vec<i64> = held["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|i| i["amount_minor"].as_i64())
            .collect();
        assert_eq!(amounts, items, "{code}: {held}");
        expect_json(
            app.cancel_booking(Some(&customer), &s(&held, "id")).await,
            200,
        )
        .await;
    }

    // Paid: the payment is the discounted total, and the email says what the voucher took off.
    let held = expect_json(
        app.hold_with(&customer, &b.show_id, &["A-1", "A-2"], "ten")
            .await,
        201,
    )
    .await;
    let payment = app.pay(&customer, &held).await;
    assert_eq!(payment["amount_minor"], 45000);
    let confirmed = app.booking(&customer, &s(&held, "id")).await;
    assert_eq!(confirmed["status"], "confirmed");
    assert_eq!(confirmed["discount_minor"], 5000);
    assert_eq!(confirmed["voucher_code"], "TEN");
    let fields: Value = sqlx::query_scalar(
        "select fields from notifications where kind = 'booking-confirmed' and dedupe_key = $1",
    )
    .bind(format!("booking-confirmed:{}", s(&held, "id")))
    .fetch_one(&pool)
    .await
    .expect("the confirmation email");
    assert_eq!(fields["voucher-code"], "TEN", "{fields}");
    assert_eq!(fields["discount"], "INR 50.00", "{fields}");
    assert_eq!(fields["total"], "INR 450.00", "{fields}");
    // Without a voucher the email has no discount.
    let plain = app.hold(&customer, &b.show_id, &["A-5"]).await;
    app.pay(&customer, &plain).await;
    let fields: Value = sqlx::query_scalar(
        "select fields from notifications where kind = 'booking-confirmed' and dedupe_key = $1",
    )
    .bind(format!("booking-confirmed:{}", s(&plain, "id")))
    .fetch_one(&pool)
    .await
    .expect("the confirmation email");
    assert!(fields.get("discount").is_none(), "{fields}");
    assert!(fields.get("voucher-code").is_none(), "{fields}");
    app.stop().await;
}

/// A code that is no voucher of the chain still reaches the chain's own pricing, which may
/// know it; one it refuses too is `voucher_unknown` with its reason.
#[sqlx::test(migrations = "../migrations")]
async fn a_code_that_is_no_voucher_still_reaches_the_chains_own_pricing(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Promo Cinemas").await;
    let (token, chain) = (&b.venue.token, &b.venue.chain_id);
    let promo = app
        .upload_ok(
            token,
            chain,
            "pricing",
            crate::support::component("examples/promo-pricing.wasm"),
        )
        .await;
    app.bind_ok(token, chain, "pricing", &s(&promo, "id"), None)
        .await;
    let (_, customer) = app.customer("Asha").await;
    // FLAT100: 100.00 off an order of at least 500.00, the component's own code.
    let held = expect_json(
        app.hold_with(&customer, &b.show_id, &["A-1", "A-2"], "FLAT100")
            .await,
        201,
    )
    .await;
    assert_eq!(held["total_minor"], 40000, "{held}");
    assert_eq!(held["promo_code"], "FLAT100");
    assert!(held["voucher_code"].is_null(), "{held}");
    assert_eq!(held["discount_minor"], 0);
    let problem = assert_problem(
        app.hold_with(&customer, &b.show_id, &["A-3"], "NOPE").await,
        422,
        "voucher_unknown",
    )
    .await;
    assert!(
        !s(&problem, "detail").is_empty(),
        "the component's reason: {problem}"
    );
    app.stop().await;
}
