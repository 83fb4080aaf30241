#!/usr/bin/env bash
# Serves www/ (with the built www/pkg) on 127.0.0.1 and prints the URL. Ctrl-C stops it.
. "$(dirname "$0")/lib.sh"
port="${RILL_PORT:-8080}"
[ -f "$ROOT/www/pkg/rill_wasm_bg.wasm" ] || die "www/pkg is missing: run scripts/build-wasm.sh"
echo
echo "Rill is serving www/ — open http://127.0.0.1:$port/embed.html (Ctrl-C to stop)"
cd "$ROOT/www"
exec python3 -m http.server "$port" --bind 127.0.0.1
