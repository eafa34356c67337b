//! Holds: the chain's booking rules allow, its pricing quotes, the database takes the seats;
//! for "n seats" the chain's seat-picker chooses them first.

use crate::domain::webhooks::events::{self as webhooks, BookingData, Event};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::decide::{Decision, DecisionEntry, state_entry};
use super::promo::{self, Promo};
use super::{
    Bookings, HOLD_ATTEMPTS, HoldCommand, PickCommand, SeatRequest, capacity, is_deadlock, seat,
    show_info,
};
use crate::db::audit::{self, NewEntry};
use crate::db::bookings::{self, AtOnce, Booking, HoldOutcome, NewHold};
use crate::db::screens::SeatRow;
use crate::db::shows::{self, ShowContext};
use crate::domain::hook_io::{
    Availability, Customer, CustomerHolds, HoldRequest, MapSeat, PickRequest, QuoteRequest,
    SeatState,
};
use crate::domain::types::{BookingStatus, SeatId, ShowId, ShowStatus};
use crate::domain::{Actor, DomainError};
use crate::plugins::Hook;

/// Whom a component call serves: the customer (who picks the canary) and the booking.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Who {
    pub(super) customer: Option<uuid::Uuid>,
    pub(super) booking: Option<uuid::Uuid>,
}

impl Who {
    /// The call's context for the run log, canary and shadow.
    pub(super) fn context<T: serde::Serialize>(
        self,
        hook: Hook,
        function: &'static str,
        input: &T,
    ) -> crate::plugins::registry::CallContext {
        let mut context = crate::domain::runs::context(hook, function, input);
        context.customer = self.customer;
        context.booking = self.booking;
        context
    }
}

/// Seats the picker chose, and the decision to audit with the hold.
pub(super) struct Picked {
    pub(super) seat_ids: Vec<SeatId>,
    pub(super) entry: NewEntry,
}

impl Bookings {
    /// Places a hold for the actor.
    pub async fn hold(&self, actor: &Actor, cmd: HoldCommand) -> Result<Booking, DomainError> {
        actor.require_approved()?;
        // The show's context comes from memory; the hold's insert checks it is still the
        // show's (`show_hold_check`). One that changed meanwhile is read again and the hold
        // decided again on it.
        for _ in 0..HOLD_ATTEMPTS {
            if let Some(booking) = self.hold_once(actor, &cmd).await? {
                self.seats_changed(booking.show_id);
                return Ok(booking);
            }
            self.show_contexts.forget(cmd.show_id.as_uuid());
        }
        Err(DomainError::InvalidState(
            "the show kept changing while the hold was decided; try again".into(),
        ))
    }

    /// One attempt of [`Bookings::hold`]; `None` when the show changed after its context was
    /// read (nothing was written).
    async fn hold_once(
        &self,
        actor: &Actor,
        cmd: &HoldCommand,
    ) -> Result<Option<Booking>, DomainError> {
        let ctx = self.open_show(cmd.show_id.as_uuid()).await?;
        let ctx: &ShowContext = &ctx;
        let seat_rows = self.seat_rows(ctx).await?;
        // A voucher is checked before any component runs (and claimed in the hold's
        // transaction, `insert_hold`).
        let promo = match cmd.promo_code.as_deref() {
            None => Promo::None,
            Some(code) => {
                let mut conn = self.pool.acquire().await?;
                promo::read(&mut conn, ctx, Some(code)).await?
            }
        };
        let promo = &promo;
        // Chosen now, so the run records of the components deciding the hold name it.
        let booking = uuid::Uuid::now_v7();
        let who = Who {
            customer: Some(actor.id()),
            booking: Some(booking),
        };
        match &cmd.seats {
            SeatRequest::Named(ids) => {
                self.hold_seats(actor, (ctx, booking), &seat_rows, ids, promo, None)
                    .await
            }
            SeatRequest::Count(pick) => {
                // A lost race asks the picker once more, on the state that beat it.
                let mut last_taken = Vec::new();
                for _ in 0..2 {
                    let picked = self.pick(ctx, &seat_rows, *pick, who).await?;
                    let ids = picked.seat_ids.clone();
                    let entry = Some(picked.entry);
                    match self
                        .hold_seats(actor, (ctx, booking), &seat_rows, &ids, promo, entry)
                        .await
                    {
                        Err(DomainError::SeatUnavailable(taken)) => last_taken = taken,
                        other => return other,
                    }
                }
                Err(DomainError::SeatUnavailable(last_taken))
            }
        }
    }

