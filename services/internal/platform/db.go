package platform

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var platformMigrations embed.FS

// OpenPool connects a pgx pool and waits, within ctx, until the server
// answers, so a service that starts before its database does not crash-loop.
func OpenPool(ctx context.Context, log *slog.Logger, url string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	cfg.MaxConns = maxConns
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.HealthCheckPeriod = 15 * time.Second
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create pool: %w", err)
	}
	delay := 200 * time.Millisecond
	for {
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		err = pool.Ping(pctx)
		cancel()
		if err == nil {
			return pool, nil
		}
		log.Warn("database not ready", "host", cfg.ConnConfig.Host, "err", err)
		select {
		case <-ctx.Done():
			pool.Close()
			return nil, fmt.Errorf("database at %s: %w", cfg.ConnConfig.Host, err)
		case <-time.After(delay):
		}
		delay = min(delay*2, 5*time.Second)
	}
}

// Migrate applies the platform's migrations, then the service's, each file
// once and in name order, in its own transaction. An advisory lock keeps two
// replicas starting together from racing.
func Migrate(ctx context.Context, pool *pgxpool.Pool, service fs.FS) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: acquire: %w", err)
	}
	defer conn.Release()
	sum := sha256.Sum256([]byte("ecommerce-platform/migrations"))
	lockID := int64(binary.BigEndian.Uint64(sum[:8])) //nolint:gosec // any 64 bits make a lock id; wrapping is fine
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockID); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockID) }()

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	sets := []struct {
		prefix string
		fsys   fs.FS
	}{{"platform", platformMigrations}, {"service", service}}
	for _, set := range sets {
		if set.fsys == nil {
			continue
		}
		files, err := fs.Glob(set.fsys, "migrations/*.sql")
		if err != nil {
			return fmt.Errorf("migrate: list: %w", err)
		}
		sort.Strings(files)
		for _, f := range files {
			name := set.prefix + "/" + path.Base(f)
			sql, err := fs.ReadFile(set.fsys, f)
			if err != nil {
				return fmt.Errorf("migrate %s: %w", name, err)
			}
			if err := applyOnce(ctx, conn.Conn(), name, string(sql)); err != nil {
				return fmt.Errorf("migrate %s: %w", name, err)
			}
		}
	}
	return nil
}

func applyOnce(ctx context.Context, conn *pgx.Conn, name, sql string) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "INSERT INTO schema_migrations (name) VALUES ($1) ON CONFLICT DO NOTHING", name)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return nil // applied before
		}
		_, err = tx.Exec(ctx, sql)
		return err
	})
}
