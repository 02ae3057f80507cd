#!/usr/bin/env bash
# Walks the whole flow against the services run-local.sh started, with curl.
# Any unexpected answer stops it with the step, the status and the body.
set -euo pipefail

AUTH=${AUTH_URL:-http://127.0.0.1:8081}
USERS=${USER_URL:-http://127.0.0.1:8082}
PRODUCT=${PRODUCT_URL:-http://127.0.0.1:8083}
ORDER=${ORDER_URL:-http://127.0.0.1:8084}
ADMIN=${ADMIN_EMAIL:-admin@example.com}
tag=$(date +%s%N)
body=$(mktemp)
trap 'rm -f "$body"' EXIT

# step NAME WANT curl-args... : WANT is a status or several joined by |.
# The response body is left in $body.
step() {
  local name=$1 want=$2; shift 2
  local got
  got=$(curl -sS -o "$body" -w '%{http_code}' "$@") || { echo "smoke: FAIL $name: curl failed" >&2; exit 1; }
  if [[ "|$want|" != *"|$got|"* ]]; then
    echo "smoke: FAIL $name: status $got, want $want: $(cat "$body")" >&2
    exit 1
  fi
  echo "smoke: ok   $name ($got)"
}
field() {
  jq -er "$1" "$body" || { echo "smoke: FAIL no $1 in $(cat "$body")" >&2; exit 1; }
}
# wait_for NAME JQ-CONDITION curl-args... : polls for up to 20 s.
wait_for() {
  local name=$1 cond=$2; shift 2
  for _ in $(seq 1 100); do
    if curl -fsS -o "$body" "$@" 2>/dev/null && jq -e "$cond" "$body" >/dev/null; then
      echo "smoke: ok   $name"
      return
    fi
    sleep 0.2
  done
  echo "smoke: FAIL $name: last answer $(cat "$body" 2>/dev/null)" >&2
  exit 1
}
J=(-H 'Content-Type: application/json')

for u in "$AUTH" "$USERS" "$PRODUCT" "$ORDER"; do step "ready $u" 200 "$u/readyz"; done
for u in "$AUTH" "$USERS" "$PRODUCT" "$ORDER"; do
  step "API document $u" 200 "$u/openapi.json"
  [ "$(field .openapi)" = 3.1.0 ] || { echo "smoke: FAIL $u/openapi.json is not an OpenAPI 3.1 document" >&2; exit 1; }
done

pw="smoke-test-password"
step "register admin (or already there)" "201|409" "${J[@]}" -d "{\"email\":\"$ADMIN\",\"password\":\"$pw\"}" "$AUTH/v1/auth/register"
step "login admin" 200 "${J[@]}" -d "{\"email\":\"$ADMIN\",\"password\":\"$pw\"}" "$AUTH/v1/auth/login"
admin=$(field .access_token)

email="smoke-$tag@example.com"
step "register shopper" 201 "${J[@]}" -d "{\"email\":\"$email\",\"password\":\"$pw\"}" "$AUTH/v1/auth/register"
uid=$(field .id)
step "login shopper" 200 "${J[@]}" -d "{\"email\":\"$email\",\"password\":\"$pw\"}" "$AUTH/v1/auth/login"
token=$(field .access_token)
refresh=$(field .refresh_token)
step "refresh" 200 "${J[@]}" -d "{\"refresh_token\":\"$refresh\"}" "$AUTH/v1/auth/refresh"
step "jwks" 200 "$AUTH/v1/auth/jwks"

step "bad input names the field" 400 "${J[@]}" -d '{"email":"nope","password":"x"}' "$AUTH/v1/auth/register"
[ "$(field .field)" = email ] || { echo "smoke: FAIL the problem does not name email" >&2; exit 1; }
[ "$(field .type)" = "tag:shop.example.com,2026:problem/invalid_argument" ] || { echo "smoke: FAIL not an RFC 9457 problem" >&2; exit 1; }

step "create product" 201 "${J[@]}" -H "Authorization: Bearer $admin" \
  -d "{\"sku\":\"SMOKE-$tag\",\"name\":\"Smoke mug\",\"description\":\"for the smoke test\",\"price_cents\":1500,\"stock\":10}" "$PRODUCT/v1/products"
pid=$(field .id)
step "customer cannot create products" 403 "${J[@]}" -H "Authorization: Bearer $token" \
  -d '{"sku":"X","name":"x","price_cents":1}' "$PRODUCT/v1/products"
step "get product" 200 "$PRODUCT/v1/products/$pid"
etag=$(curl -sS -o /dev/null -D - "$PRODUCT/v1/products/$pid" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')
step "rename (PATCH with If-Match)" 200 "${J[@]}" -X PATCH -H "Authorization: Bearer $admin" -H "If-Match: $etag" \
  -d '{"name":"Smoke mug, blue"}' "$PRODUCT/v1/products/$pid"
step "stale If-Match refused" 412 "${J[@]}" -X PATCH -H "Authorization: Bearer $admin" -H "If-Match: $etag" \
  -d '{"name":"Smoke mug, red"}' "$PRODUCT/v1/products/$pid"
step "stock delivery (adjustment)" 200 "${J[@]}" -H "Authorization: Bearer $admin" \
  -d '{"delta":5,"reason":"smoke delivery"}' "$PRODUCT/v1/products/$pid/stock-adjustments"
step "stock adjustment back" 200 "${J[@]}" -H "Authorization: Bearer $admin" \
  -d '{"delta":-5,"reason":"smoke"}' "$PRODUCT/v1/products/$pid/stock-adjustments"
step "NUL refused naming the field" 400 "${J[@]}" -X PATCH -H "Authorization: Bearer $admin" \
  -d '{"name":"a\u0000b"}' "$PRODUCT/v1/products/$pid"
[ "$(field .field)" = name ] || { echo "smoke: FAIL the problem does not name name" >&2; exit 1; }
step "roles (admin only)" 200 -H "Authorization: Bearer $admin" "$AUTH/v1/auth/roles"
step "search products" 200 "$PRODUCT/v1/products?q=smoke+mug&limit=5"
[ "$(jq -r --arg id "$pid" '[.items[].id] | index($id) != null' "$body")" = true ] || { echo "smoke: FAIL search misses the product" >&2; exit 1; }

key="smoke-$tag"
order_body="{\"items\":[{\"product_id\":\"$pid\",\"quantity\":3}]}"
step "place order" 201 "${J[@]}" -H "Authorization: Bearer $token" -H "Idempotency-Key: $key" -d "$order_body" "$ORDER/v1/orders"
oid=$(field .id)
step "same key, same order" 200 "${J[@]}" -H "Authorization: Bearer $token" -H "Idempotency-Key: $key" -d "$order_body" "$ORDER/v1/orders"
[ "$(field .id)" = "$oid" ] || { echo "smoke: FAIL the retry made a second order" >&2; exit 1; }
step "missing Idempotency-Key" 400 "${J[@]}" -H "Authorization: Bearer $token" -d "$order_body" "$ORDER/v1/orders"

wait_for "stock reserved (10 -> 7)" '.stock == 7' "$PRODUCT/v1/products/$pid/stock"
wait_for "order confirmed" '.status == "confirmed"' -H "Authorization: Bearer $token" "$ORDER/v1/orders/$oid"
wait_for "order in my list" "[.items[].id] | index(\"$oid\") != null" -H "Authorization: Bearer $token" "$ORDER/v1/orders"
wait_for "profile created from user.registered" ".user_id == \"$uid\"" -H "Authorization: Bearer $token" "$USERS/v1/users/me"
step "update profile" 200 "${J[@]}" -X PUT -H "Authorization: Bearer $token" -d '{"display_name":"Smoke Tester"}' "$USERS/v1/users/me"
step "logout" 204 "${J[@]}" -d "{\"refresh_token\":\"$refresh\"}" "$AUTH/v1/auth/logout"
step "metrics" 200 "$ORDER/metrics"
grep -q 'http_requests_total{code="201",method="POST",route="POST /v1/orders"}' "$body" ||
  { echo "smoke: FAIL order metrics lack the placed order" >&2; exit 1; }
echo "smoke: PASS the whole flow"
