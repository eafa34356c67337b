//! Offering freed seats to the queue, recording offers that ran out, and the two ways a
//! replica runs them: right after a commit that freed seats ([`Waitlist::run_offers`]) and
//! periodically ([`Waitlist::sweep_once`], which is what catches expired holds: they stop
//! blocking at `expires_at` before any job runs).

use crate::domain::webhooks::events::{self as webhooks, Event, WaitlistData};
use std::collections::BTreeSet;
use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::Waitlist;
use super::join::free_of;
use crate::db::{bookings, outbox, shows, users, waitlist};
use crate::domain::DomainError;
use crate::domain::bookings::{OfferHold, OfferRequest, PickCommand, offer_email};
use crate::domain::hook_io::EventKind;
use crate::domain::types::{AccountStatus, ShowStatus};

/// How often every replica runs [`Waitlist::sweep_once`].
pub const SWEEP_EVERY: Duration = Duration::from_secs(5);

/// Waiting entries one pass looks at (the head of the queue).
const PASS_ENTRIES: i64 = 200;
/// Lapsed offers recorded per statement.
const SETTLE_BATCH: i64 = 200;
/// Shows one sweep offers seats of.
const SWEEP_SHOWS: i64 = 100;

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Offers that ran out unpaid, now `expired` (each with its email).
    pub expired: u64,
    /// New offers made.
    pub offered: u64,
}

impl Waitlist {
    /// Offers the show's free seats to its queue, in order: for each waiting entry whose
    /// request fits the free seats (count, class), the chain's seat-picker chooses, a hold of
    /// the entry's customer is taken for the entry's offer time, the entry becomes `offered`
    /// and the offer email is queued, all in one transaction. Entries that do not fit are
    /// skipped (later, smaller ones may be offered). A lost seat race, a closed show or a
    /// component failure ends the pass without losing any entry: the next pass (the sweep)
    /// tries again. Passes of one show are serialised across replicas by a transaction-scoped
    /// advisory lock that holds and payments never take; what makes an entry offered once and
    /// a seat offered once is the database (the guarded update, the exclusion constraint).
    /// Returns the offers made.
    pub async fn offer_freed(&self, show: Uuid) -> Result<u32, DomainError> {
        let mut lock = self.pool.begin().await?;
        waitlist::lock_queue(&mut lock, show).await?;
        let offered = self.offer_locked(show).await;
        // Only the lock was taken in this transaction.
        lock.rollback().await?;
        offered
    }

    async fn offer_locked(&self, show: Uuid) -> Result<u32, DomainError> {
        self.settle(Some(show)).await?;
        let mut conn = self.pool.acquire().await?;
        let Some(ctx) = shows::context(&mut conn, show).await? else {
            return Ok(0);
        };
        if ctx.show.status != ShowStatus::Scheduled || ctx.show.starts_at <= Utc::now() {
            return Ok(0);
        }
        let waiting = waitlist::waiting_of_show(&mut conn, show, PASS_ENTRIES).await?;
        if waiting.is_empty() {
            return Ok(0);
        }
        let seat_rows = self
            .seat_maps
            .get(&mut conn, ctx.show.chain_id, ctx.show.screen_id)
            .await?;
        drop(conn);
        let mut offered = 0;
        for entry in waiting {
            let mut conn = self.pool.acquire().await?;
            let free = waitlist::free_seats(&mut conn, show).await?;
            if free_of(&free, None) == 0 {
                break;
            }
            if free_of(&free, entry.seat_class) < i64::from(entry.seat_count) {
                continue;
            }
            let customer = users::find(&mut conn, entry.user_id).await?;
            drop(conn);
            let Some(customer) = customer.filter(|u| u.status == AccountStatus::Approved) else {
                continue;
            };
            let pick = PickCommand::new(i64::from(entry.seat_count), entry.seat_class, false)
                .map_err(DomainError::Internal)?;
            let hold = self
                .bookings
                .hold_for_offer(OfferRequest {
                    ctx: &ctx,
                    seat_rows: &seat_rows,
                    customer: &customer,
                    pick,
                    hold_seconds: u32::try_from(entry.offer_seconds).unwrap_or(1).max(1),
                    entry_id: entry.id,
                })
                .await;
            let OfferHold { mut tx, booking } = match hold {
                Ok(hold) => hold,
                // The picker found nothing that fits this request (adjacency, say), or the
                // chain's pricing refused it: the next entry may fit.
                Err(DomainError::NoSeatsFit(reason) | DomainError::RuleViolation(reason)) => {
                    tracing::debug!(entry = %entry.id, %reason, "waiting-list entry skipped");
                    continue;
                }
                Err(DomainError::SeatUnavailable(_) | DomainError::ShowClosed) => {
                    tracing::debug!(%show, "offer pass lost a seat race; the next pass retries");
                    break;
                }
                Err(e) => return Err(e),
            };
            if !waitlist::mark_offered(&mut tx, entry.id, booking.id, booking.expires_at).await? {
                // Left (or offered by another pass) meanwhile: the hold rolls back.
                continue;
            }
            outbox::enqueue(
                &mut tx,
                &offer_email(
                    EventKind::WaitlistOffer,
                    &ctx,
                    &booking,
                    &customer,
                    booking.expires_at,
                ),
            )
            .await?;
            let offered_event = Event::WaitlistOffered(offer_data(entry.id, &booking));
            webhooks::emit(&mut tx, booking.chain_id, offered_event).await?;
            tx.commit().await?;
            self.bookings.seats_changed(booking.show_id);
            tracing::info!(entry = %entry.id, booking = %booking.id, %show, "waiting-list offer made");
            offered += 1;
        }
        Ok(offered)
    }

