#!/usr/bin/env bash
# The whole system on this machine, no Docker and no AWS account:
#   moto server (DynamoDB, SQS,   ->  tables, queues and the user pool from template.yaml, the
#     Cognito, IAM enforced)          sample catalogue, an IAM user per function with its role's
#                                     policies (profiles in $STATE/credentials)
#   cargo lambda watch            ->  every function, each signing with its own profile (its
#                                     Invoke API on 127.0.0.1:$WATCH_PORT)
#   local/gateway.py              ->  the API on http://127.0.0.1:$API_PORT, routed by
#                                     template.yaml as API Gateway routes it, and the static site
#                                     (the shop, the API docs page) as CloudFront serves it
#   local/stack.py pollers        ->  the stream, queue and schedule event sources of template.yaml
#   local/stripe_local.py         ->  a local Stripe on http://127.0.0.1:$STRIPE_PORT, the functions'
#                                     payment provider (its keys in a Secrets Manager secret, a
#                                     webhook signing secret made at each start), sending its
#                                     signed webhooks to the API's /payments/webhooks/stripe
#
#   scripts/stack.sh run     in the foreground; Ctrl-C stops everything it started (make dev)
#   scripts/stack.sh start   in the background, for tests; prints nothing but errors
#   scripts/stack.sh stop    stops what `start` started, by the PIDs it recorded
#   scripts/stack.sh dlq [--redrive]   show (or move back) the order_created dead letters
#   scripts/stack.sh events [--out DIR] [--redact]   sample events for every function, made
#                            with the running stack (default events/local; see local/events.py)
#   scripts/stack.sh pay ORDER_ID [--method pm_card_visa]   confirm the order's payment at the
#                            local Stripe as the shopper's browser would (local/pay.py)
#
# Settings (environment):
#   API_PORT (9000), MOTO_PORT (5000), WATCH_PORT (API_PORT+50), STRIPE_PORT (API_PORT+60)
#   LOCAL_STRIPE=0               no local Stripe: the template's PaymentProvider stays `none`
#   PAYMENT_TIMEOUT_MINUTES=N    the PaymentTimeoutMinutes parameter (fractions allowed, e.g. 0.5):
#                                how long an order waits for its payment before it expires
#   LOCAL_SCHEDULE_SECONDS=N     scheduled functions run every N seconds, not at their rate
#
# AWS_ENDPOINT_URL set: use that engine (LocalStack, say) as it is for DynamoDB and SQS; the
# user pool and the local issuer's keys stay on the stack's own moto. AWS_ENDPOINT_URL_DYNAMODB
# (DynamoDB Local) moves DynamoDB alone.
set -euo pipefail
source "$(dirname "$0")/tools.sh"

API_PORT="${API_PORT:-9000}"
MOTO_PORT="${MOTO_PORT:-5000}"
WATCH_PORT="${WATCH_PORT:-$((API_PORT + 50))}"
STRIPE_PORT="${STRIPE_PORT:-$((API_PORT + 60))}"
STATE="${STACK_STATE:-$ROOT/.local/stack-$API_PORT}"
AUTH_DIR="$ROOT/.local/auth"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
# STACK_RELEASE=1 builds and runs everything optimised, as deployed (the load run measures
# that); the default is the debug build, quick to rebuild while editing.
if [ "${STACK_RELEASE:-0}" = 1 ]; then
  BUILD_PROFILE=release CARGO_PROFILE=(--release)
else
  BUILD_PROFILE=debug CARGO_PROFILE=()
fi
mkdir -p "$STATE"

