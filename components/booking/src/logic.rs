//! The default booking rules, in plain Rust (no WIT types), so they can be unit-tested natively.
//!
//! - A hold needs 1 to [`MAX_SEATS`] distinct seats, every one of them free and on sale, and the
//!   show must not have started. An allowed hold lasts [`HOLD_SECONDS`].
//! - One customer holds at most [`MAX_HELD_PER_SHOW`] unpaid seats of a show at a time, this
//!   hold included, so nobody can hold a whole show 10 seats at a time; paying (or releasing,
//!   or letting holds expire) makes room again. A chain's own component may set another cap.
//! - Releasing an unpaid hold is always allowed and refunds nothing. A confirmed booking is
//!   refunded in full up to [`CANCEL_CUTOFF_MS`] before the show; after that it cannot be
//!   cancelled. Cancelling some seats of a confirmed booking follows the same rule for what
//!   was paid for those seats.
//! - A customer may wait for at most [`MAX_WAITING_LISTS`] shows of the chain at once, and not
//!   for a show starting within [`WAITLIST_CLOSES_MS`]; seats offered from a waiting list stay
//!   held for [`OFFER_SECONDS`].

/// Most seats one booking may hold.
pub const MAX_SEATS: usize = 10;

/// Most unpaid seats one customer may hold for one show at a time, this hold included.
pub const MAX_HELD_PER_SHOW: u32 = 10;

/// How long an allowed hold lasts, in seconds (10 minutes).
pub const HOLD_SECONDS: u32 = 600;

/// Cancellations of confirmed bookings close this long before the show starts (2 hours).
pub const CANCEL_CUTOFF_MS: i64 = 2 * 60 * 60 * 1000;

/// Most waiting lists (entries waiting or offered) one customer may be on for the chain.
pub const MAX_WAITING_LISTS: u32 = 3;

/// How long seats offered from a waiting list stay held for the customer (15 minutes).
pub const OFFER_SECONDS: u32 = 900;

/// Joining a waiting list closes this long before the show (30 minutes): an offer would
/// arrive too late to be of use.
pub const WAITLIST_CLOSES_MS: i64 = 30 * 60 * 1000;

/// The class of a seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatClass {
    Standard,
    Premium,
    Vip,
    Accessible,
}

/// A seat, as far as the rules care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seat {
    /// Seat id as shown to customers, e.g. `A-7`.
    pub id: String,
    /// The seat's class.
    pub class: SeatClass,
}

/// The parts of a show the rules look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Show {
    /// When the show starts (ms since the Unix epoch, UTC).
    pub starts_at_ms: i64,
    /// Base price per class, in minor units. A class missing here is not on sale.
    pub prices: Vec<(SeatClass, i64)>,
}

/// A seat of the screen and whether it is already taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatState {
    pub seat: Seat,
    pub taken: bool,
}

/// A request to hold seats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldRequest {
    pub show: Show,
    pub seats: Vec<Seat>,
    pub row_seats: Vec<SeatState>,
    pub now_ms: i64,
    /// Seats the customer already holds, unpaid and unexpired, for this show.
    pub held_for_show: u32,
}

/// What an allowed hold gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoldPolicy {
    pub hold_seconds: u32,
}

/// A request to cancel a booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelRequest {
    pub show: Show,
    /// What the customer paid, in minor units (0 for an unpaid hold).
    pub paid_minor: i64,
    /// True when the booking was paid and confirmed, false for a hold.
    pub confirmed: bool,
    pub now_ms: i64,
}

/// Decides whether a hold is allowed; `Err` is a short reason shown to the customer.
pub fn check_hold(req: &HoldRequest) -> Result<HoldPolicy, String> {
    if req.seats.is_empty() {
        return Err("please choose at least one seat".to_owned());
    }
    if req.seats.len() > MAX_SEATS {
        return Err(format!("at most {MAX_SEATS} seats can be booked at once"));
    }
    for (i, seat) in req.seats.iter().enumerate() {
        if req.seats[..i].iter().any(|earlier| earlier.id == seat.id) {
            return Err(format!("seat {} was chosen more than once", seat.id));
        }
    }
    if req.now_ms >= req.show.starts_at_ms {
        return Err("this show has already started".to_owned());
    }
    let asked = u32::try_from(req.seats.len()).unwrap_or(u32::MAX);
    if req.held_for_show.saturating_add(asked) > MAX_HELD_PER_SHOW {
        return Err(format!(
            "you already hold {} unpaid seats for this show and may hold at most {MAX_HELD_PER_SHOW}; pay for or release them first",
            req.held_for_show
        ));
    }
    for seat in &req.seats {
        let taken = req
            .row_seats
            .iter()
            .any(|state| state.taken && state.seat.id == seat.id);
        if taken {
            return Err(format!("seat {} is no longer available", seat.id));
        }
    }
    for seat in &req.seats {
        if !req
            .show
            .prices
            .iter()
            .any(|(class, _)| *class == seat.class)
        {
            return Err(format!("seat {} is not on sale for this show", seat.id));
        }
    }
    Ok(HoldPolicy {
        hold_seconds: HOLD_SECONDS,
    })
}

