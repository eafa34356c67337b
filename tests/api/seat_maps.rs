//! Live seat maps (docs/seat-maps.md, API.md "Live seat maps"): `GET /shows/{id}/seats` from
//! memory with `ETag`, 304 and gzip, kept true through every write path (this replica's own
//! writes at once, everyone else's through the database's announcements, run-out holds by the
//! clock), and the event stream `GET /shows/{id}/seats/events`.

use std::io::Read;
use std::time::{Duration, Instant};

use reqwest::header;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::support::app::TestApp;
use crate::support::client::{Bookable, base_time, expect_json, s, uuid_of};

/// How long a change made behind the server's back (SQL here, another replica in
/// production) may take to show; it takes milliseconds, the bound is for a loaded machine.
const ANNOUNCED_WITHIN: Duration = Duration::from_secs(10);

/// A show on a screen of five rows (A standard 25 seats, B-E standard 20, with B-20 blocked):
/// room for every write path in one test.
async fn big_show(app: &TestApp, name: &str) -> Bookable {
    let venue = app.venue(name).await;
    let mut rows = vec![json!({"label": "A", "seats": 25, "class": "standard"})];
    rows.push(json!({"label": "B", "seats": 20, "class": "standard", "blocked": [20]}));
    for label in ["C", "D", "E"] {
        rows.push(json!({"label": label, "seats": 20, "class": "standard"}));
    }
    let res = app
        .post_json(
            &format!("/theatres/{}/screens", venue.theatre_id),
            Some(&venue.token),
            json!({"name": "Big", "rows": rows}),
        )
        .await;
    let screen = s(&expect_json(res, 201).await, "id");
    let show = app
        .show(&venue.token, &screen, &venue.movie_id, base_time(7))
        .await;
    Bookable {
        venue,
        show_id: s(&show, "id"),
    }
}

async fn seats_response(app: &TestApp, show: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = app.client.get(app.api(&format!("/shows/{show}/seats")));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("GET seats")
}

async fn state_of(app: &TestApp, show: &str, seat: &str) -> String {
    app.seat_states(show).await[seat].clone()
}

/// Polls the seat map until `seat` reads `state`; panics after [`ANNOUNCED_WITHIN`].
async fn until_state(app: &TestApp, show: &str, seat: &str, state: &str) -> Duration {
    let start = Instant::now();
    loop {
        if state_of(app, show, seat).await == state {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < ANNOUNCED_WITHIN,
            "{seat} never became {state} within {ANNOUNCED_WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn an_unchanged_map_is_answered_304_and_a_change_gives_a_new_tag(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Tags").await;
    let first = seats_response(&app, &b.show_id, &[]).await;
    assert_eq!(first.status(), 200);
    let tag = first.headers()[header::ETAG]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        tag.starts_with('"') && tag.ends_with('"'),
        "a strong tag: {tag}"
    );
    assert_eq!(first.headers()[header::CACHE_CONTROL], "no-cache");
    let body: Value = first.json().await.expect("json");
    assert_eq!(body["show_id"], b.show_id);

    let again = seats_response(&app, &b.show_id, &[("if-none-match", &tag)]).await;
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()[header::ETAG], tag.as_str());
    assert!(again.bytes().await.expect("body").is_empty());
    // Weak comparison, lists and `*` as RFC 9110 has them.
    let weak = format!("W/{tag}");
    let listed = format!("\"nope\", {tag}");
    for inm in [weak.as_str(), listed.as_str(), "*"] {
        let res = seats_response(&app, &b.show_id, &[("if-none-match", inm)]).await;
        assert_eq!(res.status(), 304, "If-None-Match: {inm}");
    }
    let other = seats_response(&app, &b.show_id, &[("if-none-match", "\"0000\"")]).await;
    assert_eq!(other.status(), 200);

    let (_, customer) = app.customer("Tara").await;
    app.hold(&customer, &b.show_id, &["A-1"]).await;
    let changed = seats_response(&app, &b.show_id, &[("if-none-match", &tag)]).await;
    assert_eq!(changed.status(), 200, "the hold changed the map");
    assert_ne!(changed.headers()[header::ETAG], tag.as_str());
    let body: Value = changed.json().await.expect("json");
    let a1 = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["id"] == "A-1")
        .cloned()
        .expect("A-1");
    assert_eq!(a1["state"], "held");
}

