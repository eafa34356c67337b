//! Booking rules with "no single empty seat", in plain Rust (no WIT types), so they can be
//! unit-tested natively.
//!
//! Everything the platform's default booking rules do, unchanged:
//!
//! - a hold needs 1 to [`MAX_SEATS`] distinct seats, every one of them free and on sale, and
//!   the show must not have started; an allowed hold lasts [`HOLD_SECONDS`];
//! - releasing an unpaid hold is always allowed and refunds nothing; a confirmed booking is
//!   refunded in full up to [`CANCEL_CUTOFF_MS`] before the show, and cannot be cancelled
//!   after that.
//!
//! and one more rule for holds: **a hold may not leave a single empty seat on its own.** After
//! the hold, a free seat is *on its own* when each side of it is taken or is a wall. A
//! neighbour is the seat numbered one more or one less in the same row; a wall is the end of
//! the row or a gap in the numbering (an aisle). Taken means held, sold or blocked, as the
//! host marks `row-seats`, or part of this hold. The row's end counts as a wall on purpose: a
//! lone seat at the end of a row is as hard to sell as one between two couples.
//!
//! Only seats the hold itself strands are refused — a seat on its own next to at least one
//! seat of this hold. A seat that was on its own already (between two earlier bookings) does
//! not stop anyone booking elsewhere in the row. One consequence: in a two-seat row, or when
//! exactly two free seats are left side by side, one seat alone cannot be held.
//!
//! The rule reads only the rows of the asked-for seats, which is exactly what the host sends
//! in `row-seats`.

/// Most seats one booking may hold.
pub const MAX_SEATS: usize = 10;

/// How long an allowed hold lasts, in seconds (10 minutes).
pub const HOLD_SECONDS: u32 = 600;

/// Cancellations of confirmed bookings close this long before the show starts (2 hours).
pub const CANCEL_CUTOFF_MS: i64 = 2 * 60 * 60 * 1000;

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
    /// Row label, e.g. `A`.
    pub row: String,
    /// Seat number within the row, starting at 1.
    pub number: u32,
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
    /// The seats asked for.
    pub seats: Vec<Seat>,
    /// Every seat of the rows the asked-for seats are in, with its state.
    pub row_seats: Vec<SeatState>,
    pub now_ms: i64,
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
    default_checks(req)?;
    let stranded = stranded_seats(req);
    match stranded.as_slice() {
        [] => Ok(HoldPolicy {
            hold_seconds: HOLD_SECONDS,
        }),
        [one] => Err(format!(
            "please choose seats that do not leave a single empty seat: {one} would be left on \
             its own"
        )),
        many => Err(format!(
            "please choose seats that do not leave a single empty seat: {} would each be left \
             on their own",
            many.join(", ")
        )),
    }
}

/// The default booking rules' hold checks.
fn default_checks(req: &HoldRequest) -> Result<(), String> {
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
    Ok(())
}

