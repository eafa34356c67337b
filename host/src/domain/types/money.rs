//! `Currency` and `Money`: amounts are integer minor units of one ISO 4217 currency, and two
//! amounts compare equal only in the same currency.

use std::fmt;

/// An ISO 4217 alphabetic code: three ASCII capital letters (`INR`, `EUR`). Whether the code is
/// assigned is not checked: a chain chooses its currency once, and its payment provider is the
/// judge of which it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    /// Parses a code (no trimming, no case folding: `inr` is refused, so that one currency
    /// has one spelling everywhere it is stored and compared).
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        match input.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_uppercase) => Ok(Self([a, b, c])),
            _ => Err("must be an ISO 4217 code such as INR"),
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        // Three ASCII capitals, checked by `parse`, the only constructor.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An amount: integer minor units (paise, cents) of one currency. Never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    /// Minor units (may be zero; never negative where it is a price or a payment).
    pub minor: i64,
    /// The currency.
    pub currency: Currency,
}

impl Money {
    /// `minor` units of `currency`.
    pub fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// An amount read back from a row, whose currency column the host itself wrote: a value
    /// that does not parse is a corrupted row, an error, never a silent default.
    pub fn from_row(minor: i64, currency: &str) -> Result<Self, InvalidStoredCurrency> {
        Currency::parse(currency)
            .map(|c| Self::new(minor, c))
            .map_err(|_| InvalidStoredCurrency(currency.to_owned()))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.minor, self.currency)
    }
}

/// A stored currency code that is not one.
#[derive(Debug, thiserror::Error)]
#[error("stored currency {0:?} is not an ISO 4217 code")]
pub struct InvalidStoredCurrency(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_is_three_capitals() {
        assert_eq!(
            Currency::parse("INR").map(|c| c.to_string()),
            Ok("INR".into())
        );
        for bad in ["inr", "IN", "INRR", "I1R", "", " INR", "ÄBC"] {
            assert!(Currency::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn amounts_differ_by_currency() {
        let inr = Currency::parse("INR").map_err(|e| e.to_string());
        let eur = Currency::parse("EUR").map_err(|e| e.to_string());
        let (Ok(inr), Ok(eur)) = (inr, eur) else {
            panic!("valid codes");
        };
        assert_ne!(Money::new(500, inr), Money::new(500, eur));
        assert_eq!(Money::new(500, inr), Money::new(500, inr));
        assert!(Money::from_row(1, "xx").is_err());
        assert_eq!(Money::new(1250, inr).to_string(), "1250 INR");
    }
}
