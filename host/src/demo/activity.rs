//! The coming week in use, through the domain services as a customer or the owner would
//! drive them: vouchers and gift cards; the example pricing components uploaded (the older
//! bound first, so the first bookings are priced and recorded by it); bookings of three
//! coming shows (by card and gift card, one partly and one fully cancelled); a show whose VIP
//! row sold out, with a waiting list; a replay of the newer component over the older's
//! recorded calls; the newer bound; then bookings priced by it (a voucher, a promo code), a
//! hold left unpaid, and tickets checked in.

use std::path::Path;

use chrono::Utc;
use uuid::Uuid;

use super::{CHAIN, CUSTOMER, OWNER, REGULARS, SCREENS};
use crate::db;
use crate::domain::bookings::{Booking, HoldCommand, PayCommand, SeatRequest, parse_seat_ids};
use crate::domain::gift_cards::GiftCardCode;
use crate::domain::hook_io::{Discount, SeatClass};
use crate::domain::runs::ReplayRequest;
use crate::domain::tickets::CheckInCommand;
use crate::domain::types::{BookingId, Currency, Money, SeatId, ShowId};
use crate::domain::vouchers::{NewVoucherCommand, VoucherCode};
use crate::domain::waitlist::JoinCommand;
use crate::domain::{Actor, ChainAccess, DomainError};
use crate::plugins::Hook;
use crate::state::AppState;

/// The example pricing components, older first (`scripts/build-components.sh`).
/// The older gives matinee and weekday discounts; the newer drops them for promo codes (and
/// prices the README's walkthrough at the base prices it quotes).
pub(super) const PRICING_VERSIONS: [&str; 2] = [
    "examples/matinee-pricing.wasm",
    "examples/promo-pricing.wasm",
];

/// The demo's vouchers: code, discount, and whether only "Chai and Chess" takes it.
const VOUCHERS: [(&str, Discount, bool); 2] = [
    ("WELCOME10", Discount::Percent(10), false),
    ("CHAI50", Discount::AmountMinor(5_000), true),
];

/// Gift cards issued, in paise.
const GIFT_CARDS: [i64; 2] = [100_000, 200_000];

/// Coming shows are booked only if they start at least this much later (well clear of any
/// cut-off, and of the waiting list closing 30 minutes before a show).
const LEAD: chrono::TimeDelta = chrono::TimeDelta::hours(3);

/// Everyone the activity acts as.
struct Cast {
    owner: ChainAccess,
    customer: Actor,
    /// `REGULARS`, in order: Priya, Arjun, Kavya, Rohan, Sana.
    regulars: Vec<Actor>,
}

/// Logs a step that failed; the rest goes on.
fn done<T>(what: &str, result: Result<T, impl std::fmt::Display>) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::warn!(error = %e, step = what, "demo: a step was skipped");
            None
        }
    }
}

