//! The events a chain's webhooks announce: one kind per change, one `data` struct per kind
//! (the host's own, versioned types: never a component's output verbatim), and [`emit`], which
//! writes an event's deliveries in the transaction of the change (docs/webhooks.md).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::bookings::Booking;

/// The version of the envelope and of every `data` schema; a breaking change is a new one.
pub const VERSION: u8 = 1;

/// What happened; the `type` of the body and a subscription's `events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum EventKind {
    /// Seats were held for a customer ([`BookingData`]).
    #[serde(rename = "booking.held")]
    BookingHeld,
    /// A hold was paid ([`BookingData`]).
    #[serde(rename = "booking.confirmed")]
    BookingConfirmed,
    /// A booking, or some of its seats, was cancelled ([`BookingCancelledData`]).
    #[serde(rename = "booking.cancelled")]
    BookingCancelled,
    /// A hold ran out unpaid ([`BookingData`]).
    #[serde(rename = "booking.expired")]
    BookingExpired,
    /// A payment went through ([`PaymentData`]).
    #[serde(rename = "payment.succeeded")]
    PaymentSucceeded,
    /// Money went back to the customer ([`RefundData`]).
    #[serde(rename = "payment.refunded")]
    PaymentRefunded,
    /// A show was cancelled with all its bookings ([`ShowCancelledData`]).
    #[serde(rename = "show.cancelled")]
    ShowCancelled,
    /// A customer joined a sold-out show's waiting list ([`WaitlistData`]).
    #[serde(rename = "waitlist.joined")]
    WaitlistJoined,
    /// A customer left it (an open offer's hold is released) ([`WaitlistData`]).
    #[serde(rename = "waitlist.left")]
    WaitlistLeft,
    /// Freed seats were offered to a waiting customer ([`WaitlistData`]).
    #[serde(rename = "waitlist.offered")]
    WaitlistOffered,
    /// An offer ran out unpaid ([`WaitlistData`]).
    #[serde(rename = "waitlist.offer_expired")]
    WaitlistOfferExpired,
    /// A ticket was admitted at the door ([`CheckinAcceptedData`]).
    #[serde(rename = "checkin.accepted")]
    CheckinAccepted,
    /// A component was bound to one of the chain's hooks ([`ComponentData`]).
    #[serde(rename = "component.bound")]
    ComponentBound,
    /// A hook went back to the platform's default ([`ComponentData`]).
    #[serde(rename = "component.unbound")]
    ComponentUnbound,
    /// A bound component failed too often; the default serves ([`ComponentData`]).
    #[serde(rename = "component.breaker_tripped")]
    ComponentBreakerTripped,
    /// A canary failed and was removed ([`ComponentData`]).
    #[serde(rename = "component.canary_rolled_back")]
    ComponentCanaryRolledBack,
}

impl EventKind {
    /// Every kind, in the order the docs list them.
    pub const ALL: [EventKind; 16] = [
        EventKind::BookingHeld,
        EventKind::BookingConfirmed,
        EventKind::BookingCancelled,
        EventKind::BookingExpired,
        EventKind::PaymentSucceeded,
        EventKind::PaymentRefunded,
        EventKind::ShowCancelled,
        EventKind::WaitlistJoined,
        EventKind::WaitlistLeft,
        EventKind::WaitlistOffered,
        EventKind::WaitlistOfferExpired,
        EventKind::CheckinAccepted,
        EventKind::ComponentBound,
        EventKind::ComponentUnbound,
        EventKind::ComponentBreakerTripped,
        EventKind::ComponentCanaryRolledBack,
    ];

    /// The wire name (`booking.held`).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::BookingHeld => "booking.held",
            EventKind::BookingConfirmed => "booking.confirmed",
            EventKind::BookingCancelled => "booking.cancelled",
            EventKind::BookingExpired => "booking.expired",
            EventKind::PaymentSucceeded => "payment.succeeded",
            EventKind::PaymentRefunded => "payment.refunded",
            EventKind::ShowCancelled => "show.cancelled",
            EventKind::WaitlistJoined => "waitlist.joined",
            EventKind::WaitlistLeft => "waitlist.left",
            EventKind::WaitlistOffered => "waitlist.offered",
            EventKind::WaitlistOfferExpired => "waitlist.offer_expired",
            EventKind::CheckinAccepted => "checkin.accepted",
            EventKind::ComponentBound => "component.bound",
            EventKind::ComponentUnbound => "component.unbound",
            EventKind::ComponentBreakerTripped => "component.breaker_tripped",
            EventKind::ComponentCanaryRolledBack => "component.canary_rolled_back",
        }
    }

    /// The kind of a wire name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

