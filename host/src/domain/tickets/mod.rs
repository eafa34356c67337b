//! Signed tickets (docs/tickets.md): one per seat of a confirmed booking, issued in the
//! payment's transaction ([`issue`], called by `bookings::pay`), voided in the cancellation's
//! ([`void`]); their codes signed with the chain's Ed25519 key ([`keys`]), verifiable offline
//! ([`code`]), shown as QR images ([`qr`]); and check-in at the door ([`checkin`]).

pub mod checkin;
pub mod code;
pub mod keys;
pub mod qr;

use std::sync::Arc;

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::types::BookingStatus;
use super::{Actor, ChainAccess, DomainError};
use crate::db::bookings::{self, Booking};
use crate::db::tickets::{self as db, NewTicket};

pub use crate::db::tickets::Ticket;
pub use checkin::{CheckInAnswer, CheckInCommand, CheckInResult, FirstScan, ScanSummary};
pub use keys::{KeyRing, PublicKey};

/// What issuing needs: the chain keys and where the API is reached from outside (for the
/// confirmation email's links). Shared by the booking service and [`Tickets`].
#[derive(Clone, Debug)]
pub struct TicketIssuer {
    keys: Arc<KeyRing>,
    public_url: Arc<str>,
}

impl TicketIssuer {
    /// Over the keys, for links under `public_url` (no trailing slash needed).
    pub fn new(keys: Arc<KeyRing>, public_url: &str) -> Self {
        Self {
            keys,
            public_url: Arc::from(public_url.trim_end_matches('/')),
        }
    }

    /// The link to a ticket's QR code that works without a token (the code is the proof).
    pub fn link(&self, ticket: &Ticket) -> String {
        format!(
            "{}/api/v1/tickets/{}/qr.svg?code={}",
            self.public_url, ticket.id, ticket.code
        )
    }
}

/// A booking's tickets signed but not yet stored: what [`prepare`] makes before a payment's
/// charge, so that nothing after the charge depends on the chain's key.
#[derive(Debug)]
pub struct Prepared {
    chain: Uuid,
    booking: Uuid,
    show: Uuid,
    key_id: String,
    tickets: Vec<NewTicket>,
}

/// Signs a ticket per seat of `booking` with the chain's active key (made on first use) in
/// the caller's transaction, without storing them. A key that cannot be opened (the token
/// secret changed) fails here: a payment calls this before it charges, so a customer is
/// never charged for a booking that then cannot be confirmed.
pub async fn prepare(
    conn: &mut PgConnection,
    issuer: &TicketIssuer,
    booking: &Booking,
) -> Result<Prepared, DomainError> {
    let chain = booking.chain_id;
    let key = issuer.keys.active(conn, chain).await?;
    let signing = issuer.keys.signing(conn, chain, &key.key_id).await?;
    let tickets = booking
        .seats
        .iter()
        .map(|seat| {
            let claims = code::Claims {
                ticket_id: Uuid::now_v7(),
                booking_id: booking.id,
                show_id: booking.show_id,
                seat_id: seat.clone(),
            };
            let code = code::encode(&claims, &signing).ok_or_else(|| {
                DomainError::Internal(format!("seat {seat} does not fit a ticket code"))
            })?;
            Ok(NewTicket {
                id: claims.ticket_id,
                seat_id: seat.clone(),
                code,
            })
        })
        .collect::<Result<Vec<_>, DomainError>>()?;
    Ok(Prepared {
        chain,
        booking: booking.id,
        show: booking.show_id,
        key_id: key.key_id,
        tickets,
    })
}

/// Stores prepared tickets in the caller's transaction (seats with a ticket keep theirs) and
/// answers all of the booking's tickets.
pub async fn store(
    conn: &mut PgConnection,
    prepared: Prepared,
) -> Result<Vec<Ticket>, DomainError> {
    let Prepared {
        chain,
        booking,
        show,
        key_id,
        tickets,
    } = prepared;
    Ok(db::insert_tickets(conn, (chain, booking, show), &key_id, &tickets).await?)
}

/// Issues the tickets of confirmed `booking` (one per seat it holds) in the caller's
/// transaction, and answers all of its tickets. Seats with a ticket keep theirs, so calling it
/// again issues only what is missing.
pub async fn issue(
    conn: &mut PgConnection,
    issuer: &TicketIssuer,
    booking: &Booking,
) -> Result<Vec<Ticket>, DomainError> {
    let prepared = prepare(conn, issuer, booking).await?;
    store(conn, prepared).await
}

