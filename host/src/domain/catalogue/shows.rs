//! Scheduling shows: a movie on a screen at a time, with a price per seat class.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Catalogue, Problems, Show, ShowFilter, is_constraint, on_read_pool};
use crate::db::shows::{self, NewShow, Prices, ShowUpdate};
use crate::db::{bookings, chains, movies, screens, theatres};
use crate::domain::hook_io::SeatClass;
use crate::domain::{Actor, DomainError};

/// The limits a show's fields are checked against, read by the OpenAPI document as well
/// (`http/shows.rs`).
pub mod limits {
    /// The formats a show may be in.
    pub const FORMATS: [&str; 3] = ["2D", "3D", "IMAX"];
    /// Highest price of a seat, in minor units.
    pub const MAX_PRICE_MINOR: i64 = 100_000_000_000;
}
use limits::{FORMATS, MAX_PRICE_MINOR};

/// A show to schedule, as sent; its fields are checked against the screen and the movie,
/// so they are validated here rather than at the edge.
#[derive(Debug)]
pub struct NewShowCommand {
    /// Screen.
    pub screen_id: Uuid,
    /// Movie.
    pub movie_id: Uuid,
    /// RFC 3339, in the future.
    pub starts_at: String,
    /// Minor units per seat class name.
    pub prices: BTreeMap<String, i64>,
    /// `2D` when absent.
    pub format: Option<String>,
}

/// Changes to a show, as sent (movie and screen are fixed).
#[derive(Debug)]
pub struct ShowChanges {
    /// RFC 3339, in the future.
    pub starts_at: Option<String>,
    /// Minor units per seat class name.
    pub prices: Option<BTreeMap<String, i64>>,
    /// `2D`, `3D` or `IMAX`.
    pub format: Option<String>,
}

fn parse_start(p: &mut Problems, raw: &str) -> Option<DateTime<Utc>> {
    let Ok(at) = DateTime::parse_from_rfc3339(raw) else {
        p.add("starts_at", "must be an RFC 3339 time with offset");
        return None;
    };
    let at = at.with_timezone(&Utc);
    if at <= Utc::now() {
        p.add("starts_at", "must be in the future");
        return None;
    }
    Some(at)
}

/// The prices of the request, keyed by class once every key is known to be one.
fn check_prices(p: &mut Problems, raw: &BTreeMap<String, i64>, needed: &[SeatClass]) -> Prices {
    let mut prices = Prices::new();
    for (key, amount) in raw {
        let Some(class) = SeatClass::parse(key) else {
            p.add(format!("prices.{key}"), "is not a seat class");
            continue;
        };
        if !(0..=MAX_PRICE_MINOR).contains(amount) {
            p.add(
                format!("prices.{key}"),
                "must be between 0 and 100000000000 minor units",
            );
        }
        prices.insert(class, *amount);
    }
    for class in needed {
        if !prices.contains_key(class) {
            p.add(
                format!("prices.{class}"),
                "the screen has seats of this class; give them a price",
            );
        }
    }
    prices
}

fn check_format(p: &mut Problems, format: &str) {
    if !FORMATS.contains(&format) {
        p.add("format", "must be `2D`, `3D` or `IMAX`");
    }
}

/// Two shows on one screen whose busy windows (runtime plus cleaning) overlap.
fn busy_error(e: sqlx::Error) -> DomainError {
    if is_constraint(&e, "shows_screen_busy") {
        DomainError::ScreenBusy
    } else {
        DomainError::Db(e)
    }
}

impl Catalogue {
    /// Schedules a show on a screen of a chain the actor is staff of.
    pub async fn create_show(
        &self,
        actor: &Actor,
        cmd: NewShowCommand,
    ) -> Result<Show, DomainError> {
        let mut conn = self.pool.acquire().await?;
        // The request names only the screen: its chain is learned here.
        let screen = screens::find_by_id(&mut conn, cmd.screen_id)
            .await?
            .ok_or_else(|| DomainError::NotFound("no such screen".into()))?;
        actor.require_member(&mut conn, screen.chain_id).await?;
        let mut p = Problems::default();
        let starts_at = parse_start(&mut p, &cmd.starts_at);
        let needed = screens::classes(&mut conn, screen.id).await?;
        let prices = check_prices(&mut p, &cmd.prices, &needed);
        let format = cmd.format.unwrap_or_else(|| "2D".to_owned());
        check_format(&mut p, &format);
        let movie = movies::find(&mut conn, cmd.movie_id).await?;
        if movie.is_none() {
            p.add("movie_id", "no such movie");
        }
        p.finish()?;
        // Both are present once no problem was recorded.
        let (Some(starts_at), Some(movie)) = (starts_at, movie) else {
            return Err(DomainError::Invalid(Vec::new()));
        };
        if !theatres::is_showing(&mut conn, screen.theatre_id, movie.id).await? {
            return Err(DomainError::MovieNotShowing);
        }
        let chain = chains::find(&mut conn, screen.chain_id)
            .await?
            .ok_or_else(|| DomainError::NotFound("no such chain".into()))?;
        let ends_at = starts_at + chrono::Duration::minutes(i64::from(movie.runtime_minutes));
        let busy_until = ends_at + self.settings.cleaning_buffer;
        let new = NewShow {
            chain_id: screen.chain_id,
            theatre_id: screen.theatre_id,
            screen_id: screen.id,
            movie_id: movie.id,
            starts_at,
            ends_at,
            busy_until,
            format,
            currency: chain.currency,
            prices,
        };
        shows::insert(&mut conn, Uuid::now_v7(), &new)
            .await
            .map_err(busy_error)
    }

