#!/usr/bin/env bash
# `make bench`: every function's release binary, run as a real process under a local Lambda
# Runtime API (bench/harness), against a moto server of its own on 127.0.0.1:5300 (so that
# `make dev`, `make test` and `make load` can run beside it). Prints the figures and writes
# target/bench/results.json and target/bench/chart.svg.
#
#   scripts/bench.sh              the full run (~25 minutes once built; moto's transactions,
#                                 which copy the table, are most of it)
#   scripts/bench.sh --quick      every phase with few repetitions, for working on the harness
#   scripts/bench.sh --profiles [VARIANT...]
#                                 the release-profile experiment: create-order as [profile.release]
#                                 builds it, and built with each profile variant below (or only
#                                 those named), then measured side by side; writes
#                                 target/bench/profiles/. Each variant is a build of its own from
#                                 scratch (target/<variant>; ~7 minutes apiece on 2 cores).
#                                 BENCH_QUICK=1: with few repetitions.
#
# The zip target is checked on the deployed arm64 packages when target/lambda/<fn>/bootstrap.zip
# exists (scripts/deploy-checks.sh builds them; BENCH_ARM64=1 builds them here first), else on
# the x86_64 zip of the measured binary; the output says which (a package older than the
# measured binary is stale: rebuild it with BENCH_ARM64=1).
# BENCH_SKIP_NESTJS=1 skips the NestJS comparison on a machine without Node.js.
set -euo pipefail
source "$(dirname "$0")/tools.sh"

FUNCTIONS=(unknown-route list-products list-orders get-order get-customer-stats update-customer
  create-order order-events-relay order-created-consumer)
PROFILE_FUNCTION=create-order
# The profile experiment: each variant is the workspace's release profile with one choice
# changed (the first: cargo's own defaults for every choice at once).
PROFILE_VARIANTS=(
  'bench-cargo-defaults:opt-level=3 lto=false codegen-units=16 panic="unwind" strip="none"'
  'bench-oz:opt-level="z"'
  'bench-o3:opt-level=3'
  'bench-lto-off:lto=false'
  'bench-lto-fat:lto="fat"'
  'bench-cu16:codegen-units=16'
  'bench-unwind:panic="unwind"'
  'bench-nostrip:strip="none"'
)
MOTO_PID=""

main() {
  local mode="${1:-run}"
  case "$mode" in run | --quick | --profiles) ;; *)
    echo "usage: $0 [--quick | --profiles [VARIANT...]]" >&2
    exit 2
    ;;
  esac
  shift || true
  if [ "$mode" = --profiles ]; then select_variants "$@"; fi
  ensure_tools
  cd "$ROOT"
  # Its own engine state and output per mode, so that an experiment can run beside a run.
  STATE="$ROOT/.local/bench"
  OUT="$ROOT/target/bench"
  if [ "$mode" = --profiles ]; then
    STATE="$ROOT/.local/bench-profiles"
    OUT="$ROOT/target/bench/profiles"
  fi
  mkdir -p "$STATE" "$OUT"
  trap stop_engine EXIT
  trap 'exit 130' INT TERM

  echo "==> building the harness and the release binaries" >&2
  cargo build --release --quiet -p bench
  # The same packages every time: cargo resolves features per command line, and another set
  # would rebuild the shared dependencies.
  cargo build --release --quiet $(packages) -p bench-probes
  if [ "$mode" = --profiles ]; then
    local variant
    for variant in "${PROFILE_VARIANTS[@]}"; do build_variant "$variant"; done
  elif [ "${BENCH_ARM64:-}" = 1 ]; then
    build_arm64_packages
  fi
  # The catalogue loader, as `make dev` builds it (debug).
  cargo build --quiet -p local-stack --bin seed-catalogue

  start_engine
  COMMON=(--root "$ROOT" --engine "$AWS_ENDPOINT_URL" --env-file "$STATE/functions.env"
    --out "$OUT" --sizes "$STATE/sizes.json" --token-file "$STATE/token"
    --commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)")
  if [ "$mode" = --profiles ]; then
    profile_experiment
  else
    run "$mode"
  fi
}

packages() { printf -- '-p %s ' "${FUNCTIONS[@]}"; }

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

