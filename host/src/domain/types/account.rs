//! An account as the domain sees it (the password hash never leaves the `db` layer).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{AccountStatus, Role};

/// A user.
#[derive(Debug, Clone)]
pub struct User {
    /// Id.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// Lowercased email.
    pub email: String,
    /// Role.
    pub role: Role,
    /// Whether the account may act in its role.
    pub status: AccountStatus,
    /// Current token version.
    pub token_version: i32,
    /// Created.
    pub created_at: DateTime<Utc>,
}
