//! The built-in templates: what a notification looks like when the chain's notify-templates
//! component fails. Deliberately plain (a fixed subject per kind and the event's facts as
//! lines) so that it cannot fail itself; the default component is the one with prose.

use crate::domain::hook_io::{EventKind, RenderedEmail};

/// Fields shown, in this order, with their labels; others are left out.
const LABELS: &[(&str, &str)] = &[
    ("movie-title", "Movie"),
    ("theatre-name", "Theatre"),
    ("city", "City"),
    ("screen-name", "Screen"),
    ("starts-at", "Starts at"),
    ("seats", "Seats"),
    ("total", "Total"),
    ("refund", "Refund"),
    ("kept-seats", "Seats kept"),
    ("voucher-code", "Voucher"),
    ("discount", "Discount"),
    ("offer-expires-at", "Held until"),
    ("role", "Role"),
    ("booking-id", "Booking id"),
];

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn subject(kind: EventKind) -> &'static str {
    match kind {
        EventKind::TheatreCreated => "Your theatre was created",
        EventKind::AccountApproved => "Your Cineflow account is approved",
        EventKind::BookingConfirmed => "Your booking is confirmed",
        EventKind::BookingCancelled => "Your booking is cancelled",
        EventKind::BookingExpired => "Your seat hold has expired",
        EventKind::ShowCancelled => "Your show was cancelled",
        EventKind::Custom => "A message from Cineflow",
        EventKind::WaitlistOffer => "Seats are held for you",
        EventKind::WaitlistOfferExpired => "Your waiting-list offer has expired",
    }
}

/// Subjects are one line of at most 200 characters, whatever the input.
fn one_line(s: &str) -> String {
    let line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    line.trim().to_owned()
}

