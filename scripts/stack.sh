#!/usr/bin/env bash
# The whole system on this machine, no Docker and no AWS account:
#   moto server (DynamoDB + SQS)  ->  tables and queues from template.yaml, sample catalogue
#   cargo lambda watch            ->  every function, the API on http://127.0.0.1:$API_PORT
#   local/stack.py pollers        ->  the stream and queue event sources of template.yaml
#
#   scripts/stack.sh run     in the foreground; Ctrl-C stops everything it started (make dev)
#   scripts/stack.sh start   in the background, for tests; prints nothing but errors
#   scripts/stack.sh stop    stops what `start` started, by the PIDs it recorded
#   scripts/stack.sh dlq [--redrive]   show (or move back) the order_created dead letters
#
# AWS_ENDPOINT_URL set: use that engine (moto, DynamoDB Local + an SQS, LocalStack) as it is.
set -euo pipefail
source "$(dirname "$0")/tools.sh"

API_PORT="${API_PORT:-9000}"
MOTO_PORT="${MOTO_PORT:-5000}"
STATE="${STACK_STATE:-$ROOT/.local/stack-$API_PORT}"
AUTH_DIR="$ROOT/.local/auth"
mkdir -p "$STATE"

stop() {
  local pidfile pid
  for pidfile in "$STATE"/*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    # Each process was started in its own session: stop its whole group (watch's children too).
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
}

spawn() { # name command... : runs in a new session, logs to $STATE/name.log
  local name=$1
  shift
  setsid "$@" >"$STATE/$name.log" 2>&1 < /dev/null &
  echo $! >"$STATE/$name.pid"
}

start() {
  ensure_tools
  stop
  trap 'echo "==> start failed; logs in $STATE" >&2; stop' ERR
  if [ -z "${AWS_ENDPOINT_URL:-}" ]; then
    export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
    if ! port_open 127.0.0.1 "$MOTO_PORT"; then
      spawn moto python "$ROOT/local/moto_server.py" -H 127.0.0.1 -p "$MOTO_PORT"
      wait_for_port 127.0.0.1 "$MOTO_PORT" 30
    fi
  fi
  echo "==> engine: $AWS_ENDPOINT_URL" >&2

  echo "==> building the functions" >&2
  (cd "$ROOT" && cargo build --workspace --quiet)

  echo "==> creating tables and queues from template.yaml" >&2
  python "$ROOT/local/stack.py" provision --env-file "$STATE/functions.env"
  # The local token issuer (a Cognito user pool's stand-in): one key pair for every local stack.
  python "$ROOT/local/auth.py" keygen "$AUTH_DIR"
  python "$ROOT/local/auth.py" env "$AUTH_DIR" >>"$STATE/functions.env"
  # The storefront's demo sign-in: tokens for a few customers, served to the page as
  # /shop/config.js. Local only: template.yaml never sets it (in AWS: the hosted sign-in).
  python "$ROOT/local/auth.py" storefront-env "$AUTH_DIR" >>"$STATE/functions.env"
  {
    env | grep '^AWS_ENDPOINT_URL_' || true # per-service engines, e.g. DynamoDB Local for DynamoDB
    echo "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL"
    echo "AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID"
    echo "AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY"
    echo "AWS_REGION=$AWS_REGION"
    # The relay's transport when set here, e.g. ORDER_EVENTS_TRANSPORT=rabbitmq RABBITMQ_URL=...
    env | grep -E '^(ORDER_EVENTS_TRANSPORT|RABBITMQ_URL|RABBITMQ_QUEUE)=' || true
  } >>"$STATE/functions.env"
  (set -a && source "$STATE/functions.env" && "${CARGO_TARGET_DIR:-$ROOT/target}/debug/seed-catalogue" "$ROOT/local/catalogue.json") >&2

  echo "==> starting the functions on http://127.0.0.1:$API_PORT" >&2
  # `make dev` rebuilds a function when its code changes; a test run keeps what it built
  # (STACK_NO_RELOAD=1), so that editing files meanwhile cannot stall or change it.
  local reload=()
  if [ "${STACK_NO_RELOAD:-}" = 1 ]; then reload=(--ignore-changes); fi
  spawn watch cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$API_PORT" \
    --env-file "$STATE/functions.env" --concurrency 4 --quiet "${reload[@]}"
  wait_for_port 127.0.0.1 "$API_PORT" 120
  spawn pollers python "$ROOT/local/stack.py" pollers --lambda-url "http://127.0.0.1:$API_PORT"
}

case "${1:-}" in
  start)
    start
    ;;
  stop)
    stop
    ;;
  dlq)
    ensure_tools
    export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://127.0.0.1:$MOTO_PORT}"
    shift
    python "$ROOT/local/stack.py" dlq "$@"
    ;;
  run)
    trap 'echo; echo "==> stopping"; stop; exit 0' INT TERM
    start
    cat >&2 <<MSG

  The shop is open at http://localhost:$API_PORT/  (pick a demo customer to sign in)
  The shop's API is up at http://localhost:$API_PORT  (engine: $AWS_ENDPOINT_URL)
    curl http://localhost:$API_PORT/products
    TOKEN=\$(make -s token CUSTOMER=550e8400-e29b-41d4-a716-446655440000)
    curl -X POST http://localhost:$API_PORT/orders -H "Authorization: Bearer \$TOKEN" \\
      -H 'Content-Type: application/json' \\
      -d '{"items":[{"productId":"c0ffee00-c0de-f00d-baad-f00dc0ffee00","quantity":1}]}'
    curl http://localhost:$API_PORT/customers/550e8400-e29b-41d4-a716-446655440000/orders -H "Authorization: Bearer \$TOKEN"
  Logs: $STATE/*.log     Ctrl-C stops everything.

MSG
    tail -n +1 -F "$STATE/watch.log" "$STATE/pollers.log" &
    echo $! >"$STATE/tail.pid"
    while true; do
      for name in watch pollers; do
        if ! kill -0 "$(cat "$STATE/$name.pid" 2>/dev/null)" 2>/dev/null; then
          echo "==> $name stopped; see $STATE/$name.log" >&2
          stop
          exit 1
        fi
      done
      sleep 1
    done
    ;;
  *)
    echo "usage: $0 run|start|stop|dlq [--redrive]" >&2
    exit 2
    ;;
esac