#[sqlx::test(migrations = "../migrations")]
async fn gzip_is_served_when_accepted_and_is_the_same_document(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Gzip").await;
    let plain = seats_response(&app, &b.show_id, &[]).await;
    assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
    let plain_tag = plain.headers()[header::ETAG]
        .to_str()
        .expect("ascii")
        .to_owned();
    let plain = plain.bytes().await.expect("body");

    let zipped = seats_response(&app, &b.show_id, &[("accept-encoding", "br, gzip;q=0.8")]).await;
    assert_eq!(zipped.status(), 200);
    assert_eq!(zipped.headers()[header::CONTENT_ENCODING], "gzip");
    assert_eq!(zipped.headers()[header::VARY], "accept-encoding");
    assert_eq!(zipped.headers()[header::CONTENT_TYPE], "application/json");
    let zipped_tag = zipped.headers()[header::ETAG]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_ne!(zipped_tag, plain_tag, "each coding has its own strong tag");
    let bytes = zipped.bytes().await.expect("body");
    assert!(
        bytes.len() * 3 < plain.len(),
        "{} gzipped vs {} plain",
        bytes.len(),
        plain.len()
    );
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_end(&mut unzipped)
        .expect("valid gzip");
    assert_eq!(unzipped, plain.to_vec());

    // Either tag revalidates either coding.
    let res = seats_response(
        &app,
        &b.show_id,
        &[("accept-encoding", "gzip"), ("if-none-match", &plain_tag)],
    )
    .await;
    assert_eq!(res.status(), 304);
    assert_eq!(res.headers()[header::ETAG], zipped_tag.as_str());
    let refused = seats_response(&app, &b.show_id, &[("accept-encoding", "gzip;q=0")]).await;
    assert!(refused.headers().get(header::CONTENT_ENCODING).is_none());
}

