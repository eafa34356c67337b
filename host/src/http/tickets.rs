//! Signed tickets and check-in (API.md, "Tickets and check-in"; docs/tickets.md): a booking's
//! tickets, their QR images, the chain's public keys and their rotation, scans at the door and
//! a show's door summary.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::{ApiJson, ApiPath, ApiQuery, MaybeAuthUser, Problems, StaffUser};
use super::{ApiError, Problem};
use crate::domain::Actor;
use crate::domain::tickets::checkin::{MAX_CLOCK_SKEW, MAX_GATE, MAX_SCAN_ID};
use crate::domain::tickets::{CheckInAnswer, CheckInCommand, PublicKey, ScanSummary, Ticket, qr};
use crate::domain::types::TicketStatus;
use crate::state::AppState;

/// Longest `code` a scan may carry; a code is under 200 characters, anything else is not one.
const MAX_CODE: usize = 1024;

/// The routes of this module, each declared once by its handler's `#[utoipa::path]`.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tickets))
        .routes(routes!(get_ticket_svg))
        .routes(routes!(get_ticket_png))
        .routes(routes!(list_checkin_keys))
        .routes(routes!(rotate_checkin_key))
        .routes(routes!(create_checkin))
        .routes(routes!(get_checkin_summary))
}

/// A ticket: one seat of a confirmed booking.
#[derive(Debug, Serialize, ToSchema)]
struct TicketView {
    id: Uuid,
    booking_id: Uuid,
    show_id: Uuid,
    seat_id: String,
    /// The signed code the QR image carries (docs/tickets.md, "The code").
    code: String,
    status: TicketStatus,
    /// Its first successful scan.
    checked_in_at: Option<DateTime<Utc>>,
}

impl From<Ticket> for TicketView {
    fn from(t: Ticket) -> Self {
        Self {
            id: t.id,
            booking_id: t.booking_id,
            show_id: t.show_id,
            seat_id: t.seat_id,
            code: t.code,
            status: t.status,
            checked_in_at: t.checked_in_at,
        }
    }
}

/// A booking's tickets.
#[derive(Debug, Serialize, ToSchema)]
struct TicketList {
    items: Vec<TicketView>,
}

/// A public key a scanner verifies codes with.
#[derive(Debug, Serialize, ToSchema)]
struct KeyView {
    /// 16 hex digits: the first 8 bytes of sha256(public key), as a code names its key.
    key_id: String,
    /// Always `ed25519`.
    algorithm: &'static str,
    /// Base64url, no padding, of the 32 raw bytes.
    public_key: String,
    /// A retired key: verifies codes until then (the end of its last show). Absent: active.
    #[serde(skip_serializing_if = "Option::is_none")]
    valid_until: Option<DateTime<Utc>>,
}

impl From<PublicKey> for KeyView {
    fn from(k: PublicKey) -> Self {
        Self {
            key_id: k.key_id.to_string(),
            algorithm: "ed25519",
            public_key: crate::domain::tickets::keys::key_text(&k),
            valid_until: k.valid_until,
        }
    }
}

/// The chain's keys: the active one first, then retired ones still valid.
#[derive(Debug, Serialize, ToSchema)]
struct KeyList {
    keys: Vec<KeyView>,
}

/// A scanned code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateCheckin {
    /// What the scanner read (a code of another shape is answered `invalid`).
    #[schema(schema_with = field::code)]
    code: String,
    /// The scanner's id for this scan, unique per chain: the same `scan_id` again gets the
    /// same answer.
    #[schema(schema_with = field::scan_id)]
    scan_id: String,
    /// Where it was scanned.
    #[schema(schema_with = field::gate)]
    gate: Option<String>,
    /// When the scanner scanned (RFC 3339 with offset); default: when it arrives.
    #[schema(schema_with = field::time)]
    scanned_at: Option<String>,
    /// The show this gate admits: a ticket of another show is `wrong_show`.
    show_id: Option<Uuid>,
}

mod field {
    use crate::http::schema::text;
    use utoipa::openapi::schema::{KnownFormat, Object, ObjectBuilder, SchemaFormat, Type};

