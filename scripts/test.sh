#!/usr/bin/env bash
# Everything `make test` runs: unit tests, then the integration suite against a local stack of
# its own (ports 5100/9100, so a running `make dev` is not disturbed), once per engine:
#   moto            moto server for DynamoDB and SQS (the default engine)
#   dynamodb-local  DynamoDB Local (AWS's own engine) for DynamoDB, moto for SQS
#   localstack      LocalStack (on the host, no Docker: scripts/localstack.sh) for DynamoDB, SQS
#                   and EventBridge, on 127.0.0.1:4566 or TEST_LOCALSTACK_PORT
# TEST_ENGINES picks some (e.g. TEST_ENGINES=moto). With AWS_ENDPOINT_URL set (LocalStack on
# http://localhost:4566, say) the suite runs once, against that endpoint as it is.
# Beside the suites, on a stack of its own (moto, ports 5300/9300): hostile input, the seeding
# of a deployed stack and the storefront in a browser (`scripts/test.sh hostile` runs that part
# alone). Beside them too, on stacks of their own (ports 5400/9400, each engine of its own:
# DynamoDB Local on 8400, LocalStack on 4600): unpaid orders expiring, with a payment timeout
# of 6 s and the schedule every 2 s, once per engine (`scripts/test.sh payments-expiry` alone).
# Every stack runs a local Stripe (local/stripe_local.py) as its payment provider.
# The RabbitMQ contract tests use the broker on 127.0.0.1:5672, or install and start one.
set -euo pipefail
source "$(dirname "$0")/tools.sh"
ensure_tools test
cd "$ROOT"
MODE="${1:-all}"

# Every test is a client of its own (a token subject and an X-Forwarded-For address of its
# own, trusted as if from one proxy), and a busy one makes a few hundred requests a minute;
# the rate-limit tests read the limit from the responses.
export RATE_LIMIT_PER_MINUTE="${RATE_LIMIT_PER_MINUTE:-1000}" RATE_LIMIT_TRUSTED_PROXIES=1
export STACK_NO_RELOAD=1
# Webhook attempts a second apart (the last two minutes after: the schedule's span is how long
# a breaker may stay open before its endpoint is disabled), and a breaker that waits three
# seconds, so that the retries and the probe are seen within a test (the template's
# parameters, as overrides).
export WEBHOOK_RETRY_SCHEDULE="0,1,1,1,1,1,1,120" WEBHOOK_BREAKER_COOLDOWN=3

