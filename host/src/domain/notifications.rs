//! Free-form emails queued by admins and other services (the original NotificationService's
//! API), and the admin's view of the outbox. Delivery is the sweeper's (`crate::mail`).

use sqlx::PgPool;
use uuid::Uuid;

use super::types::NotificationStatus;
use super::{Actor, DomainError};
use crate::db::{self, outbox};

pub use crate::db::outbox::Notification;

/// Who queues an email: an admin, or another service presenting the service token.
#[derive(Debug, Clone, Copy)]
pub enum Sender {
    /// A service with `CINEFLOW_SERVICE_TOKEN`.
    Service,
    /// An admin.
    Admin(Uuid),
}

impl Sender {
    /// Keys are per sender: two senders never see each other's notifications.
    fn dedupe_key(self, key: &str) -> String {
        match self {
            Sender::Service => format!("api:service:{key}"),
            Sender::Admin(id) => format!("api:{id}:{key}"),
        }
    }
}

/// A free-form email, checked at the edge.
#[derive(Debug)]
pub struct CustomEmail {
    /// One line.
    pub subject: String,
    /// Plain text.
    pub content: String,
    /// Distinct, normalised addresses.
    pub recipients: Vec<String>,
}

/// The notifications service.
#[derive(Clone)]
pub struct Notifications {
    pool: PgPool,
}

impl Notifications {
    /// The service over its pool.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Queues `email`. With an idempotency `key` the same key again returns the first
    /// notification (`false`: nothing new was queued), and a different email under a used
    /// key is refused.
    pub async fn queue(
        &self,
        sender: Sender,
        key: Option<&str>,
        email: &CustomEmail,
    ) -> Result<(Notification, bool), DomainError> {
        let dedupe = key.map(|k| sender.dedupe_key(k));
        let mut conn = self.pool.acquire().await?;
        let (row, created) = outbox::insert_custom(
            &mut conn,
            &email.subject,
            &email.content,
            &email.recipients,
            dedupe.as_deref(),
        )
        .await?;
        if !created {
            let same = row.subject.as_deref() == Some(email.subject.as_str())
                && row.fields.get("content").and_then(|c| c.as_str())
                    == Some(email.content.as_str())
                && row.recipient_emails == email.recipients;
            if !same {
                return Err(DomainError::IdempotencyKeyReused(
                    "this Idempotency-Key was used for a different notification".into(),
                ));
            }
        }
        Ok((row, created))
    }

    /// A page of notifications in queue order, optionally of one status.
    pub async fn list(
        &self,
        status: Option<NotificationStatus>,
        after: Option<Uuid>,
        fetch: i64,
    ) -> Result<Vec<Notification>, DomainError> {
        let mut conn = self.pool.acquire().await?;
        Ok(outbox::list(&mut conn, status, None, after, fetch).await?)
    }

    /// One chain's notifications, for its staff (an owner on its staff, or an admin); to
    /// anyone else the chain has none to show (404, as for every chain sub-resource).
    pub async fn list_of_chain(
        &self,
        actor: &Actor,
        chain: Uuid,
        status: Option<NotificationStatus>,
        after: Option<Uuid>,
        fetch: i64,
    ) -> Result<Vec<Notification>, DomainError> {
        let mut conn = self.pool.acquire().await?;
        let allowed = actor.is_admin()
            || (actor.is_owner() && db::chains::is_member(&mut conn, chain, actor.id()).await?);
        if !allowed {
            return Err(DomainError::NotFound("no such chain".into()));
        }
        Ok(outbox::list(&mut conn, status, Some(chain), after, fetch).await?)
    }

    /// One notification.
    pub async fn find(&self, id: Uuid) -> Result<Notification, DomainError> {
        let mut conn = self.pool.acquire().await?;
        outbox::find(&mut conn, id).await?.ok_or_else(not_found)
    }

    /// Sends a failed notification again (pending, due now, attempts back to 0). Admins may
    /// retry any; an owner the notifications of a chain they belong to. To anyone else it
    /// does not exist (404), whatever its state; a notification that is not `failed` is
    /// refused with its status.
    pub async fn retry(&self, actor: &Actor, id: Uuid) -> Result<Notification, DomainError> {
        let mut conn = self.pool.acquire().await?;
        let row = outbox::find(&mut conn, id).await?.ok_or_else(not_found)?;
        if !may_manage(&mut conn, actor, &row).await? {
            return Err(not_found());
        }
        if let Some(retried) = outbox::retry_failed(&mut conn, id).await? {
            return Ok(retried);
        }
        // Not failed: either it never was, or a retry (or a sweeper) moved it meanwhile.
        let now = outbox::find(&mut conn, id).await?.ok_or_else(not_found)?;
        Err(DomainError::NotificationNotFailed(format!(
            "only a failed notification can be retried; this one is {}",
            now.status.as_str()
        )))
    }
}

/// Whether the actor may act on the notification: an admin, or an approved owner who is a
/// member of its chain. Platform mail (no chain) is the admins' alone.
async fn may_manage(
    conn: &mut sqlx::PgConnection,
    actor: &Actor,
    n: &Notification,
) -> Result<bool, DomainError> {
    if actor.is_admin() {
        return Ok(true);
    }
    match n.chain_id {
        Some(chain) if actor.is_owner() => {
            Ok(db::chains::is_member(conn, chain, actor.id()).await?)
        }
        _ => Ok(false),
    }
}

fn not_found() -> DomainError {
    DomainError::NotFound("no such notification".into())
}
