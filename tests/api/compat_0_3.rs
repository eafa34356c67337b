//! `cineflow:plugins@0.3.0` (the box office) against every older component the host keeps
//! running (docs/wit-versioning.md): the golden 0.1.0 and 0.2.x components load through their
//! own bindings and get the documented defaults for what 0.3.0 added (`check-waitlist`, the
//! voucher on `quote`, the waiting-list email kinds, the kept seats of a partial
//! cancellation); the current defaults, built against 0.3.0, decide those themselves.

use cineflow::domain::hook_io::{
    self, Availability, Discount, EmailEvent, EventKind, MapSeat, PickRequest, VoucherTerms,
    WaitlistRequest,
};
use cineflow::plugins::sha256_hex;
use cineflow::plugins::{Hook, Limits, LoadedComponent, PluginRuntime, RuntimeConfig, Tenant};
use wasmtime::component::Component;

use crate::compat::GOLDEN_BOOKING_RULES_0_1_0;
use crate::support::{component, inputs};

/// The defaults as built at `faa77b3`, the last commit at 0.2.1 (tests/fixtures/components/README.md).
const GOLDEN_PRICING_0_2_1: &[u8] = include_bytes!("../fixtures/components/pricing-0.2.1.wasm");
const GOLDEN_PRICING_0_2_1_SHA256: &str =
    "3753c9eb1d29d01bd2db37936d1b853a9e59f0aceba8e7f49ed2e2a9a4de0bd9";
const GOLDEN_TEMPLATES_0_2_1: &[u8] =
    include_bytes!("../fixtures/components/notify-templates-0.2.1.wasm");
const GOLDEN_TEMPLATES_0_2_1_SHA256: &str =
    "45a59347c6983746962c4bdadc2dae557d4684931d13174a6fb4ebd3a6f2d827";
const GOLDEN_PICKER_0_2_1: &[u8] = include_bytes!("../fixtures/components/seat-picker-0.2.1.wasm");
const GOLDEN_PICKER_0_2_1_SHA256: &str =
    "408dab23b3f1fec55bc39e40a30ead6197d78260f72a3f007da56f6499c13c6c";
const GOLDEN_PRICING_0_1_0: &[u8] = include_bytes!("../fixtures/components/pricing-0.1.0.wasm");
const GOLDEN_BOOKING_RULES_0_2_0: &[u8] =
    include_bytes!("../fixtures/components/booking-rules-0.2.0.wasm");

fn runtime() -> PluginRuntime {
    PluginRuntime::new(RuntimeConfig::uniform(Limits::default(), None)).expect("runtime builds")
}

fn exports(runtime: &PluginRuntime, bytes: &[u8]) -> Vec<String> {
    let component = Component::new(runtime.engine(), bytes).expect("compiles");
    let ty = component.component_type();
    ty.exports(runtime.engine())
        .map(|(name, _)| name.to_owned())
        .collect()
}

async fn load(
    runtime: &PluginRuntime,
    hook: Hook,
    bytes: &[u8],
) -> std::sync::Arc<LoadedComponent> {
    runtime.load(hook, bytes).await.expect("loads")
}

fn waitlist_request(entries: u32) -> WaitlistRequest {
    WaitlistRequest {
        show: inputs::show(),
        seat_count: 2,
        seat_class: None,
        customer: inputs::customer(),
        customer_entries: entries,
        // A day before the show.
        now_ms: inputs::show().starts_at_ms - 24 * 3_600_000,
    }
}

fn with_voucher(n: u32, discount: Discount) -> hook_io::QuoteRequest {
    let mut req = inputs::quote_request(n);
    req.promo_code = Some("SAVE".into());
    req.voucher = Some(VoucherTerms {
        code: "SAVE".into(),
        discount,
    });
    req
}

