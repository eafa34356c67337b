//! Bookings: holds ruled, priced and (for "n seats" requests) placed by the chain's
//! components; payments; cancellations; expiry. The database guarantees the invariants (no
//! seat in two live bookings, one payment per booking, the state machine); this service
//! orchestrates them and is the only place the booking rules of the business are written.

mod cancel;
mod decide;
mod email;
mod expiry;
mod hold;
mod offer;
mod partial;
mod pay;
mod promo;
mod read;

pub use expiry::{PER_RUN as EXPIRE_PER_RUN, expire_due, expire_due_at_most};
pub(crate) use offer::{OfferHold, OfferRequest, offer_email};

use std::collections::BTreeSet;
use std::sync::Arc;

use sqlx::PgPool;

pub use cancel::ShowCancellation;
pub use partial::Cancelled;
pub use read::{AuditPage, BookingListFilter};

use super::hook_io::{Seat, SeatClass, ShowInfo};
use super::types::{SeatId, ShowId};
use crate::db::screens::SeatRow;
use crate::db::shows::ShowContext;
use crate::gateway::PaymentGateway;
use crate::plugins::ComponentRegistry;
use crate::plugins::PluginRuntime;
use crate::seat_maps::SeatMaps;
use crate::show_contexts::ShowContexts;

pub use crate::db::audit::AuditEntry;
pub use crate::db::bookings::Booking;
pub use crate::db::payments::Payment;

/// The booking service: what it needs and nothing more.
#[derive(Clone)]
pub struct Bookings {
    pool: PgPool,
    components: Arc<ComponentRegistry>,
    plugins: Arc<PluginRuntime>,
    seat_maps: Arc<SeatMaps>,
    /// Show contexts from memory (holds and payments read them per request).
    show_contexts: Arc<ShowContexts>,
    gateway: Arc<dyn PaymentGateway>,
    /// Issues a confirmed booking's tickets in the payment's transaction.
    tickets: crate::domain::tickets::TicketIssuer,
    /// Told the show after a commit that frees seats, so the waiting list is offered them.
    seats_freed: crate::domain::waitlist::SeatsFreed,
    /// Told the show after a commit that changes its seats, so this replica's next read of
    /// its seat map re-reads it.
    live_seats: Option<Arc<crate::domain::live_seats::LiveSeats>>,
}

impl Bookings {
    /// The service over its dependencies.
    pub fn new(
        pool: PgPool,
        components: Arc<ComponentRegistry>,
        plugins: Arc<PluginRuntime>,
        seat_maps: Arc<SeatMaps>,
        gateway: Arc<dyn PaymentGateway>,
        tickets: crate::domain::tickets::TicketIssuer,
    ) -> Self {
        Self {
            pool,
            components,
            plugins,
            seat_maps,
            show_contexts: Arc::default(),
            gateway,
            tickets,
            seats_freed: Default::default(),
            live_seats: None,
        }
    }

    /// The service, telling `live` of every show whose seats it changes.
    pub fn with_live_seats(mut self, live: Arc<crate::domain::live_seats::LiveSeats>) -> Self {
        self.live_seats = Some(live);
        self
    }

    /// Tells this replica's live seat maps that `show`'s seats changed. Call it after the
    /// commit (every replica also learns of it from the commit's announcement).
    pub fn seats_changed(&self, show: uuid::Uuid) {
        if let Some(live) = &self.live_seats {
            live.touch(show);
        }
    }

    /// The service, reading show contexts through `contexts` (shared with its follower,
    /// `show_contexts::follow`; without one every read goes to the database).
    pub fn with_show_contexts(mut self, contexts: Arc<ShowContexts>) -> Self {
        self.show_contexts = contexts;
        self
    }

    /// The show-context cache, for its follower.
    pub fn show_contexts(&self) -> Arc<ShowContexts> {
        self.show_contexts.clone()
    }

    /// The service, telling `seats_freed` of every show whose seats it frees.
    pub fn with_seats_freed(mut self, seats_freed: crate::domain::waitlist::SeatsFreed) -> Self {
        self.seats_freed = seats_freed;
        self
    }

    /// Tells the waiting list that seats of `show` were freed (best effort: the periodic
    /// sweep catches anything missed). Call it after the commit that freed them.
    pub fn seats_freed(&self, show: uuid::Uuid) {
        self.seats_changed(show);
        self.seats_freed.notify(show);
    }
}

