//! Promo-code pricing, in plain Rust (no WIT types), so it can be unit-tested natively.
//!
//! Like the platform's default pricing — one line item per seat at its class's base price, the
//! total their sum — plus two promo codes, matched case-insensitively after trimming (a blank
//! code counts as none):
//!
//! - `FIRST10`: 10 % off every seat, for a customer with no confirmed booking with the chain
//!   yet. Each seat's discount is rounded down to a whole minor unit.
//! - `FLAT100`: 100 off the order (in the currency's major unit: ₹100.00, $100.00, ¥100), for
//!   orders of at least 500 before the discount. The 100 is shared among the seats in
//!   proportion to their prices (largest remainders first, so the shares add up exactly).
//!
//! Any other code is refused with `unknown promo code ...`, which the host answers with 422
//! `rule_violation` and the reason; a known code whose condition is not met is refused with
//! its own reason. The host refuses negative line items, so a discount is never a line of its
//! own: the seats are priced lower and their labels name the code.

/// 10 % off for a first booking.
pub const FIRST10: &str = "FIRST10";
/// 100 off an order of at least 500.
pub const FLAT100: &str = "FLAT100";

/// `FIRST10`'s discount, in percent.
pub const FIRST10_PERCENT: i64 = 10;
/// `FLAT100`'s discount, in major units of the show's currency.
pub const FLAT100_OFF_MAJOR: i64 = 100;
/// `FLAT100`'s smallest order before the discount, in major units.
pub const FLAT100_MIN_ORDER_MAJOR: i64 = 500;

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
    /// ISO 4217 code of the show's currency, e.g. `INR`.
    pub currency: String,
    /// How many confirmed bookings the customer has made with this chain before.
    pub confirmed_bookings: u32,
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

/// A promo code this component knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Promo {
    First10,
    Flat100,
}

/// The promo code the customer typed: `Ok(None)` for none or a blank one, `Err` for an
/// unknown one.
pub fn parse_promo(code: Option<&str>) -> Result<Option<Promo>, String> {
    let Some(code) = code.map(str::trim).filter(|code| !code.is_empty()) else {
        return Ok(None);
    };
    if code.eq_ignore_ascii_case(FIRST10) {
        Ok(Some(Promo::First10))
    } else if code.eq_ignore_ascii_case(FLAT100) {
        Ok(Some(Promo::Flat100))
    } else if code.len() <= 32
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        // Only a plausible code is repeated back; anything else could be a paste of junk.
        Err(format!("unknown promo code {code}"))
    } else {
        Err("unknown promo code".to_owned())
    }
}

