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

/// Marks holds whose time ran out as expired and queues their emails. Their seats were
/// free from the moment they expired; this only records it. Safe to run on every replica.
pub async fn expire_due(pool: &PgPool) -> Result<u64, sqlx::Error> {
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
