#!/usr/bin/env bash
# Architecture invariant: rill-core does no I/O, reads no clock, spawns no threads, uses no
# global RNG and no randomly seeded collections. Clippy enforces most of it (core/clippy.toml);
# this check also catches paths clippy's lists do not name, and dependencies that would pull
# an OS RNG or a runtime into core.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

pattern='std::(fs|net|thread|process|env|time::(SystemTime|Instant))|HashMap|HashSet|thread_rng|getrandom|tokio|println!|eprintln!|print!|dbg!'
if hits=$(grep -rnE "$pattern" core/src | grep -vE '^\S+:[0-9]+:\s*//'); then
    echo "$hits"
    die "core/src breaks the no-I/O / determinism invariant (see ARCHITECTURE.md)"
fi

forbidden='^(getrandom|rand|tokio|mio|socket2|chrono|web-sys|js-sys|wasm-bindgen) '
if deps=$(cargo tree -p rill-core -e normal --prefix none --target all 2>/dev/null | grep -E "$forbidden"); then
    echo "$deps"
    die "rill-core depends on a crate that does I/O, reads a clock or seeds from the OS"
fi
echo "core invariants hold"
