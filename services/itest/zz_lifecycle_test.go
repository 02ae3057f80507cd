package itest

// These tests disturb shared things (a child process under load, the
// PostgreSQL server itself), so they live in the file that sorts last and
// run after every other test of the package.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
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
func TestSIGTERMUnderLoad(t *testing.T) {
	s := startStack(t, stackOptions{skipOrder: true})
	admin, _, _ := registerAndLogin(t, s, adminEmail)
	token, _, _ := registerAndLogin(t, s, "load@example.com")
	pid := createProduct(t, s, admin, "LOAD-1", 100, 1_000_000)
	db := newDatabase(t, "orderproc")

	bin := filepath.Join(t.TempDir(), "order")
	build := exec.Command("go", "build", "-o", bin, "../cmd/order")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build order: %v\n%s", err, out)
	}
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
		"SERVICE_NAME=order", "HTTP_ADDR="+addr, "DATABASE_URL="+db, "QUEUE_URL="+s.Queues["order"].URL,
		"TOPIC_ARN="+s.Topics["order"], "AWS_REGION="+awsRegion, "AWS_ENDPOINT_URL="+awsEndpoint,
		"AUTH_JWKS_URL="+s.Auth.URL+"/v1/auth/jwks", "PRODUCT_API_URL="+s.Product.URL,
		"QUEUE_WAIT_SECONDS=1", "QUEUE_VISIBILITY_TIMEOUT_SECONDS=2", "SHUTDOWN_TIMEOUT=15s", "OUTBOX_POLL_INTERVAL=50ms")
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
	for w := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
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
	t.Logf("%d orders acknowledged under load, 0 failed across SIGTERM", ok.Load())
}

// TestPostgresRestart restarts the PostgreSQL server while clients place
// orders, retrying failures with the same Idempotency-Key as a real client
// would. The service must recover, and no acknowledged order may be lost or
// doubled; stock reservations must catch up too.
func TestPostgresRestart(t *testing.T) {
	versions, err := os.ReadDir("/etc/postgresql")
	if err != nil || len(versions) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("cannot find the PostgreSQL cluster to restart: %v", err)
		}
		t.Skip("no /etc/postgresql cluster to restart here")
	}
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
	out, err := exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", versions[0].Name(), "main", "restart").CombinedOutput()
	if err != nil {
		stop()
		wg.Wait()
		t.Fatalf("restart PostgreSQL: %v\n%s", err, out)
	}
	restarted.Store(true)
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
