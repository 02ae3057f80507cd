package product

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/example/ecommerce-platform/services/internal/config"
	"github.com/example/ecommerce-platform/services/internal/platform"
)

// OrderPlacedEvent is the data of order.placed.
type OrderPlacedEvent struct {
	OrderID uuid.UUID   `json:"order_id"`
	UserID  uuid.UUID   `json:"user_id"`
	Items   []orderLine `json:"items"`
}

type orderLine struct {
	ProductID uuid.UUID `json:"product_id"`
	Quantity  int32     `json:"quantity"`
}

// reserve takes stock for every line of an order, or for none, once per
// order whatever the number of order.placed events: the order service
// re-drives an order it heard nothing back about, and the first event may
// only have been slow. The outcome row is inserted first, so a second event
// for the same order waits on it and then finds it; it re-publishes that
// outcome (the first answer may be what was lost) instead of reserving
// again. If a line is short, the savepoint is rolled back and
// order.cancelled is published; otherwise stock.reserved. The conditional
// UPDATE never lets stock go below zero under concurrent reservations.
func (s *service) reserve(ctx context.Context, tx pgx.Tx, ev platform.Event) (func(context.Context), error) {
	var e OrderPlacedEvent
	if err := json.Unmarshal(ev.Data, &e); err != nil {
		return nil, fmt.Errorf("decode order.placed: %w", err)
	}
	if e.OrderID == uuid.Nil || len(e.Items) == 0 {
		return nil, errors.New("order.placed without order_id or items")
	}
	for _, it := range e.Items {
		if it.Quantity <= 0 {
			return nil, fmt.Errorf("order.placed %s: quantity %d is not positive", e.OrderID, it.Quantity)
		}
	}
	// Lock rows in a fixed order so concurrent reservations cannot deadlock.
	items := e.Items
	slices.SortFunc(items, func(a, b orderLine) int { return bytes.Compare(a.ProductID[:], b.ProductID[:]) })
	lines, err := json.Marshal(items)
	if err != nil {
		return nil, err
	}
	tag, err := tx.Exec(ctx, "INSERT INTO stock_reservations (order_id, status, items) VALUES ($1, 'reserved', $2) ON CONFLICT DO NOTHING",
		e.OrderID, lines)
	if err != nil {
		return nil, err
	}
	if tag.RowsAffected() == 0 {
		return nil, s.republish(ctx, tx, e.OrderID)
	}

	sp, err := tx.Begin(ctx)
	if err != nil {
		return nil, err
	}
	var short uuid.UUID
	var changed []Product
	for _, it := range items {
		p, err := scanProduct(sp.QueryRow(ctx, `UPDATE products SET stock = stock - $2, version = version + 1, updated_at = now()
			WHERE id = $1 AND stock >= $2 RETURNING `+columns, it.ProductID, it.Quantity))
		if errors.Is(err, pgx.ErrNoRows) {
			short = it.ProductID
			break
		}
		if err != nil {
			_ = sp.Rollback(ctx)
			return nil, err
		}
		changed = append(changed, p)
	}
	if short != uuid.Nil {
		if err := sp.Rollback(ctx); err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, "UPDATE stock_reservations SET status = 'rejected', reason = $2, updated_at = now() WHERE order_id = $1",
			e.OrderID, "insufficient stock for product "+short.String()); err != nil {
			return nil, err
		}
		_, err := platform.Enqueue(ctx, tx, config.Product, platform.OrderCancelled, map[string]any{
			"order_id": e.OrderID, "reason": "insufficient_stock", "product_id": short,
		})
		return nil, err
	}
	if err := sp.Commit(ctx); err != nil {
		return nil, err
	}
	if _, err := platform.Enqueue(ctx, tx, config.Product, platform.StockReserved, map[string]any{"order_id": e.OrderID}); err != nil {
		return nil, err
	}
	return s.published(ctx, tx, changed)
}

// republish answers a repeated order.placed with the outcome already
// recorded. A cancelled or released order needs no answer: the order
// service decided that itself.
func (s *service) republish(ctx context.Context, tx pgx.Tx, orderID uuid.UUID) error {
	var status, reason string
	if err := tx.QueryRow(ctx, "SELECT status, reason FROM stock_reservations WHERE order_id = $1", orderID).Scan(&status, &reason); err != nil {
		return err
	}
	switch status {
	case "reserved":
		_, err := platform.Enqueue(ctx, tx, config.Product, platform.StockReserved, map[string]any{"order_id": orderID})
		return err
	case "rejected":
		_, err := platform.Enqueue(ctx, tx, config.Product, platform.OrderCancelled, map[string]any{
			"order_id": orderID, "reason": "insufficient_stock",
		})
		return err
	}
	return nil
}

// release handles order.cancelled from the order service (an order given
// up by its reconciler): stock already taken for it goes back; if nothing
// was taken yet, a tombstone makes a late order.placed take nothing.
func (s *service) release(ctx context.Context, tx pgx.Tx, ev platform.Event) (func(context.Context), error) {
	if ev.Source != config.Order {
		return nil, nil // our own cancellations, seen on a shared topic
	}
	var e struct {
		OrderID uuid.UUID `json:"order_id"`
		Reason  string    `json:"reason"`
	}
	if err := json.Unmarshal(ev.Data, &e); err != nil {
		return nil, fmt.Errorf("decode order.cancelled: %w", err)
	}
	if e.OrderID == uuid.Nil {
		return nil, errors.New("order.cancelled without order_id")
	}
	tag, err := tx.Exec(ctx, "INSERT INTO stock_reservations (order_id, status, reason) VALUES ($1, 'cancelled', $2) ON CONFLICT DO NOTHING",
		e.OrderID, "order cancelled: "+e.Reason)
	if err != nil || tag.RowsAffected() == 1 {
		return nil, err
	}
	var status string
	var raw []byte
	if err := tx.QueryRow(ctx, "SELECT status, items FROM stock_reservations WHERE order_id = $1 FOR UPDATE", e.OrderID).Scan(&status, &raw); err != nil {
		return nil, err
	}
	if status != "reserved" {
		return nil, nil
	}
	var items []orderLine
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("reservation %s lines: %w", e.OrderID, err)
	}
	var changed []Product
	for _, it := range items {
		p, err := scanProduct(tx.QueryRow(ctx, `UPDATE products SET stock = stock + $2, version = version + 1, updated_at = now()
			WHERE id = $1 RETURNING `+columns, it.ProductID, it.Quantity))
		if errors.Is(err, pgx.ErrNoRows) {
			continue // the product was deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		changed = append(changed, p)
	}
	if _, err := tx.Exec(ctx, "UPDATE stock_reservations SET status = 'released', reason = $2, updated_at = now() WHERE order_id = $1",
		e.OrderID, "order cancelled: "+e.Reason); err != nil {
		return nil, err
	}
	return s.published(ctx, tx, changed)
}

// published enqueues product.updated for changed products and returns the
// cache invalidation to run after commit.
func (s *service) published(ctx context.Context, tx pgx.Tx, changed []Product) (func(context.Context), error) {
	ids := make([]uuid.UUID, 0, len(changed))
	for _, p := range changed {
		if _, err := platform.Enqueue(ctx, tx, config.Product, platform.ProductUpdated, p); err != nil {
			return nil, err
		}
		ids = append(ids, p.ID)
	}
	return func(ctx context.Context) {
		if len(ids) > 0 {
			s.cache.invalidate(ctx, ids...)
		}
	}, nil
}
