//! Accounts: signup (customers approved at once, owners waiting for an admin), signin and the
//! tokens it issues, who a token stands for, password changes, and the admin's management of
//! users with its two rules: approving an account emails its owner, and no change may leave
//! the platform without an approved admin.

use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;

use super::hook_io::EventKind;
use super::types::{AccountStatus, Email, Password, Role, User};
use super::{Actor, ChainAccess, DomainError, access};
use crate::auth::{AuthKeys, AuthLimits, Passwords};
use crate::db::outbox::{self, OutboxEvent};
use crate::db::users::{self, NewUser};

pub use crate::db::users::UserFilter;

/// The longest address [`Email`] accepts (RFC 5321's path limit): a longer one names no
/// account, so signin refuses it before any work.
const MAX_EMAIL_BYTES: usize = 254;

/// The accounts service.
#[derive(Clone)]
pub struct Accounts {
    pool: PgPool,
    passwords: Passwords,
    keys: AuthKeys,
    limits: AuthLimits,
}

/// A signup, parsed at the edge.
#[derive(Debug)]
pub struct SignupCommand {
    /// Trimmed display name, 1 to 100 characters.
    pub name: String,
    /// The address.
    pub email: Email,
    /// A password that passed the strength rules.
    pub password: Password,
    /// `Customer` or `Owner` (nobody signs up as admin).
    pub role: Role,
}

/// A successful signin.
#[derive(Debug)]
pub struct SignedIn {
    /// The bearer token.
    pub token: String,
    /// How long it is valid.
    pub expires_in: Duration,
    /// Who signed in.
    pub user: User,
}

impl Accounts {
    /// The service over its dependencies.
    pub fn new(pool: PgPool, passwords: Passwords, keys: AuthKeys, limits: AuthLimits) -> Self {
        Self {
            pool,
            passwords,
            keys,
            limits,
        }
    }

    /// Counts a signup against the client address's budget (`client` is its limiter key), or
    /// refuses it. Asked first, before the request is even parsed: a flood of malformed
    /// signups spends the budget like any other.
    pub async fn admit_signup(&self, client: &str) -> Result<(), DomainError> {
        Ok(self.limits.check_signup(&self.pool, client).await?)
    }

    /// Creates an account (after [`Self::admit_signup`]); password hashing is bounded per
    /// replica.
    pub async fn signup(&self, cmd: SignupCommand) -> Result<User, DomainError> {
        if cmd.role == Role::Admin {
            return Err(DomainError::invalid(
                "role",
                "admins are created by other admins, not by signup",
            ));
        }
        let hash = self
            .passwords
            .hash(cmd.password.expose().to_owned())
            .await?;
        let status = if cmd.role == Role::Customer {
            AccountStatus::Approved
        } else {
            AccountStatus::Pending
        };
        let mut conn = self.pool.acquire().await?;
        users::insert(
            &mut conn,
            &NewUser {
                name: &cmd.name,
                email: cmd.email.as_str(),
                password_hash: &hash,
                role: cmd.role,
                status,
            },
        )
        .await
        .map_err(|e| {
            if super::error::is_constraint(&e, "users_email_key") {
                DomainError::EmailTaken
            } else {
                e.into()
            }
        })
    }

    /// Exchanges email and password for a token. Unknown email and wrong password get the same
    /// answer after the same work. Failed attempts are limited per client address and per
    /// email (a correct password from an address without failures is not blocked by others'
    /// failures); a rejected account is refused only after its password was verified.
    pub async fn signin(
        &self,
        client: &str,
        email: &str,
        password: String,
    ) -> Result<SignedIn, DomainError> {
        let email = email.trim().to_ascii_lowercase();
        if email.len() > MAX_EMAIL_BYTES {
            // No account has such an address (signup refuses it): nothing to count or check.
            return Err(DomainError::InvalidCredentials);
        }
        let attempt = self.limits.begin_signin(&self.pool, &email, client).await?;
        let found = {
            let mut conn = self.pool.acquire().await?;
            users::find_credentials(&mut conn, &email).await?
        };
        let (user, hash) = found.map_or((None, None), |(u, h)| (Some(u), Some(h)));
        let matches = match self.passwords.verify_or_dummy(password, hash).await {
            Ok(matches) => matches,
            Err(busy) => {
                self.limits.signin_not_failed(&self.pool, attempt).await?;
                return Err(busy.into());
            }
        };
        let Some(user) = user.filter(|_| matches) else {
            self.limits.signin_failed(&self.pool, attempt).await?;
            return Err(DomainError::InvalidCredentials);
        };
        self.limits.signin_not_failed(&self.pool, attempt).await?;
        // Only now, with the password verified: without it, rejected accounts look like any
        // other.
        if !access::may_sign_in(&user) {
            return Err(DomainError::AccountRejected);
        }
        let token = self
            .keys
            .issue(user.id, user.token_version)
            .map_err(|e| DomainError::Internal(format!("issuing a token failed: {e}")))?;
        Ok(SignedIn {
            token,
            expires_in: self.keys.ttl,
            user,
        })
    }