#[sqlx::test(migrations = "../migrations")]
async fn every_write_path_shows_at_once_on_the_replica_that_made_it(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = big_show(&app, "Writes").await;
    // Read first, so that the map is in memory before each write.
    assert_eq!(state_of(&app, &b.show_id, "A-1").await, "available");
    let (_, customer) = app.customer("Ira").await;
    let held = app
        .hold(&customer, &b.show_id, &["A-1", "A-2", "A-3"])
        .await;
    assert_eq!(state_of(&app, &b.show_id, "A-1").await, "held");
    app.pay(&customer, &held).await;
    assert_eq!(state_of(&app, &b.show_id, "A-2").await, "sold");
    // A partial cancellation frees only its seats.
    let id = s(&held, "id");
    let res = app
        .post_json(
            &format!("/bookings/{id}/cancel"),
            Some(&customer),
            json!({"seat_ids": ["A-3"]}),
        )
        .await;
    expect_json(res, 200).await;
    let states = app.seat_states(&b.show_id).await;
    assert_eq!(
        (states["A-3"].as_str(), states["A-1"].as_str()),
        ("available", "sold")
    );
    expect_json(app.cancel_booking(Some(&customer), &id).await, 200).await;
    assert_eq!(state_of(&app, &b.show_id, "A-1").await, "available");

    // A hold cancelled before payment, and a whole show cancelled by its staff.
    let other = app.hold(&customer, &b.show_id, &["B-1"]).await;
    assert_eq!(state_of(&app, &b.show_id, "B-1").await, "held");
    expect_json(
        app.cancel_booking(Some(&customer), &s(&other, "id")).await,
        200,
    )
    .await;
    assert_eq!(state_of(&app, &b.show_id, "B-1").await, "available");
    let last = app.hold(&customer, &b.show_id, &["C-1"]).await;
    app.pay(&customer, &last).await;
    assert_eq!(state_of(&app, &b.show_id, "C-1").await, "sold");
    let res = app
        .post_json(
            &format!("/shows/{}/cancel", b.show_id),
            Some(&b.venue.token),
            json!({}),
        )
        .await;
    expect_json(res, 200).await;
    assert_eq!(state_of(&app, &b.show_id, "C-1").await, "available");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_hold_that_runs_out_reads_available_at_once_without_any_write(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Clock").await;
    let (_, customer) = app.customer("Noor").await;
    let held = app.hold(&customer, &b.show_id, &["A-5"]).await;
    // The hold now ends two seconds from now (announced like any write); nothing is written
    // when it ends.
    sqlx::query(
        "update booking_seats set taken_until = now() + interval '2 seconds' where booking_id = $1",
    )
    .bind(uuid_of(&s(&held, "id")))
    .execute(&pool)
    .await
    .expect("shorten the hold");
    let ends = Instant::now() + Duration::from_secs(2);
    until_state(&app, &b.show_id, "A-5", "held").await;
    tokio::time::sleep_until((ends + Duration::from_millis(300)).into()).await;
    assert_eq!(
        state_of(&app, &b.show_id, "A-5").await,
        "available",
        "the first read after the hold's end"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn changes_made_elsewhere_reach_the_map_through_the_database(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = big_show(&app, "Elsewhere").await;
    let (_, customer) = app.customer("Zed").await;
    let held = app.hold(&customer, &b.show_id, &["A-7"]).await;
    assert_eq!(state_of(&app, &b.show_id, "A-7").await, "held");
    let booking = uuid_of(&s(&held, "id"));
    // Another replica's payment, as far as this one can tell: rows changed in the database.
    sqlx::query("update booking_seats set taken_until = 'infinity' where booking_id = $1")
        .bind(booking)
        .execute(&pool)
        .await
        .expect("sell");
    let took = until_state(&app, &b.show_id, "A-7", "sold").await;
    println!("a change made elsewhere showed after {took:?}");
    // Another replica's expiry job and its housekeeping: a hold cut short.
    let second = app.hold(&customer, &b.show_id, &["A-8"]).await;
    crate::support::client::expire_hold(&pool, &s(&second, "id")).await;
    until_state(&app, &b.show_id, "A-8", "available").await;
    // A cancellation of many seats at once (past NOTIFY's payload limit) makes replicas
    // re-read the show.
    let big = app
        .hold(&customer, &b.show_id, &["D-1", "D-2", "D-3"])
        .await;
    let big_id = uuid_of(&s(&big, "id"));
    sqlx::query(
        "insert into booking_seats (chain_id, booking_id, show_id, seat_id, taken_from, taken_until) \
         select b.chain_id, b.id, b.show_id, 'E-' || g, now(), now() + interval '10 minutes' \
         from bookings b, generate_series(1, 20) g where b.id = $1",
    )
    .bind(big_id)
    .execute(&pool)
    .await
    .expect("more seats");
    until_state(&app, &b.show_id, "E-20", "held").await;
    sqlx::query(
        "update booking_seats set taken_until = greatest(taken_from, now()) where booking_id = $1",
    )
    .bind(big_id)
    .execute(&pool)
    .await
    .expect("free them all");
    until_state(&app, &b.show_id, "E-20", "available").await;
    until_state(&app, &b.show_id, "D-1", "available").await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_price_change_and_a_deleted_show_reach_the_map(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Meta").await;
    let before = app
        .get_ok(&format!("/shows/{}/seats", b.show_id), None)
        .await;
    let res = app
        .patch_json(
            &format!("/shows/{}", b.show_id),
            Some(&b.venue.token),
            json!({"prices": {"standard": 111, "premium": 222}}),
        )
        .await;
    expect_json(res, 200).await;
    let after = app
        .get_ok(&format!("/shows/{}/seats", b.show_id), None)
        .await;
    assert_ne!(before, after);
    let standard = after["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["class"] == "standard")
        .cloned()
        .expect("a standard seat");
    assert_eq!(standard["price_minor"], 111);
    let res = app
        .delete(&format!("/shows/{}", b.show_id), Some(&b.venue.token))
        .await;
    assert_eq!(res.status(), 204);
    let gone = seats_response(&app, &b.show_id, &[]).await;
    assert_eq!(gone.status(), 404);
}

// --- the event stream --------------------------------------------------------------------

/// One Server-Sent Event.
#[derive(Debug)]
struct Sse {
    event: String,
    id: String,
    data: Value,
}

/// Reads events off a `text/event-stream` response.
struct Events {
    res: reqwest::Response,
    buf: String,
}

impl Events {
    async fn open(app: &TestApp, show: &str, last_event_id: Option<&str>) -> Events {
        let mut req = app
            .client
            .get(app.api(&format!("/shows/{show}/seats/events")));
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id);
        }
        let res = req.send().await.expect("GET events");
        assert_eq!(res.status(), 200);
        assert!(
            res.headers()[header::CONTENT_TYPE]
                .to_str()
                .expect("ascii")
                .starts_with("text/event-stream")
        );
        Events {
            res,
            buf: String::new(),
        }
    }

    /// The next event (comments skipped); `None` when the server ended the stream.
    async fn next(&mut self) -> Option<Sse> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut event, mut id, mut data) = (String::new(), String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
                if event.is_empty() && data.is_empty() {
                    continue;
                }
                let data = serde_json::from_str(&data).expect("JSON data");
                return Some(Sse { event, id, data });
            }
            let chunk = tokio::time::timeout(Duration::from_secs(20), self.res.chunk())
                .await
                .expect("an event within 20 s")
                .expect("stream readable")?;
            self.buf
                .push_str(std::str::from_utf8(&chunk).expect("utf-8"));
        }
    }
}

fn changed_state(change: &Sse, seat: &str) -> Option<String> {
    change.data["seats"]
        .as_array()?
        .iter()
        .find(|c| c["id"] == seat)
        .map(|c| s(c, "state"))
}

