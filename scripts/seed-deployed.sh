#!/usr/bin/env bash
# Loads a catalogue (local/catalogue.json by default) into a deployed stack: its store table is
# found through the stack's outputs (StoreTableName), and the products are written by the same
# code the functions use. Only products not there yet are added, so running it again changes
# nothing, and a shop that is trading keeps its stock and prices.
#   scripts/seed-deployed.sh [--stack NAME] [FILE]
# NAME defaults to samconfig.toml's stack_name. AWS credentials and region come from the usual
# places (AWS_PROFILE, AWS_REGION, ...), as for `sam deploy`; the caller needs
# cloudformation:DescribeStacks on the stack and dynamodb:GetItem and TransactWriteItems on the
# table.
set -euo pipefail
source "$(dirname "$0")/tools.sh"
ensure_tools
cd "$ROOT"
stack=""
if [ "${1:-}" = --stack ]; then
  stack="$2"
  shift 2
fi
file="${1:-$ROOT/local/catalogue.json}"
if [ -z "$stack" ]; then
  stack="$(python -c 'import tomllib; print(tomllib.load(open("samconfig.toml", "rb"))["default"]["global"]["parameters"]["stack_name"])')"
fi
table="$(python - "$stack" <<'PY'
import sys
import boto3
import botocore.exceptions

stack = sys.argv[1]
try:
    description = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
except botocore.exceptions.ClientError as error:
    sys.exit(f"seed-deployed: stack {stack}: {error.response['Error']['Message']}")
except botocore.exceptions.NoCredentialsError:
    sys.exit("seed-deployed: no AWS credentials (set AWS_PROFILE, or run `aws configure`)")
outputs = {output["OutputKey"]: output["OutputValue"] for output in description.get("Outputs", [])}
if "StoreTableName" not in outputs:
    sys.exit(f"seed-deployed: stack {stack} has no StoreTableName output; is it this project's stack?")
print(outputs["StoreTableName"])
PY
)"
step "building the catalogue loader (seconds once the workspace is built)"
cargo build --quiet -p local-stack --bin seed-catalogue
step "loading $file into $table (stack $stack)"
STORE_TABLE="$table" "${CARGO_TARGET_DIR:-$ROOT/target}/debug/seed-catalogue" "$file"