    /// The CSRF token the console must send with every write of the session `token`.
    pub fn csrf_token(&self, token: &str) -> String {
        self.keys.csrf_token(token)
    }

    /// Whether `presented` is the CSRF token of the session `token`.
    pub fn csrf_matches(&self, token: &str, presented: &str) -> bool {
        self.keys.csrf_matches(token, presented)
    }

    /// When a token expires (`None` when it does not verify).
    pub fn token_expiry(&self, token: &str) -> Option<chrono::DateTime<chrono::Utc>> {
        let claims = self.keys.verify(token).ok()?;
        chrono::DateTime::from_timestamp(claims.exp, 0)
    }

    /// How long a token (and so a console session) lasts.
    pub fn token_ttl(&self) -> Duration {
        self.keys.ttl
    }

    /// Who a bearer token stands for: a valid token of a user who still exists and whose
    /// token version matches (a password change revokes every earlier token).
    pub async fn authenticate(&self, token: &str) -> Result<Actor, DomainError> {
        let claims = self.keys.verify(token).map_err(|e| {
            tracing::debug!(error = %e, "token rejected");
            DomainError::Unauthenticated("the token is invalid or expired".into())
        })?;
        let mut conn = self.pool.acquire().await?;
        let user = users::find(&mut conn, claims.sub)
            .await?
            .filter(|u| u.token_version == claims.ver)
            .ok_or_else(|| {
                tracing::debug!(user = %claims.sub, "token revoked or user gone");
                DomainError::Unauthenticated("the token is no longer valid".into())
            })?;
        Ok(Actor::new(user))
    }

    /// Changes the actor's password; every token issued before stops working.
    pub async fn change_password(
        &self,
        actor: &Actor,
        old: String,
        new: Password,
    ) -> Result<(), DomainError> {
        // No connection is held while argon2 runs (or waits for a slot).
        let stored = {
            let mut conn = self.pool.acquire().await?;
            users::password_hash(&mut conn, actor.id())
                .await?
                .unwrap_or_default()
        };
        if !self.passwords.verify(old, stored).await? {
            return Err(DomainError::WrongPassword);
        }
        let hash = self.passwords.hash(new.expose().to_owned()).await?;
        let mut conn = self.pool.acquire().await?;
        users::set_password(&mut conn, actor.id(), &hash).await?;
        Ok(())
    }

    /// A page of users in id order (admins).
    pub async fn list(
        &self,
        actor: &Actor,
        filter: &UserFilter,
        after: Option<Uuid>,
        fetch: i64,
    ) -> Result<Vec<User>, DomainError> {
        require_admin(actor)?;
        let mut conn = self.pool.acquire().await?;
        Ok(users::list(&mut conn, filter, after, fetch).await?)
    }

    /// Changes a user's role and/or status (admins). Approving an account queues its owner's
    /// email in the same transaction; a change that leaves no approved admin is refused (the
    /// admins' rows are locked first, so two concurrent demotions cannot both pass).
    pub async fn update(
        &self,
        actor: &Actor,
        id: Uuid,
        role: Option<Role>,
        status: Option<AccountStatus>,
    ) -> Result<User, DomainError> {
        require_admin(actor)?;
        if role.is_none() && status.is_none() {
            return Err(DomainError::invalid(
                "body",
                "send `role`, `status` or both",
            ));
        }
        let mut tx = self.pool.begin().await?;
        users::lock_admins(&mut tx).await?;
        let no_such_user = || DomainError::NotFound("no such user".into());
        let before = users::find(&mut tx, id).await?.ok_or_else(no_such_user)?;
        let after = users::update_role_status(&mut tx, id, role, status)
            .await?
            .ok_or_else(no_such_user)?;
        if access::is_admin(&before)
            && !access::is_admin(&after)
            && users::approved_admins(&mut tx).await? == 0
        {
            return Err(DomainError::LastAdmin);
        }
        if before.status != AccountStatus::Approved && after.status == AccountStatus::Approved {
            outbox::enqueue(
                &mut tx,
                &OutboxEvent {
                    kind: EventKind::AccountApproved,
                    chain_id: None,
                    recipients: vec![after.email.clone()],
                    fields: vec![
                        ("name", after.name.clone()),
                        ("role", after.role.as_str().to_owned()),
                    ],
                    dedupe_key: None,
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(after)
    }

    /// Whether the actor may act for `chain` ([`Actor::member_of`]), asked with a
    /// connection of its own.
    pub async fn member_of(&self, actor: &Actor, chain: Uuid) -> Result<ChainAccess, DomainError> {
        let mut conn = self.pool.acquire().await?;
        actor.member_of(&mut conn, chain).await
    }
}

fn require_admin(actor: &Actor) -> Result<(), DomainError> {
    if actor.is_admin() {
        Ok(())
    } else {
        Err(DomainError::Forbidden("this needs an admin".into()))
    }
}
