//! The default seat picker, in plain Rust (no WIT types), so it can be unit-tested natively.
//!
//! A customer asks for `count` seats (1 to [`MAX_SEATS`]), perhaps of one class, perhaps with
//! a wheelchair space. The picker answers with `count` **adjacent** seats of one row:
//!
//! - **Suitable seats.** A seat may be chosen when it is free and, when a class is asked for,
//!   of that class. Seats of class `accessible` (wheelchair spaces) go only to requests that
//!   need one (`accessible`) or that ask for that class.
//! - **Adjacent.** A block is `count` suitable seats with consecutive numbers in one row. A
//!   taken, blocked or unsuitable seat, or a gap in the numbering (an aisle), ends a block.
//! - **Wheelchair spaces.** An `accessible` request needs a block that contains at least one
//!   `accessible` seat: the companions sit next to it, in the same block.
//! - **Best row first.** Rows are ranked by their distance from the middle row, counting from
//!   the screen (the first row of the map): with `n` rows the middle row is number `n / 2`
//!   from 0, so with an even number of rows it is the back one of the two middle rows. Two
//!   rows as far from the middle as each other go further back first.
//! - **Centre of the row.** Within a row, the block whose centre is nearest the row's centre
//!   (halfway between its lowest and highest seat number, whatever their state) wins; of two
//!   as near, the one with the lower seat numbers.
//! - **No single empty seat.** A block that would leave one free seat on its own (between the
//!   block and a taken or blocked seat, the end of the row or an aisle) is passed over while
//!   any row has a block that does not; only when none has is the best block taken anyway, so
//!   the customer still gets seats. Every free seat counts here, of whatever class.
//!
//! The answer lists the seat ids in seat-number order; the same request always gets the same
//! answer, whatever the order of the seats within a row. Rows are in the order of their first
//! seat in the map.

use std::cmp::Reverse;
use std::collections::BTreeMap;

/// Most seats one request may ask for.
pub const MAX_SEATS: u32 = 10;

/// The class of a seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatClass {
    Standard,
    Premium,
    Vip,
    Accessible,
}

impl SeatClass {
    /// The class as customers read it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Premium => "premium",
            Self::Vip => "VIP",
            Self::Accessible => "accessible",
        }
    }
}

/// What a seat is for this show, right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    Free,
    Taken,
    Blocked,
}

/// A seat of the screen.
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

/// A seat and its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapSeat {
    pub seat: Seat,
    pub state: Availability,
}

/// A request for `count` seats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickRequest {
    /// Every seat of the screen, rows front (nearest the screen) to back.
    pub seats: Vec<MapSeat>,
    /// How many seats.
    pub count: u32,
    /// Only seats of this class, when given.
    pub seat_class: Option<SeatClass>,
    /// The customer needs a wheelchair space and companions next to it.
    pub accessible: bool,
}

/// Chooses the seats; `Err` is a short reason shown to the customer.
pub fn pick(req: &PickRequest) -> Result<Vec<String>, String> {
    let count = wanted(req.count)?;
    if req.accessible
        && let Some(class) = req.seat_class.filter(|c| *c != SeatClass::Accessible)
    {
        return Err(format!(
            "sorry, wheelchair spaces are accessible seats, not {} ones: please ask for \
             accessible seats or for any class",
            class.name()
        ));
    }
    let rows = rows(&req.seats);
    let order = rows_by_rank(rows.len());
    for allow_single_gap in [false, true] {
        for row in order.iter().filter_map(|&i| rows.get(i)) {
            if let Some(block) = best_block(row, count, req, allow_single_gap) {
                return Ok(block.iter().map(|s| s.seat.id.clone()).collect());
            }
        }
    }
    Err(nothing_fits(req, count))
}

/// The count asked for, if it is 1 to [`MAX_SEATS`].
fn wanted(count: u32) -> Result<usize, String> {
    if count == 0 {
        return Err("please ask for at least one seat".to_owned());
    }
    if count > MAX_SEATS {
        return Err(format!("at most {MAX_SEATS} seats can be booked at once"));
    }
    usize::try_from(count).map_err(|_| format!("at most {MAX_SEATS} seats can be booked at once"))
}