    pub(super) fn code() -> Object {
        text(1, super::MAX_CODE).build()
    }
    pub(super) fn scan_id() -> Object {
        text(1, super::MAX_SCAN_ID).build()
    }
    pub(super) fn gate() -> Object {
        text(1, super::MAX_GATE).build()
    }
    pub(super) fn time() -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .build()
    }
}

impl CreateCheckin {
    fn into_command(self) -> Result<CheckInCommand, ApiError> {
        let mut p = Problems::default();
        let chars = |s: &str| s.chars().count();
        if !(1..=MAX_CODE).contains(&chars(&self.code)) {
            p.add("code", format!("must be 1 to {MAX_CODE} characters"));
        }
        if !(1..=MAX_SCAN_ID).contains(&chars(&self.scan_id)) {
            p.add("scan_id", format!("must be 1 to {MAX_SCAN_ID} characters"));
        }
        let gate = self.gate.map(|g| g.trim().to_owned());
        if let Some(g) = &gate
            && !(1..=MAX_GATE).contains(&chars(g))
        {
            p.add("gate", format!("must be 1 to {MAX_GATE} characters"));
        }
        let scanned_at = match self.scanned_at.as_deref().map(DateTime::parse_from_rfc3339) {
            None => None,
            // A scanner's clock may run a little fast; a scan from further in the future would
            // be judged (show ended, key valid) at a time that has not come.
            Some(Ok(at)) if at.with_timezone(&Utc) > Utc::now() + MAX_CLOCK_SKEW => {
                p.add(
                    "scanned_at",
                    format!(
                        "is in the future (more than {} s ahead of the server's clock)",
                        MAX_CLOCK_SKEW.num_seconds()
                    ),
                );
                None
            }
            Some(Ok(at)) => Some(at.with_timezone(&Utc)),
            Some(Err(_)) => {
                p.add("scanned_at", "must be an RFC 3339 time with offset");
                None
            }
        };
        p.finish()?;
        Ok(CheckInCommand {
            code: self.code,
            scan_id: self.scan_id,
            gate,
            scanned_at,
            show_id: self.show_id,
        })
    }
}

/// The alternative to a bearer token for a ticket's image: its code.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ImageQuery {
    /// The ticket's code: whoever has it has the ticket (the confirmation email links so).
    code: Option<String>,
}

