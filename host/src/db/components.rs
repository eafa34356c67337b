//! Table `components` (content-addressed bytes) and `platform_defaults`.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// A stored component.
#[derive(Debug, Clone)]
pub struct StoredComponent {
    /// Lowercase hex sha256.
    pub id: String,
    /// Size in bytes.
    pub size_bytes: i32,
    /// When the bytes were first stored.
    pub uploaded_at: DateTime<Utc>,
}

/// Stores `bytes` under `id` unless they are already there; returns the record.
#[tracing::instrument(skip_all, fields(id))]
pub async fn insert_if_absent(
    conn: &mut PgConnection,
    id: &str,
    bytes: &[u8],
) -> Result<StoredComponent, sqlx::Error> {
    let size = i32::try_from(bytes.len()).unwrap_or(i32::MAX);
    sqlx::query!(
        r#"insert into components (id, bytes, size_bytes) values ($1, $2, $3) on conflict (id) do nothing"#,
        id,
        bytes,
        size,
    )
        .execute(&mut *conn)
        .await?;
    sqlx::query_as!(
        StoredComponent,
        r#"select id, size_bytes, uploaded_at from components where id = $1"#,
        id,
    )
    .fetch_one(&mut *conn)
    .await
}

/// Registers `hook` as one a component can serve (the `hooks` table that `platform_defaults`
/// and `chain_components` refer to); a hook already there is left alone.
#[tracing::instrument(skip_all, fields(hook))]
pub async fn register_hook(conn: &mut PgConnection, hook: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"insert into hooks (name) values ($1) on conflict do nothing"#,
        hook,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Makes `component_id` the platform default of `hook`.
#[tracing::instrument(skip_all, fields(hook, component_id))]
pub async fn set_platform_default(
    conn: &mut PgConnection,
    hook: &str,
    component_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"insert into platform_defaults (hook, component_id) values ($1, $2)
         on conflict (hook) do update set component_id = excluded.component_id
         where platform_defaults.component_id <> excluded.component_id"#,
        hook,
        component_id,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}
