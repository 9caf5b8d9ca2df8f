#!/usr/bin/env bash
# The load run of the reliability section: a local stack of its own, then `load-run` against
# it, then everything it started is stopped again.
#
#   scripts/load.sh [--faults] [orders] [clients]      (make load, make load FAULTS=1)
#
# 1,000 orders from 20 concurrent clients by default, each client a customer of its own with
# its own token, cancelling some of its orders while the others flow; half of them checkout
# orders paid at the stack's local Stripe (some after a declined card, some never: those
# expire, see PAYMENT_TIMEOUT_MINUTES below), the paid ones mostly shipped by an admin meanwhile (captured), a few refunded in
# part. Once the unpaid orders have expired and the event pipeline has drained (each waited
# for while it makes progress, up to LOAD_STALL_TIMEOUT_SECONDS, 120, without any), every
# invariant is checked (see local/src/load_run.rs). With --faults
# the relay's, the consumer's and the webhook deliverer's processes are killed (SIGKILL) at
# random moments while the orders flow, at least 20 times.
#
# The functions run as deployed, optimised (the release build: ~25 min the first time);
# LOAD_BUILD=debug runs the debug build instead.
#
# LOAD_ENGINE=dynamodb-local (the default: DynamoDB Local for DynamoDB, moto for SQS) or moto.
# Ports: the API on 9200, moto on 5200, the functions' Invoke API on 9250, DynamoDB Local on
# 8200 (LOAD_API_PORT, LOAD_MOTO_PORT, LOAD_DYNAMODB_PORT).
set -euo pipefail
# shellcheck source=scripts/tools.sh
source "$(dirname "$0")/tools.sh"
cd "$ROOT"

faults=()
if [ "${1:-}" = --faults ]; then
  faults=(--faults)
  shift
elif [ -n "${FAULTS:-}" ] && [ "${FAULTS:-0}" != 0 ]; then
  faults=(--faults)
fi

export API_PORT="${LOAD_API_PORT:-9200}" MOTO_PORT="${LOAD_MOTO_PORT:-5200}"
export STACK_STATE="$ROOT/.local/load-stack"
DDB_PORT="${LOAD_DYNAMODB_PORT:-8200}"
DDB_STATE="$STACK_STATE/dynamodb-local" # apart from the stack's PID files, which `stack.sh start` clears
ENGINE="${LOAD_ENGINE:-dynamodb-local}"
# Each client is a customer of its own placing orders as fast as the stack takes them: far
# over the API's per-client limit of 100 a minute, which is not what this run measures (a
# 429 would be counted and retried after its Retry-After).
export RATE_LIMIT_PER_MINUTE="${RATE_LIMIT_PER_MINUTE:-1000000}" STACK_NO_RELOAD=1
# Unpaid orders expire after 2 minutes (PAYMENT_TIMEOUT_MINUTES), the expiry running every 2 s
# (LOCAL_SCHEDULE_SECONDS), so that the run sees them expire. Not much less: the local Stripe
# sends its webhooks one at a time, and under the run's load they trail the confirmations by
# tens of seconds; an order whose authorisation reaches the shop after its deadline expires
# (its payment voided: counted as paid too late, and checked as such).
export PAYMENT_TIMEOUT_MINUTES="${PAYMENT_TIMEOUT_MINUTES:-2}" LOCAL_SCHEDULE_SECONDS="${LOCAL_SCHEDULE_SECONDS:-2}"

TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
case "${LOAD_BUILD:-release}" in
  release) export STACK_RELEASE=1 BUILD="$TARGET/release" ;;
  debug) export STACK_RELEASE=0 BUILD="$TARGET/debug" ;;
  *)
    echo "LOAD_BUILD must be release or debug, not $LOAD_BUILD" >&2
    exit 2
    ;;
esac

cleanup() {
  scripts/stack.sh stop
  scripts/dynamodb-local.sh stop "$DDB_STATE"
}
trap cleanup EXIT
# Ctrl-C or a TERM: exit, so that the EXIT trap stops everything this run started.
trap 'exit 130' INT
trap 'exit 143' TERM

case "$ENGINE" in
  dynamodb-local)
    scripts/dynamodb-local.sh start "$DDB_PORT" "$DDB_STATE"
    export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$DDB_PORT"
    export AWS_ENDPOINT_URL_DYNAMODB_STREAMS="http://127.0.0.1:$DDB_PORT"
    ;;
  moto) ;;
  *)
    echo "LOAD_ENGINE must be dynamodb-local or moto, not $ENGINE" >&2
    exit 2
    ;;
esac

if [ "${#faults[@]}" -gt 0 ]; then
  # `cargo lambda watch` does not start a function process again once it was killed (the dead
  # instance stays in its pool, and the invocation it held never answers). Lambda does: the
  # invocation fails (Runtime.ExitError) and a fresh execution environment takes the next one.
  # local/src/function_runner.rs does that for the relay, the consumer and the deliverer: cargo runs every
  # function through it (cargo's `runner` setting), and it supervises those three. stack.sh's
  # build makes it before watch runs anything.
  host=$(rustc -vV | sed -n 's/^host: //p' | tr '[:lower:]-' '[:upper:]_')
  export "CARGO_TARGET_${host}_RUNNER=$BUILD/function-runner"
  export LOCAL_RESTARTED_FUNCTIONS=order-events-relay,order-events-consumer,deliver-webhooks
fi

step "starting a local stack for the load run (engine: $ENGINE; ~30 s)"
scripts/stack.sh start
# The run reads the tables and queues as the administrator.
use_stack_as_admin
export SHOP_STACK_STATE="$STACK_STATE"
"$BUILD/load-run" "${faults[@]}" "$@"
