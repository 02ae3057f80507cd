#!/usr/bin/env bash
# Starts what the service tests talk to, if it is not already running:
# PostgreSQL, Redis and the goaws SNS/SQS emulator. Idempotent: running it
# twice leaves one of each. Waits until every port answers.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
GOAWS_VERSION="${GOAWS_VERSION:-v0.4.5}"
# A fixed install path so a second run finds the binary without the network.
GOAWS_DIR="${GOAWS_DIR:-/opt/goaws/${GOAWS_VERSION}}"
GOAWS_PORT="${GOAWS_PORT:-4100}"
GOAWS_LOG="${GOAWS_LOG:-/tmp/goaws-${GOAWS_PORT}.log}"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local name=$1 port=$2
  for _ in $(seq 1 100); do
    if port_open "$port"; then echo "ci-deps: $name is up on 127.0.0.1:$port"; return 0; fi
    sleep 0.2
  done
  echo "ci-deps: $name did not come up on 127.0.0.1:$port" >&2
  return 1
}

if ! port_open 5432; then
  echo "ci-deps: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
fi
wait_port PostgreSQL 5432

if ! port_open 6379; then
  if ! command -v redis-server >/dev/null; then
    echo "ci-deps: installing redis-server"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  fi
  echo "ci-deps: starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
fi
wait_port Redis 6379

if ! port_open "$GOAWS_PORT"; then
  if [ ! -x "$GOAWS_DIR/cmd" ]; then
    echo "ci-deps: installing goaws $GOAWS_VERSION into $GOAWS_DIR"
    mkdir -p "$GOAWS_DIR"
    GOBIN="$GOAWS_DIR" GOFLAGS=-mod=mod go install "github.com/Admiral-Piett/goaws/app/cmd@${GOAWS_VERSION}"
  fi
  echo "ci-deps: starting goaws on port $GOAWS_PORT (log $GOAWS_LOG)"
  # goaws binds every interface; nothing outside this machine can reach it in
  # CI, and the tests only ever address 127.0.0.1.
  cfg="$(mktemp)"
  sed "s/Port: 4100/Port: ${GOAWS_PORT}/" "$here/goaws.yaml" >"$cfg"
  setsid nohup "$GOAWS_DIR/cmd" -config "$cfg" Local >"$GOAWS_LOG" 2>&1 &
fi
wait_port goaws "$GOAWS_PORT"
