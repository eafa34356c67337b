//! The domain's one error type: why a use case did not happen, in the business's words. The
//! HTTP layer renders each variant once (status and stable `code`, `http/error.rs`); no
//! variant carries an HTTP notion.

use std::time::Duration;

/// Why a use case refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The thing asked for does not exist, or the actor may not know that it does (the
    /// message names what, e.g. "no such booking").
    #[error("{0}")]
    NotFound(String),
    /// The actor is known but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Input that parsed but breaks a rule, by field path.
    #[error("invalid input")]
    Invalid(Vec<(String, String)>),
    /// The show started or was cancelled.
    #[error("the show has started or was cancelled")]
    ShowClosed,
    /// Seats are taken (or blocked); empty when nothing fitting was free.
    #[error("{}", seats_message(.0))]
    SeatUnavailable(Vec<String>),
    /// The chain's seat-picker found nothing that fits an "n seats" request (its reason).
    #[error("{0}")]
    NoSeatsFit(String),
    /// The chain's components refused, with their reason.
    #[error("{0}")]
    RuleViolation(String),
    /// A component failed and the policy is to fail closed.
    #[error("{0}")]
    PluginUnavailable(String),
    /// The chain is over its fair share of component calls; try again after `retry_after`.
    #[error("{message}")]
    PluginBusy {
        /// Why.
        message: String,
        /// When to try again.
        retry_after: Duration,
    },
    /// Payment amount or currency differs from the booking's.
    #[error("{0}")]
    AmountMismatch(String),
    /// The hold ran out.
    #[error("the hold has expired")]
    HoldExpired,
    /// Already paid.
    #[error("the booking is already paid")]
    AlreadyPaid,
    /// Not allowed in the resource's current state.
    #[error("{0}")]
    InvalidState(String),
    /// The card was declined.
    #[error("the payment was declined")]
    PaymentDeclined,
    /// The payment provider failed.
    #[error("{0}")]
    PaymentUnavailable(String),
    /// Another show holds the screen at this time (its runtime plus the cleaning buffer).
    #[error("another show overlaps this time on this screen (runtime plus cleaning buffer)")]
    ScreenBusy,
    /// A show needs the movie on its theatre's now-showing list.
    #[error("the movie is not on this theatre's now-showing list")]
    MovieNotShowing,
    /// The theatre already has a screen of that name.
    #[error("this theatre already has a screen of that name")]
    ScreenNameTaken,
    /// Other records still need this one (what, in the message).
    #[error("{0}")]
    InUse(String),
    /// Database trouble.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

fn seats_message(seats: &[String]) -> String {
    if seats.is_empty() {
        "no seats that fit the request are available".to_owned()
    } else {
        format!("seats are not available: {}", seats.join(", "))
    }
}

impl DomainError {
    /// Input invalid in one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Invalid(vec![(field.into(), message.into())])
    }
}
