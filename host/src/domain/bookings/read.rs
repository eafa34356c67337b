//! What an actor may read of bookings: one booking, pages of them, their audit trails.

use uuid::Uuid;

use super::Bookings;
use crate::db::audit::{self, AuditEntry};
use crate::db::bookings::{self, Booking, BookingFilter};
use crate::domain::types::{BookingId, BookingStatus, ChainId, Email, PaymentId};
use crate::domain::{Actor, DomainError};

/// Which bookings a listing asks for; what it may see is the actor's.
#[derive(Debug, Default, Clone)]
pub struct BookingListFilter {
    /// Admins: one customer's bookings (chain staff: within their chain).
    pub user_id: Option<Uuid>,
    /// Chain staff and admins: one chain's bookings.
    pub chain_id: Option<Uuid>,
    /// Only this recorded status.
    pub status: Option<BookingStatus>,
    /// Admins, and chain staff with `chain_id`: the bookings of the customer with this email.
    pub email: Option<Email>,
    /// Only this show's bookings (of those the actor may see).
    pub show_id: Option<Uuid>,
}

/// A page of audit entries (ascending id; `fetch` is one more than the page to tell if
/// there is a next one).
pub type AuditPage = Vec<AuditEntry>;

fn no_booking() -> DomainError {
    DomainError::NotFound("no such booking".into())
}

impl Bookings {
    /// A page of the bookings the actor may see: their own; with a chain, that chain's (its
    /// staff); admins see every booking. `show_id` narrows any of these. `email` searches
    /// customers, so it is for admins and for staff within their chain (`chain_id`): anyone
    /// else giving it is told so (it would only ever match their own bookings).
    pub async fn list(
        &self,
        actor: &Actor,
        wanted: BookingListFilter,
        after: Option<Uuid>,
        fetch: i64,
    ) -> Result<Vec<Booking>, DomainError> {
        let mut conn = self.pool.acquire().await?;
        let email = wanted.email.map(|e| e.as_str().to_owned());
        let filter = if actor.is_admin() {
            BookingFilter {
                user_id: wanted.user_id,
                chain_id: wanted.chain_id,
                status: wanted.status,
                email,
                show_id: wanted.show_id,
            }
        } else if let Some(chain) = wanted.chain_id {
            if !actor.is_owner() {
                return Err(DomainError::NotFound("no such chain".into()));
            }
            actor.require_member(&mut conn, chain).await?;
            BookingFilter {
                user_id: wanted.user_id,
                chain_id: Some(chain),
                status: wanted.status,
                email,
                show_id: wanted.show_id,
            }
        } else {
            if email.is_some() {
                return Err(DomainError::invalid(
                    "email",
                    "searching by email needs chain_id (a chain's staff) or an admin",
                ));
            }
            BookingFilter {
                user_id: Some(actor.id()),
                chain_id: None,
                status: wanted.status,
                email: None,
                show_id: wanted.show_id,
            }
        };
        Ok(bookings::list(&mut conn, &filter, after, fetch).await?)
    }

    /// One booking, if the actor is its customer, its chain's staff or an admin.
    pub async fn visible(&self, actor: &Actor, id: BookingId) -> Result<Booking, DomainError> {
        let id = id.as_uuid();
        let mut conn = self.pool.acquire().await?;
        let booking = bookings::find(&mut conn, id)
            .await?
            .ok_or_else(no_booking)?;
        if actor
            .may_manage(&mut conn, booking.chain_id, booking.user_id)
            .await?
        {
            Ok(booking)
        } else {
            Err(no_booking())
        }
    }

    /// The decisions behind a booking, each with the exact input its component was given and
    /// its answer (its customer, its chain's staff and admins).
    pub async fn receipt(
        &self,
        actor: &Actor,
        id: BookingId,
    ) -> Result<(Booking, Vec<audit::ReceiptDecision>), DomainError> {
        let booking = self.visible(actor, id).await?;
        let mut conn = self.pool.acquire().await?;
        let decisions = audit::receipt(&mut conn, booking.chain_id, booking.id).await?;
        Ok((booking, decisions))
    }

    /// A booking's trail, oldest first (its chain's staff and admins).
    pub async fn audit_of_booking(
        &self,
        actor: &Actor,
        id: BookingId,
    ) -> Result<Vec<AuditEntry>, DomainError> {
        let id = id.as_uuid();
        let mut conn = self.pool.acquire().await?;
        let booking = bookings::find(&mut conn, id)
            .await?
            .ok_or_else(no_booking)?;
        if !actor.is_staff() {
            return Err(no_booking());
        }
        actor.require_member(&mut conn, booking.chain_id).await?;
        Ok(audit::of_booking(&mut conn, booking.chain_id, id).await?)
    }

    /// A page of the chain's trail (the caller is chain staff or an admin).
    pub async fn audit_of_chain(
        &self,
        actor: &Actor,
        chain: ChainId,
        after: Option<Uuid>,
        fetch: i64,
    ) -> Result<AuditPage, DomainError> {
        let chain = chain.as_uuid();
        let mut conn = self.pool.acquire().await?;
        actor.require_member(&mut conn, chain).await?;
        Ok(audit::of_chain(&mut conn, chain, after, fetch).await?)
    }
}

fn no_payment() -> DomainError {
    DomainError::NotFound("no such payment".into())
}

impl Bookings {
    /// A page of the payments the actor may see: their own; with a chain, that chain's (its
    /// staff); admins see all, or one chain's.
    pub async fn payments(
        &self,
        actor: &Actor,
        chain: Option<Uuid>,
        after: Option<Uuid>,
        fetch: i64,
    ) -> Result<Vec<crate::db::payments::Payment>, DomainError> {
        let mut conn = self.pool.acquire().await?;
        let (by_user, by_chain) = match chain {
            chain if actor.is_admin() => (None, chain),
            Some(chain) if actor.is_owner() => {
                actor.require_member(&mut conn, chain).await?;
                (None, Some(chain))
            }
            Some(_) => return Err(DomainError::NotFound("no such chain".into())),
            None => (Some(actor.id()), None),
        };
        Ok(crate::db::payments::list(&mut conn, by_user, by_chain, after, fetch).await?)
    }

    /// One payment, if the actor made it, is its chain's staff or an admin.
    pub async fn payment(
        &self,
        actor: &Actor,
        id: PaymentId,
    ) -> Result<crate::db::payments::Payment, DomainError> {
        let id = id.as_uuid();
        let mut conn = self.pool.acquire().await?;
        let payment = crate::db::payments::find(&mut conn, id)
            .await?
            .ok_or_else(no_payment)?;
        if actor
            .may_manage(&mut conn, payment.chain_id, payment.user_id)
            .await?
        {
            Ok(payment)
        } else {
            Err(no_payment())
        }
    }
}
