//! Email: the outbox sweeper, rendering through the chain's notify-templates component with
//! a built-in fallback, and SMTP delivery.

pub mod builtin;
pub mod render;
pub mod smtp;
pub mod sweeper;

pub use smtp::{Mailer, SmtpSettings};
pub use sweeper::{SweepReport, SweepSettings, Sweeper};