/// The rows of the map in the order of their first seat, each sorted by seat number (then id,
/// so that even a malformed map with a number twice is sorted the same way every time).
fn rows(seats: &[MapSeat]) -> Vec<Vec<&MapSeat>> {
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rows: Vec<Vec<&MapSeat>> = Vec::new();
    for seat in seats {
        let i = *index.entry(seat.seat.row.as_str()).or_insert_with(|| {
            rows.push(Vec::new());
            rows.len() - 1
        });
        if let Some(row) = rows.get_mut(i) {
            row.push(seat);
        }
    }
    for row in &mut rows {
        row.sort_by(|a, b| (a.seat.number, &a.seat.id).cmp(&(b.seat.number, &b.seat.id)));
    }
    rows
}

/// Row indices (0 = nearest the screen) best first: nearest the middle row `rows / 2`, and of
/// two as near, the one further back.
pub fn rows_by_rank(rows: usize) -> Vec<usize> {
    let middle = rows / 2;
    let mut order: Vec<usize> = (0..rows).collect();
    order.sort_by_key(|&i| (i.abs_diff(middle), Reverse(i)));
    order
}

/// May this seat be chosen for this request?
fn suitable(seat: &MapSeat, req: &PickRequest) -> bool {
    seat.state == Availability::Free
        && req.seat_class.is_none_or(|class| seat.seat.class == class)
        && (seat.seat.class != SeatClass::Accessible
            || req.accessible
            || req.seat_class == Some(SeatClass::Accessible))
}

/// Seats numbered one apart (no aisle between them).
fn side_by_side(a: &MapSeat, b: &MapSeat) -> bool {
    a.seat.number.abs_diff(b.seat.number) == 1
}

/// The best block of `count` seats in `row` (sorted by number), if any fits.
fn best_block<'r, 'm>(
    row: &'r [&'m MapSeat],
    count: usize,
    req: &PickRequest,
    allow_single_gap: bool,
) -> Option<&'r [&'m MapSeat]> {
    // Twice the row's centre, to stay in whole numbers.
    let row_centre = u64::from(row.first()?.seat.number) + u64::from(row.last()?.seat.number);
    let mut best: Option<(u64, &[&MapSeat])> = None;
    for (start, block) in row.windows(count).enumerate() {
        let (Some(first), Some(last)) = (block.first(), block.last()) else {
            continue;
        };
        let fits = block.iter().all(|seat| suitable(seat, req))
            && block.windows(2).all(|pair| side_by_side(pair[0], pair[1]))
            && (!req.accessible
                || block
                    .iter()
                    .any(|seat| seat.seat.class == SeatClass::Accessible));
        if !fits || (!allow_single_gap && leaves_single_gap(row, start, start + count - 1)) {
            continue;
        }
        let distance =
            (u64::from(first.seat.number) + u64::from(last.seat.number)).abs_diff(row_centre);
        // Strictly nearer only: of two as near, the earlier (lower-numbered) block stays.
        if best.is_none_or(|(nearest, _)| distance < nearest) {
            best = Some((distance, block));
        }
    }
    best.map(|(_, block)| block)
}

/// Would taking `row[start..=end]` leave a free seat on its own next to it?
fn leaves_single_gap(row: &[&MapSeat], start: usize, end: usize) -> bool {
    let before = |k: usize| start.checked_sub(k).and_then(|i| row.get(i)).copied();
    let after = |k: usize| end.checked_add(k).and_then(|i| row.get(i)).copied();
    let (Some(&first), Some(&last)) = (row.get(start), row.get(end)) else {
        return false;
    };
    alone(first, before(1), before(2)) || alone(last, after(1), after(2))
}

/// Is `next`, the seat beside the block's end seat `edge`, free with nothing free beyond it?
fn alone(edge: &MapSeat, next: Option<&MapSeat>, beyond: Option<&MapSeat>) -> bool {
    let free = |seat: &MapSeat| seat.state == Availability::Free;
    match next {
        Some(next) if free(next) && side_by_side(edge, next) => {
            !beyond.is_some_and(|beyond| free(beyond) && side_by_side(next, beyond))
        }
        _ => false,
    }
}

