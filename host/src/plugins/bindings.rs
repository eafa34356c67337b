//! The only `bindgen!` of the host: one module per world. Exports are async so a call can
//! yield to the executor (fuel and epoch yields) instead of blocking a tokio worker.
#![allow(missing_docs)]

/// World `booking-rules`.
pub(crate) mod booking_rules {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "booking-rules",
        exports: { default: async },
    });
}

/// World `pricing`; shares the `types` interface with booking-rules.
pub(crate) mod pricing {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "pricing",
        exports: { default: async },
        with: {
            "cineflow:plugins/types": super::booking_rules::cineflow::plugins::types,
        },
    });
}

/// World `seat-picker` (new in 0.2.1); shares the `types` interface with booking-rules.
pub(crate) mod seat_picker {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "seat-picker",
        exports: { default: async },
        with: {
            "cineflow:plugins/types": super::booking_rules::cineflow::plugins::types,
        },
    });
}

/// World `notify-templates`.
pub(crate) mod notify_templates {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "notify-templates",
        exports: { default: async },
    });
}

/// The frozen `cineflow:plugins@0.1.0` contract (`wit/v0.1/`), for components built against
/// it (docs/wit-versioning.md). Its `types` interface is the same as 0.2.0's, so it reuses
/// those Rust types (the component model compares types by structure, not by name).
pub(crate) mod v0_1 {
    /// World `booking-rules` at 0.1.0: `hold-request` without `customer-holds`.
    pub(crate) mod booking_rules {
        wasmtime::component::bindgen!({
            path: "../wit/v0.1",
            world: "booking-rules",
            exports: { default: async },
            with: {
                "cineflow:plugins/types": crate::plugins::bindings::booking_rules::cineflow::plugins::types,
            },
        });
    }

    /// World `pricing` at 0.1.0 (unchanged in 0.2.0 but for the version).
    pub(crate) mod pricing {
        wasmtime::component::bindgen!({
            path: "../wit/v0.1",
            world: "pricing",
            exports: { default: async },
            with: {
                "cineflow:plugins/types": crate::plugins::bindings::booking_rules::cineflow::plugins::types,
            },
        });
    }

    /// World `notify-templates` at 0.1.0 (unchanged in 0.2.0 but for the version).
    pub(crate) mod notify_templates {
        wasmtime::component::bindgen!({
            path: "../wit/v0.1",
            world: "notify-templates",
            exports: { default: async },
        });
    }
}
