//! Faults while serving (issue 8), each against the real `cineflow` binary:
//!
//! - `db_restart`: PostgreSQL (a private cluster on a socket of its own, never the shared server)
//!   stopped under load and started again. While it is down, API requests are prompt 503
//!   `database_unavailable` problems with `Retry-After` (no 500, no hang), `/readyz` is 503 and
//!   `/healthz` 200; afterwards the same process serves again, and its email sweeper and
//!   bindings follower have reconnected their LISTEN connections.
//! - `smtp_outage`: the SMTP server down, then up. The binary's own sweeper retries every queued
//!   email and delivers each exactly once when the server is back; nothing is lost or failed.
//! - `hostile_load`: one chain's pricing hangs (`loop`) or eats memory (`memory-bomb`) under
//!   load. Its holds fail cleanly (503 `plugin_unavailable`, or the default's price under
//!   `fallback`), another chain's holds and payments all succeed, and the replica stays
//!   healthy; the other chain's latency percentiles are printed (`--nocapture`), not asserted.
//!
//! Needs `DATABASE_URL` (for the databases of the last two), the machine's PostgreSQL binaries
//! (`initdb`, `pg_ctl`) for the first, and the components of `scripts/build-components.sh`.

#[allow(dead_code, unused_imports)]
#[path = "../api/support/mod.rs"]
mod support;

mod pg;
mod server;

mod db_restart;
mod hostile_load;
mod smtp_outage;
