// Package auth registers users, checks passwords and issues tokens: a short
// EdDSA access token and a rotating, revocable refresh token.
package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"net/http"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/example/ecommerce-platform/services/internal/authn"
	"github.com/example/ecommerce-platform/services/internal/config"
	"github.com/example/ecommerce-platform/services/internal/platform"
)

// Migrations are the service's schema, applied by `auth migrate`.
//
//go:embed migrations/*.sql
var Migrations embed.FS

// OpenAPI is the service's API contract (OpenAPI 3.1), served at
// /openapi.json; requests are validated against it.
//
//go:embed openapi.yaml
var OpenAPI []byte

// Password length limits; the upper one bounds hashing cost per request.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 128
)

type service struct {
	d        *platform.Deps
	key      ed25519.PrivateKey
	params   *argon2id.Params
	gate     *hashGate
	throttle *throttle
	verify   *authn.Verifier
	// dummyHash is compared against when the email is unknown, so login
	// takes as long whether or not the account exists.
	dummyHash string
}

// New builds the auth service.
func New(d *platform.Deps) (*platform.Service, error) {
	if d.Config.JWTSigningKey == nil {
		return nil, errors.New("JWT_SIGNING_KEY is required")
	}
	s := &service{d: d, key: d.Config.JWTSigningKey, params: &argon2id.Params{
		Memory: d.Config.PasswordHashMemoryKB, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32,
	}}
	var err error
	if s.dummyHash, err = argon2id.CreateHash("not-a-password", s.params); err != nil {
		return nil, err
	}
	s.gate = newHashGate(d.Config, d.Registry)
	s.throttle = newThrottle(d.Redis, d.Config, d.Registry)
	if s.verify, err = authn.NewLocalVerifier(s.key.Public().(ed25519.PublicKey), d.Config.JWTIssuer); err != nil {
		return nil, err
	}
	return &platform.Service{
		Migrations: Migrations,
		OpenAPI:    OpenAPI,
		// The document says which operations need a token (the role
		// management, admin); the router checks it before validating.
		Authenticator: s.verify,
		Prune:         []platform.PruneTask{{Table: "refresh_tokens", Where: "expires_at < $1", Retention: d.Config.ExpiredRefreshTokenRetention}},
		Routes: func(mux *platform.Router) {
			mux.HandleFunc("GET /v1/auth/roles", s.requireAdmin(s.listRoles))
			mux.HandleFunc("PUT /v1/auth/roles/{role}/members/{user}", s.requireAdmin(s.grantRole))
			mux.HandleFunc("DELETE /v1/auth/roles/{role}/members/{user}", s.requireAdmin(s.revokeRole))
			mux.HandleFunc("POST /v1/auth/register", s.register)
			mux.HandleFunc("POST /v1/auth/login", s.login)
			mux.HandleFunc("POST /v1/auth/refresh", s.refresh)
			mux.HandleFunc("POST /v1/auth/logout", s.logout)
			mux.HandleFunc("GET /v1/auth/jwks", s.jwks)
			mux.HandleFunc("GET /.well-known/jwks.json", s.jwks)
		},
	}, nil
}

// Credentials is the register and login request body.
type Credentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// Validate normalises the email and checks both fields.
func (c *Credentials) Validate() error {
	c.Email = strings.ToLower(strings.TrimSpace(c.Email))
	if c.Email == "" {
		return platform.Invalid("email", "is required")
	}
	addr, err := mail.ParseAddress(c.Email)
	if err != nil || addr.Address != c.Email || len(c.Email) > 254 {
		return platform.Invalid("email", "must be a valid email address")
	}
	n := utf8.RuneCountInString(c.Password)
	if !utf8.ValidString(c.Password) || n < MinPasswordLen || n > MaxPasswordLen {
		return platform.Invalid("password", "must be %d to %d characters", MinPasswordLen, MaxPasswordLen)
	}
	return nil
}

// RefreshRequest is the refresh and logout request body.
type RefreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// Validate checks the token's shape.
func (r *RefreshRequest) Validate() error {
	if r.RefreshToken == "" {
		return platform.Invalid("refresh_token", "is required")
	}
	if len(r.RefreshToken) > 128 {
		return platform.Invalid("refresh_token", "is malformed")
	}
	return nil
}

// TokenResponse is what login and refresh return.
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
}

func (s *service) register(w http.ResponseWriter, r *http.Request) {
	var in Credentials
	if !platform.DecodeRequest(w, r, &in) {
		return
	}
	ctx := r.Context()
	if err := s.throttle.admitClient(ctx, s.clientIP(r)); err != nil {
		platform.WriteError(w, r, err)
		return
	}
	if err := s.gate.acquire(ctx); err != nil {
		platform.WriteError(w, r, err)
		return
	}
	hash, err := argon2id.CreateHash(in.Password, s.params)
	s.gate.release()
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	id := uuid.New()
	role := s.bootstrapRole(in.Email)
	err = pgx.BeginFunc(ctx, s.d.Write, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO users (id, email, password_hash) VALUES ($1, $2, $3)",
			id, in.Email, hash); err != nil {
			return err
		}
		_, err := platform.Enqueue(ctx, tx, config.Auth, platform.UserRegistered,
			map[string]any{"user_id": id, "email": in.Email, "role": role})
		return err
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		platform.WriteError(w, r, platform.Conflict("email", "is already registered"))
		return
	}
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	platform.WriteJSON(w, http.StatusCreated, map[string]any{"id": id, "email": in.Email, "role": role})
}

