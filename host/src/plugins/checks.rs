//! The host's checks on what components return. A component that breaks one has failed,
//! exactly like a trap: these are invariants the rest of the host relies on.

use crate::domain::hook_io::{HoldPolicy, PriceQuote, RenderedEmail};

use super::limits::OutputBounds;

/// A hold policy must grant some time, and not more than the cap.
pub fn hold_policy(policy: &HoldPolicy, bounds: &OutputBounds) -> Result<(), String> {
    match policy.hold_seconds {
        0 => Err("hold-seconds must be at least 1".into()),
        s if s > bounds.max_hold_seconds => Err(format!(
            "hold-seconds {s} exceeds the maximum of {}",
            bounds.max_hold_seconds
        )),
        _ => Ok(()),
    }
}

/// A refund lies between nothing and everything that was paid.
pub fn refund(refund_minor: i64, paid_minor: i64) -> Result<(), String> {
    if (0..=paid_minor).contains(&refund_minor) {
        Ok(())
    } else {
        Err(format!(
            "refund {refund_minor} is outside 0..={paid_minor} (what was paid)"
        ))
    }
}

/// Items are non-negative and add up to the total exactly.
pub fn quote(quote: &PriceQuote, bounds: &OutputBounds) -> Result<(), String> {
    if quote.items.is_empty() {
        return Err("a quote needs at least one line item".into());
    }
    if quote.items.len() > bounds.max_line_items {
        return Err(format!(
            "{} line items exceed the maximum of {}",
            quote.items.len(),
            bounds.max_line_items
        ));
    }
    let mut sum: i64 = 0;
    for item in &quote.items {
        if item.amount_minor < 0 {
            return Err(format!(
                "line item `{}` has a negative amount {}",
                item.label, item.amount_minor
            ));
        }
        if item.label.trim().is_empty() {
            return Err("a line item has an empty label".into());
        }
        sum = sum
            .checked_add(item.amount_minor)
            .ok_or("line items overflow a 64-bit amount")?;
    }
    if quote.total_minor < 0 {
        return Err(format!("total {} is negative", quote.total_minor));
    }
    if sum != quote.total_minor {
        return Err(format!(
            "line items add up to {sum} but the total is {}",
            quote.total_minor
        ));
    }
    Ok(())
}

/// A subject is one non-empty line within the cap; bodies are non-empty.
pub fn email(email: &RenderedEmail, bounds: &OutputBounds) -> Result<(), String> {
    let subject = &email.subject;
    if subject.trim().is_empty() {
        return Err("the subject is empty".into());
    }
    if subject.chars().any(char::is_control) {
        return Err("the subject contains control characters (line breaks are not allowed)".into());
    }
    let chars = subject.chars().count();
    if chars > bounds.max_subject_chars {
        return Err(format!(
            "the subject has {chars} characters; the maximum is {}",
            bounds.max_subject_chars
        ));
    }
    if email.text.trim().is_empty() {
        return Err("the text body is empty".into());
    }
    if email.html.as_deref().is_some_and(|h| h.trim().is_empty()) {
        return Err("the HTML body is present but empty".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::hook_io::LineItem;

    fn item(amount: i64) -> LineItem {
        LineItem {
            label: "Seat A-1".into(),
            seat_id: Some("A-1".into()),
            amount_minor: amount,
        }
    }

    #[test]
    fn quote_items_must_sum_to_the_total() {
        let b = OutputBounds::default();
        let ok = PriceQuote {
            items: vec![item(100), item(250)],
            total_minor: 350,
        };
        assert!(quote(&ok, &b).is_ok());
        let off = PriceQuote {
            items: vec![item(100)],
            total_minor: 1,
        };
        assert!(
            quote(&off, &b)
                .expect_err("refused")
                .contains("add up to 100")
        );
    }

    #[test]
    fn quote_refuses_negative_amounts_and_overflow() {
        let b = OutputBounds::default();
        let neg = PriceQuote {
            items: vec![item(-5), item(10)],
            total_minor: 5,
        };
        assert!(quote(&neg, &b).expect_err("refused").contains("negative"));
        let big = PriceQuote {
            items: vec![item(i64::MAX), item(1)],
            total_minor: 0,
        };
        assert!(quote(&big, &b).expect_err("refused").contains("overflow"));
        let empty = PriceQuote {
            items: vec![],
            total_minor: 0,
        };
        assert!(quote(&empty, &b).is_err());
    }

    #[test]
    fn hold_time_is_bounded() {
        let b = OutputBounds::default();
        assert!(hold_policy(&HoldPolicy { hold_seconds: 600 }, &b).is_ok());
        assert!(hold_policy(&HoldPolicy { hold_seconds: 0 }, &b).is_err());
        assert!(hold_policy(&HoldPolicy { hold_seconds: 1801 }, &b).is_err());
    }

    #[test]
    fn refund_is_between_zero_and_paid() {
        assert!(refund(0, 100).is_ok());
        assert!(refund(100, 100).is_ok());
        assert!(refund(101, 100).is_err());
        assert!(refund(-1, 100).is_err());
    }

    #[test]
    fn subject_is_one_line_within_the_cap() {
        let b = OutputBounds::default();
        let mut e = RenderedEmail {
            subject: "Hi".into(),
            text: "Body".into(),
            html: None,
        };
        assert!(email(&e, &b).is_ok());
        e.subject = "Hi\r\nBcc: victim@example.com".into();
        assert!(email(&e, &b).expect_err("refused").contains("control"));
        e.subject = "x".repeat(201);
        assert!(email(&e, &b).is_err());
        e.subject = "Hi".into();
        e.text = " ".into();
        assert!(email(&e, &b).is_err());
    }
}
