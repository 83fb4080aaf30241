#!/usr/bin/env bash
# Installs what Rill's build and tests need, idempotently. Re-running on a ready machine takes
# seconds. Called by scripts/run.sh and scripts/test.sh; safe to run by hand.
. "$(dirname "$0")/lib.sh"

command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs)"

# The wasm32 target: route A (rustup) first, route B (Debian rustc-web + build-std) as fallback.
if [ "$(wasm_route)" = none ] || { [ "$(wasm_route)" = rustup ] && ! rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown; }; then
    step "installing the wasm32-unknown-unknown toolchain"
    if command -v rustup >/dev/null && rustup target add wasm32-unknown-unknown; then
        echo rustup > "$TOOLS_DIR/wasm-route"
    else
        echo "rustup target unavailable; falling back to Debian rustc-web with -Z build-std"
        apt_install rustc-web cargo-web rust-web-src rust-web-llvm lld-22
        echo debian > "$TOOLS_DIR/wasm-route"
    fi
fi
echo "wasm32 route: $(wasm_route)"
