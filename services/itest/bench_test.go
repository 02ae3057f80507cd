package itest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// BenchmarkPlatform measures, with one load generator in one run:
//   - cached product get-by-id throughput and latency, against a bare
//     net/http handler serving the same bytes (product_get_ratio);
//   - product get p99 at half its peak rate (open loop, so a slow response
//     cannot hide the queueing behind it);
//   - order placement throughput and latency, beside a PostgreSQL baseline
//     measured in the same run: single-row INSERTs, each its own
//     transaction, from as many connections (order_place_vs_pg_insert).
//
// Run it once per invocation: go test -run '^$' -bench Platform -benchtime 1x.
// BENCH_DURATION (default 5s) and BENCH_CONNS (default 32) tune the load.
func BenchmarkPlatform(b *testing.B) {
	dur := 5 * time.Second
	if v, err := time.ParseDuration(os.Getenv("BENCH_DURATION")); err == nil {
		dur = v
	}
	conns := 32
	if v, err := strconv.Atoi(os.Getenv("BENCH_CONNS")); err == nil && v > 0 {
		conns = v
	}
	logLevel = "info" // as deployed: no per-request access log
	s := startStack(b)
	admin, _, _ := registerAndLogin(b, s, adminEmail)
	token, _, _ := registerAndLogin(b, s, "bench@example.com")
	pid := createProduct(b, s, admin, "BENCH-1", 1999, 1_000_000_000)
	productURL := s.Product.URL + "/v1/products/" + pid
	body := call(b, "GET", productURL, "", nil).Body // fills the cache

	// The baseline: plain net/http writing the same response.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	bare := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})}
	go func() { _ = bare.Serve(ln) }()
	defer bare.Close()
	bareURL := "http://" + ln.Addr().String() + "/v1/products/" + pid

	b.ResetTimer()
	get := func(c *http.Client, _ int) (*http.Request, error) { return http.NewRequest("GET", productURL, nil) }
	getBare := func(c *http.Client, _ int) (*http.Request, error) { return http.NewRequest("GET", bareURL, nil) }
	closedLoop(conns, time.Second, get) // warm up both
	closedLoop(conns, time.Second, getBare)
	bareRes := closedLoop(conns, dur, getBare)
	prodRes := closedLoop(conns, dur, get)
	// The same rate against the bare handler: a control for stalls that come
	// from the machine or the load generator rather than the service.
	bareHalf := openLoop(prodRes.rps/2, dur, bareURL)
	half := openLoop(prodRes.rps/2, dur, productURL)

	var seq atomic.Int64
	place := func(c *http.Client, w int) (*http.Request, error) {
		req, err := http.NewRequest("POST", s.Order.URL+"/v1/orders",
			strings.NewReader(`{"items":[{"product_id":"`+pid+`","quantity":1}]}`))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Idempotency-Key", fmt.Sprintf("bench-%d", seq.Add(1)))
		return req, nil
	}
	orderRes := closedLoop(8, dur, place)
	pgRes := insertLoop(b, s.DB["order"], 8, dur)
	b.StopTimer()

	ratio := prodRes.rps / bareRes.rps
	fmt.Printf("bare_get rps=%.0f p50_ms=%.3f p99_ms=%.3f errors=%d conns=%d\n", bareRes.rps, bareRes.p50, bareRes.p99, bareRes.errors, conns)
	fmt.Printf("product_get rps=%.0f p50_ms=%.3f p99_ms=%.3f errors=%d conns=%d\n", prodRes.rps, prodRes.p50, prodRes.p99, prodRes.errors, conns)
	fmt.Printf("product_get_ratio=%.3f (target >= 0.7)\n", ratio)
	fmt.Printf("product_get_half_peak rate=%.0f p50_ms=%.3f p99_ms=%.3f errors=%d (target p99 <= 10ms)\n", prodRes.rps/2, half.p50, half.p99, half.errors)
	fmt.Printf("bare_get_same_rate rate=%.0f p50_ms=%.3f p99_ms=%.3f errors=%d (control)\n", prodRes.rps/2, bareHalf.p50, bareHalf.p99, bareHalf.errors)
	fmt.Printf("order_place rps=%.0f p50_ms=%.3f p99_ms=%.3f errors=%d conns=8\n", orderRes.rps, orderRes.p50, orderRes.p99, orderRes.errors)
	fmt.Printf("pg_single_insert rps=%.0f p50_ms=%.3f p99_ms=%.3f errors=%d conns=8 (baseline)\n", pgRes.rps, pgRes.p50, pgRes.p99, pgRes.errors)
	fmt.Printf("order_place_vs_pg_insert=%.3f (target >= 0.4)\n", orderRes.rps/pgRes.rps)
	b.ReportMetric(ratio, "product_get_ratio")
	b.ReportMetric(prodRes.rps, "product_get_rps")
	b.ReportMetric(half.p99, "product_get_half_peak_p99_ms")
	b.ReportMetric(orderRes.rps, "order_place_rps")
	b.ReportMetric(orderRes.rps/pgRes.rps, "order_place_vs_pg_insert")
}

