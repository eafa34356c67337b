//! The notification API: admins and services with the service token queue free-form emails
//! (validated, deduplicated by `Idempotency-Key`); admins page through the queue and look at
//! one notification's delivery state (SEED section 4, S4: the original had no auth at all,
//! no address check, and accepted any field).

use cineflow::app::App;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::support::app::{TestApp, config};
use crate::support::client::{assert_invalid, assert_problem, expect_json, ids, parse_time, s};

/// A service token of the required length (40 characters).
const SERVICE_TOKEN: &str = "svc-token-0123456789abcdefghijklmnopqrst";

fn body(subject: &str) -> Value {
    json!({
        "subject": subject,
        "content": "Dear guest,\nthe 19:00 show is moved to Screen 2.\n",
        "recipient_emails": ["asha@example.com", "ravi@example.org"],
    })
}

/// An app whose service token is [`SERVICE_TOKEN`].
async fn app_with_service_token(pool: PgPool) -> TestApp {
    let mut config = config(Default::default());
    config.mail.service_token = Some(SERVICE_TOKEN.to_owned());
    TestApp::spawn_config(pool, config).await
}

async fn rows(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from notifications")
        .fetch_one(pool)
        .await
        .expect("count notifications")
}

/// Queues `body` as `token` and expects 201.
async fn queue(app: &TestApp, token: &str, body: Value) -> Value {
    expect_json(
        app.post_json("/notifications", Some(token), body).await,
        201,
    )
    .await
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| {
            x.as_str()
                .unwrap_or_else(|| panic!("not a string: {x}"))
                .to_owned()
        })
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn an_admin_queues_an_email_and_gets_it_back_pending(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let admin = app.admin_token().await;
    let created = queue(&app, &admin, body("Screen change tonight")).await;

    let id = s(&created, "id");
    let uuid = uuid::Uuid::parse_str(&id).expect("id is a UUID");
    assert_eq!(uuid.get_version_num(), 7, "ids are UUID v7: {created}");
    assert_eq!(created["kind"], "custom");
    assert_eq!(created["status"], "pending");
    assert_eq!(created["attempts"], 0);
    assert_eq!(created["last_error"], Value::Null);
    assert_eq!(created["sent_at"], Value::Null);
    assert_eq!(created["chain_id"], Value::Null);
    assert_eq!(created["subject"], "Screen change tonight");
    assert_eq!(
        strings(&created["recipient_emails"]),
        ["asha@example.com", "ravi@example.org"]
    );
    assert_eq!(created["message_id"], format!("<{id}@cineflow.local>"));
    parse_time(&created["next_attempt_at"]);
    parse_time(&created["created_at"]);

    // Stored as given: subject and content for the sweeper, nothing else.
    let (kind, status, fields): (String, String, Value) =
        sqlx::query_as("select kind, status, fields from notifications where id = $1")
            .bind(uuid)
            .fetch_one(&pool)
            .await
            .expect("the row");
    assert_eq!((kind.as_str(), status.as_str()), ("custom", "pending"));
    assert_eq!(fields["subject"], "Screen change tonight");
    assert_eq!(
        fields["content"],
        "Dear guest,\nthe 19:00 show is moved to Screen 2.\n"
    );
    assert_eq!(rows(&pool).await, 1);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_subject_is_trimmed_and_may_be_200_characters(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.admin_token().await;
    let created = queue(&app, &admin, body("  Padded subject \n")).await;
    assert_eq!(created["subject"], "Padded subject");
    // 200 characters, counted as characters (not bytes).
    let longest = "é".repeat(200);
    let created = queue(&app, &admin, body(&longest)).await;
    assert_eq!(created["subject"], longest);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_bad_subject_is_422(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let admin = app.admin_token().await;
    for subject in [
        String::new(),
        "   \t ".to_owned(),
        "x".repeat(201),
        "Hello\nBcc: everyone@example.com".to_owned(),
        "Hello\r\nBcc: everyone@example.com".to_owned(),
        "Tab\tinside".to_owned(),
    ] {
        let res = app
            .post_json("/notifications", Some(&admin), body(&subject))
            .await;
        let problem = assert_invalid(res, "subject").await;
        assert_eq!(
            problem["errors"].as_object().map(|e| e.len()),
            Some(1),
            "only the subject is wrong in {subject:?}: {problem}"
        );
    }
    assert_eq!(rows(&pool).await, 0, "nothing was queued");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn empty_content_is_422(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let admin = app.admin_token().await;
    for content in ["", " \n\t "] {
        let mut b = body("Subject");
        b["content"] = json!(content);
        let res = app.post_json("/notifications", Some(&admin), b).await;
        assert_invalid(res, "content").await;
    }
    assert_eq!(rows(&pool).await, 0);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn recipients_must_be_1_to_50_valid_addresses(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let admin = app.admin_token().await;

    let mut b = body("Subject");
    b["recipient_emails"] = json!([]);
    let res = app.post_json("/notifications", Some(&admin), b).await;
    assert_invalid(res, "recipient_emails").await;

    let many: Vec<String> = (0..51).map(|i| format!("guest{i}@example.com")).collect();
    let mut b = body("Subject");
    b["recipient_emails"] = json!(many);
    let res = app.post_json("/notifications", Some(&admin), b).await;
    assert_invalid(res, "recipient_emails").await;

    // The error names the offending entry.
    let mut b = body("Subject");
    b["recipient_emails"] = json!(["asha@example.com", "not-an-address", "ravi@example.org"]);
    let res = app.post_json("/notifications", Some(&admin), b).await;
    let problem = assert_invalid(res, "recipient_emails[1]").await;
    let errors = problem["errors"].as_object().expect("errors object");
    assert_eq!(errors.len(), 1, "only entry 1 is wrong: {problem}");

    // A header smuggled into an address is just an invalid address.
    let mut b = body("Subject");
    b["recipient_emails"] = json!(["asha@example.com\r\nBcc: everyone@example.com"]);
    let res = app.post_json("/notifications", Some(&admin), b).await;
    assert_invalid(res, "recipient_emails[0]").await;
    assert_eq!(rows(&pool).await, 0);

    // 50 is allowed.
    let fifty: Vec<String> = (0..50).map(|i| format!("guest{i}@example.com")).collect();
    let mut b = body("Subject");
    b["recipient_emails"] = json!(fifty);
    let created = queue(&app, &admin, b).await;
    assert_eq!(strings(&created["recipient_emails"]).len(), 50);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn every_problem_is_reported_at_once(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.admin_token().await;
    let res = app
        .post_json(
            "/notifications",
            Some(&admin),
            json!({"subject": " ", "content": "", "recipient_emails": ["ok@example.com", "bad"]}),
        )
        .await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    for field in ["subject", "content", "recipient_emails[1]"] {
        assert!(
            problem["errors"][field].is_array(),
            "errors.{field} in {problem}"
        );
    }
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn long_tlds_are_accepted_and_duplicates_collapse(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.admin_token().await;
    let mut b = body("Subject");
    b["recipient_emails"] = json!([
        "user@example.technology",
        "curator@art.museum",
        " User@Example.Technology ",
        "user@example.technology",
        "other@example.com",
    ]);
    let created = queue(&app, &admin, b).await;
    assert_eq!(
        strings(&created["recipient_emails"]),
        [
            "user@example.technology",
            "curator@art.museum",
            "other@example.com"
        ],
        "lowercased, trimmed, first occurrence kept, order kept"
    );
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn unknown_fields_and_non_object_bodies_are_400_and_missing_fields_422(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let admin = app.admin_token().await;

    // API.md: unknown fields are rejected with 400 `bad_request`, so that a client cannot set
    // `status` (the original accepted it: SEED S-mass-assignment).
    for (field, value) in [
        ("status", json!("sent")),
        ("attempts", json!(9)),
        ("bcc", json!(["x@example.com"])),
    ] {
        let mut b = body("Subject");
        b[field] = value;
        let res = app.post_json("/notifications", Some(&admin), b).await;
        let problem = assert_problem(res, 400, "bad_request").await;
        assert!(
            s(&problem, "detail").contains(field),
            "the detail names `{field}`: {problem}"
        );
    }
    // Every body is an object.
    for b in [
        json!(["Subject", "content", ["asha@example.com"]]),
        json!("Subject"),
        json!(null),
    ] {
        let res = app.post_json("/notifications", Some(&admin), b).await;
        assert_problem(res, 400, "bad_request").await;
    }
    // Wrong type: 400.
    let mut b = body("Subject");
    b["recipient_emails"] = json!("asha@example.com");
    let res = app.post_json("/notifications", Some(&admin), b).await;
    assert_problem(res, 400, "bad_request").await;
    // Malformed JSON: 400; no JSON content type: 415.
    let res = app
        .post_raw(
            "/notifications",
            Some(&admin),
            Some("application/json"),
            "{\"subject\": ",
        )
        .await;
    assert_problem(res, 400, "bad_request").await;
    let res = app
        .post_raw(
            "/notifications",
            Some(&admin),
            Some("text/plain"),
            body("Subject").to_string(),
        )
        .await;
    assert_problem(res, 415, "unsupported_media_type").await;
    // A missing field: 422 naming it.
    let res = app
        .post_json(
            "/notifications",
            Some(&admin),
            json!({"subject": "Subject", "recipient_emails": ["asha@example.com"]}),
        )
        .await;
    assert_invalid(res, "content").await;
    assert_eq!(rows(&pool).await, 0);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn only_admins_may_queue_without_a_service_token(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let res = app.post_json("/notifications", None, body("Subject")).await;
    assert_problem(res, 401, "unauthorized").await;
    let res = app
        .post_json("/notifications", Some("not-a-jwt"), body("Subject"))
        .await;
    assert_problem(res, 401, "unauthorized").await;
    let (_, customer) = app.customer("Cust").await;
    let res = app
        .post_json("/notifications", Some(&customer), body("Subject"))
        .await;
    assert_problem(res, 403, "forbidden").await;
    let (_, owner) = app.approved_owner("Owner").await;
    let res = app
        .post_json("/notifications", Some(&owner), body("Subject"))
        .await;
    assert_problem(res, 403, "forbidden").await;
    // The owner's approval queued its own email; nobody queued a custom one.
    let custom: i64 =
        sqlx::query_scalar("select count(*) from notifications where kind = 'custom'")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(custom, 0);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_service_token_may_queue_but_not_read(pool: PgPool) {
    let app = app_with_service_token(pool.clone()).await;

    let created = queue(&app, SERVICE_TOKEN, body("From the box office")).await;
    assert_eq!(created["status"], "pending");
    assert_eq!(created["kind"], "custom");
    let id = s(&created, "id");

    // Admins still may.
    let admin = app.admin_token().await;
    queue(&app, &admin, body("From the admin")).await;

    // A wrong token of the same length, a prefix, and the token in another scheme: 401.
    let wrong = format!("{}x", &SERVICE_TOKEN[..SERVICE_TOKEN.len() - 1]);
    for token in [wrong.as_str(), &SERVICE_TOKEN[..32], "x"] {
        let res = app
            .post_json("/notifications", Some(token), body("Subject"))
            .await;
        assert_problem(res, 401, "unauthorized").await;
    }
    let res = app
        .client
        .post(app.api("/notifications"))
        .basic_auth(SERVICE_TOKEN, None::<&str>)
        .json(&body("Subject"))
        .send()
        .await
        .expect("request sent");
    assert_problem(res, 401, "unauthorized").await;
    assert_eq!(rows(&pool).await, 2);

    // Reading the queue is for admins only: the service token is not a user token.
    for path in ["/notifications".to_owned(), format!("/notifications/{id}")] {
        let res = app.get_auth(&path, Some(SERVICE_TOKEN)).await;
        assert_problem(res, 401, "unauthorized").await;
        let got = app.get_ok(&path, Some(&admin)).await;
        assert!(got.is_object(), "{got}");
    }
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn without_a_configured_service_token_no_bearer_string_is_one(pool: PgPool) {
    // The default config has no service token: a token-looking string is just a bad JWT.
    let app = TestApp::spawn(pool.clone()).await;
    let res = app
        .post_json("/notifications", Some(SERVICE_TOKEN), body("Subject"))
        .await;
    assert_problem(res, 401, "unauthorized").await;
    assert_eq!(rows(&pool).await, 0);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_app_refuses_a_service_token_shorter_than_32_characters(pool: PgPool) {
    for short in [
        "short",
        &SERVICE_TOKEN[..31],
        "   padded-to-look-long-enough   ",
    ] {
        let mut config = config(Default::default());
        config.mail.service_token = Some(short.to_owned());
        match App::build_with_pool(config, pool.clone()).await {
            Ok(_) => panic!("the service token {short:?} was accepted"),
            Err(e) => {
                let message = format!("{e:#}");
                assert!(
                    message.contains("CINEFLOW_SERVICE_TOKEN") && message.contains("32"),
                    "the error names the setting and the minimum: {message}"
                );
            }
        }
    }
    // 32 characters are enough.
    let mut config = config(Default::default());
    config.mail.service_token = Some(SERVICE_TOKEN[..32].to_owned());
    let app = TestApp::spawn_config(pool, config).await;
    queue(&app, &SERVICE_TOKEN[..32], body("Subject")).await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_same_idempotency_key_queues_one_email(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let admin = app.admin_token().await;

    let first = app
        .post_keyed(
            "/notifications",
            Some(&admin),
            Some("weekly-digest-42"),
            body("Digest"),
        )
        .await;
    let first = expect_json(first, 201).await;
    let again = app
        .post_keyed(
            "/notifications",
            Some(&admin),
            Some("weekly-digest-42"),
            body("Digest"),
        )
        .await;
    let again = expect_json(again, 200).await;
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["subject"], "Digest");
    assert_eq!(rows(&pool).await, 1, "one row for one key");

    let other = app
        .post_keyed(
            "/notifications",
            Some(&admin),
            Some("weekly-digest-43"),
            body("Digest"),
        )
        .await;
    let other = expect_json(other, 201).await;
    assert_ne!(other["id"], first["id"]);
    assert_eq!(rows(&pool).await, 2, "another key, another row");

    // Without a key every request queues one.
    queue(&app, &admin, body("Digest")).await;
    queue(&app, &admin, body("Digest")).await;
    assert_eq!(rows(&pool).await, 4);

    // A key that is not 1 to 255 visible ASCII characters: 400.
    let res = app
        .post_keyed(
            "/notifications",
            Some(&admin),
            Some(&"k".repeat(256)),
            body("Digest"),
        )
        .await;
    assert_problem(res, 400, "bad_request").await;
    assert_eq!(rows(&pool).await, 4);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_queue_pages_in_id_order_and_filters_by_status(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let admin = app.admin_token().await;
    let mut queued = Vec::new();
    for i in 0..3 {
        let created = queue(&app, &admin, body(&format!("Message {i}"))).await;
        queued.push(s(&created, "id"));
    }

    // One at a time, following the cursor.
    let mut seen = Vec::new();
    let mut path = "/notifications?limit=1".to_owned();
    for page_no in 0.. {
        assert!(page_no < 10, "the cursor never ended");
        let page = app.get_ok(&path, Some(&admin)).await;
        let page_ids = ids(&page);
        assert!(page_ids.len() <= 1, "{page}");
        seen.extend(page_ids);
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/notifications?limit=1&cursor={cursor}"),
            None => {
                assert!(page["next_cursor"].is_null(), "{page}");
                break;
            }
        }
    }
    assert_eq!(seen, queued, "every notification once, in id (queue) order");

    let all = app.get_ok("/notifications", Some(&admin)).await;
    assert_eq!(ids(&all), queued);
    assert!(all["next_cursor"].is_null(), "{all}");

    // One fails for good: the filters split them.
    sqlx::query(
        "update notifications set status = 'failed', attempts = 3, last_error = 'permanent: 550' \
         where id = $1::uuid",
    )
    .bind(&queued[1])
    .execute(&pool)
    .await
    .expect("fail one");
    let pending = app
        .get_ok("/notifications?status=pending", Some(&admin))
        .await;
    assert_eq!(ids(&pending), [queued[0].clone(), queued[2].clone()]);
    let failed = app
        .get_ok("/notifications?status=failed", Some(&admin))
        .await;
    assert_eq!(ids(&failed), [queued[1].clone()]);
    assert_eq!(failed["items"][0]["status"], "failed");
    assert_eq!(failed["items"][0]["attempts"], 3);
    assert_eq!(failed["items"][0]["last_error"], "permanent: 550");
    let sent = app.get_ok("/notifications?status=sent", Some(&admin)).await;
    assert_eq!(sent["items"], json!([]));
    assert!(sent["next_cursor"].is_null());
    // Paging within a status.
    let first = app
        .get_ok("/notifications?status=pending&limit=1", Some(&admin))
        .await;
    assert_eq!(ids(&first), [queued[0].clone()]);
    let cursor = s(&first, "next_cursor");
    let second = app
        .get_ok(
            &format!("/notifications?status=pending&limit=1&cursor={cursor}"),
            Some(&admin),
        )
        .await;
    assert_eq!(ids(&second), [queued[2].clone()]);
    assert!(second["next_cursor"].is_null(), "{second}");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_list_queries_are_refused(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.admin_token().await;
    for status in ["bogus", "PENDING", ""] {
        let res = app
            .get_auth(&format!("/notifications?status={status}"), Some(&admin))
            .await;
        assert_invalid(res, "status").await;
    }
    let res = app
        .get_auth("/notifications?kind=custom", Some(&admin))
        .await;
    assert_problem(res, 400, "bad_request").await;
    let res = app
        .get_auth("/notifications?cursor=not-a-cursor", Some(&admin))
        .await;
    assert_problem(res, 400, "bad_request").await;
    for limit in ["0", "201"] {
        let res = app
            .get_auth(&format!("/notifications?limit={limit}"), Some(&admin))
            .await;
        assert_invalid(res, "limit").await;
    }
    let res = app
        .get_auth("/notifications?limit=many", Some(&admin))
        .await;
    assert_problem(res, 400, "bad_request").await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn only_admins_read_the_queue(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.admin_token().await;
    let created = queue(&app, &admin, body("Subject")).await;
    let one = format!("/notifications/{}", s(&created, "id"));
    let (_, customer) = app.customer("Cust").await;
    let (_, owner) = app.approved_owner("Owner").await;
    for path in ["/notifications", one.as_str()] {
        assert_problem(app.get_auth(path, None).await, 401, "unauthorized").await;
        assert_problem(app.get_auth(path, Some(&customer)).await, 403, "forbidden").await;
        assert_problem(app.get_auth(path, Some(&owner)).await, 403, "forbidden").await;
    }
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn one_notification_shows_its_delivery_state(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let admin = app.admin_token().await;
    let created = queue(&app, &admin, body("Screen change tonight")).await;
    let id = s(&created, "id");

    let got = app
        .get_ok(&format!("/notifications/{id}"), Some(&admin))
        .await;
    for key in [
        "id",
        "kind",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "sent_at",
        "recipient_emails",
        "subject",
        "message_id",
        "created_at",
    ] {
        assert!(got.get(key).is_some(), "missing `{key}` in {got}");
    }
    assert_eq!(got, created, "GET returns what POST returned");

    // After a delivery the same endpoint shows it.
    sqlx::query(
        "update notifications set status = 'sent', attempts = 1, sent_at = now() \
         where id = $1::uuid",
    )
    .bind(&id)
    .execute(&pool)
    .await
    .expect("mark sent");
    let got = app
        .get_ok(&format!("/notifications/{id}"), Some(&admin))
        .await;
    assert_eq!(got["status"], "sent");
    assert_eq!(got["attempts"], 1);
    parse_time(&got["sent_at"]);
    assert_eq!(got["message_id"], format!("<{id}@cineflow.local>"));

    let res = app
        .get_auth(
            &format!("/notifications/{}", uuid::Uuid::now_v7()),
            Some(&admin),
        )
        .await;
    assert_problem(res, 404, "not_found").await;
    for bad in ["not-a-uuid", "123", "0190-zzzz"] {
        let res = app
            .get_auth(&format!("/notifications/{bad}"), Some(&admin))
            .await;
        assert_problem(res, 400, "bad_request").await;
    }
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_reused_key_with_another_notification_is_422_and_keys_are_per_caller(pool: PgPool) {
    let app = app_with_service_token(pool.clone()).await;
    let admin = app.admin_token().await;
    let first = app
        .post_keyed("/notifications", Some(&admin), Some("k1"), body("Digest"))
        .await;
    expect_json(first, 201).await;
    let other = app
        .post_keyed(
            "/notifications",
            Some(&admin),
            Some("k1"),
            body("Something else"),
        )
        .await;
    assert_problem(other, 422, "idempotency_key_reused").await;
    // The service's k1 is its own key, not the admin's.
    let service = app
        .post_keyed(
            "/notifications",
            Some(SERVICE_TOKEN),
            Some("k1"),
            body("Something else"),
        )
        .await;
    expect_json(service, 201).await;
    assert_eq!(rows(&pool).await, 2);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn nul_characters_in_the_content_are_400_and_a_lowercase_bearer_works(pool: PgPool) {
    let app = app_with_service_token(pool.clone()).await;
    let admin = app.admin_token().await;
    let res = app
        .post_json(
            "/notifications",
            Some(&admin),
            json!({ "subject": "x", "content": "a\u{0}b", "recipient_emails": ["a@example.com"] }),
        )
        .await;
    // Refused for every JSON body at parsing (PostgreSQL cannot store NUL).
    assert_problem(res, 400, "bad_request").await;
    let res = app
        .client
        .post(app.api("/notifications"))
        .header("authorization", format!("bearer {SERVICE_TOKEN}"))
        .json(&body("lowercase"))
        .send()
        .await
        .expect("request sent");
    expect_json(res, 201).await;
    app.stop().await;
}
