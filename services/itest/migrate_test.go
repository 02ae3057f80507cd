package itest

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/example/ecommerce-platform/services/internal/platform"
)

// scramMatches reports whether a SCRAM-SHA-256 verifier, as PostgreSQL
// stores it, was made from password.
func scramMatches(t testing.TB, verifier, password string) bool {
	t.Helper()
	var iter int
	var salt, stored string
	head, rest, ok := strings.Cut(verifier, "$")
	if !ok || head != "SCRAM-SHA-256" {
		t.Fatalf("not a SCRAM verifier: %q", verifier)
	}
	parts := strings.FieldsFunc(rest, func(r rune) bool { return r == ':' || r == '$' })
	if len(parts) != 4 {
		t.Fatalf("not a SCRAM verifier: %q", verifier)
	}
	iter, _ = strconv.Atoi(parts[0])
	salt, stored = parts[1], parts[2]
	rawSalt, _ := base64.StdEncoding.DecodeString(salt)
	salted, err := pbkdf2.Key(sha256.New, password, rawSalt, iter, sha256.Size)
	if err != nil {
		t.Fatal(err)
	}
	h := hmac.New(sha256.New, salted)
	h.Write([]byte("Client Key"))
	sum := sha256.Sum256(h.Sum(nil))
	return base64.StdEncoding.EncodeToString(sum[:]) == stored
}

// roleURL is ownerURL logging in as role.
func roleURL(ownerURL, role, password string) string {
	u, _ := url.Parse(ownerURL)
	u.User = url.UserPassword(role, password)
	return u.String()
}

// privilegeState is everything migrate decides, as the owner sees it: the
// role's attributes, every ACL of the database, its schemas, tables,
// sequences and default privileges, and the migrations applied.
func privilegeState(t testing.TB, ownerURL, role string) string {
	t.Helper()
	return scalar[string](t, ownerURL, `SELECT concat_ws(E'\n',
		(SELECT row(rolsuper, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls, rolconnlimit, rolvaliduntil)::text FROM pg_roles WHERE rolname = $1),
		(SELECT datacl::text FROM pg_database WHERE datname = current_database()),
		(SELECT string_agg(nspname || coalesce(nspacl::text, ''), ',' ORDER BY nspname) FROM pg_namespace),
		(SELECT string_agg(relname || coalesce(relacl::text, ''), ',' ORDER BY relname) FROM pg_class WHERE relkind IN ('r', 'S')),
		(SELECT string_agg(defaclobjtype::text || defaclacl::text, ',' ORDER BY defaclobjtype) FROM pg_default_acl),
		(SELECT string_agg(version_id::text, ',' ORDER BY id) FROM schema_version_platform),
		(SELECT string_agg(version_id::text, ',' ORDER BY id) FROM schema_version_service),
		(SELECT string_agg(migration_set || version || encode(sha256, 'hex') || applied_at, ',' ORDER BY 1) FROM schema_checksums))`, role)
}

func verifierOf(t testing.TB, ownerURL, role string) string {
	return scalar[string](t, ownerURL, "SELECT rolpassword FROM pg_authid WHERE rolname = $1", role)
}

// sqlState is the SQLSTATE of err, or "" when it has none.
func sqlState(err error) string {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code
	}
	return ""
}

