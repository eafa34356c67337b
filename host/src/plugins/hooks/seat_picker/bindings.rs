//! `bindgen!` of the seat-picker world, current and 0.2 (the hook is new in 0.2.1, so it has no
//! older version); both share the `types` interface of booking-rules.
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

/// World `seat-picker` at 0.2.1 (`wit/v0.2/`).
pub(crate) mod v0_2 {
    wasmtime::component::bindgen!({
        path: "../wit/v0.2",
        world: "seat-picker",
        exports: { default: async },
        with: {
            "cineflow:plugins/types": crate::plugins::hooks::booking_rules::bindings::current::cineflow::plugins::types,
        },
    });
}
