package apidoc

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/example/ecommerce-platform/services/internal/platform"
)

// allow admits every caller: the benchmark measures validation, not
// token verification.
type allow struct{}

func (allow) Authenticate(r *http.Request) (*http.Request, error) { return r, nil }
func (allow) HasRole(*http.Request, string) bool                  { return true }

// BenchmarkRequestValidation is the cost the document adds to a request:
// each case through a bare ServeMux and through the Router, which
// authenticates (here a no-op), then validates parameters and body with
// kin-openapi before the same no-op handler.
func BenchmarkRequestValidation(b *testing.B) {
	const orderBody = `{"items":[{"product_id":"7d9f3c5e-2a8b-4c1d-9e6f-0a1b2c3d4e5f","quantity":2},` +
		`{"product_id":"0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e","quantity":1},{"product_id":"1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d","quantity":5}]}`
	cases := []struct {
		name, service, pattern, method, target, body string
		doc                                          []byte
	}{
		{"product-get", "product", "GET /v1/products/{id}", "GET", "/v1/products/7d9f3c5e-2a8b-4c1d-9e6f-0a1b2c3d4e5f", "", documents["product"]},
		{"product-list", "product", "GET /v1/products", "GET", "/v1/products?q=mug&limit=20&offset=40", "", documents["product"]},
		{"order-place", "order", "POST /v1/orders", "POST", "/v1/orders", orderBody, documents["order"]},
	}
	noop := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }
	for _, c := range cases {
		api, err := platform.LoadAPI(c.doc)
		if err != nil {
			b.Fatal(err)
		}
		validated := platform.NewRouter(api, allow{})
		for _, op := range api.Operations() {
			validated.HandleFunc(op, noop)
		}
		bare := http.NewServeMux()
		bare.HandleFunc(c.pattern, noop)
		for _, h := range []struct {
			name    string
			handler http.Handler
		}{{"bare", bare}, {"validated", validated}} {
			b.Run(c.name+"/"+h.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					var req *http.Request
					if c.body != "" {
						req = httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
						req.Header.Set("Content-Type", "application/json")
					} else {
						req = httptest.NewRequest(c.method, c.target, nil)
					}
					req.Header.Set("Authorization", "Bearer x")
					req.Header.Set("Idempotency-Key", "key-1")
					w := httptest.NewRecorder()
					h.handler.ServeHTTP(w, req)
					if w.Code != http.StatusNoContent {
						b.Fatalf("%d: %s", w.Code, w.Body)
					}
				}
			})
		}
	}
}
