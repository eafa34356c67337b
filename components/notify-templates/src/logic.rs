//! The default email templates, in plain Rust (no WIT types), so they can be unit-tested natively.
//!
//! Every event kind reads these fields (name/value pairs of the event); the host fills them in.
//! Unknown names are ignored, a missing field renders as an empty string, and when a name
//! appears twice the first value wins. Values are used as they are: amounts (`total`, `refund`)
//! are expected already formatted with their currency, `starts-at` already formatted for the
//! reader (the theatre's time zone), and `seats` as one display string (e.g. `A-7, A-8`).
//!
//! - `theatre-created`: `name`, `theatre-name`, `city`
//! - `account-approved`: `name`, `role`
//! - `booking-confirmed`: `name`, `movie-title`, `theatre-name`, `screen-name`, `seats`,
//!   `starts-at`, `total`, `booking-id`, `ticket-links`
//! - `booking-cancelled`: `name`, `movie-title`, `theatre-name`, `starts-at`, `seats`, `refund`,
//!   `booking-id`
//! - `booking-expired`: `name`, `movie-title`, `theatre-name`, `starts-at`, `seats`, `booking-id`
//! - `show-cancelled`: `name`, `movie-title`, `theatre-name`, `starts-at`, `seats`, `refund`,
//!   `booking-id`
//! - `custom`: `subject`, `content`
//! - `waitlist-offer`: `name`, `movie-title`, `theatre-name`, `starts-at`, `seats`, `total`,
//!   `offer-expires-at`, `booking-id`
//! - `waitlist-offer-expired`: `name`, `movie-title`, `theatre-name`, `starts-at`, `seats`,
//!   `booking-id`
//!
//! Some paragraphs appear only when all their fields are present and not blank:
//! `booking-confirmed` says what a voucher took off (`voucher-code`, `discount`) and what a
//! gift card paid (`gift-card-paid`, `gift-card-balance`) and links to its tickets' QR codes
//! (`ticket-links`, one URL per line); `booking-cancelled` says which
//! seats the booking keeps when only some were cancelled (`kept-seats`; `seats` then names the
//! cancelled ones).
//!
//! `name` is the recipient's display name. Every kind but `custom` renders a subject, a
//! plain-text body and an HTML body (a small standalone document); `custom` uses `subject` as
//! the subject, `content` as the text and `<p>` + escaped `content` + `</p>` as the HTML.
//!
//! Only English templates exist, so every locale, known or not, renders in English.
//! Subjects are always one line: control characters (CR, LF, tab, ...) and Unicode line and
//! paragraph separators are removed from everything put into them, and runs of spaces are
//! collapsed. HTML bodies escape every field value.

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    TheatreCreated,
    AccountApproved,
    BookingConfirmed,
    BookingCancelled,
    BookingExpired,
    ShowCancelled,
    Custom,
    WaitlistOffer,
    WaitlistOfferExpired,
}

impl EventKind {
    /// Every kind, in WIT order.
    pub const ALL: [EventKind; 9] = [
        Self::TheatreCreated,
        Self::AccountApproved,
        Self::BookingConfirmed,
        Self::BookingCancelled,
        Self::BookingExpired,
        Self::ShowCancelled,
        Self::Custom,
        Self::WaitlistOffer,
        Self::WaitlistOfferExpired,
    ];

