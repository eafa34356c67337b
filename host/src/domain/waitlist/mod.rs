//! Waiting lists (issue 16): a customer joins a sold-out show's list for n seats (optionally of
//! one class); seats that free up are offered in queue order as real holds of that customer
//! (`bookings::offer`), each offer lasting what the chain's booking rules said when the
//! customer joined. docs/bookings.md, "Waiting lists", states the guarantees and what
//! enforces each: PostgreSQL, never this process, since several replicas run the same passes.

mod join;
mod offers;

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::bookings::Bookings;
use super::hook_io::SeatClass;
use super::types::ShowId;
use crate::seat_maps::SeatMaps;

pub use crate::db::waitlist::{Entry, SeenEntry};
pub use offers::{SWEEP_EVERY, Swept};

/// Where an entry is in its life: `waiting` → `offered` | `left` | `expired`; `offered` →
/// `booked` | `expired` | `left` (the trigger `waitlist_entries_transition` refuses the rest).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema, sqlx::Type,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum WaitlistStatus {
    /// In the queue.
    Waiting,
    /// Seats are held for the customer (`booking_id`) until `offer_expires_at`.
    Offered,
    /// The offer's hold was paid.
    Booked,
    /// The offer ran out unpaid, or the show started or was cancelled first.
    Expired,
    /// The customer left (or cancelled the offer's hold).
    Left,
}

impl WaitlistStatus {
    /// The spelling used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            WaitlistStatus::Waiting => "waiting",
            WaitlistStatus::Offered => "offered",
            WaitlistStatus::Booked => "booked",
            WaitlistStatus::Expired => "expired",
            WaitlistStatus::Left => "left",
        }
    }
}

impl std::fmt::Display for WaitlistStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request to join a show's waiting list, parsed at the edge.
#[derive(Debug, Clone, Copy)]
pub struct JoinCommand {
    /// The show.
    pub show_id: ShowId,
    /// 1 to [`crate::domain::bookings::MAX_PICK`].
    pub seat_count: u32,
    /// Only seats of this class.
    pub seat_class: Option<SeatClass>,
}

/// How many freed-seat notices may wait for the offer worker; past that they are dropped and
/// the periodic sweep finds the seats instead.
const NOTICES: usize = 1024;

/// Tells this replica's offer worker that seats of a show were freed. Cheap to clone; the
/// default tells no one (a service built without a waiting list).
#[derive(Debug, Clone, Default)]
pub struct SeatsFreed(Option<mpsc::Sender<Uuid>>);

impl SeatsFreed {
    /// Seats of `show` were freed (after the commit that freed them). Best effort: a full
    /// queue or a stopped worker loses the notice, and the sweep catches the seats.
    pub fn notify(&self, show: Uuid) {
        if let Some(tx) = &self.0
            && tx.try_send(show).is_err()
        {
            tracing::debug!(%show, "freed-seat notice dropped; the waiting-list sweep will find it");
        }
    }
}

/// The worker's end of [`SeatsFreed`].
pub struct FreedNotices(mpsc::Receiver<Uuid>);

/// A [`SeatsFreed`] handle and the notices it sends, for [`Waitlist::new`].
pub fn seats_freed() -> (SeatsFreed, FreedNotices) {
    let (tx, rx) = mpsc::channel(NOTICES);
    (SeatsFreed(Some(tx)), FreedNotices(rx))
}

/// The waiting-list service.
#[derive(Clone)]
pub struct Waitlist {
    pool: PgPool,
    bookings: Bookings,
    seat_maps: Arc<SeatMaps>,
    freed: SeatsFreed,
    /// Taken once by [`Waitlist::run_offers`].
    notices: Arc<Mutex<Option<FreedNotices>>>,
}

impl Waitlist {
    /// The service over its dependencies; `freed`/`notices` from [`seats_freed`] (the same
    /// `freed` the booking service was given).
    pub fn new(
        pool: PgPool,
        bookings: Bookings,
        seat_maps: Arc<SeatMaps>,
        (freed, notices): (SeatsFreed, FreedNotices),
    ) -> Self {
        Self {
            pool,
            bookings,
            seat_maps,
            freed,
            notices: Arc::new(Mutex::new(Some(notices))),
        }
    }
}
