#!/usr/bin/env bash
# Builds and runs Rill's main job: a short guided tour of the core in the terminal, then the
# native broker (`rill`, release build) on 127.0.0.1:9092 for Kafka clients, serving the
# cluster dashboard (built for the browser) and Prometheus metrics on http://127.0.0.1:8080/.
# Ctrl-C stops it. RILL_PORT / RILL_KAFKA_PORT change the ports; data goes to .tools/run-logs.
#
# `./scripts/run.sh --smoke` does the same, then checks the running broker as a user would
# (kcat produces and reads back a record, the dashboard page and /metrics answer), stops it
# with SIGTERM and checks that it exited cleanly. scripts/test.sh runs it, so the main command
# cannot break unnoticed.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

smoke=0
case "${1:-}" in
    --smoke) smoke=1 ;;
    "") ;;
    *) die "unknown argument '$1' (usage: ./scripts/run.sh [--smoke])" ;;
esac

"$ROOT/scripts/setup.sh"

step "the guided tour of the core (core/examples/tour.rs)"
cargo run --locked --quiet --release -p rill-core --example tour

step "building the dashboard and the JS API for the browser (scripts/build-wasm.sh)"
"$ROOT/scripts/build-wasm.sh"

step "building the broker (target/release/rill)"
cargo build --locked --quiet --release -p rill-broker --bin rill

if [ "$smoke" = 1 ]; then
    http_port="${RILL_PORT:-18080}"
    kafka_port="${RILL_KAFKA_PORT:-19092}"
    data="$(mktemp -d)"
else
    http_port="${RILL_PORT:-8080}"
    kafka_port="${RILL_KAFKA_PORT:-9092}"
    data="$TOOLS_DIR/run-logs"
fi
broker=("$CARGO_TARGET_DIR/release/rill" broker
    --set "listeners=PLAINTEXT://127.0.0.1:$kafka_port"
    --set "log.dirs=$data"
    --set offsets.topic.replication.factor=1
    --http-port "$http_port" --www "$ROOT/www")

if [ "$smoke" = 0 ]; then
    echo
    echo "Rill is running (Ctrl-C to stop):"
    echo "  dashboard:        http://127.0.0.1:$http_port/"
    echo "  embedding sample: http://127.0.0.1:$http_port/embed.html"
    echo "  metrics:          http://127.0.0.1:$http_port/metrics"
    echo "  Kafka clients:    127.0.0.1:$kafka_port   (try: kcat -b 127.0.0.1:$kafka_port -L)"
    echo "  data:             $data"
    exec "${broker[@]}"
fi

step "smoke run: starting the broker on 127.0.0.1:$kafka_port (HTTP $http_port)"
log="$data/broker.log"
"${broker[@]}" >"$log" 2>&1 &
pid=$!
stop_broker() { kill "$pid" 2>/dev/null || true; }
trap stop_broker EXIT
fail() {
    printf '    ... broker log (%s):\n' "$log" >&2
    tail -n 20 "$log" | sed 's/^/    | /' >&2
    die "smoke run: $*"
}
for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || fail "the broker exited at start"
    if kcat -b "127.0.0.1:$kafka_port" -L -m 2 >/dev/null 2>&1; then break; fi
    sleep 0.2
done
kcat -b "127.0.0.1:$kafka_port" -L -m 2 >/dev/null 2>&1 || fail "the Kafka port did not answer kcat -L within 20 s"
echo "Rill is running (smoke run, pid $pid)"
say "kafka" "kcat -L answers on 127.0.0.1:$kafka_port"

record="smoke-$$-$RANDOM"
printf '%s\n' "$record" | kcat -b "127.0.0.1:$kafka_port" -P -t smoke -X acks=all 2>>"$log" \
    || fail "kcat could not produce to topic smoke"
read_back="$(kcat -b "127.0.0.1:$kafka_port" -C -t smoke -o beginning -c 1 -e -q -m 10 2>>"$log")" \
    || fail "kcat could not consume topic smoke"
[ "$read_back" = "$record" ] || fail "produced '$record' but read back '$read_back'"
say "kafka" "produced and read back one record (acks=all)"

page="$(curl -fsS "http://127.0.0.1:$http_port/")" || fail "the dashboard page did not answer"
grep -q 'rill_dashboard' <<<"$page" || fail "/ is not the dashboard page (no rill_dashboard module)"
curl -fsS -o /dev/null "http://127.0.0.1:$http_port/pkg/rill_dashboard_bg.wasm" || fail "the dashboard's wasm is not served"
say "dashboard" "http://127.0.0.1:$http_port/ and its wasm are served"
metrics="$(curl -fsS "http://127.0.0.1:$http_port/metrics")" || fail "/metrics did not answer"
bytes_in="$(awk '$1 == "kafka_server_brokertopicmetrics_bytesin_total" { print $2 }' <<<"$metrics")"
[ "${bytes_in:-0}" -gt 0 ] || fail "/metrics does not count the produced record (kafka_server_brokertopicmetrics_bytesin_total '${bytes_in:-absent}')"
say "metrics" "/metrics answers; kafka_server_brokertopicmetrics_bytesin_total $bytes_in"

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
trap - EXIT
[ "$status" = 0 ] || fail "the broker exited with status $status after SIGTERM"
grep -q 'shutting down' "$log" || fail "the broker did not log its shutdown"
say "stop" "SIGTERM: the broker shut down cleanly"
rm -rf "$data"
echo "smoke run passed"
