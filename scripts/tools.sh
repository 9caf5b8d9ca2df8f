# Sourced by the other scripts: makes sure the project-local tools exist, and sets the
# environment every local command shares. Installs nothing outside the repository.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

ensure_tools() {
  local stamp="$VENV/.installed-$(sha256sum "$ROOT/local/requirements.txt" | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    echo "==> installing local tools into .venv (moto, cargo-lambda)" >&2
    command -v python3 >/dev/null || { echo "python3 is required" >&2; exit 1; }
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/local/requirements.txt"
    touch "$stamp"
  fi
  export PATH="$VENV/bin:$PATH"
}

# Dummy credentials: the local engines accept any; nothing here can reach real AWS.
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_DEFAULT_REGION="$AWS_REGION"

# Waits until something accepts TCP connections on host:port, or fails after $3 seconds.
wait_for_port() {
  local host=$1 port=$2 seconds=${3:-30} i
  for ((i = 0; i < seconds * 10; i++)); do
    (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing answered on $host:$port after ${seconds}s" >&2
  return 1
}

port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# RabbitMQ for the contract tests: the broker already answering on 127.0.0.1:5672 (guest/guest),
# else Debian's rabbitmq-server, installed if needed and started here. Sets RABBITMQ_STARTED=1
# when it started one, so the caller can stop it again (stop_rabbitmq).
RABBITMQ_URL="${RABBITMQ_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"
ensure_rabbitmq() {
  RABBITMQ_STARTED=0
  port_open 127.0.0.1 5672 && return 0
  if ! command -v rabbitmq-server >/dev/null; then
    echo "==> installing rabbitmq-server (Debian package)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rabbitmq-server >/dev/null
  fi
  echo "==> starting rabbitmq-server" >&2
  # Loopback only; the broker's own distribution port stays on loopback too.
  RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 ERL_EPMD_ADDRESS=127.0.0.1 rabbitmq-server -detached
  RABBITMQ_STARTED=1
  wait_for_port 127.0.0.1 5672 90
}

stop_rabbitmq() {
  [ "${RABBITMQ_STARTED:-0}" = 1 ] || return 0
  rabbitmqctl stop >/dev/null 2>&1 || true
  epmd -kill >/dev/null 2>&1 || true
}

# The NestJS peers of the contract tests (tests/nestjs-peer), from its lock file.
ensure_nestjs_peer() {
  local dir="$ROOT/tests/nestjs-peer"
  local stamp="$dir/node_modules/.installed-$(sha256sum "$dir/package-lock.json" | cut -c1-16)"
  [ -f "$stamp" ] && return 0
  command -v npm >/dev/null || { echo "node and npm are required for the RabbitMQ contract tests" >&2; exit 1; }
  echo "==> installing the NestJS peer (npm ci)" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$stamp"
}

# The storefront's browser test: Debian's chromium (installed if missing; playwright's own
# browser downloads are not used) and playwright-core from tests/browser's lock file.
ensure_browser_test() {
  if [ ! -x /usr/bin/chromium ]; then
    echo "==> installing chromium (Debian package)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  fi
  local dir="$ROOT/tests/browser"
  local stamp="$dir/node_modules/.installed-$(sha256sum "$dir/package-lock.json" | cut -c1-16)"
  [ -f "$stamp" ] && return 0
  command -v npm >/dev/null || { echo "node and npm are required for the browser test" >&2; exit 1; }
  echo "==> installing playwright-core (npm ci)" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$stamp"
}
