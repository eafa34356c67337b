//! The SMTP server down for a while, then up, under the real binary and its own scheduled
//! sweeper (`mail::the_sweeper_retries_through_an_outage_and_delivers_each_email_once` shows the
//! same for a sweeper driven by hand): every queued email is retried with backoff while the
//! server is down and delivered exactly once after it is back; none is lost or failed.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use sqlx::Connection;

use crate::server::{Binary, TempDatabase};
use crate::support::client::s;
use crate::support::smtp::SmtpServer;

const EMAILS: usize = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_emails_survive_an_smtp_outage_and_are_each_delivered_once() {
    let db = TempDatabase::create().await;
    let mut smtp = SmtpServer::start().await;
    let smtp_url = smtp.url();
    let binary = Binary::start(
        &db.url,
        &[
            ("CINEFLOW_SMTP_URL", smtp_url.as_str()),
            ("CINEFLOW_MAIL_SWEEP_CRON", "* * * * * *"),
            ("CINEFLOW_MAIL_RETRY_BASE_SECS", "1"),
            ("CINEFLOW_SMTP_TIMEOUT_SECS", "2"),
        ],
    )
    .await;
    let admin = binary.api.admin().await;
    smtp.stop().await;

    let run = uuid::Uuid::new_v4().simple().to_string();
    let mut ids = Vec::new();
    for i in 0..EMAILS {
        let body = json!({
            "subject": format!("outage {run} #{i}"),
            "content": "Sent once the server is back.",
            "recipient_emails": ["ops@example.com"],
        });
        let queued = binary
            .api
            .call(
                Method::POST,
                "/notifications",
                Some(&admin),
                Some(body),
                201,
            )
            .await;
        ids.push(s(&queued, "id"));
    }

    // While the server is down every email is attempted, fails, and stays queued.
    let mut conn = db.connect().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows: Vec<(String, i32, Option<String>)> = sqlx::query_as(
            "select status, attempts, last_error from notifications where id = any($1::uuid[])",
        )
        .bind(&ids)
        .fetch_all(&mut conn)
        .await
        .expect("rows");
        assert_eq!(rows.len(), EMAILS);
        for (status, _, _) in &rows {
            assert!(
                status == "pending" || status == "sending",
                "nothing is sent or failed while the server is down: {rows:?}"
            );
        }
        if rows
            .iter()
            .all(|(_, attempts, error)| *attempts >= 2 && error.is_some())
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not every email was retried within 30 s: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(smtp.messages().is_empty());

    smtp.restart().await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let sent: i64 = sqlx::query_scalar(
            "select count(*) from notifications where id = any($1::uuid[]) and status = 'sent'",
        )
        .bind(&ids)
        .fetch_one(&mut conn)
        .await
        .expect("count");
        if sent == EMAILS as i64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{sent} of {EMAILS} sent within 60 s of the server coming back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Exactly once each: one message per subject, each with its own Message-ID.
    let mut per_subject: BTreeMap<String, usize> = BTreeMap::new();
    let mut message_ids = std::collections::BTreeSet::new();
    let received = smtp.messages();
    for message in &received {
        let parsed = mail_parser::MessageParser::default()
            .parse(message.data.as_bytes())
            .expect("a parsable message");
        let subject = parsed.subject().unwrap_or_default();
        let Some(i) = subject.strip_prefix(&format!("outage {run} #")) else {
            continue;
        };
        *per_subject.entry(i.to_owned()).or_default() += 1;
        message_ids.insert(parsed.message_id().unwrap_or_default().to_owned());
    }
    assert_eq!(per_subject.len(), EMAILS, "{per_subject:?}");
    assert!(per_subject.values().all(|n| *n == 1), "{per_subject:?}");
    assert_eq!(message_ids.len(), EMAILS);
    let failed: i64 =
        sqlx::query_scalar("select count(*) from notifications where status = 'failed'")
            .fetch_one(&mut conn)
            .await
            .expect("count");
    assert_eq!(failed, 0, "nothing failed for good");
    conn.close().await.expect("close");

    let status = binary.terminate().await;
    assert!(status.success(), "{status}");
    db.drop_now().await;
}
