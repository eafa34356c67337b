//! The API additions of the operator console (issue 19): a chain's shows report and sales
//! report (their figures on a small fixture, who may read them, their parameters), the
//! booking list's `email` and `show_id` filters, and retrying a failed email.

use chrono::{Duration, NaiveDate, Utc};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::support::app::TestApp;
use crate::support::client::{
    Bookable, assert_invalid, assert_problem, base_time, expect_json, expire_hold, ids, rfc3339, s,
    uuid_of,
};
use crate::tickets::{scan, tickets};

/// What the fixture sold: paid, and what the gift card paid of it.
struct Sold {
    /// Customer of the paid, partly cancelled, checked-in booking.
    asha: String,
    asha_booking: String,
    /// Paid in full, before the partial refund: 2 standard seats and one premium.
    paid_minor: i64,
    /// Refunded by the partial cancellation (the premium seat).
    refund_minor: i64,
    /// Paid partly by gift card (one standard seat).
    gift_paid_minor: i64,
    gift_card_minor: i64,
}

/// On the bookable show: Asha pays and B-3, cancels B-3 (refunded in full a week
/// ahead) and checks A-1 in; Ravi pays A-7 with a gift card of 10 000 and a card; Mira holds
/// A-5 (live); Noor's hold of A-6 has run out.
async fn fixture(app: &TestApp, pool: &PgPool, b: &Bookable) -> Sold {
    let (chain, staff) = (&b.venue.chain_id, &b.venue.token);
    let (_, asha) = app.customer("Asha").await;
    let held = app.hold(&asha, &b.show_id, &["A-1", "A-2", "B-3"]).await;
    app.pay(&asha, &held).await;
    let asha_booking = s(&held, "id");
    let paid_minor = held["total_minor"].as_i64().expect("total");
    assert_eq!(paid_minor, 25_000 * 2 + 40_000);
    let after = expect_json(
        app.post_json(
            &format!("/bookings/{asha_booking}/cancel"),
            Some(&asha),
            json!({"seat_ids": ["B-3"]}),
        )
        .await,
        200,
    )
    .await;
    let refund_minor = after["refund_minor"].as_i64().expect("refund");
    assert_eq!(refund_minor, 40_000);
    let t = tickets(app, &asha, &asha_booking).await;
    let a1 = t
        .iter()
        .find(|t| t["seat_id"] == "A-1")
        .expect("ticket A-1");
    let checked = scan(
        app,
        staff,
        chain,
        json!({"code": s(a1, "code"), "scan_id": "report-1"}),
    )
    .await;
    assert_eq!(checked["result"], "ok", "{checked}");

    let (_, ravi) = app.customer("Ravi").await;
    let card = expect_json(
        app.post_json(
            &format!("/chains/{chain}/gift-cards"),
            Some(staff),
            json!({"amount_minor": 10_000, "currency": "INR"}),
        )
        .await,
        201,
    )
    .await;
    let held = app.hold(&ravi, &b.show_id, &["A-7"]).await;
    let paid = expect_json(
        app.post_json(
            &format!("/bookings/{}/payments", s(&held, "id")),
            Some(&ravi),
            json!({
                "amount_minor": held["total_minor"],
                "currency": "INR",
                "gift_card_code": s(&card, "code"),
                "card_token": "tok_visa",
            }),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(paid["gift_card_minor"], 10_000, "{paid}");

    let (_, mira) = app.customer("Mira").await;
    app.hold(&mira, &b.show_id, &["A-5"]).await;
    let (_, noor) = app.customer("Noor").await;
    let gone = app.hold(&noor, &b.show_id, &["A-6"]).await;
    expire_hold(pool, &s(&gone, "id")).await;
    Sold {
        asha,
        asha_booking,
        paid_minor,
        refund_minor,
        gift_paid_minor: 25_000,
        gift_card_minor: 10_000,
    }
}

fn shows_path(chain: &str, from: chrono::DateTime<Utc>, to: chrono::DateTime<Utc>) -> String {
    format!(
        "/chains/{chain}/reports/shows?from={}&to={}",
        rfc3339(from),
        rfc3339(to)
    )
}

fn date(v: &Value) -> NaiveDate {
    NaiveDate::parse_from_str(v.as_str().expect("date string"), "%Y-%m-%d")
        .unwrap_or_else(|e| panic!("not a date: {v}: {e}"))
}

fn sum(days: &[Value], field: &str) -> i64 {
    days.iter()
        .map(|d| {
            d[field]
                .as_i64()
                .unwrap_or_else(|| panic!("{field} in {d}"))
        })
        .sum()
}

#[sqlx::test(migrations = "../migrations")]
async fn the_reports_count_sold_held_checked_in_paid_and_refunded(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Report").await;
    let (chain, staff) = (b.venue.chain_id.clone(), b.venue.token.clone());
    let sold = fixture(&app, &pool, &b).await;
    // A later show on the same screen with nothing sold, and one outside the period.
    let start = base_time(7);
    let later = app
        .show(
            &staff,
            &b.venue.screen_id,
            &b.venue.movie_id,
            start + Duration::hours(4),
        )
        .await;
    app.show(
        &staff,
        &b.venue.screen_id,
        &b.venue.movie_id,
        start + Duration::days(2),
    )
    .await;

    let report = app
        .get_ok(
            &shows_path(&chain, start, start + Duration::days(1)),
            Some(&staff),
        )
        .await;
    assert_eq!(report["truncated"], false);
    let items = report["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{report}");
    let first = &items[0];
    assert_eq!(first["show_id"], json!(b.show_id));
    assert_eq!(first["status"], "scheduled");
    assert_eq!(first["theatre"]["id"], json!(b.venue.theatre_id));
    assert_eq!(first["screen"]["id"], json!(b.venue.screen_id));
    assert_eq!(first["movie"]["id"], json!(b.venue.movie_id));
    assert!(first["theatre"]["name"].is_string() && first["movie"]["title"].is_string());
    assert_eq!(first["capacity"], 16, "two blocked seats are not sellable");
    assert_eq!(first["seats_sold"], 3, "A-1, A-2 kept and A-7: {first}");
    assert_eq!(
        first["seats_held"], 1,
        "A-5; the run-out hold of A-6 is not"
    );
    assert_eq!(first["checked_in"], 1);
    assert_eq!(
        first["revenue_minor"],
        sold.paid_minor - sold.refund_minor + sold.gift_paid_minor,
        "paid less refunded, gift card part included"
    );
    assert_eq!(first["currency"], "INR");
    assert_eq!(
        items[1]["show_id"], later["id"],
        "same screen: by start time"
    );
    for field in ["seats_sold", "seats_held", "checked_in", "revenue_minor"] {
        assert_eq!(items[1][field], 0, "{field}: {}", items[1]);
    }
    assert_eq!(items[1]["capacity"], 16);
    // `from` is inclusive, `to` exclusive.
    let exact = app
        .get_ok(
            &shows_path(&chain, start, start + Duration::hours(4)),
            Some(&staff),
        )
        .await;
    assert_eq!(ids_of(&exact), std::slice::from_ref(&b.show_id));
    // An admin reads any chain's.
    let admin = app.admin_token().await;
    let by_admin = app
        .get_ok(
            &shows_path(&chain, start, start + Duration::days(1)),
            Some(&admin),
        )
        .await;
    assert_eq!(by_admin["items"].as_array().map(Vec::len), Some(2));

    // Sales: everything happened now, so within today (or, just after midnight, yesterday
    // too); two days are summed whatever the clock.
    for tz in ["UTC", "Asia/Kolkata", "America/New_York"] {
        let before = Utc::now();
        let sales = app
            .get_ok(
                &format!("/chains/{chain}/reports/sales?days=2&tz={tz}"),
                Some(&staff),
            )
            .await;
        assert_eq!(sales["currency"], "INR");
        assert_eq!(sales["tz"], tz);
        let days = sales["days"].as_array().expect("days").clone();
        assert_eq!(days.len(), 2, "{sales}");
        let zone: chrono_tz::Tz = tz.parse().expect("zone");
        let today = date(&days[1]["date"]);
        let local = |t: chrono::DateTime<Utc>| t.with_timezone(&zone).date_naive();
        assert!(
            today == local(before) || today == local(Utc::now()),
            "{tz}: {today}"
        );
        assert_eq!(date(&days[0]["date"]).succ_opt(), Some(today));
        assert_eq!(sum(&days, "bookings"), 2, "{tz}: {sales}");
        assert_eq!(
            sum(&days, "seats"),
            4,
            "3 (one cancelled later) and 1: {sales}"
        );
        assert_eq!(
            sum(&days, "revenue_minor"),
            sold.paid_minor + sold.gift_paid_minor
        );
        assert_eq!(sum(&days, "gift_card_minor"), sold.gift_card_minor);
        assert_eq!(sum(&days, "refunds_minor"), sold.refund_minor);
    }
    // Every day is present, oldest first, zeros included; 30 by default.
    let sales = app
        .get_ok(&format!("/chains/{chain}/reports/sales"), Some(&staff))
        .await;
    assert_eq!(sales["tz"], "UTC");
    let days = sales["days"].as_array().expect("days");
    assert_eq!(days.len(), 30);
    for pair in days.windows(2) {
        assert_eq!(
            date(&pair[0]["date"]).succ_opt(),
            Some(date(&pair[1]["date"]))
        );
    }
    assert!(
        days[..28]
            .iter()
            .all(|d| d["bookings"] == 0 && d["revenue_minor"] == 0)
    );
    assert_eq!(
        app.get_ok(
            &format!("/chains/{chain}/reports/sales?days=90"),
            Some(&staff)
        )
        .await["days"]
            .as_array()
            .map(Vec::len),
        Some(90)
    );
    // Refunds are dated when they happen: a refund today of a booking paid "yesterday"
    // counts today, its payment yesterday.
    sqlx::query(
        "update payments set created_at = created_at - interval '1 day' where booking_id = $1",
    )
    .bind(uuid_of(&sold.asha_booking))
    .execute(&pool)
    .await
    .expect("age the payment");
    let res = app
        .cancel_booking(Some(&sold.asha), &sold.asha_booking)
        .await;
    let cancelled = expect_json(res, 200).await;
    // A whole cancellation answers the booking, whose `refund_minor` adds up every refund.
    let second_refund = cancelled["refund_minor"].as_i64().expect("refund") - sold.refund_minor;
    assert_eq!(second_refund, 50_000, "the two kept seats");
    let sales = app
        .get_ok(
            &format!("/chains/{chain}/reports/sales?days=3"),
            Some(&staff),
        )
        .await;
    let days = sales["days"].as_array().expect("days");
    assert_eq!(
        sum(days, "refunds_minor"),
        sold.refund_minor + second_refund
    );
    assert_eq!(
        sum(days, "revenue_minor"),
        sold.paid_minor + sold.gift_paid_minor
    );
    let report = app
        .get_ok(
            &shows_path(&chain, start, start + Duration::hours(1)),
            Some(&staff),
        )
        .await;
    assert_eq!(report["items"][0]["seats_sold"], 1, "only Ravi's seat");
    assert_eq!(report["items"][0]["revenue_minor"], sold.gift_paid_minor);
}

fn ids_of(report: &Value) -> Vec<String> {
    report["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| s(i, "show_id"))
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn another_chains_owner_learns_nothing_and_customers_are_refused(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Mine").await;
    let chain = &b.venue.chain_id;
    let rival = app.venue("Rival").await;
    let start = base_time(7);
    let shows = shows_path(chain, start, start + Duration::days(1));
    let sales = format!("/chains/{chain}/reports/sales");
    let unknown = uuid::Uuid::now_v7();
    for path in [
        shows.clone(),
        sales.clone(),
        shows_path(&unknown.to_string(), start, start + Duration::days(1)),
        format!("/chains/{unknown}/reports/sales"),
        // Bad parameters too: the chain is asked about first.
        format!("/chains/{chain}/reports/sales?days=0"),
        format!("/chains/{chain}/reports/shows"),
    ] {
        let res = app.get_auth(&path, Some(&rival.token)).await;
        assert_problem(res, 404, "not_found").await;
    }
    let admin = app.admin_token().await;
    for path in [
        shows_path(&unknown.to_string(), start, start + Duration::days(1)),
        format!("/chains/{unknown}/reports/sales"),
    ] {
        assert_problem(app.get_auth(&path, Some(&admin)).await, 404, "not_found").await;
    }
    let (_, customer) = app.customer("Curious").await;
    for path in [&shows, &sales] {
        assert_problem(app.get_auth(path, Some(&customer)).await, 403, "forbidden").await;
        assert_problem(app.get_auth(path, None).await, 401, "unauthorized").await;
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn report_parameters_out_of_range_are_422(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Params").await;
    let (chain, staff) = (&b.venue.chain_id, &b.venue.token);
    let start = base_time(1);
    let app = &app;
    let get = |path: String| async move { app.get_auth(&path, Some(staff)).await };
    assert_invalid(get(format!("/chains/{chain}/reports/shows")).await, "from").await;
    assert_invalid(
        get(format!(
            "/chains/{chain}/reports/shows?from={}",
            rfc3339(start)
        ))
        .await,
        "to",
    )
    .await;
    assert_invalid(get(shows_path(chain, start, start)).await, "to").await;
    assert_invalid(
        get(shows_path(chain, start, start - Duration::hours(1))).await,
        "to",
    )
    .await;
    assert_invalid(
        get(shows_path(
            chain,
            start,
            start + Duration::days(14) + Duration::seconds(1),
        ))
        .await,
        "to",
    )
    .await;
    expect_json(
        get(shows_path(chain, start, start + Duration::days(14))).await,
        200,
    )
    .await;
    for days in ["0", "91", "-1"] {
        assert_invalid(
            get(format!("/chains/{chain}/reports/sales?days={days}")).await,
            "days",
        )
        .await;
    }
    assert_invalid(
        get(format!("/chains/{chain}/reports/sales?tz=Mars/Olympus")).await,
        "tz",
    )
    .await;
    // Not a number, not a time, an unknown parameter: malformed, 400.
    for path in [
        format!("/chains/{chain}/reports/sales?days=many"),
        format!("/chains/{chain}/reports/shows?from=yesterday&to=today"),
        format!("/chains/{chain}/reports/sales?currency=INR"),
    ] {
        assert_problem(get(path).await, 400, "bad_request").await;
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn staff_find_bookings_by_email_and_show_and_page_through_them(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Search").await;
    let (chain, staff) = (&b.venue.chain_id, &b.venue.token);
    let second = s(
        &app.show(
            staff,
            &b.venue.screen_id,
            &b.venue.movie_id,
            base_time(7) + Duration::hours(4),
        )
        .await,
        "id",
    );
    let (_, email, asha) = app.customer_with_email("Asha").await;
    let (_, _, ravi) = app.customer_with_email("Ravi").await;
    let mut asha_bookings = Vec::new();
    for (show, seat) in [(&b.show_id, "A-1"), (&second, "A-1"), (&b.show_id, "A-2")] {
        asha_bookings.push(s(&app.hold(&asha, show, &[seat]).await, "id"));
    }
    let ravis = s(&app.hold(&ravi, &b.show_id, &["A-3"]).await, "id");
    // Asha also books with another chain: never in this chain's list.
    let other = app.bookable("Elsewhere").await;
    let elsewhere = s(&app.hold(&asha, &other.show_id, &["A-1"]).await, "id");

    let shouting = email.to_uppercase();
    let app = &app;
    let list = |query: String, token: String| async move {
        app.get_ok(&format!("/bookings?{query}"), Some(&token))
            .await
    };
    let found = list(format!("chain_id={chain}&email={shouting}"), staff.clone()).await;
    assert_eq!(
        ids(&found),
        asha_bookings,
        "exact email, any case, this chain only"
    );
    let found = list(
        format!("chain_id={chain}&show_id={}", b.show_id),
        staff.clone(),
    )
    .await;
    assert_eq!(
        ids(&found),
        [
            asha_bookings[0].clone(),
            asha_bookings[2].clone(),
            ravis.clone()
        ]
    );
    let found = list(
        format!("chain_id={chain}&show_id={}&email={email}", b.show_id),
        staff.clone(),
    )
    .await;
    assert_eq!(
        ids(&found),
        [asha_bookings[0].clone(), asha_bookings[2].clone()]
    );
    // Paging keeps the filters: one at a time, the same three in order.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = format!("chain_id={chain}&email={email}&limit=1");
        if let Some(c) = &cursor {
            query.push_str(&format!("&cursor={c}"));
        }
        let page = list(query, staff.clone()).await;
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(seen.len() <= 3, "{seen:?}");
    }
    assert_eq!(seen, asha_bookings);
    // Nobody with that email: an empty page.
    let none = list(
        format!("chain_id={chain}&email=nobody@example.com"),
        staff.clone(),
    )
    .await;
    assert_eq!(none["items"], json!([]));
    // An admin searches every chain.
    let admin = app.admin_token().await;
    let all = list(format!("email={email}"), admin.clone()).await;
    let mut expected = asha_bookings.clone();
    expected.push(elsewhere);
    assert_eq!(ids(&all), expected);
    // A customer narrows their own list by show, but cannot search others by email.
    let own = list(format!("show_id={second}"), asha.clone()).await;
    assert_eq!(ids(&own), [asha_bookings[1].clone()]);
    let res = app
        .get_auth(&format!("/bookings?email={email}"), Some(&ravi))
        .await;
    assert_invalid(res, "email").await;
    let res = app
        .get_auth(
            &format!("/bookings?chain_id={chain}&email=not-an-email"),
            Some(staff),
        )
        .await;
    assert_invalid(res, "email").await;
    // Another chain's owner: the chain is not found, whatever the filters.
    let res = app
        .get_auth(
            &format!("/bookings?chain_id={chain}&email={email}"),
            Some(&other.venue.token),
        )
        .await;
    assert_problem(res, 404, "not_found").await;
}

/// Marks a notification failed for good, as the sweeper does after its last attempt.
async fn fail(pool: &PgPool, id: &str) {
    sqlx::query(
        "update notifications set status = 'failed', attempts = 5, last_error = 'permanent: 550', \
         locked_until = null, claim_token = null where id = $1",
    )
    .bind(uuid_of(id))
    .execute(pool)
    .await
    .expect("fail the notification");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_failed_email_is_retried_by_its_chains_staff_or_an_admin(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Outbox").await;
    let (_, customer) = app.customer("Asha").await;
    let held = app.hold(&customer, &b.show_id, &["A-1"]).await;
    app.pay(&customer, &held).await;
    let chain_mail: uuid::Uuid = sqlx::query_scalar(
        "select id from notifications where kind = 'booking-confirmed' and chain_id = $1",
    )
    .bind(uuid_of(&b.venue.chain_id))
    .fetch_one(&pool)
    .await
    .expect("the confirmation email");
    let id = chain_mail.to_string();
    let app = &app;
    let retry = |token: String, id: String| async move {
        app.post_json(
            &format!("/notifications/{id}/retry"),
            Some(&token),
            json!({}),
        )
        .await
    };
    fail(&pool, &id).await;

    // Anyone but the chain's staff and admins: it does not exist.
    let rival = app.venue("Rival").await;
    let (_, stranger) = app.customer("Stranger").await;
    for token in [rival.token.clone(), stranger, customer] {
        assert_problem(retry(token, id.clone()).await, 404, "not_found").await;
    }
    let unknown = uuid::Uuid::now_v7().to_string();
    assert_problem(
        retry(b.venue.token.clone(), unknown).await,
        404,
        "not_found",
    )
    .await;
    let res = app
        .post_json(&format!("/notifications/{id}/retry"), None, json!({}))
        .await;
    assert_problem(res, 401, "unauthorized").await;

    let before = Utc::now();
    let again = expect_json(retry(b.venue.token.clone(), id.clone()).await, 200).await;
    assert_eq!(again["id"], json!(id));
    assert_eq!(again["status"], "pending");
    assert_eq!(again["attempts"], 0);
    assert_eq!(
        again["last_error"], "permanent: 550",
        "kept until the next attempt"
    );
    let due = crate::support::client::parse_time(&again["next_attempt_at"]);
    assert!(due <= Utc::now() + Duration::seconds(1) && due >= before - Duration::seconds(5));
    // Not failed (pending now, or already sent again by the sweeper): 409.
    let problem = assert_problem(
        retry(b.venue.token.clone(), id.clone()).await,
        409,
        "notification_not_failed",
    )
    .await;
    assert!(s(&problem, "detail").contains("failed"), "{problem}");

    // Platform mail (no chain) is the admins' alone.
    let admin = app.admin_token().await;
    let custom = expect_json(
        app.post_json(
            "/notifications",
            Some(&admin),
            json!({"subject": "Hello", "content": "Hi.", "recipient_emails": ["x@example.com"]}),
        )
        .await,
        201,
    )
    .await;
    let custom = s(&custom, "id");
    fail(&pool, &custom).await;
    assert_problem(
        retry(b.venue.token.clone(), custom.clone()).await,
        404,
        "not_found",
    )
    .await;
    let res = expect_json(retry(admin.clone(), custom).await, 200).await;
    assert_eq!(res["status"], "pending");
    // And an admin retries a chain's too.
    fail(&pool, &id).await;
    let res = expect_json(retry(admin, id).await, 200).await;
    assert_eq!(res["status"], "pending");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_openapi_document_declares_every_answer_of_the_additions(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let doc = expect_json(app.get("/openapi.json").await, 200).await;
    for (path, method, statuses) in [
        (
            "/api/v1/chains/{id}/reports/shows",
            "get",
            &["200", "400", "401", "403", "404", "422", "503"][..],
        ),
        (
            "/api/v1/chains/{id}/reports/sales",
            "get",
            &["200", "400", "401", "403", "404", "422", "503"][..],
        ),
        (
            "/api/v1/bookings",
            "get",
            &["200", "400", "401", "404", "422"][..],
        ),
        (
            "/api/v1/notifications/{id}/retry",
            "post",
            &["200", "400", "401", "404", "409", "503"][..],
        ),
    ] {
        let responses = &doc["paths"][path][method]["responses"];
        for status in statuses {
            assert!(
                responses[status].is_object(),
                "{method} {path} declares {status}: {responses}"
            );
        }
    }
    let shows = &doc["paths"]["/api/v1/chains/{id}/reports/shows"]["get"]["parameters"];
    let required: Vec<&str> = shows
        .as_array()
        .expect("parameters")
        .iter()
        .filter(|p| p["required"] == true)
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(required, ["id", "from", "to"], "{shows}");
    let bookings = doc["paths"]["/api/v1/bookings"]["get"]["parameters"].to_string();
    assert!(
        bookings.contains("\"email\"") && bookings.contains("\"show_id\""),
        "{bookings}"
    );
    app.stop().await;
}
