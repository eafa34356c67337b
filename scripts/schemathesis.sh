#!/usr/bin/env bash
# Hostile-input check (issue 8, item 3): runs schemathesis (PyPI) against /openapi.json of a
# debug build, authenticated as the demo admin, on a fresh database that is dropped afterwards.
# Checks: no 5xx, documented status codes, documented content types, bodies matching the schema.
#
# Needs: python3 with `pip install schemathesis` (v4 CLI), PostgreSQL reachable at
# PG_URL (default postgres://postgres@127.0.0.1:5432) with the right to create databases.
# Knobs: ST_MAX_EXAMPLES (default 25 per operation), ST_MAX_TIME (seconds, default 240),
# ST_WORKERS (default 1, see below), ST_SEED (reproducible run), ST_REPORT_DIR (default
# target/schemathesis).
#
# One worker by default: with several, hypothesis (6.170) intermittently dies inside CPython
# 3.11's `ast.parse` called from worker threads ("AST constructor recursion depth mismatch",
# finding F8 in docs/schemathesis.md) — a tool crash that failed the run without any request
# being wrong. One worker never showed it; the run is bounded by ST_MAX_TIME either way.
# Extra arguments are passed to `schemathesis run`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
MAX_EXAMPLES="${ST_MAX_EXAMPLES:-25}"
MAX_TIME="${ST_MAX_TIME:-240}"
WORKERS="${ST_WORKERS:-1}"
REPORT_DIR="${ST_REPORT_DIR:-$PWD/target/schemathesis}"
TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

command -v schemathesis >/dev/null || { echo "schemathesis not found: python3 -m pip install schemathesis" >&2; exit 2; }
echo "schemathesis: $(schemathesis --version)"

cargo build -p cineflow
[ -d "$TARGET_DIR/components" ] && [ -n "$(ls "$TARGET_DIR"/components/*.wasm 2>/dev/null)" ] \
    || bash scripts/build-components.sh

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
DB="cineflow_st_$$_$(date +%s)"
mkdir -p "$REPORT_DIR"
LOG="$REPORT_DIR/server.log"
SERVER_PID=""

cleanup() {
    local rc=$?
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 \
        || echo "warning: could not drop database $DB" >&2
    exit "$rc"
}
trap cleanup EXIT

psql "$PG_URL/postgres" -qc "CREATE DATABASE \"$DB\"" >/dev/null

ADMIN_EMAIL="admin@demo.cineflow.local"
ADMIN_PASSWORD="Demo-Admin-2026"
DATABASE_URL="$PG_URL/$DB" \
CINEFLOW_LISTEN="127.0.0.1:$PORT" \
CINEFLOW_METRICS_LISTEN=off \
CINEFLOW_JWT_SECRET="schemathesis-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
CINEFLOW_DEMO=true \
CINEFLOW_ADMIN_EMAIL="$ADMIN_EMAIL" \
CINEFLOW_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
CINEFLOW_COMPONENTS_DIR="$TARGET_DIR/components" \
CINEFLOW_SIGNIN_PER_EMAIL_PER_MINUTE=100000 \
CINEFLOW_SIGNIN_PER_CLIENT_PER_MINUTE=100000 \
CINEFLOW_SIGNUP_PER_CLIENT_PER_MINUTE=100000 \
CINEFLOW_SMTP_URL="${CINEFLOW_SMTP_URL:-smtp://127.0.0.1:1}" \
RUST_LOG="${RUST_LOG:-info}" \
    "$TARGET_DIR/debug/cineflow" serve >"$LOG" 2>&1 &
SERVER_PID=$!

for _ in $(seq 1 120); do
    curl -fsS "$BASE/readyz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "server exited; log:" >&2; tail -50 "$LOG" >&2; exit 1; }
    sleep 0.5
done
curl -fsS "$BASE/readyz" >/dev/null || { echo "server not ready; log:" >&2; tail -50 "$LOG" >&2; exit 1; }

TOKEN="$(curl -fsS -H 'content-type: application/json' \
    -d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" \
    "$BASE/api/v1/auth/signin" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"

# Nothing is excluded; one operation is deferred:
#   PATCH /api/v1/users/{id} runs last, in a second pass of its own. schemathesis feeds real ids
#   it has seen (GET /users/me, GET /users) into path parameters, so it demotes or rejects the
#   demo admin whose token the run uses (the API lets an admin change their own role, see
#   docs/schemathesis.md); every later case would then test only the 403 path.
# Destructive operations (DELETE ..., POST /shows/{id}/cancel, POST /bookings/{id}/cancel) run:
# the database is throw-away. POST /auth/password cannot guess the admin's old password.
# The stateful phase is left out: it is not bounded by --max-examples and chains destructive
# calls; examples, coverage and fuzzing reach every operation.
DEFERRED='^PATCH /api/v1/users/\{id\}$'
common=(
    --header "Authorization: Bearer $TOKEN"
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
    --phases examples,coverage,fuzzing
    --max-examples "$MAX_EXAMPLES"
    --request-timeout 30
    --workers "$WORKERS"
    --generation-database "$REPORT_DIR/examples-db"
    # NUL may appear in any generated string (the hooks also put NUL and control characters
    # into query and path parameters): PostgreSQL cannot store it, the API must answer 400.
    --generation-allow-x00 true
    --generation-codec utf-8
    ${ST_SEED:+--seed "$ST_SEED"}
)
# Teaches schemathesis to send `application/wasm` bodies (component upload), and puts NULs and
# control characters into query and path parameters (issue 13).
export SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$PWD/scripts${PYTHONPATH:+:$PYTHONPATH}"
set +e
schemathesis run "$BASE/openapi.json" "${common[@]}" --max-time "$MAX_TIME" \
    --exclude-name-regex "$DEFERRED" \
    --report junit,ndjson --report-dir "$REPORT_DIR/main" "$@"
rc=$?
# The admin must still be an approved admin, or the pass above tested mostly 403s.
ME="$(curl -sS -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/users/me")"
if ! printf '%s' "$ME" | python3 -c 'import json,sys; u=json.load(sys.stdin); u=u.get("user",u); sys.exit(0 if u.get("role")=="admin" and u.get("status")=="approved" else 1)'; then
    echo "the demo admin lost its role or status during the run: $ME" >&2
    rc=1
fi
schemathesis run "$BASE/openapi.json" "${common[@]}" --max-time 30 \
    --include-name-regex "$DEFERRED" \
    --report junit,ndjson --report-dir "$REPORT_DIR/deferred" "$@"
rc2=$?
[ "$rc" -eq 0 ] && rc=$rc2
set -e
if grep -q "panicked" "$LOG"; then
    echo "server log contains panics:" >&2
    grep -n "panicked" "$LOG" | head -20 >&2
    [ "$rc" -eq 0 ] && rc=1
fi
echo "reports in $REPORT_DIR/{main,deferred}, server log $LOG"
exit "$rc"
