//! The platform's default components: one per hook, read at start-up from the components
//! directory (filled by `scripts/build-components.sh`), stored content-addressed in
//! PostgreSQL like any upload, and linked into the runtime.
//!
//! Why a directory rather than `include_bytes!`: the host builds without the wasm target,
//! operators can ship patched defaults without rebuilding the host, and the database copy
//! keeps every version ever used for audit and rollback.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use futures_util::future::BoxFuture;

use crate::plugins::{Hook, LoadedComponent, PluginRuntime};

/// Where the defaults are stored once checked (content-addressed, like any upload, and named
/// the platform's default of their hook); the domain's components service implements it.
pub trait DefaultsStore: Send + Sync {
    /// Stores `bytes` (sha256 `id`) as the platform default of `hook`.
    fn store_default<'a>(
        &'a self,
        hook: Hook,
        id: &'a str,
        bytes: &'a [u8],
    ) -> BoxFuture<'a, anyhow::Result<()>>;
}

/// The default component of every hook.
#[derive(Debug, Clone)]
pub struct PlatformDefaults {
    by_hook: BTreeMap<Hook, Arc<LoadedComponent>>,
}

impl PlatformDefaults {
    /// The default for `hook`.
    pub fn get(&self, hook: Hook) -> Option<&Arc<LoadedComponent>> {
        self.by_hook.get(&hook)
    }
}

/// File name of a hook's default component.
pub fn file_name(hook: Hook) -> String {
    format!("{}.wasm", hook.as_str())
}

/// Reads, checks, stores and links the three defaults. Any failure stops start-up: a host
/// without its defaults cannot price or book anything.
pub async fn load(
    dir: &Path,
    runtime: &PluginRuntime,
    store: &dyn DefaultsStore,
) -> anyhow::Result<PlatformDefaults> {
    let mut by_hook = BTreeMap::new();
    for hook in Hook::ALL {
        let path = dir.join(file_name(hook));
        let bytes = tokio::fs::read(&path).await.with_context(|| {
            format!(
                "default {hook} component not found at {} (run scripts/build-components.sh or set CINEFLOW_COMPONENTS_DIR)",
                path.display()
            )
        })?;
        let loaded = runtime
            .load(hook, &bytes)
            .await
            .with_context(|| format!("default {hook} component {} is unusable", path.display()))?;
        store.store_default(hook, &loaded.id, &bytes).await?;
        tracing::info!(%hook, sha256 = %loaded.id, size = loaded.size_bytes, "default component ready");
        by_hook.insert(hook, loaded);
    }
    Ok(PlatformDefaults { by_hook })
}
