//! The state every handler shares.

use std::sync::Arc;

use sqlx::PgPool;

use crate::auth::{AuthKeys, AuthLimits, Passwords};
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
    /// Which component serves each chain's hook (bindings, fallback, breaker, stats).
    pub components: Arc<crate::plugins::ComponentRegistry>,
    /// Holds, payments, cancellations and booking reads.
    pub bookings: crate::domain::bookings::Bookings,
    /// Token keys.
    pub auth: AuthKeys,
    /// Signin and signup limits (counted in the database, shared by every replica).
    pub auth_limits: AuthLimits,
    /// The bounded password hasher.
    pub passwords: Passwords,
    /// Movies, theatres, screens and the schedule of shows.
    pub catalogue: crate::domain::catalogue::Catalogue,
    /// The payment provider.
    pub gateway: Arc<dyn crate::gateway::PaymentGateway>,
    /// Cached seat maps.
    pub seat_maps: Arc<crate::seat_maps::SeatMaps>,
    /// Bearer token other services use to queue emails (`POST /notifications`).
    pub service_token: Option<Arc<str>>,
    /// Domain of the sender address (the right-hand side of every Message-ID).
    pub mail_domain: Arc<str>,
    /// The longest a request runs before it is cut off (`CINEFLOW_REQUEST_TIMEOUT_MS`); an
    /// `Idempotency-Key` whose request has been running longer was abandoned.
    pub request_timeout: std::time::Duration,
}

/// Settings of the catalogue rules.
#[derive(Debug, Clone, Copy)]
pub struct CatalogueSettings {
    /// Gap a screen needs between the end of one show and the start of the next.
    pub cleaning_buffer: std::time::Duration,
}
