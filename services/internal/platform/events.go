package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Event is the envelope of every domain event on the wire.
type Event struct {
	ID         uuid.UUID       `json:"id"`
	Type       string          `json:"type"`
	Source     string          `json:"source"`
	OccurredAt time.Time       `json:"occurred_at"`
	Data       json.RawMessage `json:"data"`
}

// Event types exchanged between the services.
const (
	UserRegistered = "user.registered"
	ProductUpdated = "product.updated"
	OrderPlaced    = "order.placed"
	OrderCancelled = "order.cancelled"
	// StockReserved: product took the stock of every line; the order is
	// confirmed.
	StockReserved = "stock.reserved"
)

// Enqueue writes an event to the outbox inside tx, the transaction of the
// change it describes. The relay publishes it after commit.
func Enqueue(ctx context.Context, tx pgx.Tx, source, eventType string, data any) (uuid.UUID, error) {
	id, payload, err := NewEvent(source, eventType, data)
	if err != nil {
		return uuid.Nil, err
	}
	if _, err := tx.Exec(ctx,
		"INSERT INTO outbox (event_id, event_type, payload) VALUES ($1, $2, $3)",
		id, eventType, payload); err != nil {
		return uuid.Nil, fmt.Errorf("insert %s into outbox: %w", eventType, err)
	}
	return id, nil
}

// NewEvent builds an event's id and envelope for an outbox row that the
// caller inserts itself (as part of a larger statement, say).
func NewEvent(source, eventType string, data any) (uuid.UUID, []byte, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return uuid.Nil, nil, fmt.Errorf("encode %s event: %w", eventType, err)
	}
	ev := Event{ID: uuid.New(), Type: eventType, Source: source, OccurredAt: time.Now().UTC(), Data: raw}
	payload, err := json.Marshal(ev)
	if err != nil {
		return uuid.Nil, nil, fmt.Errorf("encode %s envelope: %w", eventType, err)
	}
	return ev.ID, payload, nil
}

// snsNotification is what SNS delivers to SQS unless raw delivery is on.
type snsNotification struct {
	Type    string `json:"Type"`
	Message string `json:"Message"`
}

// ParseMessage reads an event from an SQS body, unwrapping the SNS
// notification envelope when the subscription does not use raw delivery.
func ParseMessage(body []byte) (Event, error) {
	var n snsNotification
	if err := json.Unmarshal(body, &n); err == nil && n.Type == "Notification" && n.Message != "" {
		body = []byte(n.Message)
	}
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return Event{}, fmt.Errorf("decode event: %w", err)
	}
	switch {
	case ev.ID == uuid.Nil:
		return Event{}, errors.New("event id is missing")
	case ev.Type == "":
		return Event{}, errors.New("event type is missing")
	case len(ev.Data) == 0:
		return Event{}, errors.New("event data is missing")
	}
	return ev, nil
}
