#!/usr/bin/env bash
# Every check and test of the workspace: formatting, clippy (host and wasm guests), unit tests
# of the guest logic, and the host's integration tests against a real PostgreSQL with the
# real components.
#
# DATABASE_URL must point at a PostgreSQL server whose role may create databases (each
# integration test gets a fresh one); it defaults to the machine's server on 127.0.0.1:5432.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n==> %s\n' "$*"; }

step "toolchain components"
rustup component add rustfmt clippy >/dev/null 2>&1 || echo "warning: could not add rustfmt/clippy" >&2
rustup target add wasm32-wasip2 >/dev/null 2>&1 || echo "warning: could not add wasm32-wasip2" >&2

step "database at ${DATABASE_URL%%\?*}"
if command -v pg_isready >/dev/null 2>&1; then
    if ! pg_isready -d "$DATABASE_URL" -q; then
        echo "error: PostgreSQL is not reachable at DATABASE_URL; start it (see README) or set DATABASE_URL" >&2
        exit 1
    fi
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "build the components (default + hostile test guests)"
bash scripts/build-components.sh
export CINEFLOW_COMPONENTS_DIR="${CARGO_TARGET_DIR:-$PWD/target}/components"

step "cargo clippy (host, native guest logic, all targets)"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo clippy (guests for wasm32-wasip2)"
cargo clippy --target wasm32-wasip2 -p booking-rules -p pricing -p notify-templates -p hostile-guest -- -D warnings

step "cargo test --workspace"
cargo test --workspace
