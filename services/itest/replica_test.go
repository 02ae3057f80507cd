package itest

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/example/ecommerce-platform/services/internal/config"
	"github.com/example/ecommerce-platform/services/internal/platform"
)

// readerURL creates the read-only role the migration job creates for the
// other regions (as `<service> migrate` does) and returns the URL a
// replica region serves with. The test's "replica" is the primary's own
// database reached as that role: every write it attempted would fail, so
// the test shows a replica-mode service needs none.
func readerURL(t *testing.T, service, ownerURL string) string {
	t.Helper()
	servingURL(t, service, ownerURL) // migrated first, as in production
	u, err := url.Parse(ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	role := platform.AppRole{Name: strings.TrimPrefix(u.Path, "/") + "_reader", Password: "reader-" + uuid.NewString(), ReadOnly: true}
	pool := openPool(t, ownerURL)
	defer pool.Close()
	if err := platform.MigrateAndGrant(context.Background(), pool, migrations[service], role); err != nil {
		t.Fatalf("grant the read-only role: %v", err)
	}
	u.User = url.UserPassword(role.Name, role.Password)
	return u.String()
}

// A region other than the master (issue #14): its services read from the
// local replica as the read-only role, refuse writes with 421 (the edge
// sends writes to the master region), run nothing that writes, and drop
// their cached copies when the master region's write reaches them.
func TestReplicaRegionServesReadsOnly(t *testing.T) {
	s := startStack(t)
	admin, _, _ := registerAndLogin(t, s, adminEmail)
	buyer, _, _ := registerAndLogin(t, s, "replica-buyer@example.com")
	productID := createProduct(t, s, admin, "REPL-1", 1000, 5)

	// The replica region's own queue, subscribed to the product topic as
	// the infrastructure subscribes a regional consumer's, and its own
	// cache (another Redis database).
	regional := newQueue(t, "product-regional", 2, 5)
	subscribe(t, s.Topics["product"], regional, true)
	jwks := s.Auth.URL + "/v1/auth/jwks"
	replicaProduct := startService(t, "product", map[string]string{
		"DATABASE_URL": readerURL(t, "product", s.DB["product"]), "DATABASE_ROLE": "replica",
		"REDIS_URL": strings.TrimSuffix(redisURL, "/0") + "/7", "QUEUE_URL": regional.URL, "AUTH_JWKS_URL": jwks,
	})
	replicaOrder := startService(t, "order", map[string]string{
		"DATABASE_URL": readerURL(t, "order", s.DB["order"]), "DATABASE_ROLE": "replica",
		"AUTH_JWKS_URL": jwks, "PRODUCT_API_URL": replicaProduct.URL,
	})

	t.Run("reads are served", func(t *testing.T) {
		r := call(t, "GET", replicaProduct.URL+"/v1/products/"+productID, "", nil)
		expect(t, r, http.StatusOK)
		if r.json(t)["price_cents"].(float64) != 1000 {
			t.Fatalf("replica read %s", r.Body)
		}
		expect(t, call(t, "GET", replicaProduct.URL+"/readyz", "", nil), http.StatusOK)
		expect(t, call(t, "GET", replicaOrder.URL+"/readyz", "", nil), http.StatusOK)
	})

	t.Run("writes are refused with 421 before any work", func(t *testing.T) {
		before := scalar[int64](t, s.DB["product"], "SELECT count(*) FROM products")
		for _, c := range []struct{ method, url string }{
			{"POST", replicaProduct.URL + "/v1/products"},
			{"PATCH", replicaProduct.URL + "/v1/products/" + productID},
			{"PUT", replicaProduct.URL + "/v1/products/" + productID + "/stock"},
			{"POST", replicaOrder.URL + "/v1/orders"},
		} {
			r := call(t, c.method, c.url, admin, map[string]any{"sku": "REPL-2", "name": "x", "price_cents": 1, "stock": 1}, "Idempotency-Key", uuid.NewString())
			expect(t, r, http.StatusMisdirectedRequest)
			if !strings.Contains(string(r.Body), "master region") {
				t.Errorf("%s %s: the refusal says where writes go: %s", c.method, c.url, r.Body)
			}
		}
		if after := scalar[int64](t, s.DB["product"], "SELECT count(*) FROM products"); after != before {
			t.Fatalf("a refused write changed the database: %d products, was %d", after, before)
		}
	})

	t.Run("the read-only role cannot write", func(t *testing.T) {
		pool := openPool(t, replicaProduct.App.Deps().Config.DatabaseURL)
		defer pool.Close()
		_, err := pool.Exec(context.Background(), "UPDATE products SET price_cents = 1 WHERE id = $1", productID)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Fatalf("the reader updated a product (err %v); want permission denied", err)
		}
	})

	t.Run("a write in the master region reaches the replica's cache", func(t *testing.T) {
		get := func() response { return call(t, "GET", replicaProduct.URL+"/v1/products/"+productID, "", nil) }
		get()
		if r := get(); r.Header.Get("X-Cache") != "hit" {
			t.Fatalf("second read is not cached (X-Cache %q)", r.Header.Get("X-Cache"))
		}
		r := call(t, "PATCH", s.Product.URL+"/v1/products/"+productID, admin, map[string]any{"price_cents": 1250})
		expect(t, r, http.StatusOK)
		// Without the regional handler the replica would serve its cached
		// 1000 for the cache TTL (5 minutes).
		eventually(t, 15*time.Second, "the replica serves the new price", func() bool {
			return get().json(t)["price_cents"].(float64) == 1250
		})
	})

	t.Run("an order is read in the replica region", func(t *testing.T) {
		r := placeOrder(t, s, buyer, uuid.NewString(), productID, 1)
		expect(t, r, http.StatusCreated)
		id := r.json(t)["id"].(string)
		got := call(t, "GET", replicaOrder.URL+"/v1/orders/"+id, buyer, nil)
		expect(t, got, http.StatusOK)
	})

	t.Run("nothing in the replica region tried to write", func(t *testing.T) {
		for name, svc := range map[string]*running{"product": replicaProduct, "order": replicaOrder} {
			if logs := svc.Logs.String(); strings.Contains(logs, "permission denied") || strings.Contains(logs, "42501") {
				t.Errorf("the replica %s attempted a write:\n%s", name, logs)
			}
		}
	})
}

