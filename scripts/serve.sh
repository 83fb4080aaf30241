#!/usr/bin/env bash
# Serves www/ (the dashboard, with the built www/pkg) on 127.0.0.1 and prints the URLs. Ctrl-C stops it.
. "$(dirname "$0")/lib.sh"
port="${RILL_PORT:-8080}"
[ -f "$ROOT/www/pkg/rill_dashboard_bg.wasm" ] || die "www/pkg is missing: run scripts/build-wasm.sh"
echo
echo "Rill is serving www/ on 127.0.0.1 (Ctrl-C to stop):"
echo "  dashboard:        http://127.0.0.1:$port/"
echo "  embedding sample: http://127.0.0.1:$port/embed.html"
cd "$ROOT/www"
exec python3 -m http.server "$port" --bind 127.0.0.1
