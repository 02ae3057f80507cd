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
	"fmt"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/redis/go-redis/v9"

	"github.com/example/ecommerce-platform/services/internal/authn"
	"github.com/example/ecommerce-platform/services/internal/config"
	"github.com/example/ecommerce-platform/services/internal/platform"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Password length limits; the upper one bounds hashing cost per request.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 128
)

type service struct {
	d      *platform.Deps
	key    ed25519.PrivateKey
	params *argon2id.Params
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
	return &platform.Service{
		Migrations: migrations,
		Routes: func(mux *http.ServeMux) {
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
	hash, err := argon2id.CreateHash(in.Password, s.params)
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	role := "customer"
	if slices.Contains(s.d.Config.AdminEmails, in.Email) {
		role = authn.RoleAdmin
	}
	id := uuid.New()
	ctx := r.Context()
	err = pgx.BeginFunc(ctx, s.d.Write, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO users (id, email, password_hash, role) VALUES ($1, $2, $3, $4)",
			id, in.Email, hash, role); err != nil {
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
	if err := s.checkThrottle(ctx, in.Email); err != nil {
		platform.WriteError(w, r, err)
		return
	}
	var id uuid.UUID
	var hash, role string
	// The primary: a login right after register must see the new user.
	err := s.d.Write.QueryRow(ctx, "SELECT id, password_hash, role FROM users WHERE email = $1", in.Email).Scan(&id, &hash, &role)
	found := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		platform.WriteError(w, r, err)
		return
	}
	if !found {
		hash = s.dummyHash
	}
	match, err := argon2id.ComparePasswordAndHash(in.Password, hash)
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	if !found || !match {
		s.recordFailure(ctx, in.Email)
		platform.WriteError(w, r, platform.Unauthorized("password", "email or password is wrong"))
		return
	}
	s.clearFailures(ctx, in.Email)
	resp, err := s.issue(ctx, s.d.Write, id, in.Email, role, uuid.New())
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	platform.WriteJSON(w, http.StatusOK, resp)
}

type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func (s *service) issue(ctx context.Context, db execer, userID uuid.UUID, email, role string, family uuid.UUID) (*TokenResponse, error) {
	now := time.Now()
	cfg := s.d.Config
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
		var email, role string
		var expires time.Time
		var revoked *time.Time
		err := tx.QueryRow(ctx, `SELECT t.user_id, t.family_id, t.expires_at, t.revoked_at, u.email, u.role
			FROM refresh_tokens t JOIN users u ON u.id = t.user_id
			WHERE t.token_hash = $1 FOR UPDATE OF t`, hashToken(in.RefreshToken)).
			Scan(&userID, &family, &expires, &revoked, &email, &role)
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
		resp, err = s.issue(ctx, tx, userID, email, role, family)
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

// Login throttling: after LOGIN_MAX_FAILURES wrong passwords for one email
// within LOGIN_FAILURE_WINDOW, logins for it are refused until the window
// passes. Counted in Redis so every replica sees the same count; without
// Redis, or while it is down, logins are not throttled (fail open), since
// locking everyone out is worse than slower guessing.

func throttleKey(email string) string { return "auth:login-failures:" + email }

func (s *service) checkThrottle(ctx context.Context, email string) error {
	max := s.d.Config.LoginMaxFailures
	if s.d.Redis == nil || max == 0 {
		return nil
	}
	n, err := s.d.Redis.Get(ctx, throttleKey(email)).Int()
	if err != nil {
		if !errors.Is(err, redis.Nil) {
			platform.Logger(ctx).Warn("login throttle unavailable", "err", err)
		}
		return nil
	}
	if n < max {
		return nil
	}
	ttl, _ := s.d.Redis.TTL(ctx, throttleKey(email)).Result()
	return &platform.Error{Status: http.StatusTooManyRequests, Code: "too_many_attempts", Field: "email",
		Message: fmt.Sprintf("too many failed logins; retry in %d seconds", int(ttl.Seconds())+1)}
}

func (s *service) recordFailure(ctx context.Context, email string) {
	if s.d.Redis == nil || s.d.Config.LoginMaxFailures == 0 {
		return
	}
	pipe := s.d.Redis.TxPipeline()
	pipe.Incr(ctx, throttleKey(email))
	// The window starts at the first failure and is not extended by later
	// ones, so a locked account always reopens on time.
	pipe.ExpireNX(ctx, throttleKey(email), s.d.Config.LoginFailureWindow)
	if _, err := pipe.Exec(ctx); err != nil {
		platform.Logger(ctx).Warn("login throttle unavailable", "err", err)
	}
}

func (s *service) clearFailures(ctx context.Context, email string) {
	if s.d.Redis == nil || s.d.Config.LoginMaxFailures == 0 {
		return
	}
	if err := s.d.Redis.Del(ctx, throttleKey(email)).Err(); err != nil {
		platform.Logger(ctx).Warn("login throttle unavailable", "err", err)
	}
}