// A replica refuses to run a handler that writes its database, naming
// EVENT_HANDLERS; a name the service does not handle is refused too.
func TestReplicaRefusesWritingHandlers(t *testing.T) {
	db := newDatabase(t, "product")
	for _, c := range []struct{ handlers, want string }{
		{"order.placed", "EVENT_HANDLERS: order.placed changes the product database"},
		{"user.registered", `EVENT_HANDLERS: the product service has no handler for "user.registered"`},
	} {
		cfg, err := config.Load(func(k string) string {
			return map[string]string{
				"SERVICE_NAME": "product", "DATABASE_URL": readerURL(t, "product", db), "DATABASE_ROLE": "replica",
				"REDIS_URL": redisURL, "QUEUE_URL": "http://127.0.0.1:4100/queue/x", "AUTH_JWKS_URL": "http://127.0.0.1:1/jwks",
				"AWS_REGION": awsRegion, "AWS_ENDPOINT_URL": awsEndpoint, "HTTP_ADDR": "127.0.0.1:0", "EVENT_HANDLERS": c.handlers,
			}[k]
		})
		if err != nil {
			t.Fatal(err)
		}
		logs := &syncBuffer{}
		app, err := platform.Start(context.Background(), cfg, platform.NewLogger(logs, "product", cfg.LogLevel), builders["product"])
		if err == nil {
			_ = app.Shutdown(context.Background())
			t.Fatalf("EVENT_HANDLERS=%s: a replica started", c.handlers)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("EVENT_HANDLERS=%s: %v; want it to say %q", c.handlers, err, c.want)
		}
	}
}
