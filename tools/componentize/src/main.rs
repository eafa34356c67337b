//! `componentize <core-module.wasm> <component.wasm>`: wraps a wasm32-wasip1 core module
//! (built with wit-bindgen, so it carries its WIT world in a `component-type` custom section)
//! into a component, adapting its `wasi_snapshot_preview1` imports to WASI 0.2 with the
//! preview1 *reactor* adapter. That is what `cargo component build` does after compiling for
//! wasm32-wasip1; this tool exists so the host can be tested against such components without
//! installing cargo-component.
//!
//! The adapter comes from `wasi-preview1-component-adapter-provider`, released with wasmtime
//! and pinned to the same major version as the host's wasmtime.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wit_component::ComponentEncoder;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        eprintln!("usage: componentize <core-module.wasm> <component.wasm>");
        return ExitCode::from(2);
    };
    match run(Path::new(input), Path::new(output)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("componentize: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(input: &Path, output: &Path) -> anyhow::Result<()> {
    let module = std::fs::read(input).with_context(|| format!("reading {}", input.display()))?;
    let component = componentize(&module)
        .with_context(|| format!("making a component of {}", input.display()))?;
    std::fs::write(output, component).with_context(|| format!("writing {}", output.display()))
}

/// The component of `module`, validated.
fn componentize(module: &[u8]) -> anyhow::Result<Vec<u8>> {
    ComponentEncoder::default()
        .validate(true)
        .module(module)?
        .adapter(
            WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
            WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )?
        .encode()
}
