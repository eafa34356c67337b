//! Check-in at the door (issue 17; docs/tickets.md, "Checking in"): each answer, re-uploaded
//! scans, two gates at once, and the door summary.

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::support::app::TestApp;
use crate::support::client::{assert_problem, expect_json, s, uuid_of};
use crate::tickets::{paid, scan, tampered};

#[sqlx::test(migrations = "../migrations")]
async fn a_scan_answers_ok_then_already_used_and_refuses_void_wrong_show_and_forged_codes(
    pool: PgPool,
) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Door").await;
    let (chain, staff) = (&b.venue.chain_id, &b.venue.token);
    let (customer, id, t) = paid(&app, &b.show_id, &["A-1", "A-2"]).await;
    let code = s(&t[0], "code");

    let first = scan(
        &app,
        staff,
        chain,
        json!({"code": code, "scan_id": "s-1", "gate": "North", "show_id": b.show_id}),
    )
    .await;
    assert_eq!(first["result"], "ok", "{first}");
    assert_eq!(first["ticket"]["id"], t[0]["id"]);
    assert_eq!(first["ticket"]["status"], "used");
    let again = scan(
        &app,
        staff,
        chain,
        json!({"code": code, "scan_id": "s-2", "gate": "South"}),
    )
    .await;
    assert_eq!(again["result"], "already_used");
    assert_eq!(again["first_scan"]["gate"], "North");
    assert!(again["first_scan"]["at"].is_string(), "{again}");
    // A scanner back online uploads s-1 again: exactly the first answer.
    let replay = scan(
        &app,
        staff,
        chain,
        json!({"code": code, "scan_id": "s-1", "gate": "North"}),
    )
    .await;
    assert_eq!(replay, first);

    // Forged: a changed character, and a valid code of another chain.
    let res = scan(
        &app,
        staff,
        chain,
        json!({"code": tampered(&code), "scan_id": "s-3"}),
    )
    .await;
    assert_eq!(res, json!({"result": "invalid"}));
    let other = app.bookable("Rival").await;
    let (_, _, theirs) = paid(&app, &other.show_id, &["A-1"]).await;
    let res = scan(
        &app,
        staff,
        chain,
        json!({"code": s(&theirs[0], "code"), "scan_id": "s-4"}),
    )
    .await;
    assert_eq!(res["result"], "invalid");
    let res = scan(
        &app,
        staff,
        chain,
        json!({"code": "hello", "scan_id": "s-5"}),
    )
    .await;
    assert_eq!(res["result"], "invalid");

    // Another show at this gate, then the show over.
    let second = s(&t[1], "code");
    let body = json!({"code": second, "scan_id": "s-6", "show_id": other.show_id});
    assert_eq!(scan(&app, staff, chain, body).await["result"], "wrong_show");
    sqlx::query(
        "update shows set starts_at = now() - interval '3 hours',
             ends_at = now() - interval '1 hour', busy_until = now() - interval '1 hour'
         where id = $1",
    )
    .bind(uuid_of(&b.show_id))
    .execute(&pool)
    .await
    .expect("show ended");
    let res = scan(
        &app,
        staff,
        chain,
        json!({"code": second, "scan_id": "s-7"}),
    )
    .await;
    assert_eq!(res["result"], "wrong_show");

    // A cancelled seat's ticket.
    let b2 = app.bookable("Door2").await;
    let (c2, id2, t2) = paid(&app, &b2.show_id, &["A-1"]).await;
    expect_json(app.cancel_booking(Some(&c2), &id2).await, 200).await;
    let res = scan(
        &app,
        &b2.venue.token,
        &b2.venue.chain_id,
        json!({"code": s(&t2[0], "code"), "scan_id": "v"}),
    )
    .await;
    assert_eq!(res["result"], "void");
    assert_eq!(res["ticket"]["status"], "void");

    // Bad requests, and who may scan.
    let path = format!("/chains/{chain}/checkins");
    let res = app
        .post_json(
            &path,
            Some(staff),
            json!({"code": code, "scan_id": "x", "extra": 1}),
        )
        .await;
    assert_problem(res, 400, "bad_request").await;
    for body in [
        json!({"code": code, "scan_id": ""}),
        json!({"code": "A".repeat(1025), "scan_id": "x"}),
        json!({"code": code, "scan_id": "x", "gate": "  "}),
        json!({"code": code, "scan_id": "x".repeat(129)}),
        json!({"code": code, "scan_id": "x", "gate": "g".repeat(65)}),
        json!({"code": code, "scan_id": "x", "scanned_at": "yesterday"}),
        json!({"code": code, "scan_id": "x", "scanned_at": "2999-01-01T00:00:00Z"}),
    ] {
        let res = app.post_json(&path, Some(staff), body).await;
        assert_problem(res, 422, "validation_failed").await;
    }
    let res = app
        .post_json(
            &path,
            Some(&other.venue.token),
            json!({"code": code, "scan_id": "x"}),
        )
        .await;
    assert_problem(res, 404, "not_found").await;
    let res = app
        .post_json(
            &path,
            Some(&customer),
            json!({"code": code, "scan_id": "x"}),
        )
        .await;
    assert_problem(res, 403, "forbidden").await;
    let _ = id;
}

