//! `POST /theatres/{id}/screens`: the JSON body through the API's own JSON guard, then the
//! row description expanded into seats. Never panics; an accepted layout obeys its limits;
//! and checking a description allocates in proportion to its size, not a hundred seats a row.
#![no_main]

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use cineflow::domain::types::seat_layout::{self, MAX_ROWS, MAX_SEATS_PER_ROW, RowSpec};
use cineflow::http::extract::parse_json;
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;

/// `CreateScreen` of host/src/http/screens.rs (private there): a name around the rows. The
/// rows are the host's own wire type, `RowSpec`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateScreen {
    #[allow(dead_code)]
    name: String,
    rows: Vec<RowSpec>,
}

/// Counts the bytes Rust code asks for, so the target can bound what `expand` allocates.
struct Counting;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call unchanged to the system allocator; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATED.fetch_add(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The largest valid screen (60 x 100 seats) needs well under 2 MiB; past that, what checking
/// a description costs must stay a small multiple of the body's size.
fn allocation_bound(body_len: usize) -> usize {
    2 * 1024 * 1024 + 32 * body_len
}

fuzz_target!(|data: &[u8]| {
    let Ok(body) = parse_json::<CreateScreen>(data) else {
        return;
    };
    let rows = body.rows;
    let before = ALLOCATED.load(Ordering::Relaxed);
    let expanded = seat_layout::expand(&rows);
    let allocated = ALLOCATED.load(Ordering::Relaxed) - before;
    assert!(
        allocated <= allocation_bound(data.len()),
        "expanding {} rows from {} bytes allocated {allocated} bytes",
        rows.len(),
        data.len()
    );
    match expanded {
        Ok(seats) => check_layout(&rows, &seats),
        Err(errors) => {
            assert!(!errors.is_empty(), "a refusal names at least one problem");
            for (field, message) in &errors {
                assert!(field.starts_with("rows"), "field path {field:?}");
                assert!(!message.is_empty());
            }
        }
    }
});

fn check_layout(rows: &[RowSpec], seats: &[seat_layout::LaidSeat]) {
    assert!((1..=MAX_ROWS).contains(&rows.len()));
    let expected: u64 = rows.iter().map(|r| u64::from(r.seats)).sum();
    assert_eq!(seats.len() as u64, expected);
    assert!(seats.len() <= MAX_ROWS * MAX_SEATS_PER_ROW as usize);
    assert!(
        seats.iter().any(|s| !s.blocked),
        "an accepted screen sells a seat"
    );
    let mut ids = HashSet::new();
    let mut at = seats.iter();
    for row in rows {
        assert!((1..=MAX_SEATS_PER_ROW).contains(&row.seats));
        for number in 1..=row.seats {
            let seat = at.next().expect("one seat per number");
            assert_eq!(seat.row, row.label);
            assert_eq!(seat.number, number);
            assert_eq!(seat.class, row.class);
            assert_eq!(seat.blocked, row.blocked.contains(&number));
            // The id is what bookings send back: it must name exactly this seat.
            assert_eq!(seat.id, format!("{}-{number}", row.label));
            let (label, n) = seat.id.split_once('-').expect("label-number");
            assert_eq!(
                (label, n.parse::<u32>().ok()),
                (row.label.as_str(), Some(number))
            );
            assert!(ids.insert(seat.id.clone()), "seat {} twice", seat.id);
        }
    }
    assert!(at.next().is_none());
}
