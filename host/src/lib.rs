//! Cineflow: a cinema booking backend whose booking rules, pricing and email templates run
//! as sandboxed WebAssembly components that each theatre chain can replace.
//!
//! Arrows point one way: `http` → `domain` → `db` / `plugins`.

/// Launch seam: build (database, components, listener), then serve until shutdown.
pub mod app;
/// Passwords (argon2id, bounded), access tokens (JWT), signin and signup limits.
pub mod auth;
/// The bootstrap admin from configuration.
pub mod bootstrap;
/// Command-line interface (clap): every flag with its environment variable.
pub mod cli;
/// `cineflow component new`: a starter crate for a hook, from `host/templates/component-new`.
pub mod component_new;
/// `cineflow component run|test|new`: the tools for component authors and their exit codes.
pub mod component_run;
/// Validated configuration built from the command line.
pub mod config;
/// PostgreSQL: pool, migrations, and the SQL of each table.
pub mod db;
/// The platform's default components, loaded at start-up.
pub mod defaults;
/// Demo data for the README's run command.
pub mod demo;
/// The host's own vocabulary: types shared by the layers.
pub mod domain;
/// Payment providers behind one trait, and the test gateway.
pub mod gateway;
/// Periodic clean-up: expired idempotency keys and ended limit windows.
pub mod housekeeping;
/// The HTTP API (axum), problem+json errors, OpenAPI.
pub mod http;
/// A private PostgreSQL cluster for local runs without `DATABASE_URL`.
pub mod localdb;
/// Email: the outbox sweeper, templates with a built-in fallback, SMTP delivery.
pub mod mail;
/// WebAssembly components: the runtime (engine, sandbox limits, hooks) and the chains' own
/// (bindings with their policy and breaker, upload fixtures, dry runs, call statistics).
pub mod plugins;
/// `cineflow remote`: the command-line client of a running server.
pub mod remote;
/// Screens' seat maps, cached (seats never change).
pub mod seat_maps;
/// Show contexts, cached on every replica and invalidated through LISTEN/NOTIFY.
pub mod show_contexts;
/// SIGTERM/SIGINT.
pub mod shutdown;
/// State shared by all handlers.
pub mod state;
/// Logging and metrics.
pub mod telemetry;
/// `cineflow ticket verify`: a ticket code checked offline against a chain's public keys.
pub mod ticket_verify;
/// The outbound HTTP client of webhooks: address checks after resolution, no redirects.
pub mod webhook_client;