/// Renders `kind` from `fields` without any component.
pub fn render(kind: EventKind, fields: &[(String, String)]) -> RenderedEmail {
    if kind == EventKind::Custom {
        let content = field(fields, "content").unwrap_or_default().to_owned();
        let subject = one_line(field(fields, "subject").unwrap_or_default());
        return RenderedEmail {
            subject: if subject.is_empty() {
                self::subject(kind).to_owned()
            } else {
                subject
            },
            html: Some(format!("<pre>{}</pre>", escape_html(&content))),
            text: content,
        };
    }
    let greeting = match field(fields, "name") {
        Some(name) if !name.is_empty() => format!("Hello {name},"),
        _ => "Hello,".to_owned(),
    };
    let mut facts: Vec<(&str, &str)> = LABELS
        .iter()
        .filter_map(|(name, label)| field(fields, name).map(|v| (*label, v)))
        .collect();
    // A payment partly or wholly by gift card: what it paid and what is left, on one line.
    let gift_card =
        field(fields, "gift-card-paid").map(|paid| match field(fields, "gift-card-balance") {
            Some(left) => format!("{paid}, remaining balance: {left}"),
            None => paid.to_owned(),
        });
    if let Some(line) = &gift_card {
        facts.push(("Paid with gift card", line));
    }
    let mut text = format!("{greeting}\n\n{}.\n\n", subject(kind));
    let mut html = format!(
        "<p>{}</p>\n<p>{}.</p>\n<ul>\n",
        escape_html(&greeting),
        escape_html(subject(kind))
    );
    for (label, value) in &facts {
        text.push_str(&format!("{label}: {value}\n"));
        html.push_str(&format!(
            "<li>{}: {}</li>\n",
            escape_html(label),
            escape_html(value)
        ));
    }
    html.push_str("</ul>\n");
    // A confirmation's tickets: one link per line, each its QR code (no sign-in needed).
    let links: Vec<&str> = field(fields, "ticket-links")
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("https://") || l.starts_with("http://"))
        .collect();
    if !links.is_empty() {
        text.push_str("\nYour tickets (show the QR code at the door):\n");
        html.push_str("<p>Your tickets (show the QR code at the door):</p>\n<ul>\n");
        for (n, link) in links.iter().enumerate() {
            text.push_str(&format!("{link}\n"));
            html.push_str(&format!(
                "<li><a href=\"{}\">Ticket {}</a></li>\n",
                escape_html(link),
                n + 1
            ));
        }
        html.push_str("</ul>\n");
    }
    text.push_str("\nCineflow\n");
    html.push_str("<p>Cineflow</p>\n");
    RenderedEmail {
        subject: subject(kind).to_owned(),
        text,
        html: Some(html),
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn booking_confirmed_lists_the_facts_in_both_bodies() {
        let email = render(
            EventKind::BookingConfirmed,
            &fields(&[
                ("name", "Asha"),
                ("movie-title", "Dune <Part Two>"),
                ("seats", "A-1, A-2"),
                ("total", "INR 500.00"),
                ("booking-id", "0190"),
                ("unknown", "ignored"),
            ]),
        );
        assert_eq!(email.subject, "Your booking is confirmed");
        assert!(email.text.contains("Hello Asha,"));
        assert!(email.text.contains("Movie: Dune <Part Two>"));
        assert!(email.text.contains("Booking id: 0190"));
        assert!(!email.text.contains("ignored"));
        let html = email.html.expect("html body");
        assert!(html.contains("Dune &lt;Part Two&gt;"));
    }

    #[test]
    fn a_gift_card_payment_shows_what_the_card_paid_and_what_is_left() {
        let email = render(
            EventKind::BookingConfirmed,
            &fields(&[
                ("total", "INR 500.00"),
                ("gift-card-paid", "INR 300.00"),
                ("gift-card-balance", "INR 0.00"),
            ]),
        );
        assert!(
            email
                .text
                .contains("Paid with gift card: INR 300.00, remaining balance: INR 0.00"),
            "{}",
            email.text
        );
        let html = email.html.expect("html body");
        assert!(
            html.contains("<li>Paid with gift card: INR 300.00, remaining balance: INR 0.00</li>")
        );
    }

    #[test]
    fn booking_confirmed_shows_a_vouchers_code_and_discount() {
        let email = render(
            EventKind::BookingConfirmed,
            &fields(&[
                ("total", "INR 450.00"),
                ("discount", "INR 50.00"),
                ("voucher-code", "SUMMER-10"),
            ]),
        );
        for line in [
            "Total: INR 450.00",
            "Voucher: SUMMER-10",
            "Discount: INR 50.00",
        ] {
            assert!(email.text.contains(line), "{line} in {}", email.text);
        }
        let html = email.html.expect("html body");
        assert!(html.contains("<li>Discount: INR 50.00</li>"), "{html}");
    }

    #[test]
    fn custom_mail_keeps_subject_and_content_and_flattens_the_subject() {
        let email = render(
            EventKind::Custom,
            &fields(&[("subject", "Hi\r\nBcc: x@y.z"), ("content", "a < b")]),
        );
        assert_eq!(email.subject, "Hi  Bcc: x@y.z");
        assert_eq!(email.text, "a < b");
        assert_eq!(email.html.as_deref(), Some("<pre>a &lt; b</pre>"));
    }

    #[test]
    fn booking_confirmed_links_each_ticket_and_only_web_links() {
        let email = render(
            EventKind::BookingConfirmed,
            &fields(&[
                ("seats", "A-1, A-2"),
                (
                    "ticket-links",
                    "http://x/api/v1/tickets/1/qr.svg?code=CF1.a\njavascript:alert(1)\nhttps://x/t/2?code=CF1.b",
                ),
            ]),
        );
        assert!(
            email.text.contains(
                "\nhttp://x/api/v1/tickets/1/qr.svg?code=CF1.a\nhttps://x/t/2?code=CF1.b\n"
            ),
            "{}",
            email.text
        );
        let html = email.html.expect("html");
        assert!(
            html.contains("<a href=\"https://x/t/2?code=CF1.b\">Ticket 2</a>"),
            "{html}"
        );
        assert!(!html.contains("javascript") && !email.text.contains("javascript"));
    }
}
