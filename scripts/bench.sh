#!/usr/bin/env bash
# `make bench`: every function's release binary, run as a real process under a local Lambda
# Runtime API (bench/harness), against engines of its own: DynamoDB Local (AWS's own engine)
# for DynamoDB and a moto server for SQS, on ports apart from `make dev`, `make test` and
# `make load`, so that it can run beside them. Prints the figures with every target checked
# (PASS/FAIL) and writes results.json and chart.svg to bench/ in cargo's target dir
# ($CARGO_TARGET_DIR, else target/).
#
#   scripts/bench.sh              the full run (~4 minutes once built; the arm64 packages first)
#   scripts/bench.sh --quick      every phase with few repetitions, for working on the harness
#   scripts/bench.sh --profiles [VARIANT...]
#                                 the release-profile experiment: create-order (BENCH_FUNCTION
#                                 names another) as [profile.release] builds it, and built with
#                                 each profile variant below (or only those named), then measured
#                                 side by side, the release binary once more last (the order's
#                                 own effect); writes profiles.md and profiles.json to a profiles
#                                 folder beside the run's results. Each variant is a build of its
#                                 own from scratch (<target dir>/<variant>; ~7 minutes apiece on
#                                 2 cores). BENCH_QUICK=1: with few repetitions.
#
# BENCH_ENGINE=moto: moto alone, for DynamoDB too (the figures are then moto's, which copies a
#   table on every transaction: slow writes, and a long run).
# BENCH_ARM64=0: no arm64 build (`cargo lambda build --release --arm64`, with zig from .venv;
#   ~15 minutes from scratch, a minute when little changed); the size target is then checked
#   on the x86_64 binaries zipped the same way, and fails, saying so.
# BENCH_SKIP_NESTJS=1: no NestJS comparison, on a machine without Node.js.
# Ports: BENCH_DYNAMODB_PORT (8800), BENCH_MOTO_PORT (5800).
set -euo pipefail
source "$(dirname "$0")/tools.sh"

PROFILE_FUNCTION="${BENCH_FUNCTION:-create-order}"
# The profile experiment: each variant is the workspace's release profile with one choice
# changed (the first: cargo's own defaults for every choice at once). `rustflags=` is a flag
# for the function's own code and its dependencies, not for the build's tools (so such a
# variant is built for the host's target named).
PROFILE_VARIANTS=(
  'bench-cargo-defaults:opt-level=3 lto=false codegen-units=16 panic="unwind" strip="none"'
  'bench-oz:opt-level="z"'
  'bench-o3:opt-level=3'
  'bench-lto-off:lto=false'
  'bench-lto-thin:lto="thin"'
  'bench-cu16:codegen-units=16'
  'bench-unwind:panic="unwind"'
  'bench-nostrip:strip="none"'
  'bench-no-pie:rustflags=-Crelocation-model=static'
)
ENGINE="${BENCH_ENGINE:-dynamodb-local}"
DDB_PORT="${BENCH_DYNAMODB_PORT:-8800}"
MOTO_PORT="${BENCH_MOTO_PORT:-5800}"
MOTO_PID=""
DDB_STATE=""

main() {
  local mode="${1:-run}"
  case "$mode" in run | --quick | --profiles) ;; *)
    echo "usage: $0 [--quick | --profiles [VARIANT...]]" >&2
    exit 2
    ;;
  esac
  shift || true
  case "$ENGINE" in dynamodb-local | moto) ;; *)
    echo "BENCH_ENGINE must be dynamodb-local or moto, not $ENGINE" >&2
    exit 2
    ;;
  esac
  if [ "$mode" = --profiles ]; then select_variants "$@"; fi
  local arm64=0
  if [ "$mode" != --profiles ] && [ "${BENCH_ARM64:-1}" != 0 ]; then arm64=1; fi
  if [ "$arm64" = 1 ]; then ensure_tools zig; else ensure_tools; fi
  cd "$ROOT"
  # Where cargo puts what it builds (CI and a shared build cache set CARGO_TARGET_DIR).
  TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
  export CARGO_TARGET_DIR="$TARGET_DIR"
  local started=$SECONDS
  # Its own engine state and output per mode, so that an experiment can run beside a run.
  STATE="$ROOT/.local/bench"
  OUT="$TARGET_DIR/bench"
  if [ "$mode" = --profiles ]; then
    STATE="$ROOT/.local/bench-profiles"
    OUT="$TARGET_DIR/bench/profiles"
  fi
  mkdir -p "$STATE" "$OUT"
  trap stop_engines EXIT
  trap 'exit 130' INT TERM

  step "building the harness and the release binaries"
  cargo build --release --quiet -p bench
  # Every function in one command, as `cargo lambda build` and `sam build` build them: cargo
  # unifies features over the packages of a command, so another set would build others. The
  # probes link nothing the functions do not.
  cargo build --release --quiet $(packages) -p bench-probes
  if [ "$mode" = --profiles ]; then
    local variant
    for variant in "${PROFILE_VARIANTS[@]}"; do build_variant "$variant"; done
  elif [ "$arm64" = 1 ]; then
    build_arm64_packages
  fi
  # The catalogue loader, as `make dev` builds it (debug).
  cargo build --quiet -p local-stack --bin seed-catalogue
  step "built in $((SECONDS - started)) s"

  start_engines
  COMMON=(--root "$ROOT" --dynamodb "$DYNAMODB_URL" --sqs "$SQS_URL" --engine "$ENGINE"
    --env-file "$STATE/functions.env" --state "$STATE" --out "$OUT" --sizes "$STATE/sizes.json"
    --admin-token-file "$STATE/admin-token" --customer-token-file "$STATE/customer-token"
    --customer "$CUSTOMER" --commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)")
  if [ "$mode" = --profiles ]; then
    profile_experiment
  else
    run "$mode"
  fi
  step "make bench took $((SECONDS - started)) s"
}

