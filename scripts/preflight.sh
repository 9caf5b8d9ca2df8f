#!/usr/bin/env bash
# scripts/preflight.sh dev|test|bench|deploy: checks that this machine has what that command
# needs before it starts, and stops with one line per missing thing (what, and how to get it on
# Debian). Everything else those commands use they install into the repository themselves.
#
#   all      Linux; Rust (rustc at least the workspace's rust-version, cargo) and a C compiler
#            (aws-lc-sys, the AWS SDK's crypto, is C); Python 3.11+ with venv/ensurepip
#   test     + Node.js 20+ with npm (playwright-core and NestJS 11 require Node 20), Java 17+
#            (DynamoDB Local), curl and ip (DynamoDB Local's loopback-only namespace), a RabbitMQ
#            broker on 127.0.0.1:5672 or rabbitmq-server (installed when running as root), and
#            /usr/bin/chromium (likewise)
#   bench    + Node.js 20+ with npm for the NestJS comparison (not with BENCH_SKIP_NESTJS=1);
#            with BENCH_ARM64=1, the arm64 standard library (rustup, which adds it)
#   deploy   + the arm64 standard library (rustup, which adds it), for Lambda's arm64 packages
#
# Fast: one process per tool and no network; versions are read from files where a tool is slow
# to start (Java, npm).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

usage() {
  echo "usage: $0 dev|test|bench|deploy" >&2
  exit 2
}
[ $# = 1 ] || usage
mode=$1
case "$mode" in dev | test | bench | deploy) ;; *) usage ;; esac

missing=0
need() { # one line: what is missing, and how to get it
  echo "missing: $*" >&2
  missing=$((missing + 1))
}

