//! The pricing decision, in plain Rust: no WIT types, so `cargo test` runs it natively.
//!
//! Start: each seat costs its class's price, one line item per seat, no promo codes. Change
//! `quote` to price your way; the host checks every answer (at least one item, no negative
//! amount, items that add up to the total exactly).

/// A seat class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatClass {
    /// Standard.
    Standard,
    /// Premium.
    Premium,
    /// VIP.
    Vip,
    /// Accessible.
    Accessible,
}

/// A seat being priced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seat {
    /// Its id, e.g. `A-7`.
    pub id: String,
    /// Its class.
    pub class: SeatClass,
}

/// What a quote needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteRequest {
    /// The show's price per class, in minor units.
    pub prices: Vec<(SeatClass, i64)>,
    /// The seats.
    pub seats: Vec<Seat>,
    /// The customer's promo code, if any.
    pub promo_code: Option<String>,
}

/// A line of the quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Shown to the customer.
    pub label: String,
    /// The seat it prices, if any.
    pub seat_id: Option<String>,
    /// In minor units, never negative.
    pub amount_minor: i64,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// The lines.
    pub items: Vec<Item>,
    /// Their sum.
    pub total_minor: i64,
}

/// Prices the seats; `Err` is a refusal shown to the customer.
pub fn quote(req: &QuoteRequest) -> Result<Quote, String> {
    if req.seats.is_empty() {
        return Err("no seats to price".into());
    }
    if req.promo_code.as_deref().is_some_and(|c| !c.trim().is_empty()) {
        return Err("unknown promo code".into());
    }
    let mut items = Vec::with_capacity(req.seats.len());
    let mut total_minor: i64 = 0;
    for seat in &req.seats {
        let price = req
            .prices
            .iter()
            .find(|(class, _)| *class == seat.class)
            .map(|(_, price)| *price)
            .ok_or_else(|| format!("seat {} is not on sale", seat.id))?;
        total_minor = total_minor
            .checked_add(price)
            .ok_or_else(|| "the total is too large".to_owned())?;
        items.push(Item {
            label: format!("Seat {}", seat.id),
            seat_id: Some(seat.id.clone()),
            amount_minor: price,
        });
    }
    Ok(Quote { items, total_minor })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(seats: &[(&str, SeatClass)], promo: Option<&str>) -> QuoteRequest {
        QuoteRequest {
            prices: vec![(SeatClass::Standard, 25_000), (SeatClass::Premium, 40_000)],
            seats: seats
                .iter()
                .map(|(id, class)| Seat {
                    id: (*id).into(),
                    class: *class,
                })
                .collect(),
            promo_code: promo.map(Into::into),
        }
    }

    #[test]
    fn each_seat_costs_its_class_price() {
        let q = quote(&req(
            &[("A-1", SeatClass::Standard), ("P-1", SeatClass::Premium)],
            None,
        ))
        .expect("priced");
        assert_eq!(q.total_minor, 65_000);
        assert_eq!(q.items.iter().map(|i| i.amount_minor).sum::<i64>(), q.total_minor);
        assert_eq!(q.items[0].label, "Seat A-1");
    }

    #[test]
    fn promo_codes_and_unpriced_classes_are_refused() {
        assert_eq!(
            quote(&req(&[("A-1", SeatClass::Standard)], Some("X"))),
            Err("unknown promo code".into())
        );
        assert!(quote(&req(&[("V-1", SeatClass::Vip)], None)).is_err());
        assert!(quote(&req(&[], None)).is_err());
    }
}