pub(super) async fn load(state: &AppState, components_dir: &Path) -> anyhow::Result<()> {
    let cast = cast(state).await?;
    let mut conn = state.db.acquire().await?;
    let ids: Vec<Uuid> = cast.regulars.iter().map(Actor::id).collect();
    let booked = db::demo::upcoming_bookings_of(&mut conn, CHAIN, &ids).await?;
    let shows = db::demo::upcoming_shows(&mut conn, CHAIN, Utc::now() + LEAD).await?;
    drop(conn);

    let vouchers = vouchers(state, &cast.owner).await;
    let cards = gift_cards(state, &cast.owner).await?;
    let versions = upload_versions(state, &cast.owner, components_dir).await;
    if booked > 0 {
        // This week's activity is there already.
        return Ok(());
    }
    // The story of a component change is told once: a chain whose pricing is bound (by an
    // earlier load, or by whoever is using the demo) keeps its binding.
    let (bindings, _) = state.chain_components.bindings(&cast.owner).await?;
    let unbound = bindings
        .iter()
        .any(|b| b.hook == Hook::Pricing && b.binding.is_none());
    let story = versions.filter(|_| unbound);
    if let Some([older, _]) = &story {
        state
            .chain_components
            .bind(&cast.owner, Hook::Pricing, older, None, None)
            .await?;
    }

    let pick = |screen: usize, after: Option<chrono::DateTime<Utc>>| {
        shows
            .iter()
            .find(|(_, s, at)| *s == SCREENS[screen] && after.is_none_or(|a| *at >= a))
            .map(|(id, _, at)| (*id, *at))
    };
    let Some((next, next_at)) = pick(0, None) else {
        anyhow::bail!("no coming show on Screen 1 to book");
    };
    // A later show, today or tomorrow: its VIP row sells out and a waiting list forms.
    let busy = pick(0, Some(next_at + chrono::TimeDelta::hours(4))).map(|(id, _)| id);
    let imax = pick(1, None).map(|(id, _)| id);

    let [priya, arjun, kavya, rohan, sana] = &cast.regulars[..] else {
        anyhow::bail!("the demo's regular customers are missing");
    };
    let customer = &cast.customer;
    // The next show: card, voucher and gift card payments, a partial and a full cancellation,
    // check-ins. Seats C-5, C-6 and D-3 stay free on every show: tests/api/binary.rs books them
    // on the demo's shows.
    let first = done(
        "Priya books",
        book(state, priya, next, &["B-1", "B-2", "B-3"], None, None).await,
    );
    done(
        "Kavya pays with a gift card",
        book(
            state,
            kavya,
            next,
            &["A-1", "A-2"],
            None,
            cards.first().cloned(),
        )
        .await,
    );
    if let Some(b) = done(
        "the customer books",
        book(state, customer, next, &["B-8", "B-9", "B-10"], None, None).await,
    ) {
        let seat = SeatId::parse("B-10").map_err(anyhow::Error::msg)?;
        done(
            "the customer cancels a seat",
            state
                .bookings
                .cancel_seats(customer, BookingId::from(b.id), vec![seat])
                .await,
        );
    }
    if let Some(b) = done(
        "Rohan books",
        book(state, rohan, next, &["C-10", "C-11"], None, None).await,
    ) {
        done(
            "Rohan cancels",
            state.bookings.cancel(rohan, BookingId::from(b.id)).await,
        );
    }
    if let Some(show) = busy {
        for (who, seats) in [
            (priya, &["F-1", "F-2", "F-3", "F-4"][..]),
            (arjun, &["F-5", "F-6", "F-7"][..]),
            (kavya, &["F-8", "F-9", "F-10"][..]),
            (rohan, &["E-1", "E-2", "E-3", "E-4"][..]),
            (sana, &["D-7", "D-8"][..]),
        ] {
            done(
                "the busy show's bookings",
                book(state, who, show, seats, None, None).await,
            );
        }
        for who in [rohan, sana, customer] {
            let cmd = JoinCommand {
                show_id: ShowId::from(show),
                seat_count: 2,
                seat_class: Some(SeatClass::Vip),
            };
            done("the waiting list", state.waitlist.join(who, cmd).await);
        }
    }

    if let Some(show) = imax {
        for (who, seats) in [(arjun, &["C-1", "C-2"][..]), (kavya, &["D-5", "D-6"][..])] {
            done(
                "the IMAX show's bookings",
                book(state, who, show, seats, None, None).await,
            );
        }
    }

    if let Some([older, newer]) = &story {
        // The newer version replayed over the older's calls so far, then bound: the older
        // stays stored, to roll back to.
        let request = ReplayRequest {
            component_id: newer.clone(),
            hook: Hook::Pricing,
            from: None,
            to: Some(Utc::now()),
            limit: None,
        };
        let replays = state.runs.replays(&cast.owner, None, 1).await?;
        if replays.is_empty() {
            done(
                "the replay",
                state.runs.start_replay(&cast.owner, &request).await,
            );
        }
        state
            .chain_components
            .bind(&cast.owner, Hook::Pricing, newer, None, None)
            .await?;
        tracing::info!(older = %older, newer = %newer, "demo: pricing bound to the newer example");
    }
    // Priced by whatever is bound now: a voucher (the newer example takes its discount off),
    // the newer's own promo code, and a hold left unpaid (it expires like any other).
    let second = done(
        "Arjun books with a voucher",
        book(
            state,
            arjun,
            next,
            &["E-5", "E-6"],
            vouchers.then_some("WELCOME10"),
            None,
        )
        .await,
    );
    if let Some(show) = imax {
        // FLAT100 is a code only the newer example knows (100.00 off 500.00 or more).
        let flat100 = story.is_some().then_some("FLAT100");
        done(
            "Sana books with a promo code",
            book(
                state,
                sana,
                show,
                &["A-1", "A-2", "A-3", "A-4"],
                flat100,
                None,
            )
            .await,
        );
        done(
            "Priya books premium",
            book(state, priya, show, &["C-8", "C-9"], None, None).await,
        );
    }
    done(
        "the customer's hold",
        hold(state, customer, next, &["D-10", "D-11"], None).await,
    );
    // At the door: Priya's party all in, Arjun in, his companion not yet.
    for (booking, seats, who) in [(first, 3, priya), (second, 1, arjun)] {
        if let Some(b) = booking {
            done(
                "check-in",
                check_in(state, &cast.owner, who, &b, seats).await,
            );
        }
    }
    Ok(())
}

async fn cast(state: &AppState) -> anyhow::Result<Cast> {
    let mut conn = state.db.acquire().await?;
    let mut actor = async |email: &str| -> anyhow::Result<Actor> {
        let (user, _) = db::users::find_credentials(&mut conn, email)
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo account {email} is missing"))?;
        Ok(Actor::new(user))
    };
    let owner = actor(OWNER.0).await?;
    let customer = actor(CUSTOMER.0).await?;
    let mut regulars = Vec::new();
    for (_, email) in REGULARS {
        regulars.push(actor(email).await?);
    }
    let owner = owner.member_of(&mut conn, CHAIN).await?;
    Ok(Cast {
        owner,
        customer,
        regulars,
    })
}

