package itest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/example/ecommerce-platform/services/internal/platform"
)

// tokenClaims reads an access token's claims (the signature is the
// services' business; this only looks).
func tokenClaims(t testing.TB, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// randomClient is a fresh documentation-range address, so Redis counts left
// by earlier runs never touch this one.
func randomClient() string {
	u := uuid.New()
	return fmt.Sprintf("2001:db8:%x:%x::%x", u[0:2], u[2:4], u[4:6])
}

func login(t testing.TB, authURL, email, password, client string) response {
	t.Helper()
	return call(t, "POST", authURL+"/v1/auth/login", "", map[string]string{"email": email, "password": password}, "X-Forwarded-For", client)
}

// Defect 2: ten wrong passwords from anywhere locked the owner out. Now a
// client that guesses is throttled for that email, the owner elsewhere is
// not, and every 429 carries Retry-After. X-Forwarded-For is believed
// because the peer (127.0.0.1) is a configured proxy, as the ALB would be.
func TestLoginThrottleByClient(t *testing.T) {
	s := startStack(t, stackOptions{skipOrder: true, authVars: map[string]string{
		"TRUSTED_PROXY_CIDRS": "127.0.0.1/32,::1/128", "LOGIN_MAX_FAILURES": "4", "LOGIN_IP_MAX_ATTEMPTS": "12",
	}})
	victim := "victim@example.com"
	registerAndLogin(t, s, victim)
	attacker, owner := randomClient(), randomClient()
	for i := range 4 {
		expect(t, login(t, s.Auth.URL, victim, fmt.Sprintf("guess number %d", i), attacker), http.StatusUnauthorized)
	}
	r := login(t, s.Auth.URL, victim, "correct horse battery", attacker)
	expect(t, r, http.StatusTooManyRequests)
	if r.errField(t) != "email" {
		t.Fatalf("429 names %s", r.Body)
	}
	if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 15*60 {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	// The owner, from their own address, is not locked out.
	r = login(t, s.Auth.URL, victim, "correct horse battery", owner)
	expect(t, r, http.StatusOK)

	// Per address: LOGIN_IP_MAX_ATTEMPTS logins a window, whatever the email.
	flood := randomClient()
	for i := range 12 {
		expect(t, login(t, s.Auth.URL, fmt.Sprintf("nobody%d@example.com", i), "wrong password", flood), http.StatusUnauthorized)
	}
	r = login(t, s.Auth.URL, victim, "correct horse battery", flood)
	expect(t, r, http.StatusTooManyRequests)
	if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	expect(t, login(t, s.Auth.URL, victim, "correct horse battery", randomClient()), http.StatusOK)
	if m := string(call(t, "GET", s.Auth.URL+"/metrics", "", nil).Body); !strings.Contains(m, `auth_login_throttled_total{scope="client"} 1`) ||
		!strings.Contains(m, `auth_login_throttled_total{scope="email_client"} 1`) {
		t.Fatalf("throttle metrics:\n%s", m)
	}
}

// Defect 1: every login ran argon2id at once, unbounded. Now at most
// PASSWORD_HASH_MEMORY_BUDGET_MB / PASSWORD_HASH_MEMORY_KB hashes run, a
// bounded queue waits, and the rest get 503 with Retry-After before any
// hashing. The memory this bounds is measured by BenchmarkLoginFlood.
func TestLoginFloodIsShed(t *testing.T) {
	s := startStack(t, stackOptions{skipOrder: true, authVars: map[string]string{
		"PASSWORD_HASH_MEMORY_BUDGET_MB": "8", "PASSWORD_HASH_QUEUE": "2", "PASSWORD_HASH_WAIT": "50ms",
	}})
	registerAndLogin(t, s, "flood@example.com")
	var ok, shed atomic.Int32
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := tryCall("POST", s.Auth.URL+"/v1/auth/login", "", map[string]string{"email": "flood@example.com", "password": "correct horse battery"})
			switch {
			case err != nil:
				t.Error(err)
			case r.Status == http.StatusOK:
				ok.Add(1)
			case r.Status == http.StatusServiceUnavailable && r.Header.Get("Retry-After") == "1" && strings.Contains(string(r.Body), `"overloaded"`):
				shed.Add(1)
			default:
				t.Errorf("status %d: %s", r.Status, r.Body)
			}
		}()
	}
	wg.Wait()
	if ok.Load() == 0 || shed.Load() == 0 {
		t.Fatalf("%d logins succeeded, %d shed; want both", ok.Load(), shed.Load())
	}
	m := string(call(t, "GET", s.Auth.URL+"/metrics", "", nil).Body)
	if !strings.Contains(m, "auth_password_hash_slots 1") || !strings.Contains(m, `auth_password_hash_shed_total{reason="queue_full"}`) {
		t.Fatalf("hash metrics:\n%s", m)
	}
	t.Logf("32 concurrent logins with one hash slot: %d succeeded, %d shed", ok.Load(), shed.Load())
}