#[sqlx::test(migrations = "../migrations")]
async fn eight_gates_scanning_one_ticket_at_once_admit_it_exactly_once_and_a_retried_scan_gets_one_answer(
    pool: PgPool,
) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Race").await;
    let (_, _, t) = paid(&app, &b.show_id, &["A-1"]).await;
    let code = s(&t[0], "code");
    let url = app.api(&format!("/chains/{}/checkins", b.venue.chain_id));
    let scans = (0..8).map(|i| {
        let req =
            app.client.post(&url).bearer_auth(&b.venue.token).json(
                &json!({"code": code, "scan_id": format!("gate-{i}"), "gate": format!("G{i}")}),
            );
        tokio::spawn(async move { req.send().await.expect("sent").json::<Value>().await })
    });
    let mut results = Vec::new();
    for s in scans.collect::<Vec<_>>() {
        results.push(s.await.expect("joined").expect("json")["result"].clone());
    }
    assert_eq!(
        results.iter().filter(|r| *r == "ok").count(),
        1,
        "{results:?}"
    );
    assert_eq!(
        results.iter().filter(|r| *r == "already_used").count(),
        7,
        "{results:?}"
    );
    // One scan uploaded four times at once (a scanner retrying): one answer, stored once.
    let (_, _, t) = paid(&app, &b.show_id, &["A-2"]).await;
    let code = s(&t[0], "code");
    let uploads = (0..4).map(|_| {
        let req = app
            .client
            .post(&url)
            .bearer_auth(&b.venue.token)
            .json(&json!({"code": code, "scan_id": "retried", "gate": "East"}));
        tokio::spawn(async move { req.send().await.expect("sent").json::<Value>().await })
    });
    let mut answers = Vec::new();
    for u in uploads.collect::<Vec<_>>() {
        answers.push(u.await.expect("joined").expect("json"));
    }
    assert_eq!(answers[0]["result"], "ok", "{answers:?}");
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_door_summary_counts_sold_and_checked_in_tickets_per_gate(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Summary").await;
    let (chain, staff) = (&b.venue.chain_id, &b.venue.token);
    let (_, _, t) = paid(&app, &b.show_id, &["A-1", "A-2", "A-3", "A-4"]).await;
    for (i, gate) in [Some("North"), Some("North"), None].into_iter().enumerate() {
        let mut body = json!({"code": s(&t[i], "code"), "scan_id": format!("sum-{i}")});
        if let Some(g) = gate {
            body["gate"] = json!(g);
        }
        assert_eq!(scan(&app, staff, chain, body).await["result"], "ok");
    }
    let summary = app
        .get_ok(&format!("/shows/{}/checkins", b.show_id), Some(staff))
        .await;
    assert_eq!(
        summary,
        json!({"sold": 4, "checked_in": 3, "by_gate": {"North": 2, "": 1}})
    );
    let other = app.bookable("Other").await;
    let res = app
        .get_auth(
            &format!("/shows/{}/checkins", b.show_id),
            Some(&other.venue.token),
        )
        .await;
    assert_problem(res, 404, "not_found").await;
}

/// A scanner that stayed offline until after the show uploads its scans then: what it
/// admitted at the door is judged at `scanned_at`, so it is `ok`, not `wrong_show`; a scan
/// without a time is judged on arrival.
#[sqlx::test(migrations = "../migrations")]
async fn scans_uploaded_after_the_show_are_judged_at_their_scan_time(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Late Upload").await;
    let (chain, staff) = (&b.venue.chain_id, &b.venue.token);
    let (_, _, t) = paid(&app, &b.show_id, &["A-1", "A-2"]).await;
    // The show ran from three hours ago to an hour ago.
    sqlx::query(
        "update shows set starts_at = now() - interval '3 hours',
                          ends_at = now() - interval '1 hour' where id = $1",
    )
    .bind(uuid_of(&b.show_id))
    .execute(&pool)
    .await
    .expect("the show is over");
    let during = (chrono::Utc::now() - chrono::Duration::hours(2)).to_rfc3339();
    let at_door = scan(
        &app,
        staff,
        chain,
        json!({"code": s(&t[0], "code"), "scan_id": "off-1", "scanned_at": during}),
    )
    .await;
    assert_eq!(at_door["result"], "ok", "{at_door}");
    let now = scan(
        &app,
        staff,
        chain,
        json!({"code": s(&t[1], "code"), "scan_id": "on-1"}),
    )
    .await;
    assert_eq!(now["result"], "wrong_show", "{now}");
}
