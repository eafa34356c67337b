//! The booking rules, in plain Rust: no WIT types, so `cargo test` runs them natively.
//!
//! Start: at most 10 seats a hold and 10 unpaid seats of a show a customer, no hold once the
//! show has started, holds of 10 minutes; an unpaid hold is released for nothing, a paid
//! booking is refunded in full up to 2 hours before the show; a customer waits for at most 3
//! shows at a time, and seats offered from a waiting list are held for 15 minutes. Change them to your rules; the
//! host checks every answer (a hold of 1 s to 30 min, a refund between 0 and what was paid).

/// What `check_hold` decides on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldRequest {
    /// Seats asked for.
    pub seats: usize,
    /// The show's start, ms since the epoch (UTC).
    pub starts_at_ms: i64,
    /// Now, ms since the epoch (UTC).
    pub now_ms: i64,
    /// Seats the customer already holds unpaid for this show.
    pub held_for_show: u32,
}

/// What `cancel` decides on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelRequest {
    /// The show's start, ms since the epoch (UTC).
    pub starts_at_ms: i64,
    /// What the customer paid, in minor units.
    pub paid_minor: i64,
    /// Paid (true) or only held.
    pub confirmed: bool,
    /// Now, ms since the epoch (UTC).
    pub now_ms: i64,
}

const MAX_SEATS: usize = 10;
const HOLD_SECONDS: u32 = 600;
const REFUND_UNTIL_MS: i64 = 2 * 60 * 60 * 1000;

/// How long the seats are held, in seconds; `Err` refuses the hold with a reason.
pub fn check_hold(req: &HoldRequest) -> Result<u32, String> {
    if req.seats == 0 || req.seats > MAX_SEATS {
        return Err(format!("a booking has 1 to {MAX_SEATS} seats"));
    }
    if req.now_ms >= req.starts_at_ms {
        return Err("the show has started".into());
    }
    let after = (req.held_for_show as usize).saturating_add(req.seats);
    if after > MAX_SEATS {
        return Err(format!(
            "you may hold at most {MAX_SEATS} unpaid seats for this show; pay for or release some first"
        ));
    }
    Ok(HOLD_SECONDS)
}

/// The refund in minor units; `Err` refuses the cancellation with a reason.
pub fn cancel(req: &CancelRequest) -> Result<i64, String> {
    if !req.confirmed {
        return Ok(0);
    }
    if req.starts_at_ms.saturating_sub(req.now_ms) < REFUND_UNTIL_MS {
        return Err("a paid booking can be cancelled up to 2 hours before the show".into());
    }
    Ok(req.paid_minor)
}

const MAX_WAITING_LISTS: u32 = 3;
const OFFER_SECONDS: u32 = 900;

/// Whether a customer already on `entries` waiting lists of the chain may join one more; `Ok`
/// is how long seats offered to them stay held, in seconds.
pub fn check_waitlist(entries: u32) -> Result<u32, String> {
    if entries >= MAX_WAITING_LISTS {
        return Err(format!(
            "you may wait for at most {MAX_WAITING_LISTS} shows at a time"
        ));
    }
    Ok(OFFER_SECONDS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: i64 = 1_893_456_000_000;

    fn hold(seats: usize, now_ms: i64, held: u32) -> HoldRequest {
        HoldRequest {
            seats,
            starts_at_ms: START,
            now_ms,
            held_for_show: held,
        }
    }

    #[test]
    fn holds_last_ten_minutes_within_the_caps() {
        assert_eq!(check_hold(&hold(2, START - 1, 0)), Ok(600));
        assert!(check_hold(&hold(11, START - 1, 0)).is_err());
        assert!(check_hold(&hold(2, START - 1, 9)).is_err());
        assert!(check_hold(&hold(1, START, 0)).is_err());
    }

    #[test]
    fn refunds_in_full_until_two_hours_before() {
        let req = |confirmed, now_ms| CancelRequest {
            starts_at_ms: START,
            paid_minor: 50_000,
            confirmed,
            now_ms,
        };
        assert_eq!(cancel(&req(false, START)), Ok(0));
        assert_eq!(cancel(&req(true, START - REFUND_UNTIL_MS)), Ok(50_000));
        assert!(cancel(&req(true, START - 1)).is_err());
    }
}
