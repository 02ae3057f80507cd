// Package itest runs the services against real PostgreSQL, Redis and an
// SNS/SQS emulator (goaws): no mocks of any of them. scripts/ci-deps.sh
// starts all three. Without them the tests are skipped locally and fail
// under CI=true.
package itest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/example/ecommerce-platform/services/internal/auth"
	"github.com/example/ecommerce-platform/services/internal/config"
	"github.com/example/ecommerce-platform/services/internal/order"
	"github.com/example/ecommerce-platform/services/internal/platform"
	"github.com/example/ecommerce-platform/services/internal/product"
	"github.com/example/ecommerce-platform/services/internal/sqsq"
	"github.com/example/ecommerce-platform/services/internal/user"
)

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

var (
	adminDBURL  = env("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	redisURL    = env("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
	awsEndpoint = env("TEST_AWS_ENDPOINT_URL", "http://127.0.0.1:4100")
	awsRegion   = "us-east-1"
)

func TestMain(m *testing.M) {
	// The emulator ignores credentials but the SDK wants some; never reach
	// for instance metadata on a developer machine.
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_EC2_METADATA_DISABLED": "true"} {
		if os.Getenv(k) == "" {
			os.Setenv(k, v)
		}
	}
	var missing []string
	for name, raw := range map[string]string{"PostgreSQL (TEST_DATABASE_URL)": adminDBURL, "Redis (TEST_REDIS_URL)": redisURL, "goaws (TEST_AWS_ENDPOINT_URL)": awsEndpoint} {
		u, err := url.Parse(raw)
		if err != nil {
			missing = append(missing, name+": "+err.Error())
			continue
		}
		c, err := net.DialTimeout("tcp", u.Host, 2*time.Second)
		if err != nil {
			missing = append(missing, name+" at "+u.Host)
			continue
		}
		c.Close()
	}
	if len(missing) > 0 {
		msg := "integration servers unreachable: " + strings.Join(missing, ", ") + " (run services/scripts/ci-deps.sh)"
		if os.Getenv("CI") == "true" {
			fmt.Fprintln(os.Stderr, "FAIL: "+msg)
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "SKIP: "+msg)
		os.Exit(0)
	}
	platform.QueryTracer = tracer
	code := m.Run()
	fmt.Fprintf(os.Stderr, "contract: %d responses checked against the services' OpenAPI documents, %d outside them\n",
		checkedResponses.Load(), contractViolations.Load())
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	drops.Wait()
	os.Exit(code)
}

// queryTracer lets a test see (and slow down) the services' queries: all
// services in this process share it, so hooks filter by the request id the
// query's context carries, or by the SQL.
type queryTracer struct {
	mu   sync.Mutex
	hook func(ctx context.Context, sql string)
}

var tracer = &queryTracer{}

func (q *queryTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	q.mu.Lock()
	h := q.hook
	q.mu.Unlock()
	if h != nil {
		h(ctx, data.SQL)
	}
	return ctx
}

func (q *queryTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// onQuery installs a hook for the rest of the test.
func onQuery(t testing.TB, h func(ctx context.Context, sql string)) {
	tracer.mu.Lock()
	tracer.hook = h
	tracer.mu.Unlock()
	t.Cleanup(func() {
		tracer.mu.Lock()
		tracer.hook = nil
		tracer.mu.Unlock()
	})
}

// drops are the databases being dropped; TestMain waits for them.
var drops sync.WaitGroup

func dropDatabase(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, adminDBURL)
	if err != nil {
		fmt.Fprintf(os.Stderr, "drop database %s: %v\n", name, err)
		return
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		fmt.Fprintf(os.Stderr, "drop database %s: %v\n", name, err)
		return
	}
	// The serving role made by servingURL: roles belong to the cluster,
	// and it held privileges in that database only.
	if _, err := c.Exec(ctx, "DROP ROLE IF EXISTS "+pgx.Identifier{appRoleOf(name)}.Sanitize()); err != nil {
		fmt.Fprintf(os.Stderr, "drop role %s: %v\n", appRoleOf(name), err)
	}
}

// appRoleOf is the serving role of a test database.
func appRoleOf(database string) string { return database + "_app" }

// migrations are each service's own, by name.
var migrations = map[string]fs.FS{
	config.Auth: auth.Migrations, config.User: user.Migrations, config.Product: product.Migrations, config.Order: order.Migrations,
}

// served maps a test database's owner URL to its serving role's URL.
var served sync.Map

