//! Gift cards (issue 16): staff issue them (the code shown once, stored as a digest), the
//! holder reads the balance by code, a payment spends the card first and charges the rest to
//! the card token, refunds return the card's part, and the balance never goes below zero and
//! always equals the sum of the card's movements, even under concurrent payments.

use std::sync::Arc;

use reqwest::Response;
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::sync::Barrier;
use tokio::task::JoinSet;

use crate::oversell::{on_many_threads, stop};
use crate::support::app::TestApp;
use crate::support::client::{
    Bookable, assert_problem, expect_json, notifications_of, payments_of, s, uuid_of,
};

/// `POST /chains/{id}/gift-cards`, whatever the answer.
async fn try_issue(
    app: &TestApp,
    token: &str,
    chain: &str,
    amount_minor: i64,
    currency: &str,
) -> Response {
    app.post_json(
        &format!("/chains/{chain}/gift-cards"),
        Some(token),
        json!({"amount_minor": amount_minor, "currency": currency}),
    )
    .await
}

/// A card of `amount_minor` INR of the venue's chain (201 expected).
async fn issue(app: &TestApp, b: &Bookable, amount_minor: i64) -> Value {
    expect_json(
        try_issue(app, &b.venue.token, &b.venue.chain_id, amount_minor, "INR").await,
        201,
    )
    .await
}

/// `GET /gift-cards/balance` with `code` in the header (none when `None`).
async fn balance(app: &TestApp, code: Option<&str>) -> Response {
    let mut req = app.client.get(app.api("/gift-cards/balance"));
    if let Some(code) = code {
        req = req.header("gift-card-code", code);
    }
    req.send().await.expect("request sent")
}

async fn balance_of(app: &TestApp, code: &str) -> i64 {
    let v = expect_json(balance(app, Some(code)).await, 200).await;
    v["balance_minor"].as_i64().expect("balance_minor")
}

/// Pays `booking` in full with an optional gift card and an optional card token.
async fn pay_with(
    app: &TestApp,
    token: &str,
    booking: &Value,
    gift_card_code: Option<&str>,
    card_token: Option<&str>,
) -> Response {
    let mut body = json!({
        "amount_minor": booking["total_minor"],
        "currency": booking["currency"],
    });
    if let Some(code) = gift_card_code {
        body["gift_card_code"] = json!(code);
    }
    if let Some(card) = card_token {
        body["card_token"] = json!(card);
    }
    app.post_json(
        &format!("/bookings/{}/payments", s(booking, "id")),
        Some(token),
        body,
    )
    .await
}

/// Every card's balance is at least zero, equals the sum of its movements, and is the
/// `balance_after_minor` of its latest movement.
async fn assert_ledgers_balance(pool: &PgPool) {
    let rows: Vec<(uuid::Uuid, i64, i64, i64)> = sqlx::query_as(
        "select g.id, g.balance_minor, coalesce(sum(m.amount_minor), 0)::bigint, \
                (select balance_after_minor from gift_card_movements l where l.card_id = g.id \
                 order by l.id desc limit 1) \
         from gift_cards g left join gift_card_movements m on m.card_id = g.id group by g.id",
    )
    .fetch_all(pool)
    .await
    .expect("ledgers");
    for (id, balance, sum, last) in rows {
        assert!(balance >= 0, "card {id}: balance {balance}");
        assert_eq!(balance, sum, "card {id}: balance = sum of movements");
        assert_eq!(
            balance, last,
            "card {id}: the latest movement's balance_after"
        );
    }
}

/// The card's movements as `(kind, amount_minor)`, oldest first.
async fn movements(pool: &PgPool, card_id: &str) -> Vec<(String, i64)> {
    sqlx::query_as(
        "select kind, amount_minor from gift_card_movements where card_id = $1 order by id",
    )
    .bind(uuid_of(card_id))
    .fetch_all(pool)
    .await
    .expect("movements")
}

async fn provider_ref(pool: &PgPool, booking_id: &str) -> String {
    sqlx::query_scalar("select provider_ref from payments where booking_id = $1")
        .bind(uuid_of(booking_id))
        .fetch_one(pool)
        .await
        .expect("provider_ref")
}

