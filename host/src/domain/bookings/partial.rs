//! Cancelling some seats of a confirmed booking: the chain's rules decide the refund for those
//! seats, the seats are free at once, the booking keeps the rest.

use std::collections::BTreeSet;

use chrono::Utc;
use serde_json::json;

use super::decide::DecisionEntry;
use super::email::event;
use super::{Bookings, capacity, seat, show_info};
use crate::db::audit::{self, NewEntry};
use crate::db::bookings::{self, Booking};
use crate::db::gift_cards;
use crate::db::outbox;
use crate::db::payments;
use crate::db::shows;
use crate::db::users;
use crate::domain::hook_io::{CancelRequest, EventKind, LineItem, Seat};
use crate::domain::tickets;
use crate::domain::types::{BookingId, BookingStatus, SeatId};
use crate::domain::{Actor, DomainError};
use crate::plugins::Hook;

/// A cancellation and what it refunded (the booking's `refund_minor` adds up every refund).
#[derive(Debug)]
pub struct Cancelled {
    /// The booking after the cancellation.
    pub booking: Booking,
    /// What this cancellation refunded.
    pub refund_minor: i64,
}

/// How a booking splits when some of its seats go.
struct Split {
    cancelled: Vec<String>,
    kept: Vec<String>,
    kept_items: Vec<LineItem>,
    /// What the customer paid for the cancelled seats: their line items (already net of any
    /// discount), never more than the booking's total.
    share_minor: i64,
}

fn split(booking: &Booking, cancel: &BTreeSet<&str>) -> Split {
    let (gone, kept_items): (Vec<LineItem>, Vec<LineItem>) = booking
        .items
        .0
        .iter()
        .cloned()
        .partition(|i| i.seat_id.as_deref().is_some_and(|s| cancel.contains(s)));
    let share: i64 = gone.iter().map(|i| i.amount_minor.max(0)).sum();
    Split {
        cancelled: booking
            .seats
            .iter()
            .filter(|s| cancel.contains(s.as_str()))
            .cloned()
            .collect(),
        kept: booking
            .seats
            .iter()
            .filter(|s| !cancel.contains(s.as_str()))
            .cloned()
            .collect(),
        kept_items,
        share_minor: share.min(booking.total_minor),
    }
}

