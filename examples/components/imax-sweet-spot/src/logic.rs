//! Seat picking with an IMAX sweet spot, in plain Rust (no WIT types), so it can be
//! unit-tested natively.
//!
//! Everything the platform's default seat picker does, unchanged:
//!
//! - `count` (1 to [`MAX_SEATS`]) **adjacent** seats of one row: consecutive numbers, each
//!   free and, when a class is asked for, of that class. Wheelchair spaces (class
//!   `accessible`) go only to requests that need one or that ask for that class, and a request
//!   that needs one gets a block containing at least one, its companions beside it.
//! - Rows are tried best first; within a row the block whose centre is nearest the row's
//!   centre (halfway between its lowest and highest seat number) wins, and of two as near, the
//!   lower-numbered one.
//! - A block that would leave one free seat on its own (next to a taken or blocked seat, the
//!   end of the row or an aisle) is passed over while any block anywhere does not.
//!
//! What differs is what "best" means for a show whose format is `IMAX`. A giant screen is best
//! seen from further back than an ordinary one, and from its centre line:
//!
//! - **The sweet-spot row.** Rows are ranked by their distance from the row two thirds of the
//!   way back (row `round(2 (n - 1) / 3)` of rows `0..n`, counting from the screen) instead of
//!   from the middle row.
//! - **The central third.** Each row's seat numbers are cut into three equal parts (the outer
//!   two rounded down), and a block lying in the central part, or covering all of it when the
//!   group is wider than it, is taken from *any* row before a block that sticks out of it: a
//!   central pair one row off the sweet spot beats a pair at the edge of the sweet-spot row.
//!   Only when no row has such a block do the outer thirds count.
//!
//! Any other format (`2D`, `3D`) gets exactly the default: rows ranked by distance from the
//! middle row (`n / 2`), no column preference. In both, of two rows as far from the preferred
//! one, the one further back goes first.
//!
//! The order of preference is therefore: no single seat left + central third, no single seat
//! left anywhere, then (a customer still gets seats) the same two with a single seat left.

use std::cmp::Reverse;
use std::collections::BTreeMap;

/// Most seats one request may ask for.
pub const MAX_SEATS: u32 = 10;

/// The projection format that gets the sweet spot.
pub const IMAX: &str = "IMAX";

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
    /// The show's projection format: `2D`, `3D` or `IMAX`.
    pub format: String,
    /// Every seat of the screen, rows front (nearest the screen) to back.
    pub seats: Vec<MapSeat>,
    /// How many seats.
    pub count: u32,
    /// Only seats of this class, when given.
    pub seat_class: Option<SeatClass>,
    /// The customer needs a wheelchair space and companions next to it.
    pub accessible: bool,
}

/// Which columns of a row a block may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Columns {
    /// Only the central third (or all of it, for a group wider than it).
    CentralThird,
    /// Anywhere in the row.
    Any,
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
    let imax = req.format == IMAX;
    let preferred = if imax {
        sweet_spot_row(rows.len())
    } else {
        rows.len() / 2
    };
    let order = rows_by_rank(rows.len(), preferred);
    let columns: &[Columns] = if imax {
        &[Columns::CentralThird, Columns::Any]
    } else {
        &[Columns::Any]
    };
    for allow_single_gap in [false, true] {
        for &columns in columns {
            for row in order.iter().filter_map(|&i| rows.get(i)) {
                if let Some(block) = best_block(row, count, req, allow_single_gap, columns) {
                    return Ok(block.iter().map(|s| s.seat.id.clone()).collect());
                }
            }
        }
    }
    Err(nothing_fits(req, count))
}

/// The row two thirds of the way back of `rows` rows (0 = nearest the screen), rounded to the
/// nearest row: `round(2 (rows - 1) / 3)`, which is never exactly halfway between two.
pub fn sweet_spot_row(rows: usize) -> usize {
    rows.saturating_sub(1).saturating_mul(2).saturating_add(1) / 3
}

/// Row indices best first: nearest `preferred`, and of two as near, the one further back.
pub fn rows_by_rank(rows: usize, preferred: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..rows).collect();
    order.sort_by_key(|&i| (i.abs_diff(preferred), Reverse(i)));
    order
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

/// The rows of the map in the order of their first seat, each sorted by seat number (then id).
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

/// The central third of the seat numbers `low..=high`: the outer thirds are `width / 3` seats
/// each, so the central one has at least one seat.
pub fn central_third(low: u32, high: u32) -> (u32, u32) {
    let width = u64::from(high.saturating_sub(low)) + 1;
    let outer = u32::try_from(width / 3).unwrap_or(u32::MAX);
    (low.saturating_add(outer), high.saturating_sub(outer))
}

/// Does the block `first..=last` lie in the central third `centre`, or cover all of it?
fn in_central_third(first: u32, last: u32, centre: (u32, u32)) -> bool {
    let (low, high) = centre;
    (low <= first && last <= high) || (first <= low && high <= last)
}