# The running stack's settings, for a test process (run it in a subshell): the tests act as
# the administrator.
use_stack() {
  use_stack_as_admin
  export STACK_LOGS="$STACK_STATE/watch.log" SHOP_SAMPLE_EVENTS="$STACK_STATE/events"
  export SHOP_LAMBDA_URL="http://127.0.0.1:$((API_PORT + 50))"
  # The stack's local Stripe, when it runs one (its keys: sk_test_local, pk_test_local), and
  # its webhook signing secret, from the Secrets Manager secret the functions read (made anew
  # by each start, and kept nowhere else).
  if [ -f "$STACK_STATE/stripe.port" ]; then
    SHOP_STRIPE_URL="http://127.0.0.1:$(cat "$STACK_STATE/stripe.port")"
    SHOP_STRIPE_WEBHOOK_SECRET=$(python -c 'import boto3, json, os
secret = boto3.client("secretsmanager").get_secret_value(SecretId=os.environ["STRIPE_SECRET_ARN"])
print(json.loads(secret["SecretString"])["webhookSecrets"][0])')
    export SHOP_STRIPE_URL SHOP_STRIPE_WEBHOOK_SECRET
  fi
}

# Hostile input, the seeding of a deployed stack and the browser, on the running stack. The API
# answers the same on every engine, so they run once. Each hostile case scans the tables to
# prove it wrote nothing, so the stack is a fresh one that nothing else writes to.
hostile_pass() (
  use_stack
  step "hostile input: schemathesis from /api/openapi.json, and the hostile list (~3-5 min)"
  python -m pytest -q -p no:cacheprovider "$ROOT/tests/hostile"
  step "seeding a deployed stack's catalogue, on a CloudFormation stack of the local engine (~10 s)"
  python -m unittest "$ROOT/tests/deploy/test_seed_deployed.py"
  # The storefront, clicked through in chromium; screenshots in target/browser-artifacts.
  step "the storefront in a real browser (chromium, playwright-core; ~1 min)"
  for page in storefront orders payments profile admin webhooks docs; do
    node "$ROOT/tests/browser/$page.test.mjs"
  done
)

# The hostile pass's stack: a moto of its own, apart from the integration suites' ports and
# broker queue.
HOSTILE_STACK=(API_PORT="${TEST_HOSTILE_API_PORT:-9300}" MOTO_PORT="${TEST_HOSTILE_MOTO_PORT:-5300}"
  STACK_STATE="$ROOT/.local/test-hostile")

# Unpaid orders expiring, on the running stack: started with a payment timeout of 0.1 minute
# (PaymentTimeoutMinutes) and the scheduled expiry every 2 s, so that an order expires within
# seconds. A stack of its own, as no other test could bear its orders expiring so soon.
expiry_pass() (
  use_stack
  step "payments: unpaid orders expire (timeout 6 s, the schedule every 2 s; ~1 min)"
  cargo test -p integration-tests --test payment_expiry -- --test-threads=4
)

# Its stacks: a moto of their own, apart from the other stacks' ports, and no broker queue;
# on each engine but moto, an engine of their own too (the stacks' tables have fixed names).
EXPIRY_STACK=(API_PORT="${TEST_EXPIRY_API_PORT:-9400}" MOTO_PORT="${TEST_EXPIRY_MOTO_PORT:-5400}"
  STACK_STATE="$ROOT/.local/test-expiry" PAYMENT_TIMEOUT_MINUTES=0.1 LOCAL_SCHEDULE_SECONDS=2)
EXPIRY_DDB_PORT="${TEST_EXPIRY_DYNAMODB_PORT:-8400}" EXPIRY_LS_PORT="${TEST_EXPIRY_LOCALSTACK_PORT:-4600}"
EXPIRY_ENGINE_STATE="$ROOT/.local/test-expiry-engine"

# Runs "$@" with the stack's DynamoDB (and on LocalStack its SQS and EventBridge too) on the
# engine $1 (moto, dynamodb-local, localstack), started on 127.0.0.1:$2 with its files in $3
# and stopped after; moto serves the rest, as it does the whole stack on moto.
on_engine() {
  local engine=$1 port=$2 state=$3 url
  shift 3
  case "$engine" in
    moto)
      "$@"
      return
      ;;
    dynamodb-local) scripts/dynamodb-local.sh start "$port" "$state" ;;
    localstack) scripts/localstack.sh start "$port" "$state" ;;
    *)
      echo "unknown engine $engine (moto, dynamodb-local, localstack)" >&2
      exit 2
      ;;
  esac
  url="http://127.0.0.1:$port"
  if [ "$engine" = localstack ]; then
    # Queue URLs are LocalStack's own, from GetQueueUrl; its EventBridge delivers the rules
    # to its own queues.
    AWS_ENDPOINT_URL_DYNAMODB="$url" AWS_ENDPOINT_URL_DYNAMODB_STREAMS="$url" \
      AWS_ENDPOINT_URL_SQS="$url" AWS_ENDPOINT_URL_EVENTBRIDGE="$url" "$@"
  else
    AWS_ENDPOINT_URL_DYNAMODB="$url" AWS_ENDPOINT_URL_DYNAMODB_STREAMS="$url" "$@"
  fi
  "scripts/$engine.sh" stop "$state"
}

# The expiry on a fresh stack; $1 names its engine.
expiry_on_fresh_stack() {
  step "starting a fresh local stack for the payment expiry ($1; ~30 s)"
  scripts/stack.sh start
  expiry_pass
  scripts/stack.sh stop
}

if [ "$MODE" = payments-expiry ]; then
  export "${EXPIRY_STACK[@]}"
  unset LOCAL_RABBITMQ_URL LOCAL_RABBITMQ_QUEUE AWS_ENDPOINT_URL
  trap 'scripts/stack.sh stop; scripts/dynamodb-local.sh stop "$EXPIRY_ENGINE_STATE/dynamodb-local"
    scripts/localstack.sh stop "$EXPIRY_ENGINE_STATE/localstack"' EXIT
  for engine in ${TEST_ENGINES:-moto dynamodb-local localstack}; do
    case "$engine" in
      dynamodb-local) port=$EXPIRY_DDB_PORT ;;
      localstack) port=$EXPIRY_LS_PORT ;;
      *) port= ;;
    esac
    on_engine "$engine" "$port" "$EXPIRY_ENGINE_STATE/$engine" expiry_on_fresh_stack "$engine"
  done
  exit 0
