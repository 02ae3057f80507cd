#!/usr/bin/env bash
# Stops the services run-local.sh started (SIGTERM: they drain and exit).
set -uo pipefail
run="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.run"
for f in "$run"/*.pid; do
  [ -e "$f" ] || continue
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    echo "stop-local: stopped $(basename "$f" .pid) ($pid)"
  fi
  rm -f "$f"
done