# version_at_least HAVE WANT: dotted versions, compared field by field.
version_at_least() {
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

as_root_or() { # the command to suggest for a Debian package
  if [ "$(id -u)" = 0 ]; then echo "apt-get install -y $*"; else echo "sudo apt-get install -y $*"; fi
}

# Linux only: network namespaces, setsid, /dev/tcp probes and Debian packages.
if [ "$(uname -s)" != Linux ]; then
  echo "missing: Linux (this is $(uname -s)); the local stack and its tests run on Linux only (Debian 12 or later)" >&2
  exit 1
fi
for tool in flock setsid sha256sum; do
  command -v "$tool" >/dev/null || need "$tool (util-linux, coreutils): $(as_root_or util-linux coreutils)"
done

# Rust: the toolchain at least as new as the workspace's rust-version (Cargo.toml).
rust_version=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
rustup_hint="install rustup (https://rustup.rs), then: rustup toolchain install stable"
if ! rustc_out=$(rustc --version 2>/dev/null); then
  need "Rust (rustc $rust_version or newer): $rustup_hint"
else
  rustc_version=$(echo "$rustc_out" | awk '{print $2}')
  rustc_version=${rustc_version%%-*}
  if ! version_at_least "$rustc_version" "$rust_version"; then
    if command -v rustup >/dev/null; then
      need "Rust $rust_version or newer (this is rustc $rustc_version): rustup update stable"
    else
      need "Rust $rust_version or newer (this is rustc $rustc_version, Debian's is older still): $rustup_hint"
    fi
  fi
  command -v cargo >/dev/null || need "cargo: $rustup_hint"
fi
command -v cc >/dev/null || need "a C compiler, for aws-lc-sys (the AWS SDK's crypto): $(as_root_or build-essential)"

# Python 3.11+ that can make a virtual environment (Debian ships venv's ensurepip apart).
if ! py=$(python3 -c 'import sys, importlib.util as u; print("%d.%d" % sys.version_info[:2], u.find_spec("ensurepip") is not None)' 2>/dev/null); then
  need "Python 3.11 or newer: $(as_root_or python3 python3-venv)"
else
  read -r py_version py_venv <<<"$py"
  if ! version_at_least "$py_version" 3.11; then
    need "Python 3.11 or newer (python3 is $py_version): $(as_root_or python3 python3-venv) (Debian 12 or later)"
  elif [ "$py_venv" != True ]; then
    need "Python's venv module with ensurepip: $(as_root_or "python${py_version}-venv")"
  fi
fi

node_and_npm() { # $1: what needs them
  if ! node_version=$(node --version 2>/dev/null); then
    need "Node.js 20 or newer, for $1: $(as_root_or nodejs npm) (Debian 13; on Debian 12 NodeSource's nodejs 20)"
    return
  fi
  node_version=${node_version#v}
  version_at_least "$node_version" 20 ||
    need "Node.js 20 or newer, for $1 (this is $node_version): NodeSource's nodejs 20, or Debian 13's nodejs"
  local npm_cli npm_version=""
  if npm_cli=$(readlink -f "$(command -v npm 2>/dev/null)" 2>/dev/null) && [ -n "$npm_cli" ]; then
    npm_version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$(dirname "$npm_cli")/../package.json" 2>/dev/null | head -n1)
    [ -n "$npm_version" ] || npm_version=$(npm --version 2>/dev/null)
  fi
  if [ -z "$npm_version" ]; then
    need "npm, for $1: $(as_root_or npm)"
  else
    # Lock files of format 3 (tests/browser, tests/nestjs-peer) need npm 7 or later.
    version_at_least "$npm_version" 7 || need "npm 7 or newer, for $1 (this is $npm_version): npm install -g npm@10"
  fi
}

java_17() { # $1: what needs it
  local java java_version=""
  if ! java=$(command -v java); then
    need "Java 17 or newer, for $1: $(as_root_or default-jre-headless)"
    return
  fi
  # The JDK's release file answers in a millisecond; starting a JVM takes a tenth of a second.
  java_version=$(sed -n 's/^JAVA_VERSION="\(.*\)"/\1/p' "$(dirname "$(readlink -f "$java")")/../release" 2>/dev/null)
  [ -n "$java_version" ] || java_version=$(java -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n1)
  java_version=${java_version#1.} # Java 8 and older call themselves 1.x
  version_at_least "${java_version:-0}" 17 ||
    need "Java 17 or newer, for $1 (this is ${java_version:-unknown}): $(as_root_or default-jre-headless)"
}

arm64_target() { # $1: what needs it
  # With rustup, the scripts add the target themselves: it downloads the standard library of
  # the toolchain already installed, never another toolchain.
  command -v rustup >/dev/null && return
  [ -d "$(rustc --print sysroot 2>/dev/null)/lib/rustlib/aarch64-unknown-linux-gnu" ] ||
    need "the arm64 standard library, for $1: rustup (https://rustup.rs), then: rustup target add aarch64-unknown-linux-gnu"
}

case "$mode" in
  test)
    node_and_npm "the browser and RabbitMQ contract tests"
    java_17 "DynamoDB Local"
    command -v curl >/dev/null || need "curl, for DynamoDB Local's readiness probe: $(as_root_or curl)"
    command -v ip >/dev/null || need "ip, for DynamoDB Local's loopback-only namespace: $(as_root_or iproute2)"
    command -v unshare >/dev/null || need "unshare, for DynamoDB Local's loopback-only namespace: $(as_root_or util-linux)"
    # scripts/tools.sh installs these Debian packages itself, which takes root.
    if ! (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null && ! command -v rabbitmq-server >/dev/null &&
      [ "$(id -u)" != 0 ]; then
      need "RabbitMQ: no broker answers on 127.0.0.1:5672 and rabbitmq-server is not installed: $(as_root_or rabbitmq-server)"
    fi
    if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" != 0 ]; then
      need "chromium at /usr/bin/chromium, for the browser tests: $(as_root_or chromium)"
    fi
    ;;
  bench)
    [ "${BENCH_SKIP_NESTJS:-}" = 1 ] || node_and_npm "the NestJS comparison (or set BENCH_SKIP_NESTJS=1)"
    [ "${BENCH_ARM64:-}" != 1 ] || arm64_target "BENCH_ARM64=1"
    ;;
  deploy)
    arm64_target "Lambda's arm64 packages"
    ;;
esac

if [ "$missing" -gt 0 ]; then
  echo "make $([ "$mode" = deploy ] && echo deploy-checks || echo "$mode") needs the above first" >&2
  exit 1
fi
