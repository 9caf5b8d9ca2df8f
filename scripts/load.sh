#!/usr/bin/env bash
# The load run of the reliability section: a local stack of its own (ports 5200/9200), then
# `load-run` against it (1,000 orders from 20 concurrent clients by default), then stops it.
#   scripts/load.sh [orders] [clients]
set -euo pipefail
source "$(dirname "$0")/tools.sh"
cd "$ROOT"
export API_PORT="${LOAD_API_PORT:-9200}" MOTO_PORT="${LOAD_MOTO_PORT:-5200}"
export STACK_STATE="$ROOT/.local/load-stack"
# The load run is one client (one admin token) placing orders as fast as the stack takes them.
export RATE_LIMIT_PER_MINUTE="${RATE_LIMIT_PER_MINUTE:-1000000}" STACK_NO_RELOAD=1
trap 'scripts/stack.sh stop' EXIT
scripts/stack.sh start
set -a
source "$STACK_STATE/functions.env"
set +a
SHOP_TOKEN="$(python "$ROOT/local/auth.py" token "$ROOT/.local/auth" --admin)" \
  SHOP_API_URL="http://127.0.0.1:$API_PORT" "$ROOT/target/debug/load-run" "$@"
