package auth

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/example/ecommerce-platform/services/internal/authn"
	"github.com/example/ecommerce-platform/services/internal/platform"
)

// RoleCustomer is every user's role without a grant.
const RoleCustomer = "customer"

// roles that can be granted.
var grantable = []string{authn.RoleAdmin}

// bootstrapRole is the role configuration alone gives an email.
func (s *service) bootstrapRole(email string) string {
	if slices.Contains(s.d.Config.AdminEmails, email) {
		return authn.RoleAdmin
	}
	return RoleCustomer
}

// roleOf is the user's role now: configuration's bootstrap admins, then
// the grants in the database.
func (s *service) roleOf(ctx context.Context, db dbtx, userID uuid.UUID, email string) (string, error) {
	if r := s.bootstrapRole(email); r != RoleCustomer {
		return r, nil
	}
	var admin bool
	if err := db.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM role_grants WHERE user_id = $1 AND role = $2)",
		userID, authn.RoleAdmin).Scan(&admin); err != nil {
		return "", err
	}
	if admin {
		return authn.RoleAdmin, nil
	}
	return RoleCustomer, nil
}

// requireAdmin admits a caller whose subject is still an admin now: a
// token issued before a revoke cannot manage roles. The router has already
// verified the token and its admin role (the operations' x-required-role).
func (s *service) requireAdmin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, _ := authn.FromContext(r.Context())
		if c == nil {
			platform.WriteError(w, r, platform.Unauthorized("Authorization", "no verified token"))
			return
		}
		id, err := uuid.Parse(c.Subject)
		if err != nil {
			platform.WriteError(w, r, platform.Unauthorized("Authorization", "token subject is not a user id"))
			return
		}
		role, err := s.roleOf(r.Context(), s.d.Write, id, c.Email)
		if err != nil {
			platform.WriteError(w, r, err)
			return
		}
		if role != authn.RoleAdmin {
			platform.WriteError(w, r, platform.Forbidden("the admin role was revoked"))
			return
		}
		h(w, r)
	}
}

// Grant is one role held by one user.
type Grant struct {
	UserID    uuid.UUID  `json:"user_id"`
	Email     string     `json:"email"`
	Role      string     `json:"role"`
	Source    string     `json:"source"` // "grant" or "config" (ADMIN_EMAILS)
	GrantedBy string     `json:"granted_by,omitempty"`
	GrantedAt *time.Time `json:"granted_at,omitempty"`
}

func (s *service) listRoles(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	rows, err := s.d.Write.Query(ctx, `SELECT g.user_id, u.email, g.role, g.granted_by, g.granted_at
		FROM role_grants g JOIN users u ON u.id = g.user_id ORDER BY g.granted_at, g.user_id`)
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Grant, error) {
		g := Grant{Source: "grant"}
		err := row.Scan(&g.UserID, &g.Email, &g.Role, &g.GrantedBy, &g.GrantedAt)
		return g, err
	})
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	for _, email := range s.d.Config.AdminEmails {
		g := Grant{Email: email, Role: authn.RoleAdmin, Source: "config"}
		// The bootstrap admin may not have registered yet.
		_ = s.d.Write.QueryRow(ctx, "SELECT id FROM users WHERE email = $1", email).Scan(&g.UserID)
		items = append(items, g)
	}
	if items == nil {
		items = []Grant{}
	}
	platform.WriteJSON(w, http.StatusOK, map[string]any{"items": items})
}

// target reads the role and the user (an id or an email) from the path.
func (s *service) target(r *http.Request) (role string, id uuid.UUID, email string, err error) {
	role = r.PathValue("role")
	if !slices.Contains(grantable, role) {
		return "", uuid.Nil, "", platform.Invalid("role", "must be one of %v", grantable)
	}
	user := r.PathValue("user")
	if err := platform.ValidText("user", user); err != nil {
		return "", uuid.Nil, "", err
	}
	q := "SELECT id, email FROM users WHERE email = lower($1)"
	if _, perr := uuid.Parse(user); perr == nil {
		q = "SELECT id, email FROM users WHERE id = $1::uuid"
	}
	err = s.d.Write.QueryRow(r.Context(), q, user).Scan(&id, &email)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", uuid.Nil, "", platform.NotFound("user")
	}
	return role, id, email, err
}

func actor(r *http.Request) string {
	c, _ := authn.FromContext(r.Context())
	return c.Email + " (" + c.Subject + ")"
}

func (s *service) grantRole(w http.ResponseWriter, r *http.Request) {
	role, id, email, err := s.target(r)
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	ctx := r.Context()
	g := Grant{UserID: id, Email: email, Role: role, Source: "grant"}
	err = pgx.BeginFunc(ctx, s.d.Write, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO role_grants (user_id, role, granted_by) VALUES ($1, $2, $3)
			ON CONFLICT (user_id, role) DO UPDATE SET role = EXCLUDED.role RETURNING granted_by, granted_at`,
			id, role, actor(r)).Scan(&g.GrantedBy, &g.GrantedAt)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "INSERT INTO role_audit (actor, action, user_id, role) VALUES ($1, 'grant', $2, $3)", actor(r), id, role)
		return err
	})
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	platform.Logger(ctx).Info("role granted", "audit", true, "actor", actor(r), "user_id", id.String(), "role", role)
	platform.WriteJSON(w, http.StatusOK, g)
}

func (s *service) revokeRole(w http.ResponseWriter, r *http.Request) {
	role, id, email, err := s.target(r)
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	if s.bootstrapRole(email) == role {
		platform.WriteError(w, r, platform.Conflict("user", "is an admin through ADMIN_EMAILS; remove the address there"))
		return
	}
	ctx := r.Context()
	revoked := false
	err = pgx.BeginFunc(ctx, s.d.Write, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM role_grants WHERE user_id = $1 AND role = $2", id, role)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		revoked = true
		_, err = tx.Exec(ctx, "INSERT INTO role_audit (actor, action, user_id, role) VALUES ($1, 'revoke', $2, $3)", actor(r), id, role)
		return err
	})
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	if !revoked {
		platform.WriteError(w, r, platform.NotFound("grant"))
		return
	}
	platform.Logger(ctx).Info("role revoked", "audit", true, "actor", actor(r), "user_id", id.String(), "role", role)
	w.WriteHeader(http.StatusNoContent)
}
