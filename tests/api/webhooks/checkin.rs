//! A check-in reaches the chain's systems as `checkin.accepted`, once per admission: a second
//! gate's scan of the same ticket (`already_used`) and a re-uploaded scan announce nothing.

use std::time::Duration;

use serde_json::json;
use sqlx::PgPool;

use super::{assert_signed, fast};
use crate::support::app::TestApp;
use crate::support::client::s;
use crate::support::receiver::{Behaviour, Receiver};
use crate::tickets::{paid, scan};

#[sqlx::test(migrations = "../migrations")]
async fn an_admission_is_delivered_once_as_checkin_accepted(pool: PgPool) {
    let app = TestApp::spawn_config(pool, fast()).await;
    let b = app.bookable("Door Hooks").await;
    let (chain, staff) = (&b.venue.chain_id, &b.venue.token);
    let rx = Receiver::start(Behaviour::Ok).await;
    let hook = app.webhook(&b, &rx.url, &["checkin.accepted"]).await;
    let (_, booking, tickets) = paid(&app, &b.show_id, &["A-1"]).await;
    let code = s(&tickets[0], "code");

    let first = scan(
        &app,
        staff,
        chain,
        json!({"code": code, "scan_id": "n-1", "gate": "North"}),
    )
    .await;
    assert_eq!(first["result"], "ok", "{first}");
    let second = scan(
        &app,
        staff,
        chain,
        json!({"code": code, "scan_id": "s-1", "gate": "South"}),
    )
    .await;
    assert_eq!(second["result"], "already_used");
    let replay = scan(
        &app,
        staff,
        chain,
        json!({"code": code, "scan_id": "n-1", "gate": "North"}),
    )
    .await;
    assert_eq!(replay, first);

    let hits = rx
        .wait_for("checkin.accepted", 1, Duration::from_secs(10))
        .await;
    assert_signed(&hits[0], &s(&hook, "secret"));
    let data = &hits[0].json()["data"];
    assert_eq!(data["ticket_id"], tickets[0]["id"]);
    assert_eq!(data["booking_id"], booking.as_str());
    assert_eq!(data["show_id"], b.show_id.as_str());
    assert_eq!(data["seat_id"], "A-1");
    assert_eq!(data["gate"], "North");
    assert!(data["scanned_at"].is_string(), "{data}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        rx.of("checkin.accepted").len(),
        1,
        "one admission, one event"
    );
    app.stop().await;
}

/// Events made within one millisecond (a partial cancellation's `booking.cancelled` and
/// `payment.refunded`, say) each get their delivery: their ids differ only in bits a
/// delivery id must not drop.
#[sqlx::test(migrations = "../migrations")]
async fn many_events_in_one_transaction_each_get_a_delivery(pool: PgPool) {
    use cineflow::domain::webhooks::{Event, emit};
    let app = TestApp::spawn_config(pool.clone(), fast()).await;
    let b = app.bookable("Burst Cinemas").await;
    let rx = Receiver::start(Behaviour::Ok).await;
    let hook = app.webhook(&b, &rx.url, &["checkin.accepted"]).await;
    let chain = uuid::Uuid::parse_str(&b.venue.chain_id).expect("chain id");
    let mut tx = pool.begin().await.expect("tx");
    for n in 0..200 {
        let event = Event::checkin_accepted(
            uuid::Uuid::now_v7(),
            uuid::Uuid::now_v7(),
            uuid::Uuid::now_v7(),
            format!("A-{n}"),
            None,
            chrono::Utc::now(),
        );
        assert_eq!(emit(&mut tx, chain, event).await.expect("queued"), 1);
    }
    tx.commit().await.expect("commit");
    let ids: i64 = sqlx::query_scalar(
        "select count(distinct id) from webhook_deliveries where endpoint_id = $1",
    )
    .bind(uuid::Uuid::parse_str(&s(&hook, "id")).expect("endpoint id"))
    .fetch_one(&pool)
    .await
    .expect("count");
    assert_eq!(ids, 200);
    app.stop().await;
}
