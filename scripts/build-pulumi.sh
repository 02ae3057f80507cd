#!/usr/bin/env bash
# Builds the Pulumi CLI the engine tests run, once per machine, and links it
# into the repository's ignored bin/.
#
# The CLI is built from the Go module proxy (no release download can be had
# here) at the exact version of the SDK in go.mod, stamped with it so that
# `pulumi version` and the Automation API's version check see it (an
# unstamped build reports a development version). The build runs in a
# throwaway module, so the infrastructure go.mod never grows the CLI's
# dependency graph (pkg/v3 pulls in every state backend's cloud SDK). The
# binary is kept outside the clone, under $TOOLS_DIR
# (/opt/ecommerce-tools by default), so a clean clone on the same machine
# reuses it; a missing or wrongly stamped binary is rebuilt.
#
#   scripts/build-pulumi.sh        # prints the path of the linked CLI
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
GO=${GO:-go}
# The CLI's version is the SDK's in go.mod (v3.274.1): engine and program
# speak one release's protocol, and the engine test checks they match.
VERSION=$(awk '$1 == "github.com/pulumi/pulumi/sdk/v3" { print $2 }' "$ROOT/go.mod")
if [ -z "$VERSION" ]; then
  echo "build-pulumi: github.com/pulumi/pulumi/sdk/v3 is not required in go.mod" >&2
  exit 1
fi
TOOLS=${TOOLS_DIR:-/opt/ecommerce-tools}
DIR=$TOOLS/pulumi-$VERSION

built() {
  [ -x "$DIR/pulumi" ] && [ "$("$DIR/pulumi" version 2>/dev/null)" = "$VERSION" ]
}

if ! built; then
  # A cold build takes minutes and gigabytes on two cores; other builds on
  # this machine queue on the same lock, and whoever waited re-checks.
  # shellcheck source=scripts/heavy-lock.sh
  . "$ROOT/scripts/heavy-lock.sh"
  fd=""
  if ! holds_heavy_lock; then
    exec {fd}>>"$heavy_lock"
    flock "$fd"
  fi
  if ! built; then
    echo "build-pulumi: building the Pulumi CLI $VERSION into $DIR (one time, several minutes)" >&2
    start=$(date +%s)
    mkdir -p "$DIR"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    (
      cd "$work"
      export GOFLAGS=-mod=mod
      "$GO" mod init ecommerce-tools/pulumi >/dev/null 2>&1
      # pkg/v3's own go.mod swaps the clipboard module for a fork; replace
      # directives of a dependency are ignored, so repeat it here.
      "$GO" mod edit -replace github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e
      "$GO" get "github.com/pulumi/pulumi/pkg/v3@$VERSION" "github.com/pulumi/pulumi/sdk/v3@$VERSION"
      "$GO" build -trimpath \
        -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$VERSION" \
        -o "$DIR/.pulumi.partial" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
    )
    mv -f "$DIR/.pulumi.partial" "$DIR/pulumi"
    echo "build-pulumi: built in $(( $(date +%s) - start ))s" >&2
  fi
  if [ -n "$fd" ]; then exec {fd}>&-; fi
fi

mkdir -p "$ROOT/bin"
ln -sfn "$DIR/pulumi" "$ROOT/bin/pulumi"
echo "$ROOT/bin/pulumi"
