#!/usr/bin/env bash
# Fuzzes the parsers of untrusted input (docs/fuzzing.md): builds every target of fuzz/ once,
# runs each for FUZZ_SECONDS (default 30), and fails on any crash, printing the reproducer and
# the command that replays it.
#
#   scripts/fuzz.sh                    # every target
#   scripts/fuzz.sh json_body          # some targets
#   FUZZ_SECONDS=600 scripts/fuzz.sh   # longer runs
#   FUZZ_TARGET_DIR=/var/tmp/fuzz-target scripts/fuzz.sh   # build outside fuzz/target
#   FUZZ_PHASE=build scripts/fuzz.sh   # only build (scripts/test.sh does this in the background
#                                      # while the test suites run), FUZZ_PHASE=run: only run
#
# New corpus entries go to fuzz/corpus-new/<target>/ (not committed); the hand-written seeds in
# fuzz/corpus/<target>/ are only read. Crash reproducers land in fuzz/artifacts/<target>/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

seconds="${FUZZ_SECONDS:-30}"
# cargo-fuzz is made for nightly: its sanitizer builds pass `-Z` flags, which a stable rustc
# refuses, and only stable 1.95 exists here (no other toolchain can be downloaded).
# RUSTC_BOOTSTRAP=1 lets stable accept them. The `--sanitizer none` build below happens to need
# no `-Z` flag, but the variable stays fixed: flipping it rebuilds everything (anyhow's and
# proc-macro2's build scripts watch it), so every fuzz build uses one value (docs/fuzzing.md).
export RUSTC_BOOTSTRAP=1
# No sanitizer: AddressSanitizer also works here, but our crates deny `unsafe`, so it would
# mostly instrument wasmtime, for a longer build and slower runs. Panics, our code's overflow
# checks (fuzz/Cargo.toml), timeouts and libFuzzer's RSS limit still fail a run.
flags=(-O --sanitizer none)
# CI works in a fresh clone, so fuzz/target starts cold there; FUZZ_TARGET_DIR can point the
# fuzz build at a directory that outlives the clone.
if [ -n "${FUZZ_TARGET_DIR:-}" ]; then
    flags+=(--target-dir "$FUZZ_TARGET_DIR")
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "==> installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

phase="${FUZZ_PHASE:-all}"
if [ "$phase" != run ]; then
    echo "==> building every fuzz target once (fuzz/target, separate from target/)"
    build_started=$SECONDS
    cargo fuzz build "${flags[@]}"
    echo "    built in $((SECONDS - build_started)) s"
fi
if [ "$phase" = build ]; then
    exit 0
fi

dict_for() {
    case "$1" in
        seat_layout | json_body) echo "$root/fuzz/dicts/json.dict" ;;
        page_query) echo "$root/fuzz/dicts/page_query.dict" ;;
        component_upload) echo "$root/fuzz/dicts/component.dict" ;;
    esac
}

summary=()
failed=0
for target in "${targets[@]}"; do
    seeds="$root/fuzz/corpus/$target"
    found="$root/fuzz/corpus-new/$target"
    artifacts="$root/fuzz/artifacts/$target"
    log="$root/fuzz/artifacts/$target.log"
    if [ "$target" = component_upload ]; then
        # libFuzzer first replays the whole corpus, outside the time limit. Hundreds of 60 KB
        # components, each compiled, took most of a 30 s run (473 executions): this target
        # starts from its seeds every time and keeps only the last run's finds.
        rm -rf "$found"
    fi
    mkdir -p "$seeds" "$found" "$artifacts"
    stamp="$(mktemp)"
    args=(-max_total_time="$seconds" -timeout=20 -print_final_stats=1)
    dict="$(dict_for "$target")"
    [ -n "$dict" ] && args+=(-dict="$dict")
    echo "==> $target for ${seconds} s"
    status=0
    # The first corpus directory receives what the run discovers; the seeds stay untouched.
    cargo fuzz run "${flags[@]}" "$target" "$found" "$seeds" -- "${args[@]}" >"$log" 2>&1 || status=$?
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)"
    cov="$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n1 || true)"
    speed="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)"
    summary+=("$(printf '%-17s %10s execs %8s/s  %s' "$target" "${runs:-?}" "${speed:-?}" "${cov:-cov: ?}")")
    if [ "$status" -ne 0 ]; then
        failed=1
        tail -n 60 "$log"
        reproducer="$(find "$artifacts" -type f -newer "$stamp" | head -n1)"
        echo
        echo "!!! $target failed (exit $status); full log: $log"
        if [ -n "$reproducer" ]; then
            echo "    reproducer: $reproducer"
            echo "    replay:     RUSTC_BOOTSTRAP=1 cargo fuzz run ${flags[*]} $target $reproducer"
        fi
    fi
    rm -f "$stamp"
done

echo
echo "==> results (corpus growth kept in fuzz/corpus-new/)"
printf '    %s\n' "${summary[@]}"
if [ "$failed" -ne 0 ]; then
    echo "FAILED: a fuzz target crashed (see above)"
    exit 1
fi
echo "fuzz: ${#targets[@]} targets, no crash"
