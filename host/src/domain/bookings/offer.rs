//! Holds made for waiting-list customers (`domain::waitlist` decides whom and when), and the
//! waiting list's booking-rules decision. An offer is a real hold: the chain's seat-picker
//! chooses the seats, its pricing quotes them (no promo code), and the same exclusion
//! constraint takes them. Booking-rules `check-hold` is not asked: the customer's
//! `check-waitlist` answer (when they joined) already decided, and set how long the hold lasts.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{PgConnection, Postgres, Transaction};
use uuid::Uuid;

use super::decide::state_entry;
use super::email::{event, local_time};
use super::hold::{Who, pricing_entry};
use super::{Bookings, PickCommand, capacity, seat, show_info};
use crate::db::audit;
use crate::db::bookings::{self, Booking, NewHold};
use crate::db::outbox::OutboxEvent;
use crate::db::screens::SeatRow;
use crate::db::shows::ShowContext;
use crate::domain::DomainError;
use crate::domain::hook_io::{
    Customer, EventKind, QuoteRequest, SeatClass, WaitlistPolicy, WaitlistRequest,
};
use crate::domain::types::{BookingStatus, User};
use crate::plugins::Hook;

/// What [`Bookings::hold_for_offer`] needs to know.
pub(crate) struct OfferRequest<'a> {
    /// The show (open).
    pub(crate) ctx: &'a ShowContext,
    /// Its screen's seats.
    pub(crate) seat_rows: &'a [SeatRow],
    /// The entry's customer.
    pub(crate) customer: &'a User,
    /// The entry's request.
    pub(crate) pick: PickCommand,
    /// The entry's offer length.
    pub(crate) hold_seconds: u32,
    /// The entry, for the audit trail.
    pub(crate) entry_id: Uuid,
}

/// An offer's hold, inserted and audited in a transaction the caller completes (marking the
/// entry offered, queueing the email) and commits, or drops to take everything back.
pub(crate) struct OfferHold {
    /// The open transaction.
    pub(crate) tx: Transaction<'static, Postgres>,
    /// The held booking.
    pub(crate) booking: Booking,
}

impl Bookings {
    /// May this customer join the show's waiting list, and how long would an offer last: the
    /// chain's booking rules decide (`check-waitlist`, WIT 0.3.0; components of 0.1 and 0.2
    /// get the documented default without being run: at most 3 active entries per customer
    /// in a chain, offers of 900 s). A refusal is recorded in the chain's audit trail like a
    /// refused hold and is `rule_violation`.
    pub(crate) async fn check_waitlist(
        &self,
        ctx: &ShowContext,
        seat_rows: &[SeatRow],
        customer: &User,
        (seat_count, seat_class): (u32, Option<SeatClass>),
        customer_entries: u32,
    ) -> Result<WaitlistPolicy, DomainError> {
        let chain = ctx.show.chain_id;
        let mut conn = self.pool.acquire().await?;
        let confirmed = bookings::confirmed_count(&mut conn, customer.id, chain).await?;
        let (sold, _) = bookings::taken_among(&mut conn, ctx.show.id, &[]).await?;
        drop(conn);
        let req = WaitlistRequest {
            show: show_info(
                ctx,
                capacity(seat_rows),
                u32::try_from(sold).unwrap_or(u32::MAX),
            ),
            seat_count,
            seat_class,
            customer: Customer {
                user_id: customer.id.to_string(),
                email: customer.email.clone(),
                confirmed_bookings: u32::try_from(confirmed).unwrap_or(u32::MAX),
            },
            customer_entries,
            now_ms: Utc::now().timestamp_millis(),
        };
        let plugins = &self.plugins;
        let run = Who {
            customer: Some(customer.id),
            booking: None,
        }
        .context(Hook::BookingRules, "check-waitlist", &req);
        let rules = self
            .decide(chain, Hook::BookingRules, run, |c, tenant| {
                let req = &req;
                async move { plugins.check_waitlist(tenant, &c, req).await }
            })
            .await?;
        match &rules.output {
            Ok(policy) => Ok(*policy),
            Err(reason) => {
                self.record_refusal(
                    (chain, ctx.show.id, None),
                    customer.id,
                    Hook::BookingRules,
                    &rules,
                    reason,
                )
                .await;
                Err(DomainError::RuleViolation(reason.clone()))
            }
        }
    }

