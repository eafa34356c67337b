//! Query strings, path parameters and headers: malformed input is 400, and so is any text
//! PostgreSQL could not store (a NUL, or bytes that are not UTF-8).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::http::ApiError;

/// Query parameters; an unknown or malformed parameter is 400, and so is a parameter whose
/// decoded text PostgreSQL cannot store (a NUL, or bytes that are not UTF-8).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        check_query_text(query)?;
        serde_urlencoded::from_str(query)
            .map(ApiQuery)
            .map_err(|e| ApiError::bad_request(format!("invalid query string: {e}")))
    }
}

/// Path parameters; a malformed id is 400, never 500, and so is a parameter holding a NUL
/// (axum already refuses one that is not UTF-8).
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let path = axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("invalid path: {}", e.body_text())))?;
        let raw = axum::extract::RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("invalid path: {}", e.body_text())))?;
        for (name, value) in &raw {
            check_text(name, value.as_bytes())?;
        }
        Ok(ApiPath(path.0))
    }
}

/// A header the host reads as text: absent, or visible ASCII and spaces (what `HeaderValue`
/// calls a string); anything else (obs-text bytes, which may not be UTF-8) is 400.
pub fn header_text<'a>(
    headers: &'a axum::http::HeaderMap,
    name: &str,
) -> Result<Option<&'a str>, ApiError> {
    headers
        .get(name)
        .map(|v| {
            v.to_str().map_err(|_| {
                ApiError::bad_request(format!("the {name} header must be visible ASCII text"))
            })
        })
        .transpose()
}

/// 400 unless every key and value of `query`, once percent-decoded, is text PostgreSQL can
/// store: serde_urlencoded would pass a NUL through and turn invalid UTF-8 into U+FFFD.
fn check_query_text(query: &str) -> Result<(), ApiError> {
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode(key);
        let name = String::from_utf8_lossy(&key).into_owned();
        check_text(&name, &key)?;
        check_text(&name, &percent_decode(value))?;
    }
    Ok(())
}

/// 400 when `bytes` (the parameter `name`) hold a NUL or are not UTF-8.
fn check_text(name: &str, bytes: &[u8]) -> Result<(), ApiError> {
    let name: String = name.chars().filter(|c| !c.is_control()).take(64).collect();
    if bytes.contains(&0) {
        return Err(ApiError::bad_request(format!(
            "parameter `{name}` contains a NUL character, which no text may hold"
        )));
    }
    if std::str::from_utf8(bytes).is_err() {
        return Err(ApiError::bad_request(format!(
            "parameter `{name}` is not valid UTF-8"
        )));
    }
    Ok(())
}

/// `application/x-www-form-urlencoded` decoding of one key or value: `+` is a space, `%XX` a
/// byte; a `%` not followed by two hex digits stays as it is (as serde_urlencoded does).
fn percent_decode(raw: &str) -> Vec<u8> {
    let bytes = raw.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).and_then(|&b| hex(b)),
                bytes.get(i + 2).and_then(|&b| hex(b)),
            ) {
                (Some(hi), Some(lo)) => {
                    // Two hex digits make one byte: hi * 16 + lo < 256.
                    out.push((hi * 16 + lo) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_text_refuses_nul_and_invalid_utf8_wherever_it_is() {
        for ok in [
            "",
            "q=abc",
            "q=caf%C3%A9&limit=5",
            "q=a+b%20c",
            "q=100%",
            "q=%zz",
            "&&q=",
        ] {
            assert!(check_query_text(ok).is_ok(), "{ok}");
        }
        for bad in [
            "q=%00",
            "q=a%00b",
            "%00=x",
            "limit=5&city=%00",
            "q=%FF",
            "q=%C3",
            "q=%c3%28",
        ] {
            let err = check_query_text(bad).expect_err(bad);
            assert_eq!(err.code(), "bad_request", "{bad}");
        }
    }

    #[test]
    fn percent_decoding_matches_form_urlencoding() {
        assert_eq!(percent_decode("a+b%20c%2B"), b"a b c+");
        assert_eq!(percent_decode("%"), b"%");
        assert_eq!(percent_decode("%4"), b"%4");
        assert_eq!(percent_decode("%41%4a%4A"), b"AJJ");
    }
}
