//! Every stable `code` a problem document can carry, in one enum: a handler cannot invent a
//! code, a rename is a compile error at every use, and the OpenAPI document lists them all.

/// Declares the codes with their wire spelling.
macro_rules! codes {
    ($($(#[doc = $doc:literal])* $variant:ident => $text:literal,)*) => {
        /// A problem's stable, machine-readable code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Code {
            /// Every code.
            pub const ALL: &[Code] = &[$(Code::$variant,)*];

            /// The wire spelling (snake_case).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)*
                }
            }
        }
    };
}

codes! {
    /// The request is malformed: syntax, an unknown field, a wrong type, a bad parameter.
    BadRequest => "bad_request",
    /// No valid token was sent.
    Unauthorized => "unauthorized",
    /// Signin with an unknown email or a wrong password.
    InvalidCredentials => "invalid_credentials",
    /// Signed in, but not allowed.
    Forbidden => "forbidden",
    /// A console write (session cookie) without its `X-CSRF-Token`, with a wrong one, or
    /// sent from another site.
    CsrfFailed => "csrf_failed",
    /// The password is right but an admin rejected the account.
    AccountRejected => "account_rejected",
    /// A password change whose old password is wrong.
    WrongPassword => "wrong_password",
    /// No such resource, or not one the caller may see.
    NotFound => "not_found",
    /// The path exists, the method does not.
    MethodNotAllowed => "method_not_allowed",
    /// The client took too long to send the request.
    RequestTimeout => "request_timeout",
    /// A conflict not named more precisely (answers produced outside our handlers).
    Conflict => "conflict",
    /// An account with this email exists.
    EmailTaken => "email_taken",
    /// A chain with this name exists.
    ChainNameTaken => "chain_name_taken",
    /// The change would leave no approved admin.
    LastAdmin => "last_admin",
    /// The show has started or was cancelled.
    ShowClosed => "show_closed",
    /// Enough seats are free: the show is not sold out (waiting lists).
    SeatsAvailable => "seats_available",
    /// The customer is already on the show's waiting list.
    AlreadyWaiting => "already_waiting",
    /// Seats are taken or blocked (listed in `seats`).
    SeatUnavailable => "seat_unavailable",
    /// The booking is already paid.
    AlreadyPaid => "already_paid",
    /// Not allowed in the resource's current state.
    InvalidState => "invalid_state",
    /// Another show holds the screen at that time.
    ScreenBusy => "screen_busy",
    /// The theatre has a screen of that name.
    ScreenNameTaken => "screen_name_taken",
    /// Other records still need this one.
    InUse => "in_use",
    /// The chain's component storage quota would be exceeded.
    QuotaExceeded => "quota_exceeded",
    /// A webhook URL whose host is or resolves to a private or reserved address.
    UrlNotAllowed => "url_not_allowed",
    /// The first request with this Idempotency-Key is still running.
    IdempotencyConflict => "idempotency_conflict",
    /// The Idempotency-Key was used for a different request.
    IdempotencyKeyReused => "idempotency_key_reused",
    /// The hold ran out.
    HoldExpired => "hold_expired",
    /// The card was declined.
    PaymentDeclined => "payment_declined",
    /// The gift card cannot pay: unknown, another chain's or currency's, or not enough on it.
    GiftCardInvalid => "gift_card_invalid",
    /// The request body is over the limit.
    PayloadTooLarge => "payload_too_large",
    /// A component over the hook's size cap.
    ComponentTooLarge => "component_too_large",
    /// The request target is over the limit.
    UriTooLong => "uri_too_long",
    /// The request's headers are too large or too many.
    HeadersTooLarge => "headers_too_large",
    /// The body's Content-Type is not the one the operation takes.
    UnsupportedMediaType => "unsupported_media_type",
    /// Fields that parsed but are invalid (messages per field in `errors`).
    ValidationFailed => "validation_failed",
    /// The chain's booking rules refused, with their reason.
    RuleViolation => "rule_violation",
    /// The payment's amount or currency differs from the booking's.
    AmountMismatch => "amount_mismatch",
    /// The movie is not on the theatre's now-showing list.
    MovieNotShowing => "movie_not_showing",
    /// Bytes that are not a valid component of the hook.
    InvalidComponent => "invalid_component",
    /// Too many attempts; see Retry-After.
    RateLimited => "rate_limited",
    /// A promo code that is neither a voucher of the show's chain nor a code its pricing knows.
    VoucherUnknown => "voucher_unknown",
    /// Every redemption of the voucher is held or confirmed.
    VoucherExhausted => "voucher_exhausted",
    /// The voucher is outside its validity window, or switched off.
    VoucherExpired => "voucher_expired",
    /// The voucher is not for this show.
    VoucherNotApplicable => "voucher_not_applicable",
    /// The chain has a voucher with this code (in any case).
    VoucherCodeTaken => "voucher_code_taken",
    /// Only a failed notification can be retried; this one is pending, sending or sent.
    NotificationNotFailed => "notification_not_failed",
    /// An unexpected error (logged; nothing of it is shown).
    Internal => "internal",
    /// The service cannot answer right now.
    Unavailable => "unavailable",
    /// The database cannot serve right now; see Retry-After.
    DatabaseUnavailable => "database_unavailable",
    /// Every password-hashing slot is taken; see Retry-After.
    Busy => "busy",
    /// The chain is over its fair share of component calls; see Retry-After.
    PluginBusy => "plugin_busy",
    /// A component failed and the binding's policy is to fail closed.
    PluginUnavailable => "plugin_unavailable",
    /// The payment provider failed.
    PaymentUnavailable => "payment_unavailable",
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Code;

    #[test]
    fn codes_are_distinct_snake_case_words() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(s.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{s}");
        }
    }
}
