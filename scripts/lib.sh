# Shared helpers for Rill's scripts. Source it: `. "$(dirname "$0")/lib.sh"`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
TOOLS_DIR="$ROOT/.tools"
mkdir -p "$TOOLS_DIR"

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Run as root or through sudo, for apt-get.
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi
}

APT_UPDATED=0
apt_install() {
    local missing=()
    for package in "$@"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    [ "${#missing[@]}" = 0 ] && return 0
    if [ "$APT_UPDATED" = 0 ]; then
        as_root apt-get update -qq
        APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
}

# How this machine builds for wasm32 (see ../shared/docs/wasm-toolchain.md): "rustup" when the
# rustup target is installed, "debian" for Debian's rustc-web + -Z build-std.
wasm_route() {
    cat "$TOOLS_DIR/wasm-route" 2>/dev/null || echo none
}

# Where wasm32 build outputs land for the chosen route.
wasm_target_dir() {
    case "$(wasm_route)" in
        debian) echo "$CARGO_TARGET_DIR/debian-wasm" ;;
        *) echo "$CARGO_TARGET_DIR" ;;
    esac
}

# The wasm-bindgen version Cargo.lock pins (wasm-bindgen-cli must match it exactly).
wasm_bindgen_version() {
    awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' "$ROOT/Cargo.lock"
}

# cargo for wasm32, by the route set-up chose. Usage: wasm_cargo build --release -p rill-core
wasm_cargo() {
    # --target goes before a `--` (arguments after it belong to the tool, e.g. clippy's -D).
    local args=() rest=() seen=0
    for arg in "$@"; do
        if [ "$seen" = 1 ]; then rest+=("$arg"); elif [ "$arg" = "--" ]; then seen=1; else args+=("$arg"); fi
    done
    [ "$seen" = 1 ] && rest=(-- "${rest[@]}")
    set -- "${args[@]}" --target wasm32-unknown-unknown "${rest[@]}"
    case "$(wasm_route)" in
        rustup) cargo "$@" ;;
        debian)
            env PATH="/usr/bin:$PATH" RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 \
                CARGO_TARGET_DIR="$CARGO_TARGET_DIR/debian-wasm" \
                /usr/bin/cargo -Z build-std=std,panic_abort "$@" ;;
        *) die "no wasm32 toolchain: run scripts/setup.sh" ;;
    esac
}