// TestMigrateCreatesTheServingRole: `migrate` leaves a login role that can
// read and write every table of its service (the tables the hardening work
// added included) and do nothing else; running it again changes nothing;
// a new password replaces the old; later tables are covered.
func TestMigrateCreatesTheServingRole(t *testing.T) {
	ctx := context.Background()
	for _, svc := range []string{"auth", "user", "product", "order"} {
		t.Run(svc, func(t *testing.T) {
			owner := newDatabase(t, svc)
			u, _ := url.Parse(owner)
			role := appRoleOf(strings.TrimPrefix(u.Path, "/"))
			password := "first-" + uuid.NewString()
			if err := platform.MigrateAndGrant(ctx, openPool(t, owner), migrations[svc], platform.AppRole{Name: role, Password: password}); err != nil {
				t.Fatal(err)
			}
			if !scramMatches(t, verifierOf(t, owner, role), password) {
				t.Fatal("the role's stored verifier is not the password's")
			}

			// Every table: read and write for the service's own, read
			// only for the migrations' bookkeeping.
			type grant struct {
				table              string
				sel, ins, upd, del bool
			}
			rows, err := openPool(t, owner).Query(ctx, `SELECT c.relname,
				has_table_privilege($1, c.oid, 'SELECT'), has_table_privilege($1, c.oid, 'INSERT'),
				has_table_privilege($1, c.oid, 'UPDATE'), has_table_privilege($1, c.oid, 'DELETE')
				FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
				WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1`, role)
			if err != nil {
				t.Fatal(err)
			}
			grants, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (grant, error) {
				var g grant
				return g, r.Scan(&g.table, &g.sel, &g.ins, &g.upd, &g.del)
			})
			if err != nil {
				t.Fatal(err)
			}
			var tables []string
			for _, g := range grants {
				tables = append(tables, g.table)
				bookkeeping := g.table == "schema_checksums" || strings.HasPrefix(g.table, "schema_version_")
				if !g.sel || g.ins == bookkeeping || g.upd == bookkeeping || g.del == bookkeeping {
					t.Errorf("%s: select %v insert %v update %v delete %v (bookkeeping %v)", g.table, g.sel, g.ins, g.upd, g.del, bookkeeping)
				}
			}
			want := map[string][]string{
				"auth":    {"role_grants", "role_audit", "users", "refresh_tokens"},
				"product": {"products", "stock_adjustments", "stock_reservations"},
				"order":   {"orders", "order_items"},
				"user":    {"profiles"},
			}[svc]
			for _, w := range append(want, "outbox", "processed_messages", "schema_checksums", "schema_version_platform", "schema_version_service") {
				if !slices.Contains(tables, w) {
					t.Errorf("no table %s among %v", w, tables)
				}
			}
			if n := scalar[int64](t, owner, `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
				WHERE n.nspname = 'public' AND c.relkind = 'S'
				AND NOT CASE WHEN c.relkind = 'S' THEN has_sequence_privilege($1, c.oid, 'USAGE') END`, role); n != 0 {
				t.Errorf("%d sequences the role cannot use", n)
			}

			// As the role: DDL, temporary tables, and writes to the
			// bookkeeping are refused.
			conn, err := pgx.Connect(ctx, roleURL(owner, role, password))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			table := want[0]
			for _, stmt := range []string{
				"CREATE TABLE intruder (id int)",
				"CREATE TEMPORARY TABLE intruder (id int)",
				"CREATE SCHEMA intruder",
				"CREATE FUNCTION intruder() RETURNS int LANGUAGE sql AS 'SELECT 1'",
				"CREATE INDEX intruder ON " + table + " ((1))",
				"ALTER TABLE " + table + " ADD COLUMN intruder int",
				"DROP TABLE " + table,
				"TRUNCATE " + table,
				"INSERT INTO schema_version_service (version_id, is_applied) VALUES (999, true)",
				"DELETE FROM schema_checksums",
				"CREATE VIEW intruder AS SELECT 1",
			} {
				if _, err := conn.Exec(ctx, stmt); sqlState(err) != "42501" {
					t.Errorf("%s as the role: want permission denied (42501), got %v", stmt, err)
				}
			}
			if _, err := conn.Exec(ctx, "SELECT count(*) FROM "+table); err != nil {
				t.Errorf("the role cannot read %s: %v", table, err)
			}

			// Again, same password: nothing changes but the salt.
			before := privilegeState(t, owner, role)
			if err := platform.MigrateAndGrant(ctx, openPool(t, owner), migrations[svc], platform.AppRole{Name: role, Password: password}); err != nil {
				t.Fatal(err)
			}
			if after := privilegeState(t, owner, role); after != before {
				t.Errorf("a second migrate changed the database:\nbefore %s\nafter  %s", before, after)
			}
			if !scramMatches(t, verifierOf(t, owner, role), password) {
				t.Error("after a second migrate the password no longer matches")
			}

			// A new password rotates it.
			rotated := "second-" + uuid.NewString()
			if err := platform.MigrateAndGrant(ctx, openPool(t, owner), migrations[svc], platform.AppRole{Name: role, Password: rotated}); err != nil {
				t.Fatal(err)
			}
			if v := verifierOf(t, owner, role); !scramMatches(t, v, rotated) || scramMatches(t, v, password) {
				t.Error("the new APP_DB_PASSWORD did not replace the old one")
			}

			// A table a later migration creates is covered at once.
			if _, err := openPool(t, owner).Exec(ctx, "CREATE TABLE later (id bigserial PRIMARY KEY)"); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Exec(ctx, "INSERT INTO later DEFAULT VALUES"); err != nil {
				t.Errorf("the role cannot write a table created after migrate: %v", err)
			}
		})
	}
}

// TestMigrateRefusesAnOverprivilegedRole: a role that already holds more
// (here a membership that reads every table of the cluster) is refused,
// named, and nothing is committed for it.
func TestMigrateRefusesAnOverprivilegedRole(t *testing.T) {
	owner := newDatabase(t, "overpriv")
	u, _ := url.Parse(owner)
	role := appRoleOf(strings.TrimPrefix(u.Path, "/"))
	admin := openPool(t, adminDBURL)
	if _, err := admin.Exec(context.Background(), "CREATE ROLE "+role+" LOGIN CREATEDB IN ROLE pg_read_all_data"); err != nil {
		t.Fatal(err)
	}
	err := platform.MigrateAndGrant(context.Background(), openPool(t, owner), migrations["user"], platform.AppRole{Name: role, Password: "pw-" + uuid.NewString()})
	if err == nil || !strings.Contains(err.Error(), "is a member of pg_read_all_data") {
		t.Fatalf("want a refusal naming the membership, got %v", err)
	}
	// CREATEDB it may remove itself; it did not, as the transaction was
	// refused as a whole.
	if !scalar[bool](t, owner, "SELECT rolcreatedb FROM pg_roles WHERE rolname = $1", role) {
		t.Error("a refused migrate committed part of its changes")
	}
}

