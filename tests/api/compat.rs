//! Components the host must keep running (docs/wit-versioning.md):
//! - one built the way `cargo component build` builds it: a wasm32-wasip1 core module made a
//!   component with the WASI preview1 reactor adapter, so it imports `wasi:filesystem`,
//!   `wasi:clocks` and more, and runs in the host's empty WASI world;
//! - the golden pricing component, built once against `cineflow:plugins@0.1.0` and committed:
//!   every later host must load and run it;
//! - the same golden component under host bindings generated from evolved copies of the WIT
//!   (`tests/fixtures/wit-evolution/`), showing what wasmtime 48 accepts as compatible.

use cineflow::domain::hook_io;
use cineflow::plugins::{Hook, Limits, PluginRuntime, RuntimeConfig, Tenant, sha256_hex};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::support::{component, inputs};

/// The default pricing component as built from `cineflow:plugins@0.1.0` (see the README next
/// to it). Never rebuild it: it stands for components chains uploaded against 0.1.0.
const GOLDEN_PRICING_0_1_0: &[u8] = include_bytes!("../fixtures/components/pricing-0.1.0.wasm");
const GOLDEN_PRICING_0_1_0_SHA256: &str =
    "39ad665ef65fbbd21665666df01992d0af3b6a54e10d97abad82a912c54f5682";

/// The default booking-rules component as built from `cineflow:plugins@0.1.0` (see the README
/// next to it): it stands for booking-rules components chains uploaded against 0.1.0, which
/// know nothing of 0.2.0's `customer-holds`.
pub(crate) const GOLDEN_BOOKING_RULES_0_1_0: &[u8] =
    include_bytes!("../fixtures/components/booking-rules-0.1.0.wasm");
const GOLDEN_BOOKING_RULES_0_1_0_SHA256: &str =
    "6214411ecbfb6857aafab54a89e860d60f0617176ff1ca138ee0efcb7eca84d2";

fn runtime() -> PluginRuntime {
    PluginRuntime::new(RuntimeConfig::uniform(Limits::default(), None)).expect("runtime builds")
}

/// The names a component imports, from wasmtime's view of its type.
fn imports(engine: &Engine, bytes: &[u8]) -> Vec<String> {
    let component = Component::new(engine, bytes).expect("compiles");
    let ty = component.component_type();
    ty.imports(engine)
        .map(|(name, _)| name.to_owned())
        .collect()
}

/// The names a component exports.
fn exports(engine: &Engine, bytes: &[u8]) -> Vec<String> {
    let component = Component::new(engine, bytes).expect("compiles");
    let ty = component.component_type();
    ty.exports(engine)
        .map(|(name, _)| name.to_owned())
        .collect()
}

/// Prices 4 seats (130 000) and refuses a promo code: the behaviour of the default pricing,
/// which both components under test share.
async fn prices_like_the_default(runtime: &PluginRuntime, bytes: &[u8]) -> String {
    let loaded = runtime
        .load(Hook::Pricing, bytes)
        .await
        .expect("loads as a pricing component, like an upload or a default");
    let called = runtime
        .quote(Tenant::Platform, &loaded, &inputs::quote_request(4))
        .await
        .expect("the call succeeds");
    let quote = called.output.expect("priced");
    // Seats 1 and 3 are standard (25 000), 2 and 4 premium (40 000).
    assert_eq!(quote.total_minor, 130_000);
    let amounts: Vec<i64> = quote.items.iter().map(|i| i.amount_minor).collect();
    assert_eq!(amounts, [25_000, 40_000, 25_000, 40_000]);
    assert_eq!(quote.items[1].seat_id.as_deref(), Some("A-2"));

    let mut promo = inputs::quote_request(2);
    promo.promo_code = Some("FREEBIE".into());
    let refused = runtime
        .quote(Tenant::Platform, &loaded, &promo)
        .await
        .expect("the call succeeds");
    assert_eq!(refused.output.expect_err("refused"), "unknown promo code");
    called.log
}

