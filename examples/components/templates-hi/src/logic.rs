//! Email templates in Hindi, in plain Rust (no WIT types), so they can be unit-tested natively.
//!
//! Every event kind of the WIT renders a subject, a plain-text body and an HTML body
//! (`<html lang="hi">`) in Hindi, whatever the event's `locale`: a chain binds this component
//! because it wants its emails in Hindi. (A component serving several languages would switch
//! on `locale`, and could return `err` for a language it lacks to get the host's built-in
//! English email instead.)
//!
//! Fields (name/value pairs of the event, as docs/components.md lists them per kind) are read
//! like this:
//!
//! - Unknown names are ignored; when a name appears twice the first value wins.
//! - A value that is missing or blank counts as missing, and nothing is made up for it: each
//!   body names its facts in a list of `label: value` lines and a missing fact's line is left
//!   out, and each subject has a plain form without values, used when a value it names is
//!   missing. No sentence has a value inside it, so a missing value never breaks the grammar.
//! - Values are used as they are (amounts already carry their currency, `starts-at` is
//!   already in the theatre's time), except `role`, whose three values are translated.
//! - `custom` sends `subject` and `content` as they are (they are the sender's words), with a
//!   Hindi subject and note when they are blank.
//!
//! Subjects are always one line of at most [`MAX_SUBJECT_CHARS`] characters: control
//! characters and Unicode line and paragraph separators are removed from them, runs of spaces
//! collapsed, and an overlong subject shortened with `…`. HTML bodies escape every value.

/// The host's cap on a subject's length, in characters.
pub const MAX_SUBJECT_CHARS: usize = 200;

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

    /// The field names this kind reads (docs/components.md, "Email template fields").
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
                "voucher-code",
                "discount",
                "gift-card-paid",
                "gift-card-balance",
                "booking-id",
            ],
            Self::BookingCancelled => &[
                "name",
                "movie-title",
                "theatre-name",
                "starts-at",
                "seats",
                "kept-seats",
                "refund",
                "booking-id",
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
    /// One line, no control characters, at most [`MAX_SUBJECT_CHARS`] characters.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: Option<String>,
}

/// One event kind's email.
struct Template {
    /// The subject, with `{field-name}` placeholders.
    subject: &'static str,
    /// The subject when a field `subject` names is missing.
    subject_plain: &'static str,
    /// The paragraph before the facts.
    intro: &'static str,
    /// The facts: a label and the field that gives its value.
    details: &'static [(&'static str, &'static str)],
    /// The paragraph after the facts.
    outro: &'static str,
}

const MOVIE: (&str, &str) = ("फ़िल्म", "movie-title");
const THEATRE: (&str, &str) = ("थिएटर", "theatre-name");
const SCREEN: (&str, &str) = ("स्क्रीन", "screen-name");
const STARTS_AT: (&str, &str) = ("शो का समय", "starts-at");
const SEATS: (&str, &str) = ("सीटें", "seats");
const TOTAL: (&str, &str) = ("कुल भुगतान", "total");
const REFUND: (&str, &str) = ("रिफ़ंड", "refund");
const BOOKING_ID: (&str, &str) = ("बुकिंग आईडी", "booking-id");
const CITY: (&str, &str) = ("शहर", "city");
const VOUCHER: (&str, &str) = ("वाउचर", "voucher-code");
const DISCOUNT: (&str, &str) = ("छूट", "discount");
const GIFT_CARD_PAID: (&str, &str) = ("गिफ़्ट कार्ड से भुगतान", "gift-card-paid");
const GIFT_CARD_BALANCE: (&str, &str) = ("गिफ़्ट कार्ड में शेष राशि", "gift-card-balance");
const KEPT_SEATS: (&str, &str) = ("बुकिंग में बची सीटें", "kept-seats");
const PAY_BY: (&str, &str) = ("भुगतान की अंतिम समय-सीमा", "offer-expires-at");
const ROLE: (&str, &str) = ("भूमिका", "role");

/// Greeting without a name; with one it is `नमस्ते <name>,`.
const HELLO: &str = "नमस्ते";
/// Sign-off of every email but `custom`.
const SIGN_OFF: &str = "Cineflow टीम";
/// Subject of a `custom` message without one.
const CUSTOM_SUBJECT: &str = "Cineflow से एक संदेश";
/// Text of a `custom` message without content.
const CUSTOM_EMPTY: &str = "इस संदेश में कोई सामग्री नहीं है।";