#[tokio::test]
async fn older_booking_rules_get_the_default_waiting_list_policy_without_being_called() {
    let runtime = runtime();
    for (version, bytes) in [
        ("0.1.0", GOLDEN_BOOKING_RULES_0_1_0),
        ("0.2.0", GOLDEN_BOOKING_RULES_0_2_0),
    ] {
        let loaded = load(&runtime, Hook::BookingRules, bytes).await;
        let called = runtime
            .check_waitlist(Tenant::Platform, &loaded, &waitlist_request(0))
            .await
            .expect("the call succeeds");
        assert_eq!(
            called.output.expect("allowed").offer_seconds,
            900,
            "{version}: the documented default offer lasts 15 minutes"
        );
        assert_eq!(called.stats.fuel_used, 0, "{version}: the guest is not run");
        let refused = runtime
            .check_waitlist(Tenant::Platform, &loaded, &waitlist_request(3))
            .await
            .expect("the call succeeds");
        assert!(
            refused
                .output
                .expect_err("a fourth list")
                .contains("3 waiting lists"),
            "{version}"
        );
        // A partial cancellation reaches them as a cancellation of those seats, paid for what
        // they cost: their rules refund it as they always did.
        let mut cancel = inputs::cancel_request(25_000, 48);
        cancel.seats.truncate(1);
        cancel.kept_seats = inputs::seats(2).split_off(1);
        let refund = runtime
            .cancel(Tenant::Platform, &loaded, &cancel)
            .await
            .expect("the call succeeds");
        assert_eq!(refund.output, Ok(25_000), "{version}");
    }
}

#[tokio::test]
async fn the_current_default_booking_rules_decide_the_waiting_list_themselves() {
    let runtime = runtime();
    let bytes = component("booking-rules.wasm");
    assert!(exports(&runtime, &bytes).contains(&"cineflow:plugins/rules@0.3.0".to_owned()));
    let loaded = load(&runtime, Hook::BookingRules, &bytes).await;
    let called = runtime
        .check_waitlist(Tenant::Platform, &loaded, &waitlist_request(2))
        .await
        .expect("the call succeeds");
    assert!(called.stats.fuel_used > 0, "the guest decided");
    assert_eq!(called.output.expect("allowed").offer_seconds, 900);
    // Its own rule, which the default policy does not have: not within 30 minutes of the show.
    let mut late = waitlist_request(0);
    late.now_ms = late.show.starts_at_ms - 10 * 60_000;
    let refused = runtime
        .check_waitlist(Tenant::Platform, &loaded, &late)
        .await
        .expect("the call succeeds");
    assert!(refused.output.expect_err("too late").contains("30 minutes"));
}

#[tokio::test]
async fn older_pricing_gets_the_vouchers_discount_from_the_host() {
    assert_eq!(
        sha256_hex(GOLDEN_PRICING_0_2_1),
        GOLDEN_PRICING_0_2_1_SHA256
    );
    let runtime = runtime();
    for (version, bytes) in [
        ("0.1.0", GOLDEN_PRICING_0_1_0),
        ("0.2.1", GOLDEN_PRICING_0_2_1),
    ] {
        let loaded = load(&runtime, Hook::Pricing, bytes).await;
        // Without a voucher, as ever: 4 seats, 130 000, no discount.
        let plain = runtime
            .quote(Tenant::Platform, &loaded, &inputs::quote_request(4))
            .await
            .expect("the call succeeds")
            .output
            .expect("priced");
        assert_eq!((plain.total_minor, plain.discount_minor), (130_000, 0));
        // The old default refuses every promo code, a voucher's too: it is not told vouchers
        // exist. A pricing component that accepts the code gets the discount applied.
        let refused = runtime
            .quote(
                Tenant::Platform,
                &loaded,
                &with_voucher(2, Discount::Percent(10)),
            )
            .await
            .expect("the call succeeds");
        assert_eq!(
            refused.output.expect_err("refused"),
            "unknown promo code",
            "{version}"
        );
        let mut no_code = with_voucher(2, Discount::Percent(10));
        no_code.promo_code = None;
        let quote = runtime
            .quote(Tenant::Platform, &loaded, &no_code)
            .await
            .expect("the call succeeds")
            .output
            .expect("priced");
        // 65 000 less 10 %, taken from the last line up.
        assert_eq!(
            (quote.total_minor, quote.discount_minor),
            (58_500, 6_500),
            "{version}"
        );
        let amounts: Vec<i64> = quote.items.iter().map(|i| i.amount_minor).collect();
        assert_eq!(amounts, [25_000, 33_500], "{version}");
    }
}

