//! The limits every component call runs under. Defaults come from ARCHITECTURE.md
//! ("Limits the components run under"); each is configurable on `cineflow serve`.

use std::time::Duration;

/// Limits for one hook's calls.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Limits {
    /// Instructions a call may execute. Deterministic, unlike time: the same input always
    /// costs the same fuel. 50 M is ~4x Shopify Functions' 11 M instruction budget, and an
    /// infinite loop burns it in ~5 ms here.
    pub fuel: u64,
    /// Wall-clock safety net for what fuel does not count (host calls, page faults).
    #[serde(rename = "deadline_ms", serialize_with = "as_millis")]
    #[schema(value_type = u64)]
    pub deadline: Duration,
    /// Linear memory a call may grow to. A pure function over a small input needs little.
    pub max_memory_bytes: u64,
    /// Size of the input lowered into the component.
    pub max_input_bytes: u64,
    /// Size of the output lifted from the component (Shopify allows 20 kB; emails need more).
    pub max_output_bytes: u64,
    /// Size of an uploaded component; the defaults are tens of KiB.
    pub max_component_bytes: u64,
    /// What a call may write to stdout and stderr together; the rest is dropped.
    pub max_log_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            fuel: 50_000_000,
            deadline: Duration::from_millis(100),
            max_memory_bytes: 16 * 1024 * 1024,
            max_input_bytes: 64 * 1024,
            max_output_bytes: 64 * 1024,
            max_component_bytes: 2 * 1024 * 1024,
            max_log_bytes: 16 * 1024,
        }
    }
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Bounds the host enforces on what components return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputBounds {
    /// Longest hold a booking-rules component may grant: a held seat is unsellable meanwhile.
    pub max_hold_seconds: u32,
    /// Longest email subject, in characters (RFC 5322 recommends lines under 78, allows 998).
    pub max_subject_chars: usize,
    /// Most line items in a quote.
    pub max_line_items: usize,
}

impl Default for OutputBounds {
    fn default() -> Self {
        Self {
            max_hold_seconds: 30 * 60,
            max_subject_chars: 200,
            max_line_items: 500,
        }
    }
}