elif [ "$MODE" = hostile ]; then
  export "${HOSTILE_STACK[@]}"
  unset LOCAL_RABBITMQ_URL LOCAL_RABBITMQ_QUEUE AWS_ENDPOINT_URL
  ensure_browser_test
  trap 'scripts/stack.sh stop' EXIT
  step "starting a fresh local stack for hostile input and the browser (moto; ~30 s)"
  scripts/stack.sh start
  hostile_pass
  exit 0
elif [ "$MODE" != all ]; then
  echo "usage: scripts/test.sh [hostile|payments-expiry]" >&2
  exit 2
fi

# Stripe's OpenAPI document, which the local Stripe checks against (the adapter's unit tests
# start one too): fetched once per machine, before anything starts one.
ensure_stripe_spec
step "unit tests (cargo test builds the workspace: ~6 min the first time, seconds after)"
cargo test --workspace --exclude integration-tests
python -m unittest discover -s local -p 'test_*.py'

export API_PORT="${TEST_API_PORT:-9100}" MOTO_PORT="${TEST_MOTO_PORT:-5100}"
export STACK_STATE="$ROOT/.local/test-stack"
DDB_PORT="${TEST_DYNAMODB_PORT:-8100}"
DDB_STATE="$STACK_STATE/dynamodb-local" # apart from the stack's PID files, which `stack.sh start` clears
LS_PORT="${TEST_LOCALSTACK_PORT:-4566}"
LS_STATE="$STACK_STATE/localstack"
HOSTILE_LOG="$ROOT/.local/test-hostile.log"
EXPIRY_LOG="$ROOT/.local/test-expiry.log"

ensure_rabbitmq
ensure_nestjs_peer
ensure_browser_test
# The stack's Amazon MQ event source consumes a queue of this run's own, so that a NestJS
# service using `order_created` on the same broker is neither disturbed nor counted.
export LOCAL_RABBITMQ_URL="$RABBITMQ_URL" LOCAL_RABBITMQ_QUEUE="order_created.test-$$"
# The stock requests' exchange and queues too: an Order service (or `make dev`) on the same
# broker sends its requests to its own, and this run's stack answers only this run's peers.
export LOCAL_INVENTORY_EXCHANGE="inventory.exchange.test-$$" LOCAL_STOCK_CHECK_QUEUE="ORDER_STOCK_CHECK.test-$$" \
  LOCAL_STOCK_DEDUCT_QUEUE="ORDER_STOCK_DEDUCT.test-$$"
export SHOP_RABBITMQ_URL="$RABBITMQ_URL" SHOP_RABBITMQ_QUEUE="$LOCAL_RABBITMQ_QUEUE"
# The local issuer's key pair, made once here: both stacks start with it, and would
# otherwise race to make it.
python "$ROOT/local/auth.py" keygen "$ROOT/.local/auth"

HOSTILE_PID=
EXPIRY_PID=
cleanup() {
  local pid
  for pid in "$HOSTILE_PID" "$EXPIRY_PID"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM -- "-$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  env "${HOSTILE_STACK[@]}" scripts/stack.sh stop
  env "${EXPIRY_STACK[@]}" scripts/stack.sh stop
  scripts/dynamodb-local.sh stop "$EXPIRY_ENGINE_STATE/dynamodb-local"
  scripts/localstack.sh stop "$EXPIRY_ENGINE_STATE/localstack"
  scripts/stack.sh stop
  scripts/dynamodb-local.sh stop "$DDB_STATE"
  scripts/localstack.sh stop "$LS_STATE"
  python - <<'PY' || true
import os, pika
connection = pika.BlockingConnection(pika.URLParameters(os.environ["LOCAL_RABBITMQ_URL"]))
channel = connection.channel()
for variable in ("LOCAL_RABBITMQ_QUEUE", "LOCAL_STOCK_CHECK_QUEUE", "LOCAL_STOCK_DEDUCT_QUEUE"):
    queue = os.environ[variable]
    channel.queue_delete(queue=queue)
    channel.queue_delete(queue=f"{queue}.dead-letters")
    channel.exchange_delete(exchange=f"{queue}.dlx")
channel.exchange_delete(exchange=os.environ["LOCAL_INVENTORY_EXCHANGE"])
connection.close()
PY
  stop_rabbitmq
}
trap cleanup EXIT

