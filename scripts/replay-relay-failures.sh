#!/usr/bin/env bash
# Replays the stream records the outbox relay gave up on (the relay-failures queue): reads each
# failure message's records from the store table's stream (kept 24 h), invokes the relay with
# them, and deletes the message once the relay reported them all sent (local/replay_relay_failures.py).
#
#   scripts/replay-relay-failures.sh --stack NAME [--region R] [--dry-run]   in AWS (the stack's outputs)
#   scripts/replay-relay-failures.sh [--lambda-url URL] [--dry-run]          on the local stack
#   ... --bus                                  what the bus's reader gave up on (bus-failures)
#
# Locally the engine is AWS_ENDPOINT_URL (default http://127.0.0.1:5000, as `make dev` runs it)
# and the relay is invoked through the Lambda Invoke API at --lambda-url (default
# http://127.0.0.1:9000). In AWS the usual credentials and region apply (profile, environment).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# The local tools (boto3) without the local stack's dummy credentials, which would shadow a profile.
(source "$ROOT/scripts/tools.sh" && ensure_tools)
if [[ " $* " != *" --stack "* && " $* " != *" --stack="* ]]; then
  source "$ROOT/scripts/tools.sh"
  export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://127.0.0.1:5000}"
fi
exec "$ROOT/.venv/bin/python" "$ROOT/local/replay_relay_failures.py" "$@"
