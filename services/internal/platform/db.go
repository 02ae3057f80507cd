package platform

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var platformMigrations embed.FS

// QueryTracer, when set before a service starts, traces every query of the
// pools it opens. Tests count queries per request with it.
var QueryTracer pgx.QueryTracer

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
	if QueryTracer != nil {
		cfg.ConnConfig.Tracer = QueryTracer
	}
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

// Migrate applies the platform's migrations, then the service's, with goose
// (github.com/pressly/goose/v3): versioned files, each in its own
// transaction, and a PostgreSQL advisory lock so replicas starting together
// do not race. Each set keeps its own version table. goose has no checksums,
// so Migrate adds them: the SHA-256 of every applied file is recorded, and a
// start whose embedded file differs from what was applied fails, naming the
// file, instead of silently running with a schema the code does not describe.
func Migrate(ctx context.Context, pool *pgxpool.Pool, service fs.FS) error {
	return migrate(ctx, pool, service, nil)
}

// MigrateAndGrant is Migrate followed, under the same lock, by creating or
// updating the service's login role and granting it exactly what serving
// needs (see grantAppRole), then each further role (the read-only one the
// other regions serve with). It is what `<service> migrate` runs, as the
// schema owner.
func MigrateAndGrant(ctx context.Context, pool *pgxpool.Pool, service fs.FS, role AppRole, more ...AppRole) error {
	return migrate(ctx, pool, service, append([]AppRole{role}, more...))
}

func migrate(ctx context.Context, pool *pgxpool.Pool, service fs.FS, roles []AppRole) error {
	// One lock around everything (goose's own lock, below, covers only
	// its Up): the checksum table and its rows are written under it too.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: acquire: %w", err)
	}
	defer conn.Release()
	outer := migrationLockID("ecommerce-platform/migrations")
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", outer); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", outer) }()

	db := stdlib.OpenDBFromPool(pool)
	defer func() { _ = db.Close() }() // closes only this handle, not the pool
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID("ecommerce-platform/goose")))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_checksums (
		migration_set text NOT NULL, version bigint NOT NULL, file text NOT NULL, sha256 bytea NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (migration_set, version))`); err != nil {
		return fmt.Errorf("migrate: create schema_checksums: %w", err)
	}
	sets := []struct {
		name string
		fsys fs.FS
	}{{"platform", platformMigrations}, {"service", service}}
	for _, set := range sets {
		if set.fsys == nil {
			continue
		}
		sub, err := fs.Sub(set.fsys, "migrations")
		if err != nil {
			return fmt.Errorf("migrate %s: %w", set.name, err)
		}
		store, err := database.NewStore(database.DialectPostgres, "schema_version_"+set.name)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", set.name, err)
		}
		p, err := goose.NewProvider("", db, sub, goose.WithStore(store), goose.WithSessionLocker(locker),
			goose.WithDisableGlobalRegistry(true))
		if err != nil {
			return fmt.Errorf("migrate %s: %w", set.name, err)
		}
		if _, err := p.Up(ctx); err != nil {
			return fmt.Errorf("migrate %s: %w", set.name, err)
		}
		if err := verifyChecksums(ctx, conn, set.name, sub, p.ListSources()); err != nil {
			return err
		}
	}
	for _, role := range roles {
		if err := grantAppRole(ctx, conn.Conn(), role); err != nil {
			return err
		}
	}
	return nil
}

func migrationLockID(name string) int64 {
	sum := sha256.Sum256([]byte(name))
	return int64(binary.BigEndian.Uint64(sum[:8])) //nolint:gosec // any 64 bits make a lock id; wrapping is fine
}

// verifyChecksums records the hash of each applied file the first time and
// compares it on every later start.
func verifyChecksums(ctx context.Context, pool *pgxpool.Conn, set string, fsys fs.FS, sources []*goose.Source) error {
	for _, src := range sources {
		name := path.Base(src.Path)
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return fmt.Errorf("migrate %s/%s: %w", set, name, err)
		}
		sum := sha256.Sum256(raw)
		var stored []byte
		err = pool.QueryRow(ctx, `INSERT INTO schema_checksums (migration_set, version, file, sha256) VALUES ($1, $2, $3, $4)
			ON CONFLICT (migration_set, version) DO UPDATE SET migration_set = EXCLUDED.migration_set
			RETURNING sha256`, set, src.Version, name, sum[:]).Scan(&stored)
		if err != nil {
			return fmt.Errorf("migrate %s/%s: record checksum: %w", set, name, err)
		}
		if !bytes.Equal(stored, sum[:]) {
			return fmt.Errorf("migrate %s/%s: the file was changed after it was applied (applied sha256 %x, now %x); add a new migration instead",
				set, name, stored, sum[:])
		}
	}
	return nil
}