    /// Holds seats the chain's seat-picker chooses for a waiting-list entry's customer, priced
    /// by the chain's pricing, for `hold_seconds`. `NoSeatsFit` when the picker finds nothing
    /// that fits (the entry is skipped); `SeatUnavailable` when another hold won a picked
    /// seat first (the pass ends); a component failure is the binding policy's error.
    pub(crate) async fn hold_for_offer(
        &self,
        req: OfferRequest<'_>,
    ) -> Result<OfferHold, DomainError> {
        let OfferRequest {
            ctx,
            seat_rows,
            customer,
            pick,
            hold_seconds,
            entry_id,
        } = req;
        let chain = ctx.show.chain_id;
        let booking_id = Uuid::now_v7();
        let who = Who {
            customer: Some(customer.id),
            booking: Some(booking_id),
        };
        let picked = self.pick(ctx, seat_rows, pick, who).await?;
        let seats: Vec<_> = seat_rows
            .iter()
            .filter(|s| picked.seat_ids.iter().any(|id| id == &s.id))
            .map(seat)
            .collect();
        let mut conn = self.pool.acquire().await?;
        let confirmed = bookings::confirmed_count(&mut conn, customer.id, chain).await?;
        let (sold, _) = bookings::taken_among(&mut conn, ctx.show.id, &[]).await?;
        drop(conn);
        let now = Utc::now();
        let quote_req = QuoteRequest {
            show: show_info(
                ctx,
                capacity(seat_rows),
                u32::try_from(sold).unwrap_or(u32::MAX),
            ),
            seats,
            customer: Customer {
                user_id: customer.id.to_string(),
                email: customer.email.clone(),
                confirmed_bookings: u32::try_from(confirmed).unwrap_or(u32::MAX),
            },
            promo_code: None,
            now_ms: now.timestamp_millis(),
            voucher: None,
        };
        let plugins = &self.plugins;
        let run = who.context(Hook::Pricing, "quote", &quote_req);
        let pricing = self
            .decide(chain, Hook::Pricing, run, |c, tenant| {
                let req = &quote_req;
                async move { plugins.quote(tenant, &c, req).await }
            })
            .await?;
        let quote = match &pricing.output {
            Ok(q) => q,
            Err(reason) => {
                self.record_refusal(
                    (chain, ctx.show.id, None),
                    customer.id,
                    Hook::Pricing,
                    &pricing,
                    reason,
                )
                .await;
                return Err(DomainError::RuleViolation(reason.clone()));
            }
        };
        let seat_strings: Vec<String> = picked
            .seat_ids
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect();
        let new_hold = NewHold {
            id: booking_id,
            chain_id: chain,
            show_id: ctx.show.id,
            user_id: customer.id,
            seats: &seat_strings,
            items: &quote.items,
            total_minor: quote.total_minor,
            currency: &ctx.show.currency,
            promo_code: None,
            hold_seconds,
            voucher_id: None,
            discount_minor: quote.discount_minor,
        };
        // The context was read from the database for this offer: no version to check.
        let Some(((mut tx, booking), _)) = self.insert_hold(&new_hold, None).await? else {
            return Err(DomainError::ShowClosed);
        };
        let mut held = state_entry(None, BookingStatus::Held, None);
        held.detail = json!({ "waitlist_entry": entry_id, "hold_seconds": hold_seconds });
        let entries = [
            held,
            picked.entry,
            pricing_entry(&pricing, quote.total_minor, quote.items.len(), None),
        ];
        audit::record(&mut tx, chain, ctx.show.id, Some(booking.id), &entries).await?;
        Ok(OfferHold { tx, booking })
    }

    /// Releases an offer's hold in the caller's transaction when it is still held and live:
    /// cancelled without a refund (nothing was paid) and without asking booking-rules
    /// `cancel`, audited; its seats are free when the transaction commits. Locks the booking
    /// before the entry (the order payments and cancellations take them in, through the
    /// trigger `bookings_waitlist`).
    pub(crate) async fn release_offer(
        conn: &mut PgConnection,
        chain: Uuid,
        booking_id: Uuid,
        actor: Uuid,
    ) -> Result<bool, DomainError> {
        let Some(locked) = bookings::lock(conn, chain, booking_id).await? else {
            return Ok(false);
        };
        if locked.booking.status != BookingStatus::Held || !locked.live {
            return Ok(false);
        }
        bookings::cancel(conn, chain, booking_id, 0).await?;
        let mut entry = state_entry(
            Some(BookingStatus::Held),
            BookingStatus::Cancelled,
            Some(actor),
        );
        entry.detail = json!({ "reason": "left the waiting list" });
        audit::record(
            conn,
            chain,
            locked.booking.show_id,
            Some(booking_id),
            &[entry],
        )
        .await?;
        Ok(true)
    }
}

/// The waiting-list email of `kind` (offer, offer expired) about an offer's hold `b`: the
/// booking's facts plus when the offer runs out.
pub(crate) fn offer_email(
    kind: EventKind,
    ctx: &ShowContext,
    b: &Booking,
    user: &User,
    expires_at: DateTime<Utc>,
) -> OutboxEvent {
    let mut ev = event(kind, ctx, b, user, None);
    ev.fields
        .push(("offer-expires-at", local_time(expires_at, &ctx.timezone)));
    let tag = if kind == EventKind::WaitlistOffer {
        "waitlist-offer"
    } else {
        "waitlist-offer-expired"
    };
    ev.dedupe_key = Some(format!("{tag}:{}", b.id));
    ev
}
