package platform

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// AppRole is the login role a service serves with: read and write on its
// own tables and sequences, read-only on the migration bookkeeping, and
// nothing else (no CREATE anywhere, no DDL, no other database).
//
// A ReadOnly role gets SELECT and nothing else: the regions other than
// the master serve reads from their replicas with it, so no credential
// outside the master region can write, whatever path it finds.
type AppRole struct {
	Name     string
	Password string
	ReadOnly bool
}

// bookkeeping are the tables the serving role may only read: the
// migrations' record, which the schema check at start compares with the
// binary's files. A serving process that could write them could hide a
// schema it does not match.
func bookkeeping(table string) bool {
	return table == "schema_checksums" || strings.HasPrefix(table, "schema_version_")
}

// scramVerifier computes the SCRAM-SHA-256 verifier PostgreSQL stores for
// a password (RFC 7677; the format of PostgreSQL's scram_build_secret).
// Sending the verifier rather than the password keeps the password out of
// the server's statement log (RDS logs DDL when log_statement is ddl). The
// standard library has every primitive; no maintained module exports this.
func scramVerifier(password string) (string, error) {
	const iterations = 4096 // PostgreSQL's scram_iterations default
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return "", err
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	stored := sha256.Sum256(mac(salted, "Client Key"))
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", iterations, b64(salt), b64(stored[:]), b64(mac(salted, "Server Key"))), nil
}