/// Ids of the free seats this hold would leave on their own, by row (in the order the rows
/// are first asked for) and then by number.
pub fn stranded_seats(req: &HoldRequest) -> Vec<String> {
    let asked = |id: &str| req.seats.iter().any(|seat| seat.id == id);
    let mut rows: Vec<&str> = Vec::new();
    for seat in &req.seats {
        if !rows.contains(&seat.row.as_str()) {
            rows.push(&seat.row);
        }
    }

    let mut stranded = Vec::new();
    for row in rows {
        let mut seats: Vec<(&SeatState, bool)> = req
            .row_seats
            .iter()
            .filter(|state| state.seat.row == row)
            .map(|state| (state, state.taken || asked(&state.seat.id)))
            .collect();
        seats.sort_by_key(|(state, _)| state.seat.number);

        for (i, &(state, occupied)) in seats.iter().enumerate() {
            if occupied {
                continue;
            }
            let number = state.seat.number;
            // The neighbour on each side, if it exists (no wall between).
            let left = i
                .checked_sub(1)
                .map(|j| seats[j])
                .filter(|(s, _)| s.seat.number.checked_add(1) == Some(number));
            let right = seats
                .get(i + 1)
                .copied()
                .filter(|(s, _)| number.checked_add(1) == Some(s.seat.number));
            let closed = |side: Option<(&SeatState, bool)>| side.is_none_or(|(_, occ)| occ);
            let by_this_hold = |side: Option<(&SeatState, bool)>| {
                side.is_some_and(|(s, _)| !s.taken && asked(&s.seat.id))
            };
            if closed(left) && closed(right) && (by_this_hold(left) || by_this_hold(right)) {
                stranded.push(state.seat.id.clone());
            }
        }
    }
    stranded
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

    const START: i64 = 1_800_000_000_000;

    fn seat(id: &str) -> Seat {
        let (row, number) = id.split_once('-').expect("row-number");
        Seat {
            id: id.to_owned(),
            row: row.to_owned(),
            number: number.parse().expect("number"),
            class: SeatClass::Standard,
        }
    }

    /// A row drawn as a string: `.` free, `x` taken, one character per seat numbered from 1;
    /// a space is an aisle (the numbering skips one).
    fn row(label: &str, map: &str) -> Vec<SeatState> {
        map.chars()
            .enumerate()
            .filter(|(_, c)| *c != ' ')
            .map(|(i, c)| SeatState {
                seat: seat(&format!("{label}-{}", i + 1)),
                taken: c == 'x',
            })
            .collect()
    }

    fn hold(ids: &[&str], row_seats: Vec<SeatState>) -> HoldRequest {
        HoldRequest {
            show: Show {
                starts_at_ms: START,
                prices: vec![(SeatClass::Standard, 20_000), (SeatClass::Premium, 35_000)],
            },
            seats: ids.iter().map(|id| seat(id)).collect(),
            row_seats,
            now_ms: START - 60_000,
        }
    }

    fn allowed() -> Result<HoldPolicy, String> {
        Ok(HoldPolicy { hold_seconds: 600 })
    }

    #[test]
    fn allows_seats_that_leave_no_single_gap() {
        // C: 1 2 3 4 5 6 7 8, all free.
        let c = || row("C", "........");
        assert_eq!(check_hold(&hold(&["C-1", "C-2"], c())), allowed());
        assert_eq!(check_hold(&hold(&["C-4", "C-5"], c())), allowed());
        assert_eq!(check_hold(&hold(&["C-7", "C-8"], c())), allowed());
        assert_eq!(check_hold(&hold(&["C-1", "C-8"], c())), allowed());
        assert_eq!(
            check_hold(&hold(&["C-1", "C-2", "C-3", "C-4"], c())),
            allowed()
        );
    }

    #[test]
    fn refuses_a_single_gap_between_the_hold_and_a_taken_seat() {
        // D: x . . . . . — holding D-3 strands D-2.
        let req = hold(&["D-3"], row("D", "x....."));
        assert_eq!(
            check_hold(&req),
            Err(
                "please choose seats that do not leave a single empty seat: D-2 would be left \
                 on its own"
                    .to_owned()
            )
        );
        // Taking D-2 and D-3 together is fine.
        assert_eq!(
            check_hold(&hold(&["D-2", "D-3"], row("D", "x....."))),
            allowed()
        );
    }

    #[test]
    fn refuses_a_single_gap_inside_the_hold() {
        let req = hold(&["B-3", "B-5"], row("B", "......."));
        assert_eq!(stranded_seats(&req), vec!["B-4".to_owned()]);
        assert!(check_hold(&req).is_err());
    }

    #[test]
    fn the_row_end_is_a_wall() {
        let req = hold(&["E-2"], row("E", "......"));
        assert_eq!(stranded_seats(&req), vec!["E-1".to_owned()]);
        let req = hold(&["E-5"], row("E", "......"));
        assert_eq!(stranded_seats(&req), vec!["E-6".to_owned()]);
    }

    #[test]
    fn an_aisle_is_a_wall() {
        // F: 1 2 3 | 5 6 7 (no seat 4).
        let req = hold(&["F-2"], row("F", "... ..."));
        assert_eq!(
            stranded_seats(&req),
            vec!["F-1".to_owned(), "F-3".to_owned()]
        );
        assert_eq!(
            check_hold(&req),
            Err(
                "please choose seats that do not leave a single empty seat: F-1, F-3 would \
                 each be left on their own"
                    .to_owned()
            )
        );
        // F-5 next to the aisle leaves F-6 and F-7 together.
        assert_eq!(check_hold(&hold(&["F-5"], row("F", "... ..."))), allowed());
    }

    #[test]
    fn a_blocked_seat_counts_as_taken() {
        // The demo's accessible row: A-5..A-8 blocked.
        let a = row("A", "....xxxx....");
        assert_eq!(stranded_seats(&hold(&["A-3"], a.clone())), vec!["A-4"]);
        assert_eq!(check_hold(&hold(&["A-3", "A-4"], a.clone())), allowed());
        assert_eq!(stranded_seats(&hold(&["A-10"], a)), vec!["A-9"]);
    }

    #[test]
    fn a_gap_that_was_already_there_does_not_matter() {
        // G: . x . x . . . . — G-1 and G-3 are on their own already.
        assert_eq!(
            check_hold(&hold(&["G-7", "G-8"], row("G", ".x.x...."))),
            allowed()
        );
        // ...but filling G-5 would strand nothing new either: G-6 is next to G-7, free.
        assert_eq!(check_hold(&hold(&["G-5"], row("G", ".x.x...."))), allowed());
        // Holding G-6 strands G-5 between the taken G-4 and this hold.
        assert_eq!(
            stranded_seats(&hold(&["G-6"], row("G", ".x.x...."))),
            vec!["G-5"]
        );
    }

    #[test]
    fn filling_a_gap_exactly_is_fine() {
        assert_eq!(check_hold(&hold(&["H-3"], row("H", "xx.xx"))), allowed());
        assert_eq!(
            check_hold(&hold(&["H-3", "H-4"], row("H", "xx..xx"))),
            allowed()
        );
        // One seat of a two-seat gap strands the other.
        assert!(check_hold(&hold(&["H-3"], row("H", "xx..xx"))).is_err());
    }

    #[test]
    fn only_the_rows_of_the_hold_are_checked_each_on_its_own() {
        let mut seats = row("J", "x.....");
        seats.extend(row("K", "......"));
        // K-2 strands K-1; J-2 sits next to the taken J-1, so row J strands nothing.
        let req = hold(&["J-2", "K-2"], seats.clone());
        assert_eq!(stranded_seats(&req), vec!["K-1"]);
        // Same numbers, other row: K's seats never count as J's neighbours.
        let req = hold(&["J-2", "J-3"], seats);
        assert_eq!(check_hold(&req), allowed());
    }

    #[test]
    fn row_seats_in_any_order_and_missing_rows_are_tolerated() {
        let mut c = row("C", "x.....");
        c.reverse();
        assert_eq!(stranded_seats(&hold(&["C-3"], c)), vec!["C-2"]);
        // No row data at all: nothing to strand, the default checks decide.
        assert_eq!(check_hold(&hold(&["C-3"], vec![])), allowed());
    }

    #[test]
    fn a_one_seat_row_can_be_booked() {
        assert_eq!(check_hold(&hold(&["Z-1"], row("Z", "."))), allowed());
    }

    #[test]
    fn default_checks_come_first() {
        let req = hold(&["C-3"], row("C", "x.x..."));
        assert_eq!(
            check_hold(&req),
            Err("seat C-3 is no longer available".to_owned())
        );
        assert!(
            check_hold(&hold(&[], row("C", "......")))
                .expect_err("no seats")
                .contains("at least one seat")
        );
        let eleven: Vec<String> = (1..=11).map(|n| format!("L-{n}")).collect();
        let ids: Vec<&str> = eleven.iter().map(String::as_str).collect();
        assert!(
            check_hold(&hold(&ids, row("L", "............")))
                .expect_err("11 seats")
                .contains("at most 10 seats")
        );
        assert_eq!(
            check_hold(&hold(&["C-2", "C-2"], row("C", "......"))),
            Err("seat C-2 was chosen more than once".to_owned())
        );
        let mut req = hold(&["C-1", "C-2"], row("C", "......"));
        req.now_ms = START;
        assert_eq!(
            check_hold(&req),
            Err("this show has already started".to_owned())
        );
        let mut req = hold(&["C-1", "C-2"], row("C", "......"));
        req.seats[1].class = SeatClass::Vip;
        assert_eq!(
            check_hold(&req),
            Err("seat C-2 is not on sale for this show".to_owned())
        );
    }

    #[test]
    fn cancel_is_the_default() {
        let show = Show {
            starts_at_ms: START,
            prices: vec![],
        };
        let req = |confirmed: bool, now_ms: i64| CancelRequest {
            show: show.clone(),
            paid_minor: if confirmed { 55_000 } else { 0 },
            confirmed,
            now_ms,
        };
        assert_eq!(cancel(&req(false, START + 1)), Ok(0));
        assert_eq!(cancel(&req(true, START - CANCEL_CUTOFF_MS)), Ok(55_000));
        let closed = Err("cancellations close 2 hours before the show".to_owned());
        assert_eq!(cancel(&req(true, START - CANCEL_CUTOFF_MS + 1)), closed);
        let mut extreme = req(true, i64::MIN);
        extreme.show.starts_at_ms = i64::MIN;
        assert!(cancel(&extreme).is_err());
        extreme.show.starts_at_ms = i64::MAX;
        extreme.paid_minor = -5;
        assert_eq!(cancel(&extreme), Ok(0));
    }
}
