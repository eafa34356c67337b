//! Theatres and their now-showing lists.

use uuid::Uuid;

use super::{Catalogue, Movie, Problems, Theatre, TheatreFilter, is_constraint, on_read_pool};
use crate::db::outbox::{self, OutboxEvent};
use crate::db::theatres::{self, TheatreFields};
use crate::db::{chains, movies};
use crate::domain::hook_io::EventKind;
use crate::domain::{Actor, DomainError};

/// The limits [`validate`] and [`Catalogue::add_now_showing`] check, read by the OpenAPI
/// document as well (`http/theatres.rs`). Lengths are in characters, after trimming.
pub mod limits {
    /// Most movies one request adds to a now-showing list.
    pub const MAX_ADD: usize = 200;
    /// Longest name.
    pub const NAME: usize = 200;
    /// Longest description.
    pub const DESCRIPTION: usize = 5000;
    /// Longest city.
    pub const CITY: usize = 100;
    /// Longest street address.
    pub const ADDRESS: usize = 500;
    /// Shortest and longest postal code (ASCII letters, digits, spaces and dashes).
    pub const PIN_CODE: std::ops::RangeInclusive<usize> = 3..=12;
}
use limits::MAX_ADD;

/// A theatre to create, as sent.
#[derive(Debug)]
pub struct NewTheatreCommand {
    /// The chain, one the actor is staff of.
    pub chain_id: Uuid,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// City.
    pub city: String,
    /// Postal code.
    pub pin_code: String,
    /// Street address.
    pub address: String,
}

/// Changes to a theatre, as sent (the chain is fixed).
#[derive(Debug, Default)]
pub struct TheatreChanges {
    /// Name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Postal code.
    pub pin_code: Option<String>,
    /// Street address.
    pub address: Option<String>,
}

fn validate(fields: TheatreFields) -> Result<TheatreFields, DomainError> {
    let mut p = Problems::default();
    let trimmed = TheatreFields {
        name: fields.name.trim().to_owned(),
        description: fields.description.trim().to_owned(),
        city: fields.city.trim().to_owned(),
        pin_code: fields.pin_code.trim().to_owned(),
        address: fields.address.trim().to_owned(),
    };
    for (field, value, max) in [
        ("name", &trimmed.name, limits::NAME),
        ("description", &trimmed.description, limits::DESCRIPTION),
        ("city", &trimmed.city, limits::CITY),
        ("address", &trimmed.address, limits::ADDRESS),
    ] {
        if value.is_empty() || value.chars().count() > max {
            p.add(field, format!("must be 1 to {max} characters"));
        }
    }
    let pin = &trimmed.pin_code;
    if !limits::PIN_CODE.contains(&pin.len())
        || !pin
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
    {
        p.add(
            "pin_code",
            "must be 3 to 12 letters, digits, spaces or dashes",
        );
    }
    p.finish()?;
    Ok(trimmed)
}

impl Catalogue {
    /// A theatre the actor may manage; another chain's theatre is not found.
    pub async fn managed_theatre(&self, actor: &Actor, id: Uuid) -> Result<Theatre, DomainError> {
        let mut conn = self.pool.acquire().await?;
        // The URL names only the theatre: the id-only entry lookup finds its chain.
        let theatre = theatres::find(&mut conn, id)
            .await?
            .ok_or_else(|| DomainError::NotFound("no such theatre".into()))?;
        actor.require_member(&mut conn, theatre.chain_id).await?;
        Ok(theatre)
    }