// Defect 8: admin was whoever first registered an ADMIN_EMAILS address,
// for good. Now roles are grants in the database, managed by admins through
// the API and audited; ADMIN_EMAILS is re-read at every token issue.
func TestRoles(t *testing.T) {
	s := startStack(t, stackOptions{skipOrder: true})
	admin, _, _ := registerAndLogin(t, s, adminEmail)
	if tokenClaims(t, admin)["role"] != "admin" {
		t.Fatal("bootstrap admin has no admin token")
	}
	cust, custRefresh, custID := registerAndLogin(t, s, "clerk@example.com")
	roles := s.Auth.URL + "/v1/auth/roles"
	expect(t, call(t, "GET", roles, cust, nil), http.StatusForbidden)
	expect(t, call(t, "PUT", roles+"/admin/members/clerk@example.com", cust, nil), http.StatusForbidden)
	expect(t, call(t, "GET", roles, "", nil), http.StatusUnauthorized)

	r := call(t, "PUT", roles+"/admin/members/clerk@example.com", admin, nil)
	expect(t, r, http.StatusOK)
	if g := r.json(t); g["user_id"] != custID || g["role"] != "admin" || !strings.Contains(g["granted_by"].(string), adminEmail) {
		t.Fatalf("grant = %s", r.Body)
	}
	r = call(t, "GET", roles, admin, nil)
	expect(t, r, http.StatusOK)
	sources := map[string]string{}
	for _, it := range r.json(t)["items"].([]any) {
		g := it.(map[string]any)
		sources[g["email"].(string)] = g["source"].(string)
	}
	if sources["clerk@example.com"] != "grant" || sources[adminEmail] != "config" {
		t.Fatalf("roles = %s", r.Body)
	}
	// The grant shows in the next token, and works against another service.
	r = call(t, "POST", s.Auth.URL+"/v1/auth/refresh", "", map[string]string{"refresh_token": custRefresh})
	expect(t, r, http.StatusOK)
	clerk, clerkRefresh := r.json(t)["access_token"].(string), r.json(t)["refresh_token"].(string)
	if tokenClaims(t, clerk)["role"] != "admin" {
		t.Fatal("granted role not in the refreshed token")
	}
	expect(t, call(t, "POST", s.Product.URL+"/v1/products", clerk, map[string]any{"sku": "ROLE-1", "name": "x", "price_cents": 1}), http.StatusCreated)

	// Bad requests name what is wrong.
	r = call(t, "PUT", roles+"/superuser/members/"+custID, admin, nil)
	expect(t, r, http.StatusBadRequest)
	if r.errField(t) != "role" {
		t.Fatalf("field: %s", r.Body)
	}
	expect(t, call(t, "PUT", roles+"/admin/members/nobody@example.com", admin, nil), http.StatusNotFound)
	r = call(t, "DELETE", roles+"/admin/members/"+adminEmail, admin, nil)
	expect(t, r, http.StatusConflict)

	// Revoke: the next refresh drops the role, and the old admin token can
	// no longer manage roles.
	expect(t, call(t, "DELETE", roles+"/admin/members/"+custID, admin, nil), http.StatusNoContent)
	expect(t, call(t, "DELETE", roles+"/admin/members/"+custID, admin, nil), http.StatusNotFound)
	expect(t, call(t, "GET", roles, clerk, nil), http.StatusForbidden)
	r = call(t, "POST", s.Auth.URL+"/v1/auth/refresh", "", map[string]string{"refresh_token": clerkRefresh})
	expect(t, r, http.StatusOK)
	if tokenClaims(t, r.json(t)["access_token"].(string))["role"] != "customer" {
		t.Fatal("revoked role still in the refreshed token")
	}
	if n := scalar[int64](t, s.DB["auth"], "SELECT count(*) FROM role_audit WHERE user_id = $1", custID); n != 2 {
		t.Fatalf("%d audit rows, want grant and revoke", n)
	}
	if !strings.Contains(s.Auth.Logs.String(), `"msg":"role revoked","service":"auth"`) {
		t.Fatal("revoke not in the log")
	}

	// Removing the bootstrap address from the configuration revokes it:
	// the same database, an auth without ADMIN_EMAILS.
	bare := startService(t, "auth", map[string]string{"DATABASE_URL": s.DB["auth"], "TOPIC_ARN": s.Topics["auth"], "JWT_SIGNING_KEY": signingKeyPEM(t)})
	r = call(t, "POST", bare.URL+"/v1/auth/login", "", map[string]string{"email": adminEmail, "password": "correct horse battery"})
	expect(t, r, http.StatusOK)
	if tokenClaims(t, r.json(t)["access_token"].(string))["role"] != "customer" {
		t.Fatal("an address removed from ADMIN_EMAILS still gets admin tokens")
	}
}

