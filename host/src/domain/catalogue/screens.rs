//! Screens and their seat maps.

use uuid::Uuid;

use super::{Catalogue, Screen, SeatRow, is_constraint, on_read_pool};
use crate::db::{screens, theatres};
use crate::domain::types::seat_layout::{self, RowSpec};
use crate::domain::{Actor, DomainError};

/// Longest screen name, in characters after trimming.
pub const MAX_NAME: usize = 100;

/// A screen with every seat in display order.
pub struct ScreenWithSeats {
    /// The screen.
    pub screen: Screen,
    /// Its seats.
    pub seats: Vec<SeatRow>,
}

impl Catalogue {
    /// Adds a screen, laid out from its rows, to a theatre of the actor's chain.
    pub async fn create_screen(
        &self,
        actor: &Actor,
        theatre: Uuid,
        name: &str,
        rows: &[RowSpec],
    ) -> Result<ScreenWithSeats, DomainError> {
        let theatre = self.managed_theatre(actor, theatre).await?;
        let name = name.trim().to_owned();
        let name_error = (name.is_empty() || name.chars().count() > MAX_NAME)
            .then(|| ("name".to_owned(), "must be 1 to 100 characters".to_owned()));
        // The row problems and the name's are answered together.
        let seats = match (seat_layout::expand(rows), name_error) {
            (Ok(seats), None) => seats,
            (Ok(_), Some(e)) => return Err(DomainError::Invalid(vec![e])),
            (Err(mut errors), e) => {
                errors.extend(e);
                return Err(DomainError::Invalid(errors));
            }
        };
        let chain = theatre.chain_id;
        let mut tx = self.pool.begin().await?;
        let screen = screens::insert(&mut tx, None, chain, theatre.id, &name, &seats)
            .await
            .map_err(|e| {
                if is_constraint(&e, "screens_theatre_name_key") {
                    DomainError::ScreenNameTaken
                } else {
                    DomainError::Db(e)
                }
            })?;
        let seats = screens::seats(&mut tx, chain, screen.id).await?;
        tx.commit().await?;
        Ok(ScreenWithSeats { screen, seats })
    }

    /// A page of a theatre's screens.
    pub async fn list_screens(
        &self,
        theatre: Uuid,
        after: Option<Uuid>,
        fetch: i64,
    ) -> Result<Vec<Screen>, DomainError> {
        // A public list (from the read pool); `None`: no such theatre.
        on_read_pool!(self.reads, |conn| async move {
            if theatres::find(&mut *conn, theatre).await?.is_none() {
                return Ok(None);
            }
            screens::list(conn, theatre, after, fetch).await.map(Some)
        })?
        .ok_or_else(|| DomainError::NotFound("no such theatre".into()))
    }

    /// One screen with its seats, for anyone (from the read pool).
    pub async fn screen(&self, id: Uuid) -> Result<ScreenWithSeats, DomainError> {
        on_read_pool!(self.reads, |conn| async move {
            // The URL names only the screen: the id-only entry lookup finds its chain.
            let Some(screen) = screens::find_by_id(&mut *conn, id).await? else {
                return Ok(None);
            };
            let seats = screens::seats(conn, screen.chain_id, id).await?;
            Ok::<_, sqlx::Error>(Some(ScreenWithSeats { screen, seats }))
        })?
        .ok_or_else(|| DomainError::NotFound("no such screen".into()))
    }
}
