//! Sample component inputs.

use cineflow::domain::hook_io::*;

pub const SHOW_STARTS_MS: i64 = 1_893_456_000_000; // 2030-01-01T00:00:00Z

pub fn show() -> ShowInfo {
    ShowInfo {
        show_id: "0190f3b2-0000-7000-8000-000000000001".into(),
        chain_id: "0190f3b2-0000-7000-8000-000000000002".into(),
        theatre_id: "0190f3b2-0000-7000-8000-000000000003".into(),
        theatre_name: "Regal Central".into(),
        movie_id: "0190f3b2-0000-7000-8000-000000000004".into(),
        movie_title: "The Long Night".into(),
        screen_name: "Screen 1".into(),
        format: "2D".into(),
        starts_at_ms: SHOW_STARTS_MS,
        timezone: "Asia/Kolkata".into(),
        currency: "INR".into(),
        prices: vec![(SeatClass::Standard, 25_000), (SeatClass::Premium, 40_000)],
        capacity: 200,
        seats_sold: 0,
    }
}

pub fn seats(n: u32) -> Vec<Seat> {
    (1..=n)
        .map(|i| {
            let row = char::from(b'A' + u8::try_from((i - 1) / 20).unwrap_or(0)).to_string();
            let number = (i - 1) % 20 + 1;
            Seat {
                id: format!("{row}-{number}"),
                row,
                number,
                class: if i % 2 == 0 {
                    SeatClass::Premium
                } else {
                    SeatClass::Standard
                },
            }
        })
        .collect()
}

pub fn customer() -> Customer {
    Customer {
        user_id: "0190f3b2-0000-7000-8000-000000000005".into(),
        email: "asha@example.com".into(),
        confirmed_bookings: 0,
    }
}

pub fn quote_request(n: u32) -> QuoteRequest {
    QuoteRequest {
        show: show(),
        seats: seats(n),
        customer: customer(),
        promo_code: None,
        voucher: None,
        now_ms: SHOW_STARTS_MS - 86_400_000,
    }
}

pub fn hold_request(n: u32) -> HoldRequest {
    let seats = seats(n);
    HoldRequest {
        show: show(),
        row_seats: seats
            .iter()
            .map(|s| SeatState {
                seat: s.clone(),
                taken: false,
            })
            .collect(),
        seats,
        customer: customer(),
        now_ms: SHOW_STARTS_MS - 86_400_000,
        customer_holds: Default::default(),
    }
}

pub fn cancel_request(paid: i64, hours_before: i64) -> CancelRequest {
    CancelRequest {
        show: show(),
        seats: seats(2),
        paid_minor: paid,
        confirmed: paid > 0,
        now_ms: SHOW_STARTS_MS - hours_before * 3_600_000,
        kept_seats: Vec::new(),
    }
}

pub fn booking_confirmed() -> EmailEvent {
    EmailEvent {
        kind: EventKind::BookingConfirmed,
        locale: "en".into(),
        fields: [
            ("name", "Asha"),
            ("movie-title", "The Long Night"),
            ("theatre-name", "Regal Central"),
            ("screen-name", "Screen 1"),
            ("seats", "A-1, A-2"),
            ("starts-at", "1 Jan 2030, 05:30 IST"),
            ("total", "INR 650.00"),
            ("booking-id", "0190f3b2-0000-7000-8000-00000000b00c"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
    }
}
