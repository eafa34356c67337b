//! Customer e-mail addresses leave the run log: every string in a recorded input or output
//! that is an address (or holds one) has it replaced by a stable pseudonym, an HMAC of the
//! lowercased address under the replica set's key. The same customer gets the same pseudonym
//! in every run, so a replay (a pure function of its input) stays deterministic, and nobody
//! reading runs learns who booked.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

/// Replaces e-mail addresses with pseudonyms.
#[derive(Clone)]
pub struct Pseudonymizer {
    key: Vec<u8>,
}

impl std::fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymizer(<key>)")
    }
}

impl Pseudonymizer {
    /// Pseudonyms keyed by `secret` (derived, so the secret itself is never the key).
    pub fn new(secret: &[u8]) -> Self {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(b"cineflow run-log pseudonyms")
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(secret);
        Self {
            key: mac.finalize().into_bytes().to_vec(),
        }
    }

    /// The pseudonym of `address`: `p-<16 hex>@pseudonym.invalid` (still an address, so a
    /// component that checks the shape of an e-mail accepts it in a replay).
    pub fn of(&self, address: &str) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(address.trim().to_lowercase().as_bytes());
        let digest = mac.finalize().into_bytes();
        format!("p-{}@pseudonym.invalid", hex::encode(&digest[..8]))
    }

    /// `value` with every address in it replaced.
    pub fn scrub(&self, value: &mut Value) {
        match value {
            Value::String(s) if s.contains('@') => *s = self.scrub_text(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.scrub(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.scrub(v)),
            _ => {}
        }
    }

    /// `text` with every address-like word replaced (a rendered email names its recipient).
    pub fn scrub_text(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find('@') {
            let start = rest[..at]
                .char_indices()
                .rev()
                .take_while(|(_, c)| is_local(*c))
                .last()
                .map_or(at, |(i, _)| i);
            let end = at
                + 1
                + rest[at + 1..]
                    .char_indices()
                    .take_while(|(_, c)| is_domain(*c))
                    .last()
                    .map_or(0, |(i, c)| i + c.len_utf8());
            let domain = rest[at + 1..end].trim_end_matches('.');
            let end = at + 1 + domain.len();
            // A real domain ends in a name with a letter in it: `pricer@0.3.0` in a WIT
            // path or a backtrace is a version, not an address, and must stay readable.
            let tld_has_letter = domain
                .rsplit('.')
                .next()
                .is_some_and(|tld| tld.chars().any(char::is_alphabetic));
            if start < at && domain.contains('.') && tld_has_letter {
                out.push_str(&rest[..start]);
                out.push_str(&self.of(&rest[start..end]));
            } else {
                out.push_str(&rest[..end.max(at + 1)]);
            }
            rest = &rest[end.max(at + 1)..];
        }
        out.push_str(rest);
        out
    }
}

fn is_local(c: char) -> bool {
    c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c)
}

fn is_domain(c: char) -> bool {
    c.is_alphanumeric() || c == '-' || c == '.'
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn versions_in_wit_paths_are_not_addresses() {
        let p = Pseudonymizer::new(b"secret");
        let text = "wasm backtrace: cineflow:plugins/pricer@0.3.0#quote, then mail a@b.example";
        let out = p.scrub_text(text);
        assert!(out.contains("cineflow:plugins/pricer@0.3.0#quote"), "{out}");
        assert!(!out.contains("a@b.example"), "{out}");
    }

    #[test]
    fn addresses_become_stable_pseudonyms_and_nothing_else_changes() {
        let p = Pseudonymizer::new(b"secret");
        let mut v = json!({
            "customer": {"email": "Asha@Example.com", "user_id": "u1"},
            "fields": [["to", "write to asha@example.com today."], ["n", "no at sign"]],
            "count": 3,
            "handle": "@cinema"
        });
        p.scrub(&mut v);
        let pseudonym = p.of("asha@example.com");
        assert_eq!(v["customer"]["email"], json!(pseudonym));
        assert_eq!(v["customer"]["user_id"], json!("u1"));
        assert_eq!(
            v["fields"][0][1],
            json!(format!("write to {pseudonym} today."))
        );
        assert_eq!(v["fields"][1][1], json!("no at sign"));
        assert_eq!(v["handle"], json!("@cinema"));
        assert_eq!(v["count"], json!(3));
        assert!(pseudonym.ends_with("@pseudonym.invalid"));
        assert_ne!(
            Pseudonymizer::new(b"other").of("asha@example.com"),
            pseudonym
        );
    }
}