/// `booking.held`, `booking.confirmed`, `booking.expired`: the booking as it now is.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BookingData {
    pub booking_id: Uuid,
    pub show_id: Uuid,
    /// The customer's user id (no personal data is sent).
    pub customer_id: Uuid,
    /// Seat ids (`A-7`).
    pub seats: Vec<String>,
    /// After any voucher, in minor units of `currency`.
    pub total_minor: i64,
    pub currency: String,
    /// What a voucher took off (0 without one).
    pub discount_minor: i64,
    /// When the hold ends (or ended) unless paid.
    pub expires_at: DateTime<Utc>,
}

impl BookingData {
    /// The booking's fields.
    pub fn of(b: &Booking) -> Self {
        Self {
            booking_id: b.id,
            show_id: b.show_id,
            customer_id: b.user_id,
            seats: b.seats.clone(),
            total_minor: b.total_minor,
            currency: b.currency.clone(),
            discount_minor: b.discount_minor,
            expires_at: b.expires_at,
        }
    }
}

/// `booking.cancelled`: all of a booking, or some of its seats.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BookingCancelledData {
    pub booking_id: Uuid,
    pub show_id: Uuid,
    pub customer_id: Uuid,
    /// `true`: only `cancelled_seats` went; the booking stays confirmed with `remaining_seats`.
    pub partial: bool,
    pub cancelled_seats: Vec<String>,
    /// Empty for a whole cancellation.
    pub remaining_seats: Vec<String>,
    /// What this cancellation refunds (0 for an unpaid hold), in minor units.
    pub refund_minor: i64,
    pub currency: String,
    /// `customer`, `staff` or `show_cancelled`.
    pub reason: String,
}

/// `payment.succeeded`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentData {
    pub payment_id: Uuid,
    pub booking_id: Uuid,
    pub amount_minor: i64,
    pub currency: String,
    /// The part a gift card paid (0 without one).
    pub gift_card_minor: i64,
}

/// `payment.refunded`: money going back for a (whole or partial) cancellation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RefundData {
    pub booking_id: Uuid,
    pub refund_minor: i64,
    pub currency: String,
}

/// `show.cancelled` (each of its bookings also gets `booking.cancelled`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShowCancelledData {
    pub show_id: Uuid,
    pub cancelled_bookings: u64,
    pub refunded_minor: i64,
    pub currency: String,
}

/// `waitlist.joined`, `waitlist.left`, `waitlist.offered`, `waitlist.offer_expired`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WaitlistData {
    /// The waiting-list entry.
    pub entry_id: Uuid,
    pub show_id: Uuid,
    pub customer_id: Uuid,
    /// The hold that carries the offer (none before an offer).
    pub booking_id: Option<Uuid>,
    /// The offer's seats (empty before an offer).
    pub seats: Vec<String>,
    /// When the offer ends (or ended).
    pub expires_at: Option<DateTime<Utc>>,
}

/// `checkin.accepted`: a ticket admitted at the door.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CheckinAcceptedData {
    pub ticket_id: Uuid,
    pub booking_id: Uuid,
    pub show_id: Uuid,
    pub seat_id: String,
    /// The gate the scanner named.
    pub gate: Option<String>,
    /// When the scanner read the code.
    pub scanned_at: DateTime<Utc>,
}

/// `component.*`: a change to which component serves one of the chain's hooks.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ComponentData {
    /// `booking-rules`, `pricing`, ...
    pub hook: String,
    /// The chain's component concerned (`None` when a hook went back to the default).
    pub component_id: Option<String>,
    /// Why (breaker trips and canary rollbacks: the last failure).
    pub reason: Option<String>,
}

/// An event and its data; serialised as the body's `data`.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Event {
    BookingHeld(BookingData),
    BookingConfirmed(BookingData),
    BookingCancelled(BookingCancelledData),
    BookingExpired(BookingData),
    PaymentSucceeded(PaymentData),
    PaymentRefunded(RefundData),
    ShowCancelled(ShowCancelledData),
    WaitlistJoined(WaitlistData),
    WaitlistLeft(WaitlistData),
    WaitlistOffered(WaitlistData),
    WaitlistOfferExpired(WaitlistData),
    CheckinAccepted(CheckinAcceptedData),
    ComponentBound(ComponentData),
    ComponentUnbound(ComponentData),
    ComponentBreakerTripped(ComponentData),
    ComponentCanaryRolledBack(ComponentData),
}

