#!/usr/bin/env bash
# Runs every check and test of Rill. This is the README's test command; .ci/run calls it.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

"$ROOT/scripts/setup.sh"

step "format"
cargo fmt --all -- --check

step "clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "clippy for wasm32 (the dashboard's and the JS API's browser-only code)"
if [ "$(wasm_route)" = rustup ]; then
    wasm_cargo clippy --locked -p rill-dashboard -p rill-wasm -- -D warnings
else
    echo "skipped: Debian's rustc-web route has no clippy for wasm32"
fi

step "core invariants"
"$ROOT/scripts/check-core-invariants.sh"

step "rill-core builds for wasm32-unknown-unknown"
wasm_cargo build --locked -p rill-core

step "browser packages (www/pkg: the JS API and the dashboard)"
"$ROOT/scripts/build-wasm.sh"

step "tests (unit, property, scenarios, 500-seed sweep, sessions, docs, browser: JS API and dashboard)"
rm -rf "$ROOT/target/compat" # the compatibility suites write their records here afresh
cargo test --workspace --locked 2>&1 | tee "$TOOLS_DIR/test-output.log" \
    || die "tests failed (the failures are listed above; full output in ${TOOLS_DIR#"$ROOT"/}/test-output.log)"
passed=$(grep -E '^test result:' "$TOOLS_DIR/test-output.log" | awk '{s += $4} END {print s + 0}')
failed=$(grep -E '^test result:' "$TOOLS_DIR/test-output.log" | awk '{s += $6} END {print s + 0}')

step "docs/compatibility.md from what the compatibility suites saw (Rill next to Kafka 4.4)"
cargo run -q --locked -p rill-tests --bin compat-matrix
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1 && ! git -C "$ROOT" diff --quiet -- docs/compatibility.md; then
    git -C "$ROOT" --no-pager diff --stat -- docs/compatibility.md
    die "docs/compatibility.md no longer says what the suites saw: commit the regenerated file"
fi

step "the README's main command, as a smoke run (./scripts/run.sh --smoke)"
"$ROOT/scripts/run.sh" --smoke

step "set-up on a fresh machine (scripts/check-fresh-setup.sh)"
"$ROOT/scripts/check-fresh-setup.sh"

step "benchmark smoke run (figures: see BENCHMARKS.md)"
cargo bench --locked -p rill-core --bench log_throughput -- --quick
cargo bench --locked -p rill-core --bench sim_throughput -- --quick
cargo bench --locked -p rill-core --bench group_throughput -- --quick
cargo bench --locked -p rill-tests --bench wasm_speed -- --quick
cargo bench --locked -p rill-tests --bench dashboard_memory -- --quick
cargo bench --locked -p rill-tests --bench codec_throughput -- --quick

echo
echo "all checks passed"
echo "tests: $passed passed, $failed failed"
