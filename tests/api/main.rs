//! Integration tests of the `cineflow` host: one binary so wasmtime is linked once.
//!
//! Needs `DATABASE_URL` (a server where the role may create databases; each test gets a
//! fresh one through `#[sqlx::test]`) and the components built by
//! `scripts/build-components.sh` (the README's test command does both).

mod support;

mod accounts;
mod authors;
mod binary;
mod booking_components;
mod booking_failures;
mod bookings;
mod catalogue;
mod chains;
mod checkins;
mod compat;
mod compat_0_3;
mod component_cli;
mod components;
mod confidence;
mod console;
mod default_components;
mod demo;
mod edge;
mod gift_cards;
mod guide_walkthrough;
mod hostile_components;
mod isolation;
mod isolation_review;
mod mail;
mod notifications;
mod ops;
mod oversell;
mod partial_cancel;
mod payments;
mod remote_cli;
mod reports;
mod scale_bounds;
mod screens_shows;
mod seat_maps;
mod seat_picker;
mod seed_defect_edges;
mod seed_defects;
mod tickets;
mod vouchers;
mod waitlist;
mod webhooks;
