#!/usr/bin/env bash
# What must hold before `sam deploy`: the template lints clean (cfn-lint, sam validate --lint),
# every function cross-compiles for Lambda's arm64 (cargo lambda build --release --arm64),
# and `sam build` produces a bootstrap for every function. Prints each binary's size.
#
#   scripts/deploy-checks.sh          all of it
#   scripts/deploy-checks.sh lint     the template's checks alone (no Rust build)
set -euo pipefail
case "${1:-all}" in
  all | lint) ;;
  *) echo "usage: $0 [lint]" >&2; exit 2 ;;
esac
source "$(dirname "$0")/tools.sh"
cd "$ROOT"

DEPLOY_VENV="$ROOT/.venv-deploy"
stamp="$DEPLOY_VENV/.installed-$(sha256sum local/deploy-requirements.txt | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "==> installing deployment tools into .venv-deploy (SAM CLI, cfn-lint, cargo-lambda, zig)" >&2
  [ -x "$DEPLOY_VENV/bin/python" ] || python3 -m venv "$DEPLOY_VENV"
  "$DEPLOY_VENV/bin/pip" install --quiet --disable-pip-version-check -r local/deploy-requirements.txt
  touch "$stamp"
fi
export PATH="$DEPLOY_VENV/bin:$PATH" SAM_CLI_TELEMETRY=0
# sam validate needs a region; the template names none of its own.
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-${AWS_REGION:-us-east-1}}"

echo "==> cfn-lint template.yaml" >&2
cfn-lint template.yaml
echo "==> sam validate --lint" >&2
sam validate --lint
if [ "${1:-all}" = lint ]; then
  echo "template checks passed" >&2
  exit 0
fi

rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
functions=$(ls functions)

echo "==> cargo lambda build --release --arm64" >&2
packages=$(for f in $functions; do printf -- '-p %s ' "$f"; done)
# shellcheck disable=SC2086
cargo lambda build --release --arm64 --output-format zip $packages
for f in $functions; do
  zip="${CARGO_TARGET_DIR:-$ROOT/target}/lambda/$f/bootstrap.zip"
  [ -f "$zip" ] || { echo "missing $zip" >&2; exit 1; }
  printf '  %-24s zip %6d KiB\n' "$f" $(( $(stat -c %s "$zip") / 1024 ))
done

echo "==> sam build" >&2
sam build
for f in $functions; do
  logical=$(python3 - "$f" <<'PY'
import re, sys
text = open("template.yaml").read()
for name, binary in re.findall(r"^  (\w+):\n    Type: AWS::Serverless::Function\n    Metadata:\n(?:      .*\n)*?        Binary: ([\w-]+)", text, re.M):
    if binary == sys.argv[1]:
        print(name)
PY
)
  [ -n "$logical" ] || { echo "$f is not in template.yaml" >&2; exit 1; }
  [ -x ".aws-sam/build/$logical/bootstrap" ] || { echo "sam build made no bootstrap for $logical" >&2; exit 1; }
  printf '  %-32s bootstrap %6d KiB\n' "$logical" $(( $(stat -c %s ".aws-sam/build/$logical/bootstrap") / 1024 ))
done
echo "deployment checks passed" >&2