// servingURL does what the migration job does for a database (migrations
// as the owner, then the login role granted read and write) and returns
// the URL the service serves with: the role's, as in production, so every
// test shows the role is enough for what it exercises.
func servingURL(t testing.TB, service, ownerURL string) string {
	t.Helper()
	if u, ok := served.Load(ownerURL); ok {
		return u.(string)
	}
	u, err := url.Parse(ownerURL)
	if err != nil {
		t.Fatalf("database url: %v", err)
	}
	role := platform.AppRole{Name: appRoleOf(strings.TrimPrefix(u.Path, "/")), Password: "test-" + uuid.NewString()}
	pool := openPool(t, ownerURL)
	if err := platform.MigrateAndGrant(context.Background(), pool, migrations[service], role); err != nil {
		t.Fatalf("migrate %s as the owner: %v", service, err)
	}
	pool.Close()
	u.User = url.UserPassword(role.Name, role.Password)
	served.Store(ownerURL, u.String())
	return u.String()
}

// newDatabase creates an empty database for one test and drops it after.
func newDatabase(t testing.TB, prefix string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, adminDBURL)
	if err != nil {
		t.Fatalf("connect admin database: %v", err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("itest_%s_%s", prefix, strings.ReplaceAll(uuid.NewString()[:13], "-", ""))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	// Dropped in the background: DROP DATABASE waits for a checkpoint,
	// up to seconds on a busy machine, and nothing waits for the result but
	// the end of the run (TestMain).
	t.Cleanup(func() { drops.Go(func() { dropDatabase(name) }) })
	u, _ := url.Parse(adminDBURL)
	u.Path = "/" + name
	return u.String()
}

func openPool(t testing.TB, dsn string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func awsConfig(t testing.TB) aws.Config {
	t.Helper()
	cfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRegion(awsRegion))
	if err != nil {
		t.Fatalf("aws config: %v", err)
	}
	return cfg
}

func snsClient(t testing.TB, endpoint string) *sns.Client {
	return sns.NewFromConfig(awsConfig(t), func(o *sns.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

func sqsClient(t testing.TB) *sqsq.Client {
	return sqsq.New(awsConfig(t), awsEndpoint)
}

func uniqueName(prefix string) string {
	return prefix + "-" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
}

func newTopic(t testing.TB, prefix string) string {
	t.Helper()
	out, err := snsClient(t, awsEndpoint).CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String(uniqueName(prefix))})
	if err != nil {
		t.Fatalf("create topic: %v", err)
	}
	return aws.ToString(out.TopicArn)
}

// queue is an SQS queue with its dead-letter queue.
type queue struct {
	URL, ARN, DLQURL string
}

// newQueue creates a queue whose messages go to a DLQ after maxReceives.
func newQueue(t testing.TB, prefix string, visibility, maxReceives int) queue {
	t.Helper()
	ctx := context.Background()
	c := sqsClient(t)
	name := uniqueName(prefix)
	dlq, err := c.CreateQueue(ctx, name+"-dlq", nil)
	if err != nil {
		t.Fatalf("create dlq: %v", err)
	}
	u, err := c.CreateQueue(ctx, name, map[string]string{
		"VisibilityTimeout": fmt.Sprint(visibility),
		"RedrivePolicy":     fmt.Sprintf(`{"maxReceiveCount":"%d","deadLetterTargetArn":"%s"}`, maxReceives, queueARN(t, dlq)),
	})
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	return queue{URL: u, ARN: queueARN(t, u), DLQURL: dlq}
}

func queueARN(t testing.TB, u string) string {
	t.Helper()
	attrs, err := sqsClient(t).Attributes(context.Background(), u, "QueueArn")
	if err != nil {
		t.Fatalf("queue attributes: %v", err)
	}
	if attrs["QueueArn"] == "" {
		t.Fatalf("queue %s has no QueueArn", u)
	}
	return attrs["QueueArn"]
}

func subscribe(t testing.TB, topicARN string, q queue, raw bool) {
	t.Helper()
	_, err := snsClient(t, awsEndpoint).Subscribe(context.Background(), &sns.SubscribeInput{
		TopicArn: aws.String(topicARN), Protocol: aws.String("sqs"), Endpoint: aws.String(q.ARN),
		Attributes: map[string]string{"RawMessageDelivery": fmt.Sprint(raw)},
	})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
}

// syncBuffer collects a service's logs; they are printed if the test fails.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// running is a service started in this process on a random port.
type running struct {
	URL  string
	App  *platform.App
	Logs *syncBuffer
}

var builders = map[string]platform.Builder{
	config.Auth: auth.New, config.User: user.New, config.Product: product.New, config.Order: order.New,
}

// logLevel of the services: debug in tests, for the logs printed when one
// fails; the benchmark measures them at the production default.
var logLevel = "debug"

// startService starts one service with the given settings (the same
// variables the deployment sets) and stops it when the test ends.
func startService(t testing.TB, name string, vars map[string]string) *running {
	t.Helper()
	base := map[string]string{
		"SERVICE_NAME": name, "HTTP_ADDR": "127.0.0.1:0", "AWS_REGION": awsRegion, "AWS_ENDPOINT_URL": awsEndpoint,
		"OUTBOX_POLL_INTERVAL": "50ms", "QUEUE_WAIT_SECONDS": "1", "QUEUE_VISIBILITY_TIMEOUT_SECONDS": "2",
		"SHUTDOWN_TIMEOUT": "10s", "PASSWORD_HASH_MEMORY_KB": "8192", "LOG_LEVEL": logLevel,
	}
	for k, v := range vars {
		base[k] = v
	}
	if base["MIGRATE_ON_START"] != "true" {
		for _, k := range []string{"DATABASE_URL", "DATABASE_READ_URL"} {
			// A URL with a serving role's name is the test's own doing.
			if u, err := url.Parse(base[k]); base[k] != "" && err == nil && !strings.HasSuffix(u.User.Username(), "_app") && !strings.HasSuffix(u.User.Username(), "_reader") {
				base[k] = servingURL(t, name, base[k])
			}
		}
	}
	cfg, err := config.Load(func(k string) string { return base[k] })
	if err != nil {
		t.Fatalf("%s config: %v", name, err)
	}
	logs := &syncBuffer{}
	app, err := platform.Start(context.Background(), cfg, platform.NewLogger(logs, name, cfg.LogLevel), builders[name])
	if err != nil {
		t.Fatalf("start %s: %v\n%s", name, err, logs.String())
	}
	watchContract(t, name, app.Addr(), app.API())
	t.Cleanup(func() {
		if err := app.Shutdown(context.Background()); err != nil {
			t.Errorf("shutdown %s: %v", name, err)
		}
		if t.Failed() {
			out := logs.String()
			if len(out) > 6000 {
				out = "..." + out[len(out)-6000:]
			}
			t.Logf("%s logs:\n%s", name, out)
		}
	})
	return &running{URL: "http://" + app.Addr(), App: app, Logs: logs}
}

func signingKeyPEM(t testing.TB) string {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

const adminEmail = "admin@example.com"

// stack is the four services wired as in production: each publisher has a
// topic, each consumer a queue with a DLQ subscribed to the topics it needs.
type stack struct {
	Auth, User, Product, Order *running
	DB                         map[string]string // database URL by service
	Queues                     map[string]queue  // consumer queue by service
	Topics                     map[string]string // topic ARN by publisher
}

type stackOptions struct {
	orderVars map[string]string
	authVars  map[string]string
	skipOrder bool
	// orderEventsLost leaves the order topic without subscribers: what the
	// order service publishes is accepted by the broker and lost.
	orderEventsLost bool
}

func startStack(t testing.TB, opts ...stackOptions) *stack {
	t.Helper()
	var o stackOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	s := &stack{DB: map[string]string{}, Queues: map[string]queue{}, Topics: map[string]string{}}
	for _, n := range []string{"auth", "user", "product", "order"} {
		s.DB[n] = newDatabase(t, n)
	}
	for _, n := range []string{"auth", "product", "order"} {
		s.Topics[n] = newTopic(t, n+"-events")
	}
	for _, n := range []string{"user", "product", "order"} {
		s.Queues[n] = newQueue(t, n+"-queue", 2, 3)
	}
	subscribe(t, s.Topics["auth"], s.Queues["user"], true)
	if !o.orderEventsLost {
		subscribe(t, s.Topics["order"], s.Queues["product"], true)
	}
	// Not raw, to exercise unwrapping of SNS notifications.
	subscribe(t, s.Topics["product"], s.Queues["order"], false)

	authVars := map[string]string{
		"DATABASE_URL": s.DB["auth"], "TOPIC_ARN": s.Topics["auth"], "JWT_SIGNING_KEY": signingKeyPEM(t), "ADMIN_EMAILS": adminEmail,
		"REDIS_URL": redisURL, "LOGIN_MAX_FAILURES": "4",
		// Every test logs in from 127.0.0.1; the per-address limit has its
		// own test with its own addresses.
		"LOGIN_IP_MAX_ATTEMPTS": "0",
	}
	for k, v := range o.authVars {
		authVars[k] = v
	}
	s.Auth = startService(t, "auth", authVars)
	jwks := s.Auth.URL + "/v1/auth/jwks"
	s.Product = startService(t, "product", map[string]string{
		"DATABASE_URL": s.DB["product"], "REDIS_URL": redisURL, "QUEUE_URL": s.Queues["product"].URL,
		"TOPIC_ARN": s.Topics["product"], "AUTH_JWKS_URL": jwks,
	})
	if !o.skipOrder {
		vars := map[string]string{
			"DATABASE_URL": s.DB["order"], "QUEUE_URL": s.Queues["order"].URL, "TOPIC_ARN": s.Topics["order"],
			"AUTH_JWKS_URL": jwks, "PRODUCT_API_URL": s.Product.URL,
		}
		for k, v := range o.orderVars {
			vars[k] = v
		}
		s.Order = startService(t, "order", vars)
	}
	s.User = startService(t, "user", map[string]string{
		"DATABASE_URL": s.DB["user"], "QUEUE_URL": s.Queues["user"].URL, "AUTH_JWKS_URL": jwks,
	})
	return s
}

// response is a decoded HTTP answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response is not a JSON object (status %d): %q", r.Status, r.Body)
	}
	return m
}

// errField returns the field a problem response names. The deprecated
// error object must name the same one.
func (r response) errField(t testing.TB) string {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != platform.ProblemContentType {
		t.Fatalf("error response of type %q, want %s: %s", ct, platform.ProblemContentType, r.Body)
	}
	m := r.json(t)
	f, _ := m["field"].(string)
	if e, _ := m["error"].(map[string]any); e == nil || e["field"] != m["field"] {
		t.Fatalf("the deprecated error object does not repeat the field: %s", r.Body)
	}
	return f
}

// errCode returns the code a problem response gives.
func (r response) errCode(t testing.TB) string {
	t.Helper()
	c, _ := r.json(t)["code"].(string)
	return c
}

// httpClient is what the tests call the services with: every response it
// receives is checked against the service's OpenAPI document
// (contract_test.go).
var httpClient = &http.Client{Timeout: 15 * time.Second, Transport: contractTransport{base: http.DefaultTransport}}

func call(t testing.TB, method, u, token string, body any, headers ...string) response {
	t.Helper()
	r, err := tryCall(method, u, token, body, headers...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	return r
}

func tryCall(method, u, token string, body any, headers ...string) (response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return response{}, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return response{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}, err
}

func expect(t testing.TB, r response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", within, what)
}

// register and login return an access token and a refresh token.
func registerAndLogin(t testing.TB, s *stack, email string) (access, refresh, id string) {
	t.Helper()
	r := call(t, "POST", s.Auth.URL+"/v1/auth/register", "", map[string]string{"email": email, "password": "correct horse battery"})
	expect(t, r, http.StatusCreated)
	id = r.json(t)["id"].(string)
	r = call(t, "POST", s.Auth.URL+"/v1/auth/login", "", map[string]string{"email": email, "password": "correct horse battery"})
	expect(t, r, http.StatusOK)
	m := r.json(t)
	return m["access_token"].(string), m["refresh_token"].(string), id
}

func createProduct(t testing.TB, s *stack, adminToken, sku string, price, stock int) string {
	t.Helper()
	r := call(t, "POST", s.Product.URL+"/v1/products", adminToken, map[string]any{
		"sku": sku, "name": "Product " + sku, "description": "A fine " + sku, "price_cents": price, "stock": stock,
	})
	expect(t, r, http.StatusCreated)
	return r.json(t)["id"].(string)
}

func stockOf(t testing.TB, s *stack, productID string) int {
	t.Helper()
	r := call(t, "GET", s.Product.URL+"/v1/products/"+productID+"/stock", "", nil)
	expect(t, r, http.StatusOK)
	return int(r.json(t)["stock"].(float64))
}

func placeOrder(t testing.TB, s *stack, token, key string, items ...any) response {
	t.Helper()
	var lines []map[string]any
	for i := 0; i+1 < len(items); i += 2 {
		lines = append(lines, map[string]any{"product_id": items[i], "quantity": items[i+1]})
	}
	return call(t, "POST", s.Order.URL+"/v1/orders", token, map[string]any{"items": lines}, "Idempotency-Key", key)
}

func scalar[T any](t testing.TB, dsn, sql string, args ...any) T {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(context.Background())
	var v T
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}