/// A request to join a waiting list.
#[derive(Debug, Clone)]
pub struct WaitlistRequest {
    pub show: Show,
    /// Entries the customer already has with the chain.
    pub customer_entries: u32,
    pub now_ms: i64,
}

/// Decides whether the customer may join a waiting list; `Ok` is how long an offer lasts.
pub fn check_waitlist(req: &WaitlistRequest) -> Result<u32, String> {
    if req.customer_entries >= MAX_WAITING_LISTS {
        return Err(format!(
            "you are already on {MAX_WAITING_LISTS} waiting lists of this cinema"
        ));
    }
    if req.show.starts_at_ms.saturating_sub(req.now_ms) < WAITLIST_CLOSES_MS {
        return Err("the waiting list closes 30 minutes before the show".to_owned());
    }
    Ok(OFFER_SECONDS)
}

/// Decides the refund for a cancellation, in minor units; `Err` refuses the cancellation.
pub fn cancel(req: &CancelRequest) -> Result<i64, String> {
    if !req.confirmed {
        return Ok(0);
    }
    let closed = || "cancellations close 2 hours before the show".to_owned();
    // A start time so early that the cut-off underflows means the window closed long ago.
    let deadline = req
        .show
        .starts_at_ms
        .checked_sub(CANCEL_CUTOFF_MS)
        .ok_or_else(closed)?;
    if req.now_ms <= deadline {
        // Full refund; a (bogus) negative payment refunds nothing rather than a negative amount.
        Ok(req.paid_minor.max(0))
    } else {
        Err(closed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waiting_list_allows_three_entries_and_closes_before_the_show() {
        let show = Show {
            starts_at_ms: 10 * WAITLIST_CLOSES_MS,
            prices: vec![],
        };
        let mut req = WaitlistRequest {
            show,
            customer_entries: 2,
            now_ms: 0,
        };
        assert_eq!(check_waitlist(&req), Ok(OFFER_SECONDS));
        req.customer_entries = 3;
        assert!(check_waitlist(&req).is_err());
        req.customer_entries = 0;
        req.now_ms = 9 * WAITLIST_CLOSES_MS + 1;
        assert!(check_waitlist(&req).is_err());
    }

    const START: i64 = 1_800_000_000_000;

    fn seat(id: &str, class: SeatClass) -> Seat {
        Seat {
            id: id.to_owned(),
            class,
        }
    }

    fn show() -> Show {
        Show {
            starts_at_ms: START,
            prices: vec![(SeatClass::Standard, 20_000), (SeatClass::Premium, 35_000)],
        }
    }

    fn hold(seats: Vec<Seat>) -> HoldRequest {
        let row_seats = ["A-1", "A-2", "A-3", "B-1"]
            .iter()
            .map(|id| SeatState {
                seat: seat(id, SeatClass::Standard),
                taken: false,
            })
            .collect();
        HoldRequest {
            show: show(),
            seats,
            row_seats,
            now_ms: START - 60_000,
            held_for_show: 0,
        }
    }

    fn cancel_req(confirmed: bool, now_ms: i64) -> CancelRequest {
        CancelRequest {
            show: show(),
            paid_minor: if confirmed { 55_000 } else { 0 },
            confirmed,
            now_ms,
        }
    }

    #[test]
    fn allows_a_normal_hold_for_ten_minutes() {
        let req = hold(vec![
            seat("A-1", SeatClass::Standard),
            seat("A-2", SeatClass::Premium),
        ]);
        assert_eq!(check_hold(&req), Ok(HoldPolicy { hold_seconds: 600 }));
    }

    #[test]
    fn refuses_no_seats() {
        let err = check_hold(&hold(vec![])).expect_err("no seats");
        assert!(err.contains("at least one seat"), "{err}");
    }

    #[test]
    fn allows_exactly_ten_seats_and_refuses_eleven() {
        let seats = |n: usize| -> Vec<Seat> {
            (1..=n)
                .map(|i| seat(&format!("C-{i}"), SeatClass::Standard))
                .collect()
        };
        assert!(check_hold(&hold(seats(10))).is_ok());
        let err = check_hold(&hold(seats(11))).expect_err("11 seats");
        assert!(err.contains("at most 10 seats"), "{err}");
    }

    #[test]
    fn caps_a_customers_unpaid_seats_of_a_show_at_ten() {
        let mut req = hold(vec![seat("A-1", SeatClass::Standard)]);
        req.held_for_show = 9;
        assert!(check_hold(&req).is_ok(), "9 held + 1 = 10");
        req.held_for_show = 10;
        let err = check_hold(&req).expect_err("10 held + 1");
        assert_eq!(
            err,
            "you already hold 10 unpaid seats for this show and may hold at most 10; pay for or release them first"
        );
        req.seats.push(seat("A-2", SeatClass::Standard));
        req.held_for_show = 9;
        assert!(check_hold(&req).is_err(), "9 held + 2");
        req.held_for_show = u32::MAX;
        assert!(check_hold(&req).is_err(), "no overflow");
    }

    #[test]
    fn refuses_the_same_seat_twice() {
        let req = hold(vec![
            seat("A-1", SeatClass::Standard),
            seat("A-2", SeatClass::Standard),
            seat("A-1", SeatClass::Standard),
        ]);
        assert_eq!(
            check_hold(&req),
            Err("seat A-1 was chosen more than once".to_owned())
        );
    }

    #[test]
    fn refuses_once_the_show_has_started() {
        let mut req = hold(vec![seat("A-1", SeatClass::Standard)]);
        req.now_ms = START;
        assert_eq!(
            check_hold(&req),
            Err("this show has already started".to_owned())
        );
        req.now_ms = START + 1;
        assert!(check_hold(&req).is_err());
        req.now_ms = START - 1;
        assert!(check_hold(&req).is_ok());
    }

    #[test]
    fn refuses_a_taken_seat() {
        let mut req = hold(vec![
            seat("A-1", SeatClass::Standard),
            seat("A-3", SeatClass::Standard),
        ]);
        req.row_seats[2].taken = true;
        assert_eq!(
            check_hold(&req),
            Err("seat A-3 is no longer available".to_owned())
        );
    }

    #[test]
    fn a_taken_neighbour_does_not_matter() {
        let mut req = hold(vec![seat("A-1", SeatClass::Standard)]);
        req.row_seats[1].taken = true;
        assert!(check_hold(&req).is_ok());
    }

    #[test]
    fn refuses_a_class_without_a_price() {
        let req = hold(vec![
            seat("A-1", SeatClass::Standard),
            seat("A-2", SeatClass::Vip),
        ]);
        assert_eq!(
            check_hold(&req),
            Err("seat A-2 is not on sale for this show".to_owned())
        );
    }

    #[test]
    fn survives_extreme_times() {
        let mut req = hold(vec![seat("A-1", SeatClass::Standard)]);
        req.now_ms = i64::MIN;
        req.show.starts_at_ms = i64::MAX;
        assert!(check_hold(&req).is_ok());
        req.now_ms = i64::MAX;
        req.show.starts_at_ms = i64::MIN;
        assert!(check_hold(&req).is_err());
    }

    #[test]
    fn unpaid_hold_is_released_for_nothing_even_after_the_show() {
        assert_eq!(
            cancel(&cancel_req(false, START - 10 * CANCEL_CUTOFF_MS)),
            Ok(0)
        );
        assert_eq!(cancel(&cancel_req(false, START + 1)), Ok(0));
    }

    #[test]
    fn confirmed_booking_gets_a_full_refund_up_to_two_hours_before() {
        assert_eq!(
            cancel(&cancel_req(true, START - 3 * 60 * 60 * 1000)),
            Ok(55_000)
        );
        assert_eq!(
            cancel(&cancel_req(true, START - CANCEL_CUTOFF_MS)),
            Ok(55_000)
        );
    }

    #[test]
    fn confirmed_booking_is_refused_inside_two_hours() {
        let closed = Err("cancellations close 2 hours before the show".to_owned());
        assert_eq!(
            cancel(&cancel_req(true, START - CANCEL_CUTOFF_MS + 1)),
            closed
        );
        assert_eq!(cancel(&cancel_req(true, START)), closed);
        assert_eq!(cancel(&cancel_req(true, START + 1)), closed);
    }

    #[test]
    fn cancel_survives_extreme_values() {
        let mut req = cancel_req(true, i64::MIN);
        req.show.starts_at_ms = i64::MIN;
        assert!(cancel(&req).is_err());
        req.show.starts_at_ms = i64::MAX;
        assert_eq!(cancel(&req), Ok(55_000));
        req.paid_minor = -5;
        assert_eq!(cancel(&req), Ok(0));
    }
}