/// Why nothing fits, for the customer.
fn nothing_fits(req: &PickRequest, count: usize) -> String {
    let class = req
        .seat_class
        .map_or_else(String::new, |class| format!("{} ", class.name()));
    let what = match (count, req.accessible) {
        (1, false) => format!("no {class}seat is free"),
        (1, true) => "no wheelchair space is free".to_owned(),
        (n, false) => format!("no {n} adjacent {class}seats are free"),
        (n, true) => format!("no {n} adjacent {class}seats including a wheelchair space are free"),
    };
    format!("sorry, {what} for this show")
}

#[cfg(test)]
mod tests {
    use super::*;

    use Availability::{Blocked, Free, Taken};
    use SeatClass::{Accessible, Premium, Standard, Vip};

    /// A screen of `rows` rows (A, B, ...) of `per_row` free seats of `class`.
    fn screen(rows: usize, per_row: u32, class: SeatClass) -> Vec<MapSeat> {
        let mut seats = Vec::new();
        for label in ["A", "B", "C", "D", "E", "F", "G", "H"].iter().take(rows) {
            for number in 1..=per_row {
                seats.push(MapSeat {
                    seat: Seat {
                        id: format!("{label}-{number}"),
                        row: (*label).to_owned(),
                        number,
                        class,
                    },
                    state: Free,
                });
            }
        }
        seats
    }

    fn set(seats: &mut [MapSeat], ids: &[&str], f: impl Fn(&mut MapSeat)) {
        for id in ids {
            let seat = seats
                .iter_mut()
                .find(|s| s.seat.id == *id)
                .unwrap_or_else(|| panic!("no seat {id} in the test map"));
            f(seat);
        }
    }

    fn mark(seats: &mut [MapSeat], ids: &[&str], state: Availability) {
        set(seats, ids, |s| s.state = state);
    }

    fn class(seats: &mut [MapSeat], ids: &[&str], class: SeatClass) {
        set(seats, ids, |s| s.seat.class = class);
    }

    fn req(seats: Vec<MapSeat>, count: u32) -> PickRequest {
        PickRequest {
            seats,
            count,
            seat_class: None,
            accessible: false,
        }
    }

    fn ids(list: &[&str]) -> Result<Vec<String>, String> {
        Ok(list.iter().map(|s| (*s).to_owned()).collect())
    }

    #[test]
    fn empty_screen_gets_the_centre_of_the_middle_row() {
        assert_eq!(pick(&req(screen(5, 10, Standard), 2)), ids(&["C-5", "C-6"]));
        assert_eq!(pick(&req(screen(5, 9, Standard), 1)), ids(&["C-5"]));
        assert_eq!(
            pick(&req(screen(5, 9, Standard), 3)),
            ids(&["C-4", "C-5", "C-6"])
        );
    }

    #[test]
    fn the_middle_of_an_even_number_of_rows_is_the_back_one() {
        // Rows A-D: the middle rows are B and C; C is further back.
        assert_eq!(pick(&req(screen(4, 10, Standard), 2)), ids(&["C-5", "C-6"]));
        assert_eq!(rows_by_rank(4), [2, 3, 1, 0]);
        assert_eq!(rows_by_rank(5), [2, 3, 1, 4, 0]);
        assert_eq!(rows_by_rank(1), [0]);
        assert!(rows_by_rank(0).is_empty());
    }

    #[test]
    fn ties_go_to_lower_seat_numbers() {
        // Ten seats, three asked: 4-6 and 5-7 are as near the centre (5.5) as each other.
        assert_eq!(
            pick(&req(screen(1, 10, Standard), 3)),
            ids(&["A-4", "A-5", "A-6"])
        );
    }

