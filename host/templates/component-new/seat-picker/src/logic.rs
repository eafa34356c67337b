//! The seat choice, in plain Rust: no WIT types, so `cargo test` runs it natively.
//!
//! Start: the first free seats (in display order, nearest the screen first) of the class asked
//! for, together in one row when a row has enough, and with an accessible seat first when one
//! is asked for. Change `pick` to choose your way; the host checks every pick (exactly `count`
//! distinct free seats of the screen, of the class asked for).

/// A seat of the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seat {
    /// Its id, e.g. `A-7`.
    pub id: String,
    /// Its row.
    pub row: String,
    /// Its class's WIT name (`standard`, `premium`, `vip`, `accessible`).
    pub class: &'static str,
    /// Neither taken nor blocked.
    pub free: bool,
}

/// What a pick needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickRequest {
    /// Every seat of the screen, in display order.
    pub seats: Vec<Seat>,
    /// How many (1 to 10).
    pub count: usize,
    /// Only this class, if given.
    pub class: Option<&'static str>,
    /// One of the seats must be accessible.
    pub accessible: bool,
}

/// The ids of the seats chosen; `Err` when nothing fits, with a reason for the customer.
pub fn pick(req: &PickRequest) -> Result<Vec<String>, String> {
    let fits = |s: &&Seat| s.free && req.class.is_none_or(|c| s.class == c);
    let candidates: Vec<&Seat> = req.seats.iter().filter(fits).collect();
    if req.accessible && !candidates.iter().any(|s| s.class == "accessible") {
        return Err("no accessible seat is free".into());
    }
    // One row with enough seats, if there is one.
    let mut rows: Vec<&str> = Vec::new();
    for seat in &candidates {
        if !rows.contains(&seat.row.as_str()) {
            rows.push(&seat.row);
        }
    }
    for row in rows {
        let in_row: Vec<&&Seat> = candidates.iter().filter(|s| s.row == row).collect();
        let has_accessible = in_row.iter().any(|s| s.class == "accessible");
        if in_row.len() >= req.count && (!req.accessible || has_accessible) {
            return Ok(choose(in_row.into_iter().copied(), req));
        }
    }
    if candidates.len() >= req.count {
        return Ok(choose(candidates.into_iter(), req));
    }
    Err(format!("{} seats together are not free", req.count))
}

/// `count` seats of `seats`, an accessible one first when asked for.
fn choose<'a>(seats: impl Iterator<Item = &'a Seat>, req: &PickRequest) -> Vec<String> {
    let seats: Vec<&Seat> = seats.collect();
    let mut chosen: Vec<&Seat> = Vec::with_capacity(req.count);
    if req.accessible
        && let Some(first) = seats.iter().find(|s| s.class == "accessible")
    {
        chosen.push(first);
    }
    for seat in seats {
        if chosen.len() == req.count {
            break;
        }
        if !chosen.iter().any(|c| c.id == seat.id) {
            chosen.push(seat);
        }
    }
    chosen.into_iter().map(|s| s.id.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seat(id: &str, class: &'static str, free: bool) -> Seat {
        Seat {
            id: id.into(),
            row: id[..1].into(),
            class,
            free,
        }
    }

    fn req(seats: Vec<Seat>, count: usize, accessible: bool) -> PickRequest {
        PickRequest {
            seats,
            count,
            class: None,
            accessible,
        }
    }

    #[test]
    fn picks_free_seats_together_in_one_row() {
        let seats = vec![
            seat("A-1", "standard", false),
            seat("A-2", "standard", true),
            seat("B-1", "standard", true),
            seat("B-2", "standard", true),
        ];
        assert_eq!(pick(&req(seats, 2, false)), Ok(vec!["B-1".into(), "B-2".into()]));
    }

    #[test]
    fn an_accessible_seat_comes_first_and_a_full_screen_is_refused() {
        let seats = vec![seat("A-1", "standard", true), seat("A-2", "accessible", true)];
        assert_eq!(
            pick(&req(seats.clone(), 2, true)),
            Ok(vec!["A-2".into(), "A-1".into()])
        );
        assert!(pick(&req(seats, 3, false)).is_err());
    }
}
