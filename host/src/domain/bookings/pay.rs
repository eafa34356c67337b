//! Paying a hold.

use super::decide::state_entry;
use super::email::event;
use super::{Bookings, PayCommand, is_constraint, is_deadlock};
use crate::db::audit;
use crate::db::bookings::{self, Locked};
use crate::db::outbox;
use crate::db::payments::{self, Payment};
use crate::db::shows;
use crate::db::vouchers;
use crate::domain::hook_io::EventKind;
use crate::domain::types::{BookingId, BookingStatus, Currency, Money};
use crate::domain::{Actor, DomainError};
use crate::gateway::{ChargeRequest, GatewayError};

impl Bookings {
    /// Pays a held booking: seats taken for good, payment row, confirmation email — one
    /// transaction. The row lock makes a simultaneous second payment wait and then see
    /// `confirmed`; the unique payment per booking backs that up.
    pub async fn pay(
        &self,
        actor: &Actor,
        booking_id: BookingId,
        cmd: PayCommand,
    ) -> Result<Payment, DomainError> {
        let booking_id = booking_id.as_uuid();
        let not_found = || DomainError::NotFound("no such booking".into());
        let user = actor.user();
        let mut conn = self.pool.acquire().await?;
        let chain = bookings::find(&mut conn, booking_id)
            .await?
            .ok_or_else(not_found)?
            .chain_id;
        drop(conn);
        let mut tx = self.pool.begin().await?;
        let Locked { booking, live } = bookings::lock(&mut tx, chain, booking_id)
            .await?
            .ok_or_else(not_found)?;
        if booking.user_id != user.id {
            return Err(not_found());
        }
        match booking.status {
            BookingStatus::Held => {}
            BookingStatus::Confirmed => return Err(DomainError::AlreadyPaid),
            BookingStatus::Expired => return Err(DomainError::HoldExpired),
            other @ BookingStatus::Cancelled => {
                return Err(DomainError::InvalidState(format!(
                    "a {other} booking cannot be paid"
                )));
            }
        }
        // The database's clock, as every booking query: never the host's.
        if !live {
            return Err(DomainError::HoldExpired);
        }
        let total = Money::from_row(booking.total_minor, &booking.currency)
            .map_err(|e| DomainError::Internal(e.to_string()))?;
        // A code that does not even parse cannot be the booking's: a mismatch like any other.
        let stated = Currency::parse(&cmd.currency)
            .ok()
            .map(|c| Money::new(cmd.amount_minor, c));
        if stated != Some(total) {
            return Err(DomainError::AmountMismatch(format!(
                "the booking costs {} {} (minor units)",
                total.minor, total.currency
            )));
        }
        // A voucher's redemption stays live only if the hold is: its lock first, so this
        // confirmation and another hold's claim of the voucher see each other's outcome.
        if booking.voucher_id.is_some() {
            vouchers::lock_of_booking(&mut tx, chain, booking.id).await?;
        }
        // Take the seats for good first: if the hold ran out meanwhile and someone else took a
        // seat, this fails and nothing is charged.
        let confirmed = match bookings::confirm(&mut tx, chain, booking.id).await {
            Ok(Some(b)) => b,
            // It ran out between the lock and now.
            Ok(None) => return Err(DomainError::HoldExpired),
            Err(e) if is_constraint(&e, "booking_seats_live_key") || is_deadlock(&e) => {
                return Err(DomainError::HoldExpired);
            }
            Err(e) => return Err(e.into()),
        };
        let receipt = self
            .gateway
            .charge(ChargeRequest {
                amount_minor: booking.total_minor,
                currency: &booking.currency,
                card_token: &cmd.card_token,
                reference: booking.id.to_string(),
            })
            .await
            .map_err(|e| match e {
                GatewayError::Declined => DomainError::PaymentDeclined,
                GatewayError::Unavailable(m) => DomainError::PaymentUnavailable(m),
            })?;
        let payment = payments::insert(
            &mut tx,
            chain,
            booking.id,
            user.id,
            booking.total_minor,
            &booking.currency,
            &receipt.provider_ref,
        )
        .await
        .map_err(|e| {
            if is_constraint(&e, "payments_booking_key") {
                DomainError::AlreadyPaid
            } else {
                e.into()
            }
        })?;
        let ctx = shows::context(&mut tx, booking.show_id)
            .await?
            .ok_or_else(|| DomainError::NotFound("no such show".into()))?;
        outbox::enqueue(
            &mut tx,
            &event(EventKind::BookingConfirmed, &ctx, &confirmed, user, None),
        )
        .await?;
        audit::record(
            &mut tx,
            chain,
            booking.show_id,
            Some(booking.id),
            &[state_entry(
                Some(BookingStatus::Held),
                BookingStatus::Confirmed,
                Some(user.id),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(payment)
    }
}
