//! Signed tickets and check-in (issue 17; docs/tickets.md): tickets issued with the payment,
//! who may see them, their QR images, the email's links, voided by cancellations, scans at the
//! door (each answer, re-uploads, two gates at once), the door summary, keys and rotation, and
//! `cineflow ticket verify` offline with only the public key.

use std::process::Command;

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::support::app::TestApp;
use crate::support::client::{assert_problem, expect_json, s};
use crate::support::process::BIN;

pub(crate) async fn tickets(app: &TestApp, token: &str, booking: &str) -> Vec<Value> {
    let list = app
        .get_ok(&format!("/bookings/{booking}/tickets"), Some(token))
        .await;
    list["items"].as_array().expect("items").clone()
}

pub(crate) async fn scan(app: &TestApp, token: &str, chain: &str, body: Value) -> Value {
    let res = app
        .post_json(&format!("/chains/{chain}/checkins"), Some(token), body)
        .await;
    expect_json(res, 200).await
}

pub(crate) fn tampered(code: &str) -> String {
    let mut chars: Vec<char> = code.chars().collect();
    let i = chars.len() / 2;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

/// A paid booking of `seats`: `(customer token, booking id, its tickets)`.
pub(crate) async fn paid(
    app: &TestApp,
    show: &str,
    seats: &[&str],
) -> (String, String, Vec<Value>) {
    let (_, customer) = app.customer("Holder").await;
    let held = app.hold(&customer, show, seats).await;
    app.pay(&customer, &held).await;
    let id = s(&held, "id");
    let t = tickets(app, &customer, &id).await;
    (customer, id, t)
}

#[sqlx::test(migrations = "../migrations")]
async fn payment_issues_one_ticket_per_seat_seen_only_by_who_may_see_the_booking(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Tickets").await;
    let (_, customer) = app.customer("Asha").await;
    let held = app.hold(&customer, &b.show_id, &["A-1", "A-2"]).await;
    let id = s(&held, "id");
    assert!(
        tickets(&app, &customer, &id).await.is_empty(),
        "held: none yet"
    );
    app.pay(&customer, &held).await;

    let mine = tickets(&app, &customer, &id).await;
    assert_eq!(mine.len(), 2);
    let mut seats: Vec<String> = mine.iter().map(|t| s(t, "seat_id")).collect();
    seats.sort();
    assert_eq!(seats, ["A-1", "A-2"]);
    for t in &mine {
        assert_eq!(t["status"], "valid");
        assert_eq!(t["booking_id"], id.as_str());
        assert_eq!(t["show_id"], b.show_id.as_str());
        let code = s(t, "code");
        assert!(code.starts_with("CF1.") && code.len() < 200, "{code}");
    }
    // The chain's staff and an admin see the same; anyone else learns nothing.
    assert_eq!(tickets(&app, &b.venue.token, &id).await, mine);
    assert_eq!(tickets(&app, &app.admin_token().await, &id).await, mine);
    let other = app.bookable("Elsewhere").await;
    let (_, stranger) = app.customer("Stranger").await;
    for token in [&other.venue.token, &stranger] {
        let res = app
            .get_auth(&format!("/bookings/{id}/tickets"), Some(token))
            .await;
        assert_problem(res, 404, "not_found").await;
    }
    let res = app.get_auth(&format!("/bookings/{id}/tickets"), None).await;
    assert_problem(res, 401, "unauthorized").await;
}

#[sqlx::test(migrations = "../migrations")]
async fn qr_images_carry_the_code_and_open_with_the_code_instead_of_a_token(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Qr").await;
    let (customer, _, t) = paid(&app, &b.show_id, &["B-1"]).await;
    let (id, code) = (s(&t[0], "id"), s(&t[0], "code"));

    let svg = app
        .get_auth(&format!("/tickets/{id}/qr.svg"), Some(&customer))
        .await;
    assert_eq!(svg.status(), 200);
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.expect("svg").contains("<svg"));

    let png = app
        .get_auth(&format!("/tickets/{id}/qr.png"), Some(&b.venue.token))
        .await;
    assert_eq!(png.status(), 200);
    assert_eq!(png.headers()["content-type"], "image/png");
    let bytes = png.bytes().await.expect("png");
    assert_eq!(decode_qr(&bytes), code, "the PNG decodes back to the code");

    // The code is the ticket: no token needed with it; a wrong one is not found.
    let url = |q: &str| app.url(&format!("/api/v1/tickets/{id}/qr.png?code={q}"));
    let res = app.client.get(url(&code)).send().await.expect("sent");
    assert_eq!(res.status(), 200);
    let res = app
        .client
        .get(url(&tampered(&code)))
        .send()
        .await
        .expect("sent");
    assert_problem(res, 404, "not_found").await;
    let res = app.get_auth(&format!("/tickets/{id}/qr.svg"), None).await;
    assert_problem(res, 401, "unauthorized").await;
    let (_, stranger) = app.customer("Stranger").await;
    let res = app
        .get_auth(&format!("/tickets/{id}/qr.svg"), Some(&stranger))
        .await;
    assert_problem(res, 404, "not_found").await;
}

