# Shared helpers for Rill's scripts. Source it: `. "$(dirname "$0")/lib.sh"`.
#
# Contract: a script that sources this never fails silently. Any command that fails stops the
# script with one line naming the command, the script and the line (the ERR trap below);
# expected failures go through `die` with a reason and what to do. Package-manager output goes
# to $SETUP_LOG, and its tail is printed when the package manager fails.
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
TOOLS_DIR="${RILL_TOOLS_DIR:-$ROOT/.tools}"
mkdir -p "$TOOLS_DIR"
SETUP_LOG="$TOOLS_DIR/setup.log"
# Tools installed with `cargo install` (wasm-bindgen-cli) land in cargo's bin directory.
case ":$PATH:" in
    *":${CARGO_HOME:-$HOME/.cargo}/bin:"*) ;;
    *) PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH" ;;
esac

step() { printf '\n==> %s\n' "$*"; }
# One line of progress inside a step: `say "kcat" "1.7.1 (installed)"`.
say() { printf '    %-16s %s\n' "$1" "$2"; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# Any command that fails unexpectedly names itself instead of ending the script in silence.
on_error() {
    local status=$1 line=$2 command=$3 script=$4
    printf 'error: `%s` failed with exit status %s (%s, line %s)\n' "$command" "$status" "$script" "$line" >&2
    exit "$status"
}
trap 'on_error $? $LINENO "$BASH_COMMAND" "${BASH_SOURCE[0]#"$ROOT"/}"' ERR

# Runs a noisy command with its output in $SETUP_LOG. On failure prints the log's tail and
# stops with `what` and the advice. Usage: quietly "installing kcat" "check apt's sources" cmd...
quietly() {
    local what=$1 advice=$2
    shift 2
    printf '\n--- %s: %s\n' "$(date -u +%FT%TZ)" "$*" >>"$SETUP_LOG"
    if ! "$@" >>"$SETUP_LOG" 2>&1; then
        printf '    ... last lines of %s:\n' "$SETUP_LOG" >&2
        tail -n 25 "$SETUP_LOG" | sed 's/^/    | /' >&2
        die "$what failed ($*); $advice; full log: $SETUP_LOG"
    fi
}

# Run as root or through sudo, for apt-get.
as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        die "need root to run: $* (run this script as root, or install sudo)"
    fi
}

APT_UPDATED=0
# Installs Debian packages that are not installed yet; output to $SETUP_LOG.
apt_install() {
    local missing=() package
    for package in "$@"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    [ "${#missing[@]}" = 0 ] && return 0
    command -v apt-get >/dev/null || die "need apt-get to install ${missing[*]} (this set-up is for Debian 12)"
    if [ "$APT_UPDATED" = 0 ]; then
        say "apt" "updating the package lists"
        quietly "apt-get update" "check the network and /etc/apt/sources.list" as_root apt-get update
        APT_UPDATED=1
    fi
    say "apt" "installing ${missing[*]} (output in $SETUP_LOG)"
    quietly "installing ${missing[*]}" "check the network and that Debian's repositories are reachable" \
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

# The first line a tool prints of its version, or nothing when the tool is absent or fails.
version_of() {
    local line
    line="$("$@" 2>/dev/null | head -n 1)" || true
    printf '%s' "$line"
}

# Makes sure command $1 exists, installing Debian package(s) $2... when it does not.
need_apt_command() {
    local command=$1
    shift
    if ! command -v "$command" >/dev/null; then
        apt_install "$@"
        command -v "$command" >/dev/null \
            || die "$command is still not on PATH after installing $* (PATH=$PATH); install it by hand"
        say "$command" "installed"
    fi
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
        *) die "no wasm32 toolchain chosen yet: run ./scripts/setup.sh" ;;
    esac
}
