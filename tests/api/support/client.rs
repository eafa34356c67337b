//! HTTP helpers for the REST API tests: requests with or without a token, problem+json
//! assertions, and builders for users, chains, movies, theatres, screens and shows.
//!
//! Every `path` below is relative to `/api/v1` (e.g. `"/movies"`); operations endpoints at the
//! root (`/healthz`) go through `TestApp::get`.

use chrono::{DateTime, Duration, SecondsFormat, Timelike, Utc};
use reqwest::{Method, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use super::app::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp};

/// A password every helper-made user gets: long enough, three character classes.
pub const PASSWORD: &str = "Correct-Horse-42";

/// Prices for the classes of [`screen_body`].
pub fn prices() -> Value {
    json!({"standard": 25000, "premium": 40000})
}

/// A unique email (uuid-based) so tests never collide.
pub fn email(prefix: &str) -> String {
    format!("{prefix}-{}@example.com", Uuid::new_v4().simple())
}

/// A unique name (for chains, whose names are unique).
pub fn unique(prefix: &str) -> String {
    format!("{prefix} {}", &Uuid::new_v4().simple().to_string()[..12])
}

/// A whole hour at least `days` days ahead: a stable base for show times.
pub fn base_time(days: i64) -> DateTime<Utc> {
    let t = Utc::now() + Duration::days(days);
    t.with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .expect("valid time")
}

/// RFC 3339 with `Z` (safe in a query string, no `+`).
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Parses an RFC 3339 timestamp from a response.
pub fn parse_time(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a string: {v}")))
        .unwrap_or_else(|e| panic!("not RFC 3339: {v}: {e}"))
        .with_timezone(&Utc)
}

