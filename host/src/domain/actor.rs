//! Who is asking. Every use case takes an [`Actor`], and every authorisation question is asked
//! of it here or in [`super::access`], never in a handler.

use sqlx::PgConnection;
use uuid::Uuid;

use super::DomainError;
use super::access;
use super::types::User;
use crate::db;

/// The signed-in account a use case acts for.
#[derive(Debug, Clone)]
pub struct Actor {
    user: User,
}

impl Actor {
    /// The account, already authenticated by the caller (a token checked at the edge).
    pub fn new(user: User) -> Self {
        Self { user }
    }

    /// The account.
    pub fn user(&self) -> &User {
        &self.user
    }

    /// The account, by value.
    pub fn into_user(self) -> User {
        self.user
    }

    /// Its id.
    pub fn id(&self) -> Uuid {
        self.user.id
    }

    /// An approved admin.
    pub fn is_admin(&self) -> bool {
        access::is_admin(&self.user)
    }

    /// An approved owner (chain staff; which chains is asked per resource).
    pub fn is_owner(&self) -> bool {
        access::is_owner(&self.user)
    }

    /// Chain staff or an admin.
    pub fn is_staff(&self) -> bool {
        access::is_staff(&self.user)
    }

    /// Only approved accounts book.
    pub fn require_approved(&self) -> Result<(), DomainError> {
        if self.user.status == super::types::AccountStatus::Approved {
            Ok(())
        } else {
            Err(DomainError::Forbidden(
                "your account is not approved".into(),
            ))
        }
    }

    /// Whether the actor may act for `chain`: an admin (for a chain that exists), or one of its
    /// members. Anyone else learns nothing: the chain is "not found" to them.
    pub async fn require_member(
        &self,
        conn: &mut PgConnection,
        chain: Uuid,
    ) -> Result<(), DomainError> {
        if self.is_admin() {
            return match db::chains::find(conn, chain).await? {
                Some(_) => Ok(()),
                None => Err(DomainError::NotFound("no such chain".into())),
            };
        }
        if db::chains::is_member(conn, chain, self.user.id).await? {
            Ok(())
        } else {
            Err(DomainError::NotFound("no such resource".into()))
        }
    }

    /// Whether the actor may act on a chain's customer-facing resource as its customer
    /// (`owner` is the customer's id), its chain's staff or an admin.
    pub async fn may_manage(
        &self,
        conn: &mut PgConnection,
        chain: Uuid,
        owner: Uuid,
    ) -> Result<bool, DomainError> {
        if owner == self.user.id || self.is_admin() {
            return Ok(true);
        }
        if self.is_owner() {
            return Ok(db::chains::is_member(conn, chain, self.user.id).await?);
        }
        Ok(false)
    }
}

/// Proof that an actor may act for a chain: one of its members, or an admin (for a chain that
/// exists). Only [`Actor::member_of`] makes one, so a use case taking a `ChainAccess` cannot
/// be reached without the question having been asked, and the edge decides only *when* it is
/// asked (before parsing the rest of a request, so that another chain's resources are "not
/// found" whatever else is wrong with the request).
#[derive(Debug, Clone)]
pub struct ChainAccess {
    actor: Actor,
    chain: Uuid,
}

impl ChainAccess {
    /// Who.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// For which chain.
    pub fn chain(&self) -> Uuid {
        self.chain
    }
}

impl Actor {
    /// [`Actor::require_member`], answered with the proof.
    pub async fn member_of(
        &self,
        conn: &mut PgConnection,
        chain: Uuid,
    ) -> Result<ChainAccess, DomainError> {
        self.require_member(conn, chain).await?;
        Ok(ChainAccess {
            actor: self.clone(),
            chain,
        })
    }
}
