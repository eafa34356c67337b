#!/usr/bin/env bash
# Browser tests of the operator console (/console, issue 19): the real binary with the demo
# data against a fresh database, and headless Chromium (Debian's package, driven by
# playwright-core) running scripts/browser-check/console.mjs: sign in, the day page, create a
# show, a live seat map turning held, upload and bind a pricing component and price a booking
# with it, a replay's report, CSRF refusals, another chain's owner seeing nothing of the demo
# chain, no horizontal scroll at 360 px, and no console error or CSP violation on any page.
# Screenshots of every page (1280 and 360 px wide) go to target/console/. scripts/test.sh runs
# it after the /docs browser check; docs/console.md ("Tests") says what each scenario checks.
#
# DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) must allow CREATE DATABASE;
# CHROMIUM (default /usr/bin/chromium) is the browser, installed with apt-get when missing and
# this runs as root. CINEFLOW_BIN: a binary already built (skips `cargo build`).
# CONSOLE_ONLY: a regular expression; only the scenarios whose name matches run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> console check: %s\n' "$*"; }

ADMIN_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
OUT_DIR="$TARGET/console"
started=$SECONDS

step "Chromium ($CHROMIUM) and Node.js"
if [ ! -x "$CHROMIUM" ] && [ "$CHROMIUM" = /usr/bin/chromium ] && [ "$(id -u)" = 0 ] \
    && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium (not on this machine yet)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
        >"${TMPDIR:-/tmp}/cineflow-apt-chromium.log" 2>&1 \
        || { cat "${TMPDIR:-/tmp}/cineflow-apt-chromium.log" >&2; true; }
fi
if [ ! -x "$CHROMIUM" ]; then
    echo "error: Chromium is missing at $CHROMIUM: install Debian's package (apt-get install chromium) or set CHROMIUM" >&2
    exit 1
fi
"$CHROMIUM" --version 2>/dev/null | head -n 1 || true
for tool in node npm psql; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "error: $tool is needed for the console check and is not on PATH" >&2
        exit 1
    fi
done
echo "node $(node --version)"

# The same package as the /docs check (playwright-core, pinned by its lock); npm ci only when
# node_modules does not match the lock, so the step after browser-check.sh costs nothing.
step "npm dependencies (scripts/browser-check/package-lock.json)"
if ! node -e 'const l=require("./scripts/browser-check/package-lock.json");const v=l.packages["node_modules/playwright-core"].version;process.exit(require("./scripts/browser-check/node_modules/playwright-core/package.json").version===v?0:1)' 2>/dev/null; then
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix scripts/browser-check --no-audit --no-fund --loglevel=error
fi

if [ -n "${CINEFLOW_BIN:-}" ]; then
    BIN="$CINEFLOW_BIN"
    step "binary $BIN (CINEFLOW_BIN: no build)"
else
    step "cargo build -p cineflow"
    cargo build -p cineflow
    BIN="$TARGET/debug/cineflow"
fi
COMPONENTS="$TARGET/components"
# The demo loads the examples; the tests upload hostile/double.wasm (a new pricing version).
if [ ! -f "$COMPONENTS/pricing.wasm" ] || [ ! -f "$COMPONENTS/examples/promo-pricing.wasm" ] \
    || [ ! -f "$COMPONENTS/hostile/double.wasm" ]; then
    bash scripts/build-components.sh
fi

# A fresh database on the same server, dropped on exit along with the server.
DB="cineflow_console_check_$$_$(date +%s)"
base="${ADMIN_URL%%\?*}"
query="${ADMIN_URL#"$base"}"
SERVER_URL="${base%/*}/$DB$query"
DATA_DIR="$(mktemp -d "${TMPDIR:-/tmp}/cineflow-console-check.XXXXXX")"
SERVER_PID=""
cleanup() {
    local status=$?
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    psql "$ADMIN_URL" -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 \
        || echo "warning: could not drop database $DB" >&2
    rm -rf "$DATA_DIR"
    printf '==> console check: %d s in all (exit %d)\n' "$((SECONDS - started))" "$status"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "database $DB"
psql "$ADMIN_URL" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$DB\"" >/dev/null

PORT="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
BASE_URL="http://127.0.0.1:$PORT"
step "cineflow serve on $BASE_URL (demo data)"
mkdir -p "$OUT_DIR"
rm -f "$OUT_DIR"/*.png
SERVER_LOG="$OUT_DIR/server.log"
# The demo data and admin as scripts/run.sh loads them; no SMTP server (emails stay queued).
# The sign-in limits are raised: every scenario signs in afresh from the same address.
env -u CINEFLOW_SMTP_URL \
    DATABASE_URL="$SERVER_URL" \
    CINEFLOW_DEMO=true \
    CINEFLOW_ADMIN_EMAIL=admin@demo.cineflow.local \
    CINEFLOW_ADMIN_PASSWORD=Demo-Admin-2026 \
    CINEFLOW_LISTEN="127.0.0.1:$PORT" \
    CINEFLOW_METRICS_LISTEN=off \
    CINEFLOW_DATA_DIR="$DATA_DIR" \
    CINEFLOW_COMPONENTS_DIR="$COMPONENTS" \
    CINEFLOW_JWT_SECRET="console-check-secret-0123456789abcdef" \
    CINEFLOW_SIGNIN_PER_CLIENT_PER_MINUTE=1000 \
    CINEFLOW_SIGNIN_PER_EMAIL_PER_MINUTE=1000 \
    CINEFLOW_SIGNUP_PER_CLIENT_PER_MINUTE=1000 \
    RUST_LOG="${RUST_LOG:-warn}" \
    "$BIN" serve >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

ready=""
for _ in $(seq 1 600); do
    if node -e 'fetch(process.argv[1]).then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))' \
        "$BASE_URL/readyz" 2>/dev/null; then
        ready=1
        break
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "error: cineflow exited before becoming ready; its log ($SERVER_LOG):" >&2
        cat "$SERVER_LOG" >&2
        exit 1
    fi
    sleep 0.2
done
if [ -z "$ready" ]; then
    echo "error: cineflow did not answer 200 on /readyz within 120 s; its log ($SERVER_LOG):" >&2
    tail -n 50 "$SERVER_LOG" >&2
    exit 1
fi

step "headless Chromium on $BASE_URL/console/ (screenshots: $OUT_DIR)"
if ! COMPONENTS_DIR="$COMPONENTS" node scripts/browser-check/console.mjs "$BASE_URL" "$OUT_DIR"; then
    echo "error: the console's browser tests failed (screenshots: $OUT_DIR; server log: $SERVER_LOG)" >&2
    exit 1
fi
