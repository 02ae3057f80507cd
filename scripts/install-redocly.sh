#!/usr/bin/env bash
# Installs the OpenAPI linter `make lint` runs over the services' documents:
# Redocly CLI at the version tools/redocly/package.json pins, with the
# integrity hash of tools/redocly/package-lock.json, from the npm registry
# (`npm ci`, no install scripts), once per machine into
# $TOOLS_DIR/redocly-<version> outside the checkout, so a clean clone (CI)
# reuses it. Prints the path of the CLI to run with node.
#
#   scripts/install-redocly.sh        (TOOLS_DIR defaults to /opt/ecommerce-tools)
set -euo pipefail
cd "$(dirname "$0")/.."

src=tools/redocly
tools_dir="${TOOLS_DIR:-/opt/ecommerce-tools}"
for tool in node npm; do
  if ! command -v "$tool" >/dev/null; then
    echo "install-redocly: $tool is not installed (Node.js 20.19 or later with npm is needed)" >&2
    exit 1
  fi
done
version="$(node -p "require('./$src/package.json').dependencies['@redocly/cli']")"
case "$version" in
  [0-9]*.[0-9]*.[0-9]*) ;;
  *) echo "install-redocly: $src/package.json must pin @redocly/cli to an exact version, not '$version'" >&2; exit 1 ;;
esac
dest="$tools_dir/redocly-$version"
cli="$dest/node_modules/@redocly/cli/bin/cli.js"
if [ -f "$dest/.complete" ] && cmp -s "$src/package-lock.json" "$dest/package-lock.json"; then
  echo "$cli"
  exit 0
fi

mkdir -p "$tools_dir"
partial="$dest.partial.$$"
trap 'rm -rf "$partial"' EXIT
rm -rf "$partial"
mkdir -p "$partial"
cp "$src/package.json" "$src/package-lock.json" "$partial/"
(cd "$partial" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >&2
got="$(node "$partial/node_modules/@redocly/cli/bin/cli.js" --version 2>/dev/null | head -1)"
if [ "$got" != "$version" ]; then
  echo "install-redocly: the installed CLI reports '$got', not $version" >&2
  exit 1
fi
touch "$partial/.complete"
rm -rf "$dest"
mv "$partial" "$dest"
trap - EXIT
echo "install-redocly: installed @redocly/cli $version into $dest" >&2
echo "$cli"
