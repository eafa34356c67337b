//! A month of past sales, so the console's sales chart has something to show: a late show on
//! Screen 1 on each of the last 30 days, and its bookings paid that day (a few cancelled and
//! refunded in full). The booking service sells only shows that have not started and stamps
//! everything with the present, so this is written by `db::demo`, with ids that are UUID v7 of
//! the moment they stand for and the same on every load (`on conflict do nothing`).

use std::time::Duration;

use chrono::{DateTime, Datelike, Days, NaiveTime, Utc, Weekday};
use chrono_tz::Asia::Kolkata;
use sqlx::PgPool;
use uuid::Uuid;

use super::{CHAIN, MOVIES, SCREENS, THEATRE};
use crate::db::demo::{self as db, PastSale};
use crate::db::shows::{self, NewShow};
use crate::db::users;
use crate::domain::hook_io::{LineItem, SeatClass};

/// Days of history.
pub(super) const DAYS: u64 = 30;
/// The late show's local start: after the week's 19:00 shows (and their cleaning) end.
const LATE_SHOW: (u32, u32) = (22, 0);

/// Screen 1's sellable seats in selling order (best rows first), with their class.
fn screen_one_seats() -> Vec<(String, SeatClass)> {
    let rows = [
        ("E", 14, SeatClass::Premium),
        ("D", 14, SeatClass::Standard),
        ("C", 14, SeatClass::Standard),
        ("F", 10, SeatClass::Vip),
        ("B", 14, SeatClass::Standard),
    ];
    rows.iter()
        .flat_map(|(row, n, class)| (1..=*n).map(move |i| (format!("{row}-{i}"), *class)))
        .collect()
}

/// A UUID v7 of `at` whose other bits are fixed by `tag`: the same id on every load.
fn fixed_v7(at: DateTime<Utc>, tag: [u8; 4]) -> Uuid {
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    let mut rest = [0xde, 0x30, 0, 0, 0, 0, 0, 0, 0, 0];
    rest[2..6].copy_from_slice(&tag);
    uuid::Builder::from_unix_timestamp_millis(millis, &rest).into_uuid()
}

/// Writes the month (what is there already stays); how many bookings it wrote.
pub(super) async fn load(pool: &PgPool, cleaning_buffer: Duration) -> anyhow::Result<u32> {
    let mut tx = pool.begin().await?;
    let mut customers = Vec::new();
    for email in std::iter::once(super::CUSTOMER.0).chain(super::REGULARS.iter().map(|r| r.1)) {
        if let Some((user, _)) = users::find_credentials(&mut tx, email).await? {
            customers.push(user.id);
        }
    }
    anyhow::ensure!(!customers.is_empty(), "no demo customers");
    let prices = super::prices();
    let seats = screen_one_seats();
    let today = Utc::now().with_timezone(&Kolkata).date_naive();
    let mut written = 0;
    for back in 1..=DAYS {
        let Some(date) = today.checked_sub_days(Days::new(back)) else {
            continue;
        };
        let day = u8::try_from(back).unwrap_or(u8::MAX);
        let Some(starts_at) = NaiveTime::from_hms_opt(LATE_SHOW.0, LATE_SHOW.1, 0)
            .and_then(|t| date.and_time(t).and_local_timezone(Kolkata).single())
            .map(|t| t.with_timezone(&Utc))
        else {
            continue;
        };
        let (movie, _, runtime, _) = MOVIES[(back as usize) % MOVIES.len()];
        let ends_at = starts_at + chrono::Duration::minutes(i64::from(runtime));
        // A fixed id above every v7 of our time: listings in id order (`GET /shows`) put
        // these past shows last, so the README's `shows?limit=1` still finds a coming show.
        let show_id = Uuid::from_u128(0xfff0_0000_0000_7000_8000_de30_0000_0000 | u128::from(back));
        let show = NewShow {
            chain_id: CHAIN,
            theatre_id: THEATRE,
            screen_id: SCREENS[0],
            movie_id: Uuid::from_u128(movie),
            starts_at,
            ends_at,
            busy_until: ends_at + cleaning_buffer,
            format: "2D".into(),
            currency: "INR".into(),
            prices: prices.clone(),
        };
        shows::insert_if_free(&mut tx, show_id, &show).await?;
        // Another show may hold the slot (one made through the API): that day has no sales.
        if !db::show_exists(&mut tx, show_id).await? {
            continue;
        }
        // More on Fridays and weekends; a varied but fixed number on other days.
        let weekend = matches!(date.weekday(), Weekday::Fri | Weekday::Sat | Weekday::Sun);
        let bookings = 3 + (back * 7 % 5) + if weekend { 4 } else { 0 };
        let mut next_seat = 0usize;
        for i in 0..bookings {
            let count = 1 + ((back + i) % 4) as usize;
            let Some(taken) = seats.get(next_seat..next_seat + count) else {
                break;
            };
            next_seat += count;
            let items: Vec<LineItem> = taken
                .iter()
                .map(|(id, class)| LineItem {
                    label: format!("Seat {id} ({})", class.as_str()),
                    seat_id: Some(id.clone()),
                    amount_minor: prices.get(class).copied().unwrap_or(25_000),
                })
                .collect();
            let seat_ids: Vec<String> = taken.iter().map(|(id, _)| id.clone()).collect();
            // Paid between 09:00 and about 21:00 local, earlier bookings earlier in the day.
            let paid_at = starts_at - chrono::Duration::minutes(13 * 60)
                + chrono::Duration::minutes(i64::try_from(i * 67 % 720).unwrap_or(0));
            // Every sixth day one booking was cancelled an hour later and refunded in full.
            let cancelled_at =
                (back % 6 == 0 && i == 1).then(|| paid_at + chrono::Duration::hours(1));
            let tag = u8::try_from(i).unwrap_or(u8::MAX);
            let sale = PastSale {
                id: fixed_v7(paid_at, [2, day, tag, 0]),
                payment_id: fixed_v7(paid_at, [3, day, tag, 0]),
                chain_id: CHAIN,
                show_id,
                user_id: customers[(back as usize + i as usize) % customers.len()],
                seats: &seat_ids,
                total_minor: items.iter().map(|i| i.amount_minor).sum(),
                items: &items,
                currency: "INR",
                paid_at,
                cancelled_at,
            };
            if db::insert_past_sale(&mut tx, &sale).await? {
                written += 1;
            }
        }
    }
    tx.commit().await?;
    Ok(written)
}
