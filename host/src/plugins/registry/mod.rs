//! Which component serves each chain's hook, on this replica: the chain's binding (loaded
//! from PostgreSQL, compiled once per replica thanks to the artifact cache) or the platform
//! default. Bindings change atomically — a call holds an `Arc` to the component it started
//! with, so calls in flight finish on the old version — and reach every replica through
//! LISTEN/NOTIFY (`cineflow_bindings`, fired by a trigger on `bindings`), with a periodic
//! reconcile as a safety net.
//!
//! Calls go through [`ComponentRegistry::call`], which applies the binding's failure policy
//! (`reject`: the failure is the answer; `fallback`: the platform default answers instead),
//! counts consecutive failures and trips the breaker after too many (the binding then serves
//! the default until it is bound again; the trip is stored, audited and seen by all replicas).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde_json::json;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::db::bindings as db;
use crate::defaults::PlatformDefaults;
use crate::plugins::stats::ComponentStats;
use crate::plugins::{
    CallError, CallStats, Called, FailureKind, Hook, LoadedComponent, PluginRuntime, Tenant,
};

/// The NOTIFY channel of binding changes (payload: the chain id).
pub const CHANNEL: &str = "cineflow_bindings";

/// The NOTIFY channel of uploads (payload: `<hook>:<sha256>`): every replica compiles the
/// component ahead of a binding, so a later switch costs no compilation anywhere.
pub const UPLOADS_CHANNEL: &str = "cineflow_component_uploads";

/// What happens when a bound component fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// The failure is the answer (503 for bookings): no seat is sold on a broken rule.
    Reject,
    /// The platform default answers instead.
    Fallback,
}

impl OnFailure {
    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            OnFailure::Reject => "reject",
            OnFailure::Fallback => "fallback",
        }
    }

    /// Parses the stored and API name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "reject" => Some(OnFailure::Reject),
            "fallback" => Some(OnFailure::Fallback),
            _ => None,
        }
    }

    /// The policy of a binding that does not say: templates fall back (the email still goes
    /// out), and so does the seat-picker (the default's seats are checked like any pick, and a
    /// customer still gets seats); pricing and booking rules fail closed.
    pub fn default_for(hook: Hook) -> Self {
        match hook {
            Hook::NotifyTemplates | Hook::SeatPicker => OnFailure::Fallback,
            Hook::Pricing | Hook::BookingRules => OnFailure::Reject,
        }
    }
}

#[derive(Clone)]
struct Active {
    /// `None` when the bound component does not load on this replica (`broken` says why).
    component: Option<Arc<LoadedComponent>>,
    component_id: String,
    broken: Option<String>,
    on_failure: OnFailure,
    tripped: bool,
}

/// The component a call will use.
#[derive(Clone)]
pub struct Resolved {
    /// The component.
    pub component: Arc<LoadedComponent>,
    /// The chain's binding policy, or `None` when this is the platform default.
    pub bound: Option<OnFailure>,
}

/// A successful call and which component gave the answer.
#[derive(Debug)]
pub struct Answered<T> {
    /// The answer.
    pub called: Called<T>,
    /// The component that answered.
    pub component: Arc<LoadedComponent>,
    /// True when the bound component failed and the default answered (policy `fallback`).
    pub fell_back: bool,
}

/// Settings of the registry.
#[derive(Debug, Clone, Copy)]
pub struct RegistrySettings {
    /// Consecutive failures of a bound component that trip its breaker.
    pub breaker_failures: u32,
    /// How often every binding is re-read, in case a notification was missed.
    pub reconcile_every: Duration,
    /// What one chain may store.
    pub quota: ComponentQuota,
}

impl Default for RegistrySettings {
    fn default() -> Self {
        Self {
            breaker_failures: 5,
            reconcile_every: Duration::from_secs(30),
            quota: ComponentQuota::default(),
        }
    }
}

/// What one chain may store: uploads past it are 409 `quota_exceeded` (earlier versions stay
/// for rollback, so a chain that uploads on every change reaches it and must clean up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComponentQuota {
    /// Components (`CINEFLOW_CHAIN_MAX_COMPONENTS`).
    pub max_components: u32,
    /// Their bytes together (`CINEFLOW_CHAIN_COMPONENT_BYTES`).
    pub max_bytes: u64,
}