// grantAppRole creates or updates the login role and grants it exactly
// what serving needs in the current database, then checks that it has
// nothing more. It runs in one transaction, as the schema owner, under the
// migration lock, so two runs at once apply it one after the other.
func grantAppRole(ctx context.Context, conn *pgx.Conn, role AppRole) error {
	verifier, err := scramVerifier(role.Password)
	if err != nil {
		return fmt.Errorf("role %s: %w", role.Name, err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("role %s: %w", role.Name, err)
	}
	defer func() { _ = tx.Rollback(ctx) }()

	var owner, db, schema string
	var ownerIsSuper bool
	if err := tx.QueryRow(ctx, `SELECT current_user, current_database(), current_schema(), rolsuper
		FROM pg_roles WHERE rolname = current_user`).Scan(&owner, &db, &schema, &ownerIsSuper); err != nil {
		return fmt.Errorf("role %s: %w", role.Name, err)
	}
	ident := func(s string) string { return pgx.Identifier{s}.Sanitize() }
	r, d, s, o := ident(role.Name), ident(db), ident(schema), ident(owner)
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", role.Name).Scan(&exists); err != nil {
		return fmt.Errorf("role %s: %w", role.Name, err)
	}
	// The verifier is base64 and '$', ':' only, so it needs no escaping.
	// Only LOGIN and the password are stated: the other attributes default
	// to off, and a non-superuser (RDS's master user) may not even name
	// SUPERUSER, REPLICATION or BYPASSRLS; the check below refuses a role
	// that has any of them.
	stmt := fmt.Sprintf("CREATE ROLE %s WITH LOGIN PASSWORD '%s'", r, verifier)
	if exists {
		stmt = fmt.Sprintf("ALTER ROLE %s WITH LOGIN NOCREATEDB NOCREATEROLE PASSWORD '%s'", r, verifier)
	}
	if _, err := tx.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("role %s: set login and password: %w", role.Name, err)
	}

	// Tables of the schema, bookkeeping apart.
	rows, err := tx.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY 1`, schema)
	if err != nil {
		return fmt.Errorf("role %s: list tables: %w", role.Name, err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("role %s: list tables: %w", role.Name, err)
	}
	tablePrivs, seqPrivs := "SELECT, INSERT, UPDATE, DELETE", "USAGE, SELECT"
	if role.ReadOnly {
		tablePrivs, seqPrivs = "SELECT", "SELECT"
	}
	stmts := []string{
		// Nobody but the owner and the roles granted below may connect or
		// make temporary tables (PostgreSQL grants both to PUBLIC).
		fmt.Sprintf("REVOKE ALL ON DATABASE %s FROM PUBLIC", d),
		fmt.Sprintf("REVOKE ALL ON DATABASE %s FROM %s", d, r),
		fmt.Sprintf("GRANT CONNECT ON DATABASE %s TO %s", d, r),
		// PostgreSQL 14 and older let PUBLIC create in the public schema.
		fmt.Sprintf("REVOKE CREATE ON SCHEMA %s FROM PUBLIC", s),
		fmt.Sprintf("REVOKE ALL ON SCHEMA %s FROM %s", s, r),
		fmt.Sprintf("GRANT USAGE ON SCHEMA %s TO %s", s, r),
		// Converge: whatever was granted before is replaced by exactly
		// read and write.
		fmt.Sprintf("REVOKE ALL ON ALL TABLES IN SCHEMA %s FROM %s", s, r),
		fmt.Sprintf("REVOKE ALL ON ALL SEQUENCES IN SCHEMA %s FROM %s", s, r),
		fmt.Sprintf("GRANT %s ON ALL SEQUENCES IN SCHEMA %s TO %s", seqPrivs, s, r),
		// Tables a later migration creates are covered before this step
		// runs again: default privileges for what the owner creates here.
		fmt.Sprintf("ALTER DEFAULT PRIVILEGES FOR ROLE %s IN SCHEMA %s REVOKE ALL ON TABLES FROM %s", o, s, r),
		fmt.Sprintf("ALTER DEFAULT PRIVILEGES FOR ROLE %s IN SCHEMA %s REVOKE ALL ON SEQUENCES FROM %s", o, s, r),
		fmt.Sprintf("ALTER DEFAULT PRIVILEGES FOR ROLE %s IN SCHEMA %s GRANT %s ON TABLES TO %s", o, s, tablePrivs, r),
		fmt.Sprintf("ALTER DEFAULT PRIVILEGES FOR ROLE %s IN SCHEMA %s GRANT %s ON SEQUENCES TO %s", o, s, seqPrivs, r),
	}
	for _, t := range tables {
		privs := tablePrivs
		if bookkeeping(t) {
			privs = "SELECT"
		}
		stmts = append(stmts, fmt.Sprintf("GRANT %s ON TABLE %s.%s TO %s", privs, s, ident(t), r))
	}
	if !ownerIsSuper {
		// RDS's master user owns the instance's maintenance databases
		// (postgres, template1), which PostgreSQL opens to PUBLIC: close
		// them so the role reaches no other database. A superuser owner is
		// a local cluster shared with other work, whose databases are not
		// this migration's to change.
		rows, err := tx.Query(ctx, `SELECT datname FROM pg_database
			WHERE datname <> current_database() AND datallowconn AND datdba = (SELECT oid FROM pg_roles WHERE rolname = current_user)
			ORDER BY 1`)
		if err != nil {
			return fmt.Errorf("role %s: list databases: %w", role.Name, err)
		}
		others, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("role %s: list databases: %w", role.Name, err)
		}
		for _, other := range others {
			stmts = append(stmts, fmt.Sprintf("REVOKE CONNECT, TEMPORARY ON DATABASE %s FROM PUBLIC", ident(other)))
		}
	}
	for _, st := range stmts {
		if _, err := tx.Exec(ctx, st); err != nil {
			return fmt.Errorf("role %s: %s: %w", role.Name, st, err)
		}
	}
	if err := checkAppRole(ctx, tx, role.Name, schema, role.ReadOnly); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// checkAppRole refuses a role that can do more than serve: an attribute,
// a membership, an object it owns, or a CREATE right in this database.
func checkAppRole(ctx context.Context, tx pgx.Tx, role, schema string, readOnly bool) error {
	writes := "{}"
	if readOnly {
		writes = "{INSERT,UPDATE,DELETE}"
	}
	var problems []string
	rows, err := tx.Query(ctx, `
		SELECT 'has the attribute ' || a FROM pg_roles r,
			LATERAL (VALUES ('SUPERUSER', r.rolsuper), ('CREATEROLE', r.rolcreaterole), ('CREATEDB', r.rolcreatedb),
				('REPLICATION', r.rolreplication), ('BYPASSRLS', r.rolbypassrls)) AS v(a, set)
			WHERE r.rolname = $1 AND v.set
		UNION ALL
		SELECT 'is a member of ' || g.rolname FROM pg_auth_members m
			JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1
		UNION ALL
		SELECT 'owns ' || c.relname FROM pg_class c JOIN pg_roles u ON u.oid = c.relowner WHERE u.rolname = $1
		UNION ALL
		SELECT 'owns schema ' || n.nspname FROM pg_namespace n JOIN pg_roles u ON u.oid = n.nspowner WHERE u.rolname = $1
		UNION ALL
		SELECT 'may ' || p || ' in database ' || current_database()
			FROM unnest(ARRAY['CREATE', 'TEMPORARY']) p WHERE has_database_privilege($1, current_database(), p)
		UNION ALL
		SELECT 'may CREATE in schema ' || n.nspname FROM pg_namespace n
			WHERE n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema' AND has_schema_privilege($1, n.oid, 'CREATE')
		UNION ALL
		SELECT 'may ' || p || ' on ' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
			unnest(ARRAY['TRUNCATE', 'REFERENCES', 'TRIGGER'] || $3::text[]) p
			WHERE n.nspname = $2 AND c.relkind IN ('r', 'p') AND has_table_privilege($1, c.oid, p)`, role, schema, writes)
	if err != nil {
		return fmt.Errorf("role %s: check: %w", role, err)
	}
	if problems, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return fmt.Errorf("role %s: check: %w", role, err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("role %s can do more than serve the service (%s); remove that as a superuser, then run migrate again",
			role, strings.Join(problems, "; "))
	}
	return nil
}