func (s *service) login(w http.ResponseWriter, r *http.Request) {
	var in Credentials
	if !platform.DecodeRequest(w, r, &in) {
		return
	}
	ctx := r.Context()
	ip := s.clientIP(r)
	// Cheap refusals first: throttles, then the hash gate, all before any
	// password is hashed.
	if err := s.throttle.admit(ctx, in.Email, ip); err != nil {
		platform.WriteError(w, r, err)
		return
	}
	if err := s.gate.acquire(ctx); err != nil {
		platform.WriteError(w, r, err)
		return
	}
	id, found, match, err := s.checkPassword(ctx, in)
	s.gate.release()
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	if !found || !match {
		s.throttle.failed(ctx, in.Email, ip)
		platform.WriteError(w, r, platform.Unauthorized("password", "email or password is wrong"))
		return
	}
	s.throttle.succeeded(ctx, in.Email, ip)
	resp, err := s.issue(ctx, s.d.Write, id, in.Email, uuid.New())
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	platform.WriteJSON(w, http.StatusOK, resp)
}

// checkPassword compares against the stored hash, or against a dummy one
// when the email is unknown, so login takes as long either way.
func (s *service) checkPassword(ctx context.Context, in Credentials) (id uuid.UUID, found, match bool, err error) {
	var hash string
	// The primary: a login right after register must see the new user.
	err = s.d.Write.QueryRow(ctx, "SELECT id, password_hash FROM users WHERE email = $1", in.Email).Scan(&id, &hash)
	found = err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return id, false, false, err
	}
	if !found {
		hash = s.dummyHash
	}
	match, err = argon2id.ComparePasswordAndHash(in.Password, hash)
	return id, found, match, err
}

type dbtx interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// issue signs an access token with the role the user has now: a grant in
// the database, or an email in ADMIN_EMAILS. Checked at every issue (login
// and refresh), so a revoked grant or an address removed from the
// configuration stops yielding admin tokens from the next refresh on.
func (s *service) issue(ctx context.Context, db dbtx, userID uuid.UUID, email string, family uuid.UUID) (*TokenResponse, error) {
	now := time.Now()
	cfg := s.d.Config
	role, err := s.roleOf(ctx, db, userID, email)
	if err != nil {
		return nil, err
	}
	access, err := authn.Sign(s.key, authn.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: cfg.JWTIssuer, Subject: userID.String(), ID: uuid.NewString(),
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(cfg.AccessTokenTTL)),
		},
		Email: email, Role: role,
	})
	if err != nil {
		return nil, err
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	refresh := base64.RawURLEncoding.EncodeToString(raw[:])
	if _, err := db.Exec(ctx,
		"INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at) VALUES ($1, $2, $3, $4)",
		hashToken(refresh), userID, family, now.Add(cfg.RefreshTokenTTL)); err != nil {
		return nil, err
	}
	return &TokenResponse{AccessToken: access, TokenType: "Bearer", ExpiresIn: int(cfg.AccessTokenTTL.Seconds()), RefreshToken: refresh}, nil
}

func hashToken(t string) []byte {
	sum := sha256.Sum256([]byte(t))
	return sum[:]
}

var errReused = platform.Unauthorized("refresh_token", "is invalid, expired or revoked")

// refresh rotates the token: the presented one is revoked and a new pair is
// issued in the same family.
func (s *service) refresh(w http.ResponseWriter, r *http.Request) {
	var in RefreshRequest
	if !platform.DecodeRequest(w, r, &in) {
		return
	}
	ctx := r.Context()
	var resp *TokenResponse
	var reused bool
	var family uuid.UUID
	err := pgx.BeginFunc(ctx, s.d.Write, func(tx pgx.Tx) error {
		var userID uuid.UUID
		var email string
		var expires time.Time
		var revoked *time.Time
		err := tx.QueryRow(ctx, `SELECT t.user_id, t.family_id, t.expires_at, t.revoked_at, u.email
			FROM refresh_tokens t JOIN users u ON u.id = t.user_id
			WHERE t.token_hash = $1 FOR UPDATE OF t`, hashToken(in.RefreshToken)).
			Scan(&userID, &family, &expires, &revoked, &email)
		if errors.Is(err, pgx.ErrNoRows) {
			return errReused
		}
		if err != nil {
			return err
		}
		if revoked != nil {
			reused = true
			return errReused
		}
		if time.Now().After(expires) {
			return errReused
		}
		if _, err := tx.Exec(ctx, "UPDATE refresh_tokens SET revoked_at = now() WHERE token_hash = $1", hashToken(in.RefreshToken)); err != nil {
			return err
		}
		resp, err = s.issue(ctx, tx, userID, email, family)
		return err
	})
	if reused {
		// Outside the failed transaction: the revocation must stick.
		if _, err := s.d.Write.Exec(ctx, "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL", family); err != nil {
			platform.Logger(ctx).Error("revoke reused token family", "err", err)
		}
		platform.Logger(ctx).Warn("revoked refresh token reused; family revoked", "family_id", family.String())
	}
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	platform.WriteJSON(w, http.StatusOK, resp)
}

// logout revokes the presented refresh token's whole family. It answers 204
// even for an unknown token, so it cannot be used to probe tokens.
func (s *service) logout(w http.ResponseWriter, r *http.Request) {
	var in RefreshRequest
	if !platform.DecodeRequest(w, r, &in) {
		return
	}
	if _, err := s.d.Write.Exec(r.Context(), `UPDATE refresh_tokens SET revoked_at = now()
		WHERE revoked_at IS NULL AND family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)`,
		hashToken(in.RefreshToken)); err != nil {
		platform.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *service) jwks(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	platform.WriteJSON(w, http.StatusOK, authn.JWKS{Keys: []authn.JWK{authn.PublicJWK(s.key.Public().(ed25519.PublicKey))}})
}
