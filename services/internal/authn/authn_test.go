package authn

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// jwksServer serves the public halves of whatever keys it currently holds.
type jwksServer struct {
	mu      sync.Mutex
	keys    []ed25519.PublicKey
	fetches atomic.Int32
	delay   time.Duration
	failing bool
}

func (s *jwksServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.fetches.Add(1)
	s.mu.Lock()
	delay, failing := s.delay, s.failing
	s.mu.Unlock()
	time.Sleep(delay)
	if failing {
		http.Error(w, "down", http.StatusInternalServerError)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var set JWKS
	for _, k := range s.keys {
		set.Keys = append(set.Keys, PublicJWK(k))
	}
	_ = json.NewEncoder(w).Encode(set)
}

func newKey(t *testing.T) ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func claims(exp time.Duration) Claims {
	now := time.Now()
	return Claims{RegisteredClaims: jwt.RegisteredClaims{Issuer: "iss", Subject: "u1",
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(exp))}, Role: "admin"}
}

func TestVerify(t *testing.T) {
	k1 := newKey(t)
	js := &jwksServer{keys: []ed25519.PublicKey{k1.Public().(ed25519.PublicKey)}}
	srv := httptest.NewServer(js)
	defer srv.Close()
	ctx := t.Context()
	v := NewVerifier(ctx, srv.URL, "iss", time.Hour)
	v.MinRefresh = 0

	tok, err := Sign(k1, claims(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(ctx, tok)
	if err != nil || c.Subject != "u1" || c.Role != "admin" {
		t.Fatalf("valid token: %v %+v", err, c)
	}
	if _, err := v.Verify(ctx, tok); err != nil || js.fetches.Load() != 1 {
		t.Fatalf("second verify refetched (%d fetches): %v", js.fetches.Load(), err)
	}

	// Key rotation: a token with an unknown kid makes the verifier refetch.
	k2 := newKey(t)
	js.mu.Lock()
	js.keys = append(js.keys, k2.Public().(ed25519.PublicKey))
	js.mu.Unlock()
	tok2, _ := Sign(k2, claims(time.Minute))
	if _, err := v.Verify(ctx, tok2); err != nil || js.fetches.Load() != 2 {
		t.Fatalf("rotated key: %v (%d fetches)", err, js.fetches.Load())
	}

	bad := map[string]string{}
	bad["expired"], _ = Sign(k1, claims(-time.Hour))
	other := claims(time.Minute)
	other.Issuer = "someone-else"
	bad["wrong issuer"], _ = Sign(k1, other)
	stranger := newKey(t)
	bad["unknown key"], _ = Sign(stranger, claims(time.Minute))
	// An HMAC token keyed with the public key: the classic algorithm confusion.
	h := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(time.Minute))
	h.Header["kid"] = KeyID(k1.Public().(ed25519.PublicKey))
	bad["hs256"], _ = h.SignedString([]byte(k1.Public().(ed25519.PublicKey)))
	none := jwt.NewWithClaims(jwt.SigningMethodNone, claims(time.Minute))
	none.Header["kid"] = KeyID(k1.Public().(ed25519.PublicKey))
	bad["alg none"], _ = none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	bad["garbage"] = "a.b.c"
	for name, tok := range bad {
		if _, err := v.Verify(ctx, tok); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestRequireMiddleware(t *testing.T) {
	k := newKey(t)
	srv := httptest.NewServer(&jwksServer{keys: []ed25519.PublicKey{k.Public().(ed25519.PublicKey)}})
	v := NewVerifier(t.Context(), srv.URL, "iss", time.Hour)
	h := v.RequireRole("admin", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	customer := claims(time.Minute)
	customer.Role = "customer"
	admin, _ := Sign(k, claims(time.Minute))
	cust, _ := Sign(k, customer)
	for _, c := range []struct {
		header string
		status int
	}{{"", 401}, {"Basic abc", 401}, {"Bearer " + cust, 403}, {"Bearer " + admin, 204}} {
		r := httptest.NewRequest("GET", "/", nil)
		if c.header != "" {
			r.Header.Set("Authorization", c.header)
		}
		w := httptest.NewRecorder()
		h(w, r)
		if w.Code != c.status {
			t.Errorf("%q: %d, want %d", c.header, w.Code, c.status)
		}
	}
	// JWKS unreachable: the server's fault, a 503, not the caller's 401.
	srv.Close()
	v2 := NewVerifier(t.Context(), srv.URL, "iss", time.Hour)
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+admin)
	w := httptest.NewRecorder()
	v2.Require(func(w http.ResponseWriter, r *http.Request) {})(w, r)
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("jwks down: %d", w.Code)
	}
}

// A withdrawn key stops verifying after one background refresh; a refresh
// that fails keeps the last good keys in service.
func TestBackgroundRefresh(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	js := &jwksServer{keys: []ed25519.PublicKey{k1.Public().(ed25519.PublicKey)}}
	srv := httptest.NewServer(js)
	defer srv.Close()
	v := NewVerifier(t.Context(), srv.URL, "iss", 50*time.Millisecond)
	tok, _ := Sign(k1, claims(time.Minute))
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	js.mu.Lock()
	js.failing = true
	js.mu.Unlock()
	before := js.fetches.Load()
	waitFor(t, "refreshes against the failing endpoint", func() bool { return js.fetches.Load() >= before+3 })
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Fatalf("failed refreshes dropped the last good key: %v", err)
	}
	js.mu.Lock()
	js.failing, js.keys = false, []ed25519.PublicKey{k2.Public().(ed25519.PublicKey)}
	js.mu.Unlock()
	waitFor(t, "the withdrawn key to stop verifying", func() bool {
		_, err := v.Verify(t.Context(), tok)
		return err != nil
	})
}

// The defect: once keys aged out, ten concurrent checks against a slow key
// endpoint fetched ten times, one after another. Now checks with a cached
// key never fetch, and concurrent checks of an unknown kid share one fetch.
func TestChecksDoNotWaitForTheKeyEndpoint(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	js := &jwksServer{keys: []ed25519.PublicKey{k1.Public().(ed25519.PublicKey)}}
	srv := httptest.NewServer(js)
	defer srv.Close()
	v := NewVerifier(t.Context(), srv.URL, "iss", time.Hour)
	v.MinRefresh = 0
	tok1, _ := Sign(k1, claims(time.Minute))
	if _, err := v.Verify(t.Context(), tok1); err != nil {
		t.Fatal(err)
	}
	js.mu.Lock()
	js.delay = 300 * time.Millisecond
	js.keys = append(js.keys, k2.Public().(ed25519.PublicKey))
	js.mu.Unlock()
	start := js.fetches.Load()
	verifyAll := func(tok string) {
		var wg sync.WaitGroup
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := v.Verify(t.Context(), tok); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	verifyAll(tok1)
	if n := js.fetches.Load() - start; n != 0 {
		t.Fatalf("10 checks of a cached key fetched %d times", n)
	}
	tok2, _ := Sign(k2, claims(time.Minute))
	verifyAll(tok2) // a rotation: every check needs the new key
	if n := js.fetches.Load() - start; n != 1 {
		t.Fatalf("10 concurrent checks of a new kid fetched %d times, want 1", n)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 200 {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}
