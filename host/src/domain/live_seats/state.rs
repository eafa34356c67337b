//! One show's seat states in memory: which booking holds each seat and until when, moved on by
//! the changes PostgreSQL announces and by the clock (a hold whose time has passed frees its
//! seat at once, without any write). Pure: no I/O, no clock of its own; the caller passes
//! "now" in epoch milliseconds.

use std::collections::HashMap;
use std::sync::Arc;

use uuid::Uuid;

use crate::db::screens::SeatRow;

/// What a seat is, as the seat map shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatState {
    /// Free to hold.
    Available,
    /// In a live hold.
    Held,
    /// Paid for.
    Sold,
    /// Not for sale (the screen's layout says so).
    Blocked,
}

impl SeatState {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "available",
            Self::Held => "held",
            Self::Sold => "sold",
            Self::Blocked => "blocked",
        }
    }
}

/// One announced row of `booking_seats`: seat `seat` of booking `booking` is taken from
/// `from_ms` until `until_ms` (`None`: for good).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct SeatRowChange(pub String, pub Uuid, pub i64, pub Option<i64>);

impl SeatRowChange {
    fn live_at(&self, now_ms: i64) -> bool {
        self.3.is_none_or(|until| until > now_ms)
    }
}

/// The booking that has a seat now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Taken {
    booking: Uuid,
    from_ms: i64,
    /// `None`: sold.
    until_ms: Option<i64>,
}

/// A screen's seats with an index from seat id to position, shared by every show on the screen.
#[derive(Debug)]
pub struct Layout {
    /// In display order.
    pub seats: Arc<Vec<SeatRow>>,
    index: HashMap<String, usize>,
}

impl Layout {
    /// Indexes `seats`.
    pub fn new(seats: Arc<Vec<SeatRow>>) -> Self {
        let index = seats
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        Self { seats, index }
    }

    fn position(&self, seat: &str) -> Option<usize> {
        self.index.get(seat).copied()
    }
}

/// The seat states of one show.
#[derive(Debug)]
pub struct ShowSeats {
    layout: Arc<Layout>,
    taken: Vec<Option<Taken>>,
    /// The last booking that let each seat go: a late announcement of its take (one that
    /// overtook nothing but arrives after the release, e.g. after a local re-read) is stale.
    released: Vec<Option<Uuid>>,
    states: Vec<SeatState>,
    /// The earliest end of a hold still counted as held, when the map next changes by itself.
    next_expiry_ms: Option<i64>,
}

impl ShowSeats {
    /// The map of a show on `layout` whose live rows are `rows`, as of `now_ms`.
    pub fn new(layout: Arc<Layout>, rows: &[SeatRowChange], now_ms: i64) -> Self {
        let n = layout.seats.len();
        let mut map = Self {
            states: layout
                .seats
                .iter()
                .map(|s| {
                    if s.blocked {
                        SeatState::Blocked
                    } else {
                        SeatState::Available
                    }
                })
                .collect(),
            layout,
            taken: vec![None; n],
            released: vec![None; n],
            next_expiry_ms: None,
        };
        map.apply(rows, now_ms);
        map
    }

    /// The seats in display order.
    pub fn layout(&self) -> &Arc<Layout> {
        &self.layout
    }

    /// Each seat's state, parallel to the layout.
    pub fn states(&self) -> &[SeatState] {
        &self.states
    }

    /// Applies announced rows (in commit order) and the clock; answers the seats whose state
    /// changed, in layout order.
    ///
    /// Rows can arrive more than once and slightly out of order (a replica re-reads a show
    /// while announcements are in flight, then replays them), so each is applied only if it
    /// is not older than what the seat already shows: a take replaces the seat's booking when
    /// it is the same booking or a later one (a seat is taken by one live booking at a time,
    /// `booking_seats_live_key`, so a later take started after the earlier one ended); a
    /// release clears the seat only if it is that seat's booking.
    pub fn apply(&mut self, rows: &[SeatRowChange], now_ms: i64) -> Vec<usize> {
        for row in rows {
            let Some(i) = self.layout.position(&row.0) else {
                continue;
            };
            let current = self.taken[i];
            if row.live_at(now_ms) {
                let stale = self.released[i] == Some(row.1)
                    || current.is_some_and(|c| c.booking != row.1 && c.from_ms > row.2);
                if !stale {
                    self.taken[i] = Some(Taken {
                        booking: row.1,
                        from_ms: row.2,
                        until_ms: row.3,
                    });
                }
            } else if current.is_some_and(|c| c.booking == row.1) {
                self.taken[i] = None;
                self.released[i] = Some(row.1);
            }
        }
        self.settle(now_ms)
    }

    /// Lets the clock free the seats of holds that ran out by `now_ms`; answers the seats whose
    /// state changed.
    pub fn tick(&mut self, now_ms: i64) -> Vec<usize> {
        match self.next_expiry_ms {
            Some(at) if at <= now_ms => self.settle(now_ms),
            _ => Vec::new(),
        }
    }

    /// Whether the clock will change the map at or before `now_ms`.
    pub fn expires_by(&self, now_ms: i64) -> bool {
        self.next_expiry_ms.is_some_and(|at| at <= now_ms)
    }

