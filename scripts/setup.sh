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

# wasm-bindgen-cli at exactly the wasm-bindgen version Cargo.lock pins.
want="$(wasm_bindgen_version)"
[ -n "$want" ] || die "no wasm-bindgen in Cargo.lock"
have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')"
if [ "$have" != "$want" ]; then
    step "installing wasm-bindgen-cli $want (was: ${have:-none}); takes a few minutes once"
    # --locked fails for some versions (their lockfile pins a crate the registry no longer serves).
    cargo install wasm-bindgen-cli --version "=$want"
fi
echo "wasm-bindgen: $(wasm-bindgen --version)"

# Headless Chromium and its WebDriver for the browser tests.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    step "installing chromium and chromium-driver"
    apt_install chromium chromium-driver
fi
echo "browser: $(chromium --version 2>/dev/null | head -1)"

# Real Kafka clients for the broker's interop tests: kcat (librdkafka, Debian), and in
# git-ignored folders a Python venv with confluent-kafka and kafka-python, and kafkajs.
if ! command -v kcat >/dev/null; then
    step "installing kcat"
    apt_install kcat
fi
echo "kcat: $(kcat -V 2>/dev/null | head -1)"
if ! "$ROOT/.venv/bin/python" -c "import confluent_kafka, kafka" 2>/dev/null; then
    step "installing confluent-kafka and kafka-python into .venv"
    python3 -m venv "$ROOT/.venv"
    "$ROOT/.venv/bin/pip" install --quiet --disable-pip-version-check "confluent-kafka==2.*" "kafka-python==2.*"
fi
echo "python clients: $("$ROOT/.venv/bin/python" -c 'import confluent_kafka, kafka; print("confluent-kafka", confluent_kafka.version()[0], "kafka-python", kafka.__version__)')"
if [ ! -f "$TOOLS_DIR/node/node_modules/kafkajs/package.json" ]; then
    step "installing kafkajs"
    mkdir -p "$TOOLS_DIR/node"
    (cd "$TOOLS_DIR/node" && npm install --silent --no-audit --no-fund kafkajs@2.2.4 >/dev/null)
fi
echo "kafkajs: $(node -e "console.log(require('$TOOLS_DIR/node/node_modules/kafkajs/package.json').version)")"