// sendPlaced puts an order.placed on the product queue, as the order
// service's topic would.
func sendPlaced(t *testing.T, s *stack, orderID uuid.UUID, productID string, qty int) {
	t.Helper()
	ev := platform.Event{ID: uuid.New(), Type: platform.OrderPlaced, Source: "order", OccurredAt: time.Now().UTC()}
	ev.Data, _ = json.Marshal(map[string]any{"order_id": orderID, "user_id": uuid.New(),
		"items": []map[string]any{{"product_id": productID, "quantity": qty}}})
	sendEvent(t, s.Queues["product"].URL, ev)
}

func sendEvent(t *testing.T, queueURL string, ev platform.Event) {
	t.Helper()
	body, _ := json.Marshal(ev)
	if _, err := sqsClient(t).Send(context.Background(), queueURL, string(body)); err != nil {
		t.Fatal(err)
	}
}

func getProduct(t *testing.T, s *stack, id string) response {
	t.Helper()
	r := call(t, "GET", s.Product.URL+"/v1/products/"+id, "", nil)
	expect(t, r, http.StatusOK)
	return r
}

// Defect 3: PUT without stock set it to 0, and every write was a blind
// absolute write that could overwrite a reservation made in between.
func TestProductUpdates(t *testing.T) {
	s := startStack(t, stackOptions{skipOrder: true})
	admin, _, _ := registerAndLogin(t, s, adminEmail)
	pid := createProduct(t, s, admin, "UPD-1", 1000, 10)
	u := s.Product.URL + "/v1/products/" + pid

	// PUT is the whole product: without stock it is refused, not a zero.
	r := call(t, "PUT", u, admin, map[string]any{"sku": "UPD-1", "name": "Renamed", "description": "", "currency": "USD", "price_cents": 900}, "If-Match", `"1"`)
	expect(t, r, http.StatusBadRequest)
	if r.errField(t) != "stock" {
		t.Fatalf("field: %s", r.Body)
	}
	if stockOf(t, s, pid) != 10 {
		t.Fatal("a refused PUT changed the stock")
	}
	r = call(t, "PUT", u, admin, map[string]any{"sku": "UPD-1", "name": "Renamed", "description": "", "currency": "USD", "price_cents": 900, "stock": 10})
	expect(t, r, http.StatusPreconditionRequired)
	r = call(t, "PUT", u, admin, map[string]any{"sku": "UPD-1", "name": "Renamed", "description": "", "currency": "USD", "price_cents": 900, "stock": 10}, "If-Match", "yesterday")
	expect(t, r, http.StatusBadRequest)
	if r.errField(t) != "If-Match" {
		t.Fatalf("field: %s", r.Body)
	}

	// PATCH changes what it names and nothing else.
	r = call(t, "PATCH", u, admin, map[string]any{"price_cents": 500})
	expect(t, r, http.StatusOK)
	if p := r.json(t); p["stock"].(float64) != 10 || p["price_cents"].(float64) != 500 || p["name"] != "Product UPD-1" || r.Header.Get("ETag") != `"2"` {
		t.Fatalf("patched: %s (ETag %s)", r.Body, r.Header.Get("ETag"))
	}
	r = call(t, "PATCH", u, admin, map[string]any{"stock": 3})
	expect(t, r, http.StatusBadRequest)
	if r.errField(t) != "stock" {
		t.Fatalf("field: %s", r.Body)
	}
	seen := getProduct(t, s, pid).Header.Get("ETag")

	// A reservation lands after the admin read the product...
	sendPlaced(t, s, uuid.New(), pid, 3)
	eventually(t, 15*time.Second, "stock reserved", func() bool { return stockOf(t, s, pid) == 7 })
	// ...so an absolute write based on that read is refused, not applied
	// over the reservation.
	r = call(t, "PUT", u+"/stock", admin, map[string]any{"stock": 20}, "If-Match", seen)
	expect(t, r, http.StatusPreconditionFailed)
	if r.errField(t) != "If-Match" || r.Header.Get("ETag") == seen {
		t.Fatalf("412: %s, ETag %s", r.Body, r.Header.Get("ETag"))
	}
	r = call(t, "PATCH", u, admin, map[string]any{"name": "Stale"}, "If-Match", seen)
	expect(t, r, http.StatusPreconditionFailed)
	// An adjustment composes with the reservation.
	r = call(t, "POST", u+"/stock-adjustments", admin, map[string]any{"delta": 13, "reason": "delivery"})
	expect(t, r, http.StatusOK)
	if stockOf(t, s, pid) != 20 {
		t.Fatalf("stock %d after 10 - 3 reserved + 13 delivered", stockOf(t, s, pid))
	}
	r = call(t, "POST", u+"/stock-adjustments", admin, map[string]any{"delta": -21})
	expect(t, r, http.StatusConflict)
	if r.errField(t) != "delta" {
		t.Fatalf("field: %s", r.Body)
	}
	r = call(t, "POST", u+"/stock-adjustments", admin, map[string]any{"delta": 0})
	expect(t, r, http.StatusBadRequest)
	// With the current ETag the write goes through, and the cache shows it.
	cur := getProduct(t, s, pid).Header.Get("ETag")
	r = call(t, "PUT", u+"/stock", admin, map[string]any{"stock": 25}, "If-Match", cur)
	expect(t, r, http.StatusOK)
	if p := getProduct(t, s, pid).json(t); p["stock"].(float64) != 25 {
		t.Fatalf("after the write: %v", p)
	}
	if n := scalar[int64](t, s.DB["product"], "SELECT count(*) FROM stock_adjustments WHERE product_id = $1", pid); n != 1 {
		t.Fatalf("%d adjustments recorded", n)
	}
}

