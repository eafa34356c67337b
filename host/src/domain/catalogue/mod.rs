//! The catalogue and its schedule: movies, theatres and their now-showing lists, screens
//! and their seat maps, shows. Who may manage which theatre, show or movie, and the rules of
//! scheduling (a screen's busy window with its cleaning buffer, the movie on the theatre's
//! now-showing list, a price for every class of the screen's seats) are written here only.

mod movies;
mod screens;
mod shows;
mod theatres;

use std::sync::Arc;

use sqlx::PgPool;

use crate::db::ReadPool;
use crate::state::CatalogueSettings;

pub use movies::MovieInput;
pub use movies::limits as movie_limits;
pub use screens::MAX_NAME as MAX_SCREEN_NAME;
pub use screens::ScreenWithSeats;
pub use shows::limits as show_limits;
pub use shows::{NewShowCommand, ShowChanges};
pub use theatres::limits as theatre_limits;
pub use theatres::{NewTheatreCommand, TheatreChanges};

pub use crate::db::movies::{Movie, MovieFields, MovieFilter};
pub use crate::db::screens::{Screen, SeatRow};
pub use crate::db::shows::{Show, ShowFilter};
pub use crate::db::theatres::{Theatre, TheatreFilter};

/// The catalogue service: what it needs and nothing more.
#[derive(Clone)]
pub struct Catalogue {
    /// The primary: every write, and every read a decision depends on (a staff member's read
    /// of what they are about to change, access checks).
    pool: PgPool,
    /// Public listings and pages only, where a replica's lag is harmless: see `db::reads`.
    reads: ReadPool,
    settings: CatalogueSettings,
    /// Told of every show whose prices change or that goes, so this replica's next read of
    /// its seat map re-reads it.
    live_seats: Option<Arc<crate::domain::live_seats::LiveSeats>>,
}

impl Catalogue {
    /// The service over its dependencies.
    pub fn new(pool: PgPool, reads: ReadPool, settings: CatalogueSettings) -> Self {
        Self {
            pool,
            reads,
            settings,
            live_seats: None,
        }
    }

    /// The service, telling `live` of the shows it changes.
    pub fn with_live_seats(mut self, live: Arc<crate::domain::live_seats::LiveSeats>) -> Self {
        self.live_seats = Some(live);
        self
    }

    fn seat_map_changed(&self, show: uuid::Uuid) {
        if let Some(live) = &self.live_seats {
            live.touch(show);
        }
    }
}

/// Problems with a request's fields, collected so that one answer names all of them.
#[derive(Debug, Default)]
struct Problems(Vec<(String, String)>);

impl Problems {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push((field.into(), message.into()));
    }

    fn finish(self) -> Result<(), super::DomainError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(super::DomainError::Invalid(self.0))
        }
    }
}

use super::error::is_constraint;
use crate::db::reads::on_read_pool;