impl Bookings {
    /// Cancels `seat_ids` of a confirmed booking (all of them: the whole booking).
    pub async fn cancel_seats(
        &self,
        actor: &Actor,
        booking_id: BookingId,
        seat_ids: Vec<SeatId>,
    ) -> Result<Cancelled, DomainError> {
        let id = booking_id.as_uuid();
        let not_found = || DomainError::NotFound("no such booking".into());
        let mut conn = self.pool.acquire().await?;
        let booking = bookings::find(&mut conn, id).await?.ok_or_else(not_found)?;
        if !actor
            .may_manage(&mut conn, booking.chain_id, booking.user_id)
            .await?
        {
            return Err(not_found());
        }
        let wanted: BTreeSet<&str> = seat_ids.iter().map(SeatId::as_str).collect();
        let foreign: Vec<&str> = wanted
            .iter()
            .copied()
            .filter(|s| !booking.seats.iter().any(|b| b == s))
            .collect();
        if !foreign.is_empty() {
            return Err(DomainError::invalid(
                "seat_ids",
                format!("not seats of this booking: {}", foreign.join(", ")),
            ));
        }
        if wanted.len() == booking.seats.len() {
            drop(conn);
            let refund_before = booking.refund_minor.unwrap_or(0);
            let booking = self.cancel(actor, booking_id).await?;
            let refund_minor = booking.refund_minor.unwrap_or(0) - refund_before;
            return Ok(Cancelled {
                booking,
                refund_minor,
            });
        }
        let now = Utc::now();
        if booking.status != BookingStatus::Confirmed {
            return Err(DomainError::InvalidState(format!(
                "only a confirmed booking's seats can be cancelled one by one; this one is {} \
                 (cancel it whole instead)",
                booking.status.as_seen(booking.expires_at, now)
            )));
        }
        let ctx = shows::context(&mut conn, booking.show_id)
            .await?
            .ok_or_else(|| DomainError::NotFound("no such show".into()))?;
        let seat_rows = self
            .seat_maps
            .get(&mut conn, ctx.show.chain_id, ctx.show.screen_id)
            .await?;
        drop(conn);
        let parts = split(&booking, &wanted);
        let seats_of = |ids: &[String]| -> Vec<Seat> {
            seat_rows
                .iter()
                .filter(|s| ids.contains(&s.id))
                .map(seat)
                .collect()
        };
        let req = CancelRequest {
            show: show_info(&ctx, capacity(&seat_rows), 0),
            seats: seats_of(&parts.cancelled),
            paid_minor: parts.share_minor,
            confirmed: true,
            now_ms: now.timestamp_millis(),
            kept_seats: seats_of(&parts.kept),
        };
        let chain = booking.chain_id;
        let (rules, refund) = self.decide_refund(actor, &booking, &req).await?;

        let mut tx = self.pool.begin().await?;
        let locked = bookings::lock(&mut tx, chain, id)
            .await?
            .ok_or_else(not_found)?;
        // The rules decided on the booking as read above: if anything about it changed
        // meanwhile (another partial cancellation, a full one), decide again.
        if locked.booking.status != BookingStatus::Confirmed
            || locked.booking.seats != booking.seats
            || locked.booking.total_minor != booking.total_minor
        {
            return Err(DomainError::InvalidState(
                "the booking changed meanwhile; try again".into(),
            ));
        }
        let after = bookings::cancel_seats(
            &mut tx,
            (chain, id),
            &parts.cancelled,
            (
                &parts.kept,
                &parts.kept_items,
                booking.total_minor - parts.share_minor,
            ),
            refund,
        )
        .await?
        .ok_or_else(|| DomainError::InvalidState("the booking changed meanwhile".into()))?;
        // The cancelled seats admit nobody from now on.
        tickets::void(&mut tx, &booking, Some(&parts.cancelled)).await?;
        // The gift card's part goes back to it first; the rest is the payment card's.
        gift_cards::refund_gift_card(&mut tx, chain, id, refund, Some(actor.id())).await?;
        payments::refund(&mut tx, chain, id, refund).await?;
        let customer = users::find(&mut tx, booking.user_id)
            .await?
            .ok_or_else(not_found)?;
        let mut email = event(
            EventKind::BookingCancelled,
            &ctx,
            &after,
            &customer,
            Some(refund),
        );
        // The email is about the seats that went: `seats` names them, `kept-seats` the rest,
        // and each partial cancellation is its own email.
        for (name, value) in &mut email.fields {
            if *name == "seats" {
                *value = parts.cancelled.join(", ");
            }
        }
        email.fields.push(("kept-seats", parts.kept.join(", ")));
        email.dedupe_key = Some(format!(
            "booking-seats-cancelled:{}:{}",
            booking.id,
            parts.cancelled.join(",")
        ));
        outbox::enqueue(&mut tx, &email).await?;
        let state = NewEntry {
            kind: "state",
            from_status: Some(BookingStatus::Confirmed.as_str()),
            to_status: Some(BookingStatus::Confirmed.as_str()),
            actor_id: Some(actor.id()),
            detail: json!({
                "cancelled_seats": parts.cancelled,
                "kept_seats": parts.kept,
                "refund_minor": refund,
                "total_minor": after.total_minor,
            }),
            ..NewEntry::default()
        };
        audit::record(
            &mut tx,
            chain,
            booking.show_id,
            Some(booking.id),
            &[
                rules.entry(
                    Hook::BookingRules,
                    json!({ "refund_minor": refund, "seats": parts.cancelled }),
                ),
                state,
            ],
        )
        .await?;
        // The event names the seats that went, as the email does.
        let mut went = booking.clone();
        went.seats = parts.cancelled.clone();
        let reason = if actor.id() == booking.user_id {
            "customer"
        } else {
            "staff"
        };
        super::cancel::cancelled_events(&mut tx, &went, &parts.kept, refund, reason).await?;
        tx.commit().await?;
        self.seats_freed(booking.show_id);
        Ok(Cancelled {
            booking: after,
            refund_minor: refund,
        })
    }
}