    /// The field names this kind reads (the list at the top of this module).
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Self::TheatreCreated => &["name", "theatre-name", "city"],
            Self::AccountApproved => &["name", "role"],
            Self::BookingConfirmed => &[
                "name",
                "movie-title",
                "theatre-name",
                "screen-name",
                "seats",
                "starts-at",
                "total",
                "booking-id",
                "voucher-code",
                "discount",
                "gift-card-paid",
                "gift-card-balance",
                "ticket-links",
            ],
            Self::BookingCancelled => &[
                "name",
                "movie-title",
                "theatre-name",
                "starts-at",
                "seats",
                "refund",
                "booking-id",
                "kept-seats",
            ],
            Self::ShowCancelled => &[
                "name",
                "movie-title",
                "theatre-name",
                "starts-at",
                "seats",
                "refund",
                "booking-id",
            ],
            Self::BookingExpired => &[
                "name",
                "movie-title",
                "theatre-name",
                "starts-at",
                "seats",
                "booking-id",
            ],
            Self::Custom => &["subject", "content"],
            Self::WaitlistOffer => &[
                "name",
                "movie-title",
                "theatre-name",
                "starts-at",
                "seats",
                "total",
                "offer-expires-at",
                "booking-id",
            ],
            Self::WaitlistOfferExpired => &[
                "name",
                "movie-title",
                "theatre-name",
                "starts-at",
                "seats",
                "booking-id",
            ],
        }
    }
}

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// One line, no control characters.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: Option<String>,
}

/// A template: `{field-name}` placeholders in a subject and the body's paragraphs.
struct Template {
    subject: &'static str,
    paragraphs: &'static [&'static str],
    /// Paragraphs shown only when every field they name is present and not blank, after the
    /// first paragraph.
    extras: &'static [&'static str],
}

const SIGN_OFF: &str = "The Cineflow team";

fn template(kind: EventKind) -> Option<Template> {
    let template = match kind {
        EventKind::TheatreCreated => Template {
            subject: "Successfully created a theatre",
            paragraphs: &[
                "Your theatre {theatre-name} in {city} has been created successfully on Cineflow.",
                "You can now add its screens and schedule shows.",
            ],
            extras: &[],
        },
        EventKind::AccountApproved => Template {
            subject: "Your Cineflow account is approved",
            paragraphs: &[
                "Your Cineflow account ({role}) has been approved by an administrator.",
                "You can now sign in and get started.",
            ],
            extras: &[],
        },
        EventKind::BookingConfirmed => Template {
            subject: "Your booking is successful",
            paragraphs: &[
                "Your booking for {movie-title} at {theatre-name} ({screen-name}) on {starts-at} \
                 is confirmed. Seats: {seats}. Total paid: {total}. Booking id: {booking-id}",
                "Enjoy the show!",
            ],
            extras: &[
                "Voucher {voucher-code} took {discount} off the price.",
                "Your gift card paid {gift-card-paid}; its balance is now {gift-card-balance}.",
                "Your tickets (show the QR code at the door):\n{ticket-links}",
            ],
        },
        EventKind::BookingCancelled => Template {
            subject: "Your booking for {movie-title} is cancelled",
            paragraphs: &[
                "Your booking for {movie-title} at {theatre-name} on {starts-at} has been \
                 cancelled. Seats: {seats}. Refund: {refund}. Booking id: {booking-id}",
                "Any refund goes back to the way you paid.",
            ],
            extras: &["Only these seats were cancelled: your booking keeps seats {kept-seats}."],
        },
        EventKind::BookingExpired => Template {
            subject: "Your seat hold for {movie-title} has expired",
            paragraphs: &[
                "Your hold on seats {seats} for {movie-title} at {theatre-name} on {starts-at} \
                 expired before it was paid, so the seats have been released. You have not \
                 been charged. Booking id: {booking-id}",
                "You are welcome to book again while seats are available.",
            ],
            extras: &[],
        },
        EventKind::ShowCancelled => Template {
            subject: "The show of {movie-title} on {starts-at} is cancelled",
            paragraphs: &[
                "We are sorry: {theatre-name} has cancelled the show of {movie-title} on \
                 {starts-at}. Your booking has been cancelled and you get a full refund. \
                 Seats: {seats}. Refund: {refund}. Booking id: {booking-id}",
                "The refund goes back to the way you paid.",
            ],
            extras: &[],
        },
        EventKind::WaitlistOffer => Template {
            subject: "Seats for {movie-title} are held for you",
            paragraphs: &[
                "Good news: seats freed up for {movie-title} at {theatre-name} on {starts-at}, \
                 and you were next on the waiting list. Seats {seats} are held for you until \
                 {offer-expires-at}. Total: {total}. Booking id: {booking-id}",
                "Pay for the booking before then to keep them; after that they go to the next \
                 person waiting.",
            ],
            extras: &[],
        },
        EventKind::WaitlistOfferExpired => Template {
            subject: "Your waiting-list offer for {movie-title} has expired",
            paragraphs: &[
                "The seats {seats} held for you for {movie-title} at {theatre-name} on \
                 {starts-at} were not paid in time, so they have been offered to the next \
                 person waiting. You have not been charged. Booking id: {booking-id}",
            ],
            extras: &[],
        },
        EventKind::Custom => return None,
    };
    Some(template)
}