// orderState reads an order's status and reason from its database.
func orderState(t *testing.T, s *stack, id string) (status, reason string) {
	t.Helper()
	return scalar[string](t, s.DB["order"], "SELECT status FROM orders WHERE id = $1", id),
		scalar[string](t, s.DB["order"], "SELECT cancel_reason FROM orders WHERE id = $1", id)
}

// Defect 4: an order whose order.placed was lost stayed placed forever.
// Here the order topic has no subscriber when the order is placed, so the
// broker accepts the event and drops it, exactly as a lost or
// dead-lettered message would be. Once the path is back, the reconciler's
// re-drive gets the order confirmed, exactly once, stock taken once.
func TestLostOrderEventIsRedriven(t *testing.T) {
	s := startStack(t, stackOptions{orderEventsLost: true, orderVars: map[string]string{
		"ORDER_REDRIVE_AFTER": "1s", "ORDER_CANCEL_AFTER": "1h", "ORDER_RECONCILE_INTERVAL": "200ms",
	}})
	admin, _, _ := registerAndLogin(t, s, adminEmail)
	token, _, _ := registerAndLogin(t, s, "lost@example.com")
	pid := createProduct(t, s, admin, "LOST-1", 100, 10)
	r := placeOrder(t, s, token, "lost-1", pid, 2)
	expect(t, r, http.StatusCreated)
	id := r.json(t)["id"].(string)
	eventually(t, 10*time.Second, "order.placed published (into the void)", func() bool {
		return scalar[int64](t, s.DB["order"], "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
	})
	eventually(t, 10*time.Second, "a re-drive", func() bool {
		return scalar[int64](t, s.DB["order"], "SELECT redrive_count FROM orders WHERE id = $1", id) >= 1
	})
	if st, _ := orderState(t, s, id); st != "placed" || stockOf(t, s, pid) != 10 {
		t.Fatalf("while the path is down: %s, stock %d", st, stockOf(t, s, pid))
	}
	subscribe(t, s.Topics["order"], s.Queues["product"], true)
	eventually(t, 20*time.Second, "order confirmed", func() bool { st, _ := orderState(t, s, id); return st == "confirmed" })
	// More re-drives may be in flight; none takes stock again.
	time.Sleep(2 * time.Second)
	if st, _ := orderState(t, s, id); st != "confirmed" || stockOf(t, s, pid) != 8 {
		t.Fatalf("final: %s, stock %d (want confirmed, 8)", st, stockOf(t, s, pid))
	}
	if n := scalar[int64](t, s.DB["product"], "SELECT count(*) FROM stock_reservations WHERE status = 'reserved'"); n != 1 {
		t.Fatalf("%d reservations", n)
	}
	r = call(t, "GET", s.Order.URL+"/v1/orders/"+id, token, nil)
	if r.json(t)["status"] != "confirmed" {
		t.Fatalf("API shows %s", r.Body)
	}
	m := string(call(t, "GET", s.Order.URL+"/metrics", "", nil).Body)
	for _, want := range []string{`orders_stuck_actions_total{action="redriven"}`, `orders_state_changes_total{reason="",state="confirmed"} 1`, "orders_stuck 0"} {
		if !strings.Contains(m, want) {
			t.Fatalf("order metrics lack %s:\n%s", want, m)
		}
	}
}

// The other end of defect 4: product never answers, so after
// ORDER_CANCEL_AFTER the order is cancelled with a reason; product, told
// late, releases what it took, and an order.placed arriving after the
// cancellation takes nothing.
func TestUnansweredOrderIsCancelled(t *testing.T) {
	s := startStack(t, stackOptions{orderEventsLost: true, orderVars: map[string]string{
		"ORDER_REDRIVE_AFTER": "1s", "ORDER_CANCEL_AFTER": "3s", "ORDER_RECONCILE_INTERVAL": "200ms",
	}})
	admin, _, _ := registerAndLogin(t, s, adminEmail)
	token, _, _ := registerAndLogin(t, s, "never@example.com")
	pid := createProduct(t, s, admin, "NEVER-1", 100, 10)
	r := placeOrder(t, s, token, "never-1", pid, 4)
	expect(t, r, http.StatusCreated)
	id := r.json(t)["id"].(string)
	eventually(t, 20*time.Second, "order cancelled", func() bool { st, _ := orderState(t, s, id); return st == "cancelled" })
	if _, reason := orderState(t, s, id); reason != "not_confirmed" {
		t.Fatalf("reason %q", reason)
	}
	if n := scalar[int64](t, s.DB["order"], "SELECT count(*) FROM outbox WHERE event_type = 'order.cancelled'"); n != 1 {
		t.Fatalf("%d order.cancelled events", n)
	}
	if !strings.Contains(string(call(t, "GET", s.Order.URL+"/metrics", "", nil).Body), `orders_stuck_actions_total{action="cancelled"} 1`) {
		t.Fatal("the cancellation is not counted")
	}

	// Product's side, with events delivered by hand. Reserved, then
	// cancelled: the stock comes back. Cancelled first, then a late
	// order.placed: nothing is taken.
	reserved, late := uuid.New(), uuid.New()
	sendPlaced(t, s, reserved, pid, 3)
	eventually(t, 15*time.Second, "reserved", func() bool { return stockOf(t, s, pid) == 7 })
	cancel := func(order uuid.UUID) {
		ev := platform.Event{ID: uuid.New(), Type: platform.OrderCancelled, Source: "order", OccurredAt: time.Now().UTC()}
		ev.Data, _ = json.Marshal(map[string]any{"order_id": order, "reason": "not_confirmed"})
		sendEvent(t, s.Queues["product"].URL, ev)
	}
	cancel(reserved)
	eventually(t, 15*time.Second, "released", func() bool { return stockOf(t, s, pid) == 10 })
	cancel(late)
	eventually(t, 15*time.Second, "tombstone", func() bool {
		return scalar[int64](t, s.DB["product"], "SELECT count(*) FROM stock_reservations WHERE order_id = $1", late) == 1
	})
	sendPlaced(t, s, late, pid, 5)
	eventually(t, 15*time.Second, "late order.placed consumed", func() bool {
		return scalar[int64](t, s.DB["product"], "SELECT count(*) FROM processed_messages WHERE event_type = 'order.placed'") == 2
	})
	if got := stockOf(t, s, pid); got != 10 {
		t.Fatalf("stock %d, want 10", got)
	}
}

// The cache-miss path must share one database read among concurrent
// misses of a product. The read is slowed down (through the query tracer)
// so that all requests arrive while it runs: a service that stopped
// coalescing would read once per request.
func TestConcurrentMissesShareOneRead(t *testing.T) {
	s := startStack(t, stackOptions{skipOrder: true})
	admin, _, _ := registerAndLogin(t, s, adminEmail)
	pid := createProduct(t, s, admin, "HOT-1", 100, 10)
	var reads atomic.Int32
	onQuery(t, func(ctx context.Context, sql string) {
		if strings.Contains(sql, "FROM products WHERE id = $1") && !strings.Contains(sql, "UPDATE") {
			reads.Add(1)
			time.Sleep(300 * time.Millisecond)
		}
	})
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := tryCall("GET", s.Product.URL+"/v1/products/"+pid, "", nil)
			if err != nil || r.Status != http.StatusOK {
				t.Errorf("%v %d", err, r.Status)
			}
		}()
	}
	wg.Wait()
	if n := reads.Load(); n != 1 {
		t.Fatalf("20 concurrent misses read the product %d times, want 1", n)
	}
}

