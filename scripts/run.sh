#!/usr/bin/env bash
# Runs Cineflow with demo data on http://127.0.0.1:8080 (CINEFLOW_LISTEN to change); its
# Prometheus metrics are on http://127.0.0.1:9464/metrics (CINEFLOW_METRICS_LISTEN, `off`).
# Builds the default components first; without DATABASE_URL the service starts a private
# PostgreSQL cluster under ./.cineflow/pg from the machine's PostgreSQL binaries.
# Extra arguments go to `cineflow serve` (see `cargo run -p cineflow -- serve --help`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/build-components.sh
export CINEFLOW_COMPONENTS_DIR="${CINEFLOW_COMPONENTS_DIR:-${CARGO_TARGET_DIR:-$PWD/target}/components}"
# Demo data and a demo admin (the README lists the accounts); override by setting them.
export CINEFLOW_DEMO="${CINEFLOW_DEMO:-true}"
export CINEFLOW_ADMIN_EMAIL="${CINEFLOW_ADMIN_EMAIL:-admin@demo.cineflow.local}"
export CINEFLOW_ADMIN_PASSWORD="${CINEFLOW_ADMIN_PASSWORD:-Demo-Admin-2026}"
# Emails go to a local mail catcher if one listens on port 1025 (README: "Seeing the demo's
# emails"); without one they stay queued and are retried, and the log says so.
export CINEFLOW_SMTP_URL="${CINEFLOW_SMTP_URL:-smtp://127.0.0.1:1025}"
exec cargo run -p cineflow -- serve "$@"
