//! The emails a booking's life sends, as outbox events (rendered later by the chain's
//! notify-templates component).

use chrono::{DateTime, Utc};

use crate::db::bookings::Booking;
use crate::db::outbox::OutboxEvent;
use crate::db::shows::ShowContext;
use crate::domain::hook_io::EventKind;
use crate::domain::types::User;

pub(super) fn money(minor: i64, currency: &str) -> String {
    format!("{currency} {}.{:02}", minor / 100, (minor % 100).abs())
}

pub(super) fn local_time(at: DateTime<Utc>, timezone: &str) -> String {
    match timezone.parse::<chrono_tz::Tz>() {
        Ok(tz) => at
            .with_timezone(&tz)
            .format("%a %-d %b %Y, %H:%M %Z")
            .to_string(),
        Err(_) => at.format("%a %-d %b %Y, %H:%M UTC").to_string(),
    }
}

/// Adds to a confirmation what a gift card paid (`gift-card`) and what is left on it
/// (`gift-card-balance`), both as amounts like `total`.
pub(super) fn with_gift_card(email: &mut OutboxEvent, paid: i64, balance: i64, currency: &str) {
    email.fields.push(("gift-card-paid", money(paid, currency)));
    email
        .fields
        .push(("gift-card-balance", money(balance, currency)));
}

/// Adds to a confirmation the links to its tickets' QR codes (`ticket-links`, one per line),
/// which work without signing in: the code in the link is the ticket.
pub(super) fn with_ticket_links(
    email: &mut OutboxEvent,
    issuer: &crate::domain::tickets::TicketIssuer,
    tickets: &[crate::domain::tickets::Ticket],
) {
    let links: Vec<String> = tickets.iter().map(|t| issuer.link(t)).collect();
    email.fields.push(("ticket-links", links.join("\n")));
}

/// The email of `kind` about booking `b` to its customer.
pub(super) fn event(
    kind: EventKind,
    ctx: &ShowContext,
    b: &Booking,
    user: &User,
    refund: Option<i64>,
) -> OutboxEvent {
    let mut fields = vec![
        ("name", user.name.clone()),
        ("movie-title", ctx.movie_title.clone()),
        ("theatre-name", ctx.theatre_name.clone()),
        ("screen-name", ctx.screen_name.clone()),
        ("seats", b.seats.join(", ")),
        ("starts-at", local_time(ctx.show.starts_at, &ctx.timezone)),
        ("total", money(b.total_minor, &b.currency)),
        ("booking-id", b.id.to_string()),
    ];
    if let Some(r) = refund {
        fields.push(("refund", money(r, &b.currency)));
    }
    // The confirmation shows what a voucher took off (`total` is already after it).
    if kind == EventKind::BookingConfirmed && b.discount_minor > 0 {
        if let Some(code) = &b.voucher_code {
            fields.push(("voucher-code", code.clone()));
        }
        fields.push(("discount", money(b.discount_minor, &b.currency)));
    }
    let tag = match kind {
        EventKind::BookingConfirmed => "confirmed",
        EventKind::BookingCancelled => "cancelled",
        EventKind::BookingExpired => "expired",
        EventKind::ShowCancelled => "show-cancelled",
        _ => "other",
    };
    OutboxEvent {
        kind,
        chain_id: Some(b.chain_id),
        recipients: vec![user.email.clone()],
        fields,
        dedupe_key: Some(format!("booking-{tag}:{}", b.id)),
    }
}
