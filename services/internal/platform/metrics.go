package platform

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// poolCollector exports pgxpool's own statistics at scrape time: what an
// operator watches for a pool that is too small (acquire waits) or leaking
// (acquired connections that never come back).
type poolCollector struct {
	pools map[string]*pgxpool.Pool

	acquired, idle, total, max, acquires, emptyAcquires, waitSeconds, canceled *prometheus.Desc
}

func newPoolCollector(pools map[string]*pgxpool.Pool) *poolCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, []string{"pool"}, nil)
	}
	return &poolCollector{
		pools:         pools,
		acquired:      d("db_pool_acquired_conns", "Connections in use now."),
		idle:          d("db_pool_idle_conns", "Idle connections now."),
		total:         d("db_pool_total_conns", "Open connections now."),
		max:           d("db_pool_max_conns", "The pool's size limit (DB_MAX_CONNS)."),
		acquires:      d("db_pool_acquires_total", "Connections handed out."),
		emptyAcquires: d("db_pool_empty_acquires_total", "Acquires that had to wait because no connection was idle."),
		waitSeconds:   d("db_pool_acquire_wait_seconds_total", "Time spent waiting for a connection in acquires that found none idle."),
		canceled:      d("db_pool_canceled_acquires_total", "Acquires given up because their context ended."),
	}
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.acquired, c.idle, c.total, c.max, c.acquires, c.emptyAcquires, c.waitSeconds, c.canceled} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	for name, p := range c.pools {
		s := p.Stat()
		ch <- prometheus.MustNewConstMetric(c.acquired, prometheus.GaugeValue, float64(s.AcquiredConns()), name)
		ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(s.IdleConns()), name)
		ch <- prometheus.MustNewConstMetric(c.total, prometheus.GaugeValue, float64(s.TotalConns()), name)
		ch <- prometheus.MustNewConstMetric(c.max, prometheus.GaugeValue, float64(s.MaxConns()), name)
		ch <- prometheus.MustNewConstMetric(c.acquires, prometheus.CounterValue, float64(s.AcquireCount()), name)
		ch <- prometheus.MustNewConstMetric(c.emptyAcquires, prometheus.CounterValue, float64(s.EmptyAcquireCount()), name)
		ch <- prometheus.MustNewConstMetric(c.waitSeconds, prometheus.CounterValue, s.EmptyAcquireWaitTime().Seconds(), name)
		ch <- prometheus.MustNewConstMetric(c.canceled, prometheus.CounterValue, float64(s.CanceledAcquireCount()), name)
	}
}

// outboxCollector reports the relay's backlog at scrape time: how many
// events wait and how old the oldest is. A growing age is the alert: events
// are committed but not reaching the broker. The query uses the partial
// index on pending rows, so it stays cheap however large the table is.
type outboxCollector struct {
	pool            *pgxpool.Pool
	pending, oldest *prometheus.Desc
}

func newOutboxCollector(pool *pgxpool.Pool) *outboxCollector {
	return &outboxCollector{
		pool:    pool,
		pending: prometheus.NewDesc("outbox_pending_events", "Committed events not yet published.", nil, nil),
		oldest:  prometheus.NewDesc("outbox_oldest_pending_age_seconds", "Age of the oldest unpublished event; 0 when none waits.", nil, nil),
	}
}

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.pending; ch <- c.oldest }

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var n int64
	var age float64
	err := c.pool.QueryRow(ctx, `SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8
		FROM outbox WHERE published_at IS NULL`).Scan(&n, &age)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.pending, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age)
}
