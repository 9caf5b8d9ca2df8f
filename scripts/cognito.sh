#!/usr/bin/env bash
# Sign-up and sign-in on the local stack's user pool (template.yaml's UserPool, in the stack's
# moto), the same calls as in AWS (see local/auth.py):
#   scripts/cognito.sh sign-up EMAIL PASSWORD [--admin]   a confirmed user; --admin: the admin group
#   scripts/cognito.sh sign-in EMAIL PASSWORD             prints the ID token: a bearer token for the API
# The stack must be running (`make dev`; another stack: MOTO_PORT=<its moto port>). The user's
# `sub`, the customer id, is Cognito's choice: sign-up prints it.
set -euo pipefail
source "$(dirname "$0")/tools.sh"
case "${1:-}" in
  sign-up | sign-in) ;;
  *)
    echo "usage: $0 sign-up EMAIL PASSWORD [--admin] | sign-in EMAIL PASSWORD" >&2
    exit 2
    ;;
esac
ensure_tools
MOTO_PORT="${MOTO_PORT:-5000}"
export AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER="${AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER:-http://127.0.0.1:$MOTO_PORT}"
export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://127.0.0.1:$MOTO_PORT}"
exec python "$ROOT/local/auth.py" "$@"
