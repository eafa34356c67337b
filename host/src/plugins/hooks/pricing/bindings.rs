//! `bindgen!` of the pricing world, current and 0.1.0 (unchanged in 0.2 but for the version);
//! both share the `types` interface of booking-rules.
#![allow(missing_docs)]

/// World `pricing` at the current version.
pub(crate) mod current {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "pricing",
        exports: { default: async },
        with: {
            "cineflow:plugins/types": crate::plugins::hooks::booking_rules::bindings::current::cineflow::plugins::types,
        },
    });
}

/// World `pricing` at 0.1.0 (`wit/v0.1/`).
pub(crate) mod v0_1 {
    wasmtime::component::bindgen!({
        path: "../wit/v0.1",
        world: "pricing",
        exports: { default: async },
        with: {
            "cineflow:plugins/types": crate::plugins::hooks::booking_rules::bindings::current::cineflow::plugins::types,
        },
    });
}

/// World `pricing` at 0.2 (`wit/v0.2/`, 0.2.0 and 0.2.1 alike on wasmtime's semver track).
pub(crate) mod v0_2 {
    wasmtime::component::bindgen!({
        path: "../wit/v0.2",
        world: "pricing",
        exports: { default: async },
        with: {
            "cineflow:plugins/types": crate::plugins::hooks::booking_rules::bindings::current::cineflow::plugins::types,
        },
    });
}
