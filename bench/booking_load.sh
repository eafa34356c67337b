#!/usr/bin/env bash
# Booking throughput (issue 5): how close does the HTTP hold + pay flow get to PostgreSQL
# itself? In one run on this machine, against one fresh database with the same data:
#
#   (a) pgbench running the SQL of a hold (bench/pgbench_hold.sql) and of a payment
#       (bench/pgbench_pay.sql), statement for statement, prepared like sqlx;
#   (l) pgbench running the LEAST SQL of a hold and of a payment that keeps today's guarantees
#       (bench/pgbench_least_hold.sql, bench/pgbench_least_pay.sql: a primary-key read, then one
#       statement each; issue 18 item 3) — the baseline of the issue's goals;
#   (b) the HTTP flow (JWT, booking-rules and pricing components, JSON, audit) driven by wrk
#       (bench/hold_pay.lua: every request with its own customer token and body);
#
# each for holds spread over 500 shows and on one hot show (all clients on the same show
# until its 500 seats are gone, then the next), then paying those holds. Same concurrency
# for both: CONNS connections over THREADS threads. Prints Markdown tables: throughput,
# p50/p99, the ratio (b)/(a), the share of server time spent in components, the machine's
# load before and after each phase, and where the CPU went.
#
# Every hold phase starts from empty booking tables, runs a WARMUP (s, default 5, not measured),
# then ANALYZEs the booking tables so (a) and (b) plan with the same, representative
# statistics; autovacuum is off on those tables during the run (BENCH_AUTOVACUUM=1 keeps it
# on) so an autoanalyze landing in one phase and not the other cannot flip plans mid-phase;
# every measured HTTP phase starts on a freshly started server (fresh database sessions, as in
# every pgbench run), so the plans PostgreSQL caches for sqlx's statements have no history.
#
# Scale of data (issue 18 item 6): with SCALE=1 (the default) the database first gets
# SCALE_BOOKINGS (1 000 000) bookings of history on SCALE_SHOWS (10 000) other shows of the same
# chain, for SCALE_CUSTOMERS (100 000) other customers, by bench/seed_bookings_scale.sql (plain
# SQL, a minute or two); every phase then deletes only the bench shows' bookings, so each one
# runs on tables of that size. SCALE=0: fresh tables, as before.
#
# Env: DURATION (s per timed phase, default 20), PAY_MAX (s, bound of a pay phase, 30),
# THREADS (2), CONNS (32), CUSTOMERS (200), SHOWS (500), BENCH_PG
# (postgres://postgres@127.0.0.1:5432), BENCH_DB (cineflow_bench_<pid>, dropped and recreated),
# KEEP=1 keeps the work directory (logs, pgbench -r per-statement latencies); PERF=1 also
# records a system-wide `perf record -g` profile of every phase into it (for analysis only:
# perf costs a few percent, so figures from such a run are not the reference ones); DIAG=1
# loads auto_explain into every session of the bench database and logs the plan of 2 % of
# the statements to PostgreSQL's server log (analysis only, too); SCENARIOS="spread hot"
# (default) chooses the scenarios. RESULTS_OUT=FILE also writes the per-phase results (JSON
# lines, as booking_stats.py computes them) there; BENCH_SKIP_BUILD=1 skips the build step
# (bench/all.sh builds once before its parts).
# Traffic goes to 127.0.0.1 only. Works from any directory.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$PWD"

