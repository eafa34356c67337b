#!/usr/bin/env bash
# Browser check of the Swagger UI: the real binary serves /docs against a fresh database, and
# headless Chromium (Debian's package, driven by playwright-core) loads it with every non-local
# request blocked, checks that the endpoints are listed, executes GET /api/v1/hooks from the UI
# and saves a screenshot to target/browser-check/docs.png. scripts/test.sh runs it last.
#
# DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) must allow CREATE DATABASE;
# CHROMIUM (default /usr/bin/chromium) is the browser. Missing, Debian's chromium is installed
# with apt-get when this runs as root; the npm dependencies come from the lock (npm ci).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> browser check: %s\n' "$*"; }

ADMIN_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
OUT_DIR="$TARGET/browser-check"
SCREENSHOT="$OUT_DIR/docs.png"

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
        echo "error: $tool is needed for the browser check and is not on PATH" >&2
        exit 1
    fi
done
echo "node $(node --version)"

step "npm dependencies (npm ci from scripts/browser-check/package-lock.json)"
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix scripts/browser-check --no-audit --no-fund --loglevel=error

step "cargo build -p cineflow"
cargo build -p cineflow
BIN="$TARGET/debug/cineflow"
if [ ! -d "$TARGET/components" ] || [ ! -f "$TARGET/components/pricing.wasm" ]; then
    bash scripts/build-components.sh
fi

# A fresh database on the same server, dropped on exit along with the server.
DB="cineflow_browser_check_$$_$(date +%s)"
base="${ADMIN_URL%%\?*}"
query="${ADMIN_URL#"$base"}"
SERVER_URL="${base%/*}/$DB$query"
DATA_DIR="$(mktemp -d "${TMPDIR:-/tmp}/cineflow-browser-check.XXXXXX")"
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
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "database $DB"
psql "$ADMIN_URL" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$DB\"" >/dev/null

PORT="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
BASE_URL="http://127.0.0.1:$PORT"
step "cineflow serve on $BASE_URL"
mkdir -p "$OUT_DIR"
SERVER_LOG="$OUT_DIR/server.log"
env -u CINEFLOW_SMTP_URL -u CINEFLOW_DEMO \
    DATABASE_URL="$SERVER_URL" \
    CINEFLOW_LISTEN="127.0.0.1:$PORT" \
    CINEFLOW_METRICS_LISTEN=off \
    CINEFLOW_DATA_DIR="$DATA_DIR" \
    CINEFLOW_COMPONENTS_DIR="$TARGET/components" \
    CINEFLOW_JWT_SECRET="browser-check-secret-0123456789abcdef" \
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

step "headless Chromium on $BASE_URL/docs (no network)"
if ! node scripts/browser-check/check.mjs "$BASE_URL" "$SCREENSHOT"; then
    echo "error: the browser check of /docs failed (screenshot, if taken: $SCREENSHOT; server log: $SERVER_LOG)" >&2
    exit 1
fi