    /// Recomputes every state from `taken` and the clock.
    fn settle(&mut self, now_ms: i64) -> Vec<usize> {
        let mut changed = Vec::new();
        let mut next = None::<i64>;
        for (i, seat) in self.layout.seats.iter().enumerate() {
            // Not recorded as released: a hold's payment can commit (and be announced) just
            // after the hold's end by this replica's clock (the charge runs inside the
            // payment's transaction, and clocks differ by milliseconds), and its row must
            // still make the seat sold. A late copy of the hold's own row is not live any
            // more and is ignored as such.
            if self.taken[i].is_some_and(|t| t.until_ms.is_some_and(|u| u <= now_ms)) {
                self.taken[i] = None;
            }
            let state = match self.taken[i] {
                _ if seat.blocked => SeatState::Blocked,
                None => SeatState::Available,
                Some(Taken { until_ms: None, .. }) => SeatState::Sold,
                Some(Taken {
                    until_ms: Some(u), ..
                }) => {
                    next = Some(next.map_or(u, |n| n.min(u)));
                    SeatState::Held
                }
            };
            if self.states[i] != state {
                self.states[i] = state;
                changed.push(i);
            }
        }
        self.next_expiry_ms = next;
        changed
    }

    /// The seats whose state differs between `self` and `other` (same layout), in layout order.
    pub fn differs_from(&self, other: &ShowSeats) -> Vec<usize> {
        self.states
            .iter()
            .zip(&other.states)
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .map(|(i, _)| i)
            .collect()
    }

    /// Keeps what this map knows of released bookings when it replaces `older` after a re-read.
    pub fn inherit_releases(&mut self, older: &ShowSeats) {
        if self.released.len() == older.released.len() {
            for (mine, theirs) in self.released.iter_mut().zip(&older.released) {
                if mine.is_none() {
                    *mine = *theirs;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::hook_io::SeatClass;

    fn layout(n: usize) -> Arc<Layout> {
        let seats = (1..=n)
            .map(|i| SeatRow {
                id: format!("A-{i}"),
                row_label: "A".into(),
                number: i32::try_from(i).unwrap_or(0),
                class: SeatClass::Standard,
                blocked: i == n,
            })
            .collect();
        Arc::new(Layout::new(Arc::new(seats)))
    }

    fn row(seat: &str, booking: Uuid, from: i64, until: Option<i64>) -> SeatRowChange {
        SeatRowChange(seat.into(), booking, from, until)
    }

    #[test]
    fn a_hold_then_its_payment_then_its_cancellation() {
        let b = Uuid::now_v7();
        let mut m = ShowSeats::new(layout(3), &[], 1_000);
        assert_eq!(m.states()[2], SeatState::Blocked);
        assert_eq!(
            m.apply(&[row("A-1", b, 1_000, Some(5_000))], 1_000),
            vec![0]
        );
        assert_eq!(m.states()[0], SeatState::Held);
        assert_eq!(m.apply(&[row("A-1", b, 1_000, None)], 2_000), vec![0]);
        assert_eq!(m.states()[0], SeatState::Sold);
        assert_eq!(
            m.apply(&[row("A-1", b, 1_000, Some(3_000))], 3_000),
            vec![0]
        );
        assert_eq!(m.states()[0], SeatState::Available);
    }

    #[test]
    fn a_hold_runs_out_by_the_clock() {
        let b = Uuid::now_v7();
        let mut m = ShowSeats::new(layout(3), &[row("A-2", b, 0, Some(5_000))], 1_000);
        assert_eq!(m.states()[1], SeatState::Held);
        assert!(m.tick(4_999).is_empty());
        assert!(m.expires_by(5_000));
        assert_eq!(m.tick(5_000), vec![1]);
        assert_eq!(m.states()[1], SeatState::Available);
        // The late announcement of that hold does not bring it back.
        assert!(m.apply(&[row("A-2", b, 0, Some(5_000))], 5_001).is_empty());
        // Its payment, committed just after the hold's end by this clock, does.
        assert_eq!(m.apply(&[row("A-2", b, 0, None)], 5_002), vec![1]);
        assert_eq!(m.states()[1], SeatState::Sold);
    }

    #[test]
    fn stale_rows_of_an_earlier_booking_do_not_overwrite_a_later_one() {
        let (early, late) = (Uuid::now_v7(), Uuid::now_v7());
        let mut m = ShowSeats::new(layout(3), &[row("A-1", late, 2_000, Some(9_000))], 2_500);
        // The earlier booking's take and release arrive after the re-read that saw the later.
        assert!(
            m.apply(&[row("A-1", early, 1_000, Some(9_000))], 2_600)
                .is_empty()
        );
        assert!(
            m.apply(&[row("A-1", early, 1_000, Some(1_500))], 2_600)
                .is_empty()
        );
        assert_eq!(m.states()[0], SeatState::Held);
        // A release of the booking that has it frees it; a replay of its take does not retake.
        assert_eq!(
            m.apply(&[row("A-1", late, 2_000, Some(2_700))], 2_700),
            vec![0]
        );
        assert!(
            m.apply(&[row("A-1", late, 2_000, Some(9_000))], 2_800)
                .is_empty()
        );
    }

    #[test]
    fn unknown_seats_are_ignored_and_blocked_seats_stay_blocked() {
        let b = Uuid::now_v7();
        let mut m = ShowSeats::new(layout(3), &[], 0);
        assert!(
            m.apply(&[row("Z-9", b, 0, None), row("A-3", b, 0, None)], 0)
                .is_empty()
        );
        assert_eq!(m.states()[2], SeatState::Blocked);
    }

    #[test]
    fn differences_between_two_maps() {
        let b = Uuid::now_v7();
        let l = layout(3);
        let a = ShowSeats::new(l.clone(), &[], 0);
        let c = ShowSeats::new(l, &[row("A-2", b, 0, None)], 0);
        assert_eq!(c.differs_from(&a), vec![1]);
    }
}
