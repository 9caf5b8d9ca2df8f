#!/usr/bin/env bash
# Everything `make test` runs: unit tests, then a local stack of its own (ports 5100/9100, so a
# running `make dev` is not disturbed) and the integration suite against it, then stops it.
# Set AWS_ENDPOINT_URL to run the suite against another engine (DynamoDB Local, LocalStack).
set -euo pipefail
source "$(dirname "$0")/tools.sh"
ensure_tools
cd "$ROOT"

echo "==> unit tests" >&2
cargo test --workspace --exclude integration-tests
python -m unittest discover -s local -p 'test_*.py'

export API_PORT="${TEST_API_PORT:-9100}" MOTO_PORT="${TEST_MOTO_PORT:-5100}"
export STACK_STATE="$ROOT/.local/test-stack"
trap 'scripts/stack.sh stop' EXIT
echo "==> starting a local stack for the integration tests" >&2
scripts/stack.sh start

echo "==> integration tests" >&2
set -a
source "$STACK_STATE/functions.env"
set +a
export SHOP_API_URL="http://127.0.0.1:$API_PORT" STACK_LOGS="$STACK_STATE/watch.log"
cargo test -p integration-tests --no-fail-fast -- --test-threads=4