/// Voids the booking's tickets of `seats` (every ticket with `None`) in the caller's
/// transaction: a cancelled seat admits nobody.
pub async fn void(
    conn: &mut PgConnection,
    booking: &Booking,
    seats: Option<&[String]>,
) -> Result<(), DomainError> {
    db::void(conn, booking.chain_id, booking.id, seats).await?;
    Ok(())
}

/// The ticket service: what it needs and nothing more.
#[derive(Clone)]
pub struct Tickets {
    pool: PgPool,
    issuer: TicketIssuer,
}

fn no_booking() -> DomainError {
    DomainError::NotFound("no such booking".into())
}

fn no_ticket() -> DomainError {
    DomainError::NotFound("no such ticket".into())
}

impl Tickets {
    /// The service.
    pub fn new(pool: PgPool, issuer: TicketIssuer) -> Self {
        Self { pool, issuer }
    }

    /// Links and keys.
    pub fn issuer(&self) -> &TicketIssuer {
        &self.issuer
    }

    /// A booking's tickets, for its customer, its chain's staff and admins (anyone else: not
    /// found). A held booking has none yet (`[]`); a confirmed one from before tickets existed
    /// gets them now.
    pub async fn of_booking(&self, actor: &Actor, id: Uuid) -> Result<Vec<Ticket>, DomainError> {
        let mut conn = self.pool.acquire().await?;
        let booking = bookings::find(&mut conn, id)
            .await?
            .ok_or_else(no_booking)?;
        if !actor
            .may_manage(&mut conn, booking.chain_id, booking.user_id)
            .await?
        {
            return Err(no_booking());
        }
        let tickets = db::of_booking(&mut conn, booking.chain_id, id).await?;
        drop(conn);
        if !tickets.is_empty() || booking.status != BookingStatus::Confirmed {
            return Ok(tickets);
        }
        // Confirmed before migration 0018: issued under the booking's row lock, so a
        // cancellation meanwhile either comes first (nothing issued) or voids them after.
        let mut tx = self.pool.begin().await?;
        let locked = bookings::lock(&mut tx, booking.chain_id, id)
            .await?
            .ok_or_else(no_booking)?;
        if locked.booking.status != BookingStatus::Confirmed {
            return Ok(Vec::new());
        }
        let tickets = issue(&mut tx, &self.issuer, &locked.booking).await?;
        tx.commit().await?;
        Ok(tickets)
    }

    /// A ticket for its QR image: to whoever presents its code, or may see its booking.
    /// Neither a code nor a caller: unauthenticated; anything else: not found.
    pub async fn for_image(
        &self,
        actor: Option<&Actor>,
        id: Uuid,
        presented: Option<&str>,
    ) -> Result<Ticket, DomainError> {
        let mut conn = self.pool.acquire().await?;
        let ticket = db::find(&mut conn, id).await?;
        if let (Some(t), Some(code)) = (&ticket, presented)
            && t.code == code
        {
            return ticket.ok_or_else(no_ticket);
        }
        let Some(actor) = actor else {
            return Err(if presented.is_some() {
                no_ticket()
            } else {
                DomainError::Unauthenticated("sign in, or give the ticket's code".into())
            });
        };
        let ticket = ticket.ok_or_else(no_ticket)?;
        let booking = bookings::find(&mut conn, ticket.booking_id)
            .await?
            .ok_or_else(no_ticket)?;
        if actor
            .may_manage(&mut conn, booking.chain_id, booking.user_id)
            .await?
        {
            Ok(ticket)
        } else {
            Err(no_ticket())
        }
    }

    /// The chain's public keys a scanner verifies codes with: the active one (made now if
    /// the chain has none) and retired ones still valid. Anyone may ask; unknown chain: 404.
    pub async fn public_keys(&self, chain: Uuid) -> Result<Vec<PublicKey>, DomainError> {
        let mut tx = self.pool.begin().await?;
        if crate::db::chains::find(&mut tx, chain).await?.is_none() {
            return Err(DomainError::NotFound("no such chain".into()));
        }
        self.issuer.keys.active(&mut tx, chain).await?;
        let rows = crate::db::ticket_keys::usable_keys(&mut tx, chain).await?;
        tx.commit().await?;
        rows.iter().map(PublicKey::from_row).collect()
    }

    /// Rotates the chain's key: new tickets are signed with a new one; the old one verifies
    /// until the last show it has valid tickets for ends.
    pub async fn rotate(&self, access: &ChainAccess) -> Result<PublicKey, DomainError> {
        let mut tx = self.pool.begin().await?;
        let key = self.issuer.keys.rotate(&mut tx, access.chain()).await?;
        tx.commit().await?;
        Ok(key)
    }
}