#[tokio::test]
async fn a_cargo_component_style_wasip1_component_runs_in_the_empty_wasi_world() {
    let bytes = component("compat/wasip1-pricing.wasm");
    assert_eq!(
        bytes.get(..8),
        Some(&b"\0asm\x0d\0\x01\0"[..]),
        "a component, not a core module"
    );
    let runtime = runtime();

    // What the reactor adapter makes a wasip1 module import: far more of WASI than a wasip2
    // guest (wasi:cli and wasi:io only), all of it linked to the empty context.
    let imports = imports(runtime.engine(), &bytes);
    for expected in [
        "wasi:filesystem/types@",
        "wasi:filesystem/preopens@",
        "wasi:clocks/wall-clock@",
        "wasi:cli/environment@",
        "wasi:cli/stderr@",
        "wasi:io/streams@",
    ] {
        assert!(
            imports.iter().any(|name| name.starts_with(expected)),
            "no {expected}* import in {imports:?}"
        );
    }

    let log = prices_like_the_default(&runtime, &bytes).await;
    // The guest read the wall clock and an environment variable through the adapter on each
    // call and wrote what it saw to stderr: the host's frozen clock and empty environment.
    assert_eq!(log, "wasip1-pricing: clock 0 s, CINEFLOW_PROBE unset\n");
}

#[tokio::test]
async fn the_golden_0_1_0_pricing_component_still_loads_and_prices() {
    assert_eq!(
        sha256_hex(GOLDEN_PRICING_0_1_0),
        GOLDEN_PRICING_0_1_0_SHA256,
        "the golden component changed: it must never be rebuilt (tests/fixtures/components/README.md)"
    );
    let runtime = runtime();
    assert!(
        exports(runtime.engine(), GOLDEN_PRICING_0_1_0)
            .contains(&"cineflow:plugins/pricer@0.1.0".to_owned()),
        "built against 0.1.0"
    );
    // It imports WASI 0.2.6 (what rustc 1.95's wasip2 target links) while wasmtime-wasi 48
    // provides 0.2.12: imports, too, are matched on the semver track (`@0.2`). The
    // `cineflow:plugins/types` import is the types-only interface; the linker needs nothing for it.
    let imports = imports(runtime.engine(), GOLDEN_PRICING_0_1_0);
    for expected in [
        "cineflow:plugins/types@0.1.0",
        "wasi:cli/environment@0.2.6",
        "wasi:io/streams@0.2.6",
    ] {
        assert!(
            imports.iter().any(|name| name == expected),
            "no {expected} import in {imports:?}"
        );
    }
    let log = prices_like_the_default(&runtime, GOLDEN_PRICING_0_1_0).await;
    assert_eq!(log, "");
}

/// Host bindings generated from copies of the WIT with one change each, as a future host
/// would generate them (see tests/fixtures/wit-evolution/README.md).
mod evolved {
    #![allow(missing_docs)]

    /// 0.1.1: a new type, interface and world; world `pricing` unchanged.
    pub mod additive {
        wasmtime::component::bindgen!({
            path: "../tests/fixtures/wit-evolution/additive",
            world: "pricing",
            exports: { default: async },
        });
    }

    /// 0.1.1: the new world of `additive`, which old components do not implement.
    pub mod additive_new_world {
        wasmtime::component::bindgen!({
            path: "../tests/fixtures/wit-evolution/additive",
            world: "booking-fees",
            exports: { default: async },
        });
    }

    /// 0.1.1: `line-item` renamed `quote-line`, fields unchanged.
    pub mod renamed_type {
        wasmtime::component::bindgen!({
            path: "../tests/fixtures/wit-evolution/renamed-type",
            world: "pricing",
            exports: { default: async },
        });
    }

    /// 0.1.1: `quote-request` gains an optional field.
    pub mod new_field {
        wasmtime::component::bindgen!({
            path: "../tests/fixtures/wit-evolution/new-field",
            world: "pricing",
            exports: { default: async },
        });
    }

