//! `bindgen!` of the booking-rules world, current and 0.1.0. The current world also owns the
//! Rust types of the shared `cineflow:plugins/types` interface, which every other world (and
//! every older version, whose `types` are structurally the same) reuses.
#![allow(missing_docs)]

/// World `booking-rules` at the current version.
pub(crate) mod current {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "booking-rules",
        exports: { default: async },
    });
}

/// World `booking-rules` at 0.1.0 (`wit/v0.1/`): `hold-request` without `customer-holds`.
pub(crate) mod v0_1 {
    wasmtime::component::bindgen!({
        path: "../wit/v0.1",
        world: "booking-rules",
        exports: { default: async },
        with: {
            "cineflow:plugins/types": super::current::cineflow::plugins::types,
        },
    });
}

/// World `booking-rules` at 0.2 (`wit/v0.2/`, 0.2.0 and 0.2.1 alike on wasmtime's semver track).
pub(crate) mod v0_2 {
    wasmtime::component::bindgen!({
        path: "../wit/v0.2",
        world: "booking-rules",
        exports: { default: async },
        with: {
            "cineflow:plugins/types": super::current::cineflow::plugins::types,
        },
    });
}