// Listing orders took 1 + 2 x limit queries; now one for the orders and
// one for all their lines.
func TestOrderListingQueries(t *testing.T) {
	s := startStack(t)
	admin, _, _ := registerAndLogin(t, s, adminEmail)
	token, _, _ := registerAndLogin(t, s, "lister@example.com")
	pid := createProduct(t, s, admin, "LIST-1", 100, 100)
	other := createProduct(t, s, admin, "LIST-2", 100, 100)
	for i := range 5 {
		expect(t, placeOrder(t, s, token, fmt.Sprintf("list-%d", i), pid, 1, other, 2), http.StatusCreated)
	}
	rid := "list-" + uuid.NewString()
	var queries atomic.Int32
	onQuery(t, func(ctx context.Context, sql string) {
		if platform.RequestID(ctx) == rid {
			queries.Add(1)
		}
	})
	r := call(t, "GET", s.Order.URL+"/v1/orders?limit=10", token, nil, "X-Request-Id", rid)
	expect(t, r, http.StatusOK)
	items := r.json(t)["items"].([]any)
	if len(items) != 5 {
		t.Fatalf("%d orders listed", len(items))
	}
	for _, it := range items {
		if lines := it.(map[string]any)["items"].([]any); len(lines) != 2 {
			t.Fatalf("order with %d lines: %v", len(lines), it)
		}
	}
	if n := queries.Load(); n > 2 {
		t.Fatalf("listing 5 orders took %d queries, want at most 2", n)
	}
}

