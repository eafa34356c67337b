//! The state every handler shares.

use std::sync::Arc;

use sqlx::PgPool;

use crate::defaults::PlatformDefaults;
use crate::plugins::PluginRuntime;

/// Shared by every request; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: PgPool,
    /// The component runtime.
    pub plugins: Arc<PluginRuntime>,
    /// The platform's default component per hook.
    pub defaults: Arc<PlatformDefaults>,
}
