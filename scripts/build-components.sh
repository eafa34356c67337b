#!/usr/bin/env bash
# Builds the default components (booking-rules, pricing, notify-templates) and the hostile test
# guests as WebAssembly components (wasm32-wasip2, profile `wasm`), and copies them to
#   $CARGO_TARGET_DIR/components/{booking-rules,pricing,notify-templates}.wasm
#   $CARGO_TARGET_DIR/components/hostile/{well-behaved,loop,memory-bomb,...}.wasm
# CARGO_TARGET_DIR defaults to <repo>/target. Works from any directory.
set -euo pipefail

# Resolve a relative CARGO_TARGET_DIR against the caller's directory before leaving it.
target_dir="${CARGO_TARGET_DIR:-}"
if [[ -n "$target_dir" && "$target_dir" != /* ]]; then
    target_dir="$PWD/$target_dir"
fi

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
target_dir="${target_dir:-$repo/target}"
export CARGO_TARGET_DIR="$target_dir"

target=wasm32-wasip2
profile=wasm
built="$target_dir/$target/$profile"
out="$target_dir/components"
hostile_features=(loop memory-bomb huge-output panic bad-quote noisy)

if ! rustup target add "$target" >/dev/null 2>&1; then
    echo "warning: 'rustup target add $target' failed; trying the build anyway" >&2
fi

# Copies a built artifact, refusing anything that is not a component (a core module starts
# 00 61 73 6d 01 00 00 00; a component 00 61 73 6d 0d 00 01 00).
install_component() {
    local from="$1" to="$2" magic
    magic="$(od -An -tx1 -N8 "$from" | tr -d ' \n')"
    if [[ "$magic" != "0061736d0d000100" ]]; then
        echo "error: $from is not a WebAssembly component (header $magic)" >&2
        exit 1
    fi
    mkdir -p "$(dirname "$to")"
    cp "$from" "$to"
}

cargo build --target "$target" --profile "$profile" \
    -p booking-rules -p pricing -p notify-templates
install_component "$built/booking_rules.wasm" "$out/booking-rules.wasm"
install_component "$built/pricing.wasm" "$out/pricing.wasm"
install_component "$built/notify_templates.wasm" "$out/notify-templates.wasm"

# Every hostile build writes the same artifact, so copy each one before the next build.
cargo build --target "$target" --profile "$profile" -p hostile-guest
install_component "$built/hostile_guest.wasm" "$out/hostile/well-behaved.wasm"
for feature in "${hostile_features[@]}"; do
    cargo build --target "$target" --profile "$profile" -p hostile-guest --features "$feature"
    install_component "$built/hostile_guest.wasm" "$out/hostile/$feature.wasm"
done

echo "components in $out:"
for f in "$out"/*.wasm "$out"/hostile/*.wasm; do
    printf '  %8d  %s\n' "$(wc -c <"$f")" "${f#"$out"/}"
done