all_functions() { (cd "$ROOT/functions" && ls -d -- */ | tr -d /); }
packages() { printf -- '-p %s ' $(all_functions); }

# `--profiles NAME...`: only the variants named.
select_variants() {
  [ $# -gt 0 ] || return 0
  local name variant chosen=()
  for name in "$@"; do
    for variant in "${PROFILE_VARIANTS[@]}"; do
      if [ "${variant%%:*}" = "$name" ]; then chosen+=("$variant"); fi
    done
    if [ "${#chosen[@]}" = 0 ] || [ "${chosen[-1]%%:*}" != "$name" ]; then
      echo "unknown variant $name; known: $(printf '%s ' "${PROFILE_VARIANTS[@]%%:*}")" >&2
      exit 2
    fi
  done
  PROFILE_VARIANTS=("${chosen[@]}")
}

# One profile variant of $PROFILE_FUNCTION, the profile defined on the command line
# (inheriting [profile.release]) so that the release binaries stay as they are.
build_variant() {
  local name=${1%%:*} settings=${1#*:} setting rustflags=""
  local config=(--config "profile.$name.inherits=\"release\"")
  for setting in $settings; do
    case "$setting" in
    rustflags=*) rustflags=${setting#rustflags=} ;;
    *) config+=(--config "profile.$name.$setting") ;;
    esac
  done
  step "building $PROFILE_FUNCTION with $name (${settings:-as [profile.release]})"
  if [ -n "$rustflags" ]; then
    config+=(--target "$(host_target)")
  fi
  env ${rustflags:+RUSTFLAGS="$rustflags"} cargo build --quiet --profile "$name" -p "$PROFILE_FUNCTION" "${config[@]}"
}

host_target() { rustc -vV | sed -n 's/^host: //p'; }

# Where a variant's binary is: under the host's target for a variant with rustflags.
variant_binary() {
  local name=${1%%:*} settings=${1#*:}
  case " $settings" in
  *" rustflags="*) echo "$TARGET_DIR/$(host_target)/$name/$PROFILE_FUNCTION" ;;
  *) echo "$TARGET_DIR/$name/$PROFILE_FUNCTION" ;;
  esac
}

