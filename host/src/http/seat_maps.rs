//! A show's seat map: `GET /shows/{id}/seats` from the replica's memory (pre-serialised bytes
//! per version, gzipped when accepted, `ETag` and 304), and its live stream of changes
//! (`GET /shows/{id}/seats/events`, Server-Sent Events). docs/seat-maps.md.

use std::convert::Infallible;
use std::io::Write;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::Stream;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::broadcast::error::RecvError;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::ApiPath;
use super::{ApiError, Problem};
use crate::domain::live_seats::{
    Encoded, SeatChange, SeatEvent, SeatMapSnapshot, StreamSlot, Subscription,
};
use crate::state::AppState;

/// The routes of this module, each declared once: its path and method come from the
/// handler's `#[utoipa::path]`, which also puts it in the OpenAPI document.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show_seats))
        .routes(routes!(show_seat_events))
}

/// A seat of a show.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ShowSeat<'a> {
    id: &'a str,
    row: &'a str,
    number: i32,
    class: crate::domain::hook_io::SeatClass,
    /// `available`, `held`, `sold` or `blocked`.
    state: &'static str,
    /// Price of this seat, in minor units.
    price_minor: Option<i64>,
}

/// The seat map of a show.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ShowSeats<'a> {
    show_id: Uuid,
    items: Vec<ShowSeat<'a>>,
}

/// A seat whose state changed.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct SeatStateChange<'a> {
    id: &'a str,
    /// `available`, `held`, `sold` or `blocked`.
    state: &'static str,
}

/// The data of a `change` event.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct SeatMapChange<'a> {
    /// The map's version after this change (also the event's `id`).
    version: u64,
    seats: Vec<SeatStateChange<'a>>,
}

/// Renders a version once: the JSON, its gzip and their tag.
fn render(snapshot: &SeatMapSnapshot) -> Encoded {
    let items = snapshot
        .seats
        .iter()
        .zip(&snapshot.states)
        .map(|(s, state)| ShowSeat {
            id: &s.id,
            row: &s.row_label,
            number: s.number,
            class: s.class,
            state: state.as_str(),
            price_minor: snapshot.prices.get(&s.class).copied(),
        })
        .collect();
    let doc = ShowSeats {
        show_id: snapshot.show_id,
        items,
    };
    // Serialising owned data of known shape cannot fail; an empty body would be caught by
    // every client, so there is nothing better to fall back to.
    let identity = serde_json::to_vec(&doc).unwrap_or_default();
    let mut gz = flate2::write::GzEncoder::new(
        Vec::with_capacity(identity.len() / 4),
        flate2::Compression::default(),
    );
    let gzip = gz
        .write_all(&identity)
        .and_then(|()| gz.finish())
        .unwrap_or_default();
    // The same map renders to the same bytes on every replica, so the tag is a hash of them
    // (not the replica's version): a client that moves between replicas still gets 304s.
    let digest = Sha256::digest(&identity);
    let tag = hex::encode(digest.get(..12).unwrap_or_default());
    Encoded {
        identity: Bytes::from(identity),
        gzip: Bytes::from(gzip),
        tag,
    }
}

fn render_change(change: &SeatChange) -> Bytes {
    let doc = SeatMapChange {
        version: change.version,
        seats: change
            .seats
            .iter()
            .map(|(id, state)| SeatStateChange {
                id,
                state: state.as_str(),
            })
            .collect(),
    };
    Bytes::from(serde_json::to_vec(&doc).unwrap_or_default())
}

/// Whether `Accept-Encoding` takes gzip (`gzip`, `x-gzip` or `*` with a q above 0).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut gzip = None;
    let mut any = None;
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            match coding.as_str() {
                "gzip" | "x-gzip" => gzip = Some(q > 0.0),
                "*" => any = Some(q > 0.0),
                _ => {}
            }
        }
    }
    gzip.or(any).unwrap_or(false)
}

/// Whether `If-None-Match` names the map's current tag (in either coding), weakly compared.
fn not_modified(headers: &HeaderMap, tag: &str) -> bool {
    headers.get_all(header::IF_NONE_MATCH).iter().any(|value| {
        value.to_str().is_ok_and(|v| {
            v.split(',').any(|t| {
                let t = t.trim();
                let t = t.strip_prefix("W/").unwrap_or(t);
                t == "*"
                    || t.strip_prefix('"')
                        .and_then(|t| t.strip_suffix('"'))
                        .map(|t| t.strip_suffix("-gzip").unwrap_or(t))
                        == Some(tag)
            })
        })
    })
}