impl Default for ComponentQuota {
    fn default() -> Self {
        Self {
            max_components: 50,
            max_bytes: 64 * 1024 * 1024,
        }
    }
}

impl ComponentQuota {
    /// Why one more component of `size` bytes does not fit beside `count` components of
    /// `bytes` bytes, if it does not.
    pub fn refuses(&self, count: i64, bytes: i64, size: u64) -> Option<String> {
        let count = u64::try_from(count).unwrap_or(0);
        let bytes = u64::try_from(bytes).unwrap_or(0);
        if count >= u64::from(self.max_components) {
            return Some(format!(
                "the chain already stores {count} components; the quota is {}",
                self.max_components
            ));
        }
        if bytes.saturating_add(size) > self.max_bytes {
            return Some(format!(
                "the chain's components take {bytes} bytes; {size} more would pass the quota of {}",
                self.max_bytes
            ));
        }
        None
    }
}

/// This replica's view of every chain's bindings.
pub struct ComponentRegistry {
    db: PgPool,
    plugins: Arc<PluginRuntime>,
    defaults: Arc<PlatformDefaults>,
    settings: RegistrySettings,
    active: RwLock<HashMap<(Uuid, Hook), Active>>,
    failures: Mutex<HashMap<(Uuid, Hook), u32>>,
    /// Reloads read and swap under this lock, so a reload that read older rows can never
    /// install them over a newer one's.
    reloading: tokio::sync::Mutex<()>,
    /// Call statistics per chain and component.
    pub stats: ComponentStats,
}

impl ComponentRegistry {
    /// An empty registry; call [`ComponentRegistry::reload_all`] before serving.
    pub fn new(
        db: PgPool,
        plugins: Arc<PluginRuntime>,
        defaults: Arc<PlatformDefaults>,
        settings: RegistrySettings,
    ) -> Self {
        Self {
            db,
            plugins,
            defaults,
            settings,
            active: RwLock::default(),
            failures: Mutex::default(),
            reloading: tokio::sync::Mutex::new(()),
            stats: ComponentStats::default(),
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> &RegistrySettings {
        &self.settings
    }

    /// The platform default of `hook`.
    pub fn default_for(&self, hook: Hook) -> Option<Arc<LoadedComponent>> {
        self.defaults.get(hook).cloned()
    }

    /// The component that serves `hook` for `chain` right now.
    pub fn resolve(&self, chain: Uuid, hook: Hook) -> Option<Resolved> {
        let active = self
            .active
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(chain, hook))
            .cloned();
        match active {
            Some(Active {
                component: Some(component),
                on_failure,
                tripped: false,
                ..
            }) => Some(Resolved {
                component,
                bound: Some(on_failure),
            }),
            _ => self.default_for(hook).map(|component| Resolved {
                component,
                bound: None,
            }),
        }
    }

    /// Calls `chain`'s component for `hook` with `call`, applying the binding's failure
    /// policy and breaker. `None` inside the error means no component exists at all. `call`
    /// gets the component and whose fair share the call counts against: the chain's, except
    /// when the chain was over its share and its binding falls back to the default.
    pub async fn call<T, F, Fut>(
        &self,
        chain: Uuid,
        hook: Hook,
        call: F,
    ) -> Result<Answered<T>, Option<CallError>>
    where
        F: Fn(Arc<LoadedComponent>, Tenant) -> Fut,
        Fut: Future<Output = Result<Called<T>, CallError>>,
    {
        if let Some(refusal) = self.refusal(chain, hook) {
            return Err(Some(refusal));
        }
        let resolved = self.resolve(chain, hook).ok_or(None)?;
        let tenant = Tenant::Chain(chain);
        let first = call(resolved.component.clone(), tenant).await;
        self.record(chain, &resolved.component, &first);
        let Some(policy) = resolved.bound else {
            return first
                .map(|called| Answered {
                    called,
                    component: resolved.component,
                    fell_back: false,
                })
                .map_err(Some);
        };
        match first {
            Ok(called) => {
                self.succeeded(chain, hook);
                Ok(Answered {
                    called,
                    component: resolved.component,
                    fell_back: false,
                })
            }
            Err(e) => {
                self.failed(chain, hook, &resolved.component, &e).await;
                if policy == OnFailure::Reject {
                    return Err(Some(e));
                }
                // Over its share, a falling-back chain is answered by the platform's own
                // component on the platform's slots: the default is cheap and well behaved,
                // and the chain's share is what refused it.
                let tenant = if e.kind == FailureKind::Busy {
                    Tenant::Platform
                } else {
                    tenant
                };
                let default = self.default_for(hook).ok_or(Some(e))?;
                let second = call(default.clone(), tenant).await;
                self.record(chain, &default, &second);
                second
                    .map(|called| Answered {
                        called,
                        component: default,
                        fell_back: true,
                    })
                    .map_err(Some)
            }
        }
    }

    /// A bound component that does not load on this replica, under `reject`: the call fails
    /// closed rather than quietly using the default (under `fallback` the default serves).
    fn refusal(&self, chain: Uuid, hook: Hook) -> Option<CallError> {
        let active = self.active.read().unwrap_or_else(|e| e.into_inner());
        let a = active.get(&(chain, hook))?;
        if a.component.is_some() || a.tripped || a.on_failure != OnFailure::Reject {
            return None;
        }
        Some(CallError {
            hook,
            component: a.component_id.clone(),
            kind: FailureKind::Unavailable,
            message: format!(
                "the bound component does not load on this replica: {}",
                a.broken.as_deref().unwrap_or("unknown reason")
            ),
            stats: CallStats::default(),
            log: String::new(),
            retry_after: None,
        })
    }

    fn record<T>(
        &self,
        chain: Uuid,
        component: &LoadedComponent,
        result: &Result<Called<T>, CallError>,
    ) {
        match result {
            Ok(c) => self.stats.record(chain, &component.id, &c.stats, None),
            Err(e) => self
                .stats
                .record(chain, &component.id, &e.stats, Some(e.kind.as_str())),
        }
    }

    fn succeeded(&self, chain: Uuid, hook: Hook) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(&(chain, hook));
    }

