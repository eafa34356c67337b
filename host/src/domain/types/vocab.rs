//! The closed vocabularies of the business: statuses, roles and release states. Each is a Rust
//! enum mapped to its `text` column by `sqlx::Type`, so a value the database holds but this
//! enum does not know fails to decode (an error, never a silent default), and the spelling of
//! each value is written once, here.

use serde::{Deserialize, Serialize};

/// Declares `as_str` and `ALL` from the variant list: the one place each spelling lives (serde
/// and sqlx use the same `snake_case` rule, checked by the tests below).
macro_rules! spelled {
    ($ty:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The value spelled `text`, if any.
            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == text)
            }

            /// The spelling used in the API and the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
// For the vocabulary kept beside the hook data (`hook_io::SeatClass`).
pub(crate) use spelled;

/// Where a booking is in its life. `held` past its expiry is no longer live although the row
/// still says `held` until the expiry job records it ([`BookingStatus::is_live`]).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema, sqlx::Type,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum BookingStatus {
    /// Seats held, not paid.
    Held,
    /// Paid; the seats are sold.
    Confirmed,
    /// Cancelled by the customer, the chain or a cancelled show.
    Cancelled,
    /// The hold ran out unpaid.
    Expired,
}
spelled!(BookingStatus { Held => "held", Confirmed => "confirmed", Cancelled => "cancelled", Expired => "expired" });

impl BookingStatus {
    /// The one Rust statement of "live booking" (its SQL twin is the function
    /// `booking_is_live(status, expires_at)` of migration 0009): confirmed, or held and not
    /// yet expired at `now`.
    pub fn is_live(
        self,
        expires_at: chrono::DateTime<chrono::Utc>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> bool {
        match self {
            BookingStatus::Confirmed => true,
            BookingStatus::Held => expires_at > now,
            BookingStatus::Cancelled | BookingStatus::Expired => false,
        }
    }

    /// What a customer sees: a hold past its expiry reads `expired` at once, before the expiry
    /// job records it.
    pub fn as_seen(
        self,
        expires_at: chrono::DateTime<chrono::Utc>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Self {
        if self == BookingStatus::Held && expires_at <= now {
            BookingStatus::Expired
        } else {
            self
        }
    }
}

/// Whether a show still sells.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema, sqlx::Type,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum ShowStatus {
    /// On sale until it starts.
    Scheduled,
    /// Cancelled by the chain; its bookings were refunded.
    Cancelled,
}
spelled!(ShowStatus { Scheduled => "scheduled", Cancelled => "cancelled" });

/// A payment's state.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema, sqlx::Type,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Charged.
    Succeeded,
    /// Refunded in full.
    Refunded,
    /// Refunded in part.
    PartiallyRefunded,
}
spelled!(PaymentStatus { Succeeded => "succeeded", Refunded => "refunded", PartiallyRefunded => "partially_refunded" });

/// An outbox email's state.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema, sqlx::Type,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum NotificationStatus {
    /// Waiting for the sweeper (or for its next attempt).
    Pending,
    /// Claimed by a sweeper, being sent.
    Sending,
    /// Accepted by the SMTP server.
    Sent,
    /// Given up after the last attempt, or refused for good.
    Failed,
}
spelled!(NotificationStatus { Pending => "pending", Sending => "sending", Sent => "sent", Failed => "failed" });

/// What a user may do.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema, sqlx::Type,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Role {
    /// Books tickets.
    Customer,
    /// Staff of a theatre chain (the original system's CLIENT).
    Owner,
    /// Runs the platform.
    Admin,
}
spelled!(Role { Customer => "customer", Owner => "owner", Admin => "admin" });

/// Whether an account may act in its role.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema, sqlx::Type,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum AccountStatus {
    /// Active.
    Approved,
    /// Waiting for an admin (owners start here).
    Pending,
    /// Refused by an admin.
    Rejected,
}
spelled!(AccountStatus { Approved => "approved", Pending => "pending", Rejected => "rejected" });

/// Whether a movie is out.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema, sqlx::Type,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum ReleaseStatus {
    /// Announced; shows may be scheduled from its release date.
    ComingSoon,
    /// In cinemas.
    Released,
}
spelled!(ReleaseStatus { ComingSoon => "coming_soon", Released => "released" });

#[cfg(test)]
mod tests {
    use super::*;

    fn serde_agrees<T: Serialize + Copy>(all: &[T], spell: impl Fn(T) -> &'static str) {
        for &v in all {
            assert_eq!(
                serde_json::to_value(v).ok(),
                Some(serde_json::json!(spell(v)))
            );
        }
    }

    #[test]
    fn every_spelling_is_the_serde_one() {
        serde_agrees(BookingStatus::ALL, BookingStatus::as_str);
        serde_agrees(ShowStatus::ALL, ShowStatus::as_str);
        serde_agrees(PaymentStatus::ALL, PaymentStatus::as_str);
        serde_agrees(NotificationStatus::ALL, NotificationStatus::as_str);
        serde_agrees(Role::ALL, Role::as_str);
        serde_agrees(AccountStatus::ALL, AccountStatus::as_str);
        serde_agrees(ReleaseStatus::ALL, ReleaseStatus::as_str);
    }

    #[test]
    fn live_is_confirmed_or_an_unexpired_hold() {
        let now = chrono::Utc::now();
        let later = now + chrono::Duration::seconds(1);
        assert!(BookingStatus::Confirmed.is_live(now, now));
        assert!(BookingStatus::Held.is_live(later, now));
        assert!(!BookingStatus::Held.is_live(now, now));
        assert!(!BookingStatus::Cancelled.is_live(later, now));
        assert!(!BookingStatus::Expired.is_live(later, now));
        assert_eq!(
            BookingStatus::Held.as_seen(now, now),
            BookingStatus::Expired
        );
        assert_eq!(BookingStatus::Held.as_seen(later, now), BookingStatus::Held);
    }
}

/// Where a ticket is in its life: issued `valid`, `used` at its first successful check-in,
/// `void` when its seat (or booking, or show) is cancelled.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema, sqlx::Type,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum TicketStatus {
    /// Admits its holder once.
    Valid,
    /// Its seat was cancelled.
    Void,
    /// Checked in.
    Used,
}
spelled!(TicketStatus { Valid => "valid", Void => "void", Used => "used" });
