package platform

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pressly/goose/v3"
)

// SchemaBehind compares the database with the migrations this binary
// carries, reading only (the serving role may not write the bookkeeping).
// It returns "" when every file is applied as it is, and otherwise says
// what is missing or changed. A database ahead of the binary (a newer
// release migrated while this one still runs) is fine: migrations only
// add what older code ignores.
func SchemaBehind(ctx context.Context, pool *pgxpool.Pool, service fs.FS) (string, error) {
	var problems []string
	var haveChecksums bool
	if err := pool.QueryRow(ctx, "SELECT to_regclass('schema_checksums') IS NOT NULL").Scan(&haveChecksums); err != nil {
		return "", fmt.Errorf("schema check: %w", err)
	}
	for _, set := range []struct {
		name string
		fsys fs.FS
	}{{"platform", platformMigrations}, {"service", service}} {
		if set.fsys == nil {
			continue
		}
		files, err := fs.Glob(set.fsys, "migrations/*.sql")
		if err != nil {
			return "", fmt.Errorf("schema check %s: %w", set.name, err)
		}
		table := "schema_version_" + set.name
		var exists bool
		if err := pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", table).Scan(&exists); err != nil {
			return "", fmt.Errorf("schema check %s: %w", set.name, err)
		}
		applied := map[int64]bool{}
		if exists {
			// goose records each apply and, in older releases, each
			// rollback: the latest row of a version says where it stands.
			rows, err := pool.Query(ctx, fmt.Sprintf(
				"SELECT DISTINCT ON (version_id) version_id, is_applied FROM %s ORDER BY version_id, id DESC",
				pgx.Identifier{table}.Sanitize()))
			if err != nil {
				return "", fmt.Errorf("schema check %s: %w", set.name, err)
			}
			var v int64
			var ok bool
			if _, err := pgx.ForEachRow(rows, []any{&v, &ok}, func() error { applied[v] = ok; return nil }); err != nil {
				return "", fmt.Errorf("schema check %s: %w", set.name, err)
			}
		}
		sums := map[int64][]byte{}
		if haveChecksums {
			rows, err := pool.Query(ctx, "SELECT version, sha256 FROM schema_checksums WHERE migration_set = $1", set.name)
			if err != nil {
				return "", fmt.Errorf("schema check %s: %w", set.name, err)
			}
			var v int64
			var sum []byte
			if _, err := pgx.ForEachRow(rows, []any{&v, &sum}, func() error { sums[v] = sum; return nil }); err != nil {
				return "", fmt.Errorf("schema check %s: %w", set.name, err)
			}
		}
		var missing []string
		for _, f := range files {
			name := path.Base(f)
			version, err := goose.NumericComponent(name)
			if err != nil {
				return "", fmt.Errorf("schema check %s/%s: %w", set.name, name, err)
			}
			if !applied[version] {
				missing = append(missing, name)
				continue
			}
			raw, err := fs.ReadFile(set.fsys, f)
			if err != nil {
				return "", fmt.Errorf("schema check %s/%s: %w", set.name, name, err)
			}
			if sum := sha256.Sum256(raw); sums[version] != nil && !bytes.Equal(sums[version], sum[:]) {
				problems = append(problems, fmt.Sprintf("%s/%s differs from the file that was applied", set.name, name))
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			problems = append(problems, fmt.Sprintf("%s migrations not applied: %s", set.name, strings.Join(missing, ", ")))
		}
	}
	return strings.Join(problems, "; "), nil
}
