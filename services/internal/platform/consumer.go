package platform

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/example/ecommerce-platform/services/internal/sqsq"
)

// Handler applies one event inside tx, the transaction that also records the
// event as processed. The returned func, if any, runs after commit (cache
// invalidation, say).
type Handler func(ctx context.Context, tx pgx.Tx, ev Event) (afterCommit func(context.Context), err error)

// RegionalHandler applies one event that writes no database (it drops
// cached copies): no transaction, no processed_messages record, so it
// runs on a replica too. Running it twice must be harmless; an error
// leaves the message to be delivered again.
type RegionalHandler func(ctx context.Context, ev Event) error

// Consumer reads a service's SQS queue. A message is deleted only after its
// effect committed; a failure leaves it to reappear after the visibility
// timeout and, after the queue's maxReceiveCount, to go to the dead-letter
// queue through the redrive policy.
type Consumer struct {
	SQS      *sqsq.Client
	QueueURL string
	Pool     *pgxpool.Pool
	Handlers map[string]Handler
	// Regional are the handlers that write no database, by event type.
	Regional   map[string]RegionalHandler
	Log        *slog.Logger
	WaitSecs   int32
	Visibility int32

	processed *prometheus.CounterVec
	lag       *prometheus.HistogramVec
}

// NewConsumer builds a consumer and registers its metrics.
func NewConsumer(client *sqsq.Client, queueURL string, pool *pgxpool.Pool, handlers map[string]Handler,
	log *slog.Logger, waitSecs, visibility int32, reg prometheus.Registerer) *Consumer {
	c := &Consumer{SQS: client, QueueURL: queueURL, Pool: pool, Handlers: handlers, Log: log, WaitSecs: waitSecs, Visibility: visibility,
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "messages_processed_total", Help: "Queue messages handled, by event type and result.",
		}, []string{"type", "result"}),
		lag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "message_receive_lag_seconds", Help: "Time from an event's occurrence to its handling here, by event type.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600},
		}, []string{"type"}),
	}
	reg.MustRegister(c.processed, c.lag)
	return c
}

// Run polls until ctx ends. A batch already received is finished first, so
// stopping never abandons a half-handled message.
func (c *Consumer) Run(ctx context.Context) {
	delay := 200 * time.Millisecond
	for ctx.Err() == nil {
		msgs, err := c.SQS.Receive(ctx, sqsq.ReceiveInput{
			QueueURL: c.QueueURL, MaxMessages: 10, WaitSeconds: int(c.WaitSecs), VisibilitySeconds: int(c.Visibility),
		})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			c.Log.Warn("receive failed", "queue", c.QueueURL, "err", err, "retry_in", delay.String())
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
			delay = min(delay*2, 10*time.Second)
			continue
		}
		delay = 200 * time.Millisecond
		// A batch is handled concurrently: standard queues promise no order,
		// and every handler is idempotent and locks rows in a fixed order.
		var wg sync.WaitGroup
		for _, m := range msgs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Detached from ctx: shutdown waits for this message instead
				// of cutting its transaction short.
				hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Duration(c.Visibility)*time.Second)
				defer cancel()
				c.handle(hctx, m)
			}()
		}
		wg.Wait()
	}
}

func (c *Consumer) handle(ctx context.Context, m sqsq.Message) {
	log := c.Log.With("message_id", m.MessageID, "receive_count", m.ReceiveCount())
	ev, err := ParseMessage([]byte(m.Body))
	if err != nil {
		// Left on the queue: redrive moves it to the DLQ for a person to see.
		log.Error("undecodable message", "err", err)
		c.processed.WithLabelValues("unknown", "undecodable").Inc()
		return
	}
	log = log.With("event_id", ev.ID.String(), "event_type", ev.Type)
	if !ev.OccurredAt.IsZero() {
		c.lag.WithLabelValues(ev.Type).Observe(time.Since(ev.OccurredAt).Seconds())
	}
	// Handlers log through platform.Logger(ctx): give them this message's
	// logger rather than the process default.
	ctx = WithLogger(ctx, log)
	result, err := c.Apply(ctx, ev)
	c.processed.WithLabelValues(ev.Type, result).Inc()
	if err != nil {
		log.Warn("handling failed; the message will be redelivered", "err", err)
		return
	}
	if err := c.SQS.Delete(ctx, c.QueueURL, m.ReceiptHandle); err != nil {
		// The effect is committed; a redelivery will be seen as a duplicate.
		log.Warn("delete failed", "err", err)
	}
}

// Apply runs the event's handler once per event id. It returns "ok",
// "duplicate", "ignored" or "failed".
func (c *Consumer) Apply(ctx context.Context, ev Event) (string, error) {
	if rh, ok := c.Regional[ev.Type]; ok {
		if err := rh(ctx, ev); err != nil {
			return "failed", err
		}
		return "ok", nil
	}
	h, ok := c.Handlers[ev.Type]
	if !ok {
		return "ignored", nil // a topic may carry types this service does not need
	}
	var after func(context.Context)
	duplicate := false
	err := pgx.BeginFunc(ctx, c.Pool, func(tx pgx.Tx) (err error) {
		defer func() {
			// A handler bug must not stop the consumer: the message is
			// treated as failed and ends in the DLQ if it keeps panicking.
			if v := recover(); v != nil {
				err = fmt.Errorf("handler panic: %v", v)
			}
		}()
		tag, err := tx.Exec(ctx,
			"INSERT INTO processed_messages (event_id, event_type) VALUES ($1, $2) ON CONFLICT DO NOTHING",
			ev.ID, ev.Type)
		if err != nil {
			return fmt.Errorf("record processed: %w", err)
		}
		if tag.RowsAffected() == 0 {
			duplicate = true
			return nil
		}
		after, err = h(ctx, tx, ev)
		return err
	})
	switch {
	case err != nil:
		return "failed", err
	case duplicate:
		return "duplicate", nil
	}
	if after != nil {
		after(ctx)
	}
	return "ok", nil
}
