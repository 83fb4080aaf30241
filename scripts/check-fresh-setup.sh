#!/usr/bin/env bash
# Proves the fresh-machine path of scripts/setup.sh (issue 12). In a private mount namespace,
# overlays over /usr, /etc, /var and ~/.cargo, ~/.rustup make this machine look like a fresh
# one: kcat, chromium and chromium-driver are removed with dpkg, wasm-bindgen is deleted and
# the wasm32 target removed with rustup. Nothing outside the namespace changes.
#
#   1. set-up from a fresh copy must install all of them again, exit 0, and say so in a short,
#      readable output (no package-manager lines);
#   2. with Debian's mirror unreachable, set-up must stop with one clear `error:` line naming
#      what failed and where the log is, never exit in silence.
#
# Needs root (namespaces, overlayfs, dpkg), as the README's set-up does on this kind of
# machine. Called by scripts/test.sh.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || die "check-fresh-setup.sh needs root (mount namespaces and overlays)"
command -v unshare >/dev/null || die "check-fresh-setup.sh needs unshare (Debian package util-linux)"
grep -qw overlay /proc/filesystems || die "check-fresh-setup.sh needs the overlay filesystem"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# What set-up needs from the checkout: its scripts, Cargo.lock (the wasm-bindgen pin),
# tests/kafka (the Maven project of Apache Kafka 4.4) and tests/clients/go (the Go clients).
mkdir -p "$work/clone"
mkdir -p "$work/clone/tests"
cp -r "$ROOT/scripts" "$ROOT/Cargo.lock" "$work/clone/"
cp -r "$ROOT/tests/kafka" "$work/clone/tests/"
mkdir -p "$work/clone/tests/clients"
cp -r "$ROOT/tests/clients/go" "$work/clone/tests/clients/"

inside="$work/inside.sh"
cat >"$inside" <<'EOF'
set -euo pipefail
work=$1 mode=$2
for dir in /usr /etc /var "$HOME/.cargo" "$HOME/.rustup"; do
    name="$(echo "$dir" | tr / _)"
    mkdir -p "$work/upper$name" "$work/lower-work$name"
    mount -t overlay overlay -o "lowerdir=$dir,upperdir=$work/upper$name,workdir=$work/lower-work$name,redirect_dir=on" "$dir"
done
# Make this a fresh machine: the tools set-up installs are gone.
dpkg --purge kcat chromium-driver chromium >/dev/null 2>&1 || true
hidden=(kcat chromium chromedriver)
if [ "$mode" = fresh ]; then
    rm -f "$HOME/.cargo/bin/wasm-bindgen" "$HOME/.cargo/bin/wasm-bindgen-test-runner" "$HOME/.cargo/bin/wasm2es6js"
    rustup target remove wasm32-unknown-unknown >/dev/null 2>&1 || true
    hidden+=(wasm-bindgen)
    if rustup target list --installed | grep -qx wasm32-unknown-unknown; then echo "sandbox: wasm32 target still there" >&2; exit 97; fi
else
    # Debian's mirror unreachable, and no package lists: apt-get cannot install anything.
    rm -rf /etc/apt/sources.list.d/* /var/lib/apt/lists/*
    echo "deb http://127.0.0.1:9/debian bookworm main" >/etc/apt/sources.list
fi
hash -r
for tool in "${hidden[@]}"; do
    if command -v "$tool" >/dev/null; then echo "sandbox: $tool is still there" >&2; exit 97; fi
done
status=0
RILL_TOOLS_DIR="$work/tools" "$work/clone/scripts/setup.sh" >"$work/out.txt" 2>&1 || status=$?
echo "$status" >"$work/status"
if [ "$mode" = fresh ] && [ "$status" = 0 ]; then
    hash -r
    for tool in kcat chromium chromedriver wasm-bindgen; do
        command -v "$tool" >/dev/null || { echo "set-up passed but $tool is missing" >>"$work/out.txt"; echo 98 >"$work/status"; }
    done
    rustup target list --installed | grep -qx wasm32-unknown-unknown \
        || { echo "set-up passed but the wasm32 target is missing" >>"$work/out.txt"; echo 98 >"$work/status"; }
fi
EOF

run_case() {
    local mode=$1
    rm -rf "$work/upper"* "$work/lower-work"* "$work/tools" "$work/clone/.venv" "$work/out.txt" "$work/status"
    unshare --mount --propagation private bash "$inside" "$work" "$mode"
    [ -f "$work/status" ] || die "the $mode sandbox did not run set-up"
}

step "fresh machine: kcat, chromium, chromedriver, wasm-bindgen and the wasm32 target are absent"
run_case fresh
sed 's/^/    | /' "$work/out.txt"
status="$(cat "$work/status")"
[ "$status" = 0 ] || die "set-up on a fresh machine failed with status $status (output above)"
for tool in wasm32 wasm-bindgen chromium kcat; do
    grep -qE "^ +$tool +install" "$work/out.txt" || die "set-up did not say that it installed $tool"
done
if grep -qE '^(Setting up|Unpacking|Selecting|Get:|Preparing)' "$work/out.txt"; then
    die "package-manager output reached the terminal (it belongs in the set-up log)"
fi
lines=$(wc -l <"$work/out.txt")
[ "$lines" -le 40 ] || die "set-up printed $lines lines on a fresh machine; at most 40 stay readable"
say "fresh" "set-up installed every tool, exit 0, $lines lines of output"

step "no network to Debian's mirror: set-up must fail loudly"
run_case offline
sed 's/^/    | /' "$work/out.txt"
status="$(cat "$work/status")"
[ "$status" != 0 ] || die "set-up passed although apt could not reach any mirror"
last="$(grep '^error:' "$work/out.txt" | tail -n 1)"
[ -n "$last" ] || die "set-up failed (status $status) without an error: line"
grep -q 'setup.log' <<<"$last" || die "the error line does not point at the set-up log: $last"
say "offline" "stopped with status $status and: ${last:0:100}..."
echo "fresh-machine set-up check passed"