# The engines, whatever AWS_ENDPOINT_URL* the shell has: moto for SQS (and the user pool
# template.yaml declares), DynamoDB Local for DynamoDB unless BENCH_ENGINE=moto; provisioned
# from template.yaml, with the catalogue and tokens of the local issuer for the harness.
start_engines() {
  unset $(env | grep -o '^AWS_ENDPOINT_URL[A-Z_]*' || true)
  local port
  for port in "$MOTO_PORT" $([ "$ENGINE" = moto ] || echo "$DDB_PORT"); do
    if port_open 127.0.0.1 "$port"; then
      echo "port $port is taken (a benchmark still running?); set BENCH_MOTO_PORT / BENCH_DYNAMODB_PORT" >&2
      exit 1
    fi
  done
  SQS_URL="http://127.0.0.1:$MOTO_PORT"
  export AWS_ENDPOINT_URL="$SQS_URL"
  # local/moto_server.py without moto's object tracking, which leaks every transaction's
  # rollback copy of its tables (bench/moto_server.py).
  step "starting moto on 127.0.0.1:$MOTO_PORT${ENGINE:+ and the engine: $ENGINE}"
  python "$ROOT/bench/moto_server.py" -H 127.0.0.1 -p "$MOTO_PORT" >"$STATE/moto.log" 2>&1 </dev/null &
  MOTO_PID=$!
  if [ "$ENGINE" = dynamodb-local ]; then
    DDB_STATE="$STATE/dynamodb-local"
    "$ROOT/scripts/dynamodb-local.sh" start "$DDB_PORT" "$DDB_STATE"
    DYNAMODB_URL="http://127.0.0.1:$DDB_PORT"
    export AWS_ENDPOINT_URL_DYNAMODB="$DYNAMODB_URL" AWS_ENDPOINT_URL_DYNAMODB_STREAMS="$DYNAMODB_URL"
  else
    DYNAMODB_URL="$SQS_URL"
  fi
  wait_for_port 127.0.0.1 "$MOTO_PORT" 30

  step "creating tables and queues from template.yaml, loading the catalogue"
  python "$ROOT/local/stack.py" provision --env-file "$STATE/functions.env"
  python "$ROOT/local/auth.py" keygen "$ROOT/.local/auth"
  {
    env | grep '^AWS_ENDPOINT_URL' || true
    echo "AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID"
    echo "AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY"
    echo "AWS_REGION=$AWS_REGION"
    # The harness is one client (a token) sending thousands of requests a minute: the rate
    # limiter still takes its leases from the shared counter, and lets them all through.
    # (Its cost at the real limit is measured apart, by ratelimit-steady.)
    echo "RATE_LIMIT_PER_MINUTE=1000000000"
    # The local issuer only; the harness serves its key set (AUTH_JWKS_URL) itself.
    python "$ROOT/local/auth.py" local-env --jwks-url "http://127.0.0.1/unset" --only-issuer
  } >>"$STATE/functions.env"
  python "$ROOT/local/auth.py" token "$ROOT/.local/auth" --admin --ttl 7200 >"$STATE/admin-token"
  CUSTOMER=$(python -c 'import uuid; print(uuid.uuid4())')
  python "$ROOT/local/auth.py" token "$ROOT/.local/auth" --customer "$CUSTOMER" --ttl 7200 >"$STATE/customer-token"
  (
    set -a && source "$STATE/functions.env"
    "$TARGET_DIR/debug/seed-catalogue" "$ROOT/local/catalogue.json"
    "$TARGET_DIR/debug/seed-catalogue" "$ROOT/bench/catalogue.json"
  ) >&2
}

stop_engines() {
  if [ -n "$MOTO_PID" ]; then
    kill -TERM "$MOTO_PID" 2>/dev/null || true
    wait "$MOTO_PID" 2>/dev/null || true
    MOTO_PID=""
  fi
  if [ -n "$DDB_STATE" ]; then
    "$ROOT/scripts/dynamodb-local.sh" stop "$DDB_STATE"
    DDB_STATE=""
  fi
}

profile_experiment() {
  local variant pairs=("release=$TARGET_DIR/release/$PROFILE_FUNCTION")
  for variant in "${PROFILE_VARIANTS[@]}"; do
    pairs+=("${variant%%:*}=$(variant_binary "$variant")")
  done
  # The release binary again, last: what the order of the variants alone moves.
  mkdir -p "$STATE/again"
  cp "$TARGET_DIR/release/$PROFILE_FUNCTION" "$STATE/again/$PROFILE_FUNCTION"
  pairs+=("release-again=$STATE/again/$PROFILE_FUNCTION")
  python "$ROOT/bench/package_sizes.py" "$STATE/sizes.json" "$STATE/dist" "${pairs[@]}"
  local quick=()
  # BENCH_QUICK=1: few repetitions (the sizes, the point of most variants, are exact anyway).
  if [ "${BENCH_QUICK:-}" = 1 ]; then quick=(--quick); fi
  "$TARGET_DIR/release/bench" profiles "${COMMON[@]}" --function "$PROFILE_FUNCTION" \
    "${quick[@]}" "${pairs[@]}"
}

run() {
  local name pairs=() nestjs=() quick=()
  for name in empty-function $(all_functions); do
    pairs+=("$name=$TARGET_DIR/release/$name")
  done
  python "$ROOT/bench/package_sizes.py" "$STATE/sizes.json" "$STATE/dist" "${pairs[@]}"
  if [ "${BENCH_SKIP_NESTJS:-}" != 1 ]; then
    install_nestjs
    nestjs=(--nestjs "$STATE/nestjs")
  fi
  if [ "$1" = --quick ]; then quick=(--quick); fi
  "$TARGET_DIR/release/bench" run "${COMMON[@]}" --bin-dir "$TARGET_DIR/release" \
    --profile release "${nestjs[@]}" "${quick[@]}"
}

# The peer: a minimal NestJS 11 app, installed from npm into .local (never committed).
install_nestjs() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "Node.js and npm are needed for the NestJS comparison (or set BENCH_SKIP_NESTJS=1)" >&2
    exit 1
  fi
  local dir="$STATE/nestjs"
  local stamp="$dir/.installed-$(sha256sum "$ROOT/bench/nestjs/package.json" | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    step "installing NestJS 11 into $dir"
    rm -rf "$dir" && mkdir -p "$dir"
    cp "$ROOT/bench/nestjs/package.json" "$dir/"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error >&2)
    touch "$stamp"
  fi
  cp "$ROOT/bench/nestjs/main.js" "$dir/"
}

# Everything above is read before anything runs, and bash reads this whole line before it
# runs it, so editing this file mid-run is harmless.
{ main "$@"; exit; }
