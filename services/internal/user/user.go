// Package user keeps profiles: created from user.registered, read and
// changed by their owner through a verified access token.
package user

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/example/ecommerce-platform/services/internal/authn"
	"github.com/example/ecommerce-platform/services/internal/platform"
)

// Migrations are the service's schema, applied by `user migrate`.
//
//go:embed migrations/*.sql
var Migrations embed.FS

// OpenAPI is the service's API contract (OpenAPI 3.1), served at
// /openapi.json; requests are validated against it.
//
//go:embed openapi.yaml
var OpenAPI []byte

// Profile is the API representation.
type Profile struct {
	UserID      uuid.UUID `json:"user_id"`
	Email       string    `json:"email"`
	DisplayName string    `json:"display_name"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// UpdateRequest is the body of PUT /v1/users/me.
type UpdateRequest struct {
	DisplayName *string `json:"display_name"`
}

// Validate checks the display name.
func (u *UpdateRequest) Validate() error {
	if u.DisplayName == nil {
		return platform.Invalid("display_name", "is required")
	}
	name := strings.TrimSpace(*u.DisplayName)
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > 100 {
		return platform.Invalid("display_name", "must be at most 100 characters")
	}
	if strings.ContainsFunc(name, unicode.IsControl) {
		return platform.Invalid("display_name", "must not contain control characters")
	}
	u.DisplayName = &name
	return nil
}

type service struct {
	d      *platform.Deps
	verify *authn.Verifier
}

// New builds the user service.
func New(d *platform.Deps) (*platform.Service, error) {
	s := &service{d: d, verify: authn.NewVerifier(d.Ctx, d.Config.AuthJWKSURL, d.Config.JWTIssuer, d.Config.JWKSRefreshInterval)}
	return &platform.Service{
		Migrations: Migrations,
		OpenAPI:    OpenAPI,
		// The document says which operations need a token (and which the
		// admin role); the router checks it before validating.
		Authenticator: s.verify,
		Routes: func(mux *platform.Router) {
			mux.HandleFunc("GET /v1/users/me", s.me)
			mux.HandleFunc("PUT /v1/users/me", s.update)
		},
		Handlers: map[string]platform.Handler{platform.UserRegistered: s.registered},
	}, nil
}

const columns = "user_id, email, display_name, created_at, updated_at"

func scan(row pgx.Row) (Profile, error) {
	var p Profile
	err := row.Scan(&p.UserID, &p.Email, &p.DisplayName, &p.CreatedAt, &p.UpdatedAt)
	return p, err
}

func caller(r *http.Request) (*authn.Claims, uuid.UUID, error) {
	c, _ := authn.FromContext(r.Context())
	if c == nil {
		return nil, uuid.Nil, platform.Unauthorized("Authorization", "no verified token")
	}
	id, err := uuid.Parse(c.Subject)
	if err != nil {
		return nil, uuid.Nil, platform.Unauthorized("Authorization", "token subject is not a user id")
	}
	return c, id, nil
}

func (s *service) me(w http.ResponseWriter, r *http.Request) {
	_, id, err := caller(r)
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	ctx := r.Context()
	p, err := scan(s.d.Read.QueryRow(ctx, "SELECT "+columns+" FROM profiles WHERE user_id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) && s.d.Read != s.d.Write {
		p, err = scan(s.d.Write.QueryRow(ctx, "SELECT "+columns+" FROM profiles WHERE user_id = $1", id))
	}
	if errors.Is(err, pgx.ErrNoRows) {
		// user.registered has not arrived yet; the client may retry.
		platform.WriteError(w, r, platform.NotFound("profile"))
		return
	}
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	platform.WriteJSON(w, http.StatusOK, p)
}

// update upserts: a user whose registration event is still in flight can
// set a name already; the later event then finds the row and leaves it.
func (s *service) update(w http.ResponseWriter, r *http.Request) {
	c, id, err := caller(r)
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	var in UpdateRequest
	if !platform.DecodeRequest(w, r, &in) {
		return
	}
	p, err := scan(s.d.Write.QueryRow(r.Context(), `INSERT INTO profiles (user_id, email, display_name) VALUES ($1, $2, $3)
		ON CONFLICT (user_id) DO UPDATE SET display_name = EXCLUDED.display_name, updated_at = now()
		RETURNING `+columns, id, c.Email, *in.DisplayName))
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	platform.WriteJSON(w, http.StatusOK, p)
}

func (s *service) registered(ctx context.Context, tx pgx.Tx, ev platform.Event) (func(context.Context), error) {
	var e struct {
		UserID uuid.UUID `json:"user_id"`
		Email  string    `json:"email"`
	}
	if err := json.Unmarshal(ev.Data, &e); err != nil {
		return nil, fmt.Errorf("decode user.registered: %w", err)
	}
	if e.UserID == uuid.Nil || e.Email == "" {
		return nil, errors.New("user.registered without user_id or email")
	}
	_, err := tx.Exec(ctx, "INSERT INTO profiles (user_id, email) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING", e.UserID, e.Email)
	return nil, err
}
