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
    /// A waiting list is for sold-out shows: enough seats (of the class) are free to book.
    #[error("enough seats are free: book them instead of joining the waiting list")]
    SeatsAvailable,
    /// The customer already has an active entry on this show's waiting list.
    #[error("you are already on this show's waiting list")]
    AlreadyWaiting,
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
    /// This server is at a capacity limit (which, in the message); another try may succeed.
    #[error("{0}")]
    Overloaded(String),
    /// A gift card that cannot pay: unknown, another chain's or currency's, or without the
    /// balance needed (why, in the message).
    #[error("{0}")]
    GiftCardInvalid(String),
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
    /// No valid credentials were presented (why, in the message).
    #[error("{0}")]
    Unauthenticated(String),
    /// Signin with an unknown email or a wrong password (the same answer for both).
    #[error("the email or the password is wrong")]
    InvalidCredentials,
    /// The password is right but an admin rejected the account.
    #[error("an admin rejected this account")]
    AccountRejected,
    /// A password change whose old password is wrong.
    #[error("the old password is wrong")]
    WrongPassword,
    /// Signup with an address another account has.
    #[error("an account with this email exists")]
    EmailTaken,
    /// The change would leave no approved admin.
    #[error("this would leave no approved admin; approve another admin first")]
    LastAdmin,
    /// Another chain has this name.
    #[error("a chain with this name exists")]
    ChainNameTaken,
    /// A budget of attempts is spent (signin, signup).
    #[error("too many attempts; retry later")]
    RateLimited {
        /// Seconds until the window ends.
        retry_after_secs: u64,
    },
    /// Every password-hashing slot stayed taken for the whole wait.
    #[error("too many passwords are being checked right now; retry shortly")]
    HashingBusy,
    /// An `Idempotency-Key` (or a notification's key) sent again with a different request.
    #[error("{0}")]
    IdempotencyKeyReused(String),
    /// The first request with this `Idempotency-Key` is still running.
    #[error("a request with this Idempotency-Key is still being processed")]
    IdempotencyConflict,
    /// Uploaded bytes that are not a valid component for the hook (why, in the message).
    #[error("{0}")]
    InvalidComponent(String),
    /// A component over the hook's size cap.
    #[error("a component may be at most {cap} bytes")]
    ComponentTooLarge {
        /// The cap, in bytes.
        cap: u64,
    },
    /// The chain's component storage quota would be exceeded (which limit, in the message).
    #[error("{0}")]
    QuotaExceeded(String),
    /// A webhook URL's host is or resolves to a private or reserved address.
    #[error("{0}")]
    UrlNotAllowed(String),
    /// A promo code the hold cannot redeem (which of the four reasons, and why).
    #[error("{0}")]
    Voucher(crate::domain::vouchers::VoucherRefusal),
    /// The chain has a voucher with this code (in any case).
    #[error("the chain has a voucher with this code")]
    VoucherCodeTaken,
    /// Only a failed notification can be retried (its status, in the message).
    #[error("{0}")]
    NotificationNotFailed(String),
    /// Something that should not happen did (logged; the caller learns nothing of it).
    #[error("{0}")]
    Internal(String),
    /// Database trouble.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl From<crate::auth::LimitError> for DomainError {
    fn from(e: crate::auth::LimitError) -> Self {
        match e {
            crate::auth::LimitError::Limited { retry_after_secs } => {
                DomainError::RateLimited { retry_after_secs }
            }
            crate::auth::LimitError::Database(e) => DomainError::Db(e),
        }
    }
}

impl From<crate::auth::HashError> for DomainError {
    fn from(e: crate::auth::HashError) -> Self {
        match e {
            crate::auth::HashError::Busy => DomainError::HashingBusy,
            crate::auth::HashError::Failed(e) => DomainError::Internal(e),
        }
    }
}

/// Whether a database error means the database cannot serve right now (down, restarting, no
/// free connection in time) rather than a fault of the request: the edge answers 503 with
/// `Retry-After` for these, 500 for the rest.
pub fn is_database_unavailable(e: &sqlx::Error) -> bool {
    crate::db::is_unavailable(e)
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

/// Whether `e` is the violation of the constraint `name`: the constraints in `migrations/` are
/// the guards, and each use case translates the ones it can meet into its refusal.
pub(crate) fn is_constraint(e: &sqlx::Error, name: &str) -> bool {
    e.as_database_error().and_then(|d| d.constraint()) == Some(name)
}