fn template(kind: EventKind) -> Option<Template> {
    let template = match kind {
        EventKind::TheatreCreated => Template {
            subject: "आपका थिएटर {theatre-name} Cineflow पर बन गया है",
            subject_plain: "आपका थिएटर Cineflow पर बन गया है",
            intro: "आपका थिएटर Cineflow पर सफलतापूर्वक बना दिया गया है।",
            details: &[THEATRE, CITY],
            outro: "अब आप इसमें स्क्रीन जोड़ सकते हैं और शो तय कर सकते हैं।",
        },
        EventKind::AccountApproved => Template {
            subject: "आपका Cineflow खाता स्वीकृत हो गया है",
            subject_plain: "आपका Cineflow खाता स्वीकृत हो गया है",
            intro: "एक व्यवस्थापक ने आपका Cineflow खाता स्वीकृत कर दिया है।",
            details: &[ROLE],
            outro: "अब आप साइन इन करके काम शुरू कर सकते हैं।",
        },
        EventKind::BookingConfirmed => Template {
            subject: "{movie-title} के लिए आपकी बुकिंग की पुष्टि हो गई है",
            subject_plain: "आपकी बुकिंग की पुष्टि हो गई है",
            intro: "आपका भुगतान मिल गया है और आपकी बुकिंग की पुष्टि हो गई है।",
            details: &[
                MOVIE,
                THEATRE,
                SCREEN,
                STARTS_AT,
                SEATS,
                TOTAL,
                VOUCHER,
                DISCOUNT,
                GIFT_CARD_PAID,
                GIFT_CARD_BALANCE,
                BOOKING_ID,
            ],
            outro: "शो का आनंद लें!",
        },
        EventKind::BookingCancelled => Template {
            subject: "{movie-title} के लिए आपकी बुकिंग रद्द कर दी गई है",
            subject_plain: "आपकी बुकिंग रद्द कर दी गई है",
            intro: "आपकी बुकिंग रद्द कर दी गई है और इसकी सीटें फिर से उपलब्ध हो गई हैं।",
            details: &[
                MOVIE, THEATRE, STARTS_AT, SEATS, KEPT_SEATS, REFUND, BOOKING_ID,
            ],
            outro: "रिफ़ंड, यदि कोई हो, उसी माध्यम से लौटाया जाएगा जिससे आपने भुगतान किया था।",
        },
        EventKind::BookingExpired => Template {
            subject: "{movie-title} के लिए आपकी सीटों का होल्ड समाप्त हो गया है",
            subject_plain: "आपकी सीटों का होल्ड समाप्त हो गया है",
            intro: "भुगतान से पहले ही आपकी सीटों का होल्ड समाप्त हो गया, इसलिए ये सीटें फिर से \
                    उपलब्ध कर दी गई हैं। आपसे कोई शुल्क नहीं लिया गया है।",
            details: &[MOVIE, THEATRE, STARTS_AT, SEATS, BOOKING_ID],
            outro: "सीटें उपलब्ध रहने तक आप फिर से बुकिंग कर सकते हैं।",
        },
        EventKind::ShowCancelled => Template {
            subject: "{movie-title} का {starts-at} वाला शो रद्द कर दिया गया है",
            subject_plain: "आपकी बुकिंग वाला शो रद्द कर दिया गया है",
            intro: "हमें खेद है कि थिएटर ने यह शो रद्द कर दिया है। आपकी बुकिंग रद्द कर दी गई है \
                    और आपको पूरा रिफ़ंड मिलेगा।",
            details: &[MOVIE, THEATRE, STARTS_AT, SEATS, REFUND, BOOKING_ID],
            outro: "रिफ़ंड उसी माध्यम से लौटाया जाएगा जिससे आपने भुगतान किया था।",
        },
        EventKind::WaitlistOffer => Template {
            subject: "{movie-title} के लिए सीटें आपके लिए रोकी गई हैं",
            subject_plain: "प्रतीक्षा सूची से सीटें आपके लिए रोकी गई हैं",
            intro: "सीटें खाली हुईं और प्रतीक्षा सूची में अगला नंबर आपका था, इसलिए ये सीटें आपके \
                    लिए रोकी गई हैं।",
            details: &[MOVIE, THEATRE, STARTS_AT, SEATS, TOTAL, PAY_BY, BOOKING_ID],
            outro: "सीटें पाने के लिए समय-सीमा से पहले भुगतान करें; उसके बाद ये अगले व्यक्ति को \
                    दे दी जाएँगी।",
        },
        EventKind::WaitlistOfferExpired => Template {
            subject: "{movie-title} के लिए आपका प्रतीक्षा-सूची प्रस्ताव समाप्त हो गया है",
            subject_plain: "आपका प्रतीक्षा-सूची प्रस्ताव समाप्त हो गया है",
            intro: "समय पर भुगतान नहीं हुआ, इसलिए आपके लिए रोकी गई सीटें अगले व्यक्ति को दे दी गई \
                    हैं। आपसे कोई शुल्क नहीं लिया गया है।",
            details: &[MOVIE, THEATRE, STARTS_AT, SEATS, BOOKING_ID],
            outro: "सीटें उपलब्ध रहने तक आप फिर से बुकिंग कर सकते हैं।",
        },
        EventKind::Custom => return None,
    };
    Some(template)
}

