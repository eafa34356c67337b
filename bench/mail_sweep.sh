#!/usr/bin/env bash
# Email throughput: the sweeper (claim, render through the default notify-templates component,
# send, record) against a bare pooled lettre loop to the same SMTP sink, in the same run.
# Prints a Markdown table for docs/BENCHMARKS.md. Env: N (10000 emails per round), ROUNDS (3),
# CONCURRENCY (8), BATCH (100), DATABASE_URL (a server where the role may create databases).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
bash scripts/build-components.sh >/dev/null
export CINEFLOW_COMPONENTS_DIR="${CARGO_TARGET_DIR:-$PWD/target}/components"
cargo bench -p cineflow --bench mail_sweep --no-run >/dev/null 2>&1

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
out="$(cargo bench -p cineflow --bench mail_sweep 2>/dev/null)"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

echo "## Email sweeper vs bare SMTP loop ($(date -u +%Y-%m-%dT%H:%MZ))"
echo
echo "Machine: $(nproc) cores, $(uname -r); ${N:-10000} emails per round, concurrency ${CONCURRENCY:-8}, batch ${BATCH:-100}; load (1/5/15 min) before: $load_before, after: $load_after."
echo
echo "| round | sweeper (emails/s) | bare lettre loop (emails/s) | ratio (goal ≥ 0.5) |"
echo "|---|---|---|---|"
echo "$out" | awk -F, 'NR > 1 && NF == 4 { printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }'
echo "$out" | awk -F, 'NR > 1 && NF == 4 { r[n++] = $4 } END { asort(r); printf "\nMedian ratio: %s\n", r[int((n + 1) / 2)] }'
