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
