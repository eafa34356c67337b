//! Every list endpoint's `?limit=&cursor=`: the query string through the API's own query
//! extractor, then `PageRequest::parse`; and cursors round-trip encode → decode.
#![no_main]

use std::pin::pin;
use std::task::{Context, Poll, Waker};

use axum::extract::FromRequestParts;
use axum::http::{Request, StatusCode};
use cineflow::http::ApiError;
use cineflow::http::extract::ApiQuery;
use cineflow::http::page::{MAX_LIMIT, Page, PageRequest};
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use uuid::Uuid;

/// The `PageQuery` of the list handlers (private to each http module).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

fuzz_target!(|data: &[u8]| {
    round_trip(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The raw token as a cursor, as if it had been percent-decoded already.
    check(PageRequest::parse(None, Some(text)), true);
    // Only a query string that is a valid URI reaches the extractor in a real request.
    let Ok(request) = Request::builder().uri(format!("/items?{text}")).body(()) else {
        return;
    };
    let (mut parts, ()) = request.into_parts();
    let query = {
        let mut future = pin!(ApiQuery::<PageQuery>::from_request_parts(&mut parts, &()));
        match future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(result) => result,
            Poll::Pending => panic!("the query extractor does no I/O and never waits"),
        }
    };
    match query {
        Ok(ApiQuery(q)) => check(
            PageRequest::parse(q.limit, q.cursor.as_deref()),
            q.cursor.is_some(),
        ),
        Err(e) => assert_client_error(&e),
    }
});

fn check(parsed: Result<PageRequest, ApiError>, had_cursor: bool) {
    match parsed {
        Ok(page) => {
            assert!((1..=MAX_LIMIT).contains(&page.limit));
            assert_eq!(page.after.is_some(), had_cursor);
            if let Some(id) = page.after {
                // A cursor we accepted, re-issued by us, names the same row.
                assert_eq!(reissue(id, page.limit), Some(id));
            }
        }
        Err(e) => assert_client_error(&e),
    }
}

fn assert_client_error(e: &ApiError) {
    assert!(
        matches!(
            e.status(),
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY
        ),
        "bad paging input must be a client error, got {} {}",
        e.status(),
        e.code()
    );
}

/// The cursor `Page::from_rows` hands out after a full page ending at `id`, parsed back.
fn reissue(id: Uuid, limit: u32) -> Option<Uuid> {
    let page = PageRequest { limit, after: None };
    let rows = vec![id; limit as usize + 1];
    let cursor = Page::from_rows(rows, page, |row| *row).next_cursor?;
    PageRequest::parse(Some(limit), Some(&cursor))
        .ok()
        .and_then(|p| p.after)
}

fn round_trip(data: &[u8]) {
    let mut bytes = [0u8; 16];
    for (slot, byte) in bytes.iter_mut().zip(data) {
        *slot = *byte;
    }
    let id = Uuid::from_bytes(bytes);
    let limit = data.get(16).map_or(1, |&b| u32::from(b) % MAX_LIMIT + 1);
    assert_eq!(
        reissue(id, limit),
        Some(id),
        "cursor for {id} did not round-trip"
    );
}