# What scripts/deploy-checks.sh deploys: target/lambda/<fn>/bootstrap.zip for arm64, built
# with the cargo-lambda and zig of .venv (local/requirements.txt). A build of its own, ~10
# minutes from scratch here.
build_arm64_packages() {
  rustup target list --installed | grep -qx aarch64-unknown-linux-gnu ||
    rustup target add aarch64-unknown-linux-gnu
  echo "==> building the arm64 packages (cargo lambda build --release --arm64)" >&2
  cargo lambda build --quiet --release --arm64 --output-format zip $(packages)
}

# A moto server of our own, whatever AWS_ENDPOINT_URL* the shell has, provisioned from
# template.yaml, with the catalogue, the local token issuer and a token for the harness.
start_engine() {
  unset $(env | grep -o '^AWS_ENDPOINT_URL_[A-Z_]*' || true)
  local port="${BENCH_MOTO_PORT:-5300}"
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
  if port_open 127.0.0.1 "$port"; then
    echo "port $port is taken (a benchmark still running?); set BENCH_MOTO_PORT" >&2
    exit 1
  fi
  # local/moto_server.py without moto's object tracking, which leaks every transaction's
  # rollback copy of its tables (bench/moto_server.py).
  python "$ROOT/bench/moto_server.py" -H 127.0.0.1 -p "$port" >"$STATE/moto.log" 2>&1 </dev/null &
  MOTO_PID=$!
  wait_for_port 127.0.0.1 "$port" 30

  # The harness is one client (one admin token) making thousands of requests a minute; the
  # rate-limit count still runs on every request, as in production.
  export RATE_LIMIT_PER_MINUTE=4000000000
  echo "==> creating tables and queues from template.yaml, loading the catalogue" >&2
  python "$ROOT/local/stack.py" provision --env-file "$STATE/functions.env"
  {
    echo "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL"
    echo "AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID"
    echo "AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY"
    echo "AWS_REGION=$AWS_REGION"
    # One token sends thousands of requests a minute here: the rate limiter (when the
    # functions have one) still counts every request, but lets them all through.
    echo "RATE_LIMIT_PER_MINUTE=1000000000"
  } >>"$STATE/functions.env"
  # The functions verify tokens of the local issuer (local/auth.py); the harness sends one of
  # the admin group, which may act for every customer.
  python "$ROOT/local/auth.py" keygen "$ROOT/.local/auth"
  python "$ROOT/local/auth.py" env "$ROOT/.local/auth" >>"$STATE/functions.env"
  python "$ROOT/local/auth.py" token "$ROOT/.local/auth" --admin --ttl 7200 >"$STATE/token"
  (
    set -a && source "$STATE/functions.env"
    "$ROOT/target/debug/seed-catalogue" "$ROOT/local/catalogue.json"
    "$ROOT/target/debug/seed-catalogue" "$ROOT/bench/catalogue.json"
  ) >&2
}

stop_engine() {
  if [ -n "$MOTO_PID" ]; then
    kill -TERM "$MOTO_PID" 2>/dev/null || true
    wait "$MOTO_PID" 2>/dev/null || true
    MOTO_PID=""
  fi
}

profile_experiment() {
  local variant pairs=("release=$ROOT/target/release/$PROFILE_FUNCTION")
  for variant in "${PROFILE_VARIANTS[@]}"; do
    pairs+=("${variant%%:*}=$ROOT/target/${variant%%:*}/$PROFILE_FUNCTION")
  done
  python "$ROOT/bench/package_sizes.py" "$STATE/sizes.json" "$STATE/dist" "${pairs[@]}"
  local quick=()
  # BENCH_QUICK=1: few repetitions (the sizes, the point of most variants, are exact anyway).
  if [ "${BENCH_QUICK:-}" = 1 ]; then quick=(--quick); fi
  "$ROOT/target/release/bench" profiles "${COMMON[@]}" --function "$PROFILE_FUNCTION" \
    "${quick[@]}" "${pairs[@]}"
}

run() {
  local name pairs=() nestjs=() quick=()
  for name in empty-function "${FUNCTIONS[@]}"; do
    pairs+=("$name=$ROOT/target/release/$name")
  done
  python "$ROOT/bench/package_sizes.py" "$STATE/sizes.json" "$STATE/dist" "${pairs[@]}"
  if [ "${BENCH_SKIP_NESTJS:-}" != 1 ]; then
    install_nestjs
    nestjs=(--nestjs "$STATE/nestjs")
  fi
  if [ "$1" = --quick ]; then quick=(--quick); fi
  "$ROOT/target/release/bench" run "${COMMON[@]}" --bin-dir "$ROOT/target/release" \
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
    echo "==> installing NestJS 11 into $dir" >&2
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