    #[test]
    fn taken_seats_move_the_block_within_the_row() {
        let mut seats = screen(5, 10, Standard);
        mark(&mut seats, &["C-5", "C-6"], Taken);
        // 3-4 and 7-8 are as near the centre; neither leaves a single seat.
        assert_eq!(pick(&req(seats, 2)), ids(&["C-3", "C-4"]));
    }

    #[test]
    fn a_full_middle_row_moves_the_block_to_the_row_behind_it() {
        let mut seats = screen(5, 6, Standard);
        let row_c: Vec<String> = (1..=6).map(|n| format!("C-{n}")).collect();
        let row_c: Vec<&str> = row_c.iter().map(String::as_str).collect();
        mark(&mut seats, &row_c, Taken);
        // B and D are one row from the middle; D is further back.
        assert_eq!(pick(&req(seats.clone(), 2)), ids(&["D-3", "D-4"]));
        mark(&mut seats, &["D-2", "D-5"], Blocked);
        assert_eq!(pick(&req(seats, 2)), ids(&["D-3", "D-4"]));
    }

    #[test]
    fn blocked_seats_and_aisles_break_a_block() {
        let mut seats = screen(1, 10, Standard);
        mark(&mut seats, &["A-5"], Blocked);
        // Free 1-4 and 6-10: 6-9 would leave A-10 alone and 7-10 A-6, so 1-4 it is.
        assert_eq!(
            pick(&req(seats.clone(), 4)),
            ids(&["A-1", "A-2", "A-3", "A-4"])
        );
        assert_eq!(
            pick(&req(seats.clone(), 5)),
            ids(&["A-6", "A-7", "A-8", "A-9", "A-10"])
        );
        // A gap in the numbering is an aisle, too.
        seats.retain(|s| s.seat.id != "A-5");
        assert_eq!(
            pick(&req(seats.clone(), 4)),
            ids(&["A-1", "A-2", "A-3", "A-4"])
        );
        assert!(pick(&req(seats, 6)).is_err());
    }

    #[test]
    fn a_block_that_leaves_a_single_seat_is_avoided_within_the_row() {
        let mut seats = screen(1, 6, Standard);
        mark(&mut seats, &["A-1"], Taken);
        // Free 2-6. 3-4 is central but strands A-2, 4-5 strands A-6; 2-3 leaves 4-6.
        assert_eq!(pick(&req(seats, 2)), ids(&["A-2", "A-3"]));
    }

    #[test]
    fn a_block_that_leaves_a_single_seat_is_avoided_in_favour_of_another_row() {
        let mut seats = screen(5, 10, Standard);
        mark(
            &mut seats,
            &["C-1", "C-2", "C-3", "C-8", "C-9", "C-10"],
            Taken,
        );
        // C has 4-7 free: either block of 3 strands a seat, so the row behind gets them.
        assert_eq!(pick(&req(seats, 3)), ids(&["D-4", "D-5", "D-6"]));
    }

    #[test]
    fn the_end_of_the_row_counts_as_a_wall() {
        // Seven free seats, five asked: 2-6 is central but leaves alone at the
        // ends of the row; 1-5 and 3-7 are as near the centre, so the lower.
        assert_eq!(
            pick(&req(screen(1, 7, Standard), 5)),
            ids(&["A-1", "A-2", "A-3", "A-4", "A-5"])
        );
    }

    #[test]
    fn a_single_gap_is_accepted_when_nothing_else_fits() {
        let mut seats = screen(3, 5, Standard);
        mark(
            &mut seats,
            &["A-1", "A-5", "B-1", "B-5", "C-1", "C-5"],
            Taken,
        );
        mark(&mut seats, &["A-3", "C-3"], Taken);
        // Only B has two adjacent free seats, and either pair strands one: 2-3 and 3-4 are as
        // near the centre, so the lower.
        assert_eq!(pick(&req(seats, 2)), ids(&["B-2", "B-3"]));
    }

    #[test]
    fn a_seat_already_alone_does_not_matter() {
        let mut seats = screen(1, 8, Standard);
        mark(&mut seats, &["A-1", "A-3"], Taken);
        // A-2 is alone already, whatever is picked.
        assert_eq!(pick(&req(seats, 2)), ids(&["A-4", "A-5"]));
    }

