package itest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

func TestAuthEndpoints(t *testing.T) {
	s := startStack(t, stackOptions{skipOrder: true})
	reg := s.Auth.URL + "/v1/auth/register"

	bad := []struct {
		name, body, field string
		status            int
	}{
		{"empty body", ``, "body", 400},
		{"not json", `{"email":`, "body", 400},
		{"array", `[]`, "body", 400},
		{"missing email", `{"password":"long enough pw"}`, "email", 400},
		{"bad email", `{"email":"nope","password":"long enough pw"}`, "email", 400},
		{"display name email", `{"email":"A <a@example.com>","password":"long enough pw"}`, "email", 400},
		{"short password", `{"email":"a@example.com","password":"short"}`, "password", 400},
		{"long password", `{"email":"a@example.com","password":"` + strings.Repeat("x", 129) + `"}`, "password", 400},
		{"wrong type", `{"email":5,"password":"long enough pw"}`, "email", 400},
		{"unknown field", `{"email":"a@example.com","password":"long enough pw","admin":true}`, "admin", 400},
		{"trailing data", `{"email":"a@example.com","password":"long enough pw"} {}`, "body", 400},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			r := call(t, "POST", reg, "", c.body)
			expect(t, r, c.status)
			if f := r.errField(t); f != c.field {
				t.Fatalf("field %q, want %q (%s)", f, c.field, r.Body)
			}
		})
	}
	r := call(t, "POST", reg, "", `{"email":"a@example.com"}`, "Content-Type", "text/plain")
	expect(t, r, http.StatusUnsupportedMediaType)
	r = call(t, "POST", reg, "", `{"email":"`+strings.Repeat("a", 2<<20)+`"}`)
	expect(t, r, http.StatusRequestEntityTooLarge)

	// A new mailbox each run: Redis (and its login counts) outlives the test.
	tag := uuid.NewString()[:8]
	mixed := "mixed.case." + tag + "@example.com"
	access, refresh, _ := registerAndLogin(t, s, "Mixed.Case."+tag+"@Example.com")
	// Same address, other case: one account per mailbox.
	r = call(t, "POST", reg, "", map[string]string{"email": mixed, "password": "another password"})
	expect(t, r, http.StatusConflict)
	if r.errField(t) != "email" {
		t.Fatalf("conflict names %s", r.Body)
	}
	r = call(t, "POST", s.Auth.URL+"/v1/auth/login", "", map[string]string{"email": mixed, "password": "wrong password"})
	expect(t, r, http.StatusUnauthorized)
	r = call(t, "POST", s.Auth.URL+"/v1/auth/login", "", map[string]string{"email": "nobody-" + uuid.NewString()[:8] + "@example.com", "password": "wrong password"})
	expect(t, r, http.StatusUnauthorized)
	// A NUL in a field is refused at the edge, naming the field.
	r = call(t, "POST", reg, "", `{"email":"nul@example.com","password":"long enough\u0000pw"}`)
	expect(t, r, http.StatusBadRequest)
	if r.errField(t) != "password" {
		t.Fatalf("NUL: %s", r.Body)
	}

	// JWKS publishes the key the token was signed with.
	r = call(t, "GET", s.Auth.URL+"/v1/auth/jwks", "", nil)
	expect(t, r, http.StatusOK)
	if !strings.Contains(string(r.Body), `"crv":"Ed25519"`) {
		t.Fatalf("jwks = %s", r.Body)
	}

	// The token works against another service, and only for what its role allows.
	expect(t, call(t, "POST", s.Product.URL+"/v1/products", access, map[string]any{"sku": "X", "name": "x", "price_cents": 1}), http.StatusForbidden)
	expect(t, call(t, "POST", s.Product.URL+"/v1/products", "", map[string]any{"sku": "X", "name": "x", "price_cents": 1}), http.StatusUnauthorized)
	expect(t, call(t, "POST", s.Product.URL+"/v1/products", access[:len(access)-4]+"AAAA", map[string]any{"sku": "X"}), http.StatusUnauthorized)

	// Refresh rotates; the old token then fails, and its reuse revokes the
	// whole family, including the new token.
	r = call(t, "POST", s.Auth.URL+"/v1/auth/refresh", "", map[string]string{"refresh_token": refresh})
	expect(t, r, http.StatusOK)
	next := r.json(t)["refresh_token"].(string)
	if next == refresh || r.json(t)["access_token"] == "" {
		t.Fatalf("refresh did not rotate: %s", r.Body)
	}
	expect(t, call(t, "POST", s.Auth.URL+"/v1/auth/refresh", "", map[string]string{"refresh_token": refresh}), http.StatusUnauthorized)
	expect(t, call(t, "POST", s.Auth.URL+"/v1/auth/refresh", "", map[string]string{"refresh_token": next}), http.StatusUnauthorized)

	// Logout revokes.
	r = call(t, "POST", s.Auth.URL+"/v1/auth/login", "", map[string]string{"email": mixed, "password": "correct horse battery"})
	expect(t, r, http.StatusOK)
	rt := r.json(t)["refresh_token"].(string)
	expect(t, call(t, "POST", s.Auth.URL+"/v1/auth/logout", "", map[string]string{"refresh_token": rt}), http.StatusNoContent)
	expect(t, call(t, "POST", s.Auth.URL+"/v1/auth/refresh", "", map[string]string{"refresh_token": rt}), http.StatusUnauthorized)
	r = call(t, "POST", s.Auth.URL+"/v1/auth/refresh", "", map[string]string{})
	expect(t, r, http.StatusBadRequest)
	if r.errField(t) != "refresh_token" {
		t.Fatalf("field: %s", r.Body)
	}

	// Registration published user.registered through the outbox.
	eventually(t, 10*time.Second, "outbox drained", func() bool {
		return scalar[int64](t, s.DB["auth"], "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
	})
	if n := scalar[int64](t, s.DB["auth"], "SELECT count(*) FROM outbox WHERE event_type = 'user.registered'"); n != 1 {
		t.Fatalf("%d user.registered events, want 1", n)
	}
}

