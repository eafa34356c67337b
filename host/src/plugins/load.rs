//! Loading a component: the size cap, the sniff (a component, not a core module), compiling
//! (through the artifact cache, one compile at a time per replica and per chain, under a
//! timeout), linking for the hook, and the probe instantiation that checks its world.

use std::sync::Arc;

use wasmtime::component::Component;

use super::{
    LoadError, LoadedComponent, PluginRuntime, Tenant, hook::Hook, hooks, metrics, sha256_hex,
    store,
};

/// How long a compilation may take before the upload is refused (the compile itself runs
/// on and keeps its permit until it ends; it cannot be interrupted).
pub const COMPILE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Frees a chain's compile mark when its compile ends (it travels into the blocking task, so
/// a compile whose upload timed out still counts against the chain until it is done).
struct CompileMark {
    set: Arc<std::sync::Mutex<std::collections::HashSet<uuid::Uuid>>>,
    chain: Option<uuid::Uuid>,
}

impl Drop for CompileMark {
    fn drop(&mut self) {
        if let Some(chain) = self.chain {
            self.set
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&chain);
        }
    }
}

impl PluginRuntime {
    /// Checks `bytes` and makes them callable as `hook`, for the platform (defaults, bindings
    /// being followed, the local runner). See [`PluginRuntime::load_for`].
    pub async fn load(&self, hook: Hook, bytes: &[u8]) -> Result<Arc<LoadedComponent>, LoadError> {
        self.load_for(Tenant::Platform, hook, bytes).await
    }

    /// Checks `bytes` and makes them callable as `hook`. Loading the same bytes for the same
    /// hook again returns the already linked component. A chain compiles one component at a
    /// time (a second upload meanwhile is [`LoadError::Busy`]), and a compilation that takes
    /// longer than [`COMPILE_TIMEOUT`] is refused while it runs on, still counted.
    pub async fn load_for(
        &self,
        tenant: Tenant,
        hook: Hook,
        bytes: &[u8],
    ) -> Result<Arc<LoadedComponent>, LoadError> {
        let limits = self.limits(hook);
        let size = bytes.len() as u64;
        if size > limits.max_component_bytes {
            return Err(LoadError::TooLarge {
                size,
                limit: limits.max_component_bytes,
            });
        }
        sniff(bytes)?;
        let id = sha256_hex(bytes);
        if let Some(hit) = self.cached(&id, hook) {
            return Ok(hit);
        }
        let chain = match tenant {
            Tenant::Chain(chain) => Some(chain),
            Tenant::Platform => None,
        };
        if let Some(chain) = chain
            && !self
                .compiling_for
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(chain)
        {
            return Err(LoadError::Busy(
                "this chain already has a component compiling on this replica".to_owned(),
            ));
        }
        let mark = CompileMark {
            set: self.compiling_for.clone(),
            chain,
        };
        // One compilation at a time per replica: a component asked for twice at once (an
        // upload's precompile racing a bind's reload) is compiled once, the second caller
        // finds it loaded.
        let permit = self
            .compiling
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| LoadError::Invalid("the compiler is shut down".to_owned()))?;
        if let Some(hit) = self.cached(&id, hook) {
            return Ok(hit);
        }
        let engine = self.engine.clone();
        let cache = self.cache.clone();
        let owned = bytes.to_vec();
        let sha = id.clone();
        // Compiling is CPU-bound for tens of milliseconds: keep it off the async workers.
        let compile = tokio::task::spawn_blocking(move || {
            let (_permit, _mark) = (permit, mark);
            cache.load_or_compile(&engine, &sha, &owned)
        });
        let (component, how) = tokio::time::timeout(COMPILE_TIMEOUT, compile)
            .await
            .map_err(|_| {
                LoadError::Invalid(format!(
                    "compilation took longer than {} s",
                    COMPILE_TIMEOUT.as_secs()
                ))
            })?
            .map_err(|e| LoadError::Invalid(format!("compilation was interrupted: {e}")))?
            .map_err(|e| LoadError::Invalid(format!("{e:#}")))?;
        metrics::record_load(hook, how);
        let pre = self.link(hook, &component)?;
        // The probe instantiates, so it needs a slot of the pool like any call.
        let _slot = self.share.pool_slot().await;
        let mut store = store::new_store(&self.engine, &limits)
            .map_err(|e| LoadError::Invalid(format!("{e:#}")))?;
        pre.probe(&mut store)
            .await
            .map_err(|e| LoadError::WrongWorld {
                hook,
                world: hook.world(),
                reason: format!("{e:#}"),
            })?;
        drop(store);
        let loaded = Arc::new(LoadedComponent {
            id: id.clone(),
            hook,
            size_bytes: size,
            pre,
        });
        let mut map = self.loaded.write().unwrap_or_else(|e| e.into_inner());
        Ok(map.entry((id, hook)).or_insert(loaded).clone())
    }

    fn link(&self, hook: Hook, component: &Component) -> Result<hooks::HookPre, LoadError> {
        let instance_pre = self
            .linker
            .instantiate_pre(component)
            .map_err(|e| LoadError::UnsupportedImports(format!("{e:#}")))?;
        hooks::HookPre::new(hook, instance_pre).map_err(|e| LoadError::WrongWorld {
            hook,
            world: hook.world(),
            reason: format!("{e:#}"),
        })
    }
}

/// Components start with `\0asm` and a layer/version word: `0d 00 01 00` for a component,
/// `01 00 00 00` for a core module.
fn sniff(bytes: &[u8]) -> Result<(), LoadError> {
    match bytes.get(..8) {
        Some([0x00, 0x61, 0x73, 0x6d, _, _, 0x01, 0x00]) => Ok(()),
        Some([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]) => Err(LoadError::CoreModule),
        _ => Err(LoadError::NotWasm),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniff_tells_components_from_core_modules() {
        assert!(sniff(&[0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0]).is_ok());
        assert!(matches!(
            sniff(&[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]),
            Err(LoadError::CoreModule)
        ));
        assert!(matches!(sniff(b"hello world"), Err(LoadError::NotWasm)));
        assert!(matches!(sniff(b""), Err(LoadError::NotWasm)));
    }
}
