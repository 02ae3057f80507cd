package product

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/example/ecommerce-platform/services/internal/platform"
)

// ReplicaCatchUpWait bounds how long productUpdated waits for this
// region's database to hold the write before it gives the message back
// (it is delivered again after the queue's visibility timeout).
var ReplicaCatchUpWait = 5 * time.Second

// productUpdated drops this region's cached copies of a product a write
// changed where the primary is. It runs in every region. The copies are
// dropped at once and again when this region's database holds the
// event's version: a read in between could have refilled the cache from
// a replica that was still behind, and the second drop ends that. Until
// the replica catches up the message is not acknowledged, so replica lag
// never leaves a stale entry for the cache TTL.
func (s *service) productUpdated(ctx context.Context, ev platform.Event) error {
	var p struct {
		ID      uuid.UUID `json:"id"`
		Version int64     `json:"version"`
	}
	if err := json.Unmarshal(ev.Data, &p); err != nil {
		return fmt.Errorf("product.updated %s: decode data: %w", ev.ID, err)
	}
	if p.ID == uuid.Nil || p.Version < 1 {
		return fmt.Errorf("product.updated %s: data has no product id and version", ev.ID)
	}
	s.cache.invalidate(ctx, p.ID)
	wait, cancel := context.WithTimeout(ctx, ReplicaCatchUpWait)
	defer cancel()
	delay := 20 * time.Millisecond
	for {
		var version int64
		err := s.d.Read.QueryRow(wait, "SELECT version FROM products WHERE id = $1", p.ID).Scan(&version)
		switch {
		case err == nil && version >= p.Version:
			s.cache.invalidate(ctx, p.ID)
			return nil
		case err != nil && !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("product.updated %s: read version: %w", ev.ID, err)
		}
		select {
		case <-wait.Done():
			return fmt.Errorf("product.updated %s: this region's database is not yet at version %d of %s", ev.ID, p.Version, p.ID)
		case <-time.After(delay):
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
}