DURATION="${DURATION:-20}"
WARMUP="${WARMUP:-5}"
PAY_MAX="${PAY_MAX:-30}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-32}"
CUSTOMERS="${CUSTOMERS:-200}"
SHOWS="${SHOWS:-500}"
BENCH_PG="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
DB="${BENCH_DB:-cineflow_bench_$$}"
target="${CARGO_TARGET_DIR:-$repo/target}"
[[ "$target" == /* ]] || target="$repo/$target"
stats="$repo/bench/booking_stats.py"

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
psql_db() { psql "$BENCH_PG/$DB" -v ON_ERROR_STOP=1 -qAt "$@"; }

# One run at a time on a machine: two would share the CPUs and spoil each other's figures.
exec 9>"${TMPDIR:-/tmp}/cineflow-booking-load.lock"
if ! flock -n 9; then
    log "another bench/booking_load.sh is running on this machine; try again when it is done"
    exit 1
fi

# --- 1. tools ------------------------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
    sudo=""
    [[ "$(id -u)" == 0 ]] || sudo="sudo"
    log "installing wrk"
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq wrk >/dev/null
fi
pgbench=/usr/bin/pgbench
[[ -x "$pgbench" ]] || pgbench="$(command -v pgbench)"

# --- 2. build -------------------------------------------------------------------------------
if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
    log "building components and the release binary (slow the first time)"
    bash scripts/build-components.sh >/dev/null
    cargo build --release -p cineflow --quiet
fi
bin="$target/release/cineflow"
host_rev="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
[[ -z "$(git -C "$repo" status --porcelain -- host migrations 2>/dev/null)" ]] ||
    host_rev="$host_rev plus uncommitted changes under host/ or migrations/"

# --- 3. database and server -----------------------------------------------------------------
work="$(mktemp -d /tmp/cineflow-booking-load.XXXXXX)"
server_pid=""
perf_pid=""
db_created=0
cleanup() {
    local rc=$?
    if [[ -n "$perf_pid" ]]; then
        kill -INT "$perf_pid" 2>/dev/null || true
        wait "$perf_pid" 2>/dev/null || true
    fi
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ $db_created == 1 ]]; then
        psql "$BENCH_PG/postgres" -qAt -c "drop database if exists $DB with (force)" >/dev/null 2>&1 || true
    fi
    if [[ "${KEEP:-0}" == 1 || "${PERF:-0}" == 1 || $rc != 0 ]]; then
        log "work directory kept: $work"
        [[ $rc == 0 ]] || { echo "--- server log (tail)" >&2; tail -20 "$work/server.log" >&2 2>/dev/null || true; }
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

log "database $DB (fresh)"
psql "$BENCH_PG/postgres" -v ON_ERROR_STOP=1 -qAt \
    -c "drop database if exists $DB with (force)" -c "create database $DB" >/dev/null
db_created=1
if [[ "${DIAG:-0}" == 1 ]]; then
    psql "$BENCH_PG/postgres" -v ON_ERROR_STOP=1 -qAt \
        -c "alter database $DB set session_preload_libraries = 'auto_explain'" \
        -c "alter database $DB set auto_explain.log_min_duration = 0" \
        -c "alter database $DB set auto_explain.sample_rate = 0.02" >/dev/null
fi

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
metrics_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
admin_email="bench-admin@example.com"
admin_password="Bench-Admin-2026-$RANDOM"
jwt_secret="bench-secret-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"

start_server() {
    DATABASE_URL="$BENCH_PG/$DB" \
    CINEFLOW_LISTEN="127.0.0.1:$port" \
    CINEFLOW_METRICS_LISTEN="127.0.0.1:$metrics_port" \
    CINEFLOW_DATA_DIR="$work/data" \
    CINEFLOW_COMPONENTS_DIR="$target/components" \
    CINEFLOW_JWT_SECRET="$jwt_secret" \
    CINEFLOW_TOKEN_TTL_SECS=7200 \
    CINEFLOW_ADMIN_EMAIL="$admin_email" \
    CINEFLOW_ADMIN_PASSWORD="$admin_password" \
    CINEFLOW_SIGNIN_PER_EMAIL_PER_MINUTE=100000 \
    CINEFLOW_SIGNIN_PER_CLIENT_PER_MINUTE=100000 \
    CINEFLOW_SIGNUP_PER_CLIENT_PER_MINUTE=100000 \
    RUST_LOG=warn \
        "$bin" serve >>"$work/server.log" 2>&1 9>&- &
    server_pid=$!
    for _ in $(seq 1 240); do
        curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
        kill -0 "$server_pid" 2>/dev/null || { log "the server exited"; exit 1; }
        sleep 0.25
    done
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null
}

stop_server() {
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}

# A measured HTTP phase starts with fresh database sessions, as every pgbench run does: the
# plans PostgreSQL caches for sqlx's prepared statements then depend on the same statistics
# and history in (a) and (b).
restart_server() {
    stop_server
    start_server
}

start_server
log "cineflow serve on 127.0.0.1:$port (pid $server_pid)"

# --- 4. seed through the API ----------------------------------------------------------------
log "seeding: owner, chain, theatre, movie, 1 screen of 500 seats, $SHOWS shows, $CUSTOMERS customers"
python3 "$repo/bench/booking_seed.py" "http://127.0.0.1:$port" "$admin_email" "$admin_password" \
    "$CUSTOMERS" "$SHOWS" "$work" >&2
# Lookup tables for pgbench (numbers -> ids) and a time-ordered uuid like Uuid::now_v7().
awk '{print NR-1 "," $1}' "$work/tokens.txt" >"$work/users.csv"
awk '{print NR-1 "," $1}' "$work/shows.txt" >"$work/shows.csv"
psql_db >/dev/null <<SQL
create table bench_users (n integer primary key, id uuid not null);
create table bench_shows (n integer primary key, id uuid not null);
\copy bench_users from '$work/users.csv' csv
\copy bench_shows from '$work/shows.csv' csv
create function bench_uuid7() returns uuid language sql volatile as \$\$
    select (lpad(to_hex((extract(epoch from clock_timestamp()) * 1000)::bigint), 12, '0')
            || '7' || substr(md5(random()::text), 1, 19))::uuid
\$\$;
analyze;
SQL
# Representative component inputs for the least-SQL hold's audit rows (the host records each
# decision's whole input).
psql_db -f "$repo/bench/bench_audit_inputs.sql" >/dev/null
chain_id="$(cat "$work/chain.txt")"
# The chain's ticket key, made now (as a first payment would) so that every pay phase, pgbench's
# too, writes its tickets with it.
curl -sf "http://127.0.0.1:$port/api/v1/chains/$chain_id/checkin-keys" >/dev/null
if [[ "${SCALE:-1}" == 1 ]]; then
    log "scale: ${SCALE_BOOKINGS:-1000000} bookings on ${SCALE_SHOWS:-10000} more shows (bench/seed_bookings_scale.sql)"
    scale_s=$SECONDS
    psql_db -v chain="$chain_id" -v shows="${SCALE_SHOWS:-10000}" -v bookings="${SCALE_BOOKINGS:-1000000}" \
        -v customers="${SCALE_CUSTOMERS:-100000}" -f "$repo/bench/seed_bookings_scale.sql" >"$work/scale.out"
    log "scale: seeded in $((SECONDS - scale_s)) s: $(tail -1 "$work/scale.out")"
    psql_db -c "checkpoint" >/dev/null
fi
if [[ "${BENCH_AUTOVACUUM:-0}" != 1 ]]; then
    for t in bookings booking_seats booking_audit payments tickets notifications idempotency_keys \
        webhook_deliveries; do
        psql_db -c "alter table $t set (autovacuum_enabled = off)"
    done
fi

# --- 5./6. phases ---------------------------------------------------------------------------
results="$work/results.jsonl"
: >"$results"

reset_bookings() { # every phase starts from no bench bookings, the same data, a fresh checkpoint
    # Only the bench shows' bookings go: the scale seed's history (other shows) stays. VACUUM
    # so that the dead rows of one phase do not slow the next one's index scans.
    psql_db >/dev/null <<'SQL'
delete from tickets where show_id in (select id from bench_shows);
delete from payments where booking_id in (select b.id from bookings b join bench_shows s on s.id = b.show_id);
delete from webhook_deliveries where kind like 'booking.%' or kind like 'payment.%';
delete from bookings where show_id in (select id from bench_shows);
truncate idempotency_keys;
delete from notifications where kind like 'booking-%';
vacuum (analyze) bookings, booking_seats, booking_audit, payments, tickets, notifications, webhook_deliveries;
checkpoint;
SQL
}

snap() {
    python3 "$stats" snap "$metrics_port" "$server_pid" >"$work/$1.json"
    psql_db -F ' ' -c "select relname, seq_scan, seq_tup_read, coalesce(idx_scan, 0), n_tup_ins
                       from pg_stat_user_tables" >"$work/$1.tables"
}

perf_pid=""
perf_start() {
    [[ "${PERF:-0}" == 1 ]] || return 0
    perf record -a -g -F 499 -o "$work/$1.perf.data" >/dev/null 2>&1 &
    perf_pid=$!
    sleep 0.5
}
perf_stop() {
    [[ -n "$perf_pid" ]] || return 0
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
    perf_pid=""
    perf report -i "$work/$1.perf.data" --no-children -g none --sort comm,dso --stdio 2>/dev/null \
        | grep -v '^#' | grep -v '^$' | head -40 >"$work/$1.perf.txt" || true
}

finish_phase() { # kind name [pglog]
    snap "$2.after"
    python3 "$stats" phase "$1" "$2" "$work/$2.before.json" "$work/$2.after.json" \
        "$work/$2.out" "$work/$2.time" ${3:+"$3"} >>"$results"
    python3 - "$results" >&2 <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.strip()][-1]
print(f"    {r['name']}: {r['ok']} ok, {r['rate']:.0f}/s, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
      f"other {r['other']}, load {r['load_before']} -> {r['load_after']}, CPU busy {r['cpu_busy_pct']:.0f} %")
PY
}

analyze_bookings() {
    psql_db -c "analyze bookings, booking_seats, booking_audit, payments, notifications"
}

# Warm-up of a pgbench hold phase; prints the counter offset for the measured run (past every
# request of the warm-up, so no seat is asked for twice).
warm_pgbench() { # name script
    local name="$1" script="$2"
    log "(a) pgbench $name: ${WARMUP} s warm-up"
    timeout 60 "$pgbench" -n -M prepared -c "$CONNS" -j "$THREADS" -T "$WARMUP" -D k=0 \
        -D nc="$CONNS" -D hot="$HOT" -D nshows="$SHOWS" -D nusers="$CUSTOMERS" -D chain="$chain_id" \
        -l --log-prefix="$work/$name.warm.log" -f "$script" "$BENCH_PG/$DB" \
        >"$work/$name.warm.out" 2>&1 || { cat "$work/$name.warm.out" >&2; exit 1; }
    analyze_bookings
    cat "$work/$name".warm.log.* | awk '$2 + 1 > m { m = $2 + 1 } END { print m + 0 }'
}

warm_wrk() { # name mode; prints the counter offset for the measured run
    local name="$1" mode="$2"
    log "(b) wrk $name: ${WARMUP} s warm-up"
    wrk -t "$THREADS" -c "$CONNS" -d "${WARMUP}s" --timeout 10s \
        -s "$repo/bench/hold_pay.lua" "http://127.0.0.1:$port" -- "$mode" "$work" "$THREADS" \
        >"$work/$name.warm.out" 2>&1 || { cat "$work/$name.warm.out" >&2; exit 1; }
    analyze_bookings
    sed -n 's/^WRKSTAT .*kmax=\([0-9]*\).*/\1/p' "$work/$name.warm.out"
}

run_pgbench() { # name script k0 -T secs | -t count
    local name="$1" script="$2" k0="$3"
    shift 3
    log "(a) pgbench $name"
    perf_start "$name"
    snap "$name.before"
    /usr/bin/time -f "%e %U %S" -o "$work/$name.time" \
        timeout 120 "$pgbench" -n -M prepared -r \
        -c "$CONNS" -j "$THREADS" "$@" -D k="$k0" -D nc="$CONNS" -D hot="$HOT" -D nshows="$SHOWS" \
        -D nusers="$CUSTOMERS" -D chain="$chain_id" -l --log-prefix="$work/$name.log" -f "$script" "$BENCH_PG/$DB" \
        >"$work/$name.out" 2>&1 || { cat "$work/$name.out" >&2; exit 1; }
    finish_phase pgbench "$name" "$work/$name.log"
    perf_stop "$name"
}

run_wrk() { # name mode secs k0
    local name="$1" mode="$2" secs="$3" k0="${4:-0}"
    log "(b) wrk $name"
    perf_start "$name"
    snap "$name.before"
    /usr/bin/time -f "%e %U %S" -o "$work/$name.time" \
        wrk -t "$THREADS" -c "$CONNS" -d "${secs}s" --timeout 10s --latency \
        -s "$repo/bench/hold_pay.lua" "http://127.0.0.1:$port" -- "$mode" "$work" "$THREADS" "$k0" \
        >"$work/$name.out" 2>&1 || { cat "$work/$name.out" >&2; exit 1; }
    finish_phase wrk "$name"
    perf_stop "$name"
}

# Holds of the phase just run, in creation order, for the pay phase that follows.
pay_queue() {
    psql_db >/dev/null <<'SQL'
drop table if exists bench_pay_queue;
create table bench_pay_queue as
    select (row_number() over (order by id) - 1)::integer as n, id as booking_id, user_id
    from bookings where status = 'held';
alter table bench_pay_queue add primary key (n);
analyze bench_pay_queue;
SQL
    psql_db -c "select count(*) from bench_pay_queue"
}

for scenario in ${SCENARIOS:-spread hot}; do
    HOT=$([[ $scenario == hot ]] && echo 1 || echo 0)

    # (l) the least SQL, then (a) the host's own SQL, then (b) the API.
    for kind in least pgbench; do
        hold_sql="$repo/bench/pgbench_hold.sql" pay_sql="$repo/bench/pgbench_pay.sql"
        [[ $kind == pgbench ]] || hold_sql="$repo/bench/pgbench_least_hold.sql" pay_sql="$repo/bench/pgbench_least_pay.sql"
        reset_bookings
        k0="$(warm_pgbench "${kind}_hold_$scenario" "$hold_sql")"
        run_pgbench "${kind}_hold_$scenario" "$hold_sql" "$k0" -T "$DURATION"
        held="$(pay_queue)"
        per_client=$((held / CONNS))
        run_pgbench "${kind}_pay_$scenario" "$pay_sql" 0 -t "$per_client"
    done

    reset_bookings
    k0="$(warm_wrk "http_hold_$scenario" "$scenario")"
    restart_server
    run_wrk "http_hold_$scenario" "$scenario" "$DURATION" "$k0"
    pay_queue >/dev/null
    psql_db -F ' ' -c "select q.booking_id, q.user_id, b.total_minor from bench_pay_queue q
                       join bookings b on b.id = q.booking_id order by q.n" >"$work/pay.raw"
    awk 'NR == FNR { tok[$1] = $2; next } { print $1, tok[$2], $3 }' \
        "$work/tokens.txt" "$work/pay.raw" >"$work/pay.txt"
    restart_server
    run_wrk "http_pay_$scenario" pay "$PAY_MAX"
done

# --- 8. report ------------------------------------------------------------------------------
[[ -z "${RESULTS_OUT:-}" ]] || cp "$results" "$RESULTS_OUT"
echo "## Booking throughput (issue 5) — run of $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r);" \
    "$(psql "$BENCH_PG/postgres" -qAt -c 'select version()' | cut -d' ' -f1-2) (shared_buffers" \
    "$(psql "$BENCH_PG/postgres" -qAt -c 'show shared_buffers'), synchronous_commit" \
    "$(psql "$BENCH_PG/postgres" -qAt -c 'show synchronous_commit')); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2);" \
    "$CONNS connections / $THREADS threads for both (a) and (b); $DURATION s per hold phase;" \
    "$SHOWS shows × 500 seats, $CUSTOMERS customers; ${WARMUP} s warm-up + ANALYZE before each hold phase." \
    "Host built at commit $host_rev."
echo
python3 "$stats" report "$results"
if [[ "${KEEP:-0}" == 1 || "${PERF:-0}" == 1 ]]; then
    echo
    echo "Per-statement latencies (pgbench -r) and raw outputs: $work"
fi
