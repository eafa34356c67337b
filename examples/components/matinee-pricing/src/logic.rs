//! Matinee pricing, in plain Rust (no WIT types), so it can be unit-tested natively.
//!
//! Like the platform's default pricing — one line item per seat at its class's base price, the
//! total their sum, any non-blank promo code refused — but a seat costs less when the show
//! starts, in the theatre's local time:
//!
//! - [`MATINEE_PERCENT`] off for a matinee: a start from 06:00 up to (not including) 17:00.
//!   The 06:00 floor keeps a 00:30 late-night show, which belongs to the evening before, at
//!   full price;
//! - [`WEEKDAY_PERCENT`] off on a weekday: a start on Monday, Tuesday, Wednesday or Thursday;
//! - both at once: the two percentages added, [`MATINEE_PERCENT`] + [`WEEKDAY_PERCENT`] off.
//!
//! A discount is taken off each seat's price (rounded down to a whole minor unit, so the seat
//! price is rounded up): the host refuses negative line items, so a discount is never a line
//! of its own.
//!
//! Local time needs the theatre's UTC offset, and a component has no time-zone database.
//! [`utc_offset_minutes`] knows a fixed table of zones that have no daylight saving time, so
//! their offset is the same all year and the answer is exact. A zone outside the table gets
//! no discount at all: the component does not guess a local time it cannot know. To price for
//! another zone, add it to the table (a zone with daylight saving time needs its rules too).

/// Percent off for a show starting from [`MATINEE_FROM_MINUTE`] up to [`MATINEE_UNTIL_MINUTE`].
pub const MATINEE_PERCENT: i64 = 20;

/// Percent off for a show starting Monday to Thursday.
pub const WEEKDAY_PERCENT: i64 = 10;

/// First minute of the local day that counts as a matinee start (06:00).
pub const MATINEE_FROM_MINUTE: u32 = 6 * 60;

/// First minute of the local day that no longer counts as a matinee start (17:00).
pub const MATINEE_UNTIL_MINUTE: u32 = 17 * 60;

/// The class of a seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatClass {
    Standard,
    Premium,
    Vip,
    Accessible,
}

impl SeatClass {
    /// The name shown to customers, as in `Seat A-7 (premium)`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Premium => "premium",
            Self::Vip => "vip",
            Self::Accessible => "accessible",
        }
    }
}

/// A seat to price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seat {
    /// Seat id as shown to customers, e.g. `A-7`.
    pub id: String,
    /// The seat's class.
    pub class: SeatClass,
}

/// A request for a quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteRequest {
    /// Base price per class, in minor units. A class missing here is not on sale.
    pub prices: Vec<(SeatClass, i64)>,
    /// The seats to price, in the order they are shown.
    pub seats: Vec<Seat>,
    /// The promo code the customer typed, if any.
    pub promo_code: Option<String>,
    /// When the show starts (ms since the Unix epoch, UTC).
    pub starts_at_ms: i64,
    /// The theatre's IANA time zone, e.g. `Asia/Kolkata`.
    pub timezone: String,
}

/// One line of a quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineItem {
    pub label: String,
    pub seat_id: Option<String>,
    pub amount_minor: i64,
}

/// A quote: `items` add up to `total_minor` exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub items: Vec<LineItem>,
    pub total_minor: i64,
}

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    /// Monday to Thursday.
    pub fn is_discount_day(self) -> bool {
        matches!(
            self,
            Self::Monday | Self::Tuesday | Self::Wednesday | Self::Thursday
        )
    }
}

/// A moment as read on the theatre's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    /// The local day of the week.
    pub weekday: Weekday,
    /// Minutes since local midnight, 0..1440.
    pub minute_of_day: u32,
}

/// Which discounts a show gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Discounts {
    pub matinee: bool,
    pub weekday: bool,
}

impl Discounts {
    /// The discounts for a show starting at `starts_at_ms` in `timezone`; none when the zone
    /// is not in the table.
    pub fn for_show(starts_at_ms: i64, timezone: &str) -> Self {
        let Some(local) = local_time(starts_at_ms, timezone) else {
            return Self::default();
        };
        Self {
            matinee: (MATINEE_FROM_MINUTE..MATINEE_UNTIL_MINUTE).contains(&local.minute_of_day),
            weekday: local.weekday.is_discount_day(),
        }
    }

    /// Percent off every seat.
    pub fn percent(self) -> i64 {
        let mut percent = 0;
        if self.matinee {
            percent += MATINEE_PERCENT;
        }
        if self.weekday {
            percent += WEEKDAY_PERCENT;
        }
        percent
    }