/// Prices the request; `Err` is a reason shown to the customer.
pub fn quote(req: &QuoteRequest) -> Result<Quote, String> {
    if req.seats.is_empty() {
        return Err("there are no seats to price".to_owned());
    }
    let promo = parse_promo(req.promo_code.as_deref())?;

    let mut base = Vec::with_capacity(req.seats.len());
    let mut order: i64 = 0;
    for seat in &req.seats {
        let price = price_of(&req.prices, seat.class)
            .ok_or_else(|| format!("seat {} is not on sale for this show", seat.id))?;
        order = order
            .checked_add(price)
            .ok_or_else(|| "the total is too large".to_owned())?;
        base.push(price);
    }

    let (prices, note) = match promo {
        None => (base, None),
        Some(Promo::First10) => {
            if req.confirmed_bookings > 0 {
                return Err(format!("promo code {FIRST10} is only for a first booking"));
            }
            let prices = base
                .iter()
                .map(|&price| percent_off(price, FIRST10_PERCENT))
                .collect();
            (prices, Some(format!("{FIRST10} {FIRST10_PERCENT}% off")))
        }
        Some(Promo::Flat100) => {
            let unit = minor_per_major(&req.currency);
            let min_order = FLAT100_MIN_ORDER_MAJOR.saturating_mul(unit);
            if order < min_order {
                return Err(format!(
                    "promo code {FLAT100} needs an order of at least {}",
                    format_money(min_order, &req.currency)
                ));
            }
            let off = FLAT100_OFF_MAJOR.saturating_mul(unit);
            let prices = share_discount(&base, off);
            (
                prices,
                Some(format!(
                    "{FLAT100}: {} off the order",
                    format_money(off, &req.currency)
                )),
            )
        }
    };

    let mut items = Vec::with_capacity(req.seats.len());
    let mut total: i64 = 0;
    for (seat, amount) in req.seats.iter().zip(prices) {
        // Never more than the base total, which fitted.
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

/// `price` less `percent` of it, the discount rounded down to a whole minor unit.
pub fn percent_off(price: i64, percent: i64) -> i64 {
    // In i128, so `price * percent` cannot overflow for any i64 price.
    let discount = i128::from(price) * i128::from(percent) / 100;
    i64::try_from(i128::from(price) - discount).unwrap_or(price)
}

/// Takes `off` (at most the sum of `prices`, all non-negative) off `prices` in proportion to
/// each price: every seat first gets the floor of its share, then the minor units left over
/// go one each to the seats with the largest remainders (earlier seats first on ties). The
/// result has the same length, no price below 0, and sums to `sum(prices) - off`.
pub fn share_discount(prices: &[i64], off: i64) -> Vec<i64> {
    let total: i128 = prices.iter().map(|&p| i128::from(p)).sum();
    if total <= 0 || off <= 0 {
        return prices.to_vec();
    }
    let off = i128::from(off).min(total);
    // share_i = off * p_i / total, split into its floor and remainder.
    let mut shares: Vec<(i128, i128)> = prices
        .iter()
        .map(|&p| {
            let exact = off * i128::from(p);
            (exact / total, exact % total)
        })
        .collect();
    let mut left = off - shares.iter().map(|(floor, _)| floor).sum::<i128>();
    // `left` is below the number of seats with a non-zero remainder, and such a seat's
    // floor is below its price, so one more unit each never takes a price below 0.
    let mut order: Vec<usize> = (0..prices.len()).collect();
    order.sort_by(|&a, &b| shares[b].1.cmp(&shares[a].1).then(a.cmp(&b)));
    for i in order {
        if left == 0 {
            break;
        }
        if shares[i].1 > 0 {
            shares[i].0 += 1;
            left -= 1;
        }
    }
    prices
        .iter()
        .zip(shares)
        .map(|(&p, (share, _))| i64::try_from(i128::from(p) - share).unwrap_or(p))
        .collect()
}

/// Digits after the decimal point of an ISO 4217 currency (2 unless listed).
pub fn minor_digits(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// Minor units in one major unit of `currency` (100 for INR).
pub fn minor_per_major(currency: &str) -> i64 {
    10_i64.pow(minor_digits(currency))
}

/// `amount_minor` as the host writes amounts in emails: `INR 500.00`, `JPY 500`.
pub fn format_money(amount_minor: i64, currency: &str) -> String {
    let digits = minor_digits(currency);
    if digits == 0 {
        return format!("{currency} {amount_minor}");
    }
    let unit = minor_per_major(currency);
    let sign = if amount_minor < 0 { "-" } else { "" };
    let abs = amount_minor.unsigned_abs();
    let unit = unit.unsigned_abs();
    format!(
        "{currency} {sign}{}.{:0width$}",
        abs / unit,
        abs % unit,
        width = digits as usize
    )
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

    fn seat(id: &str, class: SeatClass) -> Seat {
        Seat {
            id: id.to_owned(),
            class,
        }
    }

    fn req(seats: Vec<Seat>, promo: Option<&str>) -> QuoteRequest {
        QuoteRequest {
            prices: vec![
                (SeatClass::Standard, 25_000),
                (SeatClass::Premium, 40_000),
                (SeatClass::Vip, 65_000),
            ],
            seats,
            promo_code: promo.map(str::to_owned),
            currency: "INR".to_owned(),
            confirmed_bookings: 0,
        }
    }

    fn two_seats() -> Vec<Seat> {
        vec![
            seat("E-7", SeatClass::Premium),
            seat("C-3", SeatClass::Standard),
        ]
    }

    fn sum(quote: &Quote) -> i64 {
        quote.items.iter().map(|item| item.amount_minor).sum()
    }

    #[test]
    fn without_a_code_it_prices_like_the_default() {
        for blank in [None, Some(""), Some("  \t")] {
            let quote = quote(&req(two_seats(), blank)).expect("quote");
            assert_eq!(
                quote.items,
                vec![
                    LineItem {
                        label: "Seat E-7 (premium)".to_owned(),
                        seat_id: Some("E-7".to_owned()),
                        amount_minor: 40_000,
                    },
                    LineItem {
                        label: "Seat C-3 (standard)".to_owned(),
                        seat_id: Some("C-3".to_owned()),
                        amount_minor: 25_000,
                    },
                ]
            );
            assert_eq!(quote.total_minor, 65_000);
        }
    }

    #[test]
    fn first10_takes_ten_percent_off_every_seat_of_a_first_booking() {
        let quote = quote(&req(two_seats(), Some("FIRST10"))).expect("quote");
        assert_eq!(
            quote.items,
            vec![
                LineItem {
                    label: "Seat E-7 (premium, FIRST10 10% off)".to_owned(),
                    seat_id: Some("E-7".to_owned()),
                    amount_minor: 36_000,
                },
                LineItem {
                    label: "Seat C-3 (standard, FIRST10 10% off)".to_owned(),
                    seat_id: Some("C-3".to_owned()),
                    amount_minor: 22_500,
                },
            ]
        );
        assert_eq!(quote.total_minor, 58_500);
        assert_eq!(sum(&quote), quote.total_minor);
    }

    #[test]
    fn codes_are_case_insensitive_and_trimmed() {
        for code in ["first10", " First10 ", "FIRST10\n"] {
            assert_eq!(
                quote(&req(two_seats(), Some(code))).map(|q| q.total_minor),
                Ok(58_500),
                "{code:?}"
            );
        }
        for code in ["flat100", "\tFlAt100"] {
            assert_eq!(
                quote(&req(two_seats(), Some(code))).map(|q| q.total_minor),
                Ok(55_000),
                "{code:?}"
            );
        }
    }

    #[test]
    fn first10_is_refused_after_a_confirmed_booking() {
        let mut r = req(two_seats(), Some("FIRST10"));
        r.confirmed_bookings = 1;
        assert_eq!(
            quote(&r),
            Err("promo code FIRST10 is only for a first booking".to_owned())
        );
    }

    #[test]
    fn flat100_shares_the_discount_in_proportion() {
        // 650.00 - 100.00: premium 400/650 of 10 000 = 6153.8, standard 3846.2.
        let quote = quote(&req(two_seats(), Some("FLAT100"))).expect("quote");
        assert_eq!(
            quote.items,
            vec![
                LineItem {
                    label: "Seat E-7 (premium, FLAT100: INR 100.00 off the order)".to_owned(),
                    seat_id: Some("E-7".to_owned()),
                    amount_minor: 40_000 - 6_154,
                },
                LineItem {
                    label: "Seat C-3 (standard, FLAT100: INR 100.00 off the order)".to_owned(),
                    seat_id: Some("C-3".to_owned()),
                    amount_minor: 25_000 - 3_846,
                },
            ]
        );
        assert_eq!(quote.total_minor, 55_000);
        assert_eq!(sum(&quote), quote.total_minor);
    }

    #[test]
    fn flat100_needs_an_order_of_five_hundred() {
        let mut r = req(
            vec![
                seat("C-1", SeatClass::Standard),
                seat("C-2", SeatClass::Standard),
            ],
            Some("FLAT100"),
        );
        assert_eq!(quote(&r).map(|q| q.total_minor), Ok(40_000)); // exactly 500.00
        r.prices = vec![(SeatClass::Standard, 24_999)];
        assert_eq!(
            quote(&r),
            Err("promo code FLAT100 needs an order of at least INR 500.00".to_owned())
        );
    }

    #[test]
    fn flat100_follows_the_currencys_minor_unit() {
        let mut r = req(vec![seat("C-1", SeatClass::Standard)], Some("FLAT100"));
        r.currency = "JPY".to_owned();
        r.prices = vec![(SeatClass::Standard, 500)];
        let quote = quote(&r).expect("quote");
        assert_eq!(quote.total_minor, 400);
        assert_eq!(
            quote.items[0].label,
            "Seat C-1 (standard, FLAT100: JPY 100 off the order)"
        );
        r.prices = vec![(SeatClass::Standard, 499)];
        assert_eq!(
            super::quote(&r),
            Err("promo code FLAT100 needs an order of at least JPY 500".to_owned())
        );
        r.currency = "KWD".to_owned();
        r.prices = vec![(SeatClass::Standard, 600_000)];
        assert_eq!(super::quote(&r).map(|q| q.total_minor), Ok(500_000));
    }

    #[test]
    fn unknown_codes_are_refused() {
        assert_eq!(
            quote(&req(two_seats(), Some("SUMMER25"))),
            Err("unknown promo code SUMMER25".to_owned())
        );
        assert_eq!(
            quote(&req(two_seats(), Some(" first-10 "))),
            Err("unknown promo code first-10".to_owned())
        );
        let long = "X".repeat(33);
        for junk in ["<b>x</b>", "a b", long.as_str(), "FIRST10\u{0}"] {
            assert_eq!(
                quote(&req(two_seats(), Some(junk))),
                Err("unknown promo code".to_owned()),
                "{junk:?}"
            );
        }
    }

    #[test]
    fn refuses_like_the_default() {
        assert_eq!(
            quote(&req(vec![], Some("FIRST10"))),
            Err("there are no seats to price".to_owned())
        );
        assert_eq!(
            quote(&req(vec![seat("A-1", SeatClass::Accessible)], None)),
            Err("seat A-1 is not on sale for this show".to_owned())
        );
        let mut r = req(two_seats(), None);
        r.prices = vec![(SeatClass::Standard, i64::MAX), (SeatClass::Premium, 1)];
        assert_eq!(quote(&r), Err("the total is too large".to_owned()));
    }

    #[test]
    fn share_discount_adds_up_and_stays_non_negative() {
        let cases: [(&[i64], i64); 7] = [
            (&[40_000, 25_000], 10_000),
            (&[1, 1, 1], 2),
            (&[0, 50_000, 0], 10_000),
            (&[33_333, 33_333, 33_334], 10_000),
            (&[7, 11, 13], 31),
            (&[i64::MAX / 2, i64::MAX / 2], 10_000),
            (&[10, 20], 0),
        ];
        for (prices, off) in cases {
            let shared = share_discount(prices, off);
            let before: i128 = prices.iter().map(|&p| i128::from(p)).sum();
            let after: i128 = shared.iter().map(|&p| i128::from(p)).sum();
            assert_eq!(before - after, i128::from(off), "{prices:?} {off}");
            for (p, s) in prices.iter().zip(&shared) {
                assert!((0..=*p).contains(s), "{prices:?} {off} -> {shared:?}");
            }
        }
        assert_eq!(share_discount(&[1, 1, 1], 2), vec![0, 0, 1]);
        assert_eq!(share_discount(&[0, 50_000, 0], 10_000), vec![0, 40_000, 0]);
        assert_eq!(share_discount(&[], 5), Vec::<i64>::new());
    }

    #[test]
    fn flat100_over_many_seats_adds_up() {
        let seats: Vec<Seat> = (1..=7)
            .map(|n| seat(&format!("B-{n}"), SeatClass::Standard))
            .collect();
        let mut r = req(seats, Some("flat100"));
        r.prices = vec![(SeatClass::Standard, 7_777)];
        let quote = quote(&r).expect("quote");
        assert_eq!(quote.total_minor, 7 * 7_777 - 10_000);
        assert_eq!(sum(&quote), quote.total_minor);
        let amounts: Vec<i64> = quote.items.iter().map(|i| i.amount_minor).collect();
        assert!(amounts.iter().max().expect("max") - amounts.iter().min().expect("min") <= 1);
    }

    #[test]
    fn money_formatting() {
        assert_eq!(format_money(50_000, "INR"), "INR 500.00");
        assert_eq!(format_money(5, "USD"), "USD 0.05");
        assert_eq!(format_money(-150, "EUR"), "EUR -1.50");
        assert_eq!(format_money(500, "JPY"), "JPY 500");
        assert_eq!(format_money(100_000, "KWD"), "KWD 100.000");
        assert_eq!(format_money(i64::MIN, "INR"), "INR -92233720368547758.08");
    }
}
