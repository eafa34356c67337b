#!/usr/bin/env bash
# Builds the default components (booking-rules, pricing, notify-templates, seat-picker) and the
# hostile test guests as WebAssembly components (wasm32-wasip2, profile `wasm`), and the
# compatibility guest the way `cargo component build` would (wasm32-wasip1 core module + the
# preview1 reactor adapter, applied by tools/componentize), and copies them to
#   $CARGO_TARGET_DIR/components/{booking-rules,pricing,notify-templates,seat-picker}.wasm
#   $CARGO_TARGET_DIR/components/hostile/{well-behaved,loop,memory-bomb,...,double,trap-on-promo}.wasm
#   $CARGO_TARGET_DIR/components/hostile/sleepy-templates.wasm
#   $CARGO_TARGET_DIR/components/hostile/picker-{well-behaved,wrong-count,taken,...,wrong-class}.wasm
#   $CARGO_TARGET_DIR/components/compat/wasip1-pricing.wasm
# and the example chain components (examples/components/<name>, wasm32-wasip2, profile `wasm`) to
#   $CARGO_TARGET_DIR/components/examples/{matinee-pricing,promo-pricing,...}.wasm
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
hostile_features=(loop memory-bomb huge-output panic bad-quote noisy double trap-on-promo escape
    sleep sleep-on-promo wait-forever stdin resource-flood random-flood yield-forever write-flood
    every-way)
# The hostile seat pickers (tests/guests/hostile-picker): each feature is one misbehaviour.
picker_features=(wrong-count taken unknown loop duplicate wrong-class)
# Example chain components: the crate examples/components/<name> is the package <name>.
examples=(matinee-pricing promo-pricing no-single-gap-rules templates-hi imax-sweet-spot)

p1_target=wasm32-wasip1
built_p1="$target_dir/$p1_target/$profile"

for t in "$target" "$p1_target"; do
    if ! rustup target add "$t" >/dev/null 2>&1; then
        echo "warning: 'rustup target add $t' failed; trying the build anyway" >&2
    fi
done

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
    -p booking-rules -p pricing -p notify-templates -p seat-picker
install_component "$built/booking_rules.wasm" "$out/booking-rules.wasm"
install_component "$built/pricing.wasm" "$out/pricing.wasm"
install_component "$built/notify_templates.wasm" "$out/notify-templates.wasm"
install_component "$built/seat_picker.wasm" "$out/seat-picker.wasm"

# Every hostile build writes the same artifact, so copy each one before the next build.
cargo build --target "$target" --profile "$profile" -p hostile-guest
install_component "$built/hostile_guest.wasm" "$out/hostile/well-behaved.wasm"
for feature in "${hostile_features[@]}"; do
    cargo build --target "$target" --profile "$profile" -p hostile-guest --features "$feature"
    install_component "$built/hostile_guest.wasm" "$out/hostile/$feature.wasm"
done

# A notify-templates test guest that sleeps on events marked SLEEP (tests/api/isolation.rs).
cargo build --target "$target" --profile "$profile" -p sleepy-templates
install_component "$built/sleepy_templates.wasm" "$out/hostile/sleepy-templates.wasm"

# The seat pickers: like hostile-guest, one artifact per build, copied before the next.
cargo build --target "$target" --profile "$profile" -p hostile-picker
install_component "$built/hostile_picker.wasm" "$out/hostile/picker-well-behaved.wasm"
for feature in "${picker_features[@]}"; do
    cargo build --target "$target" --profile "$profile" -p hostile-picker --features "$feature"
    install_component "$built/hostile_picker.wasm" "$out/hostile/picker-$feature.wasm"
done

# A component as cargo-component builds it: a wasip1 core module (header 00 61 73 6d 01 00 00 00)
# whose wasi_snapshot_preview1 imports the reactor adapter turns into wasi:* 0.2 imports.
cargo build --target "$p1_target" --profile "$profile" -p wasip1-pricing
cargo run --quiet -p componentize -- \
    "$built_p1/wasip1_pricing.wasm" "$built_p1/wasip1_pricing.component.wasm"
install_component "$built_p1/wasip1_pricing.component.wasm" "$out/compat/wasip1-pricing.wasm"

example_packages=()
for name in "${examples[@]}"; do
    example_packages+=(-p "$name")
done
cargo build --target "$target" --profile "$profile" "${example_packages[@]}"
for name in "${examples[@]}"; do
    install_component "$built/${name//-/_}.wasm" "$out/examples/$name.wasm"
done

echo "components in $out:"
for f in "$out"/*.wasm "$out"/hostile/*.wasm "$out"/compat/*.wasm "$out"/examples/*.wasm; do
    printf '  %8d  %s\n' "$(wc -c <"$f")" "${f#"$out"/}"
done