    /// Records offers whose hold ran out unpaid as `expired` (of one show, or all) and queues
    /// their emails; returns the shows whose seats that freed. Safe on every replica at once.
    pub(super) async fn settle(
        &self,
        show: Option<Uuid>,
    ) -> Result<(u64, BTreeSet<Uuid>), DomainError> {
        let mut total = 0;
        let mut shows_freed = BTreeSet::new();
        loop {
            let mut tx = self.pool.begin().await?;
            let expired = waitlist::expire_lapsed_offers(&mut tx, show, SETTLE_BATCH).await?;
            if expired.is_empty() {
                break;
            }
            for e in &expired {
                shows_freed.insert(e.show_id);
                let Some(booking_id) = e.booking_id else {
                    continue;
                };
                if let Some(b) = bookings::find(&mut tx, booking_id).await? {
                    let lapsed = Event::WaitlistOfferExpired(offer_data(e.id, &b));
                    webhooks::emit(&mut tx, e.chain_id, lapsed).await?;
                }
                let (Some(b), Some(ctx), Some(user)) = (
                    bookings::find(&mut tx, booking_id).await?,
                    shows::context(&mut tx, e.show_id).await?,
                    users::find(&mut tx, e.user_id).await?,
                ) else {
                    continue;
                };
                outbox::enqueue(
                    &mut tx,
                    &offer_email(
                        EventKind::WaitlistOfferExpired,
                        &ctx,
                        &b,
                        &user,
                        b.expires_at,
                    ),
                )
                .await?;
            }
            tx.commit().await?;
            total += expired.len() as u64;
            if (expired.len() as i64) < SETTLE_BATCH {
                break;
            }
        }
        if total > 0 {
            tracing::info!(expired = total, "waiting-list offers that ran out recorded");
        }
        Ok((total, shows_freed))
    }

    /// One sweep: offers that ran out are recorded (and emailed), then every show with waiting
    /// entries and free seats gets an offer pass. Every replica runs it every [`SWEEP_EVERY`];
    /// tests call it directly.
    pub async fn sweep_once(&self) -> Result<Swept, DomainError> {
        let (expired, _) = self.settle(None).await?;
        let mut conn = self.pool.acquire().await?;
        let shows = waitlist::shows_to_offer(&mut conn, SWEEP_SHOWS).await?;
        drop(conn);
        let mut offered = 0;
        for show in shows {
            match self.offer_freed(show).await {
                Ok(n) => offered += u64::from(n),
                Err(e) => {
                    tracing::warn!(error = %e, %show, "waiting-list offer pass failed; will retry")
                }
            }
        }
        Ok(Swept { expired, offered })
    }

    /// This replica's offer worker: runs a pass for each show a [`super::SeatsFreed`] notice
    /// names (notices that arrive together are merged), until `stop`. Runs once per
    /// service; a second call returns at once.
    pub async fn run_offers(self, stop: CancellationToken) {
        let taken = self
            .notices
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let Some(super::FreedNotices(mut rx)) = taken else {
            return;
        };
        loop {
            let first = tokio::select! {
                () = stop.cancelled() => return,
                next = rx.recv() => match next {
                    Some(show) => show,
                    None => return,
                },
            };
            let mut shows = BTreeSet::from([first]);
            while let Ok(show) = rx.try_recv() {
                shows.insert(show);
            }
            for show in shows {
                if let Err(e) = self.offer_freed(show).await {
                    tracing::warn!(error = %e, %show, "waiting-list offer pass failed; the sweep retries");
                }
            }
        }
    }

    /// The periodic sweep, every [`SWEEP_EVERY`] until `stop`.
    pub async fn run_sweeps(self, stop: CancellationToken) {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = every.tick() => {}
            }
            if let Err(e) = self.sweep_once().await {
                tracing::warn!(error = %e, "waiting-list sweep failed; will retry");
            }
        }
    }
}

/// The webhook data of an offer carried by the hold `b`.
fn offer_data(entry: Uuid, b: &crate::db::bookings::Booking) -> WaitlistData {
    WaitlistData {
        entry_id: entry,
        show_id: b.show_id,
        customer_id: b.user_id,
        booking_id: Some(b.id),
        seats: b.seats.clone(),
        expires_at: Some(b.expires_at),
    }
}
