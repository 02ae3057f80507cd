#!/usr/bin/env bash
# Installs the official Pulumi CLI release (with its language hosts, which
# `pulumi preview` and `pulumi up` of this Go program need) at the version
# of the Pulumi Go SDK in go.mod, so the engine and the SDK never drift
# apart. Used by the deploy workflows (.github/workflows/pulumi-stack.yml);
# the offline test rung builds its own CLI instead (scripts/build-pulumi.sh).
#
# The archive's SHA-256 must match the release's checksum file, and the
# installed CLI must report the expected version.
#
#   scripts/install-pulumi-cli.sh [install-dir]   (default ~/.pulumi-cli)
set -euo pipefail
cd "$(dirname "$0")/.."

version="$(awk '$1 == "github.com/pulumi/pulumi/sdk/v3" { print $2; exit }' go.mod)"
version="${version#v}"
if [ -z "$version" ]; then
  echo "install-pulumi-cli: no github.com/pulumi/pulumi/sdk/v3 in go.mod" >&2
  exit 1
fi
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) echo "install-pulumi-cli: unsupported machine $(uname -m)" >&2; exit 1 ;;
esac
dest="${1:-$HOME/.pulumi-cli}"
if [ -x "$dest/pulumi/pulumi" ] && [ "$("$dest/pulumi/pulumi" version)" = "v$version" ]; then
  echo "install-pulumi-cli: v$version already in $dest"
else
  base="https://github.com/pulumi/pulumi/releases/download/v${version}"
  archive="pulumi-v${version}-linux-${arch}.tar.gz"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  curl --fail --silent --show-error --location --proto '=https' --tlsv1.2 -o "$work/$archive" "$base/$archive"
  curl --fail --silent --show-error --location --proto '=https' --tlsv1.2 -o "$work/checksums.txt" "$base/pulumi-${version}-checksums.txt"
  want="$(awk -v f="$archive" '$2 == f { print $1 }' "$work/checksums.txt")"
  got="$(sha256sum "$work/$archive" | cut -d' ' -f1)"
  if [ -z "$want" ] || [ "$want" != "$got" ]; then
    echo "install-pulumi-cli: $archive has SHA-256 $got; the release lists '${want:-nothing}'" >&2
    exit 1
  fi
  mkdir -p "$dest"
  rm -rf "$dest/pulumi"
  tar -xzf "$work/$archive" -C "$dest"
  if [ "$("$dest/pulumi/pulumi" version)" != "v$version" ]; then
    echo "install-pulumi-cli: the installed CLI is not v$version" >&2
    exit 1
  fi
  echo "install-pulumi-cli: installed v$version into $dest/pulumi"
fi
if [ -n "${GITHUB_PATH:-}" ]; then
  echo "$dest/pulumi" >>"$GITHUB_PATH"
fi
