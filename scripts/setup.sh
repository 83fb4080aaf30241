#!/usr/bin/env bash
# Installs what Rill's build and tests need, idempotently: the wasm32 target, wasm-bindgen-cli,
# headless Chromium and its WebDriver, kcat, and (in git-ignored .tools/ and .venv/) the
# Python and Node Kafka clients. Each step prints what it checked or installed; package
# managers write to .tools/setup.log, which is printed when they fail. Re-running on a ready
# machine takes a few seconds. Called by scripts/run.sh and scripts/test.sh; safe to run by hand.
. "$(dirname "$0")/lib.sh"

step "checking the tools Rill needs (package-manager output goes to ${SETUP_LOG#"$ROOT"/})"

command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs), then re-run"
say "cargo" "$(version_of cargo --version)"

# The wasm32 target: route A (rustup) first, route B (Debian rustc-web + build-std) as fallback.
rustup_has_wasm32() {
    command -v rustup >/dev/null && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown
}
if [ "$(wasm_route)" = debian ] && rustup_has_wasm32; then
    echo rustup >"$TOOLS_DIR/wasm-route"
fi
if [ "$(wasm_route)" = none ] || { [ "$(wasm_route)" = rustup ] && ! rustup_has_wasm32; }; then
    say "wasm32" "installing the wasm32-unknown-unknown target with rustup"
    if command -v rustup >/dev/null && rustup target add wasm32-unknown-unknown >>"$SETUP_LOG" 2>&1; then
        echo rustup >"$TOOLS_DIR/wasm-route"
    else
        say "wasm32" "rustup's target is unavailable; using Debian's rustc-web with -Z build-std instead"
        apt_install rustc-web cargo-web rust-web-src rust-web-llvm lld-22
        echo debian >"$TOOLS_DIR/wasm-route"
    fi
fi
say "wasm32" "route $(wasm_route) (see ARCHITECTURE.md, scripts/)"

# wasm-bindgen-cli at exactly the wasm-bindgen version Cargo.lock pins. Its build goes to a
# cache directory outside the clone, so a second clone or a re-install links in seconds.
want="$(wasm_bindgen_version)"
[ -n "$want" ] || die "no wasm-bindgen in Cargo.lock (is $ROOT a Rill checkout?)"
have="$(version_of wasm-bindgen --version | awk '{print $2}')"
if [ "$have" != "$want" ]; then
    say "wasm-bindgen" "installing wasm-bindgen-cli $want (found: ${have:-none}); the first time takes ~3 minutes"
    # --locked fails for some versions (their lockfile pins a crate the registry no longer serves).
    quietly "cargo install wasm-bindgen-cli $want" "check that crates.io is reachable" \
        env CARGO_TARGET_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/rill/cargo-install" \
        cargo install --force wasm-bindgen-cli --version "=$want"
    have="$(version_of wasm-bindgen --version | awk '{print $2}')"
    [ "$have" = "$want" ] || die "wasm-bindgen $want was installed but \`wasm-bindgen --version\` says '${have:-nothing}': is ${CARGO_HOME:-$HOME/.cargo}/bin on PATH?"
fi
say "wasm-bindgen" "$have"

# Headless Chromium and its WebDriver for the browser tests.
need_apt_command chromium chromium chromium-driver
need_apt_command chromedriver chromium-driver
say "chromium" "$(version_of chromium --version)"

# Real Kafka clients for the broker's interop tests: kcat (librdkafka, Debian), and in
# git-ignored folders a Python venv with confluent-kafka and kafka-python, and kafkajs.
need_apt_command kcat kcat
kcat_about="$(kcat -V 2>&1 || true)"
say "kcat" "$(awk '$1 == "Version" { print $1, $2 }' <<<"$kcat_about")"
need_apt_command curl curl

venv="$ROOT/.venv"
if ! "$venv/bin/python" -c "import confluent_kafka, kafka" 2>/dev/null; then
    command -v python3 >/dev/null || apt_install python3
    say "python" "creating $venv with confluent-kafka and kafka-python"
    if ! python3 -m venv "$venv" >>"$SETUP_LOG" 2>&1; then
        # Debian's own python3 keeps venv (ensurepip) in a separate package.
        apt_install python3-venv
        quietly "python3 -m venv" "install python3-venv" python3 -m venv "$venv"
    fi
    quietly "pip install confluent-kafka kafka-python" "check that PyPI is reachable" \
        "$venv/bin/pip" install --disable-pip-version-check "confluent-kafka==2.*" "kafka-python==2.*"
fi
say "python clients" "$("$venv/bin/python" -c 'import confluent_kafka, kafka; print("confluent-kafka", confluent_kafka.__version__, "/ kafka-python", kafka.__version__)')"

# Apache Kafka 4.4 (broker, tools, Java client) from Maven Central: the reference the tests
# run beside Rill. Jars go to .tools/kafka/libs (git-ignored).
need_apt_command java openjdk-17-jdk-headless
need_apt_command mvn maven
kafka_libs="$TOOLS_DIR/kafka/libs"
if [ ! -f "$kafka_libs/kafka-clients-4.4.0.jar" ] || [ "$ROOT/tests/kafka/pom.xml" -nt "$kafka_libs" ]; then
    say "kafka" "fetching Apache Kafka 4.4 jars from Maven Central into ${kafka_libs#"$ROOT"/}"
    rm -rf "$kafka_libs"
    quietly "mvn dependency:copy-dependencies (Kafka 4.4)" "check that Maven Central is reachable" \
        mvn -B -f "$ROOT/tests/kafka/pom.xml" dependency:copy-dependencies -DoutputDirectory="$kafka_libs"
fi
java_about="$(java -version 2>&1 || true)"
say "kafka" "Apache Kafka 4.4.0 ($(find "$kafka_libs" -name '*.jar' | wc -l) jars), on ${java_about%%$'\n'*}"

node_dir="$TOOLS_DIR/node"
if [ ! -f "$node_dir/node_modules/kafkajs/package.json" ]; then
    command -v npm >/dev/null || apt_install nodejs npm
    say "kafkajs" "installing kafkajs 2.2.4 into ${node_dir#"$ROOT"/}"
    mkdir -p "$node_dir"
    quietly "npm install kafkajs" "check that the npm registry is reachable" \
        npm install --prefix "$node_dir" --no-audit --no-fund kafkajs@2.2.4
fi
say "kafkajs" "$(node -e "console.log(require('$node_dir/node_modules/kafkajs/package.json').version)")"

# Go clients (franz-go, Sarama) from the Go proxy, built into .tools/bin (tests/clients/go).
go_cmd="$(command -v go || true)"
[ -n "$go_cmd" ] || [ ! -x /usr/local/go/bin/go ] || go_cmd=/usr/local/go/bin/go
[ -n "$go_cmd" ] || die "Go is missing: the Go clients need Go 1.21 or newer (this kind of machine has Go in /usr/local/go)"
quietly "go build (franz-go and Sarama test clients)" "check that the Go proxy is reachable" \
    "$go_cmd" -C "$ROOT/tests/clients/go" build -o "$TOOLS_DIR/bin/rill-go-clients" .
say "go clients" "$(awk '/twmb\/franz-go v|IBM\/sarama v/ { sub(".*/", "", $1); printf "%s %s ", $1, $2 }' "$ROOT/tests/clients/go/go.mod")($("$go_cmd" version | awk '{ print $3 }'))"
echo "    set-up complete"