    /// What the line item says after the seat's class, e.g. `matinee 20% off`.
    fn describe(self) -> Option<String> {
        let name = match (self.matinee, self.weekday) {
            (false, false) => return None,
            (true, false) => "matinee",
            (false, true) => "weekday",
            (true, true) => "matinee + weekday",
        };
        Some(format!("{name} {}% off", self.percent()))
    }
}

/// The zone's offset from UTC in minutes, for zones without daylight saving time.
///
/// Every zone here has kept one offset for decades, so the offset of any show this service
/// will ever sell is exact. Names are matched exactly, as IANA spells them.
pub fn utc_offset_minutes(timezone: &str) -> Option<i32> {
    let minutes = match timezone {
        "UTC" | "Etc/UTC" | "Etc/GMT" => 0,
        "Asia/Dubai" => 4 * 60,
        "Asia/Karachi" => 5 * 60,
        "Asia/Kolkata" | "Asia/Calcutta" | "Asia/Colombo" => 5 * 60 + 30,
        "Asia/Kathmandu" | "Asia/Katmandu" => 5 * 60 + 45,
        "Asia/Dhaka" => 6 * 60,
        "Asia/Singapore" | "Asia/Shanghai" => 8 * 60,
        "Asia/Tokyo" => 9 * 60,
        _ => return None,
    };
    Some(minutes)
}

/// `at_ms` (UTC) on the clock of `timezone`; `None` for a zone outside the table (or a time
/// so far from now that adding the offset overflows).
pub fn local_time(at_ms: i64, timezone: &str) -> Option<LocalTime> {
    const MS_PER_MINUTE: i64 = 60_000;
    const MS_PER_DAY: i64 = 24 * 60 * MS_PER_MINUTE;
    let offset = utc_offset_minutes(timezone)?;
    let local_ms = at_ms.checked_add(i64::from(offset) * MS_PER_MINUTE)?;
    let day = local_ms.div_euclid(MS_PER_DAY);
    // 1970-01-01, day 0, was a Thursday.
    let weekday = match (day + 3).rem_euclid(7) {
        0 => Weekday::Monday,
        1 => Weekday::Tuesday,
        2 => Weekday::Wednesday,
        3 => Weekday::Thursday,
        4 => Weekday::Friday,
        5 => Weekday::Saturday,
        _ => Weekday::Sunday,
    };
    let minute_of_day = u32::try_from(local_ms.rem_euclid(MS_PER_DAY) / MS_PER_MINUTE).ok()?;
    Some(LocalTime {
        weekday,
        minute_of_day,
    })
}

/// Prices the request; `Err` is a reason shown to the customer.
pub fn quote(req: &QuoteRequest) -> Result<Quote, String> {
    if req.seats.is_empty() {
        return Err("there are no seats to price".to_owned());
    }
    if req
        .promo_code
        .as_deref()
        .is_some_and(|code| !code.trim().is_empty())
    {
        return Err("unknown promo code".to_owned());
    }
    let discounts = Discounts::for_show(req.starts_at_ms, &req.timezone);
    let note = discounts.describe();
    let mut items = Vec::with_capacity(req.seats.len());
    let mut total: i64 = 0;
    for seat in &req.seats {
        let base = price_of(&req.prices, seat.class)
            .ok_or_else(|| format!("seat {} is not on sale for this show", seat.id))?;
        let amount = percent_off(base, discounts.percent());
        total = total
            .checked_add(amount)
            .ok_or_else(|| "the total is too large".to_owned())?;
        let label = match &note {
            Some(note) => format!("Seat {} ({}, {note})", seat.id, seat.class.label()),
            None => format!("Seat {} ({})", seat.id, seat.class.label()),
        };
        items.push(LineItem {
            label,
            seat_id: Some(seat.id.clone()),
            amount_minor: amount,
        });
    }
    Ok(Quote {
        items,
        total_minor: total,
    })
}

/// `price` less `percent` of it, the discount rounded down; for `0 <= price` and
/// `0 <= percent <= 100` the result lies between 0 and `price`.
pub fn percent_off(price: i64, percent: i64) -> i64 {
    // In i128, so `price * percent` cannot overflow for any i64 price.
    let discount = i128::from(price) * i128::from(percent) / 100;
    i64::try_from(i128::from(price) - discount).unwrap_or(price)
}

