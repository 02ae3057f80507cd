package itest

// These tests disturb shared things (a child process under load, the
// PostgreSQL server itself), so they live in the file that sorts last and
// run after every other test of the package.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestSIGTERMUnderLoad runs the order service as a real process, keeps it
// busy placing orders and sends SIGTERM: every request it accepted must
// complete, it must exit 0, and every acknowledged order must be stored.
//
// The load stops the way a load balancer's does: a poller reads /readyz
// and, once the service says it is draining, no new request is sent
// (SHUTDOWN_DELAY gives that time, as it gives the ALB in the cluster).
// Without it, connections the kernel completed but the server never
// accepted are reset when the listener closes, and the test would judge
// requests the service never saw.
func TestSIGTERMUnderLoad(t *testing.T) {
	s := startStack(t, stackOptions{skipOrder: true})
	admin, _, _ := registerAndLogin(t, s, adminEmail)
	token, _, _ := registerAndLogin(t, s, "load@example.com")
	pid := createProduct(t, s, admin, "LOAD-1", 100, 1_000_000)
	db := newDatabase(t, "orderproc")

	bin := serviceBinary(t, "order")
	// A misconfigured process refuses to start and names the variable.
	bad := exec.Command(bin)
	bad.Env = append(os.Environ(), "SERVICE_NAME=order", "DATABASE_URL="+db, "QUEUE_URL="+s.Queues["order"].URL,
		"TOPIC_ARN="+s.Topics["order"], "AWS_REGION="+awsRegion, "AUTH_JWKS_URL=http://127.0.0.1:1/jwks")
	out, err := bad.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), "PRODUCT_API_URL is required") {
		t.Fatalf("misconfigured start: %v\n%s", err, out)
	}

	addr := freePort(t)
	logs := &syncBuffer{}
	cmd := exec.Command(bin)
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.Env = append(os.Environ(),
		"SERVICE_NAME=order", "HTTP_ADDR="+addr, "DATABASE_URL="+servingURL(t, "order", db), "QUEUE_URL="+s.Queues["order"].URL,
		"TOPIC_ARN="+s.Topics["order"], "AWS_REGION="+awsRegion, "AWS_ENDPOINT_URL="+awsEndpoint,
		"AUTH_JWKS_URL="+s.Auth.URL+"/v1/auth/jwks", "PRODUCT_API_URL="+s.Product.URL,
		"QUEUE_WAIT_SECONDS=1", "QUEUE_VISIBILITY_TIMEOUT_SECONDS=2", "SHUTDOWN_TIMEOUT=15s", "SHUTDOWN_DELAY=1s", "OUTBOX_POLL_INTERVAL=50ms",
		// A Redis nobody answers on: go-redis logs every failed dial of the
		// readiness checks, and those lines must be JSON like all others.
		"REDIS_URL=redis://"+freePort(t)+"/0", "ACCESS_LOG_SAMPLE_RATE=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("order process logs:\n%s", logs.String())
		}
	}()
	base := "http://" + addr
	eventually(t, 20*time.Second, "order process ready", func() bool {
		r, err := tryCall("GET", base+"/readyz", "", nil)
		return err == nil && r.Status == http.StatusOK
	})

	var ok, failed atomic.Int64
	var mu sync.Mutex
	var failures []string
	var wg sync.WaitGroup
	// The load balancer: takes the service out once /readyz says so.
	var outOfLB atomic.Bool
	stopPolling := make(chan struct{})
	defer close(stopPolling)
	go func() {
		for {
			select {
			case <-stopPolling:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if r, err := tryCall("GET", base+"/readyz", "", nil); err != nil || r.Status == http.StatusServiceUnavailable {
				outOfLB.Store(true)
				return
			}
		}
	}()
	for w := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				if outOfLB.Load() {
					return // taken out of the load balancer: no new request
				}
				r, err := tryCall("POST", base+"/v1/orders", token,
					map[string]any{"items": []map[string]any{{"product_id": pid, "quantity": 1}}},
					"Idempotency-Key", fmt.Sprintf("term-%d-%d", w, i))
				if err != nil && errors.Is(err, syscall.ECONNREFUSED) {
					return // the listener is closed: this request never got in
				}
				if err != nil || r.Status != http.StatusCreated {
					failed.Add(1)
					mu.Lock()
					failures = append(failures, fmt.Sprintf("err=%v status=%d body=%s", err, r.Status, r.Body))
					mu.Unlock()
					return
				}
				ok.Add(1)
			}
		}()
	}
	time.Sleep(800 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("order process exited with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("order process did not exit within 30s of SIGTERM")
	}
	if failed.Load() > 0 {
		t.Fatalf("%d requests failed during shutdown (%d succeeded): %v", failed.Load(), ok.Load(), failures)
	}
	if ok.Load() < 20 {
		t.Fatalf("only %d orders placed before shutdown; the load was too light to mean anything", ok.Load())
	}
	if n := scalar[int64](t, db, "SELECT count(*) FROM orders"); n != ok.Load() {
		t.Fatalf("%d orders stored, %d acknowledged", n, ok.Load())
	}
	// One logger: every line the process wrote is JSON with the service,
	// the library lines (go-redis) included, and the access log is there.
	redisLines, accessLines := 0, 0
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil || m["service"] != "order" {
			t.Fatalf("a log line is not JSON with the service: %q", line)
		}
		if m["component"] == "go-redis" {
			redisLines++
		}
		if m["msg"] == "request" && m["route"] == "POST /v1/orders" && m["request_id"] != nil {
			accessLines++
		}
	}
	if redisLines == 0 || accessLines < int(ok.Load()) {
		t.Fatalf("%d go-redis lines, %d access lines for %d orders", redisLines, accessLines, ok.Load())
	}
	t.Logf("%d orders acknowledged under load, 0 failed across SIGTERM", ok.Load())
}