func TestProductEndpoints(t *testing.T) {
	s := startStack(t, stackOptions{skipOrder: true})
	admin, _, _ := registerAndLogin(t, s, adminEmail)
	base := s.Product.URL + "/v1/products"

	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"name": "n", "price_cents": 1}, "sku"},
		{map[string]any{"sku": "has space", "name": "n", "price_cents": 1}, "sku"},
		{map[string]any{"sku": "A", "price_cents": 1}, "name"},
		{map[string]any{"sku": "A", "name": "n"}, "price_cents"},
		{map[string]any{"sku": "A", "name": "n", "price_cents": -1}, "price_cents"},
		{map[string]any{"sku": "A", "name": "n", "price_cents": 1.5}, "price_cents"},
		{map[string]any{"sku": "A", "name": "n", "price_cents": 1, "stock": -1}, "stock"},
		{map[string]any{"sku": "A", "name": "n", "price_cents": 1, "currency": "usd"}, "currency"},
		{map[string]any{"sku": "A", "name": "n", "price_cents": 1, "colour": "red"}, "colour"},
	} {
		r := call(t, "POST", base, admin, c.body)
		expect(t, r, http.StatusBadRequest)
		if f := r.errField(t); f != c.field {
			t.Fatalf("%v: field %q, want %q", c.body, f, c.field)
		}
	}

	var ids []string
	for i := range 5 {
		ids = append(ids, createProduct(t, s, admin, fmt.Sprintf("TEA-%d", i), 100+i, 10))
	}
	lamp := createProduct(t, s, admin, "LAMP-1", 4999, 3)
	expect(t, call(t, "POST", base, admin, map[string]any{"sku": "LAMP-1", "name": "dup", "price_cents": 1}), http.StatusConflict)

	// Cache-aside: a miss fills the cache, the next read hits it.
	r := call(t, "GET", base+"/"+lamp, "", nil)
	expect(t, r, http.StatusOK)
	if r.Header.Get("X-Cache") != "miss" {
		t.Fatalf("first read X-Cache = %q", r.Header.Get("X-Cache"))
	}
	r = call(t, "GET", base+"/"+lamp, "", nil)
	if r.Header.Get("X-Cache") != "hit" || r.json(t)["name"] != "Product LAMP-1" {
		t.Fatalf("second read X-Cache = %q body %s", r.Header.Get("X-Cache"), r.Body)
	}
	if r.Header.Get("ETag") != `"1"` {
		t.Fatalf("ETag %q", r.Header.Get("ETag"))
	}
	// An update invalidates: the next read shows the change.
	r = call(t, "PUT", base+"/"+lamp, admin, map[string]any{"sku": "LAMP-1", "name": "Desk lamp", "description": "", "currency": "USD", "price_cents": 3999, "stock": 4},
		"If-Match", `"1"`)
	expect(t, r, http.StatusOK)
	r = call(t, "GET", base+"/"+lamp, "", nil)
	if r.Header.Get("X-Cache") != "miss" || r.json(t)["name"] != "Desk lamp" || r.json(t)["price_cents"].(float64) != 3999 {
		t.Fatalf("after update: X-Cache %q body %s", r.Header.Get("X-Cache"), r.Body)
	}
	r = call(t, "PUT", base+"/"+lamp+"/stock", admin, map[string]any{"stock": 9}, "If-Match", r.Header.Get("ETag"))
	expect(t, r, http.StatusOK)
	if stockOf(t, s, lamp) != 9 || call(t, "GET", base+"/"+lamp, "", nil).json(t)["stock"].(float64) != 9 {
		t.Fatal("stock update not visible")
	}
	expect(t, call(t, "PUT", base+"/"+lamp+"/stock", admin, map[string]any{"stock": -2}, "If-Match", `"3"`), http.StatusBadRequest)
	expect(t, call(t, "PATCH", base+"/"+ids[0], admin, map[string]any{"sku": "LAMP-1"}), http.StatusConflict)
	expect(t, call(t, "PATCH", base+"/00000000-0000-4000-8000-000000000000", admin, map[string]any{"name": "z"}), http.StatusNotFound)
	expect(t, call(t, "GET", base+"/00000000-0000-4000-8000-000000000000", "", nil), http.StatusNotFound)
	r = call(t, "GET", base+"/not-a-uuid", "", nil)
	expect(t, r, http.StatusBadRequest)
	if r.errField(t) != "id" {
		t.Fatalf("field: %s", r.Body)
	}

	// Pagination walks every product once.
	seen := map[string]bool{}
	offset := 0
	for page := 0; ; page++ {
		r := call(t, "GET", fmt.Sprintf("%s?limit=2&offset=%d", base, offset), "", nil)
		expect(t, r, http.StatusOK)
		m := r.json(t)
		for _, it := range m["items"].([]any) {
			seen[it.(map[string]any)["id"].(string)] = true
		}
		next, ok := m["next_offset"].(float64)
		if !ok {
			break
		}
		offset = int(next)
		if page > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if len(seen) != 6 {
		t.Fatalf("paged through %d products, want 6", len(seen))
	}
	// Text search.
	r = call(t, "GET", base+"?q=desk+lamp", "", nil)
	items := r.json(t)["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["id"] != lamp {
		t.Fatalf("search = %s", r.Body)
	}
	if n := len(call(t, "GET", base+"?q=TEA-3", "", nil).json(t)["items"].([]any)); n != 1 {
		t.Fatalf("sku search found %d", n)
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "offset=-1", "offset=99999"} {
		r := call(t, "GET", base+"?"+q, "", nil)
		expect(t, r, http.StatusBadRequest)
		if want := strings.Split(q, "=")[0]; r.errField(t) != want {
			t.Fatalf("%s: field %s", q, r.Body)
		}
	}
	// Each change published product.updated.
	eventually(t, 10*time.Second, "product outbox drained", func() bool {
		return scalar[int64](t, s.DB["product"], "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
	})
	if n := scalar[int64](t, s.DB["product"], "SELECT count(*) FROM outbox WHERE event_type = 'product.updated'"); n != 8 {
		t.Fatalf("%d product.updated events, want 8 (6 creates, 2 updates)", n)
	}
	// NUL in a query parameter or a body field: a 400 naming it, not a
	// 500 from PostgreSQL.
	r = call(t, "GET", base+"?q=%00", "", nil)
	expect(t, r, http.StatusBadRequest)
	if r.errField(t) != "q" {
		t.Fatalf("q=%%00: %s", r.Body)
	}
	r = call(t, "POST", base, admin, `{"sku":"NUL-1","name":"a\u0000b","price_cents":1}`)
	expect(t, r, http.StatusBadRequest)
	if r.errField(t) != "name" {
		t.Fatalf("NUL name: %s", r.Body)
	}
}

func TestOrderIdempotency(t *testing.T) {
	s := startStack(t)
	admin, _, _ := registerAndLogin(t, s, adminEmail)
	token, _, _ := registerAndLogin(t, s, "buyer@example.com")
	pid := createProduct(t, s, admin, "PEN-1", 200, 1000)

	first := placeOrder(t, s, token, "key-1", pid, 2)
	expect(t, first, http.StatusCreated)
	again := placeOrder(t, s, token, "key-1", pid, 2)
	expect(t, again, http.StatusOK)
	if first.json(t)["id"] != again.json(t)["id"] || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay gave another order: %s vs %s", first.Body, again.Body)
	}
	// The same key with another request is refused, not silently merged.
	r := placeOrder(t, s, token, "key-1", pid, 3)
	expect(t, r, http.StatusUnprocessableEntity)
	if r.errField(t) != "Idempotency-Key" {
		t.Fatalf("field: %s", r.Body)
	}

	// Twenty concurrent submissions with one key make one order.
	var wg sync.WaitGroup
	ids := make([]string, 20)
	codes := make([]int, 20)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := tryCall("POST", s.Order.URL+"/v1/orders", token,
				map[string]any{"items": []map[string]any{{"product_id": pid, "quantity": 1}}}, "Idempotency-Key", "key-race")
			if err != nil {
				t.Error(err)
				return
			}
			codes[i] = r.Status
			if r.Status < 300 {
				ids[i] = r.json(t)["id"].(string)
			}
		}()
	}
	wg.Wait()
	created := 0
	for i := range ids {
		if codes[i] == http.StatusCreated {
			created++
		} else if codes[i] != http.StatusOK {
			t.Fatalf("concurrent submission got %d", codes[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("concurrent submissions made orders %s and %s", ids[0], ids[i])
		}
	}
	if created != 1 {
		t.Fatalf("%d submissions answered 201, want 1", created)
	}
	if n := scalar[int64](t, s.DB["order"], "SELECT count(*) FROM orders WHERE idempotency_key = 'key-race'"); n != 1 {
		t.Fatalf("%d orders for one key", n)
	}
	if n := scalar[int64](t, s.DB["order"], "SELECT count(*) FROM outbox WHERE event_type = 'order.placed'"); n != 2 {
		t.Fatalf("%d order.placed events, want 2", n)
	}
	// Every order's stock is reserved exactly once.
	eventually(t, 15*time.Second, "stock reserved", func() bool { return stockOf(t, s, pid) == 1000-2-1 })

	// Bad input: 4xx naming the field.
	for _, c := range []struct {
		key, body, field string
		status           int
	}{
		{"", `{"items":[{"product_id":"` + pid + `","quantity":1}]}`, "Idempotency-Key", 400},
		{strings.Repeat("k", 201), `{"items":[{"product_id":"` + pid + `","quantity":1}]}`, "Idempotency-Key", 400},
		{"k2", `{"items":[]}`, "items", 400},
		{"k2", `{"items":[{"product_id":"` + pid + `","quantity":0}]}`, "items[0].quantity", 400},
		{"k2", `{"items":[{"product_id":"` + pid + `","quantity":1001}]}`, "items[0].quantity", 400},
		{"k2", `{"items":[{"product_id":"nope","quantity":1}]}`, "items[0].product_id", 400},
		{"k2", `{"items":[{"product_id":"` + pid + `\u0000","quantity":1}]}`, "items[0].product_id", 400},
		{"k2", `{"items":[{"quantity":1}]}`, "items[0].product_id", 400},
		{"k2", `{"items":[{"product_id":"` + pid + `","quantity":1},{"product_id":"` + pid + `","quantity":1}]}`, "items[1].product_id", 400},
		{"k2", `{"items":[{"product_id":"` + pid + `","quantity":"1"}]}`, "items[0].quantity", 400},
		{"k2", `{"items":[{"product_id":"00000000-0000-4000-8000-000000000000","quantity":1}]}`, "items[0].product_id", 422},
		{"k2", `{"items":[{"product_id":"` + pid + `","quantity":999}]}`, "items[0].quantity", 409},
	} {
		r := call(t, "POST", s.Order.URL+"/v1/orders", token, c.body, "Idempotency-Key", c.key)
		expect(t, r, c.status)
		if f := r.errField(t); f != c.field {
			t.Fatalf("%s: field %q, want %q", c.body, f, c.field)
		}
	}
	// Listing pages through both orders, newest first.
	var listed []string
	next := ""
	for range 4 {
		u := s.Order.URL + "/v1/orders?limit=1"
		if next != "" {
			u += "&cursor=" + url.QueryEscape(next)
		}
		r := call(t, "GET", u, token, nil)
		expect(t, r, http.StatusOK)
		m := r.json(t)
		for _, it := range m["items"].([]any) {
			listed = append(listed, it.(map[string]any)["id"].(string))
		}
		nb, ok := m["next_cursor"].(string)
		if !ok {
			break
		}
		next = nb
	}
	if len(listed) != 2 || listed[0] != ids[0] || listed[1] != first.json(t)["id"] {
		t.Fatalf("listed %v, want [%s %s]", listed, ids[0], first.json(t)["id"])
	}
	expect(t, call(t, "GET", s.Order.URL+"/v1/orders/zzz", token, nil), http.StatusBadRequest)
	expect(t, call(t, "GET", s.Order.URL+"/v1/orders?limit=0", token, nil), http.StatusBadRequest)
	r = call(t, "GET", s.Order.URL+"/v1/orders?cursor=yesterday", token, nil)
	expect(t, r, http.StatusBadRequest)
	if r.errField(t) != "cursor" {
		t.Fatalf("field: %s", r.Body)
	}
	expect(t, call(t, "GET", s.Order.URL+"/v1/orders", "", nil), http.StatusUnauthorized)
}

// TestStockShortCancelsOrder: the order passes the advisory stock check (the
// cached product still shows stock) but the reservation finds too little;
// product publishes order.cancelled and order marks the order. Stock never
// goes below zero.
func TestStockShortCancelsOrder(t *testing.T) {
	s := startStack(t)
	admin, _, _ := registerAndLogin(t, s, adminEmail)
	token, _, _ := registerAndLogin(t, s, "late@example.com")
	a := createProduct(t, s, admin, "A-1", 100, 5)
	b := createProduct(t, s, admin, "B-1", 100, 5)
	expect(t, call(t, "GET", s.Product.URL+"/v1/products/"+b, "", nil), http.StatusOK) // cache it
	// Someone else took the stock in the database; the cache is stale.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.DB["product"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "UPDATE products SET stock = 1 WHERE id = $1", b); err != nil {
		t.Fatal(err)
	}
	r := placeOrder(t, s, token, "short-1", a, 2, b, 3)
	expect(t, r, http.StatusCreated)
	id := r.json(t)["id"].(string)
	eventually(t, 15*time.Second, "order cancelled", func() bool {
		return call(t, "GET", s.Order.URL+"/v1/orders/"+id, token, nil).json(t)["status"] == "cancelled"
	})
	if got := call(t, "GET", s.Order.URL+"/v1/orders/"+id, token, nil).json(t)["cancel_reason"]; got != "insufficient_stock" {
		t.Fatalf("cancel_reason = %v", got)
	}
	// All or nothing: A's stock was not taken either.
	if sa, sb := stockOf(t, s, a), stockOf(t, s, b); sa != 5 || sb != 1 {
		t.Fatalf("stock a=%d b=%d, want 5 and 1", sa, sb)
	}
}