    #[test]
    fn the_class_asked_for_is_the_only_class_picked() {
        let mut seats = screen(4, 8, Standard);
        let premium: Vec<String> = ["C", "D"]
            .iter()
            .flat_map(|r| (1..=8).map(move |n| format!("{r}-{n}")))
            .collect();
        let premium: Vec<&str> = premium.iter().map(String::as_str).collect();
        class(&mut seats, &premium, Premium);

        let mut ask = req(seats.clone(), 2);
        ask.seat_class = Some(Premium);
        assert_eq!(pick(&ask), ids(&["C-4", "C-5"]));
        ask.seat_class = Some(Standard);
        // C is the middle row but premium; of B and D, one row away, D is premium too.
        assert_eq!(pick(&ask), ids(&["B-4", "B-5"]));
        ask.seat_class = Some(Vip);
        assert_eq!(
            pick(&ask),
            Err("sorry, no 2 adjacent VIP seats are free for this show".to_owned())
        );
        ask.count = 1;
        assert_eq!(
            pick(&ask),
            Err("sorry, no VIP seat is free for this show".to_owned())
        );
    }

    #[test]
    fn a_class_mixed_within_a_row_breaks_blocks() {
        let mut seats = screen(1, 10, Standard);
        class(&mut seats, &["A-4", "A-5", "A-6", "A-7"], Premium);
        let mut ask = req(seats, 3);
        ask.seat_class = Some(Standard);
        // Standard runs 1-3 and 8-10: both as far from the centre, the lower wins.
        assert_eq!(pick(&ask), ids(&["A-1", "A-2", "A-3"]));
        ask.seat_class = Some(Premium);
        assert_eq!(pick(&ask), ids(&["A-4", "A-5", "A-6"]));
    }

    #[test]
    fn a_wheelchair_request_gets_a_space_with_companions_beside_it() {
        let mut seats = screen(5, 10, Standard);
        class(&mut seats, &["E-1", "E-2"], Accessible);
        let mut ask = req(seats.clone(), 3);
        ask.accessible = true;
        // 2-4 is nearer the centre than 1-3 but would leave E-1 alone.
        assert_eq!(pick(&ask), ids(&["E-1", "E-2", "E-3"]));
        ask.count = 1;
        // E-2 is nearer the centre, but taking it would leave E-1 alone.
        assert_eq!(pick(&ask), ids(&["E-1"]));
        ask.count = 2;
        // 2-3 would strand E-1 too.
        assert_eq!(pick(&ask), ids(&["E-1", "E-2"]));

        // With both spaces taken there is nothing to give.
        mark(&mut seats, &["E-1", "E-2"], Taken);
        let mut ask = req(seats, 3);
        ask.accessible = true;
        assert_eq!(
            pick(&ask),
            Err(
                "sorry, no 3 adjacent seats including a wheelchair space are free for this show"
                    .to_owned()
            )
        );
        ask.count = 1;
        assert_eq!(
            pick(&ask),
            Err("sorry, no wheelchair space is free for this show".to_owned())
        );
    }

    #[test]
    fn a_wheelchair_request_of_another_class_is_refused() {
        let mut seats = screen(2, 6, Accessible);
        class(&mut seats, &["A-1"], Standard);
        let mut ask = req(seats.clone(), 2);
        ask.accessible = true;
        ask.seat_class = Some(Standard);
        let err = pick(&ask).expect_err("standard wheelchair space");
        assert!(err.contains("not standard ones"), "{err}");
        ask.seat_class = Some(Accessible);
        assert_eq!(pick(&ask), ids(&["B-3", "B-4"]));
    }