    /// 0.1.1: `seat-class` gains a case.
    pub mod new_enum_case {
        wasmtime::component::bindgen!({
            path: "../tests/fixtures/wit-evolution/new-enum-case",
            world: "pricing",
            exports: { default: async },
        });
    }

    /// 0.1.1: `pricer` gains a function.
    pub mod new_function {
        wasmtime::component::bindgen!({
            path: "../tests/fixtures/wit-evolution/new-function",
            world: "pricing",
            exports: { default: async },
        });
    }

    /// 0.2.0: nothing changed but the version.
    pub mod next_minor {
        wasmtime::component::bindgen!({
            path: "../tests/fixtures/wit-evolution/next-minor",
            world: "pricing",
            exports: { default: async },
        });
    }
}

/// A store for the evolved bindings: an empty WASI world, no limits.
struct Wasi {
    ctx: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Wasi {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

fn new_store(engine: &Engine) -> Store<Wasi> {
    Store::new(
        engine,
        Wasi {
            ctx: WasiCtx::builder().build(),
            table: ResourceTable::new(),
        },
    )
}

/// An engine, a WASI linker and the golden component, linked but not yet checked against a
/// world.
fn golden_linked() -> (Engine, wasmtime::component::InstancePre<Wasi>) {
    let engine = Engine::default();
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).expect("WASI links");
    let component = Component::new(&engine, GOLDEN_PRICING_0_1_0).expect("compiles");
    let pre = linker.instantiate_pre(&component).expect("imports resolve");
    (engine, pre)
}

/// The evolved bindings' `quote-request` for `req` (the WIT types are structurally the same
/// in every fixture that gets called).
macro_rules! quote_request_in {
    ($m:ident, $req:expr) => {{
        use bindings::cineflow::plugins::types as t;
        use evolved::$m as bindings;
        let req: &hook_io::QuoteRequest = $req;
        let class = |c: hook_io::SeatClass| match c {
            hook_io::SeatClass::Standard => t::SeatClass::Standard,
            hook_io::SeatClass::Premium => t::SeatClass::Premium,
            hook_io::SeatClass::Vip => t::SeatClass::Vip,
            hook_io::SeatClass::Accessible => t::SeatClass::Accessible,
        };
        let s = &req.show;
        bindings::exports::cineflow::plugins::pricer::QuoteRequest {
            show: t::ShowInfo {
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
                prices: s.prices.iter().map(|(c, p)| (class(*c), *p)).collect(),
                capacity: s.capacity,
                seats_sold: s.seats_sold,
            },
            seats: req
                .seats
                .iter()
                .map(|seat| t::Seat {
                    id: seat.id.clone(),
                    row: seat.row.clone(),
                    number: seat.number,
                    class: class(seat.class),
                })
                .collect(),
            customer: t::Customer {
                user_id: req.customer.user_id.clone(),
                email: req.customer.email.clone(),
                confirmed_bookings: req.customer.confirmed_bookings,
            },
            promo_code: req.promo_code.clone(),
            now_ms: req.now_ms,
        }
    }};
}

#[tokio::test]
async fn a_compatible_wit_change_keeps_the_golden_component_loading() {
    let (engine, pre) = golden_linked();
    let req = inputs::quote_request(4);

    // Bindings of 0.1.1 look for `cineflow:plugins/pricer@0.1.1`; wasmtime 48 matches the
    // component's `...@0.1.0` export on the semver track `@0.1`, then type-checks `quote`.
    let additive = evolved::additive::PricingPre::new(pre.clone())
        .expect("0.1.1 bindings accept a 0.1.0 component after an additive change");
    let mut store = new_store(&engine);
    let instance = additive
        .instantiate_async(&mut store)
        .await
        .expect("instantiates");
    let quote = instance
        .cineflow_plugins_pricer()
        .call_quote(&mut store, &quote_request_in!(additive, &req))
        .await
        .expect("no trap")
        .expect("priced");
    assert_eq!(quote.total_minor, 130_000);
    assert_eq!(quote.items.len(), 4);

    // A renamed type with the same structure still type-checks: wasmtime compares types by
    // structure (field names and types), not by their WIT names.
    let renamed = evolved::renamed_type::PricingPre::new(pre)
        .expect("a renamed record with the same fields is binary-compatible");
    let mut store = new_store(&engine);
    let instance = renamed
        .instantiate_async(&mut store)
        .await
        .expect("instantiates");
    let quote = instance
        .cineflow_plugins_pricer()
        .call_quote(&mut store, &quote_request_in!(renamed_type, &req))
        .await
        .expect("no trap")
        .expect("priced");
    assert_eq!(quote.total_minor, 130_000);
}

/// Where the evolved bindings `$pre` refuse the golden component, and wasmtime's message:
/// `("link", ..)` when `XPre::new` fails (export names are looked up there), `("instantiate", ..)`
/// when instantiating fails (exported functions are type-checked only then), `None` if neither.
macro_rules! refusal {
    ($pre:path, $linked:expr, $engine:expr) => {{
        match <$pre>::new($linked) {
            Err(e) => Some(("link", format!("{e:#}"))),
            Ok(pre) => {
                let mut store = new_store($engine);
                match pre.instantiate_async(&mut store).await {
                    Err(e) => Some(("instantiate", format!("{e:#}"))),
                    Ok(_) => None,
                }
            }
        }
    }};
}

#[tokio::test]
async fn an_incompatible_wit_change_refuses_the_golden_component() {
    let (engine, linked) = golden_linked();
    let refusals = [
        (
            "new world",
            refusal!(
                evolved::additive_new_world::BookingFeesPre<Wasi>,
                linked.clone(),
                &engine
            ),
        ),
        (
            "new field",
            refusal!(
                evolved::new_field::PricingPre<Wasi>,
                linked.clone(),
                &engine
            ),
        ),
        (
            "new enum case",
            refusal!(
                evolved::new_enum_case::PricingPre<Wasi>,
                linked.clone(),
                &engine
            ),
        ),
        (
            "new function",
            refusal!(
                evolved::new_function::PricingPre<Wasi>,
                linked.clone(),
                &engine
            ),
        ),
        (
            "next minor version",
            refusal!(evolved::next_minor::PricingPre<Wasi>, linked, &engine),
        ),
    ];
    for (change, refusal) in &refusals {
        eprintln!("{change}: {refusal:?}");
    }
    // What wasmtime 48 says, and when, so that docs/wit-versioning.md quotes it truthfully.
    let expected = [
        (
            "new world",
            "link",
            "no exported instance named `cineflow:plugins/fees@0.1.1`",
        ),
        (
            "new field",
            "instantiate",
            "expected record of 6 fields, found 5 fields",
        ),
        (
            "new enum case",
            "instantiate",
            "expected enum of 5 names, found 4 names",
        ),
        ("new function", "link", "does not have export `describe`"),
        (
            "next minor version",
            "link",
            "no exported instance named `cineflow:plugins/pricer@0.2.0`",
        ),
    ];
    for ((change, refusal), (name, stage, message)) in refusals.iter().zip(expected) {
        assert_eq!(*change, name);
        let (at, said) = refusal
            .as_ref()
            .unwrap_or_else(|| panic!("{change}: the 0.1.0 component was accepted"));
        assert_eq!(*at, stage, "{change}: refused at {at}: {said}");
        assert!(
            said.contains(message),
            "{change}: expected `{message}` in: {said}"
        );
    }
}

#[tokio::test]
async fn the_golden_0_1_0_booking_rules_component_still_loads_and_is_called() {
    assert_eq!(
        sha256_hex(GOLDEN_BOOKING_RULES_0_1_0),
        GOLDEN_BOOKING_RULES_0_1_0_SHA256,
        "the golden component changed: it must never be rebuilt (tests/fixtures/components/README.md)"
    );
    let runtime = runtime();
    assert!(
        exports(runtime.engine(), GOLDEN_BOOKING_RULES_0_1_0)
            .contains(&"cineflow:plugins/rules@0.1.0".to_owned()),
        "built against 0.1.0"
    );
    let loaded = runtime
        .load(Hook::BookingRules, GOLDEN_BOOKING_RULES_0_1_0)
        .await
        .expect("a 0.1.0 component loads through the 0.1 bindings");
    // The host's 0.2.0 request says the customer holds 10 seats of the show already; a 0.1.0
    // component is not told (the field does not exist for it) and allows the hold.
    let mut req = inputs::hold_request(1);
    req.customer_holds.show_seats = 10;
    req.customer_holds.chain_seats = 10;
    let called = runtime
        .check_hold(Tenant::Platform, &loaded, &req)
        .await
        .expect("the call succeeds");
    assert_eq!(called.output.expect("allowed").hold_seconds, 600);
    // Its own rules still apply: at most 10 seats per booking.
    let refused = runtime
        .check_hold(Tenant::Platform, &loaded, &inputs::hold_request(11))
        .await
        .expect("the call succeeds");
    assert!(
        refused
            .output
            .expect_err("refused")
            .contains("at most 10 seats")
    );
    let cancel = runtime
        .cancel(
            Tenant::Platform,
            &loaded,
            &inputs::cancel_request(50_000, 48),
        )
        .await
        .expect("the call succeeds");
    assert_eq!(cancel.output, Ok(50_000));

    // The current default, built against 0.3.0, caps the same request.
    let current = runtime
        .load(Hook::BookingRules, &component("booking-rules.wasm"))
        .await
        .expect("the default loads");
    assert!(
        exports(runtime.engine(), &component("booking-rules.wasm"))
            .contains(&"cineflow:plugins/rules@0.3.0".to_owned()),
        "the default is built against 0.3.0"
    );
    let capped = runtime
        .check_hold(Tenant::Platform, &current, &req)
        .await
        .expect("the call succeeds");
    assert!(
        capped
            .output
            .expect_err("capped")
            .contains("may hold at most 10"),
    );
}

/// The default booking rules as built against 0.2.0 (before 0.2.1 added the seat-picker
/// world; tests/fixtures/components/README.md).
const GOLDEN_BOOKING_RULES_0_2_0: &[u8] =
    include_bytes!("../fixtures/components/booking-rules-0.2.0.wasm");
const GOLDEN_BOOKING_RULES_0_2_0_SHA256: &str =
    "50f632aec370bad9ee6b2e7117b06ae81b664c9292f10c79aeb41c1ecf4bb1cf";

#[tokio::test]
async fn the_golden_0_2_0_booking_rules_component_loads_on_the_0_3_host_and_is_told_the_holds() {
    assert_eq!(
        sha256_hex(GOLDEN_BOOKING_RULES_0_2_0),
        GOLDEN_BOOKING_RULES_0_2_0_SHA256,
        "the golden component changed: it must never be rebuilt (tests/fixtures/components/README.md)"
    );
    let runtime = runtime();
    assert!(
        exports(runtime.engine(), GOLDEN_BOOKING_RULES_0_2_0)
            .contains(&"cineflow:plugins/rules@0.2.0".to_owned()),
        "built against 0.2.0"
    );
    // The host's 0.2 bindings (`wit/v0.2/`, at 0.2.1) find `rules@0.2.0` on the 0.2 track.
    let loaded = runtime
        .load(Hook::BookingRules, GOLDEN_BOOKING_RULES_0_2_0)
        .await
        .expect("a 0.2.0 component loads through the 0.2 bindings");
    let allowed = runtime
        .check_hold(Tenant::Platform, &loaded, &inputs::hold_request(1))
        .await
        .expect("the call succeeds");
    assert_eq!(allowed.output.expect("allowed").hold_seconds, 600);
    // Unlike a 0.1.0 component it is given `customer-holds`, and caps on it.
    let mut req = inputs::hold_request(1);
    req.customer_holds.show_seats = 10;
    req.customer_holds.chain_seats = 10;
    let capped = runtime
        .check_hold(Tenant::Platform, &loaded, &req)
        .await
        .expect("the call succeeds");
    assert!(
        capped
            .output
            .expect_err("capped")
            .contains("may hold at most 10"),
    );
}
