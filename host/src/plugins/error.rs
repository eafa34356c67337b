//! Errors of the plugin runtime.

use super::hook::Hook;
use super::store::CallStats;

/// Why a component was refused at load time.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Larger than the configured cap.
    #[error("component is {size} bytes; the limit is {limit}")]
    TooLarge {
        /// Size of the upload.
        size: u64,
        /// The cap.
        limit: u64,
    },
    /// A core WebAssembly module: it must be wrapped into a component first.
    #[error(
        "this is a core WebAssembly module, not a component; build for wasm32-wasip2 or wrap it with `wasm-tools component new`"
    )]
    CoreModule,
    /// Not WebAssembly at all.
    #[error("not a WebAssembly component (bad magic number or version)")]
    NotWasm,
    /// Wasmtime could not validate or compile it.
    #[error("the component is invalid: {0}")]
    Invalid(String),
    /// It imports something the host does not provide.
    #[error("the component imports something the host does not provide: {0}")]
    UnsupportedImports(String),
    /// The chain already has a compilation running on this replica.
    #[error("{0}")]
    Busy(String),
    /// It does not export the hook's world.
    #[error("the component does not implement the {hook} world ({world}): {reason}")]
    WrongWorld {
        /// The hook it was loaded for.
        hook: Hook,
        /// The world that hook needs.
        world: &'static str,
        /// What wasmtime said.
        reason: String,
    },
}

/// How a call failed. Each kind is one value of the `outcome` metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The input exceeded `max_input_bytes`; the component was not called.
    InputTooLarge,
    /// Fuel ran out.
    OutOfFuel,
    /// The wall-clock deadline passed.
    Timeout,
    /// The guest tried to grow its memory past the cap.
    MemoryLimit,
    /// Any other trap: a panic, `unreachable`, a bad memory access.
    Trap,
    /// The output exceeded `max_output_bytes`.
    OutputTooLarge,
    /// The output broke one of the host's checks (sum, sign, bounds).
    InvalidOutput,
    /// No instance slot was free, or instantiation failed.
    Unavailable,
    /// The chain was over its fair share (slots or fuel); the component was not called.
    Busy,
}

impl FailureKind {
    /// The label used in metrics and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::InputTooLarge => "input_too_large",
            FailureKind::OutOfFuel => "out_of_fuel",
            FailureKind::Timeout => "timeout",
            FailureKind::MemoryLimit => "memory_limit",
            FailureKind::Trap => "trap",
            FailureKind::OutputTooLarge => "output_too_large",
            FailureKind::InvalidOutput => "invalid_output",
            FailureKind::Unavailable => "unavailable",
            FailureKind::Busy => "busy",
        }
    }
}

/// A call that did not produce a usable answer.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{hook} component {component} failed ({}): {message}", kind.as_str())]
pub struct CallError {
    /// The hook called.
    pub hook: Hook,
    /// The component's sha256.
    pub component: String,
    /// What went wrong.
    pub kind: FailureKind,
    /// Details for logs and for the component's author (never for customers).
    pub message: String,
    /// What the call cost before it failed.
    pub stats: CallStats,
    /// What the component wrote to stdout/stderr.
    pub log: String,
    /// The guest's stack when it trapped, one frame a line, with function names where the
    /// component ships a name section (see [`super::report`]).
    pub backtrace: Option<String>,
    /// For `Busy` and `Unavailable` refusals: when the caller may try again.
    pub retry_after: Option<std::time::Duration>,
}

impl CallError {
    /// A failure of `component` for `hook`, with nothing measured, logged or traced yet.
    pub fn new(hook: Hook, component: String, kind: FailureKind, message: String) -> Self {
        Self {
            hook,
            component,
            kind,
            message,
            stats: CallStats::default(),
            log: String::new(),
            backtrace: None,
            retry_after: None,
        }
    }

    /// The guest's panic (`panicked at src/lib.rs:12:5: the message`), read from its log.
    pub fn panic(&self) -> Option<String> {
        super::report::panic_in(&self.log)
    }

    /// The failure as its author and the operator read it: the kind and the cause, the
    /// guest's panic message, the backtrace and the guest's log (its tail, capped). Every
    /// place a person sees a failure (upload refusals, dry runs, breaker reasons, the server
    /// log, `cineflow component run`) shows this.
    pub fn report(&self) -> String {
        super::report::render(self)
    }
}
