//! `bindgen!` of the seat-picker world (new in 0.2.1, so it has no older version); it shares
//! the `types` interface of booking-rules.
#![allow(missing_docs)]

/// World `seat-picker` at the current version.
pub(crate) mod current {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "seat-picker",
        exports: { default: async },
        with: {
            "cineflow:plugins/types": crate::plugins::hooks::booking_rules::bindings::current::cineflow::plugins::types,
        },
    });
}