    /// A page of shows (`fetch` rows after `after`).
    pub async fn list_shows(
        &self,
        filter: &ShowFilter,
        after: Option<Uuid>,
        fetch: i64,
    ) -> Result<Vec<Show>, DomainError> {
        Ok(on_read_pool!(self.reads, |conn| shows::list(
            conn, filter, after, fetch
        ))?)
    }

    /// One show, for anyone (from the read pool: its `seats_available` may be a moment
    /// behind; holds decide on the primary).
    pub async fn show(&self, id: Uuid) -> Result<Show, DomainError> {
        // A public read naming only the show: the id-only entry lookup.
        on_read_pool!(self.reads, |conn| shows::find_by_id(conn, id))?
            .ok_or_else(|| DomainError::NotFound("no such show".into()))
    }

    /// A show the actor may manage; another chain's show is not found.
    pub async fn managed_show(&self, actor: &Actor, id: Uuid) -> Result<Show, DomainError> {
        let mut conn = self.pool.acquire().await?;
        // The URL names only the show: the id-only entry lookup finds its chain.
        let show = shows::find_by_id(&mut conn, id)
            .await?
            .ok_or_else(|| DomainError::NotFound("no such show".into()))?;
        actor.require_member(&mut conn, show.chain_id).await?;
        Ok(show)
    }

    /// Moves a show, or changes its prices or format.
    pub async fn update_show(
        &self,
        actor: &Actor,
        id: Uuid,
        changes: ShowChanges,
    ) -> Result<Show, DomainError> {
        let show = self.managed_show(actor, id).await?;
        if changes.starts_at.is_none() && changes.prices.is_none() && changes.format.is_none() {
            return Err(DomainError::invalid(
                "body",
                "send `starts_at`, `prices` or `format`",
            ));
        }
        let mut conn = self.pool.acquire().await?;
        // Customers bought seats at this time and price: once there are live bookings only the
        // format may change (cancel the show instead).
        if (changes.starts_at.is_some() || changes.prices.is_some())
            && bookings::show_has_live(&mut conn, id).await?
        {
            return Err(DomainError::InUse(
                "the show has live bookings; only its format can change".into(),
            ));
        }
        let mut p = Problems::default();
        let starts_at = match &changes.starts_at {
            Some(raw) => parse_start(&mut p, raw),
            None => Some(show.starts_at),
        };
        let needed = screens::classes(&mut conn, show.screen_id).await?;
        let prices = match &changes.prices {
            Some(raw) => check_prices(&mut p, raw, &needed),
            None => show.prices.0.clone(),
        };
        let format = changes.format.unwrap_or(show.format.clone());
        check_format(&mut p, &format);
        p.finish()?;
        // Present once no problem was recorded.
        let Some(starts_at) = starts_at else {
            return Err(DomainError::Invalid(Vec::new()));
        };
        // The runtime is the show's own: the movie's may have been edited since.
        let runtime = show.ends_at - show.starts_at;
        let ends_at = starts_at + runtime;
        let busy_until = ends_at + self.settings.cleaning_buffer;
        let update = ShowUpdate {
            starts_at,
            ends_at,
            busy_until,
            format: &format,
            prices: &prices,
        };
        let updated = shows::update(&mut conn, show.chain_id, id, &update)
            .await
            .map_err(busy_error)?
            .ok_or_else(|| DomainError::NotFound("no such show".into()))?;
        self.seat_map_changed(id);
        Ok(updated)
    }

    /// Deletes a show that has no bookings (their history is kept; cancel it instead).
    pub async fn delete_show(&self, actor: &Actor, id: Uuid) -> Result<(), DomainError> {
        let show = self.managed_show(actor, id).await?;
        let mut conn = self.pool.acquire().await?;
        match shows::delete(&mut conn, show.chain_id, id).await {
            Ok(_) => {
                self.seat_map_changed(id);
                Ok(())
            }
            Err(e) if is_constraint(&e, "bookings_show_fkey") => {
                Err(DomainError::InUse("this show has bookings".into()))
            }
            Err(e) => Err(e.into()),
        }
    }
}
