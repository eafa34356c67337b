//! The first admin comes from configuration (`CINEFLOW_ADMIN_EMAIL` and
//! `CINEFLOW_ADMIN_PASSWORD`), never from signup.

use anyhow::Context;
use sqlx::PgPool;

use crate::auth::Passwords;
use crate::db::users;
use crate::domain::types::{Email, Password};

/// Creates the admin, or makes the existing account an approved admin with this password.
pub async fn admin(
    pool: &PgPool,
    passwords: &Passwords,
    email: &str,
    password: &str,
) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("CINEFLOW_ADMIN_EMAIL {e}"))?;
    let password =
        Password::parse(password).map_err(|e| anyhow::anyhow!("CINEFLOW_ADMIN_PASSWORD {e}"))?;
    let mut conn = pool.acquire().await?;
    // Keep the stored hash when the password did not change, so existing tokens stay valid
    // across restarts.
    let existing = users::find_credentials(&mut conn, email.as_str()).await?;
    let hash = match existing {
        Some((_, hash))
            if passwords
                .verify(password.expose().to_owned(), hash.clone())
                .await? =>
        {
            hash
        }
        _ => passwords.hash(password.expose().to_owned()).await?,
    };
    let admin = users::upsert_admin(&mut conn, email.as_str(), &hash)
        .await
        .context("creating the bootstrap admin")?;
    tracing::info!(email = %admin.email, "bootstrap admin ready");
    Ok(())
}
