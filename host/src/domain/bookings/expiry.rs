//! Recording holds that ran out.

use sqlx::{PgConnection, PgPool};

use super::decide::state_entry;
use super::email::event;
use crate::db::audit;
use crate::db::bookings::{self, Booking};
use crate::db::outbox;
use crate::db::shows;
use crate::db::users;
use crate::domain::hook_io::EventKind;
use crate::domain::types::BookingStatus;
use crate::domain::webhooks::events::{BookingData, Event};

/// Holds recorded per transaction.
const BATCH: i64 = 200;

/// Holds one run of [`expire_due`] records at most. A run that reaches it returns that
/// number, and the job runs again at once, so a backlog drains at full speed while each run
/// stays bounded (and the job's other duties, and shutdown, come between two runs).
pub const PER_RUN: u64 = 2_000;

/// Marks holds whose time ran out as expired and queues their emails, at most [`PER_RUN`]
/// of them, in transactions of [`BATCH`]. Their seats were free from the moment they
/// expired; this only records it. Safe to run on every replica.
pub async fn expire_due(pool: &PgPool) -> Result<u64, sqlx::Error> {
    expire_due_at_most(pool, BATCH, PER_RUN).await
}

/// [`expire_due`] with its bounds given: transactions of `batch` holds, `max` holds in all.
pub async fn expire_due_at_most(pool: &PgPool, batch: i64, max: u64) -> Result<u64, sqlx::Error> {
    let mut total = 0;
    while total < max {
        let size = batch
            .min(i64::try_from(max - total).unwrap_or(i64::MAX))
            .max(1);
        let mut tx = pool.begin().await?;
        let expired = bookings::expire_due(&mut tx, size).await?;
        if expired.is_empty() {
            break;
        }
        for b in &expired {
            notify_expired(&mut tx, b).await?;
        }
        tx.commit().await?;
        total += expired.len() as u64;
        if (expired.len() as i64) < size {
            break;
        }
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
    // A waiting-list offer that ran out gets the waiting list's own email (sent by its sweep),
    // not a second one about an expired hold.
    let offer = crate::db::waitlist::is_offer(conn, b.chain_id, b.id).await?;
    // Likewise its webhook event is the waiting list's `waitlist.offer_expired`.
    if !offer {
        let expired = Event::BookingExpired(BookingData::of(b));
        crate::domain::webhooks::emit(conn, b.chain_id, expired).await?;
    }
    if !offer && let Some(customer) = users::find(conn, b.user_id).await? {
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
        &[state_entry(
            Some(BookingStatus::Held),
            BookingStatus::Expired,
            None,
        )],
    )
    .await?;
    Ok(())
}
