//! Tables `webhook_endpoints` and `webhook_deliveries`: a chain's endpoints and the outbox of
//! their deliveries (migration 0019). Producers call [`insert_deliveries`] inside the
//! transaction of the change; the senders claim due rows with `SKIP LOCKED` and a lease.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// An endpoint as stored (its secret is read only by the sender and at creation).
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub id: Uuid,
    pub chain_id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A delivery as the log shows it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub event_id: Uuid,
    pub kind: String,
    pub status: String,
    pub attempts: i32,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// A delivery a sender claimed, with what it needs to send it. (`Debug` leaves the secret out.)
#[derive(Clone)]
pub struct Claimed {
    pub id: Uuid,
    pub chain_id: Uuid,
    pub endpoint_id: Uuid,
    pub event_id: Uuid,
    pub body: Vec<u8>,
    /// Attempts of the current budget, this one included.
    pub attempt: i32,
    pub url: String,
    pub secret: String,
    /// Proof of the claim for recording the result.
    pub token: Uuid,
}

impl std::fmt::Debug for Claimed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claimed")
            .field("id", &self.id)
            .field("chain_id", &self.chain_id)
            .field("endpoint_id", &self.endpoint_id)
            .field("event_id", &self.event_id)
            .field("attempt", &self.attempt)
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// A due delivery the sender may pick (no lock taken yet).
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: Uuid,
    pub chain_id: Uuid,
    pub endpoint_id: Uuid,
}

/// Inserts an endpoint.
#[tracing::instrument(skip_all, fields(chain = %chain))]
pub async fn insert_endpoint(
    conn: &mut PgConnection,
    chain: Uuid,
    url: &str,
    events: &[String],
    description: Option<&str>,
    secret: &str,
    created_by: Uuid,
) -> Result<Endpoint, sqlx::Error> {
    sqlx::query_as!(
        Endpoint,
        r#"insert into webhook_endpoints (id, chain_id, url, events, description, secret, created_by)
         values ($1, $2, $3, $4, $5, $6, $7)
         returning id, chain_id, url, events, description, created_at"#,
        Uuid::now_v7(),
        chain,
        url,
        events,
        description,
        secret,
        created_by,
    )
    .fetch_one(conn)
    .await
}

/// Locks the chain's row so that two creations cannot both pass the endpoint cap, then counts
/// its live endpoints.
#[tracing::instrument(skip_all, fields(chain = %chain))]
pub async fn lock_and_count(conn: &mut PgConnection, chain: Uuid) -> Result<i64, sqlx::Error> {
    // `no key update`: it serialises endpoint creation without blocking the foreign-key
    // checks (`key share`) of every other insert that names the chain.
    sqlx::query!(
        "select id from chains where id = $1 for no key update",
        chain
    )
    .fetch_optional(&mut *conn)
    .await?;
    let n = sqlx::query_scalar!(
        r#"select count(*) as "n!" from webhook_endpoints
         where chain_id = $1 and deleted_at is null"#,
        chain
    )
    .fetch_one(conn)
    .await?;
    Ok(n)
}

/// The chain's live endpoints, oldest first.
#[tracing::instrument(skip_all, fields(chain = %chain))]
pub async fn list_endpoints(
    conn: &mut PgConnection,
    chain: Uuid,
) -> Result<Vec<Endpoint>, sqlx::Error> {
    sqlx::query_as!(
        Endpoint,
        r#"select id, chain_id, url, events, description, created_at from webhook_endpoints
         where chain_id = $1 and deleted_at is null order by id"#,
        chain
    )
    .fetch_all(conn)
    .await
}

/// Whether the chain has this live endpoint.
#[tracing::instrument(skip_all, fields(chain = %chain, endpoint = %id))]
pub async fn endpoint_exists(
    conn: &mut PgConnection,
    chain: Uuid,
    id: Uuid,
) -> Result<bool, sqlx::Error> {
    let found = sqlx::query_scalar!(
        r#"select 1 as "one!" from webhook_endpoints
         where id = $1 and chain_id = $2 and deleted_at is null"#,
        id,
        chain
    )
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

/// Deletes an endpoint (keeps the row, marks it) and fails its pending deliveries, so that
/// nothing more is sent to it. `false`: no such live endpoint.
#[tracing::instrument(skip_all, fields(chain = %chain, endpoint = %id))]
pub async fn delete_endpoint(
    conn: &mut PgConnection,
    chain: Uuid,
    id: Uuid,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "update webhook_endpoints set deleted_at = now()
         where id = $1 and chain_id = $2 and deleted_at is null",
        id,
        chain
    )
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query!(
        "update webhook_deliveries set status = 'failed', last_error = 'endpoint deleted',
                claim_token = null
         where endpoint_id = $1 and chain_id = $2 and status = 'pending'",
        id,
        chain
    )
    .execute(conn)
    .await?;
    Ok(true)
}

