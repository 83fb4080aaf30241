#!/usr/bin/env bash
# Builds and runs Rill's main job: a short guided tour of the core in the terminal, then the
# cluster dashboard (and the embeddable JS API's example page) built for the browser and
# served on 127.0.0.1 by a small static server, with the URL printed. (The native broker
# will serve the dashboard once it exists.)
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh"
cargo run --locked --release -p rill-core --example tour
"$ROOT/scripts/build-wasm.sh"
"$ROOT/scripts/serve.sh"