/// Every seat of the show with its class, state and price. Served from memory; `ETag` per
/// version (the same on every replica for the same map), `If-None-Match` → 304, gzip when
/// accepted.
#[utoipa::path(get, path = "/api/v1/shows/{id}/seats", tag = "catalogue",
    params(
        ("id" = Uuid, Path, description = "Show id"),
        ("If-None-Match" = Option<String>, Header, description = "A tag from an earlier answer's `ETag`: 304 while the map is unchanged"),
        ("Accept-Encoding" = Option<String>, Header, description = "`gzip` is honoured"),
    ),
    responses(
        (status = 200, description = "The seat map", body = ShowSeats,
            headers(("ETag" = String, description = "The map's version tag"))),
        (status = 304, description = "Unchanged since the tag in `If-None-Match`",
            headers(("ETag" = String, description = "The map's version tag"))),
        (status = 404, description = "No such show", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn show_seats(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let snapshot = state.live_seats.snapshot(id).await?;
    let encoded = snapshot.encoded(render);
    let gzip = accepts_gzip(&headers) && !encoded.gzip.is_empty();
    let etag = if gzip {
        format!("\"{}-gzip\"", encoded.tag)
    } else {
        format!("\"{}\"", encoded.tag)
    };
    let mut response = if not_modified(&headers, &encoded.tag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else if gzip {
        (
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CONTENT_ENCODING, "gzip"),
            ],
            encoded.gzip.clone(),
        )
            .into_response()
    } else {
        (
            [(header::CONTENT_TYPE, "application/json")],
            encoded.identity.clone(),
        )
            .into_response()
    };
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    // Stored, but revalidated on every use: the map changes by the second in an on-sale.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// The show's seat map as Server-Sent Events: first `snapshot` (the same JSON as
/// `GET /shows/{id}/seats`, `id:` its version), then `change` events
/// (`{version, seats: [{id, state}]}`, `id:` the version) as seats change. `Last-Event-ID`
/// resumes after that version when this server still has every change since, else the
/// stream starts with a fresh snapshot. A client that falls behind by more than a few hundred
/// changes is disconnected (reconnect with `Last-Event-ID`); a comment every 15 s keeps
/// proxies from closing an idle stream.
#[utoipa::path(get, path = "/api/v1/shows/{id}/seats/events", tag = "catalogue",
    params(
        ("id" = Uuid, Path, description = "Show id"),
        ("Last-Event-ID" = Option<String>, Header, description = "The `id` of the last event received"),
    ),
    responses(
        (status = 200, description = "`text/event-stream`: events `snapshot` (data: a ShowSeats document) and `change` (data: a SeatMapChange document)",
            body = String, content_type = "text/event-stream"),
        (status = 404, description = "No such show", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`unavailable`: this server has as many open streams as it allows", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn show_seat_events(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let subscription = state.live_seats.subscribe(id, last).await?;
    let closing = state.live_seats.closing();
    let stream = events_of(subscription, closing);
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

/// One stream's state.
struct Streaming {
    first: std::collections::VecDeque<SeatEvent>,
    events: tokio::sync::broadcast::Receiver<SeatEvent>,
    version: u64,
    closing: tokio_util::sync::CancellationToken,
    _slot: StreamSlot,
}

fn events_of(
    s: Subscription,
    closing: tokio_util::sync::CancellationToken,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let state = Streaming {
        first: s.first.into(),
        events: s.events,
        version: s.version,
        closing,
        _slot: s.slot,
    };
    futures_util::stream::unfold(state, |mut st| async move {
        loop {
            let next = match st.first.pop_front() {
                Some(e) => e,
                None => {
                    let received = tokio::select! {
                        () = st.closing.cancelled() => return None,
                        r = st.events.recv() => r,
                    };
                    match received {
                        Ok(SeatEvent::Change(c)) if c.version <= st.version => continue,
                        Ok(SeatEvent::Change(c)) => {
                            st.version = c.version;
                            SeatEvent::Change(c)
                        }
                        Ok(SeatEvent::Snapshot(s)) => {
                            st.version = s.version;
                            SeatEvent::Snapshot(s)
                        }
                        Ok(SeatEvent::Gone) | Err(RecvError::Closed) => return None,
                        Err(RecvError::Lagged(_)) => {
                            // Not buffered for: the client reconnects and resumes.
                            metrics::counter!("cineflow_seat_streams_dropped_total").increment(1);
                            return None;
                        }
                    }
                }
            };
            let event = match &next {
                SeatEvent::Snapshot(s) => {
                    let bytes = &s.encoded(render).identity;
                    Event::default()
                        .event("snapshot")
                        .id(s.version.to_string())
                        .data(String::from_utf8_lossy(bytes))
                }
                SeatEvent::Change(c) => Event::default()
                    .event("change")
                    .id(c.version.to_string())
                    .data(String::from_utf8_lossy(c.encoded(render_change))),
                SeatEvent::Gone => return None,
            };
            return Some((Ok(event), st));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: header::HeaderName, value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_static(value));
        h
    }

    #[tokio::test]
    async fn a_stream_that_falls_behind_is_ended_not_buffered() {
        use futures_util::StreamExt;
        let (tx, events) = tokio::sync::broadcast::channel(4);
        let change =
            |v: u64| SeatEvent::Change(std::sync::Arc::new(SeatChange::new(v, v - 1, Vec::new())));
        let sub = Subscription {
            first: Vec::new(),
            events,
            version: 1,
            slot: StreamSlot::detached(),
        };
        let mut stream = std::pin::pin!(events_of(sub, Default::default()));
        tx.send(change(2)).expect("a receiver");
        assert!(stream.next().await.is_some(), "a change is sent");
        // Six changes while the client reads nothing: more than the four kept.
        for v in 3..9 {
            tx.send(change(v)).expect("a receiver");
        }
        assert!(stream.next().await.is_none(), "the stream ends");
    }

    #[tokio::test]
    async fn changes_already_in_the_first_events_are_skipped() {
        use futures_util::StreamExt;
        let (tx, events) = tokio::sync::broadcast::channel(8);
        let change =
            |v: u64| SeatEvent::Change(std::sync::Arc::new(SeatChange::new(v, v - 1, Vec::new())));
        let sub = Subscription {
            first: vec![change(5)],
            events,
            version: 5,
            slot: StreamSlot::detached(),
        };
        let mut stream = std::pin::pin!(events_of(sub, Default::default()));
        tx.send(change(5)).expect("a receiver");
        tx.send(change(6)).expect("a receiver");
        drop(tx);
        let mut seen = 0;
        while stream.next().await.is_some() {
            seen += 1;
        }
        assert_eq!(seen, 2, "5 once (from the first events), then 6");
    }

    #[test]
    fn gzip_is_taken_unless_refused() {
        assert!(accepts_gzip(&headers(
            header::ACCEPT_ENCODING,
            "gzip, deflate, br"
        )));
        assert!(accepts_gzip(&headers(
            header::ACCEPT_ENCODING,
            "br;q=1.0, gzip;q=0.5"
        )));
        assert!(accepts_gzip(&headers(header::ACCEPT_ENCODING, "*")));
        assert!(!accepts_gzip(&headers(
            header::ACCEPT_ENCODING,
            "gzip;q=0, *"
        )));
        assert!(!accepts_gzip(&headers(header::ACCEPT_ENCODING, "identity")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn if_none_match_compares_weakly_in_either_coding() {
        let tag = "abc123";
        assert!(not_modified(
            &headers(header::IF_NONE_MATCH, "\"abc123\""),
            tag
        ));
        assert!(not_modified(
            &headers(header::IF_NONE_MATCH, "W/\"abc123-gzip\""),
            tag
        ));
        assert!(not_modified(
            &headers(header::IF_NONE_MATCH, "\"x\", \"abc123\""),
            tag
        ));
        assert!(not_modified(&headers(header::IF_NONE_MATCH, "*"), tag));
        assert!(!not_modified(
            &headers(header::IF_NONE_MATCH, "\"abc\""),
            tag
        ));
        assert!(!not_modified(
            &headers(header::IF_NONE_MATCH, "abc123"),
            tag
        ));
        assert!(!not_modified(&HeaderMap::new(), tag));
    }
}
