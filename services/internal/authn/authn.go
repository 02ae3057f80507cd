// Package authn issues and verifies the platform's access tokens: EdDSA
// (Ed25519) JWTs whose public keys auth publishes as a JWKS.
package authn

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/sync/singleflight"

	"github.com/example/ecommerce-platform/services/internal/platform"
)

// RoleAdmin may create and change products.
const RoleAdmin = "admin"

// Claims are the access token's claims.
type Claims struct {
	jwt.RegisteredClaims
	Email string `json:"email"`
	Role  string `json:"role"`
}

// JWK is one Ed25519 public key in JWKS form (RFC 8037).
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// JWKS is a key set.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// KeyID derives a stable key id from the public key, so rotating the secret
// changes the kid and verifiers refetch.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// PublicJWK renders pub as a JWK.
func PublicJWK(pub ed25519.PublicKey) JWK {
	return JWK{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(pub), Kid: KeyID(pub), Alg: "EdDSA", Use: "sig"}
}

// Sign issues a signed access token.
func Sign(key ed25519.PrivateKey, c Claims) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	t.Header["kid"] = KeyID(key.Public().(ed25519.PublicKey))
	return t.SignedString(key)
}

// Verifier checks tokens against auth's JWKS. The key set is kept by
// github.com/MicahParks/jwkset, which refreshes it in the background every
// refresh interval and replaces the cached keys only when a fetch succeeds:
// a check never waits for the key endpoint while keys are cached, a key
// auth withdraws stops verifying after one interval, and a failing endpoint
// leaves the last good keys in service. A token whose kid is unknown (a
// rotation not yet seen, or a forgery) triggers one on-demand fetch that
// concurrent checks share, at most once per MinRefresh, so forged kids
// cannot turn the verifier into a load generator against auth.
type Verifier struct {
	Issuer     string
	MinRefresh time.Duration

	url    string
	client *http.Client
	ctx    context.Context
	store  jwkset.Storage
	log    *slog.Logger

	fetch     singleflight.Group
	mu        sync.Mutex
	lastFetch time.Time
	// Fetches counts on-demand fetches (tests assert coalescing with it).
	Fetches atomic.Int64
}

// NewVerifier returns a verifier for tokens from issuer whose keys are at
// url, refreshed every refresh until ctx ends.
func NewVerifier(ctx context.Context, url, issuer string, refresh time.Duration) *Verifier {
	v := &Verifier{Issuer: issuer, MinRefresh: 5 * time.Second, url: url, ctx: ctx,
		client: &http.Client{Timeout: 3 * time.Second}, store: jwkset.NewMemoryStorage(), log: platform.Logger(ctx)}
	// NoErrorReturnFirstHTTPReq: auth may start after us; the first token
	// then fetches on demand.
	_, err := jwkset.NewStorageFromHTTP(url, jwkset.HTTPClientStorageOptions{
		Client: v.client, Ctx: ctx, HTTPTimeout: 3 * time.Second, RefreshInterval: refresh, Storage: v.store,
		NoErrorReturnFirstHTTPReq: true,
		RefreshErrorHandler: func(_ context.Context, err error) {
			v.log.Warn("jwks refresh failed; the last good keys stay in use", "url", url, "err", err)
		},
	})
	if err != nil {
		// Only a malformed URL gets here, and config already checked it.
		v.log.Error("jwks storage", "url", url, "err", err)
	}
	return v
}

// NewLocalVerifier verifies tokens signed by pub, a key this process holds
// (auth checks its own tokens without fetching its own JWKS).
func NewLocalVerifier(pub ed25519.PublicKey, issuer string) (*Verifier, error) {
	store := jwkset.NewMemoryStorage()
	jwk, err := jwkset.NewJWKFromKey(pub, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: KeyID(pub), ALG: jwkset.AlgEdDSA, USE: jwkset.UseSig}})
	if err != nil {
		return nil, err
	}
	if err := store.KeyWrite(context.Background(), jwk); err != nil {
		return nil, err
	}
	return &Verifier{Issuer: issuer, store: store, log: slog.Default()}, nil
}