/// The class's price; `None` when the class has no price or a negative one (not on sale).
fn price_of(prices: &[(SeatClass, i64)], class: SeatClass) -> Option<i64> {
    prices
        .iter()
        .find(|(c, _)| *c == class)
        .map(|(_, price)| *price)
        .filter(|price| *price >= 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Shows in Asia/Kolkata (UTC+05:30), October 2026.
    /// Tue 6 Oct 2026, 14:00 IST: a weekday matinee.
    const TUE_1400: i64 = 1_791_275_400_000;
    /// Tue 6 Oct 2026, 16:59:59 IST: the last matinee second.
    const TUE_1659_59: i64 = 1_791_286_199_000;
    /// Tue 6 Oct 2026, 17:00 IST: the first evening second.
    const TUE_1700: i64 = 1_791_286_200_000;
    /// Tue 6 Oct 2026, 19:00 IST: a weekday evening.
    const TUE_1900: i64 = 1_791_293_400_000;
    /// Tue 6 Oct 2026, 00:10 IST (Mon 5 Oct, 18:40 UTC): a late show, not a matinee.
    const TUE_0010: i64 = 1_791_225_600_000;
    /// Mon 5 Oct 2026, 23:50 IST (18:20 UTC).
    const MON_2350: i64 = 1_791_224_400_000;
    /// Fri 9 Oct 2026, 14:00 IST: a weekend-side matinee.
    const FRI_1400: i64 = 1_791_534_600_000;
    /// Sat 10 Oct 2026, 10:00 IST (04:30 UTC).
    const SAT_1000: i64 = 1_791_606_600_000;

    fn seat(id: &str, class: SeatClass) -> Seat {
        Seat {
            id: id.to_owned(),
            class,
        }
    }

    fn req(starts_at_ms: i64, seats: Vec<Seat>) -> QuoteRequest {
        QuoteRequest {
            prices: vec![
                (SeatClass::Standard, 25_000),
                (SeatClass::Premium, 40_000),
                (SeatClass::Vip, 65_000),
            ],
            seats,
            promo_code: None,
            starts_at_ms,
            timezone: "Asia/Kolkata".to_owned(),
        }
    }

    fn sum(quote: &Quote) -> i64 {
        quote.items.iter().map(|item| item.amount_minor).sum()
    }

    #[test]
    fn local_time_in_kolkata() {
        let at = |ms| local_time(ms, "Asia/Kolkata").expect("known zone");
        assert_eq!(
            at(TUE_1400),
            LocalTime {
                weekday: Weekday::Tuesday,
                minute_of_day: 14 * 60
            }
        );
        assert_eq!(at(TUE_1659_59).minute_of_day, 16 * 60 + 59);
        assert_eq!(at(TUE_1700).minute_of_day, 17 * 60);
        // The UTC date is Monday; the local date is already Tuesday.
        assert_eq!(
            at(TUE_0010),
            LocalTime {
                weekday: Weekday::Tuesday,
                minute_of_day: 10
            }
        );
        assert_eq!(at(MON_2350).weekday, Weekday::Monday);
        assert_eq!(at(FRI_1400).weekday, Weekday::Friday);
        assert_eq!(at(SAT_1000).weekday, Weekday::Saturday);
    }

    #[test]
    fn local_time_elsewhere_and_before_1970() {
        assert_eq!(
            local_time(0, "UTC"),
            Some(LocalTime {
                weekday: Weekday::Thursday,
                minute_of_day: 0
            })
        );
        // 1969-12-31 23:59 UTC, a Wednesday.
        assert_eq!(
            local_time(-60_000, "Etc/UTC"),
            Some(LocalTime {
                weekday: Weekday::Wednesday,
                minute_of_day: 23 * 60 + 59
            })
        );
        // 19:00 UTC on Thursday 1 Jan 1970 is 04:00 on Friday in Tokyo.
        assert_eq!(
            local_time(19 * 3_600_000, "Asia/Tokyo"),
            Some(LocalTime {
                weekday: Weekday::Friday,
                minute_of_day: 4 * 60
            })
        );
        assert_eq!(
            local_time(0, "Asia/Kathmandu").map(|t| t.minute_of_day),
            Some(5 * 60 + 45)
        );
    }

    #[test]
    fn unknown_zones_and_extreme_times_have_no_local_time() {
        for zone in [
            "Europe/London",
            "America/New_York",
            "",
            "asia/kolkata",
            "IST",
        ] {
            assert_eq!(local_time(TUE_1400, zone), None, "{zone:?}");
        }
        assert_eq!(local_time(i64::MAX, "Asia/Kolkata"), None);
        assert!(local_time(i64::MIN, "Asia/Kolkata").is_some());
        assert!(local_time(i64::MAX, "UTC").is_some());
    }

    #[test]
    fn weekday_matinee_gets_thirty_percent_off() {
        let quote = quote(&req(
            TUE_1400,
            vec![
                seat("E-7", SeatClass::Premium),
                seat("C-3", SeatClass::Standard),
            ],
        ))
        .expect("quote");
        assert_eq!(
            quote.items,
            vec![
                LineItem {
                    label: "Seat E-7 (premium, matinee + weekday 30% off)".to_owned(),
                    seat_id: Some("E-7".to_owned()),
                    amount_minor: 28_000,
                },
                LineItem {
                    label: "Seat C-3 (standard, matinee + weekday 30% off)".to_owned(),
                    seat_id: Some("C-3".to_owned()),
                    amount_minor: 17_500,
                },
            ]
        );
        assert_eq!(quote.total_minor, 45_500);
        assert_eq!(sum(&quote), quote.total_minor);
    }

    #[test]
    fn weekday_evening_gets_ten_percent_off() {
        for at in [TUE_1700, TUE_1900, TUE_0010] {
            let quote = quote(&req(at, vec![seat("C-3", SeatClass::Standard)])).expect("quote");
            assert_eq!(quote.total_minor, 22_500, "{at}");
            assert_eq!(quote.items[0].label, "Seat C-3 (standard, weekday 10% off)");
        }
    }

    #[test]
    fn weekend_matinee_gets_twenty_percent_off() {
        for at in [FRI_1400, SAT_1000] {
            let quote = quote(&req(at, vec![seat("F-1", SeatClass::Vip)])).expect("quote");
            assert_eq!(quote.total_minor, 52_000, "{at}");
            assert_eq!(quote.items[0].label, "Seat F-1 (vip, matinee 20% off)");
        }
    }

    #[test]
    fn matinee_ends_at_five_pm_sharp() {
        let one =
            |at| quote(&req(at, vec![seat("C-3", SeatClass::Standard)])).map(|q| q.total_minor);
        assert_eq!(one(TUE_1659_59), Ok(17_500));
        assert_eq!(one(TUE_1700), Ok(22_500));
    }

    #[test]
    fn weekend_evening_pays_full_price_with_the_default_label() {
        let at = FRI_1400 + 5 * 3_600_000; // Fri 19:00
        let quote = quote(&req(at, vec![seat("E-1", SeatClass::Premium)])).expect("quote");
        assert_eq!(quote.total_minor, 40_000);
        assert_eq!(quote.items[0].label, "Seat E-1 (premium)");
    }

    #[test]
    fn an_unknown_zone_pays_full_price() {
        let mut r = req(TUE_1400, vec![seat("C-3", SeatClass::Standard)]);
        r.timezone = "Europe/Berlin".to_owned();
        let quote = quote(&r).expect("quote");
        assert_eq!(quote.total_minor, 25_000);
        assert_eq!(quote.items[0].label, "Seat C-3 (standard)");
    }

    #[test]
    fn the_discount_is_rounded_down_to_a_whole_minor_unit() {
        assert_eq!(percent_off(999, 30), 700); // 299.7 off -> 299 off
        assert_eq!(percent_off(1, 30), 1);
        assert_eq!(percent_off(0, 30), 0);
        assert_eq!(percent_off(10, 100), 0);
        assert_eq!(percent_off(i64::MAX, 30), 6_456_360_425_798_343_065);
        assert_eq!(percent_off(i64::MAX, 0), i64::MAX);
    }

    #[test]
    fn items_always_add_up_and_are_never_negative() {
        let mut r = req(
            TUE_1400,
            (1..=10)
                .map(|n| seat(&format!("B-{n}"), SeatClass::Standard))
                .collect(),
        );
        for price in [0, 1, 3, 7, 99, 12_345, 1_000_001] {
            r.prices = vec![(SeatClass::Standard, price)];
            let quote = quote(&r).expect("quote");
            assert_eq!(sum(&quote), quote.total_minor, "{price}");
            assert!(
                quote
                    .items
                    .iter()
                    .all(|i| (0..=price).contains(&i.amount_minor))
            );
            assert!(quote.items.iter().all(|i| !i.label.trim().is_empty()));
        }
    }

    #[test]
    fn refuses_like_the_default() {
        assert_eq!(
            quote(&req(TUE_1400, vec![])),
            Err("there are no seats to price".to_owned())
        );
        assert_eq!(
            quote(&req(TUE_1400, vec![seat("A-1", SeatClass::Accessible)])),
            Err("seat A-1 is not on sale for this show".to_owned())
        );
        let mut r = req(TUE_1400, vec![seat("C-3", SeatClass::Standard)]);
        r.promo_code = Some("MATINEE".to_owned());
        assert_eq!(quote(&r), Err("unknown promo code".to_owned()));
        r.promo_code = Some("  ".to_owned());
        assert!(quote(&r).is_ok());
        r.promo_code = None;
        r.prices = vec![(SeatClass::Standard, -1)];
        assert!(quote(&r).is_err());
    }

    #[test]
    fn refuses_a_total_that_overflows() {
        let mut r = req(
            FRI_1400 + 5 * 3_600_000,
            vec![
                seat("A-1", SeatClass::Standard),
                seat("A-2", SeatClass::Standard),
            ],
        );
        r.prices = vec![(SeatClass::Standard, i64::MAX)];
        assert_eq!(quote(&r), Err("the total is too large".to_owned()));
    }
}