// TestConcurrentMigrateRuns: two migration jobs at once (a retried job
// beside a slow one) both succeed and leave one role, granted once.
func TestConcurrentMigrateRuns(t *testing.T) {
	owner := newDatabase(t, "concmig")
	u, _ := url.Parse(owner)
	role := appRoleOf(strings.TrimPrefix(u.Path, "/"))
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for i := range 3 {
		wg.Go(func() {
			errs <- platform.MigrateAndGrant(context.Background(), openPool(t, owner), migrations["order"],
				platform.AppRole{Name: role, Password: fmt.Sprintf("concurrent-password-%d", i)})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := scalar[int64](t, owner, "SELECT count(*) FROM schema_version_service WHERE version_id > 0"); n != 2 {
		t.Errorf("%d order migrations recorded, want 2", n)
	}
}

// TestServingWaitsForMigrations: a service whose database lacks some of
// its migrations starts, but is not ready and starts no background work,
// until the migration job has run; then it becomes ready by itself.
func TestServingWaitsForMigrations(t *testing.T) {
	owner := newDatabase(t, "behind")
	u, _ := url.Parse(owner)
	role := appRoleOf(strings.TrimPrefix(u.Path, "/"))
	password := "pw-" + uuid.NewString()
	// The previous release: product's first migration only.
	first, err := fs.ReadFile(migrations["product"], "migrations/0001_products.sql")
	if err != nil {
		t.Fatal(err)
	}
	previous := fstest.MapFS{"migrations/0001_products.sql": {Data: first}}
	if err := platform.MigrateAndGrant(context.Background(), openPool(t, owner), previous, platform.AppRole{Name: role, Password: password}); err != nil {
		t.Fatal(err)
	}
	queue := newQueue(t, "behind", 2, 3)
	p := startService(t, "product", map[string]string{
		"DATABASE_URL": roleURL(owner, role, password), "REDIS_URL": redisURL, "QUEUE_URL": queue.URL,
		"TOPIC_ARN": newTopic(t, "behind"), "AUTH_JWKS_URL": "http://127.0.0.1:1/jwks",
	})
	r := call(t, "GET", p.URL+"/readyz", "", nil)
	if r.Status != http.StatusServiceUnavailable || !strings.Contains(string(r.Body), "0002_versions_and_releases.sql") {
		t.Fatalf("readiness with the schema behind: %d %s", r.Status, r.Body)
	}
	// An event waiting in the outbox (whose table the platform's
	// migrations made) stays there: the relay has not started.
	if _, err := openPool(t, owner).Exec(context.Background(),
		`INSERT INTO outbox (event_id, event_type, payload) VALUES (gen_random_uuid(), 'product.updated', '{}')`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2*platform.SchemaPollInterval + 500*time.Millisecond) // the relay polls every 50ms here
	if n := scalar[int64](t, owner, "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL"); n != 0 {
		t.Fatal("the outbox relay published while the schema was behind")
	}
	if err := platform.MigrateAndGrant(context.Background(), openPool(t, owner), migrations["product"], platform.AppRole{Name: role, Password: password}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "ready once migrated", func() bool {
		r, err := tryCall("GET", p.URL+"/readyz", "", nil)
		return err == nil && r.Status == http.StatusOK
	})
	if c := call(t, "GET", p.URL+"/readyz", "", nil).json(t)["checks"].(map[string]any); c["schema"] != "ok" {
		t.Errorf("readiness checks once migrated: %v", c)
	}
	eventually(t, 10*time.Second, "the relay publishing once migrated", func() bool {
		return scalar[int64](t, owner, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
	})
	if !strings.Contains(p.Logs.String(), "the database schema is current; starting") {
		t.Error("no log line says the service started its work")
	}
}

// TestMigrateOnStartNeedsTheOwner: MIGRATE_ON_START with the serving
// role's credentials fails, saying what it needs.
func TestMigrateOnStartNeedsTheOwner(t *testing.T) {
	fresh := newDatabase(t, "onstart")
	u, _ := url.Parse(fresh)
	role := appRoleOf(strings.TrimPrefix(u.Path, "/"))
	// A login role with no more than PUBLIC's rights, as a serving role
	// has on a database nobody migrated.
	if _, err := openPool(t, adminDBURL).Exec(context.Background(), "CREATE ROLE "+role+" LOGIN"); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	vars := map[string]string{"SERVICE_NAME": "user", "HTTP_ADDR": "127.0.0.1:0", "DATABASE_URL": roleURL(fresh, role, "unused-password"),
		"MIGRATE_ON_START": "true", "QUEUE_URL": "http://127.0.0.1:1/q", "AUTH_JWKS_URL": "http://127.0.0.1:1/jwks", "AWS_REGION": awsRegion}
	err := platform.Run(context.Background(), "user", nil, func(k string) string { return vars[k] }, logs, migrations["user"], builders["user"])
	if err == nil || !strings.Contains(err.Error(), "MIGRATE_ON_START (DATABASE_URL must be the schema owner)") || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("want a start-up error naming MIGRATE_ON_START, got %v\n%s", err, logs.String())
	}
}
