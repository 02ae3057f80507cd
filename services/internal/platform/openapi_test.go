package platform

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const testDoc = `openapi: 3.1.0
info:
  title: test
  version: "1"
paths:
  /items:
    get:
      operationId: list
      parameters:
        - name: limit
          in: query
          schema:
            type: integer
            minimum: 1
            maximum: 100
      responses:
        "200":
          description: ok
    post:
      operationId: create
      x-required-role: admin
      security:
        - bearer: []
      parameters:
        - name: Idempotency-Key
          in: header
          required: true
          schema:
            type: string
            maxLength: 5
      requestBody:
        required: true
        content:
          application/json:
            schema:
              $ref: "#/components/schemas/Item"
      responses:
        "201":
          description: created
  /items/{id}:
    get:
      operationId: get
      parameters:
        - name: id
          in: path
          required: true
          schema:
            type: string
            format: uuid
      responses:
        "200":
          description: ok
components:
  securitySchemes:
    bearer:
      type: http
      scheme: bearer
  schemas:
    Item:
      type: object
      additionalProperties: false
      required: [name, count]
      properties:
        name:
          type: string
          minLength: 1
          maxLength: 10
        count:
          type: integer
          minimum: 1
          maximum: 5
        code:
          type: string
          pattern: "^[A-Z]+$"
          x-problem-detail: must be capital letters
        tags:
          type: array
          maxItems: 2
          items:
            type: object
            additionalProperties: false
            required: [on]
            properties:
              on:
                type: boolean
`

// fakeAuth admits "Bearer admin" as an admin and "Bearer user" as a
// customer.
type fakeAuth struct{}

type roleKey struct{}

func (fakeAuth) Authenticate(r *http.Request) (*http.Request, error) {
	switch r.Header.Get("Authorization") {
	case "Bearer admin", "Bearer user":
		role := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		return r.WithContext(context.WithValue(r.Context(), roleKey{}, role)), nil
	}
	return nil, Unauthorized("Authorization", "a Bearer access token is required")
}

func (fakeAuth) HasRole(r *http.Request, role string) bool {
	v, _ := r.Context().Value(roleKey{}).(string)
	return v == role
}

func testRouter(t testing.TB) (*Router, *int) {
	t.Helper()
	api, err := LoadAPI([]byte(testDoc))
	if err != nil {
		t.Fatal(err)
	}
	rt := NewRouter(api, fakeAuth{})
	reached := new(int)
	h := func(w http.ResponseWriter, r *http.Request) {
		*reached++
		// The handler still reads the whole body after validation.
		var v map[string]any
		if r.Body != nil && r.Method == http.MethodPost {
			if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
				WriteError(w, r, Invalid("body", "unreadable after validation: %v", err))
				return
			}
		}
		w.WriteHeader(http.StatusNoContent)
	}
	rt.HandleFunc("GET /items", h)
	rt.HandleFunc("POST /items", h)
	rt.HandleFunc("GET /items/{id}", h)
	if err := rt.Check(); err != nil {
		t.Fatal(err)
	}
	return rt, reached
}

func TestRouterChecksRoutesAgainstTheDocument(t *testing.T) {
	api, err := LoadAPI([]byte(testDoc))
	if err != nil {
		t.Fatal(err)
	}
	rt := NewRouter(api, fakeAuth{})
	noop := func(http.ResponseWriter, *http.Request) {}
	rt.HandleFunc("GET /items", noop)
	rt.HandleFunc("POST /items", noop)
	rt.HandleFunc("DELETE /items/{id}", noop) // not in the document
	err = rt.Check()
	if err == nil {
		t.Fatal("Check passed with an undocumented route and an operation without a route")
	}
	for _, want := range []string{`route "DELETE /items/{id}" has no operation`, `operation "GET /items/{id}" of the OpenAPI document has no handler`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Check: %v\nwant it to say %s", err, want)
		}
	}
	// An operation needing a token, on a service without an Authenticator.
	rt = NewRouter(api, nil)
	rt.HandleFunc("POST /items", noop)
	if err := rt.Check(); err == nil || !strings.Contains(err.Error(), "no Authenticator") {
		t.Errorf("Check without an Authenticator: %v", err)
	}
}

