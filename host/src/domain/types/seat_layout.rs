//! A screen's seats from the compact row description of `POST /theatres/{id}/screens`:
//! `[{label: "A", seats: 12, class: "standard", blocked: [5, 6]}, ...]` becomes seats
//! `A-1` … `A-12` in display order, seats 5 and 6 blocked.

use std::collections::HashSet;

use crate::domain::hook_io::SeatClass;

/// Most rows on one screen.
pub const MAX_ROWS: usize = 60;
/// Most seats in one row.
pub const MAX_SEATS_PER_ROW: u32 = 100;

/// One row as described by a client: also the wire shape of a row in
/// `POST /theatres/{id}/screens`, so the API and the fuzz target parse the same type.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RowBody)]
pub struct RowSpec {
    /// Row label: 1 to 3 uppercase letters or digits, e.g. `A`, `AA`, `B2`; unique on the
    /// screen.
    #[schema(pattern = "^[A-Z0-9]{1,3}$")]
    pub label: String,
    /// Seats in the row, numbered from 1.
    #[schema(schema_with = schema::seats)]
    pub seats: u32,
    /// Class of every seat in the row.
    pub class: SeatClass,
    /// Seat numbers that are not for sale (aisles, broken seats), each at most `seats`.
    #[serde(default)]
    #[schema(schema_with = schema::blocked)]
    pub blocked: Vec<u32>,
}

/// The OpenAPI schemas of [`RowSpec`]'s fields, from the limits [`expand`] checks.
mod schema {
    use super::MAX_SEATS_PER_ROW;
    use utoipa::openapi::schema::{ArrayBuilder, Object, ObjectBuilder, Type};

    fn seat_number() -> ObjectBuilder {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(MAX_SEATS_PER_ROW))
    }
    pub(super) fn seats() -> Object {
        seat_number().build()
    }
    pub(super) fn blocked() -> ArrayBuilder {
        ArrayBuilder::new()
            .items(seat_number())
            .unique_items(true)
            .default(Some(serde_json::json!([])))
    }
}

/// A seat produced from the layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaidSeat {
    /// `A-7`.
    pub id: String,
    /// `A`.
    pub row: String,
    /// 7.
    pub number: u32,
    /// The row's class.
    pub class: SeatClass,
    /// Not for sale.
    pub blocked: bool,
}

/// Expands the rows, or explains (per field path) what is wrong with them.
pub fn expand(rows: &[RowSpec]) -> Result<Vec<LaidSeat>, Vec<(String, String)>> {
    let errors = problems(rows);
    if !errors.is_empty() {
        return Err(errors);
    }
    // Only a valid description is expanded, so a 1 MiB body of thousands of rows costs its
    // own size to check, not a hundred seats per row (at most MAX_ROWS x MAX_SEATS_PER_ROW).
    let seats: Vec<LaidSeat> = rows
        .iter()
        .flat_map(|row| {
            let blocked: HashSet<u32> = row.blocked.iter().copied().collect();
            (1..=row.seats).map(move |number| LaidSeat {
                id: format!("{}-{number}", row.label),
                row: row.label.clone(),
                number,
                class: row.class,
                blocked: blocked.contains(&number),
            })
        })
        .collect();
    if seats.iter().all(|s| s.blocked) {
        return Err(vec![("rows".into(), "every seat is blocked".into())]);
    }
    Ok(seats)
}

/// Every problem of the description, by field path.
fn problems(rows: &[RowSpec]) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    if rows.is_empty() {
        errors.push(("rows".into(), "a screen needs at least one row".into()));
    }
    if rows.len() > MAX_ROWS {
        errors.push(("rows".into(), format!("at most {MAX_ROWS} rows")));
    }
    let mut labels = HashSet::new();
    for (i, row) in rows.iter().enumerate() {
        let at = |field: &str| format!("rows[{i}].{field}");
        let label_ok = (1..=3).contains(&row.label.len())
            && row
                .label
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if !label_ok {
            errors.push((at("label"), "1 to 3 uppercase letters or digits".into()));
        } else if !labels.insert(row.label.clone()) {
            errors.push((at("label"), format!("row {} appears twice", row.label)));
        }
        if row.seats == 0 || row.seats > MAX_SEATS_PER_ROW {
            errors.push((at("seats"), format!("1 to {MAX_SEATS_PER_ROW} seats")));
            continue;
        }
        if let Some(bad) = row.blocked.iter().find(|&&n| n == 0 || n > row.seats) {
            errors.push((at("blocked"), format!("seat {bad} is not in this row")));
        }
        let blocked: HashSet<u32> = row.blocked.iter().copied().collect();
        if blocked.len() != row.blocked.len() {
            errors.push((at("blocked"), "a seat is listed twice".into()));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(label: &str, seats: u32, blocked: &[u32]) -> RowSpec {
        RowSpec {
            label: label.into(),
            seats,
            class: SeatClass::Standard,
            blocked: blocked.to_vec(),
        }
    }

    #[test]
    fn expands_rows_in_order_with_blocked_seats() {
        let seats = expand(&[row("A", 3, &[2]), row("B", 2, &[])]).expect("valid");
        let ids: Vec<_> = seats.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["A-1", "A-2", "A-3", "B-1", "B-2"]);
        assert!(seats[1].blocked && !seats[0].blocked);
    }

    #[test]
    fn explains_every_problem_by_field() {
        let errors = expand(&[row("a", 0, &[]), row("B", 3, &[4, 4]), row("B", 1, &[])])
            .expect_err("invalid");
        let fields: Vec<_> = errors.iter().map(|(f, _)| f.as_str()).collect();
        assert!(fields.contains(&"rows[0].label"));
        assert!(fields.contains(&"rows[0].seats"));
        assert!(fields.contains(&"rows[1].blocked"));
        assert!(fields.contains(&"rows[2].label"));
    }

    #[test]
    fn refuses_empty_and_fully_blocked_screens() {
        assert!(expand(&[]).is_err());
        assert!(expand(&[row("A", 2, &[1, 2])]).is_err());
        assert!(expand(&[row("A", MAX_SEATS_PER_ROW + 1, &[])]).is_err());
    }

    #[test]
    fn refuses_thousands_of_rows_without_laying_their_seats() {
        // Found while writing fuzz/fuzz_targets/seat_layout.rs: every row used to be laid out
        // before the row limit was reported; one body under 1 MiB (25,500 full rows) allocated
        // ~500 MB. These 200k rows would be 20M seats (gigabytes); checking them takes ms.
        let rows: Vec<RowSpec> = (0..200_000)
            .map(|_| row("A", MAX_SEATS_PER_ROW, &[]))
            .collect();
        let started = std::time::Instant::now();
        let errors = expand(&rows).expect_err("too many rows");
        assert!(errors.contains(&("rows".into(), format!("at most {MAX_ROWS} rows"))));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
    }
}