impl Event {
    /// `checkin.accepted`, for the check-in's transaction.
    pub fn checkin_accepted(
        ticket_id: Uuid,
        booking_id: Uuid,
        show_id: Uuid,
        seat_id: impl Into<String>,
        gate: Option<String>,
        scanned_at: DateTime<Utc>,
    ) -> Self {
        Event::CheckinAccepted(CheckinAcceptedData {
            ticket_id,
            booking_id,
            show_id,
            seat_id: seat_id.into(),
            gate,
            scanned_at,
        })
    }

    /// Its kind.
    pub fn kind(&self) -> EventKind {
        match self {
            Event::BookingHeld(_) => EventKind::BookingHeld,
            Event::BookingConfirmed(_) => EventKind::BookingConfirmed,
            Event::BookingCancelled(_) => EventKind::BookingCancelled,
            Event::BookingExpired(_) => EventKind::BookingExpired,
            Event::PaymentSucceeded(_) => EventKind::PaymentSucceeded,
            Event::PaymentRefunded(_) => EventKind::PaymentRefunded,
            Event::ShowCancelled(_) => EventKind::ShowCancelled,
            Event::WaitlistJoined(_) => EventKind::WaitlistJoined,
            Event::WaitlistLeft(_) => EventKind::WaitlistLeft,
            Event::WaitlistOffered(_) => EventKind::WaitlistOffered,
            Event::WaitlistOfferExpired(_) => EventKind::WaitlistOfferExpired,
            Event::CheckinAccepted(_) => EventKind::CheckinAccepted,
            Event::ComponentBound(_) => EventKind::ComponentBound,
            Event::ComponentUnbound(_) => EventKind::ComponentUnbound,
            Event::ComponentBreakerTripped(_) => EventKind::ComponentBreakerTripped,
            Event::ComponentCanaryRolledBack(_) => EventKind::ComponentCanaryRolledBack,
        }
    }
}

/// The body every delivery carries (`WebhookEvent` in the OpenAPI document).
#[derive(Serialize)]
struct Envelope<'a> {
    id: Uuid,
    #[serde(rename = "type")]
    kind: &'static str,
    created_at: DateTime<Utc>,
    chain_id: Uuid,
    version: u8,
    data: &'a Event,
}

/// Queues `event` for every live endpoint of `chain` subscribed to its kind, in the caller's
/// transaction: the deliveries exist if and only if the change commits. The body is
/// serialised once, here, and stored as the bytes every attempt sends. A chain without
/// endpoints pays one indexed `insert .. select` that inserts nothing. Returns the deliveries
/// queued.
pub async fn emit(conn: &mut PgConnection, chain: Uuid, event: Event) -> Result<u64, sqlx::Error> {
    let kind = event.kind();
    let id = Uuid::now_v7();
    let body = serde_json::to_vec(&Envelope {
        id,
        kind: kind.as_str(),
        created_at: Utc::now(),
        chain_id: chain,
        version: VERSION,
        data: &event,
    })
    .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    crate::db::webhooks::insert_deliveries(conn, chain, kind.as_str(), id, &body).await
}

/// [`emit`] for several events of one change, in one statement (one round trip).
pub async fn emit_all(
    conn: &mut PgConnection,
    chain: Uuid,
    events: &[Event],
) -> Result<u64, sqlx::Error> {
    let mut kinds = Vec::with_capacity(events.len());
    let mut ids = Vec::with_capacity(events.len());
    let mut bodies = Vec::with_capacity(events.len());
    for event in events {
        let kind = event.kind();
        let id = Uuid::now_v7();
        let body = serde_json::to_vec(&Envelope {
            id,
            kind: kind.as_str(),
            created_at: Utc::now(),
            chain_id: chain,
            version: VERSION,
            data: event,
        })
        .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        kinds.push(kind.as_str());
        ids.push(id);
        bodies.push(body);
    }
    crate::db::webhooks::insert_deliveries_of(conn, chain, &kinds, &ids, &bodies).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_its_wire_name() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_value(kind).expect("serialises");
            assert_eq!(json, serde_json::Value::from(kind.as_str()));
        }
        assert_eq!(EventKind::parse("booking.unknown"), None);
    }
}