/// The string value of `v[key]`.
pub fn s(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` is not a string in {v}"))
        .to_owned()
}

/// The ids of a page's items.
pub fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {page}"))
        .iter()
        .map(|item| s(item, "id"))
        .collect()
}

/// A valid movie body.
pub fn movie_body(title: &str) -> Value {
    json!({
        "title": title,
        "description": "A film about films.",
        "cast": ["Ada Lovelace", "Alan Turing"],
        "director": "Grace Hopper",
        "trailer_url": "https://videos.example.com/trailer.mp4",
        "release_date": "2026-01-15",
        "release_status": "released",
        "languages": ["English", "Hindi"],
        "runtime_minutes": 120,
        "certificate": "UA",
    })
}

/// A valid theatre body.
pub fn theatre_body(chain_id: &str, name: &str, city: &str) -> Value {
    json!({
        "chain_id": chain_id,
        "name": name,
        "description": "Twelve screens and good popcorn.",
        "city": city,
        "pin_code": "560001",
        "address": "1 MG Road",
    })
}

/// A screen of 2 rows: `A` 10 standard seats, `B` 8 premium seats of which 7 and 8 are
/// blocked. Capacity 16.
pub fn screen_body(name: &str) -> Value {
    json!({
        "name": name,
        "rows": [
            {"label": "A", "seats": 10, "class": "standard"},
            {"label": "B", "seats": 8, "class": "premium", "blocked": [7, 8]},
        ],
    })
}

/// Capacity of [`screen_body`].
pub const SCREEN_CAPACITY: u64 = 16;

/// A show body on `screen` of `movie` at `starts_at`.
pub fn show_body(screen_id: &str, movie_id: &str, starts_at: DateTime<Utc>) -> Value {
    json!({
        "screen_id": screen_id,
        "movie_id": movie_id,
        "starts_at": rfc3339(starts_at),
        "prices": prices(),
    })
}

/// Reads the body as JSON after checking the status; panics with the body otherwise.
pub async fn expect_json(res: Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let url = res.url().to_string();
    let text = res.text().await.expect("body");
    assert_eq!(got, status, "{url}: unexpected status; body: {text}");
    if text.is_empty() {
        return Value::Null;
    }
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: not JSON ({e}): {text}"))
}

/// Checks the status only (e.g. 204), with the body in the message on mismatch.
pub async fn expect_status(res: Response, status: u16) {
    let got = res.status().as_u16();
    let url = res.url().to_string();
    let text = res.text().await.expect("body");
    assert_eq!(got, status, "{url}: unexpected status; body: {text}");
}

/// Checks a problem+json answer: status, content type, `code`, `type`, `status`, `title`,
/// `detail`. Returns the body.
pub async fn assert_problem(res: Response, status: u16, code: &str) -> Value {
    let got = res.status().as_u16();
    let url = res.url().to_string();
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().expect("ascii").to_owned());
    let text = res.text().await.expect("body");
    assert_eq!(got, status, "{url}: unexpected status; body: {text}");
    assert_eq!(
        content_type.as_deref(),
        Some("application/problem+json"),
        "{url}: content type; body: {text}"
    );
    let body: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: not JSON ({e}): {text}"));
    assert_eq!(body["code"], code, "{url}: code; body: {text}");
    assert_eq!(body["status"], status, "{url}: status member; body: {text}");
    assert_eq!(
        body["type"],
        format!("urn:cineflow:problem:{code}"),
        "{url}: type; body: {text}"
    );
    assert!(body["title"].is_string(), "{url}: title; body: {text}");
    assert!(body["detail"].is_string(), "{url}: detail; body: {text}");
    body
}

/// A 422 whose `errors` has an entry for `field`.
pub async fn assert_invalid(res: Response, field: &str) -> Value {
    let body = assert_problem(res, 422, "validation_failed").await;
    assert!(
        body["errors"][field].is_array(),
        "expected errors.{field} in {body}"
    );
    body
}

/// A venue: an approved owner with a chain, a theatre, a screen ([`screen_body`]) and a movie
/// that is now showing there.
#[derive(Debug, Clone)]
pub struct Venue {
    pub owner_id: String,
    pub token: String,
    pub chain_id: String,
    pub theatre_id: String,
    pub screen_id: String,
    pub movie_id: String,
}

impl TestApp {
    /// The URL of an API path (relative to `/api/v1`).
    pub fn api(&self, path: &str) -> String {
        self.url(&format!("/api/v1{path}"))
    }

    /// Any request, with an optional bearer token and an optional JSON body.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut req = self.client.request(method, self.api(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.expect("request sent")
    }

    /// POST with a raw body and the given content type (or none).
    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        let mut req = self.client.post(self.api(path)).body(body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        req.send().await.expect("request sent")
    }

    /// POST a JSON body.
    pub async fn post_json(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.request(Method::POST, path, token, Some(body)).await
    }

    /// PATCH a JSON body.
    pub async fn patch_json(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.request(Method::PATCH, path, token, Some(body)).await
    }

    /// GET an API path, optionally with a token.
    pub async fn get_auth(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::GET, path, token, None).await
    }

    /// GET an API path and expect 200 JSON.
    pub async fn get_ok(&self, path: &str, token: Option<&str>) -> Value {
        expect_json(self.get_auth(path, token).await, 200).await
    }

    /// DELETE an API path.
    pub async fn delete(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::DELETE, path, token, None).await
    }

    /// Signs up (201 expected) and returns the user.
    pub async fn signup(&self, name: &str, email: &str, password: &str, role: &str) -> Value {
        let res = self
            .post_json(
                "/auth/signup",
                None,
                json!({"name": name, "email": email, "password": password, "role": role}),
            )
            .await;
        expect_json(res, 201).await
    }

    /// Signs in (200 expected) and returns the access token.
    pub async fn signin(&self, email: &str, password: &str) -> String {
        let res = self
            .post_json(
                "/auth/signin",
                None,
                json!({"email": email, "password": password}),
            )
            .await;
        let body = expect_json(res, 200).await;
        s(&body, "access_token")
    }

    /// A token of the bootstrapped admin.
    pub async fn admin_token(&self) -> String {
        self.signin(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// An owner still pending approval: `(id, email, token)`.
    pub async fn pending_owner(&self, name: &str) -> (String, String, String) {
        let email = email("owner");
        let user = self.signup(name, &email, PASSWORD, "owner").await;
        let token = self.signin(&email, PASSWORD).await;
        (s(&user, "id"), email, token)
    }

    /// An owner an admin approved: `(id, token)`.
    pub async fn approved_owner(&self, name: &str) -> (String, String) {
        let email = email("owner");
        let user = self.signup(name, &email, PASSWORD, "owner").await;
        let id = s(&user, "id");
        self.set_user(&id, json!({"status": "approved"})).await;
        let token = self.signin(&email, PASSWORD).await;
        (id, token)
    }

    /// Admin PATCH of a user (200 expected).
    pub async fn set_user(&self, id: &str, body: Value) -> Value {
        let admin = self.admin_token().await;
        let res = self
            .patch_json(&format!("/users/{id}"), Some(&admin), body)
            .await;
        expect_json(res, 200).await
    }

    /// A customer: `(id, token)`.
    pub async fn customer(&self, name: &str) -> (String, String) {
        let email = email("customer");
        let user = self.signup(name, &email, PASSWORD, "customer").await;
        let token = self.signin(&email, PASSWORD).await;
        (s(&user, "id"), token)
    }

    /// A chain (INR, Asia/Kolkata); `name` is made unique.
    pub async fn chain(&self, token: &str, name: &str) -> String {
        let res = self
            .post_json(
                "/chains",
                Some(token),
                json!({"name": unique(name), "currency": "INR", "timezone": "Asia/Kolkata"}),
            )
            .await;
        s(&expect_json(res, 201).await, "id")
    }

    /// A movie from [`movie_body`] with a unique title.
    pub async fn movie(&self, token: &str) -> String {
        let v = self
            .movie_with(token, movie_body(&unique("The Long Night")))
            .await;
        s(&v, "id")
    }

    /// A movie from a body (201 expected). A body without `chain_id` from an owner gets one
    /// of the owner's chains (made for them if they have none), as `POST /movies` requires
    /// for chain staff; an admin's stays a platform movie.
    pub async fn movie_with(&self, token: &str, mut body: Value) -> Value {
        if body.get("chain_id").is_none() {
            let me = self.get_ok("/users/me", Some(token)).await;
            if me["role"] == "owner" {
                body["chain_id"] = json!(self.own_chain(token).await);
            }
        }
        expect_json(self.post_json("/movies", Some(token), body).await, 201).await
    }

    /// A chain the owner behind `token` is a member of, made for them if there is none.
    pub async fn own_chain(&self, token: &str) -> String {
        let chains = self.get_ok("/chains?limit=200", None).await;
        for chain in chains["items"].as_array().into_iter().flatten() {
            let id = s(chain, "id");
            let members = self
                .get_auth(&format!("/chains/{id}/members"), Some(token))
                .await;
            if members.status() == 200 {
                return id;
            }
        }
        self.chain(token, "Own").await
    }

    /// A theatre in Bengaluru.
    pub async fn theatre(&self, token: &str, chain_id: &str) -> String {
        let v = self
            .theatre_with(token, theatre_body(chain_id, "Regal Central", "Bengaluru"))
            .await;
        s(&v, "id")
    }

    /// A theatre from a body (201 expected).
    pub async fn theatre_with(&self, token: &str, body: Value) -> Value {
        expect_json(self.post_json("/theatres", Some(token), body).await, 201).await
    }

    /// A screen from [`screen_body`].
    pub async fn screen(&self, token: &str, theatre_id: &str) -> String {
        let res = self
            .post_json(
                &format!("/theatres/{theatre_id}/screens"),
                Some(token),
                screen_body(&unique("Screen")),
            )
            .await;
        s(&expect_json(res, 201).await, "id")
    }

    /// Adds a movie to a theatre's now-showing list (200 expected); returns the list.
    pub async fn now_showing(&self, token: &str, theatre_id: &str, movie_id: &str) -> Value {
        let res = self
            .post_json(
                &format!("/theatres/{theatre_id}/movies"),
                Some(token),
                json!({"movie_ids": [movie_id]}),
            )
            .await;
        expect_json(res, 200).await
    }

    /// A show (201 expected) with [`prices`].
    pub async fn show(
        &self,
        token: &str,
        screen_id: &str,
        movie_id: &str,
        starts_at: DateTime<Utc>,
    ) -> Value {
        let res = self
            .post_json(
                "/shows",
                Some(token),
                show_body(screen_id, movie_id, starts_at),
            )
            .await;
        expect_json(res, 201).await
    }

    /// An approved owner with a chain, theatre, screen and a now-showing movie.
    pub async fn venue(&self, name: &str) -> Venue {
        let (owner_id, token) = self.approved_owner(name).await;
        let chain_id = self.chain(&token, name).await;
        let theatre_id = self.theatre(&token, &chain_id).await;
        let screen_id = self.screen(&token, &theatre_id).await;
        let movie_id = self.movie(&token).await;
        self.now_showing(&token, &theatre_id, &movie_id).await;
        Venue {
            owner_id,
            token,
            chain_id,
            theatre_id,
            screen_id,
            movie_id,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Bookings and payments

/// A screen of one row `A` of `seats` standard seats (capacity `seats`).
pub fn small_screen_body(name: &str, seats: u32) -> Value {
    json!({
        "name": name,
        "rows": [{"label": "A", "seats": seats, "class": "standard"}],
    })
}

/// The body of `POST /bookings`.
pub fn hold_body(show_id: &str, seats: &[&str]) -> Value {
    json!({"show_id": show_id, "seat_ids": seats})
}

/// The body of `POST /bookings/{id}/payments` paying `booking` in full with a good card.
pub fn payment_body(booking: &Value) -> Value {
    json!({
        "amount_minor": booking["total_minor"],
        "currency": booking["currency"],
        "card_token": "tok_visa",
    })
}

/// The seat ids of a booking, sorted.
pub fn seat_ids(booking: &Value) -> Vec<String> {
    let mut seats: Vec<String> = booking["seats"]
        .as_array()
        .unwrap_or_else(|| panic!("no seats in {booking}"))
        .iter()
        .map(|seat| {
            seat.as_str()
                .unwrap_or_else(|| panic!("seat is not a string in {booking}"))
                .to_owned()
        })
        .collect();
    seats.sort();
    seats
}

/// Strings, sorted.
pub fn sorted_strings(seats: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = seats.iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}

/// A booking id as a UUID for SQL.
pub fn uuid_of(id: &str) -> Uuid {
    Uuid::parse_str(id).unwrap_or_else(|e| panic!("not a UUID: {id}: {e}"))
}

/// Makes a hold run out now, as if its time had passed: the booking's `expires_at` and its
/// seats' `taken_until` move one second into the past (but never before `taken_from`, which
/// `booking_seats_range_check` forbids for a hold younger than a second). Does not change its
/// status.
pub async fn expire_hold(pool: &sqlx::PgPool, booking_id: &str) {
    let id = uuid_of(booking_id);
    let done =
        sqlx::query("update bookings set expires_at = now() - interval '1 second' where id = $1")
            .bind(id)
            .execute(pool)
            .await
            .expect("expire booking");
    assert_eq!(done.rows_affected(), 1, "booking {booking_id} exists");
    sqlx::query(
        "update booking_seats set taken_until = greatest(taken_from, now() - interval '1 second') \
         where booking_id = $1",
    )
    .bind(id)
    .execute(pool)
    .await
    .expect("expire booking seats");
}

/// How many notifications of `kind` are queued (in any state).
pub async fn notifications_of(pool: &sqlx::PgPool, kind: &str) -> i64 {
    sqlx::query_scalar("select count(*) from notifications where kind = $1")
        .bind(kind)
        .fetch_one(pool)
        .await
        .expect("count notifications")
}

/// How many payments rows a booking has.
pub async fn payments_of(pool: &sqlx::PgPool, booking_id: &str) -> i64 {
    sqlx::query_scalar("select count(*) from payments where booking_id = $1")
        .bind(uuid_of(booking_id))
        .fetch_one(pool)
        .await
        .expect("count payments")
}

/// How many bookings exist.
pub async fn bookings_count(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from bookings")
        .fetch_one(pool)
        .await
        .expect("count bookings")
}

/// `(show_id, seat_id, count)` of every seat that is in more than one live booking: must be
/// empty.
pub async fn doubly_taken_seats(pool: &sqlx::PgPool) -> Vec<(String, String, i64)> {
    sqlx::query_as(
        "select b.show_id::text, s.seat_id::text, count(*) \
         from booking_seats s join bookings b on b.id = s.booking_id \
         where b.status in ('held', 'confirmed') and s.taken_until > now() \
         group by 1, 2 having count(*) > 1",
    )
    .fetch_all(pool)
    .await
    .expect("doubly taken seats")
}

/// A venue (see [`TestApp::venue`]) plus a show a week ahead on its screen.
#[derive(Debug, Clone)]
pub struct Bookable {
    pub venue: Venue,
    pub show_id: String,
}

impl TestApp {
    /// POST a JSON body with an optional `Idempotency-Key`.
    pub async fn post_keyed(
        &self,
        path: &str,
        token: Option<&str>,
        key: Option<&str>,
        body: Value,
    ) -> Response {
        let mut req = self.client.post(self.api(path)).json(&body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(key) = key {
            req = req.header("idempotency-key", key);
        }
        req.send().await.expect("request sent")
    }

    /// A venue with a show a week ahead.
    pub async fn bookable(&self, name: &str) -> Bookable {
        let venue = self.venue(name).await;
        let show = self
            .show(
                &venue.token,
                &venue.screen_id,
                &venue.movie_id,
                base_time(7),
            )
            .await;
        Bookable {
            venue,
            show_id: s(&show, "id"),
        }
    }

    /// `POST /bookings` for `seats` of `show_id`, whatever the answer.
    pub async fn try_hold(&self, token: &str, show_id: &str, seats: &[&str]) -> Response {
        self.post_json("/bookings", Some(token), hold_body(show_id, seats))
            .await
    }

    /// A hold (201 expected).
    pub async fn hold(&self, token: &str, show_id: &str, seats: &[&str]) -> Value {
        expect_json(self.try_hold(token, show_id, seats).await, 201).await
    }

    /// `POST /bookings/{id}/payments` paying the booking in full, whatever the answer.
    pub async fn try_pay(&self, token: &str, booking: &Value) -> Response {
        self.post_json(
            &format!("/bookings/{}/payments", s(booking, "id")),
            Some(token),
            payment_body(booking),
        )
        .await
    }

    /// Pays a booking in full (201 expected); returns the payment.
    pub async fn pay(&self, token: &str, booking: &Value) -> Value {
        expect_json(self.try_pay(token, booking).await, 201).await
    }

    /// `POST /bookings/{id}/cancel` with `{}`, whatever the answer.
    pub async fn cancel_booking(&self, token: Option<&str>, booking_id: &str) -> Response {
        self.post_json(&format!("/bookings/{booking_id}/cancel"), token, json!({}))
            .await
    }

    /// `GET /bookings/{id}` (200 expected).
    pub async fn booking(&self, token: &str, booking_id: &str) -> Value {
        self.get_ok(&format!("/bookings/{booking_id}"), Some(token))
            .await
    }

    /// The state of every seat of a show, by seat id.
    pub async fn seat_states(&self, show_id: &str) -> std::collections::BTreeMap<String, String> {
        let seats = self.get_ok(&format!("/shows/{show_id}/seats"), None).await;
        seats["items"]
            .as_array()
            .unwrap_or_else(|| panic!("no items in {seats}"))
            .iter()
            .map(|seat| (s(seat, "id"), s(seat, "state")))
            .collect()
    }

    /// The ids of the seats of a show in `state`, sorted.
    pub async fn seats_in_state(&self, show_id: &str, state: &str) -> Vec<String> {
        self.seat_states(show_id)
            .await
            .into_iter()
            .filter(|(_, st)| st == state)
            .map(|(id, _)| id)
            .collect()
    }

    /// `seats_available` of a show.
    pub async fn seats_available(&self, show_id: &str) -> u64 {
        let show = self.get_ok(&format!("/shows/{show_id}"), None).await;
        show["seats_available"]
            .as_u64()
            .unwrap_or_else(|| panic!("no seats_available in {show}"))
    }

    /// A customer with their email: `(id, email, token)`.
    pub async fn customer_with_email(&self, name: &str) -> (String, String, String) {
        let email = email("customer");
        let user = self.signup(name, &email, PASSWORD, "customer").await;
        let token = self.signin(&email, PASSWORD).await;
        (s(&user, "id"), email, token)
    }
}

// ---------------------------------------------------------------------------------------
// Chains' components

/// The row label of row `i` (0-based) of [`big_screen_body`]: `A` … `Z`, then `AA`, `AB`, ….
pub fn row_label(i: u32) -> String {
    let letter = |n: u32| char::from(b'A' + u8::try_from(n % 26).unwrap_or(0));
    if i < 26 {
        letter(i).to_string()
    } else {
        format!("{}{}", letter(i / 26 - 1), letter(i))
    }
}

/// A screen of `rows` rows ([`row_label`]) of `seats` standard seats each (at most 60 × 100).
pub fn big_screen_body(name: &str, rows: u32, seats: u32) -> Value {
    let rows: Vec<Value> = (0..rows)
        .map(|i| json!({"label": row_label(i), "seats": seats, "class": "standard"}))
        .collect();
    json!({"name": name, "rows": rows})
}

impl TestApp {
    /// `POST /chains/{chain_id}/components?hook={hook}` with `bytes` as `application/wasm`,
    /// whatever the answer.
    pub async fn upload(
        &self,
        token: &str,
        chain_id: &str,
        hook: &str,
        bytes: Vec<u8>,
    ) -> Response {
        self.post_raw(
            &format!("/chains/{chain_id}/components?hook={hook}"),
            Some(token),
            Some("application/wasm"),
            bytes,
        )
        .await
    }

    /// Uploads a component (201 expected); returns its record.
    pub async fn upload_ok(
        &self,
        token: &str,
        chain_id: &str,
        hook: &str,
        bytes: Vec<u8>,
    ) -> Value {
        expect_json(self.upload(token, chain_id, hook, bytes).await, 201).await
    }

    /// PUT a JSON body.
    pub async fn put_json(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.request(Method::PUT, path, token, Some(body)).await
    }

    /// `PUT /chains/{chain_id}/bindings/{hook}` to `component_id` (with `on_failure` if given),
    /// whatever the answer.
    pub async fn bind(
        &self,
        token: &str,
        chain_id: &str,
        hook: &str,
        component_id: &str,
        on_failure: Option<&str>,
    ) -> Response {
        let mut body = json!({"component_id": component_id});
        if let Some(policy) = on_failure {
            body["on_failure"] = json!(policy);
        }
        self.put_json(
            &format!("/chains/{chain_id}/bindings/{hook}"),
            Some(token),
            body,
        )
        .await
    }

    /// Binds (200 expected); returns the binding.
    pub async fn bind_ok(
        &self,
        token: &str,
        chain_id: &str,
        hook: &str,
        component_id: &str,
        on_failure: Option<&str>,
    ) -> Value {
        expect_json(
            self.bind(token, chain_id, hook, component_id, on_failure)
                .await,
            200,
        )
        .await
    }

    /// `DELETE /chains/{chain_id}/bindings/{hook}`, whatever the answer.
    pub async fn unbind(&self, token: &str, chain_id: &str, hook: &str) -> Response {
        self.delete(&format!("/chains/{chain_id}/bindings/{hook}"), Some(token))
            .await
    }

    /// The entry for `hook` of `GET /chains/{chain_id}/bindings`.
    pub async fn binding(&self, token: &str, chain_id: &str, hook: &str) -> Value {
        let list = self
            .get_ok(&format!("/chains/{chain_id}/bindings"), Some(token))
            .await;
        list["items"]
            .as_array()
            .unwrap_or_else(|| panic!("no items in {list}"))
            .iter()
            .find(|b| b["hook"] == hook)
            .cloned()
            .unwrap_or_else(|| panic!("no {hook} binding in {list}"))
    }

    /// `POST /bookings` for `seats` with a promo code, whatever the answer.
    pub async fn try_hold_promo(
        &self,
        token: &str,
        show_id: &str,
        seats: &[&str],
        promo_code: &str,
    ) -> Response {
        let mut body = hold_body(show_id, seats);
        body["promo_code"] = json!(promo_code);
        self.post_json("/bookings", Some(token), body).await
    }

    /// The component (sha256) of the booking's pricing decision, from `GET /bookings/{id}/audit`
    /// (`token`: the chain's staff).
    pub async fn pricing_component_of(&self, token: &str, booking_id: &str) -> String {
        let audit = self
            .get_ok(&format!("/bookings/{booking_id}/audit"), Some(token))
            .await;
        let decisions: Vec<&Value> = audit["items"]
            .as_array()
            .unwrap_or_else(|| panic!("no items in {audit}"))
            .iter()
            .filter(|i| i["kind"] == "decision" && i["hook"] == "pricing")
            .collect();
        assert_eq!(decisions.len(), 1, "one pricing decision: {audit}");
        s(decisions[0], "component_id")
    }

    /// A screen of [`big_screen_body`] in the venue's theatre and a show on it a week ahead;
    /// returns the show id.
    pub async fn big_show(&self, venue: &Venue, rows: u32, seats: u32) -> String {
        let res = self
            .post_json(
                &format!("/theatres/{}/screens", venue.theatre_id),
                Some(&venue.token),
                big_screen_body(&unique("Big Screen"), rows, seats),
            )
            .await;
        let screen = s(&expect_json(res, 201).await, "id");
        let show = self
            .show(&venue.token, &screen, &venue.movie_id, base_time(7))
            .await;
        s(&show, "id")
    }
}
