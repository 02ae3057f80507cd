#!/usr/bin/env bash
# Makes sure Graphviz's `dot` is on the PATH: `make diagram` renders the
# plan's DOT to SVG with it. Installs Debian's graphviz package when it is
# missing (the machines and CI run as root with Debian's archive reachable);
# prints the path of `dot`.
set -euo pipefail

if ! command -v dot >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-graphviz: dot is not installed; install Graphviz (Debian: apt-get install graphviz)" >&2
    exit 1
  fi
  echo "ensure-graphviz: installing graphviz from Debian" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends graphviz >&2
fi
command -v dot
