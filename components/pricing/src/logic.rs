//! The default pricing, in plain Rust (no WIT types), so it can be unit-tested natively.
//!
//! One line item per seat, priced at its class's base price for the show; the total is their sum.
//! A voucher (a code the chain's staff created, checked by the host) takes its discount off: a
//! percentage of the total rounded down, or an amount up to the total, taken from the last
//! seat's line up. Any other non-blank promo code is refused with "unknown promo code".

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
    /// The voucher the code matched, if it matched one.
    pub voucher: Option<Discount>,
}

/// A voucher's discount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discount {
    /// Per cent off, 1 to 100.
    Percent(u8),
    /// Minor units off.
    AmountMinor(i64),
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
    /// What the voucher took off (already out of the items and the total).
    pub discount_minor: i64,
}

/// Prices the request; `Err` is a reason shown to the customer.
pub fn quote(req: &QuoteRequest) -> Result<Quote, String> {
    if req.seats.is_empty() {
        return Err("there are no seats to price".to_owned());
    }
    if req.voucher.is_none()
        && req
            .promo_code
            .as_deref()
            .is_some_and(|code| !code.trim().is_empty())
    {
        return Err("unknown promo code".to_owned());
    }
    let mut items = Vec::with_capacity(req.seats.len());
    let mut total: i64 = 0;
    for seat in &req.seats {
        let amount = price_of(&req.prices, seat.class)
            .ok_or_else(|| format!("seat {} is not on sale for this show", seat.id))?;
        total = total
            .checked_add(amount)
            .ok_or_else(|| "the total is too large".to_owned())?;
        items.push(LineItem {
            label: format!("Seat {} ({})", seat.id, seat.class.label()),
            seat_id: Some(seat.id.clone()),
            amount_minor: amount,
        });
    }
    let off = match req.voucher {
        None => 0,
        Some(Discount::Percent(p)) => {
            i64::try_from(i128::from(total) * i128::from(p.min(100)) / 100).unwrap_or(total)
        }
        Some(Discount::AmountMinor(a)) => a.clamp(0, total),
    };
    let mut left = off;
    for item in items.iter_mut().rev() {
        let take = item.amount_minor.min(left);
        item.amount_minor -= take;
        left -= take;
    }
    Ok(Quote {
        items,
        total_minor: total - off,
        discount_minor: off,
    })
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

    #[test]
    fn a_voucher_takes_its_discount_from_the_last_seat_up() {
        let req = |voucher| QuoteRequest {
            prices: vec![(SeatClass::Standard, 25_000)],
            seats: vec![
                seat("A-1", SeatClass::Standard),
                seat("A-2", SeatClass::Standard),
            ],
            promo_code: Some("SAVE".to_owned()),
            voucher: Some(voucher),
        };
        let q = quote(&req(Discount::Percent(10))).expect("priced");
        assert_eq!((q.total_minor, q.discount_minor), (45_000, 5_000));
        assert_eq!(q.items[0].amount_minor, 25_000);
        assert_eq!(q.items[1].amount_minor, 20_000);
        let q = quote(&req(Discount::AmountMinor(30_000))).expect("priced");
        assert_eq!((q.total_minor, q.discount_minor), (20_000, 30_000));
        assert_eq!(q.items[0].amount_minor, 20_000);
        assert_eq!(q.items[1].amount_minor, 0);
        let q = quote(&req(Discount::AmountMinor(90_000))).expect("priced");
        assert_eq!((q.total_minor, q.discount_minor), (0, 50_000));
        let q = quote(&req(Discount::Percent(33))).expect("priced");
        assert_eq!((q.total_minor, q.discount_minor), (33_500, 16_500));
    }

    fn seat(id: &str, class: SeatClass) -> Seat {
        Seat {
            id: id.to_owned(),
            class,
        }
    }

    fn req(seats: Vec<Seat>) -> QuoteRequest {
        QuoteRequest {
            prices: vec![
                (SeatClass::Standard, 20_000),
                (SeatClass::Premium, 35_000),
                (SeatClass::Vip, 60_000),
            ],
            seats,
            promo_code: None,
            voucher: None,
        }
    }

    fn sum(quote: &Quote) -> i64 {
        quote.items.iter().map(|item| item.amount_minor).sum()
    }

    #[test]
    fn one_line_per_seat_in_order() {
        let quote = quote(&req(vec![
            seat("A-7", SeatClass::Premium),
            seat("A-8", SeatClass::Standard),
            seat("K-1", SeatClass::Vip),
        ]))
        .expect("quote");
        assert_eq!(
            quote.items,
            vec![
                LineItem {
                    label: "Seat A-7 (premium)".to_owned(),
                    seat_id: Some("A-7".to_owned()),
                    amount_minor: 35_000,
                },
                LineItem {
                    label: "Seat A-8 (standard)".to_owned(),
                    seat_id: Some("A-8".to_owned()),
                    amount_minor: 20_000,
                },
                LineItem {
                    label: "Seat K-1 (vip)".to_owned(),
                    seat_id: Some("K-1".to_owned()),
                    amount_minor: 60_000,
                },
            ]
        );
        assert_eq!(quote.total_minor, 115_000);
        assert_eq!(sum(&quote), quote.total_minor);
    }

    #[test]
    fn class_labels() {
        assert_eq!(SeatClass::Standard.label(), "standard");
        assert_eq!(SeatClass::Premium.label(), "premium");
        assert_eq!(SeatClass::Vip.label(), "vip");
        assert_eq!(SeatClass::Accessible.label(), "accessible");
    }

    #[test]
    fn a_free_class_is_fine() {
        let mut r = req(vec![seat("W-1", SeatClass::Accessible)]);
        r.prices.push((SeatClass::Accessible, 0));
        let quote = quote(&r).expect("quote");
        assert_eq!(quote.total_minor, 0);
        assert_eq!(quote.items.len(), 1);
    }

    #[test]
    fn refuses_no_seats() {
        assert_eq!(
            quote(&req(vec![])),
            Err("there are no seats to price".to_owned())
        );
    }

    #[test]
    fn refuses_a_class_without_a_price() {
        let r = req(vec![
            seat("A-1", SeatClass::Standard),
            seat("W-1", SeatClass::Accessible),
        ]);
        assert_eq!(
            quote(&r),
            Err("seat W-1 is not on sale for this show".to_owned())
        );
    }

    #[test]
    fn refuses_a_negative_price() {
        let mut r = req(vec![seat("W-1", SeatClass::Accessible)]);
        r.prices.push((SeatClass::Accessible, -1));
        assert!(quote(&r).is_err());
    }

    #[test]
    fn refuses_any_promo_code() {
        let mut r = req(vec![seat("A-1", SeatClass::Standard)]);
        r.promo_code = Some("SUMMER10".to_owned());
        assert_eq!(quote(&r), Err("unknown promo code".to_owned()));
        r.promo_code = Some(" x ".to_owned());
        assert_eq!(quote(&r), Err("unknown promo code".to_owned()));
    }

    #[test]
    fn a_blank_promo_code_counts_as_none() {
        let mut r = req(vec![seat("A-1", SeatClass::Standard)]);
        for blank in ["", "   ", "\t\n"] {
            r.promo_code = Some(blank.to_owned());
            assert_eq!(quote(&r).map(|q| q.total_minor), Ok(20_000), "{blank:?}");
        }
    }

    #[test]
    fn refuses_a_total_that_overflows() {
        let mut r = req(vec![
            seat("A-1", SeatClass::Standard),
            seat("A-2", SeatClass::Standard),
        ]);
        r.prices = vec![(SeatClass::Standard, i64::MAX)];
        assert_eq!(quote(&r), Err("the total is too large".to_owned()));
    }

    #[test]
    fn the_largest_total_that_fits_is_fine() {
        let mut r = req(vec![
            seat("A-1", SeatClass::Standard),
            seat("A-2", SeatClass::Premium),
        ]);
        r.prices = vec![(SeatClass::Standard, i64::MAX - 1), (SeatClass::Premium, 1)];
        let quote = quote(&r).expect("quote");
        assert_eq!(quote.total_minor, i64::MAX);
    }

    #[test]
    fn the_first_price_of_a_class_wins() {
        let mut r = req(vec![seat("A-1", SeatClass::Standard)]);
        r.prices.push((SeatClass::Standard, 1));
        assert_eq!(quote(&r).map(|q| q.total_minor), Ok(20_000));
    }
}