/// Renders an event in Hindi. Never fails.
///
/// `locale` is accepted for the interface's sake and not consulted (see the module docs).
pub fn render(kind: EventKind, _locale: &str, fields: &[(String, String)]) -> Email {
    let Some(template) = template(kind) else {
        return render_custom(fields);
    };

    let greeting = match value(fields, "name") {
        Some(name) => format!("{HELLO} {name},"),
        None => format!("{HELLO},"),
    };
    let facts: Vec<(&str, String)> = template
        .details
        .iter()
        .filter_map(|&(label, name)| {
            let v = value(fields, name)?;
            Some((label, display_value(name, v)))
        })
        .collect();

    let mut text = format!("{greeting}\n\n{}\n\n", template.intro);
    for (label, value) in &facts {
        text.push_str(&format!("{label}: {value}\n"));
    }
    if !facts.is_empty() {
        text.push('\n');
    }
    text.push_str(&format!("{}\n\n{SIGN_OFF}\n", template.outro));

    let mut html = html_head();
    html.push_str(&format!("<p>{}</p>\n", escape_html(&greeting)));
    html.push_str(&format!("<p>{}</p>\n", escape_html(template.intro)));
    if !facts.is_empty() {
        html.push_str("<ul>\n");
        for (label, value) in &facts {
            html.push_str(&format!(
                "<li><strong>{}:</strong> {}</li>\n",
                escape_html(label),
                escape_html(value)
            ));
        }
        html.push_str("</ul>\n");
    }
    html.push_str(&format!("<p>{}</p>\n", escape_html(template.outro)));
    html.push_str(&format!("<p>{}</p>\n", escape_html(SIGN_OFF)));
    html.push_str(HTML_TAIL);

    let subject = fill(template.subject, fields).unwrap_or_else(|| template.subject_plain.into());
    Email {
        subject: subject_line(&subject),
        text,
        html: Some(html),
    }
}

/// `custom`: the sender's subject and content as they are, in a Hindi frame when blank.
fn render_custom(fields: &[(String, String)]) -> Email {
    let subject = subject_line(value(fields, "subject").unwrap_or(CUSTOM_SUBJECT));
    let subject = if subject.is_empty() {
        CUSTOM_SUBJECT.to_owned()
    } else {
        subject
    };
    let content = value(fields, "content").unwrap_or(CUSTOM_EMPTY);

    let mut html = html_head();
    // Blank lines separate paragraphs; a single line break stays one.
    for paragraph in content
        .replace("\r\n", "\n")
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        html.push_str("<p>");
        html.push_str(&escape_html(paragraph).replace('\n', "<br>\n"));
        html.push_str("</p>\n");
    }
    html.push_str(HTML_TAIL);
    Email {
        subject,
        text: content.to_owned(),
        html: Some(html),
    }
}

fn html_head() -> String {
    "<!DOCTYPE html>\n<html lang=\"hi\">\n<head><meta charset=\"utf-8\"></head>\n<body>\n"
        .to_owned()
}

const HTML_TAIL: &str = "</body>\n</html>\n";

/// The first value of field `name`, unless it is missing or blank.
fn value<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// A value as shown: `role` translated, everything else as it is.
fn display_value(name: &str, value: &str) -> String {
    let translated = match (name, value) {
        ("role", "customer") => "ग्राहक",
        ("role", "owner") => "थिएटर चेन स्टाफ़",
        ("role", "admin") => "व्यवस्थापक",
        _ => value,
    };
    translated.to_owned()
}