    #[test]
    fn other_requests_never_get_accessible_seats() {
        let mut seats = screen(3, 8, Standard);
        let row_b: Vec<String> = (1..=8).map(|n| format!("B-{n}")).collect();
        let row_b: Vec<&str> = row_b.iter().map(String::as_str).collect();
        class(&mut seats, &row_b, Accessible);
        class(&mut seats, &["C-4", "C-5"], Accessible);
        // B is the middle row but all wheelchair spaces; so are C's centre seats. Of C's
        // standard pairs, 2-3 and 6-7 would leave C-1 and C-8 alone; 1-2 and 7-8 are left.
        let ask = req(seats.clone(), 2);
        assert_eq!(pick(&ask), ids(&["C-1", "C-2"]));
        let ask = req(seats.clone(), 4);
        assert_eq!(pick(&ask), ids(&["A-3", "A-4", "A-5", "A-6"]));
        // Asking for the class itself is allowed.
        let mut ask = req(seats.clone(), 2);
        ask.seat_class = Some(Accessible);
        assert_eq!(pick(&ask), ids(&["B-4", "B-5"]));
        // A screen of nothing but wheelchair spaces has nothing for an ordinary request.
        let ask = req(screen(2, 4, Accessible), 1);
        assert_eq!(
            pick(&ask),
            Err("sorry, no seat is free for this show".to_owned())
        );
    }

    #[test]
    fn nothing_free_is_refused_politely() {
        let mut seats = screen(2, 3, Standard);
        mark(&mut seats, &["A-1", "A-3", "B-2"], Taken);
        mark(&mut seats, &["B-1"], Blocked);
        assert_eq!(
            pick(&req(seats.clone(), 2)),
            Err("sorry, no 2 adjacent seats are free for this show".to_owned())
        );
        assert_eq!(pick(&req(seats, 1)), ids(&["B-3"]));
        assert_eq!(
            pick(&req(Vec::new(), 1)),
            Err("sorry, no seat is free for this show".to_owned())
        );
    }

    #[test]
    fn more_seats_than_any_row_holds_is_refused() {
        assert_eq!(
            pick(&req(screen(6, 8, Standard), 9)),
            Err("sorry, no 9 adjacent seats are free for this show".to_owned())
        );
        assert_eq!(
            pick(&req(screen(1, 10, Standard), 10)),
            ids(&[
                "A-1", "A-2", "A-3", "A-4", "A-5", "A-6", "A-7", "A-8", "A-9", "A-10"
            ])
        );
    }

    #[test]
    fn the_count_must_be_one_to_ten() {
        let seats = screen(2, 20, Standard);
        assert_eq!(
            pick(&req(seats.clone(), 0)),
            Err("please ask for at least one seat".to_owned())
        );
        assert_eq!(
            pick(&req(seats.clone(), 11)),
            Err("at most 10 seats can be booked at once".to_owned())
        );
        assert!(pick(&req(seats, u32::MAX)).is_err());
    }

    #[test]
    fn the_order_of_seats_within_a_row_does_not_matter() {
        let mut seats = screen(3, 10, Standard);
        mark(&mut seats, &["B-4", "B-9"], Taken);
        let forward = pick(&req(seats.clone(), 3));
        // The same rows in the same order, each listed from its highest number down.
        seats.sort_by_key(|s| (s.seat.row.clone(), Reverse(s.seat.number)));
        assert_eq!(seats.first().map(|s| s.seat.id.as_str()), Some("A-10"));
        let backward = pick(&req(seats.clone(), 3));
        // Free in B: 1-3, 5-8 and 10. 5-7 and 6-8 would each strand a seat; the middle row
        // comes before the centre of the others, so B-1 to B-3.
        assert_eq!(forward, ids(&["B-1", "B-2", "B-3"]));
        assert_eq!(forward, backward);
        assert_eq!(
            pick(&req(seats.clone(), 3)),
            backward,
            "same input, same output"
        );
    }

    #[test]
    fn extreme_seat_numbers_do_not_overflow() {
        let seat = |number: u32, state| MapSeat {
            seat: Seat {
                id: format!("A-{number}"),
                row: "A".to_owned(),
                number,
                class: Standard,
            },
            state,
        };
        let seats = vec![
            seat(u32::MAX - 2, Free),
            seat(u32::MAX - 1, Free),
            seat(u32::MAX, Free),
            seat(u32::MAX, Free),
        ];
        assert!(pick(&req(seats, 2)).is_ok());
    }
}