// clusterOf finds how to restart the server that dsn reaches: a local
// cluster managed by pg_ctlcluster whose data directory is the one the
// server reports. Anything else (a remote server, no pg_ctlcluster, not
// root) skips the test loudly, or fails it under CI=true, rather than
// restarting some other server.
func clusterOf(t *testing.T, dsn string) func() error {
	t.Helper()
	skip := func(format string, args ...any) {
		msg := fmt.Sprintf("SKIPPING the PostgreSQL restart test: "+format, args...)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		fmt.Fprintln(os.Stderr, msg)
		t.Skip(msg)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		skip("TEST_DATABASE_URL: %v", err)
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		skip("the server at %s is not on this machine", u.Host)
	}
	dataDir := scalar[string](t, dsn, "SELECT current_setting('data_directory')")
	out, err := exec.Command("pg_lsclusters", "--no-header").Output()
	if err != nil {
		skip("pg_lsclusters: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		// version cluster port status owner data-directory log-file
		f := strings.Fields(line)
		if len(f) >= 6 && filepath.Clean(f[5]) == filepath.Clean(dataDir) {
			return func() error {
				out, err := exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", f[0], f[1], "restart").CombinedOutput()
				if err != nil {
					return fmt.Errorf("pg_ctlcluster %s %s restart: %w\n%s", f[0], f[1], err, out)
				}
				return nil
			}
		}
	}
	skip("no pg_ctlcluster cluster has the data directory %s of the server at %s", dataDir, u.Host)
	return nil
}

// TestPostgresRestart restarts the PostgreSQL server while clients place
// orders, retrying failures with the same Idempotency-Key as a real client
// would. The service must recover, and no acknowledged order may be lost or
// doubled; stock reservations must catch up too.
func TestPostgresRestart(t *testing.T) {
	restart := clusterOf(t, adminDBURL)
	s := startStack(t)
	admin, _, _ := registerAndLogin(t, s, adminEmail)
	token, _, _ := registerAndLogin(t, s, "restart@example.com")
	const stock = 1_000_000
	pid := createProduct(t, s, admin, "RST-1", 100, stock)

	var acked sync.Map // key -> order id
	var afterRestart, retries atomic.Int64
	var restarted atomic.Bool
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				key := fmt.Sprintf("rst-%d-%d", w, i)
				deadline := time.Now().Add(60 * time.Second)
				for {
					r, err := tryCall("POST", s.Order.URL+"/v1/orders", token,
						map[string]any{"items": []map[string]any{{"product_id": pid, "quantity": 1}}}, "Idempotency-Key", key)
					if err == nil && (r.Status == http.StatusCreated || r.Status == http.StatusOK) {
						acked.Store(key, r.json(t)["id"])
						if restarted.Load() {
							afterRestart.Add(1)
						}
						time.Sleep(20 * time.Millisecond) // a steady stream, not a flood
						break
					}
					if err == nil && r.Status < 500 {
						t.Errorf("key %s: client error %d during restart: %s", key, r.Status, r.Body)
						return
					}
					if time.Now().After(deadline) {
						t.Errorf("key %s: no success within 60s: err=%v status=%d", key, err, r.Status)
						return
					}
					retries.Add(1)
					time.Sleep(100 * time.Millisecond)
				}
			}
		}()
	}
	time.Sleep(time.Second)
	startedBefore := scalar[time.Time](t, adminDBURL, "SELECT pg_postmaster_start_time()")
	if err := restart(); err != nil {
		stop()
		wg.Wait()
		t.Fatalf("restart PostgreSQL: %v", err)
	}
	restarted.Store(true)
	if after := scalar[time.Time](t, adminDBURL, "SELECT pg_postmaster_start_time()"); !after.After(startedBefore) {
		t.Fatalf("the server at TEST_DATABASE_URL was not restarted (started %s, still %s)", startedBefore, after)
	}
	time.Sleep(2 * time.Second)
	eventually(t, 30*time.Second, "orders succeeding after the restart", func() bool { return afterRestart.Load() >= 10 })
	stop()
	wg.Wait()

	n := 0
	acked.Range(func(k, v any) bool {
		n++
		if c := scalar[int64](t, s.DB["order"], "SELECT count(*) FROM orders WHERE idempotency_key = $1 AND id = $2", k, v); c != 1 {
			t.Errorf("acknowledged order %v (key %v) stored %d times", v, k, c)
		}
		return true
	})
	if total := scalar[int64](t, s.DB["order"], "SELECT count(*) FROM orders"); total != int64(n) {
		t.Fatalf("%d orders stored, %d acknowledged", total, n)
	}
	eventually(t, 60*time.Second, "every order's stock reserved", func() bool { return stockOf(t, s, pid) == stock-n })
	t.Logf("%d orders acknowledged across a PostgreSQL restart (%d retries); none lost or doubled", n, retries.Load())
}
