//! Typed ids: one type per kind of row, so that a show's id cannot be passed where a booking's
//! is expected. Each is a UUID v7 (time-ordered), parsed once at the edge (a path segment
//! deserialises straight into it) and unwrapped only where `db` binds it.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! entity_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new id (UUID v7).
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// The id as the database stores it.
            pub fn as_uuid(self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

entity_id!(
    /// A booking (`bookings.id`).
    BookingId
);
entity_id!(
    /// A show (`shows.id`).
    ShowId
);
entity_id!(
    /// A payment (`payments.id`).
    PaymentId
);
entity_id!(
    /// A theatre chain (`chains.id`).
    ChainId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_from_a_path_segment_and_prints_back() {
        let raw = "0192f0c1-0000-7000-8000-000000000001";
        let id: BookingId = serde_json::from_value(serde_json::json!(raw)).unwrap_or_default();
        assert_eq!(id.to_string(), raw);
        assert!(serde_json::from_value::<ShowId>(serde_json::json!("not-a-uuid")).is_err());
        assert_ne!(ShowId::new(), ShowId::new());
    }
}
