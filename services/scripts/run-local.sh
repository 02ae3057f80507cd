#!/usr/bin/env bash
# Starts all four services in the background against local PostgreSQL,
# Redis and the goaws emulator (whose config, scripts/goaws.yaml, creates the
# topics, queues, DLQs and subscriptions). Logs and pids go to .run/.
# Stop them with scripts/stop-local.sh.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
run="$root/.run"
bin="$root/bin"
mkdir -p "$run"

bash "$here/ci-deps.sh"
"$here/stop-local.sh" >/dev/null 2>&1 || true

PGADMIN="${PGADMIN:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
for s in auth user product order; do
  if [ -z "$(psql "$PGADMIN" -tAc "SELECT 1 FROM pg_database WHERE datname = 'ecommerce_$s'")" ]; then
    psql "$PGADMIN" -qc "CREATE DATABASE ecommerce_$s"
  fi
done

if [ ! -s "$run/jwt-signing-key.pem" ]; then
  openssl genpkey -algorithm ed25519 -out "$run/jwt-signing-key.pem"
fi
if [ ! -s "$run/db-app-password" ]; then
  (umask 077; openssl rand -hex 20 >"$run/db-app-password")
fi
app_password="$(cat "$run/db-app-password")"

go build -trimpath -o "$bin/" ./cmd/auth ./cmd/user ./cmd/product ./cmd/order

region=us-east-1
account=000000000000
aws="${AWS_ENDPOINT_URL:-http://127.0.0.1:4100}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-local}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-local}" AWS_EC2_METADATA_DISABLED=true

declare -A port=([auth]=8081 [user]=8082 [product]=8083 [order]=8084)
common=(AWS_REGION=$region AWS_ENDPOINT_URL=$aws REDIS_URL=redis://127.0.0.1:6379/0
  QUEUE_WAIT_SECONDS=5 QUEUE_VISIBILITY_TIMEOUT_SECONDS=30 OUTBOX_POLL_INTERVAL=200ms
  AUTH_JWKS_URL=http://127.0.0.1:${port[auth]}/v1/auth/jwks)

# As in the cluster: the migration job (`<service> migrate`, as the schema
# owner) first, then each service serves as its own login role <service>_app.
for s in auth user product order; do
  if ! env SERVICE_NAME="$s" AWS_REGION=$region APP_DB_USER="${s}_app" APP_DB_PASSWORD="$app_password" \
      READER_DB_USER="${s}_reader" READER_DB_PASSWORD="$app_password-reader" \
      DATABASE_URL="postgres://postgres@127.0.0.1:5432/ecommerce_$s?sslmode=disable" \
      "$bin/$s" migrate >"$run/$s-migrate.log" 2>&1; then
    echo "run-local: $s migrate failed; its log:" >&2
    tail -n 20 "$run/$s-migrate.log" >&2
    exit 1
  fi
done

start() {
  local s=$1; shift
  env "${common[@]}" SERVICE_NAME="$s" HTTP_ADDR="127.0.0.1:${port[$s]}" \
    DATABASE_URL="postgres://${s}_app:${app_password}@127.0.0.1:5432/ecommerce_$s?sslmode=disable" "$@" \
    setsid nohup "$bin/$s" >"$run/$s.log" 2>&1 &
  echo $! >"$run/$s.pid"
}

start auth TOPIC_ARN="arn:aws:sns:$region:$account:auth-events" \
  JWT_SIGNING_KEY="$(cat "$run/jwt-signing-key.pem")" ADMIN_EMAILS="${ADMIN_EMAILS:-admin@example.com}" \
  TRUSTED_PROXY_CIDRS="127.0.0.0/8,::1/128"
start product TOPIC_ARN="arn:aws:sns:$region:$account:product-events" \
  QUEUE_URL="$aws/$account/product-queue"
start order TOPIC_ARN="arn:aws:sns:$region:$account:order-events" \
  QUEUE_URL="$aws/$account/order-queue" PRODUCT_API_URL="http://127.0.0.1:${port[product]}"
start user QUEUE_URL="$aws/$account/user-queue"

for s in auth user product order; do
  ok=
  for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:${port[$s]}/readyz" >/dev/null 2>&1; then ok=1; break; fi
    if ! kill -0 "$(cat "$run/$s.pid")" 2>/dev/null; then break; fi
    sleep 0.2
  done
  if [ -z "$ok" ]; then
    echo "run-local: $s did not become ready; its log:" >&2
    tail -n 30 "$run/$s.log" >&2
    exit 1
  fi
  echo "run-local: $s ready on http://127.0.0.1:${port[$s]} (log $run/$s.log)"
done