    /// The seats the chain's seat-picker would choose now, without holding them.
    pub async fn suggest(
        &self,
        show_id: ShowId,
        pick: PickCommand,
    ) -> Result<Vec<String>, DomainError> {
        let ctx = self.open_show(show_id.as_uuid()).await?;
        let seat_rows = self.seat_rows(&ctx).await?;
        let picked = self.pick(&ctx, &seat_rows, pick, Who::default()).await?;
        Ok(picked
            .seat_ids
            .into_iter()
            .map(SeatId::into_string)
            .collect())
    }

    /// The screen's seats, from memory (a connection only when they are not there yet).
    async fn seat_rows(&self, ctx: &ShowContext) -> Result<Arc<Vec<SeatRow>>, DomainError> {
        if let Some(rows) = self.seat_maps.cached(ctx.show.screen_id) {
            return Ok(rows);
        }
        let mut conn = self.pool.acquire().await?;
        Ok(self
            .seat_maps
            .get(&mut conn, ctx.show.chain_id, ctx.show.screen_id)
            .await?)
    }

    /// The show, if it still sells and its chain may still call components (its context from
    /// memory: the hold's insert checks it is current).
    async fn open_show(&self, show_id: uuid::Uuid) -> Result<Arc<ShowContext>, DomainError> {
        let ctx = self
            .show_contexts
            .get(&self.pool, show_id)
            .await?
            .ok_or_else(|| DomainError::NotFound("no such show".into()))?;
        if ctx.show.status != ShowStatus::Scheduled || ctx.show.starts_at <= Utc::now() {
            return Err(DomainError::ShowClosed);
        }
        // A chain that has burnt its fuel share would be refused at its first component call;
        // refusing before the reads that follow keeps its flood from costing the replica more.
        if let Some(retry_after) = self.plugins.share().in_debt(ctx.show.chain_id) {
            return Err(DomainError::PluginBusy {
                message:
                    "the chain's component calls are over their fair share of fuel on this replica"
                        .to_owned(),
                retry_after,
            });
        }
        Ok(ctx)
    }

    /// Asks the chain's seat-picker for `pick.count` seats on the current state of the show.
    /// Its answer was checked by the hook (count, existing, free, class): a wrong answer is a
    /// component failure, handled by the binding's policy like a trap.
    pub(super) async fn pick(
        &self,
        ctx: &ShowContext,
        seat_rows: &[SeatRow],
        pick: PickCommand,
        who: Who,
    ) -> Result<Picked, DomainError> {
        let mut conn = self.pool.acquire().await?;
        let taken: HashMap<String, String> = bookings::taken_seats(&mut conn, ctx.show.id)
            .await?
            .into_iter()
            .collect();
        drop(conn);
        let seats: Vec<MapSeat> = seat_rows
            .iter()
            .map(|s| MapSeat {
                seat: seat(s),
                state: if s.blocked {
                    Availability::Blocked
                } else if taken.contains_key(&s.id) {
                    Availability::Taken
                } else {
                    Availability::Free
                },
            })
            .collect();
        let sold = u32::try_from(taken.len()).unwrap_or(u32::MAX);
        let req = PickRequest {
            show: show_info(ctx, capacity(seat_rows), sold),
            seats,
            count: pick.count,
            seat_class: pick.class,
            accessible: pick.accessible,
            now_ms: Utc::now().timestamp_millis(),
        };
        let plugins = &self.plugins;
        let run = who.context(Hook::SeatPicker, "pick-seats", &req);
        let decision = self
            .decide(ctx.show.chain_id, Hook::SeatPicker, run, |c, tenant| {
                let req = &req;
                async move { plugins.pick_seats(tenant, &c, req).await }
            })
            .await?;
        match &decision.output {
            Ok(ids) => Ok(Picked {
                // The host's checks of the answer already found every id on the screen's map.
                seat_ids: ids
                    .iter()
                    .map(|id| SeatId::parse(id))
                    .collect::<Result<_, _>>()
                    .map_err(|e| {
                        DomainError::Internal(format!("checked seat-picker answer: {e}"))
                    })?,
                entry: decision.entry(Hook::SeatPicker, json!({ "seats": ids })),
            }),
            Err(reason) => Err(DomainError::NoSeatsFit(reason.clone())),
        }
    }