// refreshNow fetches the key set once for all concurrent callers, unless
// one was fetched less than MinRefresh ago.
func (v *Verifier) refreshNow() error {
	if v.url == "" {
		return nil
	}
	_, err, _ := v.fetch.Do("jwks", func() (any, error) {
		v.mu.Lock()
		recent := time.Since(v.lastFetch) < v.MinRefresh
		if !recent {
			v.lastFetch = time.Now()
		}
		v.mu.Unlock()
		if recent {
			return nil, nil
		}
		v.Fetches.Add(1)
		// Detached from the request: the callers sharing this fetch must
		// not fail because the one that started it gave up.
		_, err := jwkset.NewStorageFromHTTP(v.url, jwkset.HTTPClientStorageOptions{
			Client: v.client, Ctx: context.WithoutCancel(v.ctx), HTTPTimeout: 3 * time.Second, Storage: v.store,
		})
		return nil, err
	})
	return err
}

func (v *Verifier) key(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	jwk, err := v.store.KeyRead(ctx, kid)
	if errors.Is(err, jwkset.ErrKeyNotFound) {
		fetchErr := v.refreshNow()
		if jwk, err = v.store.KeyRead(ctx, kid); errors.Is(err, jwkset.ErrKeyNotFound) {
			if all, _ := v.store.KeyReadAll(ctx); len(all) == 0 {
				// Never had keys: the server's problem, not the token's.
				if fetchErr == nil {
					fetchErr = errors.New("no keys fetched yet")
				}
				return nil, fmt.Errorf("%w: %w", errKeyUnavailable, fetchErr)
			}
			return nil, fmt.Errorf("unknown key id %q", kid)
		}
	}
	if err != nil {
		return nil, err
	}
	pub, ok := jwk.Key().(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("key %q is not an Ed25519 key", kid)
	}
	return pub, nil
}

// errKeyUnavailable marks a failure to reach the JWKS, which is the
// server's problem (503), not the caller's (401).
var errKeyUnavailable = errors.New("signing keys unavailable")

// Verify parses and checks a token: signature, algorithm, issuer, expiry.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	var fetchErr error
	claims := &Claims{}
	_, err := jwt.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("token has no key id")
		}
		k, err := v.key(ctx, kid)
		if errors.Is(err, errKeyUnavailable) {
			fetchErr = err
		}
		return k, err
	}, jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithIssuer(v.Issuer), jwt.WithExpirationRequired(),
		jwt.WithLeeway(30*time.Second))
	if fetchErr != nil {
		return nil, fetchErr
	}
	if err != nil {
		return nil, err
	}
	if claims.Subject == "" {
		return nil, errors.New("token has no subject")
	}
	return claims, nil
}

type claimsKey struct{}

// FromContext returns the verified claims of the request.
func FromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok
}

// Authenticate verifies the request's bearer token and returns the request
// carrying its claims (FromContext), or a 401 problem (no token, a bad one)
// or a 503 (the signing keys cannot be had). It is the services'
// platform.Authenticator: the router runs it before validating a request
// for an operation whose document entry requires the bearer scheme.
func (v *Verifier) Authenticate(r *http.Request) (*http.Request, error) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return nil, platform.Unauthorized("Authorization", "a Bearer access token is required")
	}
	claims, err := v.Verify(r.Context(), token)
	if errors.Is(err, errKeyUnavailable) {
		platform.Logger(r.Context()).Warn("jwks unavailable", "err", err)
		return nil, &platform.Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "signing keys unavailable, retry later", RetryAfter: time.Second}
	}
	if err != nil {
		return nil, platform.Unauthorized("Authorization", "invalid access token: "+err.Error())
	}
	return r.WithContext(context.WithValue(r.Context(), claimsKey{}, claims)), nil
}

// HasRole tells whether the request's verified token carries role.
func (v *Verifier) HasRole(r *http.Request, role string) bool {
	c, _ := FromContext(r.Context())
	return c != nil && c.Role == role
}

// Require wraps h so that it runs only with a valid bearer token.
func (v *Verifier) Require(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ar, err := v.Authenticate(r)
		if err != nil {
			platform.WriteError(w, r, err)
			return
		}
		h(w, ar)
	}
}

// RequireRole is Require plus a role check.
func (v *Verifier) RequireRole(role string, h http.HandlerFunc) http.HandlerFunc {
	return v.Require(func(w http.ResponseWriter, r *http.Request) {
		if c, _ := FromContext(r.Context()); c == nil || c.Role != role {
			platform.WriteError(w, r, platform.Forbidden("the "+role+" role is required"))
			return
		}
		h(w, r)
	})
}
