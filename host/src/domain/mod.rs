//! The domain: the rules of the business, independent of HTTP. Each area is a service with
//! narrow dependencies (a pool, the component registry, a cache, the gateway), taking an
//! [`Actor`] and parsed commands and answering with domain values or a [`DomainError`].
//! `http` calls these; these call `db` (SQL) and `plugins` (components).

pub mod access;
pub mod accounts;
pub mod actor;
pub mod bookings;
pub mod catalogue;
pub mod chains;
pub mod components;
pub mod error;
pub mod gift_cards;
pub mod health;
pub mod hook_io;
pub mod idempotency;
pub mod live_seats;
pub mod notifications;
pub mod reports;
pub mod runs;
pub mod tickets;
pub mod types;
pub mod vouchers;
pub mod waitlist;
pub mod webhooks;

pub use actor::{Actor, ChainAccess};
pub use error::DomainError;