/// Replaces an endpoint's secret. `false`: no such live endpoint.
#[tracing::instrument(skip_all, fields(chain = %chain, endpoint = %id))]
pub async fn set_secret(
    conn: &mut PgConnection,
    chain: Uuid,
    id: Uuid,
    secret: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "update webhook_endpoints set secret = $3
         where id = $1 and chain_id = $2 and deleted_at is null",
        id,
        chain,
        secret
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One delivery of the event per live endpoint of the chain subscribed to `kind`, all with
/// the same body and event id. One indexed statement, whatever the chain has.
#[tracing::instrument(skip_all, fields(chain = %chain, kind))]
pub async fn insert_deliveries(
    conn: &mut PgConnection,
    chain: Uuid,
    kind: &str,
    event_id: Uuid,
    body: &[u8],
) -> Result<u64, sqlx::Error> {
    // PostgreSQL 15 makes no UUID v7: a delivery's id is the event's (v7: its time first) with
    // its last 48 bits replaced by a hash of the event and the endpoint, so it sorts by
    // creation like every other id and differs per endpoint and per event. (Not the
    // endpoint's own bits: events made in one millisecond can differ only in those last bits,
    // as uuid's v7 counter runs into them, and two such events then collided on one endpoint.)
    let done = sqlx::query!(
        "insert into webhook_deliveries (id, chain_id, endpoint_id, event_id, kind, body)
         select overlay($3::uuid::text
                        placing right(md5($3::uuid::text || e.id::text), 12) from 25)::uuid,
                $1, e.id, $3, $2, $4
         from webhook_endpoints e
         where e.chain_id = $1 and $2 = any(e.events) and e.deleted_at is null",
        chain,
        kind,
        event_id,
        body,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// [`insert_deliveries`] for several events (`kinds`, `event_ids`, `bodies` in step), in one
/// statement; delivery ids are made the same way.
#[tracing::instrument(skip_all, fields(chain = %chain, events = kinds.len()))]
pub async fn insert_deliveries_of(
    conn: &mut PgConnection,
    chain: Uuid,
    kinds: &[&str],
    event_ids: &[Uuid],
    bodies: &[Vec<u8>],
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "insert into webhook_deliveries (id, chain_id, endpoint_id, event_id, kind, body)
         select overlay(v.event_id::text
                        placing right(md5(v.event_id::text || e.id::text), 12) from 25)::uuid,
                $1, e.id, v.event_id, v.kind, v.body
         from unnest($2::text[], $3::uuid[], $4::bytea[]) as v(kind, event_id, body)
         join webhook_endpoints e
           on e.chain_id = $1 and v.kind = any(e.events) and e.deleted_at is null",
        chain,
        kinds as &[&str],
        event_ids,
        bodies,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// An endpoint's deliveries, newest first, after `after` (a delivery id), optionally of one
/// status.
#[tracing::instrument(skip_all, fields(chain = %chain, endpoint = %endpoint))]
pub async fn list_deliveries(
    conn: &mut PgConnection,
    chain: Uuid,
    endpoint: Uuid,
    status: Option<&str>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Delivery>, sqlx::Error> {
    sqlx::query_as!(
        Delivery,
        r#"select id, endpoint_id, event_id, kind, status, attempts, last_status_code,
                last_error, next_attempt_at, created_at
         from webhook_deliveries
         where chain_id = $1 and endpoint_id = $2
           and ($3::text is null or status = $3)
           and ($4::uuid is null or id < $4)
         order by id desc limit $5"#,
        chain,
        endpoint,
        status,
        after,
        limit,
    )
    .fetch_all(conn)
    .await
}

/// Puts a delivery back to pending now with a fresh attempt budget. `false`: no such delivery
/// of a live endpoint of the chain.
#[tracing::instrument(skip_all, fields(chain = %chain, delivery = %id))]
pub async fn redeliver(
    conn: &mut PgConnection,
    chain: Uuid,
    endpoint: Uuid,
    id: Uuid,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "update webhook_deliveries d
            set status = 'pending', next_attempt_at = now(), budget_from = d.attempts,
                claim_token = null
           from webhook_endpoints e
          where d.id = $1 and d.endpoint_id = $2 and d.chain_id = $3
            and e.id = d.endpoint_id and e.deleted_at is null",
        id,
        endpoint,
        chain
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Up to `limit` due deliveries of live endpoints, oldest due first, at most `per_endpoint`
/// of each endpoint and none of `busy` endpoints: so that one endpoint's backlog cannot fill
/// the list and starve the others. Nothing is locked; [`claim`] takes them.
#[tracing::instrument(skip_all)]
pub async fn candidates(
    conn: &mut PgConnection,
    busy: &[Uuid],
    per_endpoint: i64,
    limit: i64,
) -> Result<Vec<Candidate>, sqlx::Error> {
    sqlx::query_as!(
        Candidate,
        r#"select id as "id!", chain_id as "chain_id!", endpoint_id as "endpoint_id!" from (
             select d.id, d.chain_id, d.endpoint_id, d.next_attempt_at,
                    row_number() over (partition by d.endpoint_id order by d.next_attempt_at) as rn
             from webhook_deliveries d
             join webhook_endpoints e on e.id = d.endpoint_id and e.deleted_at is null
             where d.status = 'pending' and d.next_attempt_at <= now()
               and d.endpoint_id <> all($1)) due
         where rn <= $2
         order by next_attempt_at limit $3"#,
        busy,
        per_endpoint,
        limit,
    )
    .fetch_all(conn)
    .await
}

/// Claims the given deliveries that are still due: each counts one more attempt and is leased
/// (`next_attempt_at = now + lease`), so that if this sender dies another sends it once the
/// lease ends. `SKIP LOCKED`: a row another sender is claiming is left to it.
#[tracing::instrument(skip_all, fields(n = ids.len()))]
pub async fn claim(
    conn: &mut PgConnection,
    ids: &[Uuid],
    lease: Duration,
) -> Result<Vec<Claimed>, sqlx::Error> {
    let token = Uuid::now_v7();
    sqlx::query_as!(
        Claimed,
        r#"with due as (
             select id as due_id from webhook_deliveries
             where id = any($1) and status = 'pending' and next_attempt_at <= now()
             for update skip locked)
         update webhook_deliveries d
            set attempts = d.attempts + 1, claim_token = $2,
                next_attempt_at = now() + make_interval(secs => $3)
           from due, webhook_endpoints e
          where d.id = due_id and e.id = d.endpoint_id and e.deleted_at is null
         returning d.id, d.chain_id, d.endpoint_id, d.event_id, d.body,
                d.attempts - d.budget_from as "attempt!", e.url, e.secret, $2::uuid as "token!""#,
        ids,
        token,
        lease.as_secs_f64(),
    )
    .fetch_all(conn)
    .await
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy)]
pub enum Outcome<'a> {
    /// 2xx.
    Sent(u16),
    /// Due again after the delay.
    Retry(Option<u16>, &'a str, Duration),
    /// The last attempt failed.
    Failed(Option<u16>, &'a str),
}

/// Records an attempt's outcome, if the claim still holds. `false`: the delivery was claimed
/// again meanwhile (the lease ran out) or redelivered, and its new owner records instead.
#[tracing::instrument(skip_all, fields(delivery = %id))]
pub async fn record(
    conn: &mut PgConnection,
    id: Uuid,
    token: Uuid,
    outcome: Outcome<'_>,
) -> Result<bool, sqlx::Error> {
    let (status, code, error, delay) = match outcome {
        Outcome::Sent(code) => ("sent", Some(code), None, Duration::ZERO),
        Outcome::Retry(code, e, delay) => ("pending", code, Some(e), delay),
        Outcome::Failed(code, e) => ("failed", code, Some(e), Duration::ZERO),
    };
    let done = sqlx::query!(
        "update webhook_deliveries
            set status = $3, last_status_code = $4, last_error = $5, claim_token = null,
                next_attempt_at = now() + make_interval(secs => $6),
                sent_at = case when $3 = 'sent' then now() else sent_at end
          where id = $1 and claim_token = $2",
        id,
        token,
        status,
        code.map(i32::from),
        error,
        delay.as_secs_f64(),
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes up to `limit` deliveries that are done with (sent or failed) and were created before
/// `before`. Ids are UUID v7 with the creation time first, so the primary key finds them in
/// order without an index of its own on `created_at`.
#[tracing::instrument(skip_all)]
pub async fn delete_finished_before(
    conn: &mut PgConnection,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<u64, sqlx::Error> {
    let millis = u64::try_from(before.timestamp_millis()).unwrap_or(0);
    let bound = uuid::Builder::from_unix_timestamp_millis(millis, &[0; 10]).into_uuid();
    let done = sqlx::query!(
        "delete from webhook_deliveries where id in (
           select id from webhook_deliveries
           where id < $1 and status <> 'pending' order by id limit $2)",
        bound,
        limit,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