/// Replaces each `{name}` in `template` with the field's value; `None` when one is missing.
/// One pass: placeholders inside values stay as they are.
fn fill(template: &str, fields: &[(String, String)]) -> Option<String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(len) = rest[open..].find('}') else {
            break;
        };
        out.push_str(&rest[..open]);
        out.push_str(value(fields, &rest[open + 1..open + len])?);
        rest = &rest[open + len + 1..];
    }
    out.push_str(rest);
    Some(out)
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
/// and paragraph separators, collapses runs of whitespace to one space, trims the ends, and
/// shortens it to [`MAX_SUBJECT_CHARS`] characters, the last one `…`.
pub fn subject_line(s: &str) -> String {
    let kept: String = s
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '\u{2028}' | '\u{2029}'))
        .collect();
    let line = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= MAX_SUBJECT_CHARS {
        return line;
    }
    let mut short: String = line.chars().take(MAX_SUBJECT_CHARS - 1).collect();
    short.truncate(short.trim_end().len());
    short.push('…');
    short
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
            ("name", "आशा"),
            ("movie-title", "Monsoon Letters"),
            ("theatre-name", "Orion Multiplex"),
            ("screen-name", "Screen 1"),
            ("seats", "C-5, C-6"),
            ("starts-at", "Tue 6 Oct 2026, 14:00 IST"),
            ("total", "INR 500.00"),
            ("refund", "INR 500.00"),
            ("booking-id", "b-123"),
            ("city", "Bengaluru"),
            ("role", "owner"),
        ])
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

    #[test]
    fn documented_fields_match_the_templates() {
        for kind in EventKind::ALL {
            let Some(t) = template(kind) else {
                assert_eq!(kind, EventKind::Custom);
                continue;
            };
            let mut used: Vec<&str> = vec!["name"]; // the greeting
            used.extend(placeholders(t.subject));
            used.extend(t.details.iter().map(|(_, field)| *field));
            assert!(placeholders(t.subject_plain).is_empty(), "{kind:?}");
            assert!(placeholders(t.intro).is_empty(), "{kind:?}");
            assert!(placeholders(t.outro).is_empty(), "{kind:?}");
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
    fn booking_confirmed_in_full() {
        let email = render(EventKind::BookingConfirmed, "hi-IN", &booking_fields());
        assert_eq!(
            email.subject,
            "Monsoon Letters के लिए आपकी बुकिंग की पुष्टि हो गई है"
        );
        assert_eq!(
            email.text,
            "नमस्ते आशा,\n\n\
             आपका भुगतान मिल गया है और आपकी बुकिंग की पुष्टि हो गई है।\n\n\
             फ़िल्म: Monsoon Letters\n\
             थिएटर: Orion Multiplex\n\
             स्क्रीन: Screen 1\n\
             शो का समय: Tue 6 Oct 2026, 14:00 IST\n\
             सीटें: C-5, C-6\n\
             कुल भुगतान: INR 500.00\n\
             बुकिंग आईडी: b-123\n\n\
             शो का आनंद लें!\n\n\
             Cineflow टीम\n"
        );
        let html = email.html.expect("html");
        assert!(
            html.starts_with("<!DOCTYPE html>\n<html lang=\"hi\">"),
            "{html}"
        );
        assert!(html.contains("<p>नमस्ते आशा,</p>"), "{html}");
        assert!(
            html.contains("<li><strong>सीटें:</strong> C-5, C-6</li>"),
            "{html}"
        );
        assert!(html.ends_with("</body>\n</html>\n"));
    }

    #[test]
    fn every_kind_has_its_own_subject_and_facts() {
        let f = booking_fields();
        let subject = |kind| render(kind, "hi", &f).subject;
        assert_eq!(
            subject(EventKind::TheatreCreated),
            "आपका थिएटर Orion Multiplex Cineflow पर बन गया है"
        );
        assert_eq!(
            subject(EventKind::AccountApproved),
            "आपका Cineflow खाता स्वीकृत हो गया है"
        );
        assert_eq!(
            subject(EventKind::BookingCancelled),
            "Monsoon Letters के लिए आपकी बुकिंग रद्द कर दी गई है"
        );
        assert_eq!(
            subject(EventKind::BookingExpired),
            "Monsoon Letters के लिए आपकी सीटों का होल्ड समाप्त हो गया है"
        );
        assert_eq!(
            subject(EventKind::ShowCancelled),
            "Monsoon Letters का Tue 6 Oct 2026, 14:00 IST वाला शो रद्द कर दिया गया है"
        );

        let text = |kind| render(kind, "hi", &f).text;
        assert!(text(EventKind::TheatreCreated).contains("शहर: Bengaluru\n"));
        assert!(text(EventKind::BookingCancelled).contains("रिफ़ंड: INR 500.00\n"));
        assert!(!text(EventKind::BookingCancelled).contains("कुल भुगतान"));
        assert!(text(EventKind::ShowCancelled).contains("पूरा रिफ़ंड"));
        assert!(text(EventKind::BookingExpired).contains("कोई शुल्क नहीं"));
        assert!(!text(EventKind::BookingExpired).contains("रिफ़ंड"));
    }

    #[test]
    fn roles_are_translated() {
        let approved = |role: &str| {
            render(
                EventKind::AccountApproved,
                "hi",
                &fields(&[("name", "Ravi"), ("role", role)]),
            )
            .text
        };
        assert!(approved("owner").contains("भूमिका: थिएटर चेन स्टाफ़\n"));
        assert!(approved("customer").contains("भूमिका: ग्राहक\n"));
        assert!(approved("admin").contains("भूमिका: व्यवस्थापक\n"));
        assert!(approved("auditor").contains("भूमिका: auditor\n"));
    }

    #[test]
    fn every_kind_passes_the_host_checks_with_and_without_fields() {
        let full = booking_fields();
        for kind in EventKind::ALL {
            let none: &[(String, String)] = &[];
            for f in [full.as_slice(), none] {
                let email = render(kind, "en", f);
                assert!(!email.subject.trim().is_empty(), "{kind:?}");
                assert!(!email.subject.chars().any(char::is_control), "{kind:?}");
                assert!(email.subject.chars().count() <= MAX_SUBJECT_CHARS);
                assert!(!email.text.trim().is_empty(), "{kind:?}");
                let html = email.html.expect("html");
                assert!(html.contains("<html lang=\"hi\">"), "{kind:?}");
                assert!(!email.text.contains('{') && !html.contains('{'), "{kind:?}");
            }
        }
    }

    #[test]
    fn missing_and_blank_fields_leave_their_line_out() {
        let f = fields(&[
            ("name", "  "),
            ("movie-title", ""),
            ("seats", "A-1"),
            ("booking-id", "b-9"),
        ]);
        let email = render(EventKind::BookingConfirmed, "hi", &f);
        assert_eq!(email.subject, "आपकी बुकिंग की पुष्टि हो गई है");
        assert!(email.text.starts_with("नमस्ते,\n\n"), "{}", email.text);
        assert!(
            email.text.contains("\n\nसीटें: A-1\nबुकिंग आईडी: b-9\n\n"),
            "{}",
            email.text
        );
        for absent in ["फ़िल्म", "थिएटर:", "स्क्रीन", "कुल भुगतान"]
        {
            assert!(!email.text.contains(absent), "{absent}: {}", email.text);
        }

        // The show-cancelled subject needs both its values.
        let only_title = fields(&[("movie-title", "Monsoon Letters")]);
        assert_eq!(
            render(EventKind::ShowCancelled, "hi", &only_title).subject,
            "आपकी बुकिंग वाला शो रद्द कर दिया गया है"
        );

        // No facts at all: no empty list.
        let email = render(EventKind::BookingExpired, "hi", &[]);
        assert!(!email.html.expect("html").contains("<ul>"));
        assert!(!email.text.contains("\n\n\n"), "{:?}", email.text);
    }

    #[test]
    fn every_locale_renders_hindi() {
        let f = booking_fields();
        let hi = render(EventKind::BookingConfirmed, "hi-IN", &f);
        for locale in ["hi", "en", "", "xx", "\u{0}"] {
            assert_eq!(
                render(EventKind::BookingConfirmed, locale, &f),
                hi,
                "{locale:?}"
            );
        }
    }

    #[test]
    fn unknown_fields_are_ignored_and_the_first_value_wins() {
        let f = fields(&[("role", "customer"), ("colour", "blue"), ("role", "admin")]);
        let email = render(EventKind::AccountApproved, "hi", &f);
        assert!(email.text.contains("भूमिका: ग्राहक\n"));
        assert!(!email.text.contains("व्यवस्थापक\n"));
        assert!(!email.text.contains("blue"));
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
            let email = render(kind, "hi", &f);
            let html = email.html.expect("html");
            assert!(!html.contains("<script>"), "{kind:?}: {html}");
            assert!(
                html.contains(
                    "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
                ),
                "{kind:?}: {html}"
            );
            // The text body is not HTML: values go in as they are.
            assert!(email.text.contains(evil), "{kind:?}");
        }
    }

    #[test]
    fn placeholders_inside_values_are_not_expanded() {
        let f = fields(&[("movie-title", "{booking-id}"), ("booking-id", "b-1")]);
        let email = render(EventKind::BookingCancelled, "hi", &f);
        assert_eq!(email.subject, "{booking-id} के लिए आपकी बुकिंग रद्द कर दी गई है");
    }

    #[test]
    fn subjects_are_one_short_line() {
        let f = fields(&[
            ("movie-title", "Dune\r\nBcc: victim@example.com"),
            ("starts-at", "today\u{2028}\u{85}\t now"),
            ("subject", "Hello\r\n\r\nBcc: x@y\u{7f}\u{0}"),
        ]);
        assert_eq!(
            render(EventKind::ShowCancelled, "hi", &f).subject,
            "DuneBcc: victim@example.com का today now वाला शो रद्द कर दिया गया है"
        );
        assert_eq!(render(EventKind::Custom, "hi", &f).subject, "HelloBcc: x@y");

        let long = "क".repeat(500);
        let subject = render(
            EventKind::BookingConfirmed,
            "hi",
            &fields(&[("movie-title", long.as_str())]),
        )
        .subject;
        assert_eq!(subject.chars().count(), MAX_SUBJECT_CHARS);
        assert!(subject.ends_with("क…"));
    }

    #[test]
    fn custom_message() {
        let f = fields(&[
            ("subject", "आज रात रखरखाव"),
            ("content", "सेवा 2–3 बजे बंद रहेगी।\r\n<b>क्षमा करें</b>\n\nधन्यवाद"),
        ]);
        let email = render(EventKind::Custom, "hi", &f);
        assert_eq!(email.subject, "आज रात रखरखाव");
        assert_eq!(
            email.text,
            "सेवा 2–3 बजे बंद रहेगी।\r\n<b>क्षमा करें</b>\n\nधन्यवाद"
        );
        let html = email.html.expect("html");
        assert!(
            html.contains(
                "<p>सेवा 2–3 बजे बंद रहेगी।<br>\n&lt;b&gt;क्षमा करें&lt;/b&gt;</p>\n<p>धन्यवाद</p>\n"
            ),
            "{html}"
        );
    }

    #[test]
    fn custom_message_without_subject_or_content() {
        for f in [
            fields(&[]),
            fields(&[("subject", " \r\n"), ("content", "\n")]),
        ] {
            let email = render(EventKind::Custom, "hi", &f);
            assert_eq!(email.subject, "Cineflow से एक संदेश");
            assert_eq!(email.text, "इस संदेश में कोई सामग्री नहीं है।");
            assert!(
                email
                    .html
                    .expect("html")
                    .contains("<p>इस संदेश में कोई सामग्री नहीं है।</p>")
            );
        }
        // A subject of control characters only is blank once cleaned.
        let email = render(
            EventKind::Custom,
            "hi",
            &fields(&[("subject", "\u{7}\u{1b}")]),
        );
        assert_eq!(email.subject, "Cineflow से एक संदेश");
    }

    #[test]
    fn escape_html_cases() {
        assert_eq!(escape_html(""), "");
        assert_eq!(escape_html("सादा ₹ पाठ"), "सादा ₹ पाठ");
        assert_eq!(escape_html("&amp;"), "&amp;amp;");
        assert_eq!(
            escape_html("<a href=\"x\">'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn subject_line_cases() {
        assert_eq!(subject_line("  a \r\n b  "), "a b");
        assert_eq!(subject_line("a\nb"), "ab");
        assert_eq!(subject_line("a\u{2029}b\u{2028}c"), "abc");
        assert_eq!(subject_line(&"x ".repeat(150)).chars().count(), 200);
        let spaced = subject_line(&format!("{} tail", "y".repeat(198)));
        assert_eq!(spaced, format!("{}…", "y".repeat(198)));
    }
}