/// Which seats a hold asks for, parsed at the edge.
#[derive(Debug, Clone)]
pub enum SeatRequest {
    /// These seats, in the customer's order, without duplicates.
    Named(Vec<SeatId>),
    /// Any seats the chain's seat-picker chooses.
    Count(PickCommand),
}

/// "n seats", for the chain's seat-picker.
#[derive(Debug, Clone, Copy)]
pub struct PickCommand {
    /// 1 to [`MAX_PICK`].
    pub count: u32,
    /// Only this class.
    pub class: Option<SeatClass>,
    /// A wheelchair space and companions beside it.
    pub accessible: bool,
}

/// Most seats one "n seats" request may ask for.
pub const MAX_PICK: u32 = 10;

impl PickCommand {
    /// A request, or why the count is out of range.
    pub fn new(count: i64, class: Option<SeatClass>, accessible: bool) -> Result<Self, String> {
        match u32::try_from(count) {
            Ok(count) if (1..=MAX_PICK).contains(&count) => Ok(Self {
                count,
                class,
                accessible,
            }),
            _ => Err(format!("must be between 1 and {MAX_PICK}")),
        }
    }
}

/// A request for a hold, parsed at the edge.
#[derive(Debug, Clone)]
pub struct HoldCommand {
    /// Show.
    pub show_id: ShowId,
    /// The seats, named or by count.
    pub seats: SeatRequest,
    /// Promo code.
    pub promo_code: Option<String>,
}

/// A payment request, parsed at the edge.
#[derive(Debug)]
pub struct PayCommand {
    /// Amount.
    pub amount_minor: i64,
    /// Currency.
    pub currency: String,
    /// Card token: charged whatever the gift card does not cover. Required without a gift
    /// card (the edge checks), and whenever the gift card does not cover the total.
    pub card_token: Option<String>,
    /// A gift card to spend first.
    pub gift_card: Option<super::gift_cards::GiftCardCode>,
}

/// Most seats one hold may name.
pub const MAX_SEAT_IDS: usize = 50;
/// Longest seat id, in bytes after trimming (the schema's `maxLength`).
pub const MAX_SEAT_ID_LEN: usize = SeatId::MAX_LEN;

/// Seat ids from a request: each a [`SeatId`], no duplicates, at most [`MAX_SEAT_IDS`].
pub fn parse_seat_ids(raw: &[String]) -> Result<Vec<SeatId>, String> {
    if raw.is_empty() {
        return Err("choose at least one seat".into());
    }
    if raw.len() > MAX_SEAT_IDS {
        return Err("at most 50 seats per request".into());
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(raw.len());
    for id in raw {
        let id = SeatId::parse(id)?;
        if !seen.insert(id.clone()) {
            return Err(format!("seat {id} is listed twice"));
        }
        out.push(id);
    }
    Ok(out)
}

fn seat(s: &SeatRow) -> Seat {
    Seat {
        id: s.id.clone(),
        row: s.row_label.clone(),
        number: u32::try_from(s.number).unwrap_or(0),
        class: s.class,
    }
}

fn show_info(ctx: &ShowContext, capacity: u32, sold: u32) -> ShowInfo {
    let s = &ctx.show;
    ShowInfo {
        show_id: s.id.to_string(),
        chain_id: s.chain_id.to_string(),
        theatre_id: s.theatre_id.to_string(),
        theatre_name: ctx.theatre_name.clone(),
        movie_id: s.movie_id.to_string(),
        movie_title: ctx.movie_title.clone(),
        screen_name: ctx.screen_name.clone(),
        format: s.format.clone(),
        starts_at_ms: s.starts_at.timestamp_millis(),
        timezone: ctx.timezone.clone(),
        currency: s.currency.clone(),
        prices: s.prices.0.iter().map(|(c, p)| (*c, *p)).collect(),
        capacity,
        seats_sold: sold,
    }
}

/// Seats that can be sold at all (blocked ones never).
fn capacity(seats: &[SeatRow]) -> u32 {
    u32::try_from(seats.iter().filter(|s| !s.blocked).count()).unwrap_or(u32::MAX)
}

/// How many times a hold's transaction runs when PostgreSQL breaks a lock cycle with it.
const HOLD_ATTEMPTS: u32 = 3;

/// PostgreSQL gave up on a lock cycle and rolled this transaction back.
fn is_deadlock(e: &sqlx::Error) -> bool {
    e.as_database_error().and_then(|d| d.code()).as_deref() == Some("40P01")
}

use super::error::is_constraint;