/// The best block of `count` seats in `row` (sorted by number), if any fits.
fn best_block<'r, 'm>(
    row: &'r [&'m MapSeat],
    count: usize,
    req: &PickRequest,
    allow_single_gap: bool,
    columns: Columns,
) -> Option<&'r [&'m MapSeat]> {
    let (low, high) = (row.first()?.seat.number, row.last()?.seat.number);
    // Twice the row's centre, to stay in whole numbers.
    let row_centre = u64::from(low) + u64::from(high);
    let centre = central_third(low, high);
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
                    .any(|seat| seat.seat.class == SeatClass::Accessible))
            && (columns == Columns::Any
                || in_central_third(first.seat.number, last.seat.number, centre));
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
    use SeatClass::{Accessible, Premium, Standard};

    const ROWS: [&str; 12] = ["A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M"];

    /// A screen of `rows` rows (A, B, ...; no I) of `per_row` free standard seats.
    fn screen(rows: usize, per_row: u32) -> Vec<MapSeat> {
        let mut seats = Vec::new();
        for label in ROWS.iter().take(rows) {
            for number in 1..=per_row {
                seats.push(MapSeat {
                    seat: Seat {
                        id: format!("{label}-{number}"),
                        row: (*label).to_owned(),
                        number,
                        class: Standard,
                    },
                    state: Free,
                });
            }
        }
        seats
    }

    /// The ids `row-first` to `row-last`.
    fn run(row: &str, first: u32, last: u32) -> Vec<String> {
        (first..=last).map(|n| format!("{row}-{n}")).collect()
    }

    fn set(seats: &mut [MapSeat], ids: &[String], f: impl Fn(&mut MapSeat)) {
        for id in ids {
            let seat = seats
                .iter_mut()
                .find(|s| s.seat.id == *id)
                .unwrap_or_else(|| panic!("no seat {id} in the test map"));
            f(seat);
        }
    }

    fn mark(seats: &mut [MapSeat], ids: &[String], state: Availability) {
        set(seats, ids, |s| s.state = state);
    }

    fn req(format: &str, seats: Vec<MapSeat>, count: u32) -> PickRequest {
        PickRequest {
            format: format.to_owned(),
            seats,
            count,
            seat_class: None,
            accessible: false,
        }
    }

    fn ids(row: &str, first: u32, last: u32) -> Result<Vec<String>, String> {
        Ok(run(row, first, last))
    }

    #[test]
    fn the_sweet_spot_row_is_two_thirds_back() {
        assert_eq!(sweet_spot_row(0), 0);
        assert_eq!(sweet_spot_row(1), 0);
        assert_eq!(sweet_spot_row(2), 1); // 2/3 rounds up
        assert_eq!(sweet_spot_row(3), 1); // 4/3 rounds down
        assert_eq!(sweet_spot_row(4), 2);
        assert_eq!(sweet_spot_row(10), 6);
        assert_eq!(sweet_spot_row(12), 7); // 22/3 = 7.33
        assert_eq!(sweet_spot_row(usize::MAX), usize::MAX / 3);
        assert_eq!(rows_by_rank(10, 6), [6, 7, 5, 8, 4, 9, 3, 2, 1, 0]);
    }

    #[test]
    fn the_central_third() {
        assert_eq!(central_third(1, 12), (5, 8));
        assert_eq!(central_third(1, 10), (4, 7));
        assert_eq!(central_third(1, 2), (1, 2));
        assert_eq!(central_third(7, 7), (7, 7));
        assert_eq!(central_third(0, u32::MAX), (1_431_655_765, 2_863_311_530));
    }

    #[test]
    fn an_empty_imax_screen_gets_the_centre_two_thirds_back() {
        // Ten rows A-K: the sweet spot is row 6 (G), the middle row 5 (F).
        assert_eq!(pick(&req("IMAX", screen(10, 12), 2)), ids("G", 6, 7));
        assert_eq!(pick(&req("2D", screen(10, 12), 2)), ids("F", 6, 7));
        assert_eq!(pick(&req("3D", screen(10, 12), 3)), ids("F", 5, 7));
    }

    #[test]
    fn imax_prefers_the_central_third_of_another_row_to_the_edge_of_the_sweet_spot() {
        let mut seats = screen(10, 12);
        // G's central third (5-8) is sold: F and H are one row off; H is further back.
        mark(&mut seats, &run("G", 5, 8), Taken);
        assert_eq!(pick(&req("IMAX", seats.clone(), 2)), ids("H", 6, 7));
        mark(&mut seats, &run("H", 5, 8), Taken);
        assert_eq!(pick(&req("IMAX", seats.clone(), 2)), ids("F", 6, 7));
        // A 2D show stays in its middle row (F) whatever G and H look like.
        mark(&mut seats, &run("F", 5, 8), Taken);
        assert_eq!(pick(&req("2D", seats.clone(), 2)), ids("F", 3, 4));
    }

    #[test]
    fn imax_takes_the_outer_thirds_when_no_central_third_has_room() {
        let mut seats = screen(4, 12);
        for row in ["A", "B", "C", "D"] {
            mark(&mut seats, &run(row, 5, 8), Taken);
        }
        // Four rows: the sweet spot is row 2 (C). Free 1-4 and 9-12, as far from the centre:
        // the lower.
        assert_eq!(pick(&req("IMAX", seats, 2)), ids("C", 3, 4));
    }

    #[test]
    fn a_group_wider_than_the_central_third_must_cover_it() {
        let mut seats = screen(10, 12);
        // Six asked, the central third is 4 seats: 3-8, 4-9 or 5-10 would do; G-5 is sold.
        mark(&mut seats, &run("G", 5, 5), Taken);
        assert_eq!(pick(&req("IMAX", seats.clone(), 6)), ids("H", 4, 9));
        // A 2D show finds six in its middle row.
        assert_eq!(pick(&req("2D", seats, 6)), ids("F", 4, 9));
    }

    #[test]
    fn no_single_empty_seat_comes_before_the_central_third() {
        let mut seats = screen(3, 9);
        for row in ["A", "B", "C"] {
            mark(&mut seats, &[format!("{row}-3"), format!("{row}-7")], Taken);
        }
        // Central third 4-6 is free in every row, but a pair there strands a seat; the sweet
        // spot (B) has 1-2 and 8-9 free, as far from its centre.
        assert_eq!(pick(&req("IMAX", seats.clone(), 2)), ids("B", 1, 2));
        // Three fit the central third exactly.
        assert_eq!(pick(&req("IMAX", seats, 3)), ids("B", 4, 6));
    }

    #[test]
    fn a_single_gap_is_accepted_when_nothing_else_fits() {
        let mut seats = screen(1, 9);
        mark(&mut seats, &run("A", 1, 3), Taken);
        mark(&mut seats, &run("A", 7, 9), Blocked);
        // Free 4-6: either pair strands one; 4-5 is in the central third and lower.
        assert_eq!(pick(&req("IMAX", seats, 2)), ids("A", 4, 5));
    }

    #[test]
    fn classes_and_wheelchair_spaces_work_as_in_the_default() {
        let mut seats = screen(10, 12);
        set(&mut seats, &run("K", 1, 12), |s| s.seat.class = Premium);
        set(&mut seats, &run("H", 1, 2), |s| s.seat.class = Accessible);
        let mut ask = req("IMAX", seats.clone(), 2);
        ask.seat_class = Some(Premium);
        assert_eq!(pick(&ask), ids("K", 6, 7));

        // Needs a wheelchair space: only H-1 and H-2 are; none is in the central third.
        let mut ask = req("IMAX", seats.clone(), 3);
        ask.accessible = true;
        assert_eq!(pick(&ask), ids("H", 1, 3));

        // Nobody else gets them. With G's centre sold, ten seats covering a central third
        // are next found in H: 3-12, beside the two wheelchair spaces, which stay free (two
        // seats, so not a single one).
        mark(&mut seats, &run("G", 5, 8), Taken);
        let ask = req("IMAX", seats.clone(), 10);
        assert_eq!(pick(&ask), ids("H", 3, 12));
        let ask = req("IMAX", seats, 11);
        assert_eq!(
            pick(&ask),
            Err("at most 10 seats can be booked at once".to_owned())
        );
    }

    #[test]
    fn nothing_fits_is_refused_politely() {
        let mut seats = screen(2, 4);
        mark(&mut seats, &run("A", 1, 4), Taken);
        mark(&mut seats, &run("B", 2, 3), Blocked);
        assert_eq!(
            pick(&req("IMAX", seats.clone(), 2)),
            Err("sorry, no 2 adjacent seats are free for this show".to_owned())
        );
        let mut ask = req("IMAX", seats.clone(), 1);
        ask.seat_class = Some(Premium);
        assert_eq!(
            pick(&ask),
            Err("sorry, no premium seat is free for this show".to_owned())
        );
        assert_eq!(
            pick(&req("IMAX", screen(3, 8), 9)),
            Err("sorry, no 9 adjacent seats are free for this show".to_owned())
        );
        assert_eq!(
            pick(&req("IMAX", seats, 0)),
            Err("please ask for at least one seat".to_owned())
        );
    }

    #[test]
    fn the_sample_input() {
        // sample-input.json: six rows of ten, A wheelchair spaces, F premium; D-5, D-6 and
        // E-1, E-2 sold. The sweet spot is D, whose central third (4-7) has no pair left.
        let mut seats = screen(6, 10);
        set(&mut seats, &run("A", 1, 10), |s| s.seat.class = Accessible);
        set(&mut seats, &run("F", 1, 10), |s| s.seat.class = Premium);
        mark(&mut seats, &run("D", 5, 6), Taken);
        mark(&mut seats, &run("E", 1, 2), Taken);
        assert_eq!(pick(&req("IMAX", seats.clone(), 2)), ids("E", 5, 6));
        // As a 2D show D is the middle row too, and it keeps the pair: 3-4 and 7-8 are as
        // near its centre.
        assert_eq!(pick(&req("2D", seats, 2)), ids("D", 3, 4));
    }

    #[test]
    fn the_format_must_be_exactly_imax() {
        // `imax` is not a format the host allows; it gets the default like any other.
        assert_eq!(pick(&req("imax", screen(10, 12), 2)), ids("F", 6, 7));
    }
}
