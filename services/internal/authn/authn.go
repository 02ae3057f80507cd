// Package authn issues and verifies the platform's access tokens: EdDSA
// (Ed25519) JWTs whose public keys auth publishes as a JWKS.
package authn

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

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

// Verifier checks tokens against a JWKS URL. Keys are cached; an unknown kid
// triggers a refetch, at most once per MinRefresh so forged kids cannot turn
// the verifier into a load generator against auth.
type Verifier struct {
	URL        string
	Issuer     string
	Client     *http.Client
	MinRefresh time.Duration
	// MaxAge bounds how long a cached key set is trusted.
	MaxAge time.Duration

	mu        sync.Mutex
	keys      map[string]ed25519.PublicKey
	lastFetch time.Time
}

// NewVerifier returns a verifier for tokens from issuer whose keys are at url.
func NewVerifier(url, issuer string) *Verifier {
	return &Verifier{URL: url, Issuer: issuer, Client: &http.Client{Timeout: 3 * time.Second}, MinRefresh: 5 * time.Second, MaxAge: time.Hour}
}

func (v *Verifier) key(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if k, ok := v.keys[kid]; ok {
		if time.Since(v.lastFetch) < v.MaxAge {
			return k, nil
		}
		// Old enough to refetch, so a key auth has withdrawn stops being
		// accepted; if auth is unreachable the cached key still serves.
		if keys, err := v.fetch(ctx); err == nil {
			v.keys, v.lastFetch = keys, time.Now()
			if k, ok := keys[kid]; ok {
				return k, nil
			}
			return nil, fmt.Errorf("unknown key id %q", kid)
		}
		return k, nil
	}
	if time.Since(v.lastFetch) < v.MinRefresh && v.keys != nil {
		return nil, fmt.Errorf("unknown key id %q", kid)
	}
	keys, err := v.fetch(ctx)
	if err != nil {
		return nil, err
	}
	v.keys, v.lastFetch = keys, time.Now()
	if k, ok := keys[kid]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("unknown key id %q", kid)
}

func (v *Verifier) fetch(ctx context.Context) (map[string]ed25519.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.URL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := v.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch jwks: %w", err)
	}
	defer func() { _ = resp.Body.Close() }() // a read-only body: nothing to report
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch jwks: status %d", resp.StatusCode)
	}
	var set JWKS
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(&set); err != nil {
		return nil, fmt.Errorf("decode jwks: %w", err)
	}
	keys := map[string]ed25519.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "OKP" || k.Crv != "Ed25519" {
			continue
		}
		raw, err := base64.RawURLEncoding.DecodeString(k.X)
		if err != nil || len(raw) != ed25519.PublicKeySize {
			continue
		}
		keys[k.Kid] = ed25519.PublicKey(raw)
	}
	return keys, nil
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
		if err != nil && !strings.HasPrefix(err.Error(), "unknown key id") {
			fetchErr = err
		}
		return k, err
	}, jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithIssuer(v.Issuer), jwt.WithExpirationRequired(),
		jwt.WithLeeway(30*time.Second))
	if fetchErr != nil {
		return nil, fmt.Errorf("%w: %w", errKeyUnavailable, fetchErr)
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

// Require wraps h so that it runs only with a valid bearer token.
func (v *Verifier) Require(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		token, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok || token == "" {
			platform.WriteError(w, r, platform.Unauthorized("Authorization", "a Bearer access token is required"))
			return
		}
		claims, err := v.Verify(r.Context(), token)
		if errors.Is(err, errKeyUnavailable) {
			platform.Logger(r.Context()).Warn("jwks unavailable", "err", err)
			platform.WriteError(w, r, &platform.Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "signing keys unavailable, retry later"})
			return
		}
		if err != nil {
			platform.WriteError(w, r, platform.Unauthorized("Authorization", "invalid access token: "+err.Error()))
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, claims)))
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
