//! Domain types: the host's own vocabulary, independent of HTTP, SQL and WIT.

pub mod access;
pub mod hook_io;
pub mod types;
