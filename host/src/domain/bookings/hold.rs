//! Holds: the chain's booking rules allow, its pricing quotes, the database takes the seats;
//! for "n seats" the chain's seat-picker chooses them first.

use crate::domain::webhooks::events::{self as webhooks, BookingData, Event};
use std::collections::{HashMap, HashSet};

use chrono::Utc;
use serde_json::json;
use sqlx::PgConnection;

use super::decide::{Decision, DecisionEntry, state_entry};
use super::promo::{self, Promo};
use super::{
    Bookings, HOLD_ATTEMPTS, HoldCommand, PickCommand, SeatRequest, capacity, is_deadlock, seat,
    show_info,
};
use crate::db::audit::{self, NewEntry};
use crate::db::bookings::{self, Booking, HoldOutcome, NewHold};
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
        let mut conn = self.pool.acquire().await?;
        let ctx = self.open_show(&mut conn, cmd.show_id.as_uuid()).await?;
        let seat_rows = self
            .seat_maps
            .get(&mut conn, ctx.show.chain_id, ctx.show.screen_id)
            .await?;
        // A voucher is checked before any component runs (and claimed in the hold's
        // transaction, `insert_hold`).
        let promo = promo::read(&mut conn, &ctx, cmd.promo_code.as_deref()).await?;
        let promo = &promo;
        drop(conn);
        // Chosen now, so the run records of the components deciding the hold name it.
        let booking = uuid::Uuid::now_v7();
        let who = Who {
            customer: Some(actor.id()),
            booking: Some(booking),
        };
        match cmd.seats {
            SeatRequest::Named(ids) => {
                self.hold_seats(actor, (&ctx, booking), &seat_rows, &ids, promo, None)
                    .await
            }
            SeatRequest::Count(pick) => {
                // A lost race asks the picker once more, on the state that beat it.
                let mut last_taken = Vec::new();
                for _ in 0..2 {
                    let picked = self.pick(&ctx, &seat_rows, pick, who).await?;
                    let ids = picked.seat_ids.clone();
                    let entry = Some(picked.entry);
                    match self
                        .hold_seats(actor, (&ctx, booking), &seat_rows, &ids, promo, entry)
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
        let mut conn = self.pool.acquire().await?;
        let ctx = self.open_show(&mut conn, show_id.as_uuid()).await?;
        let seat_rows = self
            .seat_maps
            .get(&mut conn, ctx.show.chain_id, ctx.show.screen_id)
            .await?;
        drop(conn);
        let picked = self.pick(&ctx, &seat_rows, pick, Who::default()).await?;
        Ok(picked
            .seat_ids
            .into_iter()
            .map(SeatId::into_string)
            .collect())
    }

    /// The show, if it still sells and its chain may still call components.
    async fn open_show(
        &self,
        conn: &mut PgConnection,
        show_id: uuid::Uuid,
    ) -> Result<ShowContext, DomainError> {
        let ctx = shows::context(conn, show_id)
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
    ) -> Result<Booking, DomainError> {
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
        let mut conn = self.pool.acquire().await?;
        let (taken_count, taken_in_rows) =
            bookings::taken_among(&mut conn, ctx.show.id, &row_ids).await?;
        let taken: HashSet<&str> = taken_in_rows.iter().map(String::as_str).collect();
        let is_taken = |s: &SeatRow| s.blocked || taken.contains(s.id.as_str());
        let unavailable: Vec<String> = in_rows
            .iter()
            .filter(|s| is_taken(s) && seat_ids.iter().any(|id| id == &s.id))
            .map(|s| s.id.clone())
            .collect();
        if !unavailable.is_empty() {
            return Err(DomainError::SeatUnavailable(unavailable));
        }
        let chain = ctx.show.chain_id;
        let confirmed = bookings::confirmed_count(&mut conn, user.id, chain).await?;
        // For rules that cap what one customer may hold (the default: 10 seats of a show). Read
        // before the components run, so requests racing in parallel each see the holds committed
        // before them.
        let (held_show, held_chain) =
            bookings::held_seats(&mut conn, user.id, ctx.show.id, chain).await?;
        drop(conn);

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
        let booking = self.insert_hold(&new_hold).await?;
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
        let (mut tx, booking) = booking;
        audit::record(
            &mut tx,
            booking.chain_id,
            booking.show_id,
            Some(booking.id),
            &entries,
        )
        .await?;
        let held = Event::BookingHeld(BookingData::of(&booking));
        webhooks::emit(&mut tx, booking.chain_id, held).await?;
        tx.commit().await?;
        self.seats_changed(booking.show_id);
        Ok(booking)
    }

    /// Takes the seats in a transaction the caller commits (after writing the audit trail).
    /// Holds insert their seats in sorted order with `on conflict do nothing`, so they do not
    /// deadlock each other; a deadlock is still retried (it is PostgreSQL's "try again"),
    /// never answered as seats taken, because nothing says which seats another request won.
    pub(super) async fn insert_hold(
        &self,
        new_hold: &NewHold<'_>,
    ) -> Result<(sqlx::Transaction<'static, sqlx::Postgres>, Booking), DomainError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut tx = self.pool.begin().await?;
            let status = shows::lock_for_hold(&mut tx, new_hold.chain_id, new_hold.show_id).await?;
            if status != Some(ShowStatus::Scheduled) {
                return Err(DomainError::ShowClosed);
            }
            // The redemption is claimed before the booking and its seats go in, so that every
            // hold of a voucher waits for its lock before it waits for any seat.
            if let Some(voucher) = new_hold.voucher_id {
                match promo::claim(&mut tx, new_hold.chain_id, voucher).await {
                    Err(DomainError::Db(e)) if is_deadlock(&e) && attempt < HOLD_ATTEMPTS => {
                        tracing::debug!(attempt, "voucher claim deadlocked; retrying");
                        continue;
                    }
                    other => other?,
                }
            }
            match bookings::insert_hold(&mut tx, new_hold).await {
                Ok(HoldOutcome::Held(b)) => return Ok((tx, *b)),
                // Exactly the seats that conflicted with a live booking; the rollback (drop)
                // takes the others back.
                Ok(HoldOutcome::Taken(seats)) => return Err(DomainError::SeatUnavailable(seats)),
                Err(e) if is_deadlock(&e) && attempt < HOLD_ATTEMPTS => {
                    tracing::debug!(attempt, "hold deadlocked; retrying");
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

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
