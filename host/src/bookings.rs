//! The booking engine: holds ruled and priced by the chain's components, payments,
//! cancellations and expiry. The database guarantees the invariants (no seat in two live
//! bookings, one payment per booking, the state machine); this module orchestrates.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::components::registry::Answered;
use crate::db::audit::{self, NewEntry};
use crate::db::bookings::{self, Booking, HoldOutcome, Locked, NewHold};
use crate::db::outbox::{self, OutboxEvent};
use crate::db::payments::{self, Payment};
use crate::db::screens::SeatRow;
use crate::db::shows::{self, ShowContext};
use crate::db::users;
use crate::db::users::User;
use crate::domain::hook_io::{
    CancelRequest, Customer, CustomerHolds, EventKind, HoldRequest, QuoteRequest, Seat, SeatClass,
    SeatState, ShowInfo,
};
use crate::gateway::{ChargeRequest, GatewayError, PaymentGateway};
use crate::plugins::{CallError, CallStats, Called, FailureKind, Hook};
use crate::state::AppState;

/// Why a booking operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    /// No such booking (or not the caller's to see).
    #[error("no such booking")]
    NotFound,
    /// No such show.
    #[error("no such show")]
    ShowNotFound,
    /// The show started or was cancelled.
    #[error("the show has started or was cancelled")]
    ShowClosed,
    /// Bad seat list.
    #[error("{0}")]
    InvalidSeats(String),
    /// Seats are taken (or blocked).
    #[error("seats are not available: {}", .0.join(", "))]
    SeatUnavailable(Vec<String>),
    /// The chain's rules or pricing refused, with their reason.
    #[error("{0}")]
    RuleViolation(String),
    /// A component failed and the policy is to fail closed.
    #[error("{0}")]
    PluginUnavailable(String),
    /// The chain is over its fair share of component calls; try again after `retry_after`.
    #[error("{message}")]
    PluginBusy {
        /// Why.
        message: String,
        /// When to try again.
        retry_after: std::time::Duration,
    },
    /// Payment amount or currency differs from the booking's.
    #[error("{0}")]
    AmountMismatch(String),
    /// The hold ran out.
    #[error("the hold has expired")]
    HoldExpired,
    /// Already paid.
    #[error("the booking is already paid")]
    AlreadyPaid,
    /// Not allowed in the booking's state.
    #[error("{0}")]
    InvalidState(String),
    /// The card was declined.
    #[error("the payment was declined")]
    PaymentDeclined,
    /// The payment provider failed.
    #[error("{0}")]
    PaymentUnavailable(String),
    /// Database trouble.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A request for a hold, parsed at the edge.
#[derive(Debug)]
pub struct HoldCommand {
    /// Show.
    pub show_id: Uuid,
    /// Seat ids, in the customer's order, without duplicates.
    pub seat_ids: Vec<String>,
    /// Promo code.
    pub promo_code: Option<String>,
}

fn class_of(s: &str) -> SeatClass {
    match s {
        "premium" => SeatClass::Premium,
        "vip" => SeatClass::Vip,
        "accessible" => SeatClass::Accessible,
        _ => SeatClass::Standard,
    }
}

fn seat(s: &SeatRow) -> Seat {
    Seat {
        id: s.id.clone(),
        row: s.row_label.clone(),
        number: u32::try_from(s.number).unwrap_or(0),
        class: class_of(&s.class),
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
        prices: s.prices.0.iter().map(|(c, p)| (class_of(c), *p)).collect(),
        capacity,
        seats_sold: sold,
    }
}

fn decision(
    hook: &'static str,
    component: &str,
    stats: &CallStats,
    detail: serde_json::Value,
) -> NewEntry {
    NewEntry {
        kind: "decision",
        hook: Some(hook),
        component_id: Some(component.to_owned()),
        fuel_used: i64::try_from(stats.fuel_used).ok(),
        duration_us: i64::try_from(stats.duration.as_micros()).ok(),
        detail,
        ..NewEntry::default()
    }
}

