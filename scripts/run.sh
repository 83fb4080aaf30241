#!/usr/bin/env bash
# Builds and runs Rill's main job. At this stage: a guided tour of the core (topics, the
# partitioner, a partition log with segments, high watermark and retention), then the
# browser package served on 127.0.0.1 with the embeddable example page. It becomes the
# broker + dashboard on localhost as those land.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh"
cargo run --locked --release -p rill-core --example tour
"$ROOT/scripts/build-wasm.sh"
"$ROOT/scripts/serve.sh"
