package platform

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// PruneTask deletes rows that are no longer needed. Where selects the rows
// to delete with $1 as the cutoff time (rows older than now - Retention);
// it must be served by an index so each batch stays small.
type PruneTask struct {
	Table     string
	Where     string
	Retention time.Duration
}

// Pruner deletes old rows on a schedule, in batches of BatchSize with at
// most MaxBatches per task per round, so one round has a bounded cost
// however far behind it is; the next round continues where it stopped.
type Pruner struct {
	Pool       *pgxpool.Pool
	Tasks      []PruneTask
	Interval   time.Duration
	BatchSize  int
	MaxBatches int
	Log        *slog.Logger

	deleted *prometheus.CounterVec
}

// NewPruner builds a pruner and registers its metric.
func NewPruner(pool *pgxpool.Pool, tasks []PruneTask, interval time.Duration, log *slog.Logger, reg prometheus.Registerer) *Pruner {
	p := &Pruner{Pool: pool, Tasks: tasks, Interval: interval, BatchSize: 1000, MaxBatches: 50, Log: log,
		deleted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pruned_rows_total", Help: "Rows deleted by the retention pruner, by table.",
		}, []string{"table"}),
	}
	reg.MustRegister(p.deleted)
	return p
}

// Run prunes once at start and then every Interval until ctx ends.
func (p *Pruner) Run(ctx context.Context) {
	for {
		if _, err := p.Prune(ctx); err != nil && ctx.Err() == nil {
			p.Log.Warn("prune round failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(p.Interval):
		}
	}
}

// Prune runs one round and returns the rows deleted per table.
func (p *Pruner) Prune(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	for _, t := range p.Tasks {
		cutoff := time.Now().Add(-t.Retention)
		// ctid batches: PostgreSQL's DELETE has no LIMIT.
		q := fmt.Sprintf("DELETE FROM %s WHERE ctid IN (SELECT ctid FROM %s WHERE %s LIMIT %d)", t.Table, t.Table, t.Where, p.BatchSize)
		for range p.MaxBatches {
			tag, err := p.Pool.Exec(ctx, q, cutoff)
			if err != nil {
				return out, fmt.Errorf("prune %s: %w", t.Table, err)
			}
			n := tag.RowsAffected()
			out[t.Table] += n
			p.deleted.WithLabelValues(t.Table).Add(float64(n))
			if n < int64(p.BatchSize) {
				break
			}
		}
	}
	return out, nil
}

// platformPruneTasks are the tables every service has: handled event ids
// (kept longer than SQS keeps a message, so any redelivery is still
// recognised as a duplicate) and published outbox rows.
func platformPruneTasks(processedRetention time.Duration) []PruneTask {
	return []PruneTask{
		{Table: "processed_messages", Where: "processed_at < $1", Retention: processedRetention},
		{Table: "outbox", Where: "published_at < $1", Retention: 7 * 24 * time.Hour},
	}
}
