//! The state every handler shares.

use std::sync::Arc;

use sqlx::PgPool;

use crate::auth::Passwords;
use crate::defaults::PlatformDefaults;
use crate::plugins::PluginRuntime;

/// Shared by every request; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: PgPool,
    /// Where browsing reads go: the read replica while it answers, else the primary. Only
    /// `/readyz` looks at it here; the domain services that browse hold their own clone.
    pub reads: crate::db::ReadPool,
    /// The component runtime.
    pub plugins: Arc<PluginRuntime>,
    /// The platform's default component per hook.
    pub defaults: Arc<PlatformDefaults>,
    /// Which component serves each chain's hook (bindings, fallback, breaker, stats).
    pub components: Arc<crate::plugins::ComponentRegistry>,
    /// Holds, payments, cancellations and booking reads.
    pub bookings: crate::domain::bookings::Bookings,
    /// Gift cards: issue, staff reads, balance by code.
    pub gift_cards: crate::domain::gift_cards::GiftCards,
    /// Waiting lists of sold-out shows and the offers of freed seats.
    pub waitlist: crate::domain::waitlist::Waitlist,
    /// Signup, signin, tokens, passwords and the admin's user management.
    pub accounts: crate::domain::accounts::Accounts,
    /// Theatre chains and their staff.
    pub chains: crate::domain::chains::Chains,
    /// A chain's own components: uploads, bindings, dry runs, statistics, trail.
    pub chain_components: crate::domain::components::ChainComponents,
    /// The run log, replays and shadows.
    pub runs: crate::domain::runs::Runs,
    /// Free-form emails and the outbox as admins see it.
    pub notifications: crate::domain::notifications::Notifications,
    /// The `Idempotency-Key` store.
    pub idempotency: crate::domain::idempotency::Idempotency,
    /// The bounded password hasher (shared with `accounts`; kept here so that its slots can be
    /// inspected).
    pub passwords: Passwords,
    /// Each show's seat states in memory, kept true from every replica's writes.
    pub live_seats: Arc<crate::domain::live_seats::LiveSeats>,
    /// Movies, theatres, screens and the schedule of shows.
    pub catalogue: crate::domain::catalogue::Catalogue,
    /// Vouchers: the chain staff's codes and their redemptions.
    pub vouchers: crate::domain::vouchers::Vouchers,
    /// The chain reports: shows with occupancy and takings, sales per day.
    pub reports: crate::domain::reports::Reports,
    /// Signed tickets, their keys and check-in.
    pub tickets: crate::domain::tickets::Tickets,
    /// Webhooks: a chain's endpoints and their deliveries.
    pub webhooks: crate::domain::webhooks::Webhooks,
    /// Bearer token other services use to queue emails (`POST /notifications`).
    pub service_token: Option<Arc<str>>,
    /// Domain of the sender address (the right-hand side of every Message-ID).
    pub mail_domain: Arc<str>,
    /// Whether console session cookies get `Secure` (the public URL is https).
    pub secure_cookies: bool,
}

/// Settings of the catalogue rules.
#[derive(Debug, Clone, Copy)]
pub struct CatalogueSettings {
    /// Gap a screen needs between the end of one show and the start of the next.
    pub cleaning_buffer: std::time::Duration,
}