    /// Counts a failure of a bound component; the Nth in a row trips the breaker. A full
    /// instance pool or an oversized input is the host's state, not the component's fault.
    async fn failed(&self, chain: Uuid, hook: Hook, component: &LoadedComponent, e: &CallError) {
        if matches!(
            e.kind,
            FailureKind::Unavailable | FailureKind::InputTooLarge | FailureKind::Busy
        ) {
            return;
        }
        let count = {
            let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
            let count = failures.entry((chain, hook)).or_default();
            *count += 1;
            *count
        };
        if count < self.settings.breaker_failures {
            return;
        }
        let reason = format!(
            "{count} failures in a row; the last: {} ({})",
            e.kind.as_str(),
            e.message.chars().take(300).collect::<String>()
        );
        if let Err(err) = self.trip(chain, hook, &component.id, &reason).await {
            tracing::warn!(error = %err, %chain, %hook, "could not record the breaker trip; will retry on the next failure");
        }
    }

    async fn trip(
        &self,
        chain: Uuid,
        hook: Hook,
        component: &str,
        reason: &str,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.db.begin().await?;
        if db::trip(&mut tx, chain, hook.as_str(), component, reason).await? {
            db::audit(
                &mut tx,
                chain,
                "breaker-tripped",
                hook.as_str(),
                Some(component),
                None,
                json!({ "reason": reason }),
            )
            .await?;
            tx.commit().await?;
            metrics::counter!("cineflow_component_breaker_trips_total", "hook" => hook.as_str())
                .increment(1);
            tracing::warn!(%chain, %hook, component, reason, "breaker tripped: the chain's calls go to the platform default until it binds again");
        }
        // In force here at once; other replicas follow the notification.
        if let Some(active) = self
            .active
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(&(chain, hook))
            && active.component_id == component
        {
            active.tripped = true;
        }
        self.succeeded(chain, hook);
        Ok(())
    }

    /// Re-reads `chain`'s bindings and swaps them in.
    pub async fn reload_chain(&self, chain: Uuid) -> anyhow::Result<()> {
        let _serial = self.reloading.lock().await;
        let rows = {
            let mut conn = self.db.acquire().await?;
            db::bindings(&mut conn, chain).await?
        };
        let loaded = self.load(&rows).await?;
        let mut active = self.active.write().unwrap_or_else(|e| e.into_inner());
        active.retain(|(c, _), _| *c != chain);
        active.extend(loaded);
        Ok(())
    }