    /// Holds exactly `seat_ids` (validated against the screen), after the chain's booking
    /// rules allowed it and its pricing quoted it.
    async fn hold_seats(
        &self,
        actor: &Actor,
        (ctx, booking_id): (&ShowContext, uuid::Uuid),
        seat_rows: &[SeatRow],
        seat_ids: &[SeatId],
        promo: &Promo,
        picked: Option<NewEntry>,
    ) -> Result<Option<Booking>, DomainError> {
        let user = actor.user();
        let mut wanted_rows: Vec<&SeatRow> = Vec::with_capacity(seat_ids.len());
        let mut unknown: Vec<&str> = Vec::new();
        for id in seat_ids {
            match seat_rows.iter().find(|s| id == &s.id) {
                Some(s) => wanted_rows.push(s),
                None => unknown.push(id.as_str()),
            }
        }
        if !unknown.is_empty() {
            return Err(DomainError::invalid(
                "seat_ids",
                format!("no such seats on this screen: {}", unknown.join(", ")),
            ));
        }
        // Only the rows the hold touches go to the rules component and need their state read.
        let in_rows: Vec<&SeatRow> = seat_rows
            .iter()
            .filter(|s| wanted_rows.iter().any(|w| w.row_label == s.row_label))
            .collect();
        let row_ids: Vec<&str> = in_rows.iter().map(|s| s.id.as_str()).collect();
        // Everything the components are told, in one statement: the seats taken, the
        // customer's bookings and live holds (for rules that cap what one customer may hold:
        // the default, 10 seats of a show). Read before the components run, so requests racing
        // in parallel each see the holds committed before them.
        let chain = ctx.show.chain_id;
        let mut conn = self.pool.acquire().await?;
        let inputs =
            bookings::hold_inputs(&mut conn, (user.id, ctx.show.id, chain), &row_ids).await?;
        drop(conn);
        let taken: HashSet<&str> = inputs.taken_among.iter().map(String::as_str).collect();
        let is_taken = |s: &SeatRow| s.blocked || taken.contains(s.id.as_str());
        let unavailable: Vec<String> = in_rows
            .iter()
            .filter(|s| is_taken(s) && seat_ids.iter().any(|id| id == &s.id))
            .map(|s| s.id.clone())
            .collect();
        if !unavailable.is_empty() {
            return Err(DomainError::SeatUnavailable(unavailable));
        }
        let (taken_count, confirmed) = (inputs.taken_count, inputs.confirmed);
        let (held_show, held_chain) = (inputs.held_show, inputs.held_chain);

        let now = Utc::now();
        let hold_req = HoldRequest {
            show: show_info(
                ctx,
                capacity(seat_rows),
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
        let where_ = (chain, ctx.show.id, None);
        let plugins = &self.plugins;
        let who = Who {
            customer: Some(user.id),
            booking: Some(booking_id),
        };
        let run = who.context(Hook::BookingRules, "check-hold", &hold_req);
        let rules = self
            .decide(chain, Hook::BookingRules, run, |c, tenant| {
                let req = &hold_req;
                async move { plugins.check_hold(tenant, &c, req).await }
            })
            .await?;
        let policy = match &rules.output {
            Ok(p) => *p,
            Err(reason) => {
                self.record_refusal(where_, user.id, Hook::BookingRules, &rules, reason)
                    .await;
                return Err(DomainError::RuleViolation(reason.clone()));
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
            promo_code: promo.code().map(str::to_owned),
            now_ms: now.timestamp_millis(),
            voucher: promo.terms(),
        };
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
                self.record_refusal(where_, user.id, Hook::Pricing, &pricing, reason)
                    .await;
                return Err(promo.refused(reason));
            }
        };

        let seat_strings: Vec<String> = seat_ids.iter().map(|s| s.as_str().to_owned()).collect();
        let new_hold = NewHold {
            id: booking_id,
            chain_id: chain,
            show_id: ctx.show.id,
            user_id: user.id,
            seats: &seat_strings,
            items: &quote.items,
            total_minor: quote.total_minor,
            currency: &ctx.show.currency,
            promo_code: promo.code(),
            hold_seconds: policy.hold_seconds,
            voucher_id: promo.voucher_id(),
            // What the voucher took off is the quote's to say; never below nothing.
            discount_minor: quote.discount_minor.max(0),
        };
        let mut entries = vec![state_entry(None, BookingStatus::Held, Some(user.id))];
        entries.extend(picked);
        entries.push(rules.entry(
            Hook::BookingRules,
            json!({ "hold_seconds": policy.hold_seconds }),
        ));
        entries.push(pricing_entry(
            &pricing,
            quote.total_minor,
            quote.items.len(),
            promo.audit(new_hold.discount_minor),
        ));
        let versions = (ctx.version, ctx.chain_version);
        // The common case in one statement and round trip: no voucher to claim first, and no
        // webhook endpoint whose deliveries must commit with it.
        if new_hold.voucher_id.is_none() {
            match self.hold_at_once(&new_hold, versions, &entries).await? {
                AtOnce::Held(booking) => return Ok(Some(*booking)),
                AtOnce::Taken(seats) => return Err(DomainError::SeatUnavailable(seats)),
                AtOnce::NotWritten => {
                    // Closed, or changed since the context was read: which one?
                    let mut conn = self.pool.acquire().await?;
                    let show = shows::lock_for_hold(&mut conn, chain, ctx.show.id).await?;
                    return match show {
                        Some(s) if s.status == ShowStatus::Scheduled => Ok(None),
                        _ => Err(DomainError::ShowClosed),
                    };
                }
                AtOnce::Endpoints => {}
            }
        }
        let Some((booking, has_endpoints)) = self.insert_hold(&new_hold, Some(versions)).await?
        else {
            return Ok(None);
        };
        let (mut tx, booking) = booking;
        audit::record(
            &mut tx,
            booking.chain_id,
            booking.show_id,
            Some(booking.id),
            &entries,
        )
        .await?;
        // No statement for the deliveries when the chain had no endpoint for them as the
        // hold's insert ran.
        if has_endpoints {
            let held = Event::BookingHeld(BookingData::of(&booking));
            webhooks::emit(&mut tx, booking.chain_id, held).await?;
        }
        tx.commit().await?;
        Ok(Some(booking))
    }

    /// [`bookings::insert_hold_at_once`], retried when PostgreSQL breaks a lock cycle with it.
    async fn hold_at_once(
        &self,
        new_hold: &NewHold<'_>,
        versions: (DateTime<Utc>, DateTime<Utc>),
        entries: &[NewEntry],
    ) -> Result<AtOnce, DomainError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut conn = self.pool.acquire().await?;
            match bookings::insert_hold_at_once(&mut conn, new_hold, versions, entries).await {
                Err(e) if is_deadlock(&e) && attempt < HOLD_ATTEMPTS => {
                    tracing::debug!(attempt, "hold deadlocked; retrying");
                }
                other => return Ok(other?),
            }
        }
    }

    /// Takes the seats in a transaction the caller commits (after writing the audit trail).
    /// Holds insert their seats in sorted order with `on conflict do nothing`, so they do not
    /// deadlock each other; a deadlock is still retried (it is PostgreSQL's "try again"),
    /// never answered as seats taken, because nothing says which seats another request won.
    /// With `versions` (the `updated_at` of the show and its chain the hold was decided on),
    /// `None` when the show changed since: nothing is written. With the booking, whether the
    /// chain may have webhook endpoints for `booking.held` (`false` only when the insert saw
    /// none).
    pub(super) async fn insert_hold(
        &self,
        new_hold: &NewHold<'_>,
        versions: Option<(DateTime<Utc>, DateTime<Utc>)>,
    ) -> Result<Option<HeldTx>, DomainError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut tx = self.pool.begin().await?;
            let inserted = match (new_hold.voucher_id, versions) {
                // The common case, one statement: the show's lock and check, the booking, its
                // seats.
                (None, Some(versions)) => {
                    match bookings::insert_checked_hold(&mut tx, new_hold, versions).await {
                        Ok(Some((outcome, endpoints))) => Ok((outcome, endpoints)),
                        Ok(None) => {
                            // Not written: closed, or changed since the context was read.
                            let show =
                                shows::lock_for_hold(&mut tx, new_hold.chain_id, new_hold.show_id)
                                    .await?;
                            return match show {
                                Some(s) if s.status == ShowStatus::Scheduled => Ok(None),
                                _ => Err(DomainError::ShowClosed),
                            };
                        }
                        Err(e) => Err(e),
                    }
                }
                _ => {
                    let show =
                        shows::lock_for_hold(&mut tx, new_hold.chain_id, new_hold.show_id).await?;
                    match (show, versions) {
                        (Some(s), _) if s.status != ShowStatus::Scheduled => {
                            return Err(DomainError::ShowClosed);
                        }
                        (None, _) => return Err(DomainError::ShowClosed),
                        (Some(s), Some((show_v, chain_v)))
                            if s.version != show_v || s.chain_version != chain_v =>
                        {
                            return Ok(None);
                        }
                        _ => {}
                    }
                    // The redemption is claimed before the booking and its seats go in, so
                    // that every hold of a voucher waits for its lock before it waits for any
                    // seat.
                    if let Some(voucher) = new_hold.voucher_id {
                        match promo::claim(&mut tx, new_hold.chain_id, voucher).await {
                            Err(DomainError::Db(e))
                                if is_deadlock(&e) && attempt < HOLD_ATTEMPTS =>
                            {
                                tracing::debug!(attempt, "voucher claim deadlocked; retrying");
                                continue;
                            }
                            other => other?,
                        }
                    }
                    bookings::insert_hold(&mut tx, new_hold)
                        .await
                        .map(|outcome| (outcome, true))
                }
            };
            match inserted {
                Ok((HoldOutcome::Held(b), endpoints)) => return Ok(Some(((tx, *b), endpoints))),
                // Exactly the seats that conflicted with a live booking; the rollback (drop)
                // takes the others back.
                Ok((HoldOutcome::Taken(seats), _)) => {
                    return Err(DomainError::SeatUnavailable(seats));
                }
                Err(e) if is_deadlock(&e) && attempt < HOLD_ATTEMPTS => {
                    tracing::debug!(attempt, "hold deadlocked; retrying");
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// A hold's open transaction and booking, and whether the chain may have webhook endpoints
/// for it.
pub(super) type HeldTx = ((sqlx::Transaction<'static, sqlx::Postgres>, Booking), bool);

pub(super) fn pricing_entry<T>(
    pricing: &Decision<T>,
    total_minor: i64,
    items: usize,
    voucher: Option<serde_json::Value>,
) -> NewEntry {
    let mut detail = json!({ "total_minor": total_minor, "items": items });
    if let (Some(voucher), Some(detail)) = (voucher, detail.as_object_mut()) {
        detail.insert("voucher".into(), voucher);
    }
    pricing.entry(Hook::Pricing, detail)
}
