#!/usr/bin/env bash
# Builds and runs Rill's main job: a short guided tour of the core in the terminal, then the
# native broker (`rill`, release build) on 127.0.0.1:9092 for Kafka clients, serving the
# cluster dashboard (built for the browser) and Prometheus metrics on http://127.0.0.1:8080/.
# Ctrl-C stops it. RILL_PORT / RILL_KAFKA_PORT change the ports; data goes to .tools/run-logs.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh"
cargo run --locked --release -p rill-core --example tour
"$ROOT/scripts/build-wasm.sh"
cargo build --locked --release -p rill-broker --bin rill
http_port="${RILL_PORT:-8080}"
kafka_port="${RILL_KAFKA_PORT:-9092}"
echo
echo "Rill is running (Ctrl-C to stop):"
echo "  dashboard:        http://127.0.0.1:$http_port/"
echo "  embedding sample: http://127.0.0.1:$http_port/embed.html"
echo "  metrics:          http://127.0.0.1:$http_port/metrics"
echo "  Kafka clients:    127.0.0.1:$kafka_port   (try: kcat -b 127.0.0.1:$kafka_port -L)"
exec "$CARGO_TARGET_DIR/release/rill" broker \
    --set "listeners=PLAINTEXT://127.0.0.1:$kafka_port" \
    --set "log.dirs=$TOOLS_DIR/run-logs" \
    --set offsets.topic.replication.factor=1 \
    --http-port "$http_port" --www "$ROOT/www"
