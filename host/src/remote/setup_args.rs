//! The arguments of the commands that set up a chain of one's own: `remote chain`, `theatre`,
//! `screen`, `movie` and `show` (the bodies of `POST /chains`, `/theatres`,
//! `/theatres/{id}/screens`, `/theatres/{id}/movies`, `/movies` and `/shows`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Subcommand;
use serde_json::{Value, json};
use uuid::Uuid;

use super::args::parse_time;

/// `cineflow remote chain ...`
#[derive(Debug, Subcommand)]
pub enum ChainAction {
    /// Create a chain (an approved owner becomes its first member); prints its id.
    Create {
        /// The chain's name, unique on the server.
        #[arg(long)]
        name: String,
        /// ISO 4217 code of the currency its prices are in, e.g. `INR`.
        #[arg(long)]
        currency: String,
        /// IANA time zone of its theatres, e.g. `Asia/Kolkata`.
        #[arg(long)]
        timezone: String,
    },
}

/// `cineflow remote theatre ...`
#[derive(Debug, Subcommand)]
pub enum TheatreAction {
    /// Create a theatre of a chain; prints its id.
    Create {
        /// The chain's id.
        #[arg(long)]
        chain: Uuid,
        #[arg(long)]
        name: String,
        /// A line or two for customers.
        #[arg(long)]
        description: String,
        #[arg(long)]
        city: String,
        #[arg(long)]
        address: String,
        /// The postal code (3 to 12 letters, digits, spaces or dashes).
        #[arg(long)]
        pin_code: String,
    },
    /// Put movies on the theatre's now-showing list (a show needs its movie there); prints
    /// the ids on the list.
    AddMovie {
        /// The theatre's id.
        #[arg(long)]
        theatre: Uuid,
        /// A movie's id (repeat, or separate with commas, for several).
        #[arg(long, required = true, value_delimiter = ',')]
        movie: Vec<Uuid>,
    },
}

/// `cineflow remote screen ...`
#[derive(Debug, Subcommand)]
pub enum ScreenAction {
    /// Create a screen and its seats in a theatre; prints its id.
    Create {
        /// The theatre's id.
        #[arg(long)]
        theatre: Uuid,
        /// Unique in the theatre.
        #[arg(long)]
        name: String,
        /// The rows, front to back: `LABEL:SEATS:CLASS[:BLOCKED+BLOCKED...]` separated by
        /// commas, e.g. `A:10:standard,B:8:premium:7+8` (classes: standard, premium, vip,
        /// accessible; blocked seats are not for sale).
        #[arg(long, value_parser = parse_rows, required_unless_present = "rows_file",
              conflicts_with = "rows_file")]
        rows: Option<Rows>,
        /// The rows as a JSON file: `[{"label": "A", "seats": 10, "class": "standard",
        /// "blocked": [3]}, ...]` (or `{"rows": [...]}`).
        #[arg(long)]
        rows_file: Option<PathBuf>,
    },
}

/// `cineflow remote movie ...`
#[derive(Debug, Subcommand)]
pub enum MovieAction {
    /// Add a movie to the catalogue; prints its id.
    Create {
        /// The chain that owns it (required for chain staff; an admin omits it for a
        /// platform movie).
        #[arg(long)]
        chain: Option<Uuid>,
        #[arg(long)]
        title: String,
        #[arg(long)]
        description: String,
        /// Names, separated by commas (or repeat the flag).
        #[arg(long, required = true, value_delimiter = ',')]
        cast: Vec<String>,
        #[arg(long)]
        director: String,
        /// An `http://` or `https://` URL.
        #[arg(long)]
        trailer_url: String,
        /// `YYYY-MM-DD`.
        #[arg(long)]
        release_date: String,
        /// `released` or `coming_soon`.
        #[arg(long, default_value = "released")]
        release_status: String,
        /// Languages, separated by commas (or repeat the flag).
        #[arg(long, required = true, value_delimiter = ',')]
        languages: Vec<String>,
        #[arg(long)]
        runtime_minutes: u32,
        /// The rating, e.g. `UA`.
        #[arg(long)]
        certificate: Option<String>,
    },
}

