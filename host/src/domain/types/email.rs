//! `Email`: a syntactically valid address, compared case-insensitively.

use std::fmt;

/// A validated email address, stored trimmed and lowercased (the database column is
/// `citext` as well, so uniqueness holds whatever the case).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// Longest address, in bytes after trimming (RFC 5321's path limit less the angle brackets).
pub const MAX_LEN: usize = 254;
/// Longest part before the `@`, in bytes.
pub const MAX_LOCAL_LEN: usize = 64;
/// Shortest address the rules below allow: `a@b.cd`.
pub const MIN_LEN: usize = 6;

impl Email {
    /// Parses an address: one `@`, a dot-atom local part and a domain of at least two
    /// labels, the last alphabetic and at least two letters long (any length: `.museum`,
    /// `.technology` — the original system's regex refused TLDs longer than three letters).
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let s = input.trim();
        if s.len() > MAX_LEN {
            return Err("must be at most 254 characters");
        }
        let (local, domain) = s.rsplit_once('@').ok_or("must contain @")?;
        if local.is_empty() || local.len() > MAX_LOCAL_LEN {
            return Err("the part before @ must be 1 to 64 characters");
        }
        let local_ok = local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c))
        });
        if !local_ok {
            return Err("the part before @ has characters that are not allowed");
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 {
            return Err("the domain must have a dot, e.g. example.com");
        }
        let labels_ok = labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
        let tld_ok = labels
            .last()
            .is_some_and(|t| t.len() >= 2 && t.chars().all(|c| c.is_ascii_alphabetic()));
        if !labels_ok || !tld_ok {
            return Err("the domain is not valid");
        }
        Ok(Self(s.to_ascii_lowercase()))
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Email;

    #[test]
    fn accepts_ordinary_and_long_tld_addresses() {
        for ok in [
            "asha@example.com",
            "first.last+tag@mail.example.co.in",
            "x@example.museum",
            "ops@cinema.technology",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn lowercases_and_trims() {
        let e = Email::parse("  Asha@Example.COM ").expect("valid");
        assert_eq!(e.as_str(), "asha@example.com");
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in [
            "",
            "asha",
            "asha@",
            "@example.com",
            "asha@example",
            "asha@@example.com",
            "as ha@example.com",
            "asha@exa_mple.com",
            "asha@example.c0m",
            "asha@-x.com",
            "a..b@example.com",
            "asha@example.com\r\nBcc: x@y.z",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }
}
