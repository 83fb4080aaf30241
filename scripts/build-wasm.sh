#!/usr/bin/env bash
# Builds the browser package into www/pkg/ (git-ignored): rill-wasm for wasm32 with the `wasm`
# profile, then wasm-bindgen --target web --remove-name-section. Prints the .wasm size.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
wasm_cargo build --locked --profile wasm -p rill-wasm
wasm="$(wasm_target_dir)/wasm32-unknown-unknown/wasm/rill_wasm.wasm"
[ -f "$wasm" ] || die "build produced no $wasm"
rm -rf www/pkg
wasm-bindgen --target web --remove-name-section --out-dir www/pkg "$wasm"
size=$(stat -c %s www/pkg/rill_wasm_bg.wasm)
gzipped=$(gzip -9 -c www/pkg/rill_wasm_bg.wasm | wc -c)
echo "www/pkg/rill_wasm_bg.wasm: $size bytes ($gzipped gzipped)"
