#!/usr/bin/env bash
# Regenerates the compile-time query data of the host's `sqlx::query!` macros (`host/.sqlx/`)
# from the migrations, or with `--check` fails when the committed data is stale: a query or a
# migration changed without regenerating it.
#
# How: a scratch database gets every migration (psql, in order, each in one transaction, as
# sqlx's migrator applies them), then the host crate is recompiled with the macros online
# against it and `SQLX_OFFLINE_DIR` set, which is where sqlx's macros write the data of every
# query they check (the same mechanism `cargo sqlx prepare` drives; no sqlx-cli needed).
#
# Needs DATABASE_URL's server (a role that may create databases); the scratch database is
# `<db>_sqlx_prepare`, dropped at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

check=false
[ "${1:-}" = "--check" ] && check=true

server="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
base="${server%%\?*}"
scratch_name="cineflow_sqlx_prepare_$$"
scratch="${base%/*}/$scratch_name"

psql -q -X -v ON_ERROR_STOP=1 -d "$server" -c "set client_min_messages = warning" -c "drop database if exists $scratch_name" \
    -c "create database $scratch_name" >/dev/null
cleanup() { psql -q -X -d "$server" -c "drop database if exists $scratch_name" >/dev/null 2>&1 || true; }
trap cleanup EXIT
for f in migrations/*.sql; do
    psql -q -X -v ON_ERROR_STOP=1 --single-transaction -d "$scratch" -f "$f" >/dev/null
done

out="$(mktemp -d "${TMPDIR:-/tmp}/cineflow-sqlx.XXXXXX")"
# The macros run only when the crate compiles: touch it so they do, online, writing to $out.
touch host/src/lib.rs
# The same build as the test command's (`cargo test --workspace --no-run`), so that in the test
# command this is that build and costs nothing extra.
SQLX_OFFLINE=false DATABASE_URL="$scratch" SQLX_OFFLINE_DIR="$out" \
    cargo test --workspace --no-run --quiet

if $check; then
    if ! diff -r -q host/.sqlx "$out" >/dev/null 2>&1; then
        echo "error: host/.sqlx is stale: a query or a migration changed without regenerating it." >&2
        diff -r -q host/.sqlx "$out" >&2 || true
        echo "Run: bash scripts/sqlx-prepare.sh" >&2
        rm -rf "$out"
        exit 1
    fi
    rm -rf "$out"
    echo "host/.sqlx is up to date ($(ls host/.sqlx | wc -l) queries)"
else
    rm -rf host/.sqlx
    mv "$out" host/.sqlx
    echo "host/.sqlx: $(ls host/.sqlx | wc -l) queries"
fi
