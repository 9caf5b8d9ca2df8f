#!/usr/bin/env bash
# Prints a bearer token of the local stack's issuer (see local/auth.py): --customer UUID or --admin.
set -euo pipefail
source "$(dirname "$0")/tools.sh"
ensure_tools
python "$ROOT/local/auth.py" keygen "$ROOT/.local/auth"
python "$ROOT/local/auth.py" token "$ROOT/.local/auth" "$@"