/// Renders an event. Never fails: a missing field is an empty string.
///
/// `locale` is accepted for the interface's sake; only English exists, so it is not consulted.
pub fn render(kind: EventKind, _locale: &str, fields: &[(String, String)]) -> Email {
    let Some(template) = template(kind) else {
        let content = field(fields, "content");
        return Email {
            subject: single_line(field(fields, "subject")),
            text: content.to_owned(),
            html: Some(format!("<p>{}</p>", escape_html(content))),
        };
    };

    let name = field(fields, "name");
    let greeting = if name.trim().is_empty() {
        "Hello,".to_owned()
    } else {
        format!("Hi {name},")
    };

    let mut text = format!("{greeting}\n\n");
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"></head>\n<body>\n\
         <p>{}</p>\n",
        escape_html(&greeting)
    );
    let shown_extras = template.extras.iter().filter(|p| {
        placeholders(p)
            .into_iter()
            .all(|name| !field(fields, name).trim().is_empty())
    });
    let (first, rest) = template
        .paragraphs
        .split_at(1.min(template.paragraphs.len()));
    for paragraph in first.iter().chain(shown_extras).chain(rest) {
        text.push_str(&fill(paragraph, fields, |s| s.to_owned()));
        text.push_str("\n\n");
        html.push_str("<p>");
        html.push_str(&fill(paragraph, fields, escape_html));
        html.push_str("</p>\n");
    }
    text.push_str(SIGN_OFF);
    text.push('\n');
    html.push_str("<p>");
    html.push_str(&escape_html(SIGN_OFF));
    html.push_str("</p>\n</body>\n</html>\n");

    Email {
        subject: single_line(&fill(template.subject, fields, |s| s.to_owned())),
        text,
        html: Some(html),
    }
}

/// The `{name}`s a template string uses.
fn placeholders(s: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        let Some(len) = rest[open..].find('}') else {
            break;
        };
        names.push(&rest[open + 1..open + len]);
        rest = &rest[open + len + 1..];
    }
    names
}

/// The first value of field `name`, or `""`.
fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, value)| value.as_str())
}

/// Replaces each `{name}` in `template` with the field's value, passing every piece (literal
/// text and values alike) through `piece`. One pass: placeholders inside values stay as they
/// are. A `{` without a closing `}` is literal text.
fn fill(template: &str, fields: &[(String, String)], piece: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(len) = rest[open..].find('}') else {
            break;
        };
        out.push_str(&piece(&rest[..open]));
        out.push_str(&piece(field(fields, &rest[open + 1..open + len])));
        rest = &rest[open + len + 1..];
    }
    out.push_str(&piece(rest));
    out
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
            _ => out.push(c),
        }
    }
    out
}

