//! `POST /chains/{id}/components`: what an uploaded component goes through before it is
//! stored. `PluginRuntime::load` (size cap, magic/layer sniff, sha256, wasmtime validation and
//! Cranelift compile, linking against the host's WASI, the world's type check, a probe
//! instantiation), then, for what loads, every fixture of the hook under the sandbox limits.
//! Never panics; a refusal is a `LoadError` or a fixture report, never a crash.
#![no_main]

use std::sync::OnceLock;

use cineflow::plugins::fixtures;
use cineflow::plugins::{Hook, Limits, LoadError, PluginRuntime, RuntimeConfig};
use libfuzzer_sys::fuzz_target;
use tokio::runtime::Runtime;

struct Harness {
    tokio: Runtime,
    plugins: PluginRuntime,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let mut config = RuntimeConfig::uniform(Limits::default(), None);
        // One call at a time here: a small pool keeps the fuzzer's address space modest.
        config.max_concurrent_calls = 4;
        let plugins = PluginRuntime::new(config).expect("plugin runtime");
        Harness { tokio, plugins }
    })
}

/// The hook an upload names is not in its bytes; guess it from the export names so that
/// mutated real components reach linking and the fixtures instead of stopping at the world.
fn hook_for(data: &[u8]) -> Hook {
    let has = |needle: &[u8]| data.windows(needle.len()).any(|w| w == needle);
    if has(b"plugins/rules@") {
        Hook::BookingRules
    } else if has(b"plugins/templates@") {
        Hook::NotifyTemplates
    } else {
        Hook::Pricing
    }
}

fuzz_target!(|data: &[u8]| {
    let h = harness();
    let hook = hook_for(data);
    h.tokio.block_on(async {
        match h.plugins.load(hook, data).await {
            Ok(component) => {
                assert_eq!(component.hook, hook);
                assert_eq!(component.size_bytes, data.len() as u64);
                assert_eq!(component.id, cineflow::plugins::sha256_hex(data));
                if let Ok(report) = fixtures::run(&h.plugins, cineflow::plugins::Tenant::Platform, &component).await {
                    assert!(report.passed > 0);
                }
                // Uploads that fail their fixtures are forgotten; here every one is, so
                // memory stays flat over millions of inputs.
                h.plugins.forget(&component.id, hook);
            }
            Err(LoadError::TooLarge { size, limit }) => assert!(size > limit),
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    });
});