#[sqlx::test(migrations = "../migrations")]
async fn a_stream_starts_with_the_map_then_sends_each_change(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Stream").await;
    let mut events = Events::open(&app, &b.show_id, None).await;
    let snapshot = events.next().await.expect("a snapshot");
    assert_eq!(snapshot.event, "snapshot");
    let full = app
        .get_ok(&format!("/shows/{}/seats", b.show_id), None)
        .await;
    assert_eq!(snapshot.data, full, "the same JSON as GET .../seats");
    let v0: u64 = snapshot.id.parse().expect("a numeric version");

    let (_, customer) = app.customer("Lea").await;
    let held = app.hold(&customer, &b.show_id, &["A-1", "A-2"]).await;
    let change = events.next().await.expect("a change");
    assert_eq!(change.event, "change");
    let v1: u64 = change.id.parse().expect("numeric");
    assert!(v1 > v0);
    assert_eq!(change.data["version"], v1);
    assert_eq!(changed_state(&change, "A-1").as_deref(), Some("held"));
    assert_eq!(changed_state(&change, "A-2").as_deref(), Some("held"));
    app.pay(&customer, &held).await;
    let sold = events.next().await.expect("a change");
    assert_eq!(changed_state(&sold, "A-1").as_deref(), Some("sold"));
    assert!(sold.id.parse::<u64>().expect("numeric") > v1);
}

#[sqlx::test(migrations = "../migrations")]
async fn last_event_id_resumes_and_an_unknown_one_gets_a_fresh_snapshot(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Resume").await;
    let mut events = Events::open(&app, &b.show_id, None).await;
    let snapshot = events.next().await.expect("snapshot");
    drop(events);
    // While the client is away, two changes.
    let (_, customer) = app.customer("Omar").await;
    let held = app.hold(&customer, &b.show_id, &["B-4"]).await;
    app.pay(&customer, &held).await;

    let mut resumed = Events::open(&app, &b.show_id, Some(&snapshot.id)).await;
    let first = resumed.next().await.expect("the first missed change");
    assert_eq!(first.event, "change", "resumed, not restarted: {first:?}");
    assert_eq!(changed_state(&first, "B-4").as_deref(), Some("held"));
    let second = resumed.next().await.expect("the second missed change");
    assert_eq!(changed_state(&second, "B-4").as_deref(), Some("sold"));
    drop(resumed);

    // Up to date: nothing is replayed; the next change is the next event.
    let mut current = Events::open(&app, &b.show_id, Some(&second.id)).await;
    app.hold(&customer, &b.show_id, &["B-5"]).await;
    let next = current.next().await.expect("a change");
    assert_eq!(changed_state(&next, "B-5").as_deref(), Some("held"));
    assert!(changed_state(&next, "B-4").is_none());

    for unknown in ["12345", "not-a-number"] {
        let mut fresh = Events::open(&app, &b.show_id, Some(unknown)).await;
        let first = fresh.next().await.expect("snapshot");
        assert_eq!(first.event, "snapshot", "Last-Event-ID {unknown}");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn streams_of_an_unknown_show_are_404_and_over_the_limit_503(pool: PgPool) {
    let mut config = crate::support::app::config(Default::default());
    config.live_seats.max_streams = 2;
    let app = TestApp::spawn_config(pool, config).await;
    let b = app.bookable("Limit").await;
    let res = app
        .client
        .get(app.api(&format!("/shows/{}/seats/events", uuid::Uuid::now_v7())))
        .send()
        .await
        .expect("GET");
    crate::support::client::assert_problem(res, 404, "not_found").await;
    let mut one = Events::open(&app, &b.show_id, None).await;
    let mut two = Events::open(&app, &b.show_id, None).await;
    one.next().await.expect("snapshot");
    two.next().await.expect("snapshot");
    let res = app
        .client
        .get(app.api(&format!("/shows/{}/seats/events", b.show_id)))
        .send()
        .await
        .expect("GET");
    crate::support::client::assert_problem(res, 503, "unavailable").await;
    drop(one);
    // The slot is given back when the server notices the closed stream (at its next write);
    // a change makes one.
    let (_, customer) = app.customer("Kim").await;
    app.hold(&customer, &b.show_id, &["A-9"]).await;
    two.next().await.expect("change");
    let start = Instant::now();
    for seat in 1..=6 {
        let res = app
            .client
            .get(app.api(&format!("/shows/{}/seats/events", b.show_id)))
            .send()
            .await
            .expect("GET");
        if res.status() == 200 {
            return;
        }
        // Another write to the closed stream's socket, which fails it.
        app.hold(&customer, &b.show_id, &[&format!("B-{seat}")])
            .await;
        two.next().await.expect("change");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the slot never came back ({:?})", start.elapsed());
}