/// Makes a subject line: drops control characters (CR, LF, tab, DEL, C1) and the Unicode line
/// and paragraph separators, collapses runs of whitespace to one space and trims the ends.
pub fn single_line(s: &str) -> String {
    let kept: String = s
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '\u{2028}' | '\u{2029}'))
        .collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
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

    fn booking_fields() -> Vec<(String, String)> {
        fields(&[
            ("name", "Asha"),
            ("movie-title", "Dune: Part Two"),
            ("theatre-name", "Cineflow Koramangala"),
            ("screen-name", "Screen 2"),
            ("seats", "A-7, A-8"),
            ("starts-at", "Fri 14 Mar 2025, 18:30"),
            ("total", "₹700.00"),
            ("refund", "₹700.00"),
            ("booking-id", "b-123"),
            ("city", "Bengaluru"),
            ("role", "theatre owner"),
        ])
    }

    #[test]
    fn documented_fields_match_the_templates() {
        for kind in EventKind::ALL {
            let Some(t) = template(kind) else {
                assert_eq!(kind, EventKind::Custom);
                continue;
            };
            let mut used: Vec<&str> = vec!["name"]; // the greeting
            used.extend(placeholders(t.subject));
            for p in t.paragraphs.iter().chain(t.extras) {
                used.extend(placeholders(p));
            }
            for name in &used {
                assert!(
                    kind.fields().contains(name),
                    "{kind:?} uses undocumented {name}"
                );
            }
            for name in kind.fields() {
                assert!(used.contains(name), "{kind:?} documents unused {name}");
            }
        }
    }

    #[test]
    fn booking_confirmed_reads_like_the_original() {
        let email = render(EventKind::BookingConfirmed, "en", &booking_fields());
        assert_eq!(email.subject, "Your booking is successful");
        assert!(email.text.starts_with("Hi Asha,\n\n"), "{}", email.text);
        assert!(
            email.text.contains(
                "Your booking for Dune: Part Two at Cineflow Koramangala (Screen 2) on \
                 Fri 14 Mar 2025, 18:30 is confirmed. Seats: A-7, A-8. Total paid: ₹700.00. \
                 Booking id: b-123"
            ),
            "{}",
            email.text
        );
        assert!(email.text.ends_with("The Cineflow team\n"));
        let html = email.html.expect("html");
        assert!(html.contains("<p>Hi Asha,</p>"), "{html}");
        assert!(
            html.contains("Seats: A-7, A-8. Total paid: ₹700.00."),
            "{html}"
        );
    }

    #[test]
    fn theatre_created_keeps_the_original_subject() {
        let email = render(EventKind::TheatreCreated, "en", &booking_fields());
        assert_eq!(email.subject, "Successfully created a theatre");
        assert!(
            email
                .text
                .contains("Cineflow Koramangala in Bengaluru has been created")
        );
    }

    #[test]
    fn account_approved() {
        let email = render(EventKind::AccountApproved, "en", &booking_fields());
        assert_eq!(email.subject, "Your Cineflow account is approved");
        assert!(email.text.contains("(theatre owner) has been approved"));
    }

    #[test]
    fn cancellations_and_expiry_mention_the_booking() {
        let f = booking_fields();
        let cancelled = render(EventKind::BookingCancelled, "en", &f);
        assert_eq!(
            cancelled.subject,
            "Your booking for Dune: Part Two is cancelled"
        );
        assert!(
            cancelled
                .text
                .contains("Refund: ₹700.00. Booking id: b-123")
        );

        let expired = render(EventKind::BookingExpired, "en", &f);
        assert_eq!(
            expired.subject,
            "Your seat hold for Dune: Part Two has expired"
        );
        assert!(expired.text.contains("seats A-7, A-8"));
        assert!(expired.text.contains("released"));
        assert!(expired.text.contains("Booking id: b-123"));

        let show = render(EventKind::ShowCancelled, "en", &f);
        assert_eq!(
            show.subject,
            "The show of Dune: Part Two on Fri 14 Mar 2025, 18:30 is cancelled"
        );
        assert!(show.text.contains("full refund"));
        assert!(show.text.contains("Refund: ₹700.00"));
    }

    #[test]
    fn optional_paragraphs_need_all_their_fields() {
        let mut f = booking_fields();
        let plain = render(EventKind::BookingConfirmed, "en", &f);
        assert!(!plain.text.contains("Voucher"), "{}", plain.text);
        assert!(!plain.text.contains("gift card"), "{}", plain.text);
        f.extend(fields(&[
            ("voucher-code", "SAVE10"),
            ("discount", "₹70.00"),
            ("gift-card-paid", "₹300.00"),
            ("gift-card-balance", "₹0.00"),
        ]));
        let rich = render(EventKind::BookingConfirmed, "en", &f);
        assert!(
            rich.text
                .contains("Voucher SAVE10 took ₹70.00 off the price.")
        );
        assert!(
            rich.text
                .contains("Your gift card paid ₹300.00; its balance is now ₹0.00.")
        );
        assert!(!rich.text.contains("Your tickets"), "{}", rich.text);
        f.push((
            "ticket-links".to_owned(),
            "https://x/t/1.svg?code=CF1.a\nhttps://x/t/2.svg?code=CF1.b".to_owned(),
        ));
        let linked = render(EventKind::BookingConfirmed, "en", &f);
        assert!(
            linked.text.contains(
                "QR code at the door):\nhttps://x/t/1.svg?code=CF1.a\nhttps://x/t/2.svg?code=CF1.b"
            ),
            "{}",
            linked.text
        );
        f.push(("kept-seats".to_owned(), "A-8".to_owned()));
        let partial = render(EventKind::BookingCancelled, "en", &f);
        assert!(partial.text.contains("your booking keeps seats A-8"));
    }

    #[test]
    fn waiting_list_offers_say_until_when() {
        let mut f = booking_fields();
        f.push((
            "offer-expires-at".to_owned(),
            "Fri 14 Mar 2025, 17:45".to_owned(),
        ));
        let offer = render(EventKind::WaitlistOffer, "en", &f);
        assert_eq!(offer.subject, "Seats for Dune: Part Two are held for you");
        assert!(
            offer
                .text
                .contains("held for you until Fri 14 Mar 2025, 17:45")
        );
        let expired = render(EventKind::WaitlistOfferExpired, "en", &f);
        assert!(expired.text.contains("next person waiting"));
    }

    #[test]
    fn every_kind_renders_text_and_html_with_all_fields() {
        for kind in EventKind::ALL {
            let email = render(kind, "en", &booking_fields());
            assert!(!email.text.is_empty() || kind == EventKind::Custom);
            assert!(email.html.is_some(), "{kind:?}");
        }
    }

    #[test]
    fn missing_fields_render_empty() {
        for kind in EventKind::ALL {
            let email = render(kind, "en", &[]);
            assert!(!email.text.contains('{'), "{kind:?}: {}", email.text);
            assert!(!email.subject.contains('{'), "{kind:?}: {}", email.subject);
        }
        let email = render(EventKind::BookingConfirmed, "en", &[]);
        assert!(email.text.starts_with("Hello,\n\n"));
        assert!(email.text.contains("Seats: . Total paid: ."));
        let custom = render(EventKind::Custom, "en", &[]);
        assert_eq!(
            custom,
            Email {
                subject: String::new(),
                text: String::new(),
                html: Some("<p></p>".to_owned()),
            }
        );
    }

    #[test]
    fn unknown_fields_are_ignored_and_the_first_value_wins() {
        let f = fields(&[("role", "owner"), ("colour", "blue"), ("role", "admin")]);
        let email = render(EventKind::AccountApproved, "en", &f);
        assert!(email.text.contains("(owner)"));
        assert!(!email.text.contains("manager"));
        assert!(!email.text.contains("blue"));
    }

    #[test]
    fn every_locale_renders_english() {
        let f = booking_fields();
        let en = render(EventKind::BookingConfirmed, "en", &f);
        for locale in ["hi-IN", "", "xx", "en-GB", "\u{0}"] {
            assert_eq!(
                render(EventKind::BookingConfirmed, locale, &f),
                en,
                "{locale:?}"
            );
        }
    }

    #[test]
    fn html_escapes_every_value() {
        let evil = "<script>alert('x')</script> & \"q\"";
        for kind in EventKind::ALL {
            let f: Vec<(String, String)> = kind
                .fields()
                .iter()
                .map(|n| ((*n).to_owned(), evil.to_owned()))
                .collect();
            let email = render(kind, "en", &f);
            let html = email.html.expect("html");
            assert!(!html.contains("<script>"), "{kind:?}: {html}");
            assert!(!html.contains("'x'"), "{kind:?}: {html}");
            assert!(
                html.contains(
                    "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
                )
            );
            // The text body is not HTML: values go in as they are.
            assert!(email.text.contains(evil), "{kind:?}");
        }
    }

    #[test]
    fn placeholders_inside_values_are_not_expanded() {
        let f = fields(&[("movie-title", "{booking-id}"), ("booking-id", "b-1")]);
        let email = render(EventKind::BookingConfirmed, "en", &f);
        assert!(email.text.contains("Your booking for {booking-id} at"));
    }

    #[test]
    fn subjects_are_one_line() {
        let f = fields(&[
            ("movie-title", "Dune\r\nBcc: victim@example.com"),
            ("starts-at", "today\u{2028}\u{85}\t now"),
            ("subject", "Hello\r\n\r\nBcc: x@y\u{7f}\u{0}"),
        ]);
        for kind in EventKind::ALL {
            let subject = render(kind, "en", &f).subject;
            assert!(
                !subject.chars().any(|c| c.is_control() || c == '\u{2028}'),
                "{kind:?}: {subject:?}"
            );
        }
        assert_eq!(
            render(EventKind::BookingCancelled, "en", &f).subject,
            "Your booking for DuneBcc: victim@example.com is cancelled"
        );
        assert_eq!(
            render(EventKind::ShowCancelled, "en", &f).subject,
            "The show of DuneBcc: victim@example.com on today now is cancelled"
        );
        assert_eq!(render(EventKind::Custom, "en", &f).subject, "HelloBcc: x@y");
    }

    #[test]
    fn custom_message() {
        let f = fields(&[
            ("subject", "Maintenance tonight"),
            ("content", "We're down 2–3 am.\n<b>Sorry</b>"),
        ]);
        let email = render(EventKind::Custom, "fr", &f);
        assert_eq!(email.subject, "Maintenance tonight");
        assert_eq!(email.text, "We're down 2–3 am.\n<b>Sorry</b>");
        assert_eq!(
            email.html.as_deref(),
            Some("<p>We&#39;re down 2–3 am.\n&lt;b&gt;Sorry&lt;/b&gt;</p>")
        );
    }

    #[test]
    fn escape_html_cases() {
        assert_eq!(escape_html(""), "");
        assert_eq!(escape_html("plain ₹ text"), "plain ₹ text");
        assert_eq!(escape_html("&amp;"), "&amp;amp;");
        assert_eq!(
            escape_html("<a href=\"x\">'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn single_line_cases() {
        assert_eq!(single_line("  a \r\n b  "), "a b");
        assert_eq!(single_line("a\nb"), "ab");
        assert_eq!(single_line("\u{1b}[31mred"), "[31mred");
        assert_eq!(single_line("a\u{2029}b\u{2028}c"), "abc");
        assert_eq!(single_line("ünïcödé ✓"), "ünïcödé ✓");
    }

    #[test]
    fn fill_edge_cases() {
        let f = fields(&[("a", "1")]);
        let id = |s: &str| s.to_owned();
        assert_eq!(fill("", &f, id), "");
        assert_eq!(fill("{a}{a}", &f, id), "11");
        assert_eq!(fill("x {a", &f, id), "x {a");
        assert_eq!(fill("x {} {b} }{a}", &f, id), "x   }1");
        assert_eq!(fill("{é}", &f, id), "");
    }
}
