//! The movie catalogue: every chain may show any movie; a movie is edited only by the staff
//! of the chain that created it (`chain_id`), a platform movie (no chain) only by admins.

use chrono::NaiveDate;
use uuid::Uuid;

use super::{Catalogue, Movie, MovieFields, MovieFilter, Problems, is_constraint, on_read_pool};
use crate::db::{chains, movies};
use crate::domain::types::{ReleaseStatus, Role};
use crate::domain::{Actor, DomainError};

/// The limits [`MovieInput`]'s fields are checked against, read by the OpenAPI document as
/// well (`http/movies.rs`). Text is trimmed first.
pub mod limits {
    /// Longest title, in characters.
    pub const TITLE: usize = 200;
    /// Longest description, in characters.
    pub const DESCRIPTION: usize = 5000;
    /// Longest director, in characters.
    pub const DIRECTOR: usize = 200;
    /// Most names in `cast` or `languages`.
    pub const LIST_ITEMS: usize = 100;
    /// Longest name in `cast` or `languages`, in UTF-8 bytes.
    pub const LIST_ITEM_BYTES: usize = 200;
    /// Shortest and longest trailer URL, in bytes.
    pub const TRAILER_URL: std::ops::RangeInclusive<usize> = 11..=2000;
    /// Shortest and longest runtime, in minutes.
    pub const RUNTIME_MINUTES: std::ops::RangeInclusive<i64> = 1..=600;
    /// Longest certificate, in UTF-8 bytes.
    pub const CERTIFICATE_BYTES: usize = 20;
    /// The fields a create must send (422 `is required` for each one missing); the unit test
    /// `a_create_requires_exactly_the_listed_fields` keeps this list and the checks together.
    pub const REQUIRED_ON_CREATE: [&str; 9] = [
        "title",
        "description",
        "cast",
        "director",
        "trailer_url",
        "release_date",
        "release_status",
        "languages",
        "runtime_minutes",
    ];
}

/// A movie's fields as sent: every one required on create, any subset on update.
#[derive(Debug, Default)]
pub struct MovieInput {
    /// Title.
    pub title: Option<String>,
    /// Synopsis.
    pub description: Option<String>,
    /// Cast.
    pub cast: Option<Vec<String>>,
    /// Director.
    pub director: Option<String>,
    /// http(s) URL.
    pub trailer_url: Option<String>,
    /// `YYYY-MM-DD`.
    pub release_date: Option<String>,
    /// `coming_soon` or `released`.
    pub release_status: Option<String>,
    /// Languages.
    pub languages: Option<Vec<String>>,
    /// 1 to 600.
    pub runtime_minutes: Option<i64>,
    /// Certificate.
    pub certificate: Option<String>,
    /// Create: the owning chain; update: must be the movie's own if given.
    pub chain_id: Option<Uuid>,
}

