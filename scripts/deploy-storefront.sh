#!/usr/bin/env bash
# Uploads the storefront (storefront/, as it is: no build step) to the stack's bucket, with a
# config.js made from the stack's outputs, and refreshes CloudFront. Run after `sam deploy`:
#
#   scripts/deploy-storefront.sh [stack-name]      (default: the stack name in samconfig.toml)
#
# config.js tells the page where the API is and how to sign in: the user pool's hosted UI
# (authorization code flow with PKCE) coming back to the storefront's own address.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STACK="${1:-$(sed -n 's/^stack_name *= *"\(.*\)"/\1/p' "$ROOT/samconfig.toml" | head -n1)}"
[ -n "$STACK" ] || { echo "usage: $0 stack-name" >&2; exit 2; }

output() {
  aws cloudformation describe-stacks --stack-name "$STACK" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
BUCKET=$(output StorefrontBucketName)
DISTRIBUTION=$(output StorefrontDistributionId)
SITE=$(output StorefrontUrl)
API=$(output ApiUrl)
SIGN_IN=$(output SignInDomainUrl)
CLIENT=$(output UserPoolClientId)

CONFIG=$(mktemp)
trap 'rm -f "$CONFIG"' EXIT
printf 'export default {"apiBase":"%s","signIn":{"hostedUi":{"domain":"%s","clientId":"%s","redirectUri":"%s"}}};\n' \
  "$API" "$SIGN_IN" "$CLIENT" "$SITE" >"$CONFIG"

echo "==> uploading storefront/ to s3://$BUCKET" >&2
aws s3 sync "$ROOT/storefront/" "s3://$BUCKET/" --delete --exclude "shop/config.js" \
  --cache-control "no-cache"
aws s3 cp "$CONFIG" "s3://$BUCKET/shop/config.js" --content-type text/javascript --cache-control "no-cache"
aws cloudfront create-invalidation --distribution-id "$DISTRIBUTION" --paths "/*" >/dev/null
echo "==> the shop: $SITE" >&2