func TestValidationRefusesBeforeTheHandler(t *testing.T) {
	rt, reached := testRouter(t)
	const good = `{"name":"a","count":2}`
	for _, c := range []struct {
		name, method, path, auth, key, ctype, body string
		status                                     int
		field, detail                              string
	}{
		{"valid", "POST", "/items", "admin", "k", "application/json", good, 204, "", ""},
		{"no content type is JSON", "POST", "/items", "admin", "k", "", good, 204, "", ""},
		{"charset", "POST", "/items", "admin", "k", "application/json; charset=utf-8", good, 204, "", ""},
		{"no token, bad body", "POST", "/items", "", "k", "application/json", `{}`, 401, "Authorization", ""},
		{"not admin, bad body", "POST", "/items", "user", "k", "application/json", `{}`, 403, "", ""},
		{"missing header", "POST", "/items", "admin", "", "application/json", good, 400, "Idempotency-Key", "is required"},
		{"long header", "POST", "/items", "admin", "toolong", "application/json", good, 400, "Idempotency-Key", "must be at most 5 characters"},
		{"empty body", "POST", "/items", "admin", "k", "application/json", ``, 400, "body", "is empty"},
		{"not JSON", "POST", "/items", "admin", "k", "application/json", `{`, 400, "body", "is not valid JSON"},
		{"wrong type", "POST", "/items", "admin", "k", "text/plain", good, 415, "Content-Type", ""},
		{"missing field", "POST", "/items", "admin", "k", "application/json", `{"name":"a"}`, 400, "count", "is required"},
		{"unknown field", "POST", "/items", "admin", "k", "application/json", `{"name":"a","count":1,"colour":"red"}`, 400, "colour", "is not a known field"},
		{"type", "POST", "/items", "admin", "k", "application/json", `{"name":"a","count":"2"}`, 400, "count", "must be an integer"},
		{"range", "POST", "/items", "admin", "k", "application/json", `{"name":"a","count":9}`, 400, "count", "must be an integer from 1 to 5"},
		{"length", "POST", "/items", "admin", "k", "application/json", `{"name":"abcdefghijk","count":1}`, 400, "name", "must be at most 10 characters"},
		{"own detail", "POST", "/items", "admin", "k", "application/json", `{"name":"a","count":1,"code":"x"}`, 400, "code", "must be capital letters"},
		{"nested", "POST", "/items", "admin", "k", "application/json", `{"name":"a","count":1,"tags":[{"on":true},{}]}`, 400, "tags[1].on", "is required"},
		{"items", "POST", "/items", "admin", "k", "application/json", `{"name":"a","count":1,"tags":[{"on":true},{"on":true},{"on":true}]}`, 400, "tags", "must hold at most 2 items"},
		{"too large", "POST", "/items", "admin", "k", "application/json", `{"name":"` + strings.Repeat("a", MaxBodyBytes) + `","count":1}`, 413, "body", ""},
		{"query", "GET", "/items?limit=0", "", "", "", "", 400, "limit", "must be an integer from 1 to 100"},
		{"query type", "GET", "/items?limit=x", "", "", "", "", 400, "limit", "must be an integer"},
		{"query ok", "GET", "/items?limit=3", "", "", "", "", 204, "", ""},
		{"path", "GET", "/items/nope", "", "", "", "", 400, "id", "must be a UUID"},
		{"path ok", "GET", "/items/7d9f3c5e-2a8b-4c1d-9e6f-0a1b2c3d4e5f", "", "", "", "", 204, "", ""},
	} {
		before := *reached
		req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
		if c.body == "" {
			req.Body = http.NoBody
			if c.method == "POST" {
				req = httptest.NewRequest(c.method, c.path, strings.NewReader(""))
			}
		}
		if c.ctype != "" {
			req.Header.Set("Content-Type", c.ctype)
		}
		if c.auth != "" {
			req.Header.Set("Authorization", "Bearer "+c.auth)
		}
		if c.key != "" {
			req.Header.Set("Idempotency-Key", c.key)
		}
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, req)
		if w.Code != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, w.Code, c.status, w.Body)
			continue
		}
		if c.status >= 400 {
			if *reached != before {
				t.Errorf("%s: the handler ran for a refused request", c.name)
			}
			var p Problem
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || w.Header().Get("Content-Type") != ProblemContentType {
				t.Errorf("%s: not a problem (%q): %s", c.name, w.Header().Get("Content-Type"), w.Body)
				continue
			}
			if p.Field != c.field || p.Status != c.status || p.Error == nil || p.Error.Field != c.field {
				t.Errorf("%s: field %q status %d, want %q %d: %s", c.name, p.Field, p.Status, c.field, c.status, w.Body)
			}
			if c.detail != "" && p.Error.Message != c.detail {
				t.Errorf("%s: message %q, want %q", c.name, p.Error.Message, c.detail)
			}
		} else if *reached != before+1 {
			t.Errorf("%s: the handler did not run", c.name)
		}
	}
}

// TestProblemNeverQuotesTheValue: the validators' own messages may carry
// the value (a password); the problem's words are the document's.
func TestProblemNeverQuotesTheValue(t *testing.T) {
	rt, _ := testRouter(t)
	for _, body := range []string{`{"name":"s3cr3t-passw0rd","count":1}`, `{"name":"a","count":1,"code":"s3cr3t"}`, `{"name":1234567,"count":1}`} {
		req := httptest.NewRequest("POST", "/items", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer admin")
		req.Header.Set("Idempotency-Key", "k")
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, req)
		if w.Code != 400 {
			t.Fatalf("%s: %d", body, w.Code)
		}
		for _, secret := range []string{"s3cr3t", "1234567"} {
			if strings.Contains(w.Body.String(), secret) {
				t.Errorf("the problem quotes the value: %s", w.Body)
			}
		}
	}
}

func TestProblemShape(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	w := httptest.NewRecorder()
	WriteError(w, r, Invalid("items[0].quantity", "must be from 1 to %d", 1000))
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if w.Header().Get("Content-Type") != "application/problem+json" || m["type"] != ProblemTypePrefix+"invalid_argument" ||
		m["title"] != "Invalid argument" || m["status"] != 400.0 || m["field"] != "items[0].quantity" ||
		m["detail"] != "items[0].quantity: must be from 1 to 1000" || m["code"] != "invalid_argument" {
		t.Errorf("problem: %s", w.Body)
	}
	// Every 429 and 503 says when to retry.
	for _, err := range []error{&Error{Status: 503, Code: "unavailable", Message: "x"}, TooMany("", "x", 0), errors.New("conn closed")} {
		w := httptest.NewRecorder()
		WriteError(w, r, err)
		if (w.Code == 503 || w.Code == 429) && w.Header().Get("Retry-After") == "" {
			t.Errorf("%v: %d without Retry-After", err, w.Code)
		}
	}
}