// TestReadPool: with DATABASE_READ_URL set, reads go to the read pool and
// writes to the primary. To tell them apart, the "replica" here is another
// service's database: what one writes, the other reads.
func TestReadPool(t *testing.T) {
	s := startStack(t, stackOptions{skipOrder: true})
	admin, _, _ := registerAndLogin(t, s, adminEmail)
	primary := newDatabase(t, "primary")
	p := startService(t, "product", map[string]string{
		"DATABASE_URL": primary, "DATABASE_READ_URL": s.DB["product"], "REDIS_URL": redisURL, "QUEUE_URL": s.Queues["product"].URL,
		"TOPIC_ARN": s.Topics["product"], "AUTH_JWKS_URL": s.Auth.URL + "/v1/auth/jwks",
	})
	count := func(svc *running, q string) int {
		r := call(t, "GET", svc.URL+"/v1/products?q="+q, "", nil)
		expect(t, r, http.StatusOK)
		return len(r.json(t)["items"].([]any))
	}
	// Written through the stack's product service: p reads it from its read pool.
	expect(t, call(t, "POST", s.Product.URL+"/v1/products", admin, map[string]any{"sku": "READ-1", "name": "Seen", "price_cents": 5}), http.StatusCreated)
	if count(p, "READ-1") != 1 {
		t.Fatal("a read did not go to DATABASE_READ_URL")
	}
	// Written through p: it lands on p's primary, not on the read database.
	expect(t, call(t, "POST", p.URL+"/v1/products", admin, map[string]any{"sku": "WRITE-1", "name": "Unseen", "price_cents": 5}), http.StatusCreated)
	if n := scalar[int64](t, primary, "SELECT count(*) FROM products WHERE sku = 'WRITE-1'"); n != 1 {
		t.Fatal("a write did not go to DATABASE_URL")
	}
	if count(p, "WRITE-1") != 0 || count(s.Product, "WRITE-1") != 0 {
		t.Fatal("the write reached the read database")
	}
	r := call(t, "GET", p.URL+"/readyz", "", nil)
	expect(t, r, http.StatusOK)
	if r.json(t)["checks"].(map[string]any)["database_read"] != "ok" {
		t.Fatalf("readyz = %s", r.Body)
	}
}

