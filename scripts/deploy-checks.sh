#!/usr/bin/env bash
# What must hold before `sam deploy`: the template lints clean (cfn-lint, sam validate --lint),
# and `sam build` cross-compiles every function for Lambda's arm64 (cargo lambda build
# --release, one function at a time, as a deploy builds them) into a bootstrap. Prints each
# bootstrap's size, and its size zipped as Lambda receives it.
#
#   scripts/deploy-checks.sh          all of it
#   scripts/deploy-checks.sh lint     the template's checks alone (no Rust build)
#   scripts/deploy-checks.sh package  the template's checks, then every function in one
#                                     `cargo lambda build --release --arm64` (the zips a CI
#                                     keeps, and the sizes the benchmark checks): one build
#                                     instead of one per function, as CI runs it
set -euo pipefail
MODE="${1:-all}"
case "$MODE" in
  all | lint | package) ;;
  *) echo "usage: $0 [lint | package]" >&2; exit 2 ;;
esac
# shellcheck source=scripts/tools.sh
source "$(dirname "$0")/tools.sh"
cd "$ROOT"

DEPLOY_VENV="$ROOT/.venv-deploy"
stamp="$DEPLOY_VENV/.installed-$(sha256sum local/deploy-requirements.txt | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "==> installing deployment tools into .venv-deploy (SAM CLI, cfn-lint)" >&2
  [ -x "$DEPLOY_VENV/bin/python" ] || python3 -m venv "$DEPLOY_VENV"
  "$DEPLOY_VENV/bin/pip" install --quiet --disable-pip-version-check -r local/deploy-requirements.txt
  touch "$stamp"
fi
export SAM_CLI_TELEMETRY=0
# sam validate needs a region; the template names none of its own.
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-${AWS_REGION:-us-east-1}}"

echo "==> cfn-lint template.yaml" >&2
"$DEPLOY_VENV/bin/cfn-lint" template.yaml
echo "==> sam validate --lint" >&2
"$DEPLOY_VENV/bin/sam" validate --lint
if [ "$MODE" = lint ]; then
  echo "template checks passed" >&2
  exit 0
fi

functions=$(ls functions)

# The size of a file in a deflated zip, as `sam deploy` uploads it.
zipped_size() {
  python3 - "$1" <<'PY'
import io, sys, zipfile
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
    archive.write(sys.argv[1], "bootstrap")
print(len(buffer.getvalue()))
PY
}

# The template's logical id of the function whose binary is $1; fails when it has none.
logical_id() {
  local logical
  logical=$(python3 - "$1" <<'PY'
import re, sys
text = open("template.yaml").read()
for name, binary in re.findall(r"^  (\w+):\n    Type: AWS::Serverless::Function\n    Metadata:\n(?:      .*\n)*?        Binary: ([\w-]+)", text, re.M):
    if binary == sys.argv[1]:
        print(name)
PY
)
  [ -n "$logical" ] || { echo "$1 is not in template.yaml" >&2; return 1; }
  echo "$logical"
}

if [ "$MODE" = package ]; then
  build_arm64_packages
  for f in $functions; do
    logical=$(logical_id "$f")
    zip="${CARGO_TARGET_DIR:-$ROOT/target}/lambda/$f/bootstrap.zip"
    [ -f "$zip" ] || { echo "missing $zip" >&2; exit 1; }
    printf '  %-32s zip %6d KiB\n' "$logical" $(( $(stat -c %s "$zip") / 1024 ))
  done
  echo "deployment checks passed (packages; \`make deploy-checks\` also runs sam build)" >&2
  exit 0
fi

echo "==> sam build (cargo lambda build --release --arm64, per function)" >&2
# sam runs the cargo-lambda and zig of .venv, which the packages above are built with too.
ensure_tools zig
ensure_arm64_target
"$DEPLOY_VENV/bin/sam" build
for f in $functions; do
  logical=$(logical_id "$f")
  [ -x ".aws-sam/build/$logical/bootstrap" ] || { echo "sam build made no bootstrap for $logical" >&2; exit 1; }
  printf '  %-32s bootstrap %6d KiB, zipped %6d KiB\n' "$logical" \
    $(( $(stat -c %s ".aws-sam/build/$logical/bootstrap") / 1024 )) \
    $(( $(zipped_size ".aws-sam/build/$logical/bootstrap") / 1024 ))
done
echo "deployment checks passed" >&2