#[tokio::test]
async fn the_current_default_pricing_interprets_the_voucher() {
    let runtime = runtime();
    let bytes = component("pricing.wasm");
    assert!(exports(&runtime, &bytes).contains(&"cineflow:plugins/pricer@0.3.0".to_owned()));
    let loaded = load(&runtime, Hook::Pricing, &bytes).await;
    let quote = runtime
        .quote(
            Tenant::Platform,
            &loaded,
            &with_voucher(2, Discount::AmountMinor(10_000)),
        )
        .await
        .expect("the call succeeds")
        .output
        .expect("a voucher's code is accepted");
    assert_eq!((quote.total_minor, quote.discount_minor), (55_000, 10_000));
    // An amount larger than the price makes it free, never negative.
    let free = runtime
        .quote(
            Tenant::Platform,
            &loaded,
            &with_voucher(1, Discount::AmountMinor(1_000_000)),
        )
        .await
        .expect("the call succeeds")
        .output
        .expect("priced");
    assert_eq!((free.total_minor, free.discount_minor), (0, 25_000));
    // A code that is no voucher is still refused by the default.
    let mut unknown = inputs::quote_request(1);
    unknown.promo_code = Some("NOPE".into());
    let refused = runtime
        .quote(Tenant::Platform, &loaded, &unknown)
        .await
        .expect("the call succeeds");
    assert_eq!(refused.output.expect_err("refused"), "unknown promo code");
}

fn waitlist_offer() -> EmailEvent {
    let mut event = inputs::booking_confirmed();
    event.kind = EventKind::WaitlistOffer;
    event
        .fields
        .push(("offer-expires-at".into(), "1 Jan 2030, 05:00 IST".into()));
    event
}

#[tokio::test]
async fn older_templates_render_what_they_know_and_the_host_renders_the_new_kinds() {
    assert_eq!(
        sha256_hex(GOLDEN_TEMPLATES_0_2_1),
        GOLDEN_TEMPLATES_0_2_1_SHA256
    );
    let runtime = runtime();
    let loaded = load(&runtime, Hook::NotifyTemplates, GOLDEN_TEMPLATES_0_2_1).await;
    let confirmed = runtime
        .render(Tenant::Platform, &loaded, &inputs::booking_confirmed())
        .await
        .expect("the call succeeds")
        .output
        .expect("rendered");
    assert_eq!(confirmed.subject, "Your booking is successful");
    let offer = runtime
        .render(Tenant::Platform, &loaded, &waitlist_offer())
        .await
        .expect("the call succeeds");
    assert_eq!(
        offer.stats.fuel_used, 0,
        "the 0.2 guest is not asked about a 0.3 kind"
    );
    let offer = offer.output.expect("the built-in template");
    assert_eq!(offer.subject, "Seats are held for you");
    assert!(
        offer.text.contains("1 Jan 2030, 05:00 IST"),
        "{}",
        offer.text
    );

    // The current default knows the kind and words it itself.
    let current = load(
        &runtime,
        Hook::NotifyTemplates,
        &component("notify-templates.wasm"),
    )
    .await;
    let offer = runtime
        .render(Tenant::Platform, &current, &waitlist_offer())
        .await
        .expect("the call succeeds")
        .output
        .expect("rendered");
    assert_eq!(offer.subject, "Seats for The Long Night are held for you");
}

#[tokio::test]
async fn the_golden_0_2_1_seat_picker_loads_on_the_0_3_host_and_picks() {
    assert_eq!(sha256_hex(GOLDEN_PICKER_0_2_1), GOLDEN_PICKER_0_2_1_SHA256);
    let runtime = runtime();
    assert!(
        exports(&runtime, GOLDEN_PICKER_0_2_1)
            .contains(&"cineflow:plugins/picker@0.2.1".to_owned())
    );
    let loaded = load(&runtime, Hook::SeatPicker, GOLDEN_PICKER_0_2_1).await;
    let seats = inputs::seats(6);
    let req = PickRequest {
        show: inputs::show(),
        seats: seats
            .into_iter()
            .enumerate()
            .map(|(i, seat)| MapSeat {
                seat,
                state: if i == 0 {
                    Availability::Taken
                } else {
                    Availability::Free
                },
            })
            .collect(),
        count: 2,
        seat_class: None,
        accessible: false,
        now_ms: 0,
    };
    let picked = runtime
        .pick_seats(Tenant::Platform, &loaded, &req)
        .await
        .expect("the call succeeds")
        .output
        .expect("picked");
    assert_eq!(picked.len(), 2);
    assert!(!picked.contains(&"A-1".to_owned()), "never the taken seat");
}