fn decode_qr(png_bytes: &[u8]) -> String {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().expect("png header");
    let mut pixels = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut pixels).expect("png frame");
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    let (w, h) = (info.width as usize, info.height as usize);
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[y * w + x]);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    grids[0].decode().expect("decodes").1
}

#[sqlx::test(migrations = "../migrations")]
async fn the_confirmation_email_links_every_ticket_and_the_links_need_no_token(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Links").await;
    let (_, booking, t) = paid(&app, &b.show_id, &["A-3", "A-4"]).await;
    let links: String = sqlx::query_scalar(
        "select fields->>'ticket-links' from notifications
         where kind = 'booking-confirmed' and fields->>'booking-id' = $1",
    )
    .bind(&booking)
    .fetch_one(&pool)
    .await
    .expect("the confirmation names its tickets");
    let links: Vec<&str> = links.lines().collect();
    assert_eq!(links.len(), 2, "{links:?}");
    for ticket in &t {
        let link = links
            .iter()
            .find(|l| l.contains(&s(ticket, "id")))
            .expect("a link per ticket");
        assert!(link.starts_with(&app.url("/api/v1/tickets/")), "{link}");
        let res = app.client.get(*link).send().await.expect("sent");
        assert_eq!(res.status(), 200, "{link}");
        assert_eq!(res.headers()["content-type"], "image/svg+xml");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn cancellations_void_the_cancelled_seats_tickets(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Void").await;
    let (customer, id, _) = paid(&app, &b.show_id, &["A-1", "A-2", "A-3"]).await;
    let res = app
        .post_json(
            &format!("/bookings/{id}/cancel"),
            Some(&customer),
            json!({"seat_ids": ["A-2"]}),
        )
        .await;
    expect_json(res, 200).await;
    let status = |t: &[Value], seat: &str| {
        t.iter()
            .find(|x| x["seat_id"] == seat)
            .map(|x| s(x, "status"))
            .expect("seat's ticket")
    };
    let t = tickets(&app, &customer, &id).await;
    assert_eq!(status(&t, "A-2"), "void");
    assert_eq!(status(&t, "A-1"), "valid");
    assert_eq!(status(&t, "A-3"), "valid");

    expect_json(app.cancel_booking(Some(&customer), &id).await, 200).await;
    let t = tickets(&app, &customer, &id).await;
    assert!(t.iter().all(|x| x["status"] == "void"), "{t:?}");

    let (customer, id, _) = paid(&app, &b.show_id, &["B-1", "B-2"]).await;
    let res = app
        .post_json(
            &format!("/shows/{}/cancel", b.show_id),
            Some(&b.venue.token),
            json!({}),
        )
        .await;
    expect_json(res, 200).await;
    let t = tickets(&app, &customer, &id).await;
    assert!(t.iter().all(|x| x["status"] == "void"), "{t:?}");
}

#[sqlx::test(migrations = "../migrations")]
async fn rotation_signs_new_tickets_with_a_new_key_and_keeps_old_tickets_valid(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Keys").await;
    let (chain, staff) = (&b.venue.chain_id, &b.venue.token);
    let keys_path = format!("/chains/{chain}/checkin-keys");
    let before = app.get_ok(&keys_path, None).await;
    let keys = before["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1, "made on first read: {before}");
    assert_eq!(keys[0]["algorithm"], "ed25519");
    assert!(keys[0].get("valid_until").is_none());
    assert_eq!(app.get_ok(&keys_path, None).await, before, "stable");
    let res = app
        .get_auth(
            &format!("/chains/{}/checkin-keys", uuid::Uuid::now_v7()),
            None,
        )
        .await;
    assert_problem(res, 404, "not_found").await;

    let (_, _, old) = paid(&app, &b.show_id, &["A-1"]).await;
    let rotate = format!("/chains/{chain}/checkin-keys/rotate");
    let (_, customer) = app.customer("Nope").await;
    let res = app.post_json(&rotate, Some(&customer), json!({})).await;
    assert_problem(res, 403, "forbidden").await;
    let new_key = expect_json(app.post_json(&rotate, Some(staff), json!({})).await, 201).await;
    assert_ne!(new_key["key_id"], keys[0]["key_id"]);

    let after = app.get_ok(&keys_path, None).await;
    let after = after["keys"].as_array().expect("keys").clone();
    assert_eq!(after.len(), 2, "{after:?}");
    assert_eq!(after[0]["key_id"], new_key["key_id"]);
    assert_eq!(after[1]["key_id"], keys[0]["key_id"]);
    assert!(
        after[1]["valid_until"].is_string(),
        "until the old show ends"
    );

    let (_, _, new) = paid(&app, &b.show_id, &["A-2"]).await;
    let key_of = |code: &str| {
        let raw = base64_url(&code[4..]);
        hex::encode(&raw[1..9])
    };
    assert_eq!(key_of(&s(&new[0], "code")), s(&new_key, "key_id"));
    assert_eq!(key_of(&s(&old[0], "code")), s(&keys[0], "key_id"));
    for (n, t) in [&old[0], &new[0]].into_iter().enumerate() {
        let body = json!({"code": s(t, "code"), "scan_id": format!("r-{n}")});
        assert_eq!(scan(&app, staff, chain, body).await["result"], "ok");
    }
}

fn base64_url(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .expect("base64url")
}

#[sqlx::test(migrations = "../migrations")]
async fn ticket_verify_checks_a_code_offline_with_only_the_public_key(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Offline").await;
    let (_, _, t) = paid(&app, &b.show_id, &["A-1"]).await;
    let code = s(&t[0], "code");
    let keys = app
        .get_ok(&format!("/chains/{}/checkin-keys", b.venue.chain_id), None)
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let key_file = dir.path().join("key.txt");
    std::fs::write(&key_file, s(&keys["keys"][0], "public_key")).expect("key file");
    let list_file = dir.path().join("keys.json");
    std::fs::write(&list_file, keys.to_string()).expect("key list");
    let other = app.bookable("OtherChain").await;
    let theirs = app
        .get_ok(
            &format!("/chains/{}/checkin-keys", other.venue.chain_id),
            None,
        )
        .await;
    let other_file = dir.path().join("other.txt");
    std::fs::write(&other_file, s(&theirs["keys"][0], "public_key")).expect("other key");

    let verify = |code: &str, file: &std::path::Path| {
        Command::new(BIN)
            .args(["ticket", "verify", code, "--key"])
            .arg(file)
            .env_remove("DATABASE_URL")
            .output()
            .expect("runs")
    };
    for file in [&key_file, &list_file] {
        let out = verify(&code, file);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let fields: Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(fields["ticket_id"], t[0]["id"]);
        assert_eq!(fields["booking_id"], t[0]["booking_id"]);
        assert_eq!(fields["show_id"], b.show_id.as_str());
        assert_eq!(fields["seat_id"], "A-1");
    }
    assert_eq!(verify(&tampered(&code), &key_file).status.code(), Some(1));
    assert_eq!(verify(&code, &other_file).status.code(), Some(1));
    assert_eq!(
        verify(&code, &dir.path().join("missing")).status.code(),
        Some(64)
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_openapi_document_describes_tickets_and_check_in(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let doc: Value = app.get("/openapi.json").await.json().await.expect("json");
    for (path, method) in [
        ("/api/v1/bookings/{id}/tickets", "get"),
        ("/api/v1/tickets/{id}/qr.svg", "get"),
        ("/api/v1/tickets/{id}/qr.png", "get"),
        ("/api/v1/chains/{id}/checkin-keys", "get"),
        ("/api/v1/chains/{id}/checkin-keys/rotate", "post"),
        ("/api/v1/chains/{id}/checkins", "post"),
        ("/api/v1/shows/{id}/checkins", "get"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
    let scan = &doc["paths"]["/api/v1/chains/{id}/checkins"]["post"]["responses"];
    for status in ["200", "400", "403", "404", "422"] {
        assert!(scan[status].is_object(), "POST checkins declares {status}");
    }
    assert!(doc["components"]["schemas"]["CheckInAnswer"].is_object());
}

#[sqlx::test(migrations = "../migrations")]
async fn a_booking_confirmed_before_tickets_existed_gets_them_when_first_read(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Legacy").await;
    let (customer, id, issued) = paid(&app, &b.show_id, &["A-1", "A-2"]).await;
    // As if paid before migration 0018: no tickets at all.
    sqlx::query("delete from tickets where booking_id = $1")
        .bind(crate::support::client::uuid_of(&id))
        .execute(&pool)
        .await
        .expect("tickets removed");
    let again = tickets(&app, &b.venue.token, &id).await;
    assert_eq!(again.len(), 2);
    assert!(again.iter().all(|t| t["status"] == "valid"));
    assert_ne!(again[0]["id"], issued[0]["id"], "new tickets");
    assert_eq!(tickets(&app, &customer, &id).await, again, "issued once");
}