// insertLoop is the PostgreSQL baseline for order placement: conns
// connections each inserting one row per transaction into a table shaped
// like orders, for d.
func insertLoop(b *testing.B, dsn string, conns int, d time.Duration) loadResult {
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = int32(conns) //nolint:gosec // a small benchmark constant
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS bench_insert (id uuid PRIMARY KEY, user_id uuid NOT NULL,
		total_cents bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		b.Fatal(err)
	}
	var errs atomic.Int64
	lat := make([][]time.Duration, conns)
	end := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := uuid.New()
			for time.Now().Before(end) {
				t0 := time.Now()
				if _, err := pool.Exec(ctx, "INSERT INTO bench_insert (id, user_id, total_cents) VALUES ($1, $2, $3)", uuid.New(), user, 1999); err != nil {
					errs.Add(1)
					continue
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	return summarize(slices.Concat(lat...), time.Since(start), errs.Load())
}

type loadResult struct {
	rps, p50, p99 float64
	errors        int64
}

func newLoadClient(conns int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost, t.MaxConnsPerHost = conns*2, conns*2, conns*2
	return &http.Client{Transport: t, Timeout: 10 * time.Second}
}

func drain(resp *http.Response) {
	buf := make([]byte, 4096)
	for {
		if _, err := resp.Body.Read(buf); err != nil {
			break
		}
	}
	resp.Body.Close()
}

// closedLoop runs conns workers, each sending its next request when the
// previous one answered, for d.
func closedLoop(conns int, d time.Duration, mk func(*http.Client, int) (*http.Request, error)) loadResult {
	c := newLoadClient(conns)
	defer c.CloseIdleConnections()
	var errs atomic.Int64
	lat := make([][]time.Duration, conns)
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				req, err := mk(c, w)
				if err != nil {
					errs.Add(1)
					continue
				}
				t0 := time.Now()
				resp, err := c.Do(req)
				if err != nil {
					errs.Add(1)
					continue
				}
				drain(resp)
				if resp.StatusCode >= 300 {
					errs.Add(1)
					continue
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	return summarize(slices.Concat(lat...), time.Since(start), errs.Load())
}

// openLoop sends requests at a fixed rate regardless of answers and times
// each from when it was due.
func openLoop(rate float64, d time.Duration, url string) loadResult {
	if rate < 1 {
		rate = 1
	}
	c := newLoadClient(256)
	defer c.CloseIdleConnections()
	interval := time.Duration(float64(time.Second) / rate)
	var mu sync.Mutex
	var lat []time.Duration
	var errs atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; ; i++ {
		due := start.Add(time.Duration(i) * interval)
		if due.Sub(start) >= d {
			break
		}
		time.Sleep(time.Until(due))
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Get(url)
			if err != nil {
				errs.Add(1)
				return
			}
			drain(resp)
			if resp.StatusCode >= 300 {
				errs.Add(1)
				return
			}
			l := time.Since(due)
			mu.Lock()
			lat = append(lat, l)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return summarize(lat, d, errs.Load())
}

func summarize(lat []time.Duration, elapsed time.Duration, errs int64) loadResult {
	if len(lat) == 0 {
		return loadResult{errors: errs}
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	return loadResult{rps: float64(len(lat)) / elapsed.Seconds(), p50: pct(0.50), p99: pct(0.99), errors: errs}
}

// BenchmarkProductGetHandler is the cached product read's own CPU cost:
// the whole HTTP stack of the product service (middleware, routing, the
// in-process cache) called without a network or a load generator, beside
// a bare handler writing the same bytes. It stays meaningful on a busy
// machine, where the throughput ratio of BenchmarkPlatform does not.
func BenchmarkProductGetHandler(b *testing.B) {
	logLevel = "info"
	s := startStack(b, stackOptions{skipOrder: true})
	admin, _, _ := registerAndLogin(b, s, adminEmail)
	pid := createProduct(b, s, admin, "HANDLER-1", 1999, 10)
	body := call(b, "GET", s.Product.URL+"/v1/products/"+pid, "", nil).Body
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"bare", bare}, {"product", s.Product.App.Handler()}} {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/v1/products/"+pid, nil)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				c.h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}
