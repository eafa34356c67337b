//! The emails, in plain Rust: no WIT types, so `cargo test` runs them natively.
//!
//! Start: one plain-text email per event kind, in English whatever the locale, naming the
//! fields it was given. Change `render` to write your own; the host checks every answer (a
//! subject of one line of at most 200 characters, bodies that are not empty).

/// An email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// One line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// An HTML body, if any.
    pub html: Option<String>,
}

/// The email for an event of `kind` (its WIT name, e.g. `booking-confirmed`); `fields` are
/// name/value pairs already formatted for the reader. `Err` sends no email.
pub fn render(kind: &str, _locale: &str, fields: &[(String, String)]) -> Result<Email, String> {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let subject = match kind {
        "theatre-created" => format!("Your theatre {} is on Cineflow", field("theatre-name")),
        "account-approved" => "Your account is approved".to_owned(),
        "booking-confirmed" => format!("Booking confirmed: {}", field("movie-title")),
        "booking-cancelled" => format!("Booking cancelled: {}", field("movie-title")),
        "booking-expired" => format!("Your hold expired: {}", field("movie-title")),
        "show-cancelled" => format!("Show cancelled: {}", field("movie-title")),
        "custom" => field("subject").to_owned(),
        other => format!("Cineflow: {other}"),
    };
    let subject = one_line(&subject, 200);
    let subject = if subject.is_empty() {
        "A message from Cineflow".to_owned()
    } else {
        subject
    };
    let mut text = format!("Hello {},\n\n", non_empty(field("name"), "there"));
    if kind == "custom" {
        text.push_str(non_empty(field("content"), "(no content)"));
        text.push('\n');
    } else {
        for (name, value) in fields.iter().filter(|(n, _)| n != "name") {
            text.push_str(&format!("{name}: {value}\n"));
        }
    }
    text.push_str("\nCineflow\n");
    Ok(Email {
        subject,
        text,
        html: None,
    })
}

fn one_line(s: &str, max_chars: usize) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max_chars)
        .collect::<String>()
        .trim()
        .to_owned()
}

fn non_empty<'a>(s: &'a str, otherwise: &'a str) -> &'a str {
    if s.trim().is_empty() { otherwise } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_confirmation_names_the_movie_and_lists_the_fields() {
        let email = render(
            "booking-confirmed",
            "en",
            &fields(&[("name", "Asha"), ("movie-title", "Monsoon"), ("seats", "A-1")]),
        )
        .expect("rendered");
        assert_eq!(email.subject, "Booking confirmed: Monsoon");
        assert!(email.text.starts_with("Hello Asha,"), "{}", email.text);
        assert!(email.text.contains("seats: A-1"), "{}", email.text);
    }

    #[test]
    fn subjects_are_one_line_and_never_empty() {
        let email = render("custom", "en", &fields(&[("subject", "a\nb")])).expect("rendered");
        assert_eq!(email.subject, "a b");
        let email = render("custom", "en", &[]).expect("rendered");
        assert_eq!(email.subject, "A message from Cineflow");
        assert!(!email.text.is_empty());
    }
}
