package itest

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestFlow walks the whole platform: register, login, create a product,
// place an order, see the stock reserved, the order listed and the profile
// created from the user.registered event.
func TestFlow(t *testing.T) {
	s := startStack(t)
	admin, _, _ := registerAndLogin(t, s, adminEmail)
	token, _, userID := registerAndLogin(t, s, "shopper@example.com")

	pid := createProduct(t, s, admin, "MUG-1", 1250, 10)
	r := placeOrder(t, s, token, "flow-1", pid, 3)
	expect(t, r, http.StatusCreated)
	o := r.json(t)
	orderID := o["id"].(string)
	if o["total_cents"].(float64) != 3750 || o["status"] != "placed" {
		t.Fatalf("order = %v", o)
	}

	eventually(t, 15*time.Second, "stock reserved", func() bool { return stockOf(t, s, pid) == 7 })

	// The reservation confirms the order.
	eventually(t, 15*time.Second, "order confirmed", func() bool {
		r := call(t, "GET", s.Order.URL+"/v1/orders/"+orderID, token, nil)
		return r.Status == http.StatusOK && r.json(t)["status"] == "confirmed"
	})
	r = call(t, "GET", s.Order.URL+"/v1/orders", token, nil)
	expect(t, r, http.StatusOK)
	if items := r.json(t)["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != orderID {
		t.Fatalf("my orders = %s", r.Body)
	}
	// Another user cannot see it.
	r = call(t, "GET", s.Order.URL+"/v1/orders/"+orderID, admin, nil)
	expect(t, r, http.StatusNotFound)

	eventually(t, 15*time.Second, "profile created", func() bool {
		return call(t, "GET", s.User.URL+"/v1/users/me", token, nil).Status == http.StatusOK
	})
	r = call(t, "GET", s.User.URL+"/v1/users/me", token, nil)
	if p := r.json(t); p["email"] != "shopper@example.com" || p["user_id"] != userID {
		t.Fatalf("profile = %s", r.Body)
	}
	r = call(t, "PUT", s.User.URL+"/v1/users/me", token, map[string]any{"display_name": "  Shopper  "})
	expect(t, r, http.StatusOK)
	if r.json(t)["display_name"] != "Shopper" {
		t.Fatalf("updated profile = %s", r.Body)
	}
	r = call(t, "PUT", s.User.URL+"/v1/users/me", token, map[string]any{"display_name": 5})
	expect(t, r, http.StatusBadRequest)
	if f := r.errField(t); f != "display_name" {
		t.Fatalf("field = %q", f)
	}
	expect(t, call(t, "GET", s.User.URL+"/v1/users/me", "", nil), http.StatusUnauthorized)

	// Operational endpoints on every service.
	for _, svc := range []*running{s.Auth, s.User, s.Product, s.Order} {
		expect(t, call(t, "GET", svc.URL+"/healthz", "", nil), http.StatusOK)
		r := call(t, "GET", svc.URL+"/readyz", "", nil)
		expect(t, r, http.StatusOK)
		if r.Header.Get("X-Request-Id") == "" {
			t.Fatal("no X-Request-Id on response")
		}
		m := call(t, "GET", svc.URL+"/metrics", "", nil)
		expect(t, m, http.StatusOK)
		for _, want := range []string{"http_requests_total", "http_request_duration_seconds_bucket", "http_requests_in_flight"} {
			if !strings.Contains(string(m.Body), want) {
				t.Fatalf("metrics of %s lack %s", svc.URL, want)
			}
		}
	}
	// Unknown routes and methods answer in the same JSON shape.
	r = call(t, "GET", s.Order.URL+"/v1/nothing-here", "", nil)
	expect(t, r, http.StatusNotFound)
	if r.errCode(t) != "not_found" {
		t.Fatalf("404 body %s", r.Body)
	}
	r = call(t, "DELETE", s.Order.URL+"/v1/orders", token, nil)
	expect(t, r, http.StatusMethodNotAllowed)
	if r.errCode(t) != "method_not_allowed" || r.Header.Get("Allow") == "" {
		t.Fatalf("405 body %s allow %q", r.Body, r.Header.Get("Allow"))
	}

	m := string(call(t, "GET", s.Order.URL+"/metrics", "", nil).Body)
	if !strings.Contains(m, `http_requests_total{code="201",method="POST",route="POST /v1/orders"} 1`) {
		t.Fatalf("order metrics lack the placed order:\n%s", m)
	}
}