    /// Re-reads every binding and swaps the whole table in.
    pub async fn reload_all(&self) -> anyhow::Result<()> {
        let _serial = self.reloading.lock().await;
        let rows = {
            let mut conn = self.db.acquire().await?;
            db::all_bindings(&mut conn).await?
        };
        let loaded = self.load(&rows).await?;
        *self.active.write().unwrap_or_else(|e| e.into_inner()) = loaded;
        Ok(())
    }

    async fn load(&self, rows: &[db::Binding]) -> anyhow::Result<HashMap<(Uuid, Hook), Active>> {
        let mut out = HashMap::with_capacity(rows.len());
        for row in rows {
            let Ok(hook) = row.hook.parse::<Hook>() else {
                continue;
            };
            let loaded = match self.plugins.cached(&row.component_id, hook) {
                Some(hit) => Ok(hit),
                None => {
                    let bytes = {
                        let mut conn = self.db.acquire().await?;
                        db::bytes(&mut conn, &row.component_id).await?
                    };
                    match bytes {
                        None => Err("its bytes are not stored".to_owned()),
                        Some(bytes) => self
                            .plugins
                            .load(hook, &bytes)
                            .await
                            .map_err(|e| e.to_string()),
                    }
                }
            };
            let on_failure =
                OnFailure::parse(&row.on_failure).unwrap_or(OnFailure::default_for(hook));
            let (component, broken) = match loaded {
                Ok(c) => (Some(c), None),
                Err(reason) => {
                    tracing::warn!(chain = %row.chain_id, %hook, component = %row.component_id, %reason, policy = on_failure.as_str(), "bound component does not load on this replica");
                    (None, Some(reason))
                }
            };
            out.insert(
                (row.chain_id, hook),
                Active {
                    component,
                    component_id: row.component_id.clone(),
                    broken,
                    on_failure,
                    tripped: row.tripped_at.is_some(),
                },
            );
        }
        Ok(out)
    }

    /// Compiles an uploaded component (`<hook>:<sha256>`) on this replica ahead of any binding.
    async fn precompile(&self, payload: &str) {
        let Some((hook, id)) = payload.split_once(':') else {
            return;
        };
        let Ok(hook) = hook.parse::<Hook>() else {
            return;
        };
        if self.plugins.cached(id, hook).is_some() {
            return;
        }
        let bytes = match self.db.acquire().await {
            Ok(mut conn) => db::bytes(&mut conn, id).await,
            Err(e) => Err(e),
        };
        match bytes {
            Ok(Some(bytes)) => {
                if let Err(e) = self.plugins.load(hook, &bytes).await {
                    tracing::warn!(%hook, component = id, error = %e, "an uploaded component does not load on this replica");
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::debug!(error = %e, "could not read an uploaded component to precompile it")
            }
        }
    }

    /// Follows binding changes until `shutdown`: LISTEN for single chains, a full reconcile
    /// on every (re)connection and periodically.
    pub async fn follow(self: Arc<Self>, shutdown: CancellationToken) {
        let mut reconcile = tokio::time::interval(self.settings.reconcile_every);
        reconcile.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !shutdown.is_cancelled() {
            let mut listener = match PgListener::connect_with(&self.db).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot LISTEN for binding changes; retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            };
            if let Err(e) = listener.listen_all([CHANNEL, UPLOADS_CHANNEL]).await {
                tracing::warn!(error = %e, "LISTEN cineflow_bindings failed; retrying");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
            // Anything changed while we were not listening.
            if let Err(e) = self.reload_all().await {
                tracing::warn!(error = %e, "reloading bindings failed");
            }
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    _ = reconcile.tick() => {
                        if let Err(e) = self.reload_all().await {
                            tracing::warn!(error = %e, "reconciling bindings failed");
                        }
                    }
                    received = listener.try_recv() => match received {
                        Ok(Some(n)) if n.channel() == UPLOADS_CHANNEL => {
                            let registry = self.clone();
                            let payload = n.payload().to_owned();
                            tokio::spawn(async move { registry.precompile(&payload).await });
                        }
                        Ok(Some(n)) => {
                            let result = match n.payload().parse::<Uuid>() {
                                Ok(chain) => self.reload_chain(chain).await,
                                Err(_) => self.reload_all().await,
                            };
                            if let Err(e) = result {
                                tracing::warn!(error = %e, "reloading bindings failed");
                            }
                        }
                        // The connection dropped: reconnect and reconcile.
                        Ok(None) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "binding notifications lost; reconnecting");
                            break;
                        }
                    }
                }
            }
        }
    }
}
