//! The domain: the rules of the business, independent of HTTP. Each area is a service with
//! narrow dependencies (a pool, the component registry, a cache, the gateway), taking an
//! [`Actor`] and parsed commands and answering with domain values or a [`DomainError`].
//! `http` calls these; these call `db` (SQL) and `plugins` (components).

pub mod access;
pub mod actor;
pub mod bookings;
pub mod catalogue;
pub mod error;
pub mod hook_io;
pub mod types;

pub use actor::Actor;
pub use error::DomainError;
