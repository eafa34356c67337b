//! Cancelling a booking (the chain's rules decide the refund) or a whole show.

use crate::domain::webhooks::events::{
    self as webhooks, BookingCancelledData, Event, RefundData, ShowCancelledData,
};
use chrono::Utc;
use serde_json::json;

use super::decide::{Decision, DecisionEntry, state_entry};
use super::email::event;
use super::{Bookings, capacity, seat, show_info};
use crate::db::audit;
use crate::db::bookings::{self, Booking};
use crate::db::gift_cards;
use crate::db::outbox;
use crate::db::payments;
use crate::db::shows;
use crate::db::users;
use crate::domain::hook_io::{CancelRequest, EventKind, Seat};
use crate::domain::tickets;
use crate::domain::types::{BookingId, BookingStatus, ShowId};
use crate::domain::{Actor, DomainError};
use crate::plugins::Hook;

/// What cancelling a show did.
#[derive(Debug, Clone, Copy, serde::Serialize, utoipa::ToSchema)]
pub struct ShowCancellation {
    /// Live bookings cancelled.
    pub cancelled_bookings: u64,
    /// Refunded in total, in minor units.
    pub refunded_minor: i64,
}

impl Bookings {
    /// Cancels a booking: the chain's rules decide the refund (or refuse); seats free at once.
    pub async fn cancel(
        &self,
        actor: &Actor,
        booking_id: BookingId,
    ) -> Result<Booking, DomainError> {
        let booking_id = booking_id.as_uuid();
        let not_found = || DomainError::NotFound("no such booking".into());
        let mut conn = self.pool.acquire().await?;
        let booking = bookings::find(&mut conn, booking_id)
            .await?
            .ok_or_else(not_found)?;
        if !actor
            .may_manage(&mut conn, booking.chain_id, booking.user_id)
            .await?
        {
            return Err(not_found());
        }
        let now = Utc::now();
        if !booking.is_live(now) {
            return Err(DomainError::InvalidState(format!(
                "a {} booking cannot be cancelled",
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
        let chain = booking.chain_id;
        let confirmed = booking.status == BookingStatus::Confirmed;
        let paid = if confirmed { booking.total_minor } else { 0 };
        let seats: Vec<Seat> = seat_rows
            .iter()
            .filter(|s| booking.seats.contains(&s.id))
            .map(seat)
            .collect();
        let req = CancelRequest {
            show: show_info(&ctx, capacity(&seat_rows), 0),
            seats,
            paid_minor: paid,
            confirmed,
            now_ms: now.timestamp_millis(),
            kept_seats: Vec::new(),
        };
        let (rules, refund) = self.decide_refund(actor, &booking, &req).await?;

        let mut tx = self.pool.begin().await?;
        let locked = bookings::lock(&mut tx, chain, booking_id)
            .await?
            .ok_or_else(not_found)?;
        if locked.booking.status != booking.status || !locked.live {
            return Err(DomainError::InvalidState(
                "the booking changed meanwhile; try again".into(),
            ));
        }
        let cancelled = bookings::cancel(&mut tx, chain, booking_id, refund).await?;
        tickets::void(&mut tx, &cancelled, None).await?;
        if confirmed {
            // The gift card's part goes back to it first; the rest is the payment card's.
            gift_cards::refund_gift_card(&mut tx, chain, booking_id, refund, Some(actor.id()))
                .await?;
            payments::refund(&mut tx, chain, booking_id, refund).await?;
        }
        let customer = users::find(&mut tx, booking.user_id)
            .await?
            .ok_or_else(not_found)?;
        outbox::enqueue(
            &mut tx,
            &event(
                EventKind::BookingCancelled,
                &ctx,
                &cancelled,
                &customer,
                Some(refund),
            ),
        )
        .await?;
        audit::record(
            &mut tx,
            chain,
            booking.show_id,
            Some(booking.id),
            &[
                rules.entry(Hook::BookingRules, json!({ "refund_minor": refund })),
                state_entry(
                    Some(booking.status),
                    BookingStatus::Cancelled,
                    Some(actor.id()),
                ),
            ],
        )
        .await?;
        let reason = if actor.id() == booking.user_id {
            "customer"
        } else {
            "staff"
        };
        cancelled_events(&mut tx, &booking, &[], refund, reason).await?;
        tx.commit().await?;
        self.seats_freed(cancelled.show_id);
        Ok(cancelled)
    }

    /// Asks the chain's booking-rules what cancelling `req.seats` of `booking` refunds; a
    /// refusal is audited and answered as a rule violation. The decision is returned for the
    /// cancellation's audit entry.
    pub(super) async fn decide_refund(
        &self,
        actor: &Actor,
        booking: &Booking,
        req: &CancelRequest,
    ) -> Result<(Decision<i64>, i64), DomainError> {
        let plugins = &self.plugins;
        let run = super::hold::Who {
            customer: Some(booking.user_id),
            booking: Some(booking.id),
        }
        .context(Hook::BookingRules, "cancel", req);
        let rules = self
            .decide(
                booking.chain_id,
                Hook::BookingRules,
                run,
                |c, tenant| async move { plugins.cancel(tenant, &c, req).await },
            )
            .await?;
        match &rules.output {
            Ok(r) => {
                let refund = *r;
                Ok((rules, refund))
            }
            Err(reason) => {
                self.record_refusal(
                    (booking.chain_id, booking.show_id, Some(booking.id)),
                    actor.id(),
                    Hook::BookingRules,
                    &rules,
                    reason,
                )
                .await;
                Err(DomainError::RuleViolation(reason.clone()))
            }
        }
    }

    /// Cancels a show and every live booking of it with a full refund and an email each.
    /// The caller decided the actor may manage the show.
    pub async fn cancel_show(
        &self,
        actor: &Actor,
        show_id: ShowId,
    ) -> Result<ShowCancellation, DomainError> {
        let show_id = show_id.as_uuid();
        let mut tx = self.pool.begin().await?;
        let ctx = shows::context(&mut tx, show_id)
            .await?
            .ok_or_else(|| DomainError::NotFound("no such show".into()))?;
        let chain = ctx.show.chain_id;
        shows::lock_for_cancel(&mut tx, show_id).await?;
        if !shows::mark_cancelled(&mut tx, chain, show_id).await? {
            return Err(DomainError::InvalidState(
                "the show is already cancelled".into(),
            ));
        }
        let live = bookings::lock_live_of_show(&mut tx, chain, show_id).await?;
        let mut refunded = 0;
        for b in &live {
            let confirmed = b.status == BookingStatus::Confirmed;
            let refund = if confirmed { b.total_minor } else { 0 };
            let cancelled = bookings::cancel(&mut tx, chain, b.id, refund).await?;
            tickets::void(&mut tx, &cancelled, None).await?;
            if confirmed {
                gift_cards::refund_gift_card(&mut tx, chain, b.id, refund, Some(actor.id()))
                    .await?;
                payments::refund(&mut tx, chain, b.id, refund).await?;
            }
            refunded += refund;
            if let Some(customer) = users::find(&mut tx, b.user_id).await? {
                outbox::enqueue(
                    &mut tx,
                    &event(
                        EventKind::ShowCancelled,
                        &ctx,
                        &cancelled,
                        &customer,
                        Some(refund),
                    ),
                )
                .await?;
            }
            let mut entry = state_entry(Some(b.status), BookingStatus::Cancelled, Some(actor.id()));
            entry.detail = json!({ "reason": "show cancelled", "refund_minor": refund });
            audit::record(&mut tx, chain, b.show_id, Some(b.id), &[entry]).await?;
            cancelled_events(&mut tx, b, &[], refund, "show_cancelled").await?;
        }
        let show = ShowCancelledData {
            show_id,
            cancelled_bookings: live.len() as u64,
            refunded_minor: refunded,
            currency: ctx.show.currency.clone(),
        };
        webhooks::emit(&mut tx, chain, Event::ShowCancelled(show)).await?;
        tx.commit().await?;
        self.seats_changed(show_id);
        Ok(ShowCancellation {
            cancelled_bookings: live.len() as u64,
            refunded_minor: refunded,
        })
    }
}

/// `booking.cancelled` for `booking` (partial when `remaining` is not empty: `booking.seats`
/// are then the ones cancelled) and, when money goes back, `payment.refunded`.
pub(super) async fn cancelled_events(
    conn: &mut sqlx::PgConnection,
    booking: &Booking,
    remaining: &[String],
    refund: i64,
    reason: &str,
) -> Result<(), sqlx::Error> {
    let data = BookingCancelledData {
        booking_id: booking.id,
        show_id: booking.show_id,
        customer_id: booking.user_id,
        partial: !remaining.is_empty(),
        cancelled_seats: booking.seats.clone(),
        remaining_seats: remaining.to_vec(),
        refund_minor: refund,
        currency: booking.currency.clone(),
        reason: reason.to_owned(),
    };
    webhooks::emit(&mut *conn, booking.chain_id, Event::BookingCancelled(data)).await?;
    if refund > 0 {
        let refunded = RefundData {
            booking_id: booking.id,
            refund_minor: refund,
            currency: booking.currency.clone(),
        };
        webhooks::emit(conn, booking.chain_id, Event::PaymentRefunded(refunded)).await?;
    }
    Ok(())
}
