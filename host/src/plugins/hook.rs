//! The three extension points a chain can program.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A hook: one WIT world that a component implements.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Hook {
    /// `cineflow:plugins/booking-rules`: may a hold be placed, and what does a cancel refund.
    BookingRules,
    /// `cineflow:plugins/pricing`: line items and total of a hold.
    Pricing,
    /// `cineflow:plugins/notify-templates`: the text of the emails.
    NotifyTemplates,
    /// `cineflow:plugins/seat-picker`: which seats an "n seats" request gets (new in 0.2.1).
    SeatPicker,
}

impl Hook {
    /// Every hook, in display order.
    pub const ALL: [Hook; 4] = [
        Hook::BookingRules,
        Hook::Pricing,
        Hook::NotifyTemplates,
        Hook::SeatPicker,
    ];

    /// The hook's name as used in URLs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Hook::BookingRules => "booking-rules",
            Hook::Pricing => "pricing",
            Hook::NotifyTemplates => "notify-templates",
            Hook::SeatPicker => "seat-picker",
        }
    }

    /// The fully qualified WIT world a component for this hook implements, at the current
    /// version; components built against 0.1.0 still load (docs/wit-versioning.md).
    pub fn world(self) -> &'static str {
        match self {
            Hook::BookingRules => "cineflow:plugins/booking-rules@0.3.0",
            Hook::Pricing => "cineflow:plugins/pricing@0.3.0",
            Hook::NotifyTemplates => "cineflow:plugins/notify-templates@0.3.0",
            Hook::SeatPicker => "cineflow:plugins/seat-picker@0.3.0",
        }
    }
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name is not one of the hooks.
#[derive(Debug, thiserror::Error)]
#[error("unknown hook `{0}`: expected booking-rules, pricing, notify-templates or seat-picker")]
pub struct UnknownHook(pub String);

impl FromStr for Hook {
    type Err = UnknownHook;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Hook::ALL
            .into_iter()
            .find(|h| h.as_str() == s)
            .ok_or_else(|| UnknownHook(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for hook in Hook::ALL {
            assert_eq!(hook.as_str().parse::<Hook>().ok(), Some(hook));
        }
        assert!("pricing-plugin".parse::<Hook>().is_err());
    }
}
