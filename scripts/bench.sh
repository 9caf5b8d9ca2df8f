#!/usr/bin/env bash
# `make bench`: every function's release binary, run as a real process under a local Lambda
# Runtime API (bench/harness), against a moto server of its own on 127.0.0.1:5300 (so that
# `make dev`, `make test` and `make load` can run beside it). Prints the figures and writes
# target/bench/results.json and target/bench/chart.svg.
#
#   scripts/bench.sh              the full run (a few minutes once the build is warm)
#   scripts/bench.sh --quick      every phase with few repetitions, for working on the harness
#   scripts/bench.sh --profiles   the release-profile experiment: create-order built with each
#                                 profile variant (one release build each, ~3-4 min apiece),
#                                 then measured side by side; writes target/bench/profiles.md
#
# BENCH_SKIP_NESTJS=1 skips the NestJS comparison on a machine without Node.js.
set -euo pipefail
source "$(dirname "$0")/tools.sh"
ensure_tools
cd "$ROOT"

MODE="${1:-run}"
case "$MODE" in run | --quick | --profiles) ;; *)
  echo "usage: $0 [--quick|--profiles]" >&2
  exit 2
  ;;
esac
MOTO_PORT="${BENCH_MOTO_PORT:-5300}"
STATE="$ROOT/.local/bench"
OUT="$ROOT/target/bench"
FUNCTIONS=(unknown-route list-products list-orders get-customer-stats update-customer
  create-order order-events-relay order-created-consumer)
PROFILE_FUNCTION=create-order
# The profile experiment: each variant is the workspace's release profile with one choice
# changed (the first, cargo's own defaults for every choice at once).
PROFILE_VARIANTS=(
  'bench-cargo-defaults:opt-level=3 lto=false codegen-units=16 panic="unwind" strip="none"'
  'bench-release:'
  'bench-lto-off:lto=false'
  'bench-lto-fat:lto="fat"'
  'bench-cu16:codegen-units=16'
  'bench-o3:opt-level=3'
  'bench-oz:opt-level="z"'
  'bench-unwind:panic="unwind"'
  'bench-nostrip:strip="none"'
)
mkdir -p "$STATE" "$OUT"

MOTO_PID=""
stop_engine() {
  if [ -n "$MOTO_PID" ]; then
    kill -TERM "$MOTO_PID" 2>/dev/null || true
    wait "$MOTO_PID" 2>/dev/null || true
    MOTO_PID=""
  fi
}
trap stop_engine EXIT
trap 'exit 130' INT TERM

# Builds one profile variant of $PROFILE_FUNCTION; the profile is defined on the command line
# (inheriting [profile.release]) so that target/release stays as it is.
build_variant() {
  local name=${1%%:*} settings=${1#*:} setting
  local config=(--config "profile.$name.inherits=\"release\"")
  for setting in $settings; do
    config+=(--config "profile.$name.$setting")
  done
  echo "==> building $PROFILE_FUNCTION with $name (${settings:-as [profile.release]})" >&2
  cargo build --quiet --profile "$name" -p "$PROFILE_FUNCTION" "${config[@]}"
}

echo "==> building the harness and the release binaries" >&2
cargo build --release --quiet -p bench
if [ "$MODE" = --profiles ]; then
  for variant in "${PROFILE_VARIANTS[@]}"; do build_variant "$variant"; done
else
  cargo build --release --quiet $(printf -- '-p %s ' "${FUNCTIONS[@]}") -p bench-probes
fi
# The catalogue loader, as `make dev` builds it (debug).
cargo build --quiet -p local-stack --bin seed-catalogue

# The engine: always a moto server of our own, whatever AWS_ENDPOINT_URL* the shell has.
unset $(env | grep -o '^AWS_ENDPOINT_URL_[A-Z_]*' || true)
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
if port_open 127.0.0.1 "$MOTO_PORT"; then
  echo "port $MOTO_PORT is taken (a benchmark still running?); set BENCH_MOTO_PORT" >&2
  exit 1
fi
python "$ROOT/local/moto_server.py" -H 127.0.0.1 -p "$MOTO_PORT" >"$STATE/moto.log" 2>&1 </dev/null &
MOTO_PID=$!
wait_for_port 127.0.0.1 "$MOTO_PORT" 30

echo "==> creating tables and queues from template.yaml, loading the catalogue" >&2
python "$ROOT/local/stack.py" provision --env-file "$STATE/functions.env"
{
  echo "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL"
  echo "AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID"
  echo "AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY"
  echo "AWS_REGION=$AWS_REGION"
} >>"$STATE/functions.env"
# The local token issuer (local/auth.py): the functions verify its tokens; the harness sends
# one in the admin group, which may act for every customer.
python "$ROOT/local/auth.py" keygen "$ROOT/.local/auth"
python "$ROOT/local/auth.py" env "$ROOT/.local/auth" >>"$STATE/functions.env"
python "$ROOT/local/auth.py" token "$ROOT/.local/auth" --admin --ttl 7200 >"$STATE/token"
(
  set -a && source "$STATE/functions.env"
  "$ROOT/target/debug/seed-catalogue" "$ROOT/local/catalogue.json"
  "$ROOT/target/debug/seed-catalogue" "$ROOT/bench/catalogue.json"
) >&2

HARNESS=("$ROOT/target/release/bench")
COMMON=(--root "$ROOT" --engine "$AWS_ENDPOINT_URL" --env-file "$STATE/functions.env"
  --out "$OUT" --sizes "$STATE/sizes.json" --token-file "$STATE/token"
  --commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)")

if [ "$MODE" = --profiles ]; then
  pairs=()
  for variant in "${PROFILE_VARIANTS[@]}"; do
    name=${variant%%:*}
    pairs+=("$name=$ROOT/target/$name/$PROFILE_FUNCTION")
  done
  python "$ROOT/bench/package_sizes.py" "$STATE/sizes.json" "$STATE/dist-profiles" "${pairs[@]}"
  "${HARNESS[@]}" profiles "${COMMON[@]}" --function "$PROFILE_FUNCTION" "${pairs[@]}"
  exit 0
fi

pairs=()
for name in empty-function "${FUNCTIONS[@]}"; do
  pairs+=("$name=$ROOT/target/release/$name")
done
python "$ROOT/bench/package_sizes.py" "$STATE/sizes.json" "$STATE/dist" "${pairs[@]}"

# The peer: a minimal NestJS 11 app, installed from npm into .local (never committed).
NESTJS=()
if [ "${BENCH_SKIP_NESTJS:-}" != 1 ]; then
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "Node.js and npm are needed for the NestJS comparison (or set BENCH_SKIP_NESTJS=1)" >&2
    exit 1
  fi
  NEST_DIR="$STATE/nestjs"
  stamp="$NEST_DIR/.installed-$(sha256sum "$ROOT/bench/nestjs/package.json" | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    echo "==> installing NestJS 11 into $NEST_DIR" >&2
    rm -rf "$NEST_DIR" && mkdir -p "$NEST_DIR"
    cp "$ROOT/bench/nestjs/package.json" "$NEST_DIR/"
    (cd "$NEST_DIR" && npm install --no-audit --no-fund --loglevel=error >&2)
    touch "$stamp"
  fi
  cp "$ROOT/bench/nestjs/main.js" "$NEST_DIR/"
  NESTJS=(--nestjs "$NEST_DIR")
fi

QUICK=()
[ "$MODE" = --quick ] && QUICK=(--quick)
"${HARNESS[@]}" run "${COMMON[@]}" --bin-dir "$ROOT/target/release" --profile release \
  "${NESTJS[@]}" "${QUICK[@]}"