/// The tickets of a booking: one per seat once it is confirmed.
#[utoipa::path(get, path = "/api/v1/bookings/{id}/tickets", tag = "bookings",
    params(("id" = Uuid, Path, description = "Booking id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Its tickets; `[]` while the booking is held (tickets come with the payment)", body = TicketList),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such booking (or not yours, nor your chain's)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_tickets(
    State(state): State<AppState>,
    user: super::extract::AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<TicketList>, ApiError> {
    let tickets = state.tickets.of_booking(&Actor::new(user.0), id).await?;
    Ok(Json(TicketList {
        items: tickets.into_iter().map(Into::into).collect(),
    }))
}

async fn image_ticket(
    state: &AppState,
    user: MaybeAuthUser,
    id: Uuid,
    q: ImageQuery,
) -> Result<Ticket, ApiError> {
    let actor = user.0.map(|u| Actor::new(u.0));
    Ok(state
        .tickets
        .for_image(actor.as_ref(), id, q.code.as_deref())
        .await?)
}

fn image(content_type: &'static str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            // The image is the ticket: no shared cache keeps it.
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        body,
    )
        .into_response()
}

/// A ticket's code as an SVG QR image.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/qr.svg", tag = "bookings",
    params(("id" = Uuid, Path, description = "Ticket id"), ImageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The QR code", content_type = "image/svg+xml", body = String),
        (status = 401, description = "`unauthorized`: neither a token nor a code", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such ticket (or not yours, or the wrong code)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_ticket_svg(
    State(state): State<AppState>,
    user: MaybeAuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<ImageQuery>,
) -> Result<Response, ApiError> {
    let ticket = image_ticket(&state, user, id, q).await?;
    let svg = qr::svg(&ticket.code).map_err(ApiError::internal)?;
    Ok(image("image/svg+xml", svg.into_bytes()))
}

/// A ticket's code as a PNG QR image.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/qr.png", tag = "bookings",
    params(("id" = Uuid, Path, description = "Ticket id"), ImageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The QR code", content_type = "image/png", body = Vec<u8>),
        (status = 401, description = "`unauthorized`: neither a token nor a code", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such ticket (or not yours, or the wrong code)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_ticket_png(
    State(state): State<AppState>,
    user: MaybeAuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<ImageQuery>,
) -> Result<Response, ApiError> {
    let ticket = image_ticket(&state, user, id, q).await?;
    let png = qr::png(&ticket.code).map_err(ApiError::internal)?;
    Ok(image("image/png", png))
}

/// The chain's public keys for offline verification (made now if the chain has none).
#[utoipa::path(get, path = "/api/v1/chains/{id}/checkin-keys", tag = "chains",
    params(("id" = Uuid, Path, description = "Chain id")),
    responses(
        (status = 200, description = "The active key and retired keys still valid", body = KeyList),
        (status = 404, description = "No such chain", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_checkin_keys(
    State(state): State<AppState>,
    ApiPath(chain): ApiPath<Uuid>,
) -> Result<Json<KeyList>, ApiError> {
    let keys = state.tickets.public_keys(chain).await?;
    Ok(Json(KeyList {
        keys: keys.into_iter().map(Into::into).collect(),
    }))
}

/// Rotates the chain's signing key: new tickets get the new key; the old one verifies until
/// the last show it has valid tickets for ends.
#[utoipa::path(post, path = "/api/v1/chains/{id}/checkin-keys/rotate", tag = "chains",
    params(("id" = Uuid, Path, description = "Chain id")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new active key", body = KeyView),
        (status = 403, description = "`forbidden`: not chain staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such chain (or not yours)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn rotate_checkin_key(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(chain): ApiPath<Uuid>,
) -> Result<(StatusCode, Json<KeyView>), ApiError> {
    let access = state.accounts.member_of(&Actor::new(user), chain).await?;
    let key = state.tickets.rotate(&access).await?;
    Ok((StatusCode::CREATED, Json(key.into())))
}

/// A scan at the door: `ok` the first time, then `already_used`; the same `scan_id` again gets
/// the stored answer.
#[utoipa::path(post, path = "/api/v1/chains/{id}/checkins", tag = "chains", request_body = CreateCheckin,
    params(("id" = Uuid, Path, description = "Chain id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What the scan found", body = CheckInAnswer),
        (status = 400, description = "`bad_request`: not JSON, or unknown fields", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such chain (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_checkin(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(chain): ApiPath<Uuid>,
    ApiJson(body): ApiJson<CreateCheckin>,
) -> Result<Json<CheckInAnswer>, ApiError> {
    let access = state.accounts.member_of(&Actor::new(user), chain).await?;
    let cmd = body.into_command()?;
    Ok(Json(state.tickets.check_in(&access, cmd).await?))
}

/// A show's door: tickets sold, checked in, and checked in per gate.
#[derive(Debug, Serialize, ToSchema)]
struct SummaryView {
    /// Valid or used tickets.
    sold: i64,
    /// Used tickets.
    checked_in: i64,
    /// Checked-in tickets per gate of their first scan; `""` counts scans that named no gate.
    by_gate: BTreeMap<String, i64>,
}

impl From<ScanSummary> for SummaryView {
    fn from(s: ScanSummary) -> Self {
        Self {
            sold: s.sold,
            checked_in: s.checked_in,
            by_gate: s.by_gate,
        }
    }
}

/// Check-in counts of a show.
#[utoipa::path(get, path = "/api/v1/shows/{id}/checkins", tag = "shows",
    params(("id" = Uuid, Path, description = "Show id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The counts", body = SummaryView),
        (status = 403, description = "`forbidden`: not chain staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such show (or not your chain's)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_checkin_summary(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(show): ApiPath<Uuid>,
) -> Result<Json<SummaryView>, ApiError> {
    Ok(Json(
        state.tickets.summary(&Actor::new(user), show).await?.into(),
    ))
}
