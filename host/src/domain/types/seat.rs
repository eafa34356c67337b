//! `SeatId`: a seat's name on its screen (`A-7`), as layouts generate it and customers send it.

use std::fmt;

/// A seat id from a request: trimmed, 1 to [`SeatId::MAX_LEN`] bytes. Whether the seat exists
/// is the screen's to say; this is only the shape every seat id has, checked once at the edge.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeatId(String);

impl SeatId {
    /// Longest seat id: a row label of up to three letters, a dash and a number of up to four
    /// digits (`seat_layout` never generates longer).
    pub const MAX_LEN: usize = 8;

    /// Parses one seat id.
    pub fn parse(input: &str) -> Result<Self, String> {
        let id = input.trim();
        if id.is_empty() || id.len() > Self::MAX_LEN {
            return Err(format!("`{id}` is not a seat id like A-7"));
        }
        Ok(Self(id.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as an owned string (for rows and wire types).
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for SeatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for SeatId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for SeatId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<String> for SeatId {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_bounds() {
        assert_eq!(
            SeatId::parse(" A-7 ").map(|s| s.into_string()),
            Ok("A-7".into())
        );
        assert!(SeatId::parse("").is_err());
        assert!(SeatId::parse("   ").is_err());
        assert!(SeatId::parse("ABCD-12345").is_err());
        assert!(SeatId::parse("AAA-9999").is_ok());
    }
}
