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

# Each step's wall time, printed as a table when the run ends (pass or fail), so that a slow
# step shows in every log, CI's included.
started_all=$SECONDS
step_name=""
step_started=$SECONDS
timings=()
end_step() {
    if [ -n "$step_name" ]; then
        timings+=("$(printf '%5d s  %s' "$((SECONDS - step_started))" "$step_name")")
    fi
}
step() {
    end_step
    step_name="$*"
    step_started=$SECONDS
    printf '\n==> %s\n' "$*"
}
report_timings() {
    status=$?
    # A failed step leaves the background fuzz build running: stop it with the run.
    if [ -n "${fuzz_build_pid:-}" ] && kill -0 "$fuzz_build_pid" 2>/dev/null; then
        pkill -TERM -P "$fuzz_build_pid" 2>/dev/null || true
        kill "$fuzz_build_pid" 2>/dev/null || true
    fi
    end_step
    step_name=""
    printf '\n==> wall time per step\n'
    printf '    %s\n' "${timings[@]}"
    printf '    %5d s  total (exit %d)\n' "$((SECONDS - started_all))" "$status"
}
trap report_timings EXIT

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

step "python test tools (aiosmtpd: the binary's email test; schemathesis: hostile input)"
if ! command -v python3 >/dev/null 2>&1; then
    echo "error: python3 is needed for the email test's SMTP server and schemathesis" >&2
    exit 1
fi
# Pinned so a new release cannot change what "zero failures" means between two runs.
SCHEMATHESIS_VERSION=4.32.5
pip_install() {
    # A Python that marks itself externally managed (PEP 668) needs the override.
    export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
    python3 -m pip install --quiet "$@" || python3 -m pip install --quiet --break-system-packages "$@"
}
python3 -c 'import aiosmtpd' >/dev/null 2>&1 || pip_install aiosmtpd
python3 -c 'import aiosmtpd'
if [ "$(schemathesis --version 2>/dev/null | awk '{print $NF}')" != "$SCHEMATHESIS_VERSION" ]; then
    pip_install "schemathesis==$SCHEMATHESIS_VERSION"
fi
schemathesis --version

step "cargo fmt --check"
cargo fmt --all -- --check

step "build the components (default + hostile test guests)"
bash scripts/build-components.sh
export CINEFLOW_COMPONENTS_DIR="${CARGO_TARGET_DIR:-$PWD/target}/components"

step "cargo clippy (host, native guest logic, all targets)"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo clippy (guests for wasm32-wasip2)"
cargo clippy --target wasm32-wasip2 -p booking-rules -p pricing -p notify-templates -p seat-picker \
    -p hostile-guest -p sleepy-templates -p hostile-picker \
    -p matinee-pricing -p promo-pricing -p no-single-gap-rules -p templates-hi -p imax-sweet-spot \
    -- -D warnings

step "cargo clippy (the cargo-component-style guest for wasm32-wasip1)"
cargo clippy --target wasm32-wasip1 -p wasip1-pricing -- -D warnings

step "cargo test --workspace: build, with the SQL checked against the migrations (host/.sqlx)"
# The build every suite runs, done once with the query macros online against a scratch database
# migrated from migrations/: a query or a migration changed without regenerating host/.sqlx
# fails here (every other build is offline, from host/.sqlx: .cargo/config.toml).
bash scripts/sqlx-prepare.sh --check

# The fuzz targets are their own workspace (fuzz/target), cold in a fresh clone and the
# longest build of the run. It shares nothing with the suites, so it builds in the background,
# at a lower priority, while they run (they wait on PostgreSQL and the binary much of the
# time); the fuzz step below waits for it.
fuzz_build_log="$(mktemp "${TMPDIR:-/tmp}/cineflow-fuzz-build.XXXXXX")"
FUZZ_PHASE=build nice -n 15 bash scripts/fuzz.sh >"$fuzz_build_log" 2>&1 &
fuzz_build_pid=$!

step "cargo test --workspace: run"
cargo test --workspace

step "schemathesis against /openapi.json (authenticated; no 5xx, no schema violation)"
# Bounded for CI: ST_MAX_TIME seconds for the main pass, 30 s for the deferred one.
ST_MAX_TIME="${ST_MAX_TIME:-150}" bash scripts/schemathesis.sh

step "fuzz the parsers of untrusted input (cargo fuzz, FUZZ_SECONDS per target)"
# One build of every target (fuzz/target; cold in a fresh clone: the longest step), then each
# target runs for a bounded time; any crash fails the run (docs/fuzzing.md).
if ! wait "$fuzz_build_pid"; then
    cat "$fuzz_build_log"
    echo "error: building the fuzz targets failed" >&2
    exit 1
fi
grep -E '^ *built in|installing' "$fuzz_build_log" || true
FUZZ_PHASE=run FUZZ_SECONDS="${FUZZ_SECONDS:-30}" bash scripts/fuzz.sh

step "browser check (headless Chromium on /docs)"
bash scripts/browser-check.sh

step "console browser tests (headless Chromium on /console, demo data; screenshots in target/console)"
bash scripts/console-check.sh
