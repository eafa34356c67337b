//! A chain of one's own: create the chain, its theatres, screens, movies and shows. Each
//! create prints the new record's id alone on a line (the whole record with `--json`), so a
//! script captures it: `CHAIN=$(cineflow remote chain create ...)`.

use std::io::Write;
use std::path::Path;

use serde_json::{Value, json};

use super::Cx;
use super::components::read_json;
use crate::remote::client::Answer;
use crate::remote::output::{self, items};
use crate::remote::setup_args::{Prices, Rows};
use crate::remote::{
    Action, ChainAction, MovieAction, RemoteError, ScreenAction, ShowAction, TheatreAction,
};

impl Cx {
    pub(super) async fn catalogue(
        &self,
        action: Action,
        out: &mut dyn Write,
    ) -> Result<u8, RemoteError> {
        let c = &self.client;
        let answer = match action {
            Action::Chain(ChainAction::Create {
                name,
                currency,
                timezone,
            }) => {
                let body = json!({"name": name, "currency": currency, "timezone": timezone});
                c.post_json(&["chains"], &body).await?
            }
            Action::Theatre(TheatreAction::Create {
                chain,
                name,
                description,
                city,
                address,
                pin_code,
            }) => {
                let body = json!({"chain_id": chain, "name": name, "description": description,
                                  "city": city, "address": address, "pin_code": pin_code});
                c.post_json(&["theatres"], &body).await?
            }
            Action::Theatre(TheatreAction::AddMovie { theatre, movie }) => {
                let answer = c
                    .post_json(
                        &["theatres", &theatre.to_string(), "movies"],
                        &json!({ "movie_ids": movie }),
                    )
                    .await?;
                return self.show(out, &answer, |out, v| {
                    for m in items(v) {
                        writeln!(out, "{}", output::field(m, "id"))?;
                    }
                    Ok(())
                });
            }
            Action::Screen(ScreenAction::Create {
                theatre,
                name,
                rows,
                rows_file,
            }) => {
                let rows = match (rows, rows_file) {
                    (Some(Rows(rows)), _) => Value::Array(rows),
                    (None, Some(file)) => rows_from_file(&file)?,
                    (None, None) => {
                        return Err(RemoteError::Usage("give --rows or --rows-file".into()));
                    }
                };
                c.post_json(
                    &["theatres", &theatre.to_string(), "screens"],
                    &json!({"name": name, "rows": rows}),
                )
                .await?
            }
            Action::Movie(MovieAction::Create {
                chain,
                title,
                description,
                cast,
                director,
                trailer_url,
                release_date,
                release_status,
                languages,
                runtime_minutes,
                certificate,
            }) => {
                let mut body = json!({
                    "title": title, "description": description, "cast": cast,
                    "director": director, "trailer_url": trailer_url,
                    "release_date": release_date, "release_status": release_status,
                    "languages": languages, "runtime_minutes": runtime_minutes,
                });
                if let Some(chain) = chain {
                    body["chain_id"] = json!(chain);
                }
                if let Some(certificate) = certificate {
                    body["certificate"] = json!(certificate);
                }
                c.post_json(&["movies"], &body).await?
            }
            Action::Show(ShowAction::Create {
                screen,
                movie,
                starts_at,
                prices: Prices(prices),
                format,
            }) => {
                let mut body = json!({"screen_id": screen, "movie_id": movie,
                                      "starts_at": starts_at, "prices": prices});
                if let Some(format) = format {
                    body["format"] = json!(format);
                }
                c.post_json(&["shows"], &body).await?
            }
            other => {
                return Err(RemoteError::Usage(format!(
                    "not a catalogue command: {other:?}"
                )));
            }
        };
        self.created(out, &answer)
    }

    /// A created record: its id, or with `--json` all of it.
    fn created(&self, out: &mut dyn Write, answer: &Answer) -> Result<u8, RemoteError> {
        let id = answer.body.get("id").and_then(Value::as_str);
        match id {
            Some(id) if !self.json => {
                writeln!(out, "{}", output::cell(id))?;
                Ok(0)
            }
            None if !self.json => Err(RemoteError::Connection(format!(
                "the server's answer has no id: {}",
                answer.body
            ))),
            _ => self.show(out, answer, |_, _| Ok(())),
        }
    }
}

/// `--rows-file`: a JSON array of rows, or an object with `rows`.
fn rows_from_file(path: &Path) -> Result<Value, RemoteError> {
    match read_json(path)? {
        Value::Array(rows) => Ok(Value::Array(rows)),
        Value::Object(mut o) if o.get("rows").is_some_and(Value::is_array) => {
            Ok(o.remove("rows").unwrap_or_default())
        }
        _ => Err(RemoteError::Usage(format!(
            "{}: not a JSON array of rows (or an object with \"rows\")",
            path.display()
        ))),
    }
}
