//! Keyset pagination shared by every list: `?limit=` (default 50, max 200) and an opaque
//! `?cursor=`; responses are `{"items": [...], "next_cursor": "..." | null}`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::ApiError;

/// Default page size.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page size.
pub const MAX_LIMIT: u32 = 200;

/// A validated page request: rows after `after` (ids are UUID v7, so id order is creation
/// order), at most `limit` of them.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    /// Rows to return.
    pub limit: u32,
    /// Exclusive lower bound on the id.
    pub after: Option<Uuid>,
}

impl PageRequest {
    /// Validates `limit` and decodes `cursor`.
    pub fn parse(limit: Option<u32>, cursor: Option<&str>) -> Result<Self, ApiError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(super::extract::validation([(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            )]));
        }
        let after = cursor.map(decode_cursor).transpose()?;
        Ok(Self { limit, after })
    }

    /// What to ask the database for: one row more than the page, to know if another follows.
    pub fn fetch(&self) -> i64 {
        i64::from(self.limit) + 1
    }
}

/// A page of items.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items, in id (creation) order.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched in id order.
    pub fn from_rows(mut rows: Vec<T>, page: PageRequest, id: impl Fn(&T) -> Uuid) -> Self {
        let limit = page.limit as usize;
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| encode_cursor(id(last)))
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }

    /// Converts the items.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{id}"))
}

fn decode_cursor(raw: &str) -> Result<Uuid, ApiError> {
    URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|s| {
            s.strip_prefix("v1:")
                .and_then(|id| Uuid::parse_str(id).ok())
        })
        .ok_or_else(|| ApiError::bad_request("`cursor` is not a cursor this API returned"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_garbage_is_400() {
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor(&encode_cursor(id)).ok(), Some(id));
        for bad in ["", "!!!", "djE6bm90LWEtdXVpZA"] {
            let err = decode_cursor(bad).expect_err("rejected");
            assert_eq!(err.code(), "bad_request");
        }
    }

    #[test]
    fn limit_bounds() {
        assert!(PageRequest::parse(Some(0), None).is_err());
        assert!(PageRequest::parse(Some(201), None).is_err());
        assert_eq!(
            PageRequest::parse(None, None).map(|p| p.limit).ok(),
            Some(50)
        );
    }

    #[test]
    fn next_cursor_only_when_more_rows_exist() {
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let page = PageRequest {
            limit: 2,
            after: None,
        };
        let p = Page::from_rows(ids.clone(), page, |id| *id);
        assert_eq!(p.items.len(), 2);
        assert!(p.next_cursor.is_some());
        let p = Page::from_rows(ids[..2].to_vec(), page, |id| *id);
        assert!(p.next_cursor.is_none());
    }
}
