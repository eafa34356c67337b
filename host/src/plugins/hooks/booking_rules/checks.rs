//! The host's checks on booking-rules answers: a component that breaks one has failed, like
//! a trap (the rest of the host relies on them).

use crate::domain::hook_io::{HoldPolicy, WaitlistPolicy};
use crate::plugins::limits::OutputBounds;

/// A hold policy must grant some time, and not more than the cap.
pub(crate) fn hold_policy(policy: &HoldPolicy, bounds: &OutputBounds) -> Result<(), String> {
    match policy.hold_seconds {
        0 => Err("hold-seconds must be at least 1".into()),
        s if s > bounds.max_hold_seconds => Err(format!(
            "hold-seconds {s} exceeds the maximum of {}",
            bounds.max_hold_seconds
        )),
        _ => Ok(()),
    }
}

/// An offer, like a hold, must last some time, and not more than the hold cap.
pub(crate) fn waitlist_policy(
    policy: &WaitlistPolicy,
    bounds: &OutputBounds,
) -> Result<(), String> {
    match policy.offer_seconds {
        0 => Err("offer-seconds must be at least 1".into()),
        s if s > bounds.max_hold_seconds => Err(format!(
            "offer-seconds {s} exceeds the maximum of {}",
            bounds.max_hold_seconds
        )),
        _ => Ok(()),
    }
}

/// A refund lies between nothing and everything that was paid.
pub(crate) fn refund(refund_minor: i64, paid_minor: i64) -> Result<(), String> {
    if (0..=paid_minor).contains(&refund_minor) {
        Ok(())
    } else {
        Err(format!(
            "refund {refund_minor} is outside 0..={paid_minor} (what was paid)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hold_time_is_bounded() {
        let b = OutputBounds::default();
        assert!(hold_policy(&HoldPolicy { hold_seconds: 600 }, &b).is_ok());
        assert!(hold_policy(&HoldPolicy { hold_seconds: 0 }, &b).is_err());
        assert!(hold_policy(&HoldPolicy { hold_seconds: 1801 }, &b).is_err());
    }

    #[test]
    fn refund_is_between_zero_and_paid() {
        assert!(refund(0, 100).is_ok());
        assert!(refund(100, 100).is_ok());
        assert!(refund(101, 100).is_err());
        assert!(refund(-1, 100).is_err());
    }
}
