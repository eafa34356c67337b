//! Theatre chains and their staff: creating a chain (its creator becomes its first member),
//! and adding approved owners to a chain's staff.

use sqlx::PgPool;
use uuid::Uuid;

use super::types::{AccountStatus, Currency, Role};
use super::{Actor, DomainError};
use crate::db::{chains, users};

pub use crate::db::chains::{Chain, Member};

/// The chains service.
#[derive(Clone)]
pub struct Chains {
    pool: PgPool,
}

/// A new chain, parsed at the edge.
#[derive(Debug)]
pub struct NewChainCommand {
    /// Trimmed display name, 1 to 100 characters (unique).
    pub name: String,
    /// Every price of the chain is in it.
    pub currency: Currency,
    /// IANA time zone of the chain's theatres.
    pub timezone: String,
}

impl Chains {
    /// The service over its pool.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Creates a chain with the actor (chain staff or an admin) as its first member.
    pub async fn create(&self, actor: &Actor, cmd: NewChainCommand) -> Result<Chain, DomainError> {
        if !actor.is_staff() {
            return Err(DomainError::Forbidden(
                "this needs a theatre chain's staff account".into(),
            ));
        }
        let mut tx = self.pool.begin().await?;
        let chain = chains::insert(
            &mut tx,
            &cmd.name,
            cmd.currency.as_str(),
            &cmd.timezone,
            actor.id(),
        )
        .await
        .map_err(|e| {
            if super::error::is_constraint(&e, "chains_name_key") {
                DomainError::ChainNameTaken
            } else {
                e.into()
            }
        })?;
        tx.commit().await?;
        Ok(chain)
    }

    /// A page of chains in id order (public).
    pub async fn list(&self, after: Option<Uuid>, fetch: i64) -> Result<Vec<Chain>, DomainError> {
        let mut conn = self.pool.acquire().await?;
        Ok(chains::list(&mut conn, after, fetch).await?)
    }

    /// The chains `actor` may run: every chain for an admin, the chains whose staff an
    /// approved owner is, none for anyone else.
    pub async fn list_run_by(
        &self,
        actor: &Actor,
        after: Option<Uuid>,
        fetch: i64,
    ) -> Result<Vec<Chain>, DomainError> {
        let user = actor.user();
        if crate::domain::access::is_admin(user) {
            return self.list(after, fetch).await;
        }
        if !crate::domain::access::is_staff(user) {
            return Ok(Vec::new());
        }
        let mut conn = self.pool.acquire().await?;
        Ok(chains::list_of_member(&mut conn, user.id, after, fetch).await?)
    }

    /// One chain (public).
    pub async fn find(&self, id: Uuid) -> Result<Chain, DomainError> {
        let mut conn = self.pool.acquire().await?;
        chains::find(&mut conn, id)
            .await?
            .ok_or_else(|| DomainError::NotFound("no such chain".into()))
    }

    /// Adds an approved owner to the chain's staff (its members and admins may). Returns the
    /// new member as the list shows them.
    pub async fn add_member(
        &self,
        actor: &Actor,
        chain: Uuid,
        user: Uuid,
    ) -> Result<Member, DomainError> {
        let mut conn = self.pool.acquire().await?;
        chains::find(&mut conn, chain)
            .await?
            .ok_or_else(|| DomainError::NotFound("no such chain".into()))?;
        actor.require_member(&mut conn, chain).await?;
        match users::find(&mut conn, user).await? {
            Some(m) if m.role == Role::Owner && m.status == AccountStatus::Approved => {
                chains::add_member(&mut conn, chain, m.id).await?;
                Ok(Member {
                    user_id: m.id,
                    name: m.name,
                    email: m.email,
                    added_at: chrono::Utc::now(),
                })
            }
            _ => Err(DomainError::invalid("user_id", "must be an approved owner")),
        }
    }

    /// A page of the chain's staff in user-id order (its members and admins).
    pub async fn members(
        &self,
        actor: &Actor,
        chain: Uuid,
        after: Option<Uuid>,
        fetch: i64,
    ) -> Result<Vec<Member>, DomainError> {
        let mut conn = self.pool.acquire().await?;
        // A chain that does not exist is "not found" here too: an admin's check looks it up,
        // and nobody is a member of it.
        actor.require_member(&mut conn, chain).await?;
        Ok(chains::members(&mut conn, chain, after, fetch).await?)
    }
}
