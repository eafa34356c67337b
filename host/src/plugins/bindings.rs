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

/// World `notify-templates`.
pub(crate) mod notify_templates {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "notify-templates",
        exports: { default: async },
    });
}