# Runs the integration suite against a freshly started stack; $1 names the engine.
integration_suite() {
  step "starting a local stack for the integration tests ($1; ~30 s)"
  scripts/stack.sh start
  scripts/stack.sh events --out "$STACK_STATE/events"
  step "integration tests ($1; ~2 min)"
  (use_stack && cargo test -p integration-tests --test integration --no-fail-fast -- --test-threads=4)
  scripts/stack.sh stop
}

if [ -n "${AWS_ENDPOINT_URL:-}" ]; then
  # That engine's tables are the stack's own: the hostile pass follows the suite, on a fresh
  # stack of the same engine.
  integration_suite "$AWS_ENDPOINT_URL"
  step "starting a fresh local stack for hostile input and the browser ($AWS_ENDPOINT_URL; ~30 s)"
  scripts/stack.sh start
  hostile_pass
  scripts/stack.sh stop
  PAYMENT_TIMEOUT_MINUTES=0.1 LOCAL_SCHEDULE_SECONDS=2 expiry_on_fresh_stack "$AWS_ENDPOINT_URL"
  exit 0
fi

# The hostile pass runs in the background while the suites run, so that the run takes the
# longer of the two rather than their sum; in a session of its own, so that a failed run stops
# all of it. Its output is shown when it ends (checked after each suite).
step "hostile input and the browser, in the background beside the integration suites (~9 min; log: $HOSTILE_LOG)"
setsid "$ROOT/scripts/test.sh" hostile >"$HOSTILE_LOG" 2>&1 </dev/null &
HOSTILE_PID=$!

# The integration tests are built here, once: the payment expiry pass, started next in the
# background as well, runs one of them with no build of its own (none that would wait for, or
# slow, the suites' builds).
step "building the integration tests (~1 min the first time, seconds after)"
cargo test -p integration-tests --no-run
step "unpaid orders expiring, in the background beside the integration suites (~2 min; log: $EXPIRY_LOG)"
setsid "$ROOT/scripts/test.sh" payments-expiry >"$EXPIRY_LOG" 2>&1 </dev/null &
EXPIRY_PID=$!

# A background pass's log, once it has ended; the run stops there if it failed. Also called
# between the suites when it has already ended, so that an early failure is not reported
# minutes later.
finish_pass() { # PID LOG WHAT
  local status=0
  wait "$1" || status=$?
  cat "$2" >&2
  if [ "$status" != 0 ]; then
    echo "==> $3 failed (exit $status; above, and in $2)" >&2
    exit "$status"
  fi
}
finish_hostile_pass() {
  local pid=$HOSTILE_PID
  HOSTILE_PID=
  finish_pass "$pid" "$HOSTILE_LOG" "hostile input or the browser"
}
finish_expiry_pass() {
  local pid=$EXPIRY_PID
  EXPIRY_PID=
  finish_pass "$pid" "$EXPIRY_LOG" "the payment expiry pass"
}

for engine in ${TEST_ENGINES:-moto dynamodb-local localstack}; do
  case "$engine" in
    moto) on_engine moto "" "" integration_suite "moto" ;;
    dynamodb-local)
      on_engine dynamodb-local "$DDB_PORT" "$DDB_STATE" integration_suite "DynamoDB Local for DynamoDB, moto for SQS"
      ;;
    localstack)
      # First the LocalStack we run itself: loopback only, DynamoDB with streams, SQS (it starts
      # one of its own on a free port, installing LocalStack on first use).
      step "LocalStack on this machine: listeners, DynamoDB streams, SQS (~30 s)"
      python "$ROOT/local/localstack/test_localstack.py"
      on_engine localstack "$LS_PORT" "$LS_STATE" integration_suite "LocalStack for DynamoDB, SQS and EventBridge"
      ;;
    *)
      echo "unknown engine $engine (moto, dynamodb-local, localstack)" >&2
      exit 2
      ;;
  esac
  if [ -n "$HOSTILE_PID" ] && ! kill -0 "$HOSTILE_PID" 2>/dev/null; then finish_hostile_pass; fi
  if [ -n "$EXPIRY_PID" ] && ! kill -0 "$EXPIRY_PID" 2>/dev/null; then finish_expiry_pass; fi
done

if [ -n "$EXPIRY_PID" ]; then
  step "waiting for the payment expiry pass to end"
  finish_expiry_pass
fi
if [ -n "$HOSTILE_PID" ]; then
  step "waiting for hostile input and the browser to end"
  finish_hostile_pass
fi