    /// Creates a theatre of one of the actor's chains and emails the actor.
    pub async fn create_theatre(
        &self,
        actor: &Actor,
        cmd: NewTheatreCommand,
    ) -> Result<Theatre, DomainError> {
        let fields = validate(TheatreFields {
            name: cmd.name,
            description: cmd.description,
            city: cmd.city,
            pin_code: cmd.pin_code,
            address: cmd.address,
        })?;
        let mut conn = self.pool.acquire().await?;
        chains::find(&mut conn, cmd.chain_id)
            .await?
            .ok_or_else(|| DomainError::NotFound("no such chain".into()))?;
        actor.require_member(&mut conn, cmd.chain_id).await?;
        drop(conn);
        let user = actor.user();
        let mut tx = self.pool.begin().await?;
        let theatre = theatres::insert(&mut tx, None, cmd.chain_id, &fields).await?;
        // Queued in the same transaction: the email goes out if and only if the theatre exists.
        outbox::enqueue(
            &mut tx,
            &OutboxEvent {
                kind: EventKind::TheatreCreated,
                chain_id: Some(theatre.chain_id),
                recipients: vec![user.email.clone()],
                fields: vec![
                    ("name", user.name.clone()),
                    ("theatre-name", theatre.name.clone()),
                    ("city", theatre.city.clone()),
                ],
                dedupe_key: Some(format!("theatre-created:{}", theatre.id)),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(theatre)
    }

    /// A page of theatres.
    pub async fn list_theatres(
        &self,
        filter: &TheatreFilter,
        after: Option<Uuid>,
        fetch: i64,
    ) -> Result<Vec<Theatre>, DomainError> {
        Ok(on_read_pool!(self.reads, |conn| theatres::list(
            conn, filter, after, fetch
        ))?)
    }

    /// One theatre, for anyone (from the read pool).
    pub async fn theatre(&self, id: Uuid) -> Result<Theatre, DomainError> {
        on_read_pool!(self.reads, |conn| theatres::find(conn, id))?
            .ok_or_else(|| DomainError::NotFound("no such theatre".into()))
    }

    /// Changes a theatre of the actor's chain.
    pub async fn update_theatre(
        &self,
        actor: &Actor,
        id: Uuid,
        changes: TheatreChanges,
    ) -> Result<Theatre, DomainError> {
        let t = self.managed_theatre(actor, id).await?;
        let chain = t.chain_id;
        let fields = validate(TheatreFields {
            name: changes.name.unwrap_or(t.name),
            description: changes.description.unwrap_or(t.description),
            city: changes.city.unwrap_or(t.city),
            pin_code: changes.pin_code.unwrap_or(t.pin_code),
            address: changes.address.unwrap_or(t.address),
        })?;
        let mut conn = self.pool.acquire().await?;
        theatres::update(&mut conn, chain, id, &fields)
            .await?
            .ok_or_else(|| DomainError::NotFound("no such theatre".into()))
    }

    /// Deletes a theatre with its screens and shows, unless shows of it have bookings.
    pub async fn delete_theatre(&self, actor: &Actor, id: Uuid) -> Result<(), DomainError> {
        let t = self.managed_theatre(actor, id).await?;
        let mut conn = self.pool.acquire().await?;
        match theatres::delete(&mut conn, t.chain_id, id).await {
            Ok(_) => Ok(()),
            Err(e) if is_constraint(&e, "bookings_show_fkey") => Err(DomainError::InUse(
                "shows of this theatre have bookings".into(),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// A page of the theatre's now-showing list.
    pub async fn now_showing(
        &self,
        theatre: Uuid,
        after: Option<Uuid>,
        fetch: i64,
    ) -> Result<Vec<Movie>, DomainError> {
        // A public list (from the read pool); `None`: no such theatre.
        on_read_pool!(self.reads, |conn| async move {
            if theatres::find(&mut *conn, theatre).await?.is_none() {
                return Ok(None);
            }
            movies::now_showing(conn, theatre, after, fetch)
                .await
                .map(Some)
        })?
        .ok_or_else(|| DomainError::NotFound("no such theatre".into()))
    }

    /// Adds movies to the now-showing list of a theatre of the actor's chain; answers with
    /// the first `fetch` movies of the list.
    pub async fn add_now_showing(
        &self,
        actor: &Actor,
        id: Uuid,
        movie_ids: &[Uuid],
        fetch: i64,
    ) -> Result<Vec<Movie>, DomainError> {
        let theatre = self.managed_theatre(actor, id).await?;
        if movie_ids.is_empty() || movie_ids.len() > MAX_ADD {
            return Err(DomainError::invalid(
                "movie_ids",
                format!("must list 1 to {MAX_ADD} movie ids"),
            ));
        }
        let mut tx = self.pool.begin().await?;
        let missing = movies::missing(&mut tx, movie_ids).await?;
        if !missing.is_empty() {
            let ids: Vec<String> = missing.iter().map(Uuid::to_string).collect();
            return Err(DomainError::invalid(
                "movie_ids",
                format!("unknown movies: {}", ids.join(", ")),
            ));
        }
        theatres::add_movies(&mut tx, theatre.chain_id, id, movie_ids).await?;
        let rows = movies::now_showing(&mut tx, id, None, fetch).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// The movie, if it is on the theatre's now-showing list.
    pub async fn showing_movie(&self, theatre: Uuid, movie: Uuid) -> Result<Movie, DomainError> {
        // A public check (from the read pool); the outer `None`: not showing there.
        let found = on_read_pool!(self.reads, |conn| async move {
            if !theatres::is_showing(&mut *conn, theatre, movie).await? {
                return Ok(None);
            }
            movies::find(conn, movie).await.map(Some)
        })?;
        found
            .ok_or_else(|| {
                DomainError::NotFound("this movie is not showing at this theatre".into())
            })?
            .ok_or_else(|| DomainError::NotFound("no such movie".into()))
    }

    /// Removes a movie from the now-showing list of a theatre of the actor's chain.
    pub async fn remove_now_showing(
        &self,
        actor: &Actor,
        id: Uuid,
        movie: Uuid,
    ) -> Result<(), DomainError> {
        let theatre = self.managed_theatre(actor, id).await?;
        let mut conn = self.pool.acquire().await?;
        if theatres::remove_movie(&mut conn, theatre.chain_id, id, movie).await? {
            Ok(())
        } else {
            Err(DomainError::NotFound(
                "this movie is not showing at this theatre".into(),
            ))
        }
    }
}