// TestProductReadsSurviveRedisOutage: with Redis unreachable, reads fall
// back to PostgreSQL (and the in-process cache), and readiness stays 200:
// the pod still serves, so the outage shows as "degraded" and in metrics
// instead of taking every pod out of the load balancer.
func TestProductReadsSurviveRedisOutage(t *testing.T) {
	s := startStack(t, stackOptions{skipOrder: true})
	admin, _, _ := registerAndLogin(t, s, adminEmail)
	pid := createProduct(t, s, admin, "NOCACHE-1", 100, 1)
	p := startService(t, "product", map[string]string{
		"DATABASE_URL": s.DB["product"], "REDIS_URL": "redis://" + freePort(t) + "/0", "QUEUE_URL": s.Queues["product"].URL,
		"TOPIC_ARN": s.Topics["product"], "AUTH_JWKS_URL": s.Auth.URL + "/v1/auth/jwks",
	})
	for range 2 {
		r := call(t, "GET", p.URL+"/v1/products/"+pid, "", nil)
		expect(t, r, http.StatusOK)
		if r.json(t)["sku"] != "NOCACHE-1" {
			t.Fatalf("body %s", r.Body)
		}
	}
	for _, svc := range []*running{p, s.Auth} {
		// The auth of the stack uses the real Redis; start one without.
		if svc == s.Auth {
			svc = startService(t, "auth", map[string]string{"DATABASE_URL": s.DB["auth"], "TOPIC_ARN": s.Topics["auth"],
				"JWT_SIGNING_KEY": signingKeyPEM(t), "REDIS_URL": "redis://" + freePort(t) + "/0"})
			// Logins still work with the throttle's store down (fail open).
			r := call(t, "POST", svc.URL+"/v1/auth/register", "", map[string]string{"email": "noredis@example.com", "password": "correct horse battery"})
			expect(t, r, http.StatusCreated)
			expect(t, call(t, "POST", svc.URL+"/v1/auth/login", "", map[string]string{"email": "noredis@example.com", "password": "correct horse battery"}), http.StatusOK)
		}
		r := call(t, "GET", svc.URL+"/readyz", "", nil)
		expect(t, r, http.StatusOK)
		m := r.json(t)
		if c := m["checks"].(map[string]any); m["status"] != "degraded" || c["redis"] == "ok" || c["database"] != "ok" {
			t.Fatalf("readyz = %s", r.Body)
		}
		if !strings.Contains(string(call(t, "GET", svc.URL+"/metrics", "", nil).Body), `dependency_up{dependency="redis"} 0`) {
			t.Fatal("metrics do not show Redis down")
		}
	}
}
