package platform

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// Publisher sends one event payload to the broker.
type Publisher interface {
	Publish(ctx context.Context, eventType string, payload []byte) error
}

// SNSPublisher publishes to one SNS topic. The event type also goes in a
// message attribute so subscriptions can filter on it.
type SNSPublisher struct {
	Client   *sns.Client
	TopicARN string
}

// Publish implements Publisher.
func (p *SNSPublisher) Publish(ctx context.Context, eventType string, payload []byte) error {
	_, err := p.Client.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(p.TopicARN),
		Message:  aws.String(string(payload)),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"event_type": {DataType: aws.String("String"), StringValue: aws.String(eventType)},
		},
	})
	return err
}

// Relay moves committed outbox rows to the broker. Delivery is at least
// once: a crash between publish and the mark resends, which consumers absorb
// through their processed-message table.
type Relay struct {
	Pool      *pgxpool.Pool
	Publisher Publisher
	Log       *slog.Logger
	Interval  time.Duration
	BatchSize int

	published prometheus.Counter
	failures  prometheus.Counter
}

// NewRelay builds a relay and registers its metrics.
func NewRelay(pool *pgxpool.Pool, pub Publisher, log *slog.Logger, interval time.Duration, reg prometheus.Registerer) *Relay {
	r := &Relay{
		Pool: pool, Publisher: pub, Log: log, Interval: interval, BatchSize: 100,
		published: prometheus.NewCounter(prometheus.CounterOpts{Name: "outbox_published_total", Help: "Outbox events published."}),
		failures:  prometheus.NewCounter(prometheus.CounterOpts{Name: "outbox_publish_failures_total", Help: "Failed outbox relay rounds."}),
	}
	reg.MustRegister(r.published, r.failures)
	return r
}

// Run relays until ctx ends, backing off while the broker or the database
// is unreachable; rows simply wait in the table meanwhile.
func (r *Relay) Run(ctx context.Context) {
	delay := r.Interval
	for {
		n, err := r.Flush(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			r.failures.Inc()
			r.Log.Warn("outbox relay round failed", "err", err, "published", n, "retry_in", delay.String())
			delay = min(delay*2, 10*time.Second)
		case n == r.BatchSize:
			continue // more are waiting
		default:
			delay = r.Interval
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

// Flush publishes one batch of pending events in id order and marks those
// that went out. SKIP LOCKED lets several replicas relay without sending the
// same row twice at once.
func (r *Relay) Flush(ctx context.Context) (int, error) {
	tx, err := r.Pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("outbox: begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	rows, err := tx.Query(ctx, `SELECT id, event_type, payload FROM outbox
		WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, r.BatchSize)
	if err != nil {
		return 0, fmt.Errorf("outbox: select: %w", err)
	}
	type row struct {
		id      int64
		typ     string
		payload []byte
	}
	pending, err := pgx.CollectRows(rows, func(rw pgx.CollectableRow) (row, error) {
		var x row
		err := rw.Scan(&x.id, &x.typ, &x.payload)
		return x, err
	})
	if err != nil {
		return 0, fmt.Errorf("outbox: read: %w", err)
	}
	var sent []int64
	var pubErr error
	for _, p := range pending {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		pubErr = r.Publisher.Publish(pctx, p.typ, p.payload)
		cancel()
		if pubErr != nil {
			pubErr = fmt.Errorf("outbox: publish event %d (%s): %w", p.id, p.typ, pubErr)
			break // keep order: later rows wait for this one
		}
		sent = append(sent, p.id)
	}
	if len(sent) > 0 {
		if _, err := tx.Exec(ctx, "UPDATE outbox SET published_at = now() WHERE id = ANY($1)", sent); err != nil {
			return 0, fmt.Errorf("outbox: mark sent: %w", err)
		}
		if err := tx.Commit(ctx); err != nil {
			return 0, fmt.Errorf("outbox: commit: %w", err)
		}
		r.published.Add(float64(len(sent)))
	}
	return len(sent), pubErr
}