// processed_messages and refresh_tokens grew forever. The pruner deletes
// what is past its retention in bounded batches and keeps the rest.
func TestPruning(t *testing.T) {
	ctx := context.Background()
	dsn := migratedDB(t)
	pool := openPool(t, dsn)
	if _, err := pool.Exec(ctx, `INSERT INTO processed_messages (event_id, event_type, processed_at)
		SELECT gen_random_uuid(), 'old', now() - interval '20 days' FROM generate_series(1, 25);
		INSERT INTO processed_messages (event_id, event_type) SELECT gen_random_uuid(), 'new' FROM generate_series(1, 5)`); err != nil {
		t.Fatal(err)
	}
	p := platform.NewPruner(pool, []platform.PruneTask{{Table: "processed_messages", Where: "processed_at < $1", Retention: 15 * 24 * time.Hour}},
		time.Hour, testLogger(), prometheus.NewRegistry())
	p.BatchSize, p.MaxBatches = 10, 2
	n, err := p.Prune(ctx)
	if err != nil || n["processed_messages"] != 20 {
		t.Fatalf("first round deleted %v (%v), want 20: bounded by 2 batches of 10", n, err)
	}
	if n, err = p.Prune(ctx); err != nil || n["processed_messages"] != 5 {
		t.Fatalf("second round deleted %v (%v), want the last 5", n, err)
	}
	if left := scalar[int64](t, dsn, "SELECT count(*) FROM processed_messages"); left != 5 {
		t.Fatalf("%d rows left, want the 5 recent", left)
	}

	// Wired into a service: auth prunes expired refresh tokens on its own.
	s := startStack(t, stackOptions{skipOrder: true, authVars: map[string]string{"PRUNE_INTERVAL": "1s", "EXPIRED_REFRESH_TOKEN_RETENTION": "1h"}})
	_, refresh, uid := registerAndLogin(t, s, "pruned@example.com")
	conn := openPool(t, s.DB["auth"])
	if _, err := conn.Exec(ctx, `INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at)
		VALUES (sha256(gen_random_uuid()::text::bytea), $1, gen_random_uuid(), now() - interval '2 hours')`, uid); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "expired refresh token pruned", func() bool {
		return scalar[int64](t, s.DB["auth"], "SELECT count(*) FROM refresh_tokens WHERE user_id = $1", uid) == 1
	})
	expect(t, call(t, "POST", s.Auth.URL+"/v1/auth/refresh", "", map[string]string{"refresh_token": refresh}), http.StatusOK)
}

