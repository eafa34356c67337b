//! Conversions of the shared `cineflow:plugins/types` records.

use super::booking_rules::bindings::current::cineflow::plugins::types as wit;
use crate::domain::hook_io as io;

impl From<io::SeatClass> for wit::SeatClass {
    fn from(c: io::SeatClass) -> Self {
        match c {
            io::SeatClass::Standard => Self::Standard,
            io::SeatClass::Premium => Self::Premium,
            io::SeatClass::Vip => Self::Vip,
            io::SeatClass::Accessible => Self::Accessible,
        }
    }
}

impl From<&io::Seat> for wit::Seat {
    fn from(s: &io::Seat) -> Self {
        Self {
            id: s.id.clone(),
            row: s.row.clone(),
            number: s.number,
            class: s.class.into(),
        }
    }
}

impl From<&io::ShowInfo> for wit::ShowInfo {
    fn from(s: &io::ShowInfo) -> Self {
        Self {
            show_id: s.show_id.clone(),
            chain_id: s.chain_id.clone(),
            theatre_id: s.theatre_id.clone(),
            theatre_name: s.theatre_name.clone(),
            movie_id: s.movie_id.clone(),
            movie_title: s.movie_title.clone(),
            screen_name: s.screen_name.clone(),
            format: s.format.clone(),
            starts_at_ms: s.starts_at_ms,
            timezone: s.timezone.clone(),
            currency: s.currency.clone(),
            prices: s.prices.iter().map(|(c, p)| ((*c).into(), *p)).collect(),
            capacity: s.capacity,
            seats_sold: s.seats_sold,
        }
    }
}

impl From<&io::Customer> for wit::Customer {
    fn from(c: &io::Customer) -> Self {
        Self {
            user_id: c.user_id.clone(),
            email: c.email.clone(),
            confirmed_bookings: c.confirmed_bookings,
        }
    }
}

pub(super) fn seats(seats: &[io::Seat]) -> Vec<wit::Seat> {
    seats.iter().map(Into::into).collect()
}