impl MovieInput {
    /// Overlays these fields on `base` (an existing movie, or nothing for a create) and
    /// validates the result; `check` adds the caller's own problems to the same answer.
    fn into_fields(
        self,
        base: Option<MovieFields>,
        check: impl FnOnce(&mut Problems),
    ) -> Result<MovieFields, DomainError> {
        let mut p = Problems::default();
        check(&mut p);
        let creating = base.is_none();
        let mut need = |name: &str, present: bool| {
            if creating && !present {
                p.add(name, "is required");
            }
        };
        need("title", self.title.is_some());
        need("description", self.description.is_some());
        need("cast", self.cast.is_some());
        need("director", self.director.is_some());
        need("trailer_url", self.trailer_url.is_some());
        need("release_date", self.release_date.is_some());
        need("release_status", self.release_status.is_some());
        need("languages", self.languages.is_some());
        need("runtime_minutes", self.runtime_minutes.is_some());
        let text = |p: &mut Problems, field: &str, v: Option<String>, max: usize| {
            v.map(|v| v.trim().to_owned()).filter(|v| {
                let ok = !v.is_empty() && v.chars().count() <= max;
                if !ok {
                    p.add(field, format!("must be 1 to {max} characters"));
                }
                ok
            })
        };
        let title = text(&mut p, "title", self.title, limits::TITLE);
        let description = text(&mut p, "description", self.description, limits::DESCRIPTION);
        let director = text(&mut p, "director", self.director, limits::DIRECTOR);
        let list = |p: &mut Problems, field: &str, v: Option<Vec<String>>| {
            v.map(|v| {
                v.into_iter()
                    .map(|s| s.trim().to_owned())
                    .collect::<Vec<_>>()
            })
            .filter(|v| {
                let ok = !v.is_empty()
                    && v.len() <= limits::LIST_ITEMS
                    && v.iter()
                        .all(|s| !s.is_empty() && s.len() <= limits::LIST_ITEM_BYTES);
                if !ok {
                    p.add(field, "must be a list of 1 to 100 non-empty names");
                }
                ok
            })
        };
        let cast = list(&mut p, "cast", self.cast);
        let languages = list(&mut p, "languages", self.languages);
        let trailer_url = self.trailer_url.map(|u| u.trim().to_owned()).filter(|u| {
            let ok = (u.starts_with("https://") || u.starts_with("http://"))
                && limits::TRAILER_URL.contains(&u.len())
                && !u.chars().any(char::is_whitespace);
            if !ok {
                p.add("trailer_url", "must be an http(s) URL");
            }
            ok
        });
        let release_date = self.release_date.and_then(|d| {
            let parsed = NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok();
            if parsed.is_none() {
                p.add("release_date", "must be a date like 2026-01-15");
            }
            parsed
        });
        let release_status = self.release_status.and_then(|s| {
            let parsed = ReleaseStatus::parse(&s);
            if parsed.is_none() {
                p.add("release_status", "must be `coming_soon` or `released`");
            }
            parsed
        });
        let runtime_minutes = self.runtime_minutes.and_then(|m| {
            if limits::RUNTIME_MINUTES.contains(&m) {
                i32::try_from(m).ok()
            } else {
                p.add("runtime_minutes", "must be between 1 and 600");
                None
            }
        });
        let certificate = self.certificate.map(|c| c.trim().to_owned());
        if certificate
            .as_ref()
            .is_some_and(|c| c.is_empty() || c.len() > limits::CERTIFICATE_BYTES)
        {
            p.add("certificate", "must be 1 to 20 characters");
        }
        p.finish()?;
        let base = base.unwrap_or(MovieFields {
            title: String::new(),
            description: String::new(),
            cast_members: Vec::new(),
            director: String::new(),
            trailer_url: String::new(),
            release_date: NaiveDate::MIN,
            // A new movie always names its status (`need` above); this is never read.
            release_status: ReleaseStatus::ComingSoon,
            languages: Vec::new(),
            runtime_minutes: 0,
            certificate: None,
        });
        Ok(MovieFields {
            title: title.unwrap_or(base.title),
            description: description.unwrap_or(base.description),
            cast_members: cast.unwrap_or(base.cast_members),
            director: director.unwrap_or(base.director),
            trailer_url: trailer_url.unwrap_or(base.trailer_url),
            release_date: release_date.unwrap_or(base.release_date),
            release_status: release_status.unwrap_or(base.release_status),
            languages: languages.unwrap_or(base.languages),
            runtime_minutes: runtime_minutes.unwrap_or(base.runtime_minutes),
            certificate: certificate.or(base.certificate),
        })
    }
}

fn fields_of(m: &Movie) -> MovieFields {
    MovieFields {
        title: m.title.clone(),
        description: m.description.clone(),
        cast_members: m.cast_members.clone(),
        director: m.director.clone(),
        trailer_url: m.trailer_url.clone(),
        release_date: m.release_date,
        release_status: m.release_status,
        languages: m.languages.clone(),
        runtime_minutes: m.runtime_minutes,
        certificate: m.certificate.clone(),
    }
}

impl Catalogue {
    /// Adds a movie to the catalogue, owned by `input.chain_id` (required of chain staff, a
    /// chain they are a member of) or, for an admin without one, by the platform.
    pub async fn create_movie(
        &self,
        actor: &Actor,
        input: MovieInput,
    ) -> Result<Movie, DomainError> {
        let chain_id = input.chain_id;
        // The role, not `is_admin`: staff callers are approved already.
        let admin = actor.user().role == Role::Admin;
        let fields = input.into_fields(None, |p| {
            if chain_id.is_none() && !admin {
                p.add(
                    "chain_id",
                    "is required: the chain of yours that owns (and alone may edit) the movie",
                );
            }
        })?;
        let mut conn = self.pool.acquire().await?;
        if let Some(chain) = chain_id {
            // As `POST /theatres`: a chain the caller is not staff of is not found.
            chains::find(&mut conn, chain)
                .await?
                .ok_or_else(|| DomainError::NotFound("no such chain".into()))?;
            actor.require_member(&mut conn, chain).await?;
        }
        Ok(movies::insert(&mut conn, chain_id, &fields).await?)
    }