// A migration file changed after it was applied stops the start, naming it.
func TestMigrationChecksums(t *testing.T) {
	dsn := migratedDB(t)
	if _, err := openPool(t, dsn).Exec(context.Background(), "UPDATE schema_checksums SET sha256 = '\\x00' WHERE file = '0001_outbox.sql'"); err != nil {
		t.Fatal(err)
	}
	err := platform.Migrate(context.Background(), openPool(t, dsn), nil)
	if err == nil || !strings.Contains(err.Error(), "platform/0001_outbox.sql: the file was changed after it was applied") {
		t.Fatalf("a changed migration: %v", err)
	}
}

// FuzzProductAPI sends fuzzed text through the product handlers to
// PostgreSQL: whatever the input, the answer is never a 5xx. The seeds (run
// by go test) include the NUL byte that used to come back as a 500.
func FuzzProductAPI(f *testing.F) {
	for _, seed := range []struct{ name, desc, q string }{
		{"Mug", "a mug", "mug"}, {"a\x00b", "", "\x00"}, {"\xff\xfe", "d\x00", "%00"}, {"ok", strings.Repeat("é", 5001), "a & b | !c"},
		{"<script>", "'; DROP TABLE products; --", `"quoted" OR 1=1`}, {" ", "\t", ":*"},
	} {
		f.Add(seed.name, seed.desc, seed.q)
	}
	s := startStack(f, stackOptions{skipOrder: true})
	admin, _, _ := registerAndLogin(f, s, adminEmail)
	base := s.Product.URL + "/v1/products"
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, name, desc, q string) {
		sku := fmt.Sprintf("FZ-%d-%s", n.Add(1), uuid.NewString()[:8])
		for _, r := range []response{
			call(t, "POST", base, admin, map[string]any{"sku": sku, "name": name, "description": desc, "price_cents": 1}),
			call(t, "GET", base+"?q="+url.QueryEscape(q), "", nil),
			call(t, "PATCH", base+"/"+uuid.NewString(), admin, map[string]any{"name": name, "description": desc}),
		} {
			if r.Status >= 500 {
				t.Fatalf("name %q desc %q q %q: status %d: %s", name, desc, q, r.Status, r.Body)
			}
		}
	})
}

func testLogger() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }
