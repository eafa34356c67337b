//! Paying a hold.

use super::decide::state_entry;
use super::email::{event, with_gift_card, with_ticket_links};
use super::{Bookings, PayCommand, is_constraint, is_deadlock};
use crate::db::audit;
use crate::db::bookings::{self, Locked};
use crate::db::gift_cards::{self, GiftCard};
use crate::db::outbox;
use crate::db::payments::{self, NewPayment, Payment};
use crate::db::vouchers;
use crate::domain::gift_cards::GiftCardCode;
use crate::domain::hook_io::EventKind;
use crate::domain::tickets;
use crate::domain::types::{BookingId, BookingStatus, Currency, Money};
use crate::domain::webhooks::events::{self as webhooks, BookingData, Event, PaymentData};
use crate::domain::{Actor, DomainError};
use crate::gateway::{ChargeRequest, GatewayError};
use sqlx::PgConnection;
use uuid::Uuid;

/// The provider reference of a payment the gift card covered whole (no charge was made).
const GIFT_CARD_REF: &str = "gift-card";

impl Bookings {
    /// Pays a held booking: seats taken for good, gift card debited, the rest charged, payment
    /// row, confirmation email — one transaction. The row lock makes a simultaneous second
    /// payment wait and then see `confirmed`; the unique payment per booking backs that up.
    pub async fn pay(
        &self,
        actor: &Actor,
        booking_id: BookingId,
        cmd: PayCommand,
    ) -> Result<Payment, DomainError> {
        let booking_id = booking_id.as_uuid();
        let not_found = || DomainError::NotFound("no such booking".into());
        let user = actor.user();
        // The booking locked by id alone: its chain is learnt from the row (no read before).
        let mut tx = self.pool.begin().await?;
        let Locked { booking, live } = bookings::lock_by_id(&mut tx, booking_id)
            .await?
            .ok_or_else(not_found)?;
        let chain = booking.chain_id;
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
        // The gift card, locked until commit: its balance is read and spent under the lock
        // (booking row first, then the card, as a cancellation's refund takes them too).
        let gift = match &cmd.gift_card {
            None => None,
            Some(code) => Some(gift_part(&mut tx, code, chain, total).await?),
        };
        let gift_minor = gift.as_ref().map_or(0, |(_, part)| *part);
        let rest = total.minor - gift_minor;
        let card_token = match (&gift, rest, cmd.card_token.as_deref()) {
            (Some(_), 0, _) => None,
            (_, _, Some(token)) => Some(token),
            (None, _, None) => {
                return Err(DomainError::invalid(
                    "card_token",
                    "is required without a gift card",
                ));
            }
            (Some(_), _, None) => {
                return Err(DomainError::GiftCardInvalid(format!(
                    "insufficient balance: the gift card pays {gift_minor} of {} {} (minor \
                     units); send a card_token for the rest",
                    total.minor, total.currency
                )));
            }
        };
        // Take the seats for good first: if the hold ran out meanwhile and someone else took a
        // seat, this fails and nothing is charged.
        let bookings::Confirmed {
            booking: confirmed,
            show_versions,
            webhooks: has_endpoints,
        } = match bookings::confirm(&mut tx, chain, booking.id).await {
            Ok(Some(c)) => c,
            // It ran out between the lock and now.
            Ok(None) => return Err(DomainError::HoldExpired),
            Err(e) if is_constraint(&e, "booking_seats_live_key") || is_deadlock(&e) => {
                return Err(DomainError::HoldExpired);
            }
            Err(e) => return Err(e.into()),
        };
        // Signed before anything is charged: a chain key that cannot be opened refuses the
        // payment here, not after the money is taken.
        let prepared = tickets::prepare(&mut tx, &self.tickets, &confirmed).await?;
        let payment_id = Uuid::now_v7();
        // The card is debited before the charge: a declined or failed charge rolls it back.
        let gift_balance = match &gift {
            None => None,
            Some((card, part)) => Some(
                gift_cards::spend(&mut tx, card, *part, booking.id, payment_id, user.id)
                    .await?
                    .ok_or_else(|| {
                        DomainError::GiftCardInvalid("insufficient balance on the gift card".into())
                    })?,
            ),
        };
        let provider_ref = match card_token {
            // Nothing left to charge: the gateway is not called.
            None => GIFT_CARD_REF.to_owned(),
            Some(card_token) => {
                self.gateway
                    .charge(ChargeRequest {
                        amount_minor: rest,
                        currency: &booking.currency,
                        card_token,
                        reference: booking.id.to_string(),
                    })
                    .await
                    .map_err(|e| match e {
                        GatewayError::Declined => DomainError::PaymentDeclined,
                        GatewayError::Unavailable(m) => DomainError::PaymentUnavailable(m),
                    })?
                    .provider_ref
            }
        };
        let payment = payments::insert(
            &mut tx,
            NewPayment {
                id: payment_id,
                chain,
                booking: booking.id,
                user: user.id,
                amount_minor: booking.total_minor,
                currency: &booking.currency,
                provider_ref: &provider_ref,
                gift_card: gift.as_ref().map(|(card, part)| (card.id, *part)),
            },
        )
        .await
        .map_err(|e| {
            if is_constraint(&e, "payments_booking_key") {
                DomainError::AlreadyPaid
            } else {
                e.into()
            }
        })?;
        // The names and start time of the email, from memory unless the show or its chain
        // changed since the cached context was read (the confirmation read their versions).
        let ctx = match self.show_contexts.peek(booking.show_id) {
            Some(ctx) if (ctx.version, ctx.chain_version) == show_versions => ctx,
            _ => {
                self.show_contexts.forget(booking.show_id);
                self.show_contexts
                    .get_in(&mut tx, booking.show_id)
                    .await?
                    .ok_or_else(|| DomainError::NotFound("no such show".into()))?
            }
        };
        // One ticket per seat, in this transaction: a paid booking always has them.
        let issued = tickets::store(&mut tx, prepared).await?;
        let mut email = event(EventKind::BookingConfirmed, &ctx, &confirmed, user, None);
        if let Some(balance) = gift_balance {
            with_gift_card(&mut email, gift_minor, balance, &booking.currency);
        }
        with_ticket_links(&mut email, &self.tickets, &issued);
        outbox::enqueue(&mut tx, &email).await?;
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
        let paid = PaymentData {
            payment_id: payment.id,
            booking_id: booking.id,
            amount_minor: payment.amount_minor,
            currency: payment.currency.clone(),
            gift_card_minor: gift_minor,
        };
        // Both events of the payment in one statement; none when the chain had no endpoint
        // for them as the confirmation ran.
        if has_endpoints {
            let events = [
                Event::BookingConfirmed(BookingData::of(&confirmed)),
                Event::PaymentSucceeded(paid),
            ];
            webhooks::emit_all(&mut tx, chain, &events).await?;
        }
        tx.commit().await?;
        self.seats_changed(booking.show_id);
        Ok(payment)
    }
}

/// The gift card `code` names, locked, and what it pays of `total`: all of its balance, up to
/// the total. Unknown, another chain's, another currency's or empty: `gift_card_invalid`.
async fn gift_part(
    conn: &mut PgConnection,
    code: &GiftCardCode,
    chain: Uuid,
    total: Money,
) -> Result<(GiftCard, i64), DomainError> {
    let invalid = |m: &str| DomainError::GiftCardInvalid(m.to_owned());
    let card = gift_cards::lock_by_code(conn, &code.sha256())
        .await?
        .ok_or_else(|| invalid("no gift card has this code"))?;
    if card.chain_id != chain {
        return Err(invalid("this gift card belongs to another theatre chain"));
    }
    if card.currency != total.currency.as_str() {
        return Err(DomainError::GiftCardInvalid(format!(
            "this gift card is in {}, the booking in {}",
            card.currency, total.currency
        )));
    }
    if card.balance_minor <= 0 {
        return Err(invalid("insufficient balance: the gift card is used up"));
    }
    let part = card.balance_minor.min(total.minor);
    Ok((card, part))
}
