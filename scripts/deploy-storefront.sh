#!/usr/bin/env bash
# Uploads the static site to the stack's bucket and refreshes CloudFront. Run after `sam deploy`:
#
#   scripts/deploy-storefront.sh [stack-name]      (default: the stack name in samconfig.toml)
#
# What the distribution serves, from storefront/ as it is (no build step):
#   /                      the shop, with a shop/config.js made from the stack's outputs: where
#                          the API is and how to sign in (the user pool's hosted UI,
#                          authorization code flow with PKCE, back to the shop's own address)
#   /api/docs              the API docs page (Swagger UI, storefront/api/docs/index.html; its
#                          files beside it under /api/docs/)
#   /api/openapi.json      the API's OpenAPI document, written here for this stack's API URL
#                          (the page's "Try it out" sends its requests there)
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
for value in "$BUCKET" "$DISTRIBUTION" "$SITE" "$API" "$SIGN_IN"; do
  case "$value" in "" | None) echo "stack $STACK lacks an output this needs (deployed?)" >&2; exit 1 ;; esac
done

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# page_with_csp PAGE OUT SOURCE...: the page with a Content-Security-Policy of its own, whose
# connect-src names this stack's API (its stage) and sign-in exactly. The distribution's
# header names the sign-in domain exactly but the API only by its region's domain: the
# template cannot name the API there (the distribution, the API's authorizer, the user pool
# client and the client's callback to the distribution would each wait for the other). A
# browser enforces both policies, so the page's narrows the header's.
page_with_csp() {
  python3 - "$@" <<'PY'
import sys
page, out, sources = sys.argv[1], sys.argv[2], " ".join(sys.argv[3:])
text = open(page, encoding="utf-8").read()
charset = '<meta charset="utf-8">'
meta = f"""<meta http-equiv="Content-Security-Policy" content="connect-src 'self' {sources}">"""
if text.count(charset) != 1:
    sys.exit(f"{page}: no single {charset} to put the page's policy after")
open(out, "w", encoding="utf-8").write(text.replace(charset, charset + "\n  " + meta))
PY
}
# The shop also confirms a shopper's payment at Stripe's API, as its CloudFront policy allows.
page_with_csp "$ROOT/storefront/index.html" "$WORK/index.html" "$API/" "$SIGN_IN" https://api.stripe.com
page_with_csp "$ROOT/storefront/api/docs/index.html" "$WORK/docs.html" "$API/"
printf 'export default {"apiBase":"%s","signIn":{"hostedUi":{"domain":"%s","clientId":"%s","redirectUri":"%s"}}};\n' \
  "$API" "$SIGN_IN" "$CLIENT" "$SITE" >"$WORK/config.js"

echo "==> writing the API document for $API" >&2
(cd "$ROOT" && cargo run -q -p local-stack --bin openapi "$API") >"$WORK/openapi.json"
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$WORK/openapi.json"

echo "==> uploading storefront/ to s3://$BUCKET" >&2
# What is written apart below is left out of the sync, so that --delete never removes it.
aws s3 sync "$ROOT/storefront/" "s3://$BUCKET/" --delete --cache-control "no-cache" \
  --exclude "index.html" --exclude "shop/config.js" --exclude "api/openapi.json" --exclude "api/docs"
aws s3 cp "$WORK/index.html" "s3://$BUCKET/index.html" --content-type "text/html; charset=utf-8" --cache-control "no-cache"
aws s3 cp "$WORK/config.js" "s3://$BUCKET/shop/config.js" --content-type text/javascript --cache-control "no-cache"
# The docs page at /api/docs itself (no trailing slash): its links to docs/... and openapi.json
# resolve from there. S3 behind CloudFront serves no index page for a folder.
aws s3 cp "$WORK/docs.html" "s3://$BUCKET/api/docs" \
  --content-type "text/html; charset=utf-8" --cache-control "no-cache"
aws s3 cp "$WORK/openapi.json" "s3://$BUCKET/api/openapi.json" \
  --content-type application/json --cache-control "no-cache"
aws cloudfront create-invalidation --distribution-id "$DISTRIBUTION" --paths "/*" >/dev/null
echo "==> the shop: $SITE" >&2
echo "==> the API docs: ${SITE%/}/api/docs" >&2
