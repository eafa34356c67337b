//! `bindgen!` of the notify-templates world, current and 0.1.0 (unchanged in 0.2 but for the
//! version).
#![allow(missing_docs)]

/// World `notify-templates` at the current version.
pub(crate) mod current {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "notify-templates",
        exports: { default: async },
    });
}

/// World `notify-templates` at 0.1.0 (`wit/v0.1/`).
pub(crate) mod v0_1 {
    wasmtime::component::bindgen!({
        path: "../wit/v0.1",
        world: "notify-templates",
        exports: { default: async },
    });
}

/// World `notify-templates` at 0.2 (`wit/v0.2/`, 0.2.0 and 0.2.1 alike on wasmtime's semver track).
pub(crate) mod v0_2 {
    wasmtime::component::bindgen!({
        path: "../wit/v0.2",
        world: "notify-templates",
        exports: { default: async },
    });
}