stop() {
  local pidfile pid pids=() i alive
  # Tells a running `make dev` (below) that its processes end because a stop was asked for.
  touch "$STATE/stopping"
  for pidfile in "$STATE"/*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    pids+=("$pid")
    # Each process was started in its own session: stop its whole group (watch's children too).
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
  rm -f "$STATE/stripe.port"
  # Wait until they are gone, so that the next start finds its ports free.
  for ((i = 0; i < 100; i++)); do
    alive=0
    for pid in "${pids[@]}"; do
      if kill -0 -- "-$pid" 2>/dev/null || kill -0 "$pid" 2>/dev/null; then alive=1; fi
    done
    [ "$alive" = 0 ] && return 0
    sleep 0.1
  done
  for pid in "${pids[@]}"; do
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  done
}

spawn() { # name command... : runs in a new session, logs to $STATE/name.log
  local name=$1
  shift
  setsid "$@" >"$STATE/$name.log" 2>&1 < /dev/null &
  echo $! >"$STATE/$name.pid"
}

# The administrator (the provisioning's keys, profile local-admin): the pollers and the seeding.
AS_ADMIN=(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN
  AWS_SHARED_CREDENTIALS_FILE="$STATE/credentials" AWS_PROFILE=local-admin)
# The functions sign with their own profiles (AWS_PROFILE in each crate's Cargo.toml) and
# nothing else: keys in their environment would win over the profile.
AS_FUNCTIONS=(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE)

start() {
  ensure_tools
  stop
  rm -f "$STATE/stopping"
  trap 'echo "==> start failed; logs in $STATE" >&2; stop' ERR
  if port_open 127.0.0.1 "$MOTO_PORT"; then
    echo "==> 127.0.0.1:$MOTO_PORT is taken; the stack starts a moto of its own there (set MOTO_PORT)" >&2
    false
  fi
  # The local token issuer's key pair, served by moto: one for every local stack.
  python "$ROOT/local/auth.py" keygen "$AUTH_DIR"
  spawn moto python "$ROOT/local/moto_server.py" -H 127.0.0.1 -p "$MOTO_PORT" --iam \
    --local-jwks "$AUTH_DIR/jwks.json"
  wait_for_port 127.0.0.1 "$MOTO_PORT" 30
  local moto="http://127.0.0.1:$MOTO_PORT" iam=(--iam)
  if [ -z "${AWS_ENDPOINT_URL:-}" ]; then
    export AWS_ENDPOINT_URL="$moto"
  else
    export AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER="${AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER:-$moto}"
    export AWS_ENDPOINT_URL_SECRETS_MANAGER="${AWS_ENDPOINT_URL_SECRETS_MANAGER:-$moto}"
    iam=() # that engine checks no IAM: every function signs with the administrator's keys
  fi
  step "engine: $AWS_ENDPOINT_URL"

  # The local Stripe, the functions' payment provider (unless LOCAL_STRIPE=0): its webhooks
  # signed with a secret of this start's own (never logged), which the functions read from a
  # Secrets Manager secret as in AWS; every request, answer and webhook held against Stripe's
  # published OpenAPI document (GET /_local/checks lists what did not match).
  local stripe=() site=()
  if [ "${LOCAL_STRIPE:-1}" != 0 ]; then
    if port_open 127.0.0.1 "$STRIPE_PORT"; then
      echo "==> 127.0.0.1:$STRIPE_PORT is taken; the stack starts a local Stripe there (set STRIPE_PORT, or LOCAL_STRIPE=0)" >&2
      false
    fi
    ensure_stripe_spec
    local webhook_secret i
    webhook_secret="whsec_$(python -c 'import secrets; print(secrets.token_hex(24))')"
    spawn stripe python "$ROOT/local/stripe_local.py" --port "$STRIPE_PORT" \
      --webhook-url "http://127.0.0.1:$API_PORT/payments/webhooks/stripe" --webhook-secret "$webhook_secret" \
      --check-spec "$STRIPE_SPEC_CACHE" --port-file "$STATE/stripe.port"
    # The port file appears once it listens.
    for ((i = 0; i < 300; i++)); do
      [ -f "$STATE/stripe.port" ] && break
      if ! kill -0 "$(cat "$STATE/stripe.pid")" 2>/dev/null; then
        echo "==> the local Stripe did not start; see $STATE/stripe.log" >&2
        false
      fi
      sleep 0.1
    done
    wait_for_port 127.0.0.1 "$STRIPE_PORT" 1
    stripe=(--stripe "http://127.0.0.1:$STRIPE_PORT" --stripe-webhook-secret "$webhook_secret")
    # The shop's page confirms payments there (as it calls https://api.stripe.com in AWS).
    site=(--connect-src "http://127.0.0.1:$STRIPE_PORT")
  fi
  # Template parameters set from the environment (`make dev PAYMENT_TIMEOUT_MINUTES=0.5`).
  local parameters=()
  if [ -n "${PAYMENT_TIMEOUT_MINUTES:-}" ]; then
    parameters+=(--parameter "PaymentTimeoutMinutes=$PAYMENT_TIMEOUT_MINUTES")
  fi

  step "building the functions ($BUILD_PROFILE; debug ~5 min the first time, release ~25, seconds after)"
  # The workspace's default members: the functions and the local tools, exactly what watch's
  # `cargo run --bin <function>` selects, so that nothing is rebuilt at a first request.
  (cd "$ROOT" && cargo build "${CARGO_PROFILE[@]}")

  # A broker, as the template's RabbitMQ parameters: the consumer reads LOCAL_RABBITMQ_URL's
  # queue (Amazon MQ's event source, played by the pollers), and with
  # ORDER_EVENTS_TRANSPORT=rabbitmq the relay publishes there. The credentials in the URL go
  # into a Secrets Manager secret on the engine, which the functions read as in AWS.
  local broker=() broker_url="${LOCAL_RABBITMQ_URL:-${RABBITMQ_URL:-}}"
  if [ -n "$broker_url" ]; then
    broker=(--rabbitmq "$broker_url")
    if [ -n "${LOCAL_RABBITMQ_URL:-}" ]; then broker+=(--rabbitmq-queue "${LOCAL_RABBITMQ_QUEUE:-order_created}"); fi
    if [ "${ORDER_EVENTS_TRANSPORT:-sqs}" = rabbitmq ]; then broker+=(--rabbitmq-transport); fi
  elif [ "${ORDER_EVENTS_TRANSPORT:-sqs}" = rabbitmq ]; then
    echo "==> ORDER_EVENTS_TRANSPORT=rabbitmq needs the broker: LOCAL_RABBITMQ_URL (or RABBITMQ_URL)" >&2
    false
  fi
  # What `dlq` reads: the broker the stack's consumer reads.
  (umask 077 && printf 'LOCAL_RABBITMQ_URL=%s\nLOCAL_RABBITMQ_QUEUE=%s\n' "${LOCAL_RABBITMQ_URL:-}" \
    "${LOCAL_RABBITMQ_QUEUE:-order_created}" >"$STATE/broker.env")

  step "creating tables, queues, the user pool and the functions' IAM users from template.yaml (~5 s)"
  python "$ROOT/local/stack.py" provision --env-file "$STATE/functions.env" \
    --credentials "$STATE/credentials" "${iam[@]}" "${broker[@]}" "${stripe[@]}" "${parameters[@]}"
  # Beside the user pool, the local issuer (tokens for any chosen customer id; local only).
  local jwks="$moto/local-issuer/.well-known/jwks.json"
  python "$ROOT/local/auth.py" local-env --jwks-url "$jwks" >>"$STATE/functions.env"
  # The storefront's demo sign-in: tokens for a few customers, served to the page by the
  # gateway as /shop/config.js. Local only (in AWS: the user pool's hosted sign-in).
  python "$ROOT/local/auth.py" storefront-env "$AUTH_DIR" \
    | python -c 'import sys; print(sys.stdin.read().split("=", 1)[1].strip().strip("\x27"))' >"$STATE/demo-sign-in.json"
  # The API document, served at /api/openapi.json as a deployment publishes it.
  "$TARGET/$BUILD_PROFILE/openapi" / >"$STATE/openapi.json"
  {
    env | grep '^AWS_ENDPOINT_URL_' || true # per-service engines, e.g. DynamoDB Local for DynamoDB
    echo "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL"
    echo "AWS_REGION=$AWS_REGION"
  } >>"$STATE/functions.env"
  (set -a && source "$STATE/functions.env" && "${AS_ADMIN[@]}" "$TARGET/$BUILD_PROFILE/seed-catalogue" "$ROOT/local/catalogue.json") >&2

  step "starting the functions and the gateway on http://127.0.0.1:$API_PORT (~10 s)"
  # `make dev` rebuilds a function when its code changes; a test run keeps what it built
  # (STACK_NO_RELOAD=1), so that editing files meanwhile cannot stall or change it.
  local reload=()
  if [ "${STACK_NO_RELOAD:-}" = 1 ]; then reload=(--ignore-changes); fi
  spawn watch "${AS_FUNCTIONS[@]}" cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$WATCH_PORT" \
    --env-file "$STATE/functions.env" --concurrency 4 --quiet "${reload[@]}" "${CARGO_PROFILE[@]}"
  wait_for_port 127.0.0.1 "$WATCH_PORT" 120
  spawn gateway python "$ROOT/local/gateway.py" --port "$API_PORT" --lambda-url "http://127.0.0.1:$WATCH_PORT" \
    --openapi "$STATE/openapi.json" --demo-sign-in "$STATE/demo-sign-in.json" "${site[@]}"
  wait_for_port 127.0.0.1 "$API_PORT" 30
  spawn pollers "${AS_ADMIN[@]}" python "$ROOT/local/stack.py" pollers --lambda-url "http://127.0.0.1:$WATCH_PORT"
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
    shift
    if [ -f "$STATE/functions.env" ]; then
      # The running stack's engines, and its broker queue when the consumer reads one.
      (set -a && source "$STATE/functions.env" && source "$STATE/broker.env" && set +a &&
        "${AS_ADMIN[@]}" python "$ROOT/local/stack.py" dlq "$@")
    else
      echo "dlq: no local stack on port $API_PORT; start one with make dev" >&2
      exit 1
    fi
    ;;
  pay)
    shift
    ensure_tools
    if [ ! -f "$STATE/stripe.port" ] || ! port_open 127.0.0.1 "$API_PORT"; then
      echo "pay: no local stack with a local Stripe answers on port $API_PORT; start one with make dev (without LOCAL_STRIPE=0)" >&2
      exit 1
    fi
    if [ -z "${1:-}" ] || [ "${1#-}" != "$1" ]; then
      echo "usage: $0 pay ORDER_ID [--method pm_card_visa]   (make pay ORDER=<id> [METHOD=...])" >&2
      exit 2
    fi
    python "$ROOT/local/auth.py" keygen "$AUTH_DIR"
    python "$ROOT/local/pay.py" --api-url "http://127.0.0.1:$API_PORT" \
      --stripe-url "http://127.0.0.1:$(cat "$STATE/stripe.port")" --auth-dir "$AUTH_DIR" "$@"
    ;;
  events)
    shift
    ensure_tools
    if [ ! -f "$STATE/functions.env" ] || ! port_open 127.0.0.1 "$WATCH_PORT"; then
      echo "events: no local stack answers on port $WATCH_PORT; start one with make dev" >&2
      exit 1
    fi
    (set -a && source "$STATE/functions.env" && set +a && "${AS_ADMIN[@]}" python "$ROOT/local/events.py" \
      --lambda-url "http://127.0.0.1:$WATCH_PORT" --auth-dir "$AUTH_DIR" --out "$ROOT/events/local" "$@")
    ;;
  run)
    trap 'echo; echo "==> stopping"; stop; exit 0' INT TERM
    start
    watched=(watch gateway pollers)
    if [ -f "$STATE/stripe.pid" ]; then
      watched+=(stripe)
      payments="  Payments:           a local Stripe on http://127.0.0.1:$STRIPE_PORT (test cards; webhooks to the API)
    Pay for an order (one with a shipping address) as its shopper's browser would:
      make pay ORDER=<id>            (METHOD=pm_card_chargeDeclined: a declined card)
    An unpaid order expires after PaymentTimeoutMinutes (PAYMENT_TIMEOUT_MINUTES=N make dev)"
    else
      payments="  Payments:           none (LOCAL_STRIPE=0)"
    fi
    cat >&2 <<MSG

  The shop is open:   http://localhost:$API_PORT/          (pick a demo customer, or the demo admin)
  The API:            http://localhost:$API_PORT/products  (engine: $AWS_ENDPOINT_URL)
  Its documentation:  http://localhost:$API_PORT/api/docs
  A token:            TOKEN=\$(make -s token CUSTOMER=550e8400-e29b-41d4-a716-446655440000)   (ADMIN=1: the admin)
    curl -X POST http://localhost:$API_PORT/orders -H "Authorization: Bearer \$TOKEN" \\
      -H 'Content-Type: application/json' \\
      -d '{"items":[{"productId":"c0ffee00-c0de-f00d-baad-f00dc0ffee00","quantity":1}]}'
  Sign up and in through the user pool (Cognito in moto), as customers do in AWS:
    MOTO_PORT=$MOTO_PORT scripts/cognito.sh sign-up ada@example.com 'Correct-Horse-42'
  Sample events for every function: make events   (Lambda Invoke API on port $WATCH_PORT)
$payments
  Logs: $STATE/*.log     Stop: Ctrl-C

MSG
    logs=()
    for name in "${watched[@]}"; do logs+=("$STATE/$name.log"); done
    tail -n +1 -F "${logs[@]}" &
    echo $! >"$STATE/tail.pid"
    while true; do
      for name in "${watched[@]}"; do
        if ! kill -0 "$(cat "$STATE/$name.pid" 2>/dev/null)" 2>/dev/null; then
          if [ -f "$STATE/stopping" ]; then
            echo "==> stopped by make stop" >&2
            stop
            exit 0
          fi
          echo "==> $name stopped; see $STATE/$name.log" >&2
          stop
          exit 1
        fi
      done
      sleep 1
    done
    ;;
  *)
    echo "usage: $0 run|start|stop|dlq [--redrive]|events [--out DIR] [--redact]|pay ORDER_ID [--method PM]" >&2
    exit 2
    ;;
esac
