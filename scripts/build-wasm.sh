#!/usr/bin/env bash
# Builds the browser packages into www/pkg/ (git-ignored): rill-wasm (the embeddable JS API)
# and rill-dashboard (the Yew dashboard, loaded by www/index.html), for wasm32 with the
# `wasm` profile, then wasm-bindgen --target web --remove-name-section. Prints the sizes.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
wasm_cargo build --locked --profile wasm -p rill-wasm -p rill-dashboard
out="$(wasm_target_dir)/wasm32-unknown-unknown/wasm"
rm -rf www/pkg
for crate in rill_wasm rill_dashboard; do
    [ -f "$out/$crate.wasm" ] || die "build produced no $out/$crate.wasm"
    wasm-bindgen --target web --remove-name-section --out-dir www/pkg "$out/$crate.wasm"
    size=$(stat -c %s "www/pkg/${crate}_bg.wasm")
    gzipped=$(gzip -9 -c "www/pkg/${crate}_bg.wasm" | wc -c)
    echo "www/pkg/${crate}_bg.wasm: $size bytes ($gzipped gzipped)"
done
