//! Gift card codes: 100 random bits from the operating system's generator, written as
//! `GC-` and four groups of five Crockford base32 characters (`GC-7M3QD-K2X9V-…`). Only a
//! sha256 of the code is stored; high entropy makes a slow password hash unnecessary (nobody
//! can try 2^100 candidates, against a fast hash or not).

use std::fmt;

use sha2::{Digest, Sha256};

/// Crockford's base32 alphabet: no I, L, O or U, so a code read aloud or retyped stays right.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters of a code after the prefix: 20 × 5 bits = 100 bits.
const CHARS: usize = 20;
/// Characters per group.
const GROUP: usize = 5;
/// Printed before the groups (optional when typed).
const PREFIX: &str = "GC";
/// Longest text [`GiftCardCode::parse`] looks at: a code with generous spacing.
pub const MAX_INPUT_LEN: usize = 64;

/// A gift card code, normalised: its 20 characters without prefix or separators. `Debug`
/// does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct GiftCardCode(String);

impl GiftCardCode {
    /// A fresh code from the OS's random source (through `uuid`'s v4, which reads it with
    /// `getrandom`: 122 random bits, of which 100 are used).
    pub fn generate() -> Self {
        Self::from_bits(random_bits())
    }

    /// The code of the low 100 bits of `bits`.
    fn from_bits(bits: u128) -> Self {
        let code = (0..CHARS)
            .rev()
            .map(|i| char::from(ALPHABET[((bits >> (5 * i)) & 0x1f) as usize]))
            .collect();
        Self(code)
    }

    /// A code as a person typed it: case, spaces and dashes do not matter, the `GC` prefix is
    /// optional, and the letters Crockford's alphabet leaves out are read as the digits they
    /// look like (I and L as 1, O as 0). `None` when it cannot be a code.
    pub fn parse(input: &str) -> Option<Self> {
        if input.len() > MAX_INPUT_LEN {
            return None;
        }
        let compact: String = input
            .chars()
            .filter(|c| !matches!(c, '-' | ' ' | '\t'))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let body = match compact.strip_prefix(PREFIX) {
            Some(rest) if compact.len() == PREFIX.len() + CHARS => rest,
            _ => compact.as_str(),
        };
        if body.len() != CHARS {
            return None;
        }
        body.chars()
            .map(|c| match c {
                'I' | 'L' => Some('1'),
                'O' => Some('0'),
                c if c.is_ascii() && ALPHABET.contains(&(c as u8)) => Some(c),
                _ => None,
            })
            .collect::<Option<String>>()
            .map(Self)
    }

    /// What is stored and looked up: the sha256 of the normalised code.
    pub fn sha256(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }

    /// The last four characters: not secret, shown in staff lists to tell cards apart.
    pub fn hint(&self) -> &str {
        &self.0[CHARS - 4..]
    }

    /// The code as printed for its holder: `GC-XXXXX-XXXXX-XXXXX-XXXXX`.
    pub fn display(&self) -> String {
        let mut out = String::from(PREFIX);
        for (i, c) in self.0.chars().enumerate() {
            if i % GROUP == 0 {
                out.push('-');
            }
            out.push(c);
        }
        out
    }
}

impl fmt::Debug for GiftCardCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GiftCardCode(…{})", self.hint())
    }
}

/// 122 random bits of a v4 UUID (the version and variant bits left out), in the low bits.
fn random_bits() -> u128 {
    let x = uuid::Uuid::new_v4().as_u128();
    let high = x >> 80; // 48 bits before the version nibble
    let middle = (x >> 64) & 0xfff; // 12 bits between the version nibble and the variant
    let low = x & ((1 << 62) - 1); // 62 bits after the variant
    (high << 74) | (middle << 62) | low
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_code_prints_in_four_groups_and_parses_back() {
        let code = GiftCardCode::generate();
        let printed = code.display();
        assert_eq!(printed.len(), 2 + 4 * 6);
        assert!(printed.starts_with("GC-"));
        assert_eq!(printed.split('-').count(), 5);
        assert_eq!(GiftCardCode::parse(&printed), Some(code.clone()));
        assert!(printed.ends_with(code.hint()));
        assert!(!format!("{code:?}").contains(&printed[3..20]));
    }

    #[test]
    fn typing_variations_give_the_same_code() {
        let code = GiftCardCode::from_bits(0x0001_2345_6789_abcd_ef01_2345_6789);
        let printed = code.display();
        let variants = [
            printed.to_lowercase(),
            printed.replace('-', ""),
            printed.replace('-', " "),
            printed[3..].to_owned(),
            format!("  {}  ", printed.to_lowercase().replace('-', " - ")),
        ];
        for v in variants {
            assert_eq!(GiftCardCode::parse(&v).as_ref(), Some(&code), "{v:?}");
        }
        // Crockford's look-alikes.
        let with_zero = GiftCardCode::from_bits(0);
        assert_eq!(
            GiftCardCode::parse("gc-ooooo-00000-OOOOO-0000o"),
            Some(with_zero)
        );
        let ones = "11111111111111111111";
        assert_eq!(
            GiftCardCode::parse("IIIII-LLLLL-iiiii-lllll").map(|c| c.0),
            Some(ones.to_owned())
        );
    }

    #[test]
    fn what_is_not_a_code_is_refused() {
        for bad in [
            "",
            "GC",
            "GC-12345",
            "GC-12345-12345-12345-1234",
            "GC-12345-12345-12345-123456",
            "GC-12345-12345-12345-1234U",
            "GC-12345-12345-12345-1234é",
            "XY-12345-12345-12345-12345",
        ] {
            assert_eq!(GiftCardCode::parse(bad), None, "{bad:?}");
        }
        assert_eq!(GiftCardCode::parse(&"1".repeat(MAX_INPUT_LEN + 1)), None);
    }

    #[test]
    fn codes_use_all_100_bits_and_hash_to_distinct_digests() {
        let mut seen = std::collections::HashSet::new();
        let mut ored = 0u128;
        for _ in 0..64 {
            let code = GiftCardCode::generate();
            assert!(seen.insert(code.sha256()), "a digest twice");
            let bits = code.0.chars().fold(0u128, |acc, c| {
                let v = ALPHABET
                    .iter()
                    .position(|a| char::from(*a) == c)
                    .unwrap_or(0);
                (acc << 5) | v as u128
            });
            ored |= bits;
        }
        assert_eq!(ored, (1u128 << 100) - 1, "every bit is set in some code");
        assert_ne!(
            GiftCardCode::from_bits(1).sha256(),
            GiftCardCode::from_bits(2).sha256()
        );
    }
}