#[sqlx::test(migrations = "../migrations")]
async fn staff_issue_a_card_whose_code_is_shown_only_once(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Gift").await;
    let chain = &b.venue.chain_id;
    let card = issue(&app, &b, 50_000).await;
    let code = s(&card, "code");
    assert_eq!(card["balance_minor"], 50_000);
    assert_eq!(card["currency"], "INR");
    let groups: Vec<&str> = code.split('-').collect();
    assert_eq!(groups.len(), 5, "{code}");
    assert_eq!(groups[0], "GC");
    for g in &groups[1..] {
        assert_eq!(g.len(), 5, "{code}");
        assert!(
            g.chars()
                .all(|c| c.is_ascii_digit() || (c.is_ascii_uppercase() && !"ILOU".contains(c))),
            "{code}"
        );
    }
    let second = issue(&app, &b, 50_000).await;
    assert_ne!(s(&second, "code"), code, "codes are random");

    // Staff see the cards, with the last four characters, never the code.
    let list = app
        .get_ok(&format!("/chains/{chain}/gift-cards"), Some(&b.venue.token))
        .await;
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{list}");
    assert_eq!(items[0]["id"], card["id"]);
    assert_eq!(items[0]["hint"], json!(&code[code.len() - 4..]));
    assert_eq!(items[0]["balance_minor"], 50_000);
    assert!(items[0].get("code").is_none(), "{list}");
    assert!(!list.to_string().contains(&code[3..]), "{list}");
    let one = app
        .get_ok(
            &format!("/chains/{chain}/gift-cards/{}", s(&card, "id")),
            Some(&b.venue.token),
        )
        .await;
    assert!(one.get("code").is_none(), "{one}");
    assert!(!one.to_string().contains(&code[3..]), "{one}");
    assert_eq!(one["movements"].as_array().map(Vec::len), Some(1), "{one}");
    assert_eq!(one["movements"][0]["kind"], "issue");
    assert_eq!(one["movements"][0]["amount_minor"], 50_000);
    assert_eq!(one["movements"][0]["actor_id"], json!(b.venue.owner_id));

    // The database holds a digest of the code, not the code.
    let stored: Vec<String> = sqlx::query_scalar("select row_to_json(g)::text from gift_cards g")
        .fetch_all(&pool)
        .await
        .expect("rows");
    let body: String = code.replace('-', "")[2..].to_owned();
    assert!(stored.iter().all(|r| !r.contains(&body)), "{stored:?}");

    // Admins may issue; another chain's staff and customers may not.
    let admin = app.admin_token().await;
    expect_json(try_issue(&app, &admin, chain, 100, "INR").await, 201).await;
    let other = app.venue("Other").await;
    assert_problem(
        try_issue(&app, &other.token, chain, 100, "INR").await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get_auth(&format!("/chains/{chain}/gift-cards"), Some(&other.token))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get_auth(
            &format!("/chains/{}/gift-cards/{}", other.chain_id, s(&card, "id")),
            Some(&other.token),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let (_, customer) = app.customer("Cust").await;
    assert_problem(
        try_issue(&app, &customer, chain, 100, "INR").await,
        403,
        "forbidden",
    )
    .await;
    // Values out of range.
    for (amount, currency, field) in [
        (0, "INR", "amount_minor"),
        (-5, "INR", "amount_minor"),
        (1_000_000_001, "INR", "amount_minor"),
        (100, "inr", "currency"),
        (100, "RUPEE", "currency"),
    ] {
        let problem = assert_problem(
            try_issue(&app, &b.venue.token, chain, amount, currency).await,
            422,
            "validation_failed",
        )
        .await;
        assert!(problem["errors"][field].is_array(), "{problem}");
    }
    assert_ledgers_balance(&pool).await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_holder_reads_the_balance_with_the_code(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Balance").await;
    let card = issue(&app, &b, 12_345).await;
    let code = s(&card, "code");

    let v = expect_json(balance(&app, Some(&code)).await, 200).await;
    assert_eq!(v["balance_minor"], 12_345);
    assert_eq!(v["currency"], "INR");
    let moves = v["movements"].as_array().expect("movements");
    assert_eq!(moves.len(), 1, "{v}");
    assert_eq!(moves[0]["kind"], "issue");
    assert_eq!(moves[0]["amount_minor"], 12_345);
    assert_eq!(moves[0]["balance_after_minor"], 12_345);
    assert!(
        moves[0].get("actor_id").is_none(),
        "no staff ids for the holder: {v}"
    );

    // Typed loosely: lower case, spaces, no dashes, no prefix.
    for typed in [
        code.to_lowercase(),
        code.replace('-', " "),
        code.replace('-', ""),
        code[3..].to_owned(),
    ] {
        assert_eq!(balance_of(&app, &typed).await, 12_345, "{typed:?}");
    }
    // Unknown or malformed: 404; missing or blank header: 422.
    let mut unknown = code.clone();
    let last = if unknown.ends_with('0') { "1" } else { "0" };
    unknown.replace_range(unknown.len() - 1.., last);
    assert_problem(balance(&app, Some(&unknown)).await, 404, "not_found").await;
    assert_problem(balance(&app, Some("GC-nope")).await, 404, "not_found").await;
    assert_problem(balance(&app, None).await, 422, "validation_failed").await;
    assert_problem(balance(&app, Some("   ")).await, 422, "validation_failed").await;
    assert_problem(
        balance(&app, Some(&"A".repeat(65))).await,
        422,
        "validation_failed",
    )
    .await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn unknown_codes_are_rate_limited_per_client(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Limit").await;
    let code = s(&issue(&app, &b, 500).await, "code");
    // Found codes do not count.
    for _ in 0..40 {
        assert_eq!(balance_of(&app, &code).await, 500);
    }
    for i in 0..30 {
        let res = balance(&app, Some(&format!("GC-00000-00000-00000-{i:05}"))).await;
        assert_problem(res, 404, "not_found").await;
    }
    let res = balance(&app, Some("GC-00000-00000-00000-ZZZZZ")).await;
    assert!(res.headers().get("retry-after").is_some(), "{res:?}");
    assert_problem(res, 429, "rate_limited").await;
    // Spent budgets refuse even a good code until the window ends.
    assert_problem(balance(&app, Some(&code)).await, 429, "rate_limited").await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_card_that_covers_the_total_pays_alone_without_the_gateway(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Covered").await;
    let card = issue(&app, &b, 100_000).await;
    let code = s(&card, "code");
    let (_, customer) = app.customer("Cust").await;
    let booking = app.hold(&customer, &b.show_id, &["A-1"]).await;
    let id = s(&booking, "id");

    let payment = expect_json(
        pay_with(&app, &customer, &booking, Some(&code), None).await,
        201,
    )
    .await;
    assert_eq!(payment["amount_minor"], 25_000);
    assert_eq!(payment["gift_card_minor"], 25_000);
    assert_eq!(payment["status"], "succeeded");
    assert_eq!(app.booking(&customer, &id).await["status"], "confirmed");
    assert_eq!(
        provider_ref(&pool, &id).await,
        "gift-card",
        "no charge was made"
    );
    assert_eq!(balance_of(&app, &code).await, 75_000);

    // A declined token is never charged when the card covers the total: the gateway is not
    // called at all.
    let second = app.hold(&customer, &b.show_id, &["A-2"]).await;
    let paid = expect_json(
        pay_with(&app, &customer, &second, Some(&code), Some("tok_declined")).await,
        201,
    )
    .await;
    assert_eq!(paid["gift_card_minor"], 25_000);
    assert_eq!(provider_ref(&pool, &s(&second, "id")).await, "gift-card");
    assert_eq!(balance_of(&app, &code).await, 50_000);

    // The confirmation says what the card paid and what is left on it.
    let fields: Value = sqlx::query_scalar(
        "select fields from notifications where kind = 'booking-confirmed' \
         and dedupe_key = 'booking-confirmed:' || $1",
    )
    .bind(&id)
    .fetch_one(&pool)
    .await
    .expect("confirmation");
    assert_eq!(fields["gift-card-paid"], "INR 250.00", "{fields}");
    assert_eq!(fields["gift-card-balance"], "INR 750.00", "{fields}");

    // The payment is the gift card's, as the staff and the holder see it.
    let ledger = app
        .get_ok(
            &format!("/chains/{}/gift-cards/{}", b.venue.chain_id, s(&card, "id")),
            Some(&b.venue.token),
        )
        .await;
    let moves = ledger["movements"].as_array().expect("movements");
    assert_eq!(moves.len(), 3, "{ledger}");
    assert_eq!(moves[1]["kind"], "spend");
    assert_eq!(moves[1]["amount_minor"], -25_000);
    assert_eq!(moves[1]["balance_after_minor"], 75_000);
    assert_eq!(moves[1]["booking_id"], json!(id));
    assert_eq!(moves[1]["payment_id"], payment["id"]);
    let holder = expect_json(balance(&app, Some(&code)).await, 200).await;
    assert_eq!(holder["movements"].as_array().map(Vec::len), Some(3));
    assert_ledgers_balance(&pool).await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_card_pays_first_and_the_card_token_the_rest(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Split").await;
    let card = issue(&app, &b, 10_000).await;
    let code = s(&card, "code");
    let (_, customer) = app.customer("Cust").await;
    let booking = app.hold(&customer, &b.show_id, &["A-1", "B-1"]).await;
    let id = s(&booking, "id");
    assert_eq!(booking["total_minor"], 65_000);

    let payment = expect_json(
        pay_with(&app, &customer, &booking, Some(&code), Some("tok_visa")).await,
        201,
    )
    .await;
    assert_eq!(payment["amount_minor"], 65_000);
    assert_eq!(payment["gift_card_minor"], 10_000);
    assert_eq!(provider_ref(&pool, &id).await, format!("test_{id}"));
    assert_eq!(balance_of(&app, &code).await, 0);
    assert_eq!(
        movements(&pool, &s(&card, "id")).await,
        vec![("issue".to_owned(), 10_000), ("spend".to_owned(), -10_000)]
    );
    // A payment without a gift card says so.
    let other = app.hold(&customer, &b.show_id, &["A-5"]).await;
    let plain = app.pay(&customer, &other).await;
    assert_eq!(plain["gift_card_minor"], 0);
    let fields: Value = sqlx::query_scalar(
        "select fields from notifications where dedupe_key = 'booking-confirmed:' || $1",
    )
    .bind(s(&other, "id"))
    .fetch_one(&pool)
    .await
    .expect("confirmation");
    assert!(fields.get("gift-card-paid").is_none(), "{fields}");
    assert_ledgers_balance(&pool).await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_card_of_another_chain_or_currency_or_an_unknown_code_is_refused(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Mine").await;
    let other = app.bookable("Theirs").await;
    let theirs = s(&issue(&app, &other, 100_000).await, "code");
    let dollars = s(
        &expect_json(
            try_issue(&app, &b.venue.token, &b.venue.chain_id, 100_000, "USD").await,
            201,
        )
        .await,
        "code",
    );
    let (_, customer) = app.customer("Cust").await;
    let booking = app.hold(&customer, &b.show_id, &["A-1"]).await;
    let id = s(&booking, "id");
    for code in [
        theirs.as_str(),
        dollars.as_str(),
        "GC-00000-00000-00000-00000",
        "not a code",
    ] {
        for token in [None, Some("tok_visa")] {
            assert_problem(
                pay_with(&app, &customer, &booking, Some(code), token).await,
                422,
                "gift_card_invalid",
            )
            .await;
        }
    }
    assert_eq!(balance_of(&app, &theirs).await, 100_000);
    assert_eq!(balance_of(&app, &dollars).await, 100_000);
    assert_eq!(payments_of(&pool, &id).await, 0);
    assert_eq!(app.booking(&customer, &id).await["status"], "held");
    // Neither a card token nor a gift card: the card token is missing.
    let problem = assert_problem(
        pay_with(&app, &customer, &booking, None, None).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(problem["errors"]["card_token"].is_array(), "{problem}");
    // An empty code is no code.
    let problem = assert_problem(
        pay_with(&app, &customer, &booking, Some(""), None).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(problem["errors"]["card_token"].is_array(), "{problem}");
    let paid = expect_json(
        pay_with(&app, &customer, &booking, Some(""), Some("tok_visa")).await,
        201,
    )
    .await;
    assert_eq!(paid["gift_card_minor"], 0);
    assert_ledgers_balance(&pool).await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_card_that_does_not_cover_the_total_needs_a_card_token(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Short").await;
    let card = issue(&app, &b, 24_999).await;
    let code = s(&card, "code");
    let (_, customer) = app.customer("Cust").await;
    let booking = app.hold(&customer, &b.show_id, &["A-1"]).await;
    let id = s(&booking, "id");

    let problem = assert_problem(
        pay_with(&app, &customer, &booking, Some(&code), None).await,
        422,
        "gift_card_invalid",
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("insufficient")),
        "{problem}"
    );
    assert_eq!(balance_of(&app, &code).await, 24_999);
    assert_eq!(payments_of(&pool, &id).await, 0);
    assert_eq!(app.booking(&customer, &id).await["status"], "held");
    assert_eq!(movements(&pool, &s(&card, "id")).await.len(), 1);

    // With a token it pays; the used-up card then pays nothing more.
    let paid = expect_json(
        pay_with(&app, &customer, &booking, Some(&code), Some("tok_visa")).await,
        201,
    )
    .await;
    assert_eq!(paid["gift_card_minor"], 24_999);
    let next = app.hold(&customer, &b.show_id, &["A-2"]).await;
    for token in [None, Some("tok_visa")] {
        assert_problem(
            pay_with(&app, &customer, &next, Some(&code), token).await,
            422,
            "gift_card_invalid",
        )
        .await;
    }
    assert_eq!(balance_of(&app, &code).await, 0);
    assert_ledgers_balance(&pool).await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_declined_card_token_leaves_the_gift_card_untouched(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Declined").await;
    let card = issue(&app, &b, 10_000).await;
    let code = s(&card, "code");
    let (_, customer) = app.customer("Cust").await;
    let booking = app.hold(&customer, &b.show_id, &["A-1"]).await;
    let id = s(&booking, "id");

    assert_problem(
        pay_with(&app, &customer, &booking, Some(&code), Some("tok_declined")).await,
        402,
        "payment_declined",
    )
    .await;
    assert_eq!(balance_of(&app, &code).await, 10_000);
    assert_eq!(movements(&pool, &s(&card, "id")).await.len(), 1);
    assert_eq!(app.booking(&customer, &id).await["status"], "held");
    assert_eq!(app.seat_states(&b.show_id).await["A-1"], "held");
    assert_eq!(payments_of(&pool, &id).await, 0);
    assert_eq!(notifications_of(&pool, "booking-confirmed").await, 0);
    // Another token succeeds, the card paying its part.
    let paid = expect_json(
        pay_with(&app, &customer, &booking, Some(&code), Some("tok_visa")).await,
        201,
    )
    .await;
    assert_eq!(paid["gift_card_minor"], 10_000);
    assert_eq!(balance_of(&app, &code).await, 0);
    assert_ledgers_balance(&pool).await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_idempotency_key_replays_a_gift_card_payment_once(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Replay").await;
    let code = s(&issue(&app, &b, 60_000).await, "code");
    let other = s(&issue(&app, &b, 60_000).await, "code");
    let (_, customer) = app.customer("Cust").await;
    let booking = app.hold(&customer, &b.show_id, &["A-1"]).await;
    let path = format!("/bookings/{}/payments", s(&booking, "id"));
    let body =
        |code: &str| json!({"amount_minor": 25_000, "currency": "INR", "gift_card_code": code});

    let first = expect_json(
        app.post_keyed(&path, Some(&customer), Some("gift-1"), body(&code))
            .await,
        201,
    )
    .await;
    // The same request again: the first answer, the card debited once. Typed differently,
    // the code is the same code.
    let again = expect_json(
        app.post_keyed(
            &path,
            Some(&customer),
            Some("gift-1"),
            body(&code.to_lowercase()),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(again, first);
    assert_eq!(balance_of(&app, &code).await, 35_000);
    // Another card under the same key is another request.
    assert_problem(
        app.post_keyed(&path, Some(&customer), Some("gift-1"), body(&other))
            .await,
        422,
        "idempotency_key_reused",
    )
    .await;
    assert_eq!(balance_of(&app, &other).await, 60_000);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn concurrent_payments_never_spend_more_than_the_balance(pool: PgPool) {
    on_many_threads(pool, |pool| async move {
        let app = Arc::new(TestApp::spawn(pool.clone()).await);
        let b: Bookable = app.bookable("GiftRace").await;
        const PAYERS: usize = 8;
        const COVERED: usize = 3;
        // Exactly three bookings' worth (a standard seat is 25 000).
        let card = issue(&app, &b, COVERED as i64 * 25_000).await;
        let code = s(&card, "code");
        let mut holds = Vec::new();
        for i in 0..PAYERS {
            let (_, customer) = app.customer(&format!("Racer {i}")).await;
            let seat = format!("A-{}", i + 1);
            let booking = app.hold(&customer, &b.show_id, &[seat.as_str()]).await;
            holds.push((customer, booking));
        }

        let barrier = Arc::new(Barrier::new(PAYERS));
        let mut set = JoinSet::new();
        for (customer, booking) in holds {
            let (app, code, barrier) = (app.clone(), code.clone(), barrier.clone());
            set.spawn(async move {
                barrier.wait().await;
                let res = pay_with(&app, &customer, &booking, Some(&code), None).await;
                let status = res.status().as_u16();
                let text = res.text().await.expect("body");
                (s(&booking, "id"), status, text)
            });
        }
        let answers = set.join_all().await;
        let paid: Vec<&(String, u16, String)> =
            answers.iter().filter(|(_, st, _)| *st == 201).collect();
        assert_eq!(
            paid.len(),
            COVERED,
            "exactly {COVERED} succeed: {answers:#?}"
        );
        for (id, status, text) in &answers {
            if *status == 201 {
                let payment: Value = serde_json::from_str(text).expect("payment");
                assert_eq!(payment["gift_card_minor"], 25_000, "{text}");
                assert_eq!(payments_of(&pool, id).await, 1);
            } else {
                let problem: Value = serde_json::from_str(text).expect("problem");
                assert_eq!(
                    (*status, problem["code"].clone()),
                    (422, json!("gift_card_invalid")),
                    "{text}"
                );
                assert_eq!(payments_of(&pool, id).await, 0);
            }
        }
        assert_eq!(balance_of(&app, &code).await, 0);
        let moves = movements(&pool, &s(&card, "id")).await;
        assert_eq!(moves.len(), 1 + COVERED, "{moves:?}");
        assert_eq!(moves.iter().map(|(_, a)| a).sum::<i64>(), 0);
        assert_ledgers_balance(&pool).await;
        stop(app).await;
    })
    .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn cancelling_returns_the_gift_cards_part_to_it_first(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Refund").await;
    let card = issue(&app, &b, 10_000).await;
    let code = s(&card, "code");
    let (_, customer) = app.customer("Cust").await;
    let booking = app.hold(&customer, &b.show_id, &["A-1"]).await;
    let id = s(&booking, "id");
    expect_json(
        pay_with(&app, &customer, &booking, Some(&code), Some("tok_visa")).await,
        201,
    )
    .await;
    assert_eq!(balance_of(&app, &code).await, 0);

    let cancelled = expect_json(app.cancel_booking(Some(&customer), &id).await, 200).await;
    assert_eq!(cancelled["refund_minor"], 25_000);
    // 10 000 back to the card, 15 000 to the payment card.
    assert_eq!(balance_of(&app, &code).await, 10_000);
    assert_eq!(
        movements(&pool, &s(&card, "id")).await,
        vec![
            ("issue".to_owned(), 10_000),
            ("spend".to_owned(), -10_000),
            ("refund".to_owned(), 10_000),
        ]
    );
    let (refunded, to_card): (i64, i64) = sqlx::query_as(
        "select refunded_minor, gift_card_refunded_minor from payments where booking_id = $1",
    )
    .bind(uuid_of(&id))
    .fetch_one(&pool)
    .await
    .expect("payment");
    assert_eq!((refunded, to_card), (25_000, 10_000));
    assert_ledgers_balance(&pool).await;
    app.stop().await;
}

/// What a partial cancellation will do: each refund returns to the card at most what it paid
/// minus what earlier refunds returned.
#[sqlx::test(migrations = "../migrations")]
async fn refunds_return_to_the_card_at_most_what_it_paid(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Partial").await;
    let card = issue(&app, &b, 10_000).await;
    let code = s(&card, "code");
    let (_, customer) = app.customer("Cust").await;
    let booking = app.hold(&customer, &b.show_id, &["A-1"]).await;
    let id = uuid_of(&s(&booking, "id"));
    expect_json(
        pay_with(&app, &customer, &booking, Some(&code), Some("tok_visa")).await,
        201,
    )
    .await;
    let chain = uuid_of(&b.venue.chain_id);
    let mut returned = Vec::new();
    for refund in [6_000, 6_000, 6_000, 0] {
        let mut tx = pool.begin().await.expect("tx");
        let back = cineflow::db::gift_cards::refund_gift_card(&mut tx, chain, id, refund, None)
            .await
            .expect("refund");
        tx.commit().await.expect("commit");
        returned.push(back);
    }
    assert_eq!(returned, vec![6_000, 4_000, 0, 0]);
    assert_eq!(balance_of(&app, &code).await, 10_000);
    // A booking paid without a gift card returns nothing to any card.
    let plain = app.hold(&customer, &b.show_id, &["A-2"]).await;
    app.pay(&customer, &plain).await;
    let mut tx = pool.begin().await.expect("tx");
    let back = cineflow::db::gift_cards::refund_gift_card(
        &mut tx,
        chain,
        uuid_of(&s(&plain, "id")),
        25_000,
        None,
    )
    .await
    .expect("refund");
    tx.commit().await.expect("commit");
    assert_eq!(back, 0);
    assert_ledgers_balance(&pool).await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn cancelling_a_show_returns_every_gift_cards_part(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("ShowRefund").await;
    let card = issue(&app, &b, 40_000).await;
    let code = s(&card, "code");
    let (_, first) = app.customer("First").await;
    let (_, second) = app.customer("Second").await;
    let whole = app.hold(&first, &b.show_id, &["A-1"]).await;
    expect_json(pay_with(&app, &first, &whole, Some(&code), None).await, 201).await;
    let split = app.hold(&second, &b.show_id, &["A-2"]).await;
    let paid = expect_json(
        pay_with(&app, &second, &split, Some(&code), Some("tok_visa")).await,
        201,
    )
    .await;
    assert_eq!(paid["gift_card_minor"], 15_000);
    assert_eq!(balance_of(&app, &code).await, 0);

    let res = app
        .post_json(
            &format!("/shows/{}/cancel", b.show_id),
            Some(&b.venue.token),
            json!({}),
        )
        .await;
    let result = expect_json(res, 200).await;
    assert_eq!(result["cancelled_bookings"], 2, "{result}");
    assert_eq!(result["refunded_minor"], 50_000, "{result}");
    assert_eq!(balance_of(&app, &code).await, 40_000);
    let moves = movements(&pool, &s(&card, "id")).await;
    assert_eq!(
        moves
            .iter()
            .filter(|(k, _)| k == "refund")
            .map(|(_, a)| *a)
            .sum::<i64>(),
        40_000,
        "{moves:?}"
    );
    assert_ledgers_balance(&pool).await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_openapi_document_describes_gift_cards(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let doc: Value = app.get("/openapi.json").await.json().await.expect("json");
    let paths = &doc["paths"];
    for (path, method) in [
        ("/api/v1/chains/{id}/gift-cards", "post"),
        ("/api/v1/chains/{id}/gift-cards", "get"),
        ("/api/v1/chains/{id}/gift-cards/{card_id}", "get"),
        ("/api/v1/gift-cards/balance", "get"),
    ] {
        let op = &paths[path][method];
        assert!(op.is_object(), "{method} {path}");
        assert!(
            op["responses"]["413"].is_object(),
            "{method} {path} declares 413"
        );
    }
    let balance = &paths["/api/v1/gift-cards/balance"]["get"];
    let header = balance["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "Gift-Card-Code"))
        .expect("the header is declared");
    assert_eq!(header["in"], "header");
    assert_eq!(header["required"], true);
    for status in ["200", "404", "422", "429"] {
        assert!(balance["responses"][status].is_object(), "{status}");
    }
    let pay = &paths["/api/v1/bookings/{id}/payments"]["post"];
    assert!(
        pay["responses"]["422"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("gift_card_invalid"))
    );
    let schemas = &doc["components"]["schemas"];
    assert!(schemas["PayBody"]["properties"]["gift_card_code"].is_object());
    assert!(schemas["PaymentView"]["properties"]["gift_card_minor"].is_object());
    let issue = &schemas["IssueGiftCard"]["properties"];
    assert_eq!(issue["amount_minor"]["minimum"], 1);
    assert_eq!(issue["currency"]["pattern"], "^[A-Z]{3}$");
    app.stop().await;
}
