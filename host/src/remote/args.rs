//! The arguments of `cineflow remote`'s subcommands (the catalogue's are in
//! [`setup_args`](super::setup_args)).

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use uuid::Uuid;

use super::setup_args::{ChainAction, MovieAction, ScreenAction, ShowAction, TheatreAction};

/// `--role` of `remote signup`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SignupRole {
    /// Runs chains: waits for an admin's approval.
    Owner,
    /// Books tickets: approved at once.
    Customer,
}

impl SignupRole {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            SignupRole::Owner => "owner",
            SignupRole::Customer => "customer",
        }
    }
}

/// `--on-failure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnFailureArg {
    /// The call fails (503 `plugin_unavailable` for holds).
    Reject,
    /// The platform default answers instead.
    Fallback,
}

impl OnFailureArg {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            OnFailureArg::Reject => "reject",
            OnFailureArg::Fallback => "fallback",
        }
    }
}

/// Which runs (`remote runs`, `remote replay`): filters the server applies.
#[derive(Debug, Clone, Args)]
pub struct RunFilter {
    /// Runs from this time on (RFC 3339, e.g. `2026-12-01T00:00:00Z`).
    #[arg(long, value_parser = parse_time)]
    pub from: Option<String>,
    /// Runs before this time (RFC 3339).
    #[arg(long, value_parser = parse_time)]
    pub to: Option<String>,
    /// At most this many runs.
    #[arg(long)]
    pub limit: Option<u32>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Action {
    /// Create an account (`POST /api/v1/auth/signup`); prints its id. Customers can book at
    /// once; an owner waits until an admin approves them (`cineflow remote approve`).
    Signup {
        /// The name shown to others.
        #[arg(long)]
        name: String,
        /// The account's email.
        #[arg(long)]
        email: String,
        /// `owner` (runs chains, waits for approval) or `customer`.
        #[arg(long, value_enum, default_value_t = SignupRole::Customer)]
        role: SignupRole,
        /// Read the password from standard input (one line) instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Approve a pending account (admins only): an owner may then create chains.
    Approve {
        /// The user's id (as `remote signup` printed it).
        user_id: Uuid,
    },
    /// Create a chain (`remote chain create`).
    #[command(subcommand)]
    Chain(ChainAction),
    /// Create a theatre of a chain, or put a movie on its now-showing list.
    #[command(subcommand)]
    Theatre(TheatreAction),
    /// Create a screen and its seats in a theatre.
    #[command(subcommand)]
    Screen(ScreenAction),
    /// Add a movie to the catalogue, owned by a chain.
    #[command(subcommand)]
    Movie(MovieAction),
    /// Schedule a show of a movie on a screen.
    #[command(subcommand)]
    Show(ShowAction),
    /// Sign in (`POST /api/v1/auth/signin`) and save the server and token to the config file.
    Login {
        /// The account's email.
        #[arg(long)]
        email: String,
        /// Read the password from standard input (one line) instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// The chains you are staff of (every chain for an admin, or with `--all`).
    Chains {
        /// Every chain on the server.
        #[arg(long)]
        all: bool,
    },
    /// Upload a component (checked against the hook's fixtures); prints its id.
    Upload {
        /// The chain's id.
        #[arg(long)]
        chain: Uuid,
        /// The hook it implements: `booking-rules`, `pricing`, `notify-templates`, ...
        #[arg(long)]
        hook: String,
        /// The `.wasm` component file.
        file: PathBuf,
    },
    /// The chain's uploaded components.
    Components {
        /// The chain's id.
        #[arg(long)]
        chain: Uuid,
    },
    /// Which component serves each hook of the chain, with policy, breaker and canary.
    Bindings {
        /// The chain's id.
        #[arg(long)]
        chain: Uuid,
    },
    /// Bind a hook to one of the chain's components (optionally with a canary).
    Bind {
        /// The chain's id.
        #[arg(long)]
        chain: Uuid,
        /// The hook: `booking-rules`, `pricing`, `notify-templates`, ...
        #[arg(long)]
        hook: String,
        /// The component's id (sha256).
        #[arg(long)]
        component: String,
        /// What a failure of the component leads to (the server's default when omitted).
        #[arg(long, value_enum)]
        on_failure: Option<OnFailureArg>,
        /// A component that gets `--percent` of the calls.
        #[arg(long, requires = "percent")]
        canary: Option<String>,
        /// The canary's share of calls, 1 to 99.
        #[arg(long, requires = "canary", value_parser = clap::value_parser!(u8).range(1..=99))]
        percent: Option<u8>,
    },
    /// Unbind a hook: the chain gets the platform default again.
    Unbind {
        /// The chain's id.
        #[arg(long)]
        chain: Uuid,
        /// The hook: `booking-rules`, `pricing`, `notify-templates`, ...
        #[arg(long)]
        hook: String,
    },
    /// Add, change or (`--off`) remove the canary of a bound hook: re-binds its current
    /// component and policy with the canary.
    Canary {
        /// The chain's id.
        #[arg(long)]
        chain: Uuid,
        /// The hook: `booking-rules`, `pricing`, `notify-templates`, ...
        #[arg(long)]
        hook: String,
        /// The canary component's id.
        #[arg(long, required_unless_present = "off", conflicts_with = "off")]
        component: Option<String>,
        /// Its share of calls, 1 to 99.
        #[arg(long, required_unless_present = "off", conflicts_with = "off",
              value_parser = clap::value_parser!(u8).range(1..=99))]
        percent: Option<u8>,
        /// Remove the canary.
        #[arg(long)]
        off: bool,
    },
    /// Run one of the chain's components on an input, touching no data.
    DryRun {
        /// The chain's id.
        #[arg(long)]
        chain: Uuid,
        #[arg(long)]
        component: String,
        /// The input as JSON (the hook's WIT record; `-` reads standard input).
        #[arg(long)]
        input: PathBuf,
    },
    /// The chain's run log, newest first.
    Runs {
        /// The chain's id.
        #[arg(long)]
        chain: Uuid,
        /// Only runs of this hook.
        #[arg(long)]
        hook: Option<String>,
        /// Only runs of this component.
        #[arg(long)]
        component: Option<String>,
        /// `ok`, `refused`, or a failure kind (`trap`, `out_of_fuel`, `timeout`, ...).
        #[arg(long)]
        outcome: Option<String>,
        #[command(flatten)]
        filter: RunFilter,
        /// The `next_cursor` of the previous page.
        #[arg(long)]
        cursor: Option<String>,
    },
    /// One run with its input, output and log.
    Run {
        /// The chain's id.
        #[arg(long)]
        chain: Uuid,
        /// The run's id.
        run_id: Uuid,
    },
    /// Replay logged runs of a hook through another component and report what would change.
    Replay {
        /// The chain's id.
        #[arg(long)]
        chain: Uuid,
        /// The hook: `booking-rules`, `pricing`, `notify-templates`, ...
        #[arg(long)]
        hook: String,
        /// The component to replay the runs through.
        #[arg(long)]
        component: String,
        #[command(flatten)]
        filter: RunFilter,
        /// Print the replay's id and return at once instead of waiting for its report.
        #[arg(long)]
        no_wait: bool,
        /// Longest wait for the report, in seconds.
        #[arg(long, default_value_t = 1800)]
        wait_secs: u64,
    },
    /// A replay's state, or its report once done (`--wait` waits for it).
    ReplayStatus {
        /// The chain's id.
        #[arg(long)]
        chain: Uuid,
        /// The replay's id.
        replay_id: Uuid,
        /// Wait until it is done or failed.
        #[arg(long)]
        wait: bool,
        /// Longest wait, in seconds.
        #[arg(long, default_value_t = 1800)]
        wait_secs: u64,
    },
    /// Shadow a hook: run another component beside the bound one on live calls and compare.
    #[command(subcommand)]
    Shadow(ShadowAction),
    /// Every component decision behind a booking, with inputs to reproduce each.
    Receipt {
        /// The booking's id.
        booking_id: Uuid,
    },
}

/// `cineflow remote shadow ...`
#[derive(Debug, Subcommand)]
pub enum ShadowAction {
    /// Start (or change) the hook's shadow.
    Start {
        /// The chain's id.
        #[arg(long)]
        chain: Uuid,
        /// The hook: `booking-rules`, `pricing`, `notify-templates`, ...
        #[arg(long)]
        hook: String,
        /// The shadow component's id.
        #[arg(long)]
        component: String,
        /// Percent of calls shadowed, 1 to 100 (the server's default: 100).
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=100))]
        sample: Option<u8>,
    },
    /// The shadow's comparison so far.
    Status {
        /// The chain's id.
        #[arg(long)]
        chain: Uuid,
        /// The hook: `booking-rules`, `pricing`, `notify-templates`, ...
        #[arg(long)]
        hook: String,
    },
    /// Stop the shadow.
    Stop {
        /// The chain's id.
        #[arg(long)]
        chain: Uuid,
        /// The hook: `booking-rules`, `pricing`, `notify-templates`, ...
        #[arg(long)]
        hook: String,
    },
}

pub(super) fn parse_time(raw: &str) -> Result<String, String> {
    chrono::DateTime::parse_from_rfc3339(raw)
        .map(|t| t.to_rfc3339())
        .map_err(|e| format!("not an RFC 3339 time like 2026-12-01T18:30:00+05:30: {e}"))
}
