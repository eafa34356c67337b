//! Joining, reading and leaving waiting lists.

use crate::domain::webhooks::events::{Event, WaitlistData};
use chrono::Utc;
use uuid::Uuid;

use super::{Entry, JoinCommand, SeenEntry, Waitlist, WaitlistStatus};
use crate::db::{shows, waitlist};
use crate::domain::bookings::Bookings;
use crate::domain::error::is_constraint;
use crate::domain::types::{Role, ShowId, ShowStatus};
use crate::domain::{Actor, DomainError};

impl Waitlist {
    /// Joins a sold-out show's waiting list: the show sells (else `show_closed`), fewer seats
    /// (of the class) are free than asked for (else `seats_available`; blocked seats never
    /// count, an expired hold's seats do), the chain's booking rules allow it (and say how
    /// long an offer will last), and the customer has no active entry for the show
    /// (`waitlist_entries_active_key`, else `already_waiting`).
    pub async fn join(&self, actor: &Actor, cmd: JoinCommand) -> Result<SeenEntry, DomainError> {
        actor.require_approved()?;
        if actor.user().role != Role::Customer {
            return Err(DomainError::Forbidden(
                "only customers join waiting lists".into(),
            ));
        }
        let show = cmd.show_id.as_uuid();
        let user = actor.user();
        let mut conn = self.pool.acquire().await?;
        let ctx = shows::context(&mut conn, show)
            .await?
            .ok_or_else(|| DomainError::NotFound("no such show".into()))?;
        if ctx.show.status != ShowStatus::Scheduled || ctx.show.starts_at <= Utc::now() {
            return Err(DomainError::ShowClosed);
        }
        let chain = ctx.show.chain_id;
        let seat_rows = self
            .seat_maps
            .get(&mut conn, chain, ctx.show.screen_id)
            .await?;
        let free = waitlist::free_seats(&mut conn, show).await?;
        if free_of(&free, cmd.seat_class) >= i64::from(cmd.seat_count) {
            return Err(DomainError::SeatsAvailable);
        }
        drop(conn);
        // An offer of this customer's that ran out must not count as active.
        self.settle(Some(show)).await?;
        let mut conn = self.pool.acquire().await?;
        let active = waitlist::active_of_customer(&mut conn, chain, user.id).await?;
        drop(conn);
        let policy = self
            .bookings
            .check_waitlist(
                &ctx,
                &seat_rows,
                user,
                (cmd.seat_count, cmd.seat_class),
                u32::try_from(active).unwrap_or(u32::MAX),
            )
            .await?;
        let mut tx = self.pool.begin().await?;
        // Shared with holds, exclusive for cancelling the show: no entry joins a show whose
        // cancellation (which expires its queue) is committing.
        if shows::lock_for_hold(&mut tx, chain, show)
            .await?
            .map(|s| s.status)
            != Some(ShowStatus::Scheduled)
        {
            return Err(DomainError::ShowClosed);
        }
        let new = waitlist::NewEntry {
            id: Uuid::now_v7(),
            chain_id: chain,
            show_id: show,
            user_id: user.id,
            seat_count: i32::try_from(cmd.seat_count).unwrap_or(i32::MAX),
            seat_class: cmd.seat_class,
            offer_seconds: i32::try_from(policy.offer_seconds.clamp(1, 86_400)).unwrap_or(86_400),
        };
        let entry = waitlist::insert(&mut tx, &new).await.map_err(|e| {
            if is_constraint(&e, "waitlist_entries_active_key") {
                DomainError::AlreadyWaiting
            } else {
                e.into()
            }
        })?;
        let position = waitlist::position(&mut tx, entry.id).await?;
        let joined = Event::WaitlistJoined(WaitlistData {
            entry_id: entry.id,
            show_id: entry.show_id,
            customer_id: entry.user_id,
            booking_id: None,
            seats: Vec::new(),
            expires_at: None,
        });
        crate::domain::webhooks::emit(&mut tx, chain, joined).await?;
        tx.commit().await?;
        Ok(SeenEntry {
            entry,
            position: Some(position),
        })
    }

    /// A page of the actor's own entries, by id, as seen now.
    pub async fn list_mine(
        &self,
        actor: &Actor,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<SeenEntry>, DomainError> {
        let mut conn = self.pool.acquire().await?;
        Ok(waitlist::list_of_user(&mut conn, actor.id(), after, limit).await?)
    }

    /// A page of a show's queue (its waiting and offered entries, in order): its chain's
    /// members and admins; anyone else is told there is no such show.
    pub async fn queue(
        &self,
        actor: &Actor,
        show: ShowId,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<SeenEntry>, DomainError> {
        let mut conn = self.pool.acquire().await?;
        let not_found = || DomainError::NotFound("no such show".into());
        let ctx = shows::context(&mut conn, show.as_uuid())
            .await?
            .ok_or_else(not_found)?;
        actor
            .require_member(&mut conn, ctx.show.chain_id)
            .await
            .map_err(|e| match e {
                DomainError::NotFound(_) => not_found(),
                other => other,
            })?;
        Ok(
            waitlist::queue_of_show(&mut conn, ctx.show.chain_id, ctx.show.id, after, limit)
                .await?,
        )
    }

    /// The entry's customer leaves: an open offer's hold is released (its seats go to the
    /// next entries). Someone else's entry is not found; one no longer active is
    /// `invalid_state`.
    pub async fn leave(&self, actor: &Actor, entry_id: Uuid) -> Result<(), DomainError> {
        let not_found = || DomainError::NotFound("no such waiting-list entry".into());
        let mut tx = self.pool.begin().await?;
        let entry: Entry = waitlist::find(&mut tx, entry_id)
            .await?
            .ok_or_else(not_found)?;
        if entry.user_id != actor.id() {
            return Err(not_found());
        }
        let mut released = false;
        if entry.status == WaitlistStatus::Offered
            && let Some(booking) = entry.booking_id
        {
            // The booking first, then the entry (the trigger `bookings_waitlist` marks it
            // `left` when the hold is cancelled).
            released =
                Bookings::release_offer(&mut tx, entry.chain_id, booking, actor.id()).await?;
        }
        let left = waitlist::mark_left(&mut tx, entry_id).await?;
        if !left && !released {
            let now = waitlist::find(&mut tx, entry_id)
                .await?
                .map_or(entry.status, |e| e.status);
            return Err(DomainError::InvalidState(format!(
                "a {now} waiting-list entry cannot be left"
            )));
        }
        let left_event = Event::WaitlistLeft(WaitlistData {
            entry_id: entry.id,
            show_id: entry.show_id,
            customer_id: entry.user_id,
            booking_id: entry.booking_id,
            seats: Vec::new(),
            expires_at: None,
        });
        crate::domain::webhooks::emit(&mut tx, entry.chain_id, left_event).await?;
        tx.commit().await?;
        if entry.status == WaitlistStatus::Offered {
            // The offer's hold let its seats go: this replica's seat map and the show's
            // waiting list hear of it.
            self.bookings.seats_changed(entry.show_id);
            self.freed.notify(entry.show_id);
        }
        Ok(())
    }
}

/// Free seats of `class` (any class when `None`) in a [`waitlist::free_seats`] answer.
pub(super) fn free_of(
    free: &[(crate::domain::hook_io::SeatClass, i64)],
    class: Option<crate::domain::hook_io::SeatClass>,
) -> i64 {
    free.iter()
        .filter(|(c, _)| class.is_none_or(|want| *c == want))
        .map(|(_, n)| n)
        .sum()
}
