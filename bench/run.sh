#!/usr/bin/env bash
# Runs the benchmarks and prints a Markdown report (machine, load, figures) for
# docs/BENCHMARKS.md. Each benchmark runs ROUNDS times (default 2) so the spread is visible
# on a shared, noisy machine; ratios compare figures measured in the same round.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

rounds="${ROUNDS:-2}"
bash scripts/build-components.sh >/dev/null
export CINEFLOW_COMPONENTS_DIR="${CARGO_TARGET_DIR:-$PWD/target}/components"
crit="${CARGO_TARGET_DIR:-$PWD/target}/criterion/pricing_quote"
out="$(mktemp -d)"

cargo bench -p cineflow --bench component_call --no-run >/dev/null 2>&1

median_us() { # criterion's median of sample means, in microseconds
    python3 -c 'import json,sys; print("%.1f" % (json.load(open(sys.argv[1]))["median"]["point_estimate"]/1000))' "$1/new/estimates.json"
}

echo "## Component call cost ($(date -u +%Y-%m-%dT%H:%MZ))"
echo
echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r); rustc $(rustc --version | cut -d' ' -f2); wasmtime 48."
echo
echo "| round | load (1/5/15 min) before | seats | fresh instance p50 / p99 (µs) | reused instance p50 / p99 (µs) | criterion median fresh / reused (µs) | fresh ÷ reused |"
echo "|---|---|---|---|---|---|---|"
for round in $(seq 1 "$rounds"); do
    load="$(cut -d' ' -f1-3 /proc/loadavg)"
    cargo bench -p cineflow --bench component_call -- --noplot >"$out/round$round.txt" 2>/dev/null
    for seats in 4 200; do
        f="$(grep "LATENCY fresh_instance/$seats " "$out/round$round.txt")"
        r="$(grep "LATENCY reused_instance/$seats " "$out/round$round.txt")"
        fp50="$(sed -E 's/.*p50_us=([0-9.]+).*/\1/' <<<"$f")"; fp99="$(sed -E 's/.*p99_us=([0-9.]+).*/\1/' <<<"$f")"
        rp50="$(sed -E 's/.*p50_us=([0-9.]+).*/\1/' <<<"$r")"; rp99="$(sed -E 's/.*p99_us=([0-9.]+).*/\1/' <<<"$r")"
        cf="$(median_us "$crit/fresh_instance/$seats")"; cr="$(median_us "$crit/reused_instance/$seats")"
        ratio="$(python3 -c "print('%.1f' % ($fp50/$rp50))")"
        echo "| $round | $load | $seats | $fp50 / $fp99 | $rp50 / $rp99 | $cf / $cr | $ratio× |"
    done
done
echo
echo "Target: fresh-instance p50 ≤ 25 µs for 4 seats."