/// `cineflow remote show ...`
#[derive(Debug, Subcommand)]
pub enum ShowAction {
    /// Schedule a show (its movie must be on the theatre's now-showing list: `remote theatre
    /// add-movie`); prints its id.
    Create {
        /// The screen's id.
        #[arg(long)]
        screen: Uuid,
        /// The movie's id.
        #[arg(long)]
        movie: Uuid,
        /// When it starts (RFC 3339, in the future), e.g. `2026-12-09T13:30:00+05:30`.
        #[arg(long, value_parser = parse_time)]
        starts_at: String,
        /// A price in minor units for every seat class of the screen:
        /// `standard=25000,premium=40000`.
        #[arg(long, value_parser = parse_prices)]
        prices: Prices,
        /// `2D` (the server's default), `3D` or `IMAX`.
        #[arg(long)]
        format: Option<String>,
    },
}

/// `--rows`, as the JSON rows of `POST /theatres/{id}/screens`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rows(pub Vec<Value>);

/// `--prices`, as the JSON object of `POST /shows`.
#[derive(Debug, Clone, PartialEq)]
pub struct Prices(pub BTreeMap<String, i64>);

fn parse_rows(raw: &str) -> Result<Rows, String> {
    let rows = raw
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(parse_row)
        .collect::<Result<Vec<_>, _>>()?;
    if rows.is_empty() {
        return Err("no rows: give e.g. A:10:standard,B:8:premium".into());
    }
    Ok(Rows(rows))
}

fn parse_row(row: &str) -> Result<Value, String> {
    let parts: Vec<&str> = row.split(':').map(str::trim).collect();
    let (label, seats, class, blocked) = match parts.as_slice() {
        [label, seats, class] => (*label, *seats, *class, None),
        [label, seats, class, blocked] => (*label, *seats, *class, Some(*blocked)),
        _ => {
            return Err(format!(
                "{row:?}: a row is LABEL:SEATS:CLASS or LABEL:SEATS:CLASS:BLOCKED+BLOCKED"
            ));
        }
    };
    let number = |n: &str| {
        n.parse::<u32>()
            .map_err(|_| format!("{row:?}: {n:?} is not a seat count or number"))
    };
    let mut spec = json!({"label": label, "seats": number(seats)?, "class": class});
    if let Some(blocked) = blocked {
        let numbers = blocked
            .split('+')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(number)
            .collect::<Result<Vec<_>, _>>()?;
        spec["blocked"] = json!(numbers);
    }
    Ok(spec)
}

fn parse_prices(raw: &str) -> Result<Prices, String> {
    let mut prices = BTreeMap::new();
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (class, amount) = pair.split_once('=').ok_or_else(|| {
            format!("{pair:?}: a price is CLASS=MINOR_UNITS, e.g. standard=25000")
        })?;
        let amount = amount
            .trim()
            .parse::<i64>()
            .map_err(|_| format!("{pair:?}: {amount:?} is not a whole number of minor units"))?;
        if prices.insert(class.trim().to_owned(), amount).is_some() {
            return Err(format!("{class:?} is priced twice"));
        }
    }
    if prices.is_empty() {
        return Err("no prices: give e.g. standard=25000,premium=40000".into());
    }
    Ok(Prices(prices))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_label_seats_class_and_blocked_seats() {
        let rows = parse_rows("A:10:standard, B:8:premium:7+8").expect("parses");
        assert_eq!(
            rows.0,
            [
                json!({"label": "A", "seats": 10, "class": "standard"}),
                json!({"label": "B", "seats": 8, "class": "premium", "blocked": [7, 8]}),
            ]
        );
        for bad in ["", "A:10", "A:ten:standard", "A:10:standard:x", "A:1:b:2:3"] {
            assert!(parse_rows(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn prices_are_class_equals_minor_units() {
        let prices = parse_prices("standard=25000,premium=40000").expect("parses");
        assert_eq!(
            prices.0,
            BTreeMap::from([("premium".into(), 40000), ("standard".into(), 25000)])
        );
        for bad in ["", "standard", "standard=lots", "standard=1,standard=2"] {
            assert!(parse_prices(bad).is_err(), "{bad:?}");
        }
    }
}