    /// Whether the actor may edit `movie`: admins every movie, chain staff their chain's.
    async fn may_edit(&self, actor: &Actor, movie: &Movie) -> Result<bool, DomainError> {
        if actor.user().role == Role::Admin {
            return Ok(true);
        }
        let Some(chain) = movie.chain_id else {
            return Ok(false);
        };
        let mut conn = self.pool.acquire().await?;
        Ok(chains::is_member(&mut conn, chain, actor.id()).await?)
    }

    /// A page of movies.
    pub async fn list_movies(
        &self,
        filter: &MovieFilter,
        after: Option<Uuid>,
        fetch: i64,
    ) -> Result<Vec<Movie>, DomainError> {
        Ok(on_read_pool!(self.reads, |conn| movies::list(
            conn, filter, after, fetch
        ))?)
    }

    /// One movie, for anyone (a public page: from the read pool, so possibly a moment stale).
    pub async fn movie(&self, id: Uuid) -> Result<Movie, DomainError> {
        on_read_pool!(self.reads, |conn| movies::find(conn, id))?
            .ok_or_else(|| DomainError::NotFound("no such movie".into()))
    }

    /// One movie as the primary has it, for a change to it.
    async fn movie_on_primary(&self, id: Uuid) -> Result<Movie, DomainError> {
        let mut conn = self.pool.acquire().await?;
        movies::find(&mut conn, id)
            .await?
            .ok_or_else(|| DomainError::NotFound("no such movie".into()))
    }

    /// Changes any of a movie's fields; its owning chain cannot change.
    pub async fn update_movie(
        &self,
        actor: &Actor,
        id: Uuid,
        input: MovieInput,
    ) -> Result<Movie, DomainError> {
        // The primary's row: the update overlays the request on it.
        let existing = self.movie_on_primary(id).await?;
        // Another chain's movie, or a platform movie for chain staff: as for every other
        // chain's resource, not found rather than forbidden.
        if !self.may_edit(actor, &existing).await? {
            return Err(DomainError::NotFound("no such movie".into()));
        }
        let owner = existing.chain_id;
        let moved = input.chain_id.is_some_and(|c| Some(c) != owner);
        let fields = input.into_fields(Some(fields_of(&existing)), |p| {
            if moved {
                p.add(
                    "chain_id",
                    "cannot be changed: it names the chain that owns the movie",
                );
            }
        })?;
        let mut tx = self.pool.begin().await?;
        let movie = movies::update(&mut tx, id, &fields)
            .await?
            .ok_or_else(|| DomainError::NotFound("no such movie".into()))?;
        tx.commit().await?;
        Ok(movie)
    }

    /// Removes a movie (admins only) unless shows of it exist.
    pub async fn delete_movie(&self, actor: &Actor, id: Uuid) -> Result<(), DomainError> {
        // The edge lets only admins in; asked again so the rule lives here too.
        if !actor.is_admin() {
            return Err(DomainError::Forbidden("this needs an admin".into()));
        }
        let mut conn = self.pool.acquire().await?;
        match movies::delete(&mut conn, id).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(DomainError::NotFound("no such movie".into())),
            Err(e) if is_constraint(&e, "shows_movie_fkey") => {
                Err(DomainError::InUse("shows of this movie exist".into()))
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{MovieInput, limits};
    use crate::domain::DomainError;

    #[test]
    fn a_create_requires_exactly_the_listed_fields() {
        let Err(DomainError::Invalid(problems)) = MovieInput::default().into_fields(None, |_| {})
        else {
            panic!("an empty create must be invalid");
        };
        let mut missing: Vec<&str> = problems
            .iter()
            .filter(|(_, message)| message == "is required")
            .map(|(field, _)| field.as_str())
            .collect();
        missing.sort_unstable();
        let mut listed = limits::REQUIRED_ON_CREATE;
        listed.sort_unstable();
        assert_eq!(missing, listed);
    }
}
