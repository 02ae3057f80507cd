package itest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/example/ecommerce-platform/services/internal/platform"
	"github.com/example/ecommerce-platform/services/internal/sqsq"
)

// switchableProxy forwards a loopback port to the emulator. While it is
// down nothing listens on the port, so the broker is really unreachable.
type switchableProxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
}

func newSwitchableProxy(t *testing.T, target string) *switchableProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &switchableProxy{addr: ln.Addr().String(), target: target}
	ln.Close() // start down
	t.Cleanup(p.down)
	return p
}

func (p *switchableProxy) up(t *testing.T) {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatalf("proxy up: %v", err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				u, err := net.Dial("tcp", p.target)
				if err != nil {
					return
				}
				defer u.Close()
				go func() { _, _ = io.Copy(u, c) }()
				_, _ = io.Copy(c, u)
			}()
		}
	}()
}

func (p *switchableProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
}

func migratedDB(t *testing.T) string {
	dsn := newDatabase(t, "platform")
	if err := platform.Migrate(context.Background(), openPool(t, dsn), nil); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return dsn
}

// receiveAll drains q until want distinct event ids arrived or time runs out.
func receiveAll(t *testing.T, queueURL string, want int, within time.Duration) map[uuid.UUID]int {
	c := sqsClient(t)
	got := map[uuid.UUID]int{}
	deadline := time.Now().Add(within)
	for len(got) < want && time.Now().Before(deadline) {
		msgs, err := c.Receive(context.Background(), sqsq.ReceiveInput{QueueURL: queueURL, MaxMessages: 10, WaitSeconds: 1})
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		for _, m := range msgs {
			ev, err := platform.ParseMessage([]byte(m.Body))
			if err != nil {
				t.Fatalf("message %q: %v", m.Body, err)
			}
			got[ev.ID]++
			if err := c.Delete(context.Background(), queueURL, m.ReceiptHandle); err != nil {
				t.Fatalf("delete: %v", err)
			}
		}
	}
	return got
}

