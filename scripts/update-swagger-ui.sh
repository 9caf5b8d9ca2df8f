#!/usr/bin/env bash
# Replaces the Swagger UI files of the API docs page (/api/docs) with another version of the npm package
# swagger-ui-dist:  scripts/update-swagger-ui.sh 5.35.0
set -euo pipefail
VERSION="${1:?usage: $0 VERSION}"
DEST="$(cd "$(dirname "$0")/.." && pwd)/storefront/api/docs"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && npm pack --silent "swagger-ui-dist@$VERSION" >/dev/null && tar xzf swagger-ui-dist-*.tgz)
cp "$WORK/package/"{swagger-ui-bundle.js,swagger-ui.css,LICENSE,NOTICE} "$DEST/"
sed -i "s/^Swagger UI [0-9.]*/Swagger UI $VERSION/" "$DEST/README.md"
echo "Swagger UI $VERSION in $DEST"