/// A component failure under the fail-closed policy (or no component at all).
fn failed(hook: Hook, e: Option<CallError>) -> BookingError {
    let Some(e) = e else {
        return BookingError::PluginUnavailable(format!("no {hook} component is configured"));
    };
    if e.kind == FailureKind::Busy {
        return BookingError::PluginBusy {
            message: format!(
                "the chain's {} calls are over their fair share: {}",
                e.hook, e.message
            ),
            retry_after: e.retry_after.unwrap_or(std::time::Duration::from_secs(1)),
        };
    }
    tracing::warn!(hook = %e.hook, component = %e.component, kind = e.kind.as_str(), message = %e.message, "component failed; refusing (fail closed)");
    BookingError::PluginUnavailable(format!(
        "the chain's {} component failed ({}); try again later",
        e.hook,
        e.kind.as_str()
    ))
}

fn state_entry(from: Option<&'static str>, to: &'static str, actor: Option<Uuid>) -> NewEntry {
    NewEntry {
        kind: "state",
        from_status: from,
        to_status: Some(to),
        actor_id: actor,
        ..NewEntry::default()
    }
}

/// Places a hold: asks the chain's booking rules and pricing, then takes the seats.
pub async fn hold(
    state: &AppState,
    user: &User,
    cmd: HoldCommand,
) -> Result<Booking, BookingError> {
    let mut conn = state.db.acquire().await?;
    let ctx = shows::context(&mut conn, cmd.show_id)
        .await?
        .ok_or(BookingError::ShowNotFound)?;
    let now = Utc::now();
    if ctx.show.status != "scheduled" || ctx.show.starts_at <= now {
        return Err(BookingError::ShowClosed);
    }
    // A chain that has burnt its fuel share would be refused at its first component call;
    // refusing before the reads below keeps its flood from costing the replica more.
    if let Some(retry_after) = state.plugins.share().in_debt(ctx.show.chain_id) {
        return Err(BookingError::PluginBusy {
            message:
                "the chain's component calls are over their fair share of fuel on this replica"
                    .to_owned(),
            retry_after,
        });
    }
    let seat_rows = state.seat_maps.get(&mut conn, ctx.show.screen_id).await?;
    let mut wanted_rows: Vec<&SeatRow> = Vec::with_capacity(cmd.seat_ids.len());
    let mut unknown: Vec<&str> = Vec::new();
    for id in &cmd.seat_ids {
        match seat_rows.iter().find(|s| &s.id == id) {
            Some(s) => wanted_rows.push(s),
            None => unknown.push(id),
        }
    }
    if !unknown.is_empty() {
        return Err(BookingError::InvalidSeats(format!(
            "no such seats on this screen: {}",
            unknown.join(", ")
        )));
    }
    // Only the rows the hold touches go to the rules component and need their state read.
    let in_rows: Vec<&SeatRow> = seat_rows
        .iter()
        .filter(|s| wanted_rows.iter().any(|w| w.row_label == s.row_label))
        .collect();
    let row_ids: Vec<&str> = in_rows.iter().map(|s| s.id.as_str()).collect();
    let (taken_count, taken_in_rows) =
        bookings::taken_among(&mut conn, ctx.show.id, &row_ids).await?;
    let taken: HashSet<&str> = taken_in_rows.iter().map(String::as_str).collect();
    let is_taken = |s: &SeatRow| s.blocked || taken.contains(s.id.as_str());
    let unavailable: Vec<String> = in_rows
        .iter()
        .filter(|s| is_taken(s) && cmd.seat_ids.contains(&s.id))
        .map(|s| s.id.clone())
        .collect();
    if !unavailable.is_empty() {
        return Err(BookingError::SeatUnavailable(unavailable));
    }
    let capacity = seat_rows.iter().filter(|s| !s.blocked).count();
    let confirmed = bookings::confirmed_count(&mut conn, user.id, ctx.show.chain_id).await?;
    // For rules that cap what one customer may hold (the default: 10 seats of a show). Read
    // before the components run, so requests racing in parallel each see the holds committed
    // before them.
    let (held_show, held_chain) =
        bookings::held_seats(&mut conn, user.id, ctx.show.id, ctx.show.chain_id).await?;
    drop(conn);

    let chain = ctx.show.chain_id;
    let plugins = &state.plugins;
    let hold_req = HoldRequest {
        show: show_info(
            &ctx,
            u32::try_from(capacity).unwrap_or(u32::MAX),
            u32::try_from(taken_count).unwrap_or(u32::MAX),
        ),
        seats: wanted_rows.iter().map(|s| seat(s)).collect(),
        row_seats: in_rows
            .iter()
            .map(|s| SeatState {
                seat: seat(s),
                taken: is_taken(s),
            })
            .collect(),
        customer: Customer {
            user_id: user.id.to_string(),
            email: user.email.clone(),
            confirmed_bookings: u32::try_from(confirmed).unwrap_or(u32::MAX),
        },
        now_ms: now.timestamp_millis(),
        customer_holds: CustomerHolds {
            show_seats: u32::try_from(held_show).unwrap_or(u32::MAX),
            chain_seats: u32::try_from(held_chain).unwrap_or(u32::MAX),
        },
    };
    let Answered {
        called:
            Called {
                output,
                stats: rules_stats,
                ..
            },
        component: rules,
        ..
    } = state
        .components
        .call(chain, Hook::BookingRules, |c, tenant| {
            let req = &hold_req;
            async move { plugins.check_hold(tenant, &c, req).await }
        })
        .await
        .map_err(|e| failed(Hook::BookingRules, e))?;
    let policy = match output {
        Ok(p) => p,
        Err(reason) => {
            record_refusal(
                state,
                &ctx,
                None,
                user,
                ("booking-rules", &rules.id, &rules_stats),
                &reason,
            )
            .await;
            return Err(BookingError::RuleViolation(reason));
        }
    };

    let HoldRequest {
        show,
        seats,
        customer,
        ..
    } = hold_req;
    let quote_req = QuoteRequest {
        show,
        seats,
        customer,
        promo_code: cmd.promo_code.clone(),
        now_ms: now.timestamp_millis(),
    };
    let Answered {
        called:
            Called {
                output,
                stats: price_stats,
                ..
            },
        component: pricing,
        ..
    } = state
        .components
        .call(chain, Hook::Pricing, |c, tenant| {
            let req = &quote_req;
            async move { plugins.quote(tenant, &c, req).await }
        })
        .await
        .map_err(|e| failed(Hook::Pricing, e))?;
    let quote = match output {
        Ok(q) => q,
        Err(reason) => {
            record_refusal(
                state,
                &ctx,
                None,
                user,
                ("pricing", &pricing.id, &price_stats),
                &reason,
            )
            .await;
            return Err(BookingError::RuleViolation(reason));
        }
    };

    let new_hold = NewHold {
        chain_id: ctx.show.chain_id,
        show_id: ctx.show.id,
        user_id: user.id,
        seats: &cmd.seat_ids,
        items: &quote.items,
        total_minor: quote.total_minor,
        currency: &ctx.show.currency,
        promo_code: cmd.promo_code.as_deref(),
        hold_seconds: policy.hold_seconds,
    };
    // Holds insert their seats in sorted order with `on conflict do nothing`, so they do not
    // deadlock each other; a deadlock is still retried (it is PostgreSQL's "try again"),
    // never answered as seats taken, because nothing says which seats another request won.
    let mut attempt = 0;
    let (mut tx, booking) = loop {
        attempt += 1;
        let mut tx = state.db.begin().await?;
        if shows::lock_for_hold(&mut tx, ctx.show.id).await?.as_deref() != Some("scheduled") {
            return Err(BookingError::ShowClosed);
        }
        match bookings::insert_hold(&mut tx, &new_hold).await {
            Ok(HoldOutcome::Held(b)) => break (tx, *b),
            // Exactly the seats that conflicted with a live booking; the rollback (drop)
            // takes the others back.
            Ok(HoldOutcome::Taken(seats)) => return Err(BookingError::SeatUnavailable(seats)),
            Err(e) if is_deadlock(&e) && attempt < HOLD_ATTEMPTS => {
                tracing::debug!(attempt, "hold deadlocked; retrying");
            }
            Err(e) => return Err(e.into()),
        }
    };
    audit::record(
        &mut tx,
        booking.chain_id,
        booking.show_id,
        Some(booking.id),
        &[
            state_entry(None, "held", Some(user.id)),
            decision(
                "booking-rules",
                &rules.id,
                &rules_stats,
                json!({ "hold_seconds": policy.hold_seconds }),
            ),
            decision(
                "pricing",
                &pricing.id,
                &price_stats,
                json!({ "total_minor": quote.total_minor, "items": quote.items.len() }),
            ),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(booking)
}

/// Records a refusal (a hold, which has no booking yet, or a cancellation) in the chain's
/// audit trail; failing to record does not change the answer to the customer.
async fn record_refusal(
    state: &AppState,
    ctx: &ShowContext,
    booking: Option<Uuid>,
    user: &User,
    (hook, component, stats): (&'static str, &str, &CallStats),
    reason: &str,
) {
    let mut entry = decision(hook, component, stats, json!({ "refused": reason }));
    entry.actor_id = Some(user.id);
    let result = async {
        let mut conn = state.db.acquire().await?;
        audit::record(&mut conn, ctx.show.chain_id, ctx.show.id, booking, &[entry]).await
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not record a refused hold in the audit trail");
    }
}

/// How many times a hold's transaction runs when PostgreSQL breaks a lock cycle with it.
const HOLD_ATTEMPTS: u32 = 3;

/// PostgreSQL gave up on a lock cycle and rolled this transaction back.
fn is_deadlock(e: &sqlx::Error) -> bool {
    e.as_database_error().and_then(|d| d.code()).as_deref() == Some("40P01")
}

fn is_constraint(e: &sqlx::Error, name: &str) -> bool {
    e.as_database_error().and_then(|d| d.constraint()) == Some(name)
}

/// A payment request, parsed at the edge.
#[derive(Debug)]
pub struct PayCommand {
    /// Amount.
    pub amount_minor: i64,
    /// Currency.
    pub currency: String,
    /// Card token.
    pub card_token: String,
}

/// Pays a held booking: seats taken for good, payment row, confirmation email — one
/// transaction. The row lock makes a simultaneous second payment wait and then see
/// `confirmed`; the unique payment per booking backs that up.
pub async fn pay(
    state: &AppState,
    gateway: &dyn PaymentGateway,
    user: &User,
    booking_id: Uuid,
    cmd: PayCommand,
) -> Result<Payment, BookingError> {
    let mut tx = state.db.begin().await?;
    let Locked { booking, live } = bookings::lock(&mut tx, booking_id)
        .await?
        .ok_or(BookingError::NotFound)?;
    if booking.user_id != user.id {
        return Err(BookingError::NotFound);
    }
    match booking.status.as_str() {
        "held" => {}
        "confirmed" => return Err(BookingError::AlreadyPaid),
        "expired" => return Err(BookingError::HoldExpired),
        other => {
            return Err(BookingError::InvalidState(format!(
                "a {other} booking cannot be paid"
            )));
        }
    }
    // The database's clock, as every booking query: never the host's.
    if !live {
        return Err(BookingError::HoldExpired);
    }
    if cmd.amount_minor != booking.total_minor || cmd.currency != booking.currency {
        return Err(BookingError::AmountMismatch(format!(
            "the booking costs {} {} (minor units)",
            booking.total_minor, booking.currency
        )));
    }
    // Take the seats for good first: if the hold ran out meanwhile and someone else took a
    // seat, this fails and nothing is charged.
    let confirmed = match bookings::confirm(&mut tx, booking.id).await {
        Ok(Some(b)) => b,
        // It ran out between the lock and now.
        Ok(None) => return Err(BookingError::HoldExpired),
        Err(e) if is_constraint(&e, "booking_seats_live_key") || is_deadlock(&e) => {
            return Err(BookingError::HoldExpired);
        }
        Err(e) => return Err(e.into()),
    };
    let receipt = gateway
        .charge(ChargeRequest {
            amount_minor: booking.total_minor,
            currency: &booking.currency,
            card_token: &cmd.card_token,
            reference: booking.id.to_string(),
        })
        .await
        .map_err(|e| match e {
            GatewayError::Declined => BookingError::PaymentDeclined,
            GatewayError::Unavailable(m) => BookingError::PaymentUnavailable(m),
        })?;
    let payment = payments::insert(
        &mut tx,
        booking.chain_id,
        booking.id,
        user.id,
        booking.total_minor,
        &booking.currency,
        &receipt.provider_ref,
    )
    .await
    .map_err(|e| {
        if is_constraint(&e, "payments_booking_key") {
            BookingError::AlreadyPaid
        } else {
            e.into()
        }
    })?;
    let ctx = shows::context(&mut tx, booking.show_id)
        .await?
        .ok_or(BookingError::ShowNotFound)?;
    outbox::enqueue(
        &mut tx,
        &event(EventKind::BookingConfirmed, &ctx, &confirmed, user, None),
    )
    .await?;
    audit::record(
        &mut tx,
        booking.chain_id,
        booking.show_id,
        Some(booking.id),
        &[state_entry(Some("held"), "confirmed", Some(user.id))],
    )
    .await?;
    tx.commit().await?;
    Ok(payment)
}

fn money(minor: i64, currency: &str) -> String {
    format!("{currency} {}.{:02}", minor / 100, (minor % 100).abs())
}

fn local_time(at: DateTime<Utc>, timezone: &str) -> String {
    match timezone.parse::<chrono_tz::Tz>() {
        Ok(tz) => at
            .with_timezone(&tz)
            .format("%a %-d %b %Y, %H:%M %Z")
            .to_string(),
        Err(_) => at.format("%a %-d %b %Y, %H:%M UTC").to_string(),
    }
}

fn event(
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

/// Whether `user` may act on a booking as its customer, its chain's staff or an admin.
pub async fn may_manage(state: &AppState, user: &User, b: &Booking) -> Result<bool, BookingError> {
    use crate::domain::access;
    if b.user_id == user.id || access::is_admin(user) {
        return Ok(true);
    }
    if access::is_owner(user) {
        let mut conn = state.db.acquire().await?;
        return Ok(crate::db::chains::is_member(&mut conn, b.chain_id, user.id).await?);
    }
    Ok(false)
}

/// Cancels a booking: the chain's rules decide the refund (or refuse); seats free at once.
pub async fn cancel(
    state: &AppState,
    actor: &User,
    booking_id: Uuid,
) -> Result<Booking, BookingError> {
    let mut conn = state.db.acquire().await?;
    let booking = bookings::find(&mut conn, booking_id)
        .await?
        .ok_or(BookingError::NotFound)?;
    if !may_manage(state, actor, &booking).await? {
        return Err(BookingError::NotFound);
    }
    let now = Utc::now();
    if !booking.is_live(now) {
        return Err(BookingError::InvalidState(format!(
            "a {} booking cannot be cancelled",
            if booking.status == "held" {
                "expired"
            } else {
                booking.status.as_str()
            }
        )));
    }
    let ctx = shows::context(&mut conn, booking.show_id)
        .await?
        .ok_or(BookingError::ShowNotFound)?;
    let seat_rows = state.seat_maps.get(&mut conn, ctx.show.screen_id).await?;
    drop(conn);
    let confirmed = booking.status == "confirmed";
    let paid = if confirmed { booking.total_minor } else { 0 };
    let seats: Vec<Seat> = seat_rows
        .iter()
        .filter(|s| booking.seats.contains(&s.id))
        .map(seat)
        .collect();
    let plugins = &state.plugins;
    let req = CancelRequest {
        show: show_info(
            &ctx,
            seat_rows.iter().filter(|s| !s.blocked).count() as u32,
            0,
        ),
        seats,
        paid_minor: paid,
        confirmed,
        now_ms: now.timestamp_millis(),
    };
    let Answered {
        called: Called { output, stats, .. },
        component: rules,
        ..
    } = state
        .components
        .call(booking.chain_id, Hook::BookingRules, |c, tenant| {
            let req = &req;
            async move { plugins.cancel(tenant, &c, req).await }
        })
        .await
        .map_err(|e| failed(Hook::BookingRules, e))?;
    let refund = match output {
        Ok(r) => r,
        Err(reason) => {
            record_refusal(
                state,
                &ctx,
                Some(booking.id),
                actor,
                ("booking-rules", &rules.id, &stats),
                &reason,
            )
            .await;
            return Err(BookingError::RuleViolation(reason));
        }
    };

    let mut tx = state.db.begin().await?;
    let locked = bookings::lock(&mut tx, booking_id)
        .await?
        .ok_or(BookingError::NotFound)?;
    if locked.booking.status != booking.status || !locked.live {
        return Err(BookingError::InvalidState(
            "the booking changed meanwhile; try again".into(),
        ));
    }
    let cancelled = bookings::cancel(&mut tx, booking_id, refund).await?;
    if confirmed {
        payments::refund(&mut tx, booking_id, refund).await?;
    }
    let customer = users::find(&mut tx, booking.user_id)
        .await?
        .ok_or(BookingError::NotFound)?;
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
    let from = if confirmed { "confirmed" } else { "held" };
    audit::record(
        &mut tx,
        booking.chain_id,
        booking.show_id,
        Some(booking.id),
        &[
            decision(
                "booking-rules",
                &rules.id,
                &stats,
                json!({ "refund_minor": refund }),
            ),
            state_entry(Some(from), "cancelled", Some(actor.id)),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(cancelled)
}

/// What cancelling a show did.
#[derive(Debug, Clone, Copy, serde::Serialize, utoipa::ToSchema)]
pub struct ShowCancellation {
    /// Live bookings cancelled.
    pub cancelled_bookings: u64,
    /// Refunded in total, in minor units.
    pub refunded_minor: i64,
}

/// Cancels a show and every live booking of it with a full refund and an email each.
pub async fn cancel_show(
    state: &AppState,
    actor: &User,
    show_id: Uuid,
) -> Result<ShowCancellation, BookingError> {
    let mut tx = state.db.begin().await?;
    let ctx = shows::context(&mut tx, show_id)
        .await?
        .ok_or(BookingError::ShowNotFound)?;
    shows::lock_for_cancel(&mut tx, show_id).await?;
    if !shows::mark_cancelled(&mut tx, show_id).await? {
        return Err(BookingError::InvalidState(
            "the show is already cancelled".into(),
        ));
    }
    let live = bookings::lock_live_of_show(&mut tx, show_id).await?;
    let mut refunded = 0;
    for b in &live {
        let confirmed = b.status == "confirmed";
        let refund = if confirmed { b.total_minor } else { 0 };
        let cancelled = bookings::cancel(&mut tx, b.id, refund).await?;
        if confirmed {
            payments::refund(&mut tx, b.id, refund).await?;
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
        let from = if confirmed { "confirmed" } else { "held" };
        let mut entry = state_entry(Some(from), "cancelled", Some(actor.id));
        entry.detail = json!({ "reason": "show cancelled", "refund_minor": refund });
        audit::record(&mut tx, b.chain_id, b.show_id, Some(b.id), &[entry]).await?;
    }
    tx.commit().await?;
    Ok(ShowCancellation {
        cancelled_bookings: live.len() as u64,
        refunded_minor: refunded,
    })
}

/// Marks holds whose time ran out as expired and queues their emails. Their seats were
/// free from the moment they expired; this only records it. Safe to run on every replica.
pub async fn expire_due(pool: &PgPool) -> anyhow::Result<u64> {
    let mut total = 0;
    loop {
        let mut tx = pool.begin().await?;
        let expired = bookings::expire_due(&mut tx, 200).await?;
        if expired.is_empty() {
            break;
        }
        for b in &expired {
            notify_expired(&mut tx, b).await?;
        }
        tx.commit().await?;
        total += expired.len() as u64;
    }
    if total > 0 {
        tracing::info!(expired = total, "expired holds recorded");
    }
    Ok(total)
}

async fn notify_expired(conn: &mut PgConnection, b: &Booking) -> Result<(), sqlx::Error> {
    let Some(ctx) = shows::context(conn, b.show_id).await? else {
        return Ok(());
    };
    if let Some(customer) = users::find(conn, b.user_id).await? {
        outbox::enqueue(
            conn,
            &event(EventKind::BookingExpired, &ctx, b, &customer, None),
        )
        .await?;
    }
    audit::record(
        conn,
        b.chain_id,
        b.show_id,
        Some(b.id),
        &[state_entry(Some("held"), "expired", None)],
    )
    .await?;
    Ok(())
}

/// Seat ids from a request: trimmed, non-empty, no duplicates, at most 50.
pub fn parse_seat_ids(raw: &[String]) -> Result<Vec<String>, String> {
    if raw.is_empty() {
        return Err("choose at least one seat".into());
    }
    if raw.len() > 50 {
        return Err("at most 50 seats per request".into());
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(raw.len());
    for id in raw {
        let id = id.trim();
        if id.is_empty() || id.len() > 8 {
            return Err(format!("`{id}` is not a seat id like A-7"));
        }
        if !seen.insert(id.to_owned()) {
            return Err(format!("seat {id} is listed twice"));
        }
        out.push(id.to_owned());
    }
    Ok(out)
}