// TestOutboxSurvivesBrokerOutage: events committed while SNS is unreachable
// stay in the outbox and all arrive once it is back. None is lost.
func TestOutboxSurvivesBrokerOutage(t *testing.T) {
	ctx := context.Background()
	dsn := migratedDB(t)
	pool := openPool(t, dsn)
	topic := newTopic(t, "outage")
	q := newQueue(t, "outage", 30, 5)
	subscribe(t, topic, q, true)

	u, _ := url.Parse(awsEndpoint)
	proxy := newSwitchableProxy(t, u.Host)
	pub := &platform.SNSPublisher{Client: snsClient(t, "http://"+proxy.addr), TopicARN: topic}
	relay := platform.NewRelay(pool, pub, slog.New(slog.NewJSONHandler(io.Discard, nil)), 20*time.Millisecond, prometheus.NewRegistry())
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { relay.Run(rctx); close(done) }()
	defer func() { stop(); <-done }()

	const n = 60
	want := map[uuid.UUID]bool{}
	for i := range n {
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			id, err := platform.Enqueue(ctx, tx, "test", "test.happened", map[string]int{"seq": i})
			want[id] = true
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(1500 * time.Millisecond)
	if pending := scalar[int64](t, dsn, "SELECT count(*) FROM outbox WHERE published_at IS NULL"); pending != n {
		t.Fatalf("%d events pending during the outage, want %d", pending, n)
	}

	proxy.up(t)
	eventually(t, 30*time.Second, "outbox drained after the broker came back", func() bool {
		return scalar[int64](t, dsn, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
	})
	got := receiveAll(t, q.URL, n, 20*time.Second)
	lost := 0
	for id := range want {
		if got[id] == 0 {
			lost++
		}
	}
	if lost != 0 || len(got) != n {
		t.Fatalf("lost %d of %d events (received %d distinct)", lost, n, len(got))
	}
	t.Logf("0 of %d events lost across the outage", n)
}

// TestDuplicateDeliveryHasOneEffect sends the same order.placed twice, as
// SNS or SQS may: stock is reserved once and the duplicate is deleted.
func TestDuplicateDeliveryHasOneEffect(t *testing.T) {
	s := startStack(t, stackOptions{skipOrder: true})
	admin, _, _ := registerAndLogin(t, s, adminEmail)
	pid := createProduct(t, s, admin, "DUP-1", 100, 10)
	ev := platform.Event{ID: uuid.New(), Type: platform.OrderPlaced, Source: "order", OccurredAt: time.Now().UTC()}
	ev.Data, _ = json.Marshal(map[string]any{"order_id": uuid.New(), "user_id": uuid.New(),
		"items": []map[string]any{{"product_id": pid, "quantity": 4}}})
	body, _ := json.Marshal(ev)
	c := sqsClient(t)
	for range 2 {
		if _, err := c.Send(context.Background(), s.Queues["product"].URL, string(body)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 15*time.Second, "both copies consumed", func() bool {
		a, err := c.Attributes(context.Background(), s.Queues["product"].URL, "All")
		return err == nil && a["ApproximateNumberOfMessages"] == "0" && a["ApproximateNumberOfMessagesNotVisible"] == "0" &&
			scalar[int64](t, s.DB["product"], "SELECT count(*) FROM processed_messages") == 1
	})
	if got := stockOf(t, s, pid); got != 6 {
		t.Fatalf("stock %d after a duplicated reservation of 4 from 10, want 6", got)
	}
	if n := scalar[int64](t, s.DB["product"], "SELECT count(*) FROM stock_reservations"); n != 1 {
		t.Fatalf("%d reservations", n)
	}

	// The same for user.registered: one profile.
	_, _, uid := registerAndLogin(t, s, "twice@example.com")
	eventually(t, 15*time.Second, "profile created", func() bool {
		return scalar[int64](t, s.DB["user"], "SELECT count(*) FROM profiles WHERE user_id = $1", uid) == 1
	})
	payload := scalar[string](t, s.DB["auth"], "SELECT payload::text FROM outbox WHERE event_type = 'user.registered' AND payload->'data'->>'user_id' = $1", uid)
	if _, err := c.Send(context.Background(), s.Queues["user"].URL, payload); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "redelivery consumed", func() bool {
		a, err := c.Attributes(context.Background(), s.Queues["user"].URL, "All")
		return err == nil && a["ApproximateNumberOfMessages"] == "0" && a["ApproximateNumberOfMessagesNotVisible"] == "0"
	})
	if n := scalar[int64](t, s.DB["user"], "SELECT count(*) FROM profiles WHERE user_id = $1", uid); n != 1 {
		t.Fatalf("%d profiles for one user", n)
	}
	if n := scalar[int64](t, s.DB["user"], "SELECT count(*) FROM processed_messages"); n != 2 {
		t.Fatalf("%d processed events, want 2 (admin and user)", n)
	}
}

// TestConsumerRetriesThenDeadLetters: a failing handler leaves the message
// for redelivery (it succeeds on a later try, once), and a message that can
// never be handled ends in the DLQ through the queue's redrive policy.
func TestConsumerRetriesThenDeadLetters(t *testing.T) {
	ctx := context.Background()
	dsn := migratedDB(t)
	pool := openPool(t, dsn)
	if _, err := pool.Exec(ctx, "CREATE TABLE effects (event_id uuid)"); err != nil {
		t.Fatal(err)
	}
	q := newQueue(t, "retry", 1, 1)
	var attempts atomic.Int32
	handlers := map[string]platform.Handler{
		"flaky": func(ctx context.Context, tx pgx.Tx, ev platform.Event) (func(context.Context), error) {
			if _, err := tx.Exec(ctx, "INSERT INTO effects VALUES ($1)", ev.ID); err != nil {
				return nil, err
			}
			if attempts.Add(1) == 1 {
				return nil, errors.New("transient failure") // rolls the effect back
			}
			return nil, nil
		},
		"explodes": func(context.Context, pgx.Tx, platform.Event) (func(context.Context), error) {
			panic("handler bug")
		},
	}
	cons := platform.NewConsumer(sqsClient(t), q.URL, pool, handlers, slog.New(slog.NewJSONHandler(io.Discard, nil)), 1, 2, prometheus.NewRegistry())
	cctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { cons.Run(cctx); close(done) }()
	defer func() { stop(); <-done }()

	c := sqsClient(t)
	flaky := platform.Event{ID: uuid.New(), Type: "flaky", Source: "test", OccurredAt: time.Now(), Data: json.RawMessage(`{}`)}
	body, _ := json.Marshal(flaky)
	if _, err := c.Send(ctx, q.URL, string(body)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(ctx, q.URL, "this is not an event"); err != nil {
		t.Fatal(err)
	}
	boom, _ := json.Marshal(platform.Event{ID: uuid.New(), Type: "explodes", Source: "test", OccurredAt: time.Now(), Data: json.RawMessage(`{}`)})
	if _, err := c.Send(ctx, q.URL, string(boom)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "flaky event applied on retry", func() bool {
		return scalar[int64](t, dsn, "SELECT count(*) FROM effects") == 1 && attempts.Load() >= 2
	})
	dead := map[string]bool{}
	eventually(t, 20*time.Second, "undecodable and panicking messages in the DLQ", func() bool {
		msgs, err := c.Receive(ctx, sqsq.ReceiveInput{QueueURL: q.DLQURL, MaxMessages: 10, WaitSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.Body != "this is not an event" && m.Body != string(boom) {
				t.Fatalf("unexpected DLQ message %q", m.Body)
			}
			dead[m.Body] = true
		}
		return len(dead) == 2
	})
	if n := scalar[int64](t, dsn, "SELECT count(*) FROM effects"); n != 1 {
		t.Fatalf("%d effects, want exactly 1", n)
	}
}

// TestSQSClientErrors: the query-protocol client surfaces SQS errors with
// their code instead of treating them as empty answers.
func TestSQSClientErrors(t *testing.T) {
	c := sqsClient(t)
	_, err := c.Receive(context.Background(), sqsq.ReceiveInput{QueueURL: awsEndpoint + "/000000000000/no-such-queue-" + uuid.NewString()[:8]})
	var e *sqsq.Error
	if !errors.As(err, &e) || e.Status < 400 || e.Code == "" {
		t.Fatalf("receive from a missing queue: %#v", err)
	}
	q := newQueue(t, "roundtrip", 5, 3)
	id, err := c.Send(context.Background(), q.URL, "héllo <&> \"world\"")
	if err != nil || id == "" {
		t.Fatalf("send: %q %v", id, err)
	}
	msgs, err := c.Receive(context.Background(), sqsq.ReceiveInput{QueueURL: q.URL, MaxMessages: 1, WaitSeconds: 1})
	if err != nil || len(msgs) != 1 || msgs[0].Body != "héllo <&> \"world\"" || msgs[0].MessageID != id || msgs[0].ReceiveCount() != 1 {
		t.Fatalf("receive: %+v %v", msgs, err)
	}
}

// TestConcurrentMigrationsAndRelays: replicas starting together apply each
// migration once, and two relays draining one outbox publish every event
// once (SKIP LOCKED), with none left behind.
func TestConcurrentMigrationsAndRelays(t *testing.T) {
	ctx := context.Background()
	dsn := newDatabase(t, "replicas")
	pool := openPool(t, dsn)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		replica := openPool(t, dsn) // each replica its own process, its own pool
		go func() {
			defer wg.Done()
			errs <- platform.Migrate(ctx, replica, nil)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent migrate: %v", err)
		}
	}
	if n := scalar[int64](t, dsn, "SELECT count(*) FROM schema_version_platform WHERE version_id > 0"); n != 2 {
		t.Fatalf("%d migrations recorded, want 2", n)
	}

	topic := newTopic(t, "replicas")
	q := newQueue(t, "replicas", 30, 5)
	subscribe(t, topic, q, true)
	const n = 200
	for i := range n {
		if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			_, err := platform.Enqueue(ctx, tx, "test", "test.happened", map[string]int{"seq": i})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	rctx, stop := context.WithCancel(ctx)
	var relays sync.WaitGroup
	for range 2 {
		r := platform.NewRelay(pool, &platform.SNSPublisher{Client: snsClient(t, awsEndpoint), TopicARN: topic},
			slog.New(slog.NewJSONHandler(io.Discard, nil)), 10*time.Millisecond, prometheus.NewRegistry())
		r.BatchSize = 10 // many small rounds, so the two relays interleave
		relays.Add(1)
		go func() { defer relays.Done(); r.Run(rctx) }()
	}
	eventually(t, 30*time.Second, "outbox drained by two relays", func() bool {
		return scalar[int64](t, dsn, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
	})
	stop()
	relays.Wait()
	got := receiveAll(t, q.URL, n, 20*time.Second)
	// Drain a little longer: a duplicate would arrive after the last new one.
	for id, c := range receiveAll(t, q.URL, n+1, 2*time.Second) {
		got[id] += c
	}
	if len(got) != n {
		t.Fatalf("received %d distinct events, want %d", len(got), n)
	}
	for id, c := range got {
		if c != 1 {
			t.Fatalf("event %s published %d times", id, c)
		}
	}
}
