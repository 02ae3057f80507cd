package order

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/example/ecommerce-platform/services/internal/config"
	"github.com/example/ecommerce-platform/services/internal/platform"
)

// ReasonNotConfirmed is the cancel reason of an order the reconciler gave
// up on: no answer from product within ORDER_CANCEL_AFTER.
const ReasonNotConfirmed = "not_confirmed"

// reconcileBatch bounds one round's work; the next round continues.
const reconcileBatch = 100

type lifecycleMetrics struct {
	finished *prometheus.CounterVec
	actions  *prometheus.CounterVec
}

func newLifecycleMetrics(d *platform.Deps) *lifecycleMetrics {
	m := &lifecycleMetrics{
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orders_state_changes_total", Help: "Orders entering a state (placed, confirmed, cancelled), by cancel reason.",
		}, []string{"state", "reason"}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orders_stuck_actions_total", Help: "Stuck orders the reconciler re-drove (order.placed sent again) or cancelled.",
		}, []string{"action"}),
	}
	d.Registry.MustRegister(m.finished, m.actions, &stuckCollector{pool: d.Write, after: d.Config.OrderRedriveAfter,
		placed: prometheus.NewDesc("orders_placed", "Orders waiting for product's answer (status placed).", nil, nil),
		stuck:  prometheus.NewDesc("orders_stuck", "Orders still placed after ORDER_REDRIVE_AFTER: the alert for a lost event path.", nil, nil),
	})
	return m
}

// stuckCollector counts placed orders at scrape time, through the partial
// index on placed orders.
type stuckCollector struct {
	pool          *pgxpool.Pool
	after         time.Duration
	placed, stuck *prometheus.Desc
}

func (c *stuckCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.placed; ch <- c.stuck }

func (c *stuckCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var placed, stuck int64
	if err := c.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE created_at < now() - $1::interval)
		FROM orders WHERE status = 'placed'`, c.after).Scan(&placed, &stuck); err != nil {
		ch <- prometheus.NewInvalidMetric(c.stuck, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.placed, prometheus.GaugeValue, float64(placed))
	ch <- prometheus.MustNewConstMetric(c.stuck, prometheus.GaugeValue, float64(stuck))
}

// reconcile makes sure every order ends. An order.placed can be lost (a
// dead-lettered message, a subscription deleted by mistake) and so can
// product's answer. Every ORDER_RECONCILE_INTERVAL, an order placed longer
// than ORDER_REDRIVE_AFTER ago (and not re-driven within that time) gets its
// order.placed published again; product reserves once per order and answers
// a repeat with the outcome it recorded. An order still placed after
// ORDER_CANCEL_AFTER is cancelled with reason not_confirmed and
// order.cancelled is published, so product gives back any stock it took.
// Replicas share the work through SKIP LOCKED.
func (s *service) reconcile(ctx context.Context) {
	for {
		if _, _, err := s.ReconcileOnce(ctx); err != nil && ctx.Err() == nil {
			s.d.Log.Warn("order reconciliation failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.d.Config.OrderReconcileInterval):
		}
	}
}

// ReconcileOnce runs one round and tells how many orders it re-drove and
// cancelled.
func (s *service) ReconcileOnce(ctx context.Context) (redriven, cancelled int, err error) {
	cfg := s.d.Config
	err = pgx.BeginFunc(ctx, s.d.Write, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM orders WHERE status = 'placed' AND created_at < now() - $1::interval
			ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED`, cfg.OrderCancelAfter, reconcileBatch)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := s.transition(ctx, tx, id, "cancelled", ReasonNotConfirmed); err != nil {
				return err
			}
			if _, err := platform.Enqueue(ctx, tx, config.Order, platform.OrderCancelled,
				map[string]any{"order_id": id, "reason": ReasonNotConfirmed}); err != nil {
				return err
			}
			s.d.Log.Warn("order cancelled: no answer from product", "order_id", id.String(), "after", cfg.OrderCancelAfter.String())
		}
		cancelled = len(ids)
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("cancel stuck orders: %w", err)
	}
	s.lifecycle.actions.WithLabelValues("cancelled").Add(float64(cancelled))

	err = pgx.BeginFunc(ctx, s.d.Write, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, user_id, total_cents, currency FROM orders
			WHERE status = 'placed' AND created_at < now() - $1::interval
			  AND (redriven_at IS NULL OR redriven_at < now() - $1::interval)
			ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED`, cfg.OrderRedriveAfter, reconcileBatch)
		if err != nil {
			return err
		}
		stuck, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*Order, error) {
			var o Order
			err := row.Scan(&o.ID, &o.UserID, &o.TotalCents, &o.Currency)
			return &o, err
		})
		if err != nil || len(stuck) == 0 {
			return err
		}
		byID := map[uuid.UUID]*Order{}
		ids := make([]uuid.UUID, len(stuck))
		for i, o := range stuck {
			byID[o.ID], ids[i] = o, o.ID
		}
		rows, err = tx.Query(ctx, `SELECT order_id, product_id, quantity, unit_price_cents FROM order_items
			WHERE order_id = ANY($1) ORDER BY order_id, product_id`, ids)
		if err != nil {
			return err
		}
		var oid uuid.UUID
		var it OrderItem
		if _, err := pgx.ForEachRow(rows, []any{&oid, &it.ProductID, &it.Quantity, &it.UnitPriceCents}, func() error {
			byID[oid].Items = append(byID[oid].Items, it)
			return nil
		}); err != nil {
			return err
		}
		for _, o := range stuck {
			if _, err := platform.Enqueue(ctx, tx, config.Order, platform.OrderPlaced, placedEvent(o)); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, "UPDATE orders SET redrive_count = redrive_count + 1, redriven_at = now() WHERE id = ANY($1)", ids); err != nil {
			return err
		}
		s.d.Log.Warn("stuck orders re-driven", "count", len(ids), "after", cfg.OrderRedriveAfter.String())
		redriven = len(ids)
		return nil
	})
	if err != nil {
		return 0, cancelled, fmt.Errorf("re-drive stuck orders: %w", err)
	}
	s.lifecycle.actions.WithLabelValues("redriven").Add(float64(redriven))
	return redriven, cancelled, nil
}

// placedEvent is the data of order.placed.
func placedEvent(o *Order) map[string]any {
	return map[string]any{"order_id": o.ID, "user_id": o.UserID, "items": o.Items, "total_cents": o.TotalCents, "currency": o.Currency}
}