/// The vouchers (each once: its code is unique per chain); whether WELCOME10 exists.
async fn vouchers(state: &AppState, owner: &ChainAccess) -> bool {
    let chai = Uuid::from_u128(super::MOVIES[3].0);
    let mut welcome = false;
    for (code, discount, only_chai) in VOUCHERS {
        let Ok(parsed) = VoucherCode::parse(code) else {
            continue;
        };
        let cmd = NewVoucherCommand {
            code: parsed,
            max_redemptions: 100,
            valid_from: None,
            valid_until: Some(Utc::now() + chrono::TimeDelta::days(60)),
            show_ids: Vec::new(),
            movie_ids: if only_chai { vec![chai] } else { Vec::new() },
            discount,
        };
        let made = match state.vouchers.create(owner, cmd).await {
            Ok(_) | Err(DomainError::VoucherCodeTaken) => true,
            Err(e) => {
                tracing::warn!(error = %e, code, "demo: a voucher was not created");
                false
            }
        };
        welcome |= made && code == "WELCOME10";
    }
    welcome
}

/// Issues the gift cards if the chain has none; the codes of those issued now (a code is
/// shown once, so a later load has none to spend).
async fn gift_cards(state: &AppState, owner: &ChainAccess) -> anyhow::Result<Vec<GiftCardCode>> {
    let mut conn = state.db.acquire().await?;
    if db::demo::gift_card_count(&mut conn, CHAIN).await? > 0 {
        return Ok(Vec::new());
    }
    drop(conn);
    let inr = Currency::parse("INR").map_err(anyhow::Error::msg)?;
    let mut codes = Vec::new();
    for amount in GIFT_CARDS {
        let card = state
            .gift_cards
            .issue(owner.actor(), CHAIN, Money::new(amount, inr))
            .await?;
        codes.push(card.code);
    }
    Ok(codes)
}

/// Uploads the two example pricing versions (those not stored yet: an upload compiles and runs
/// the fixtures); their ids, older first, or `None` when a file is missing or refused.
async fn upload_versions(state: &AppState, owner: &ChainAccess, dir: &Path) -> Option<[String; 2]> {
    let mut ids = Vec::new();
    for file in PRICING_VERSIONS {
        let path = dir.join(file);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e,
                    "demo: example component missing (run scripts/build-components.sh); no demo components");
                return None;
            }
        };
        let sha = crate::plugins::sha256_hex(&bytes);
        let stored = match state.db.acquire().await {
            Ok(mut conn) => db::bindings::component(&mut conn, CHAIN, &sha)
                .await
                .ok()
                .flatten()
                .is_some(),
            Err(_) => false,
        };
        if !stored {
            done(
                "uploading an example component",
                state
                    .chain_components
                    .upload(owner, Hook::Pricing, &bytes)
                    .await,
            )?;
        }
        ids.push(sha);
    }
    <[String; 2]>::try_from(ids).ok()
}

/// Holds `seats` of `show` for `who`.
async fn hold(
    state: &AppState,
    who: &Actor,
    show: Uuid,
    seats: &[&str],
    promo: Option<&str>,
) -> anyhow::Result<Booking> {
    let raw: Vec<String> = seats.iter().map(|s| (*s).to_owned()).collect();
    let cmd = HoldCommand {
        show_id: ShowId::from(show),
        seats: SeatRequest::Named(parse_seat_ids(&raw).map_err(anyhow::Error::msg)?),
        promo_code: promo.map(str::to_owned),
    };
    Ok(state.bookings.hold(who, cmd).await?)
}

/// Holds and pays (by card, or with a gift card first).
async fn book(
    state: &AppState,
    who: &Actor,
    show: Uuid,
    seats: &[&str],
    promo: Option<&str>,
    gift_card: Option<GiftCardCode>,
) -> anyhow::Result<Booking> {
    let booking = hold(state, who, show, seats, promo).await?;
    let cmd = PayCommand {
        amount_minor: booking.total_minor,
        currency: booking.currency.clone(),
        card_token: Some("tok_visa".into()),
        gift_card,
    };
    state
        .bookings
        .pay(who, BookingId::from(booking.id), cmd)
        .await?;
    Ok(booking)
}

/// Scans the first `count` tickets of a booking at the main door.
async fn check_in(
    state: &AppState,
    owner: &ChainAccess,
    who: &Actor,
    booking: &Booking,
    count: usize,
) -> anyhow::Result<()> {
    let tickets = state.tickets.of_booking(who, booking.id).await?;
    for ticket in tickets.iter().take(count) {
        let cmd = CheckInCommand {
            code: ticket.code.clone(),
            scan_id: format!("demo-{}", ticket.id),
            gate: Some("Main door".into()),
            scanned_at: None,
            show_id: Some(booking.show_id),
        };
        state.tickets.check_in(owner, cmd).await?;
    }
    Ok(())
}
