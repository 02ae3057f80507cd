package itest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/example/ecommerce-platform/services/internal/platform"
)

// Every response the suite receives from a service started in this process
// is checked against that service's OpenAPI document: a documented
// operation and status, the documented headers and no others, the content
// type, and a body matching its schema (the documents' response schemas
// set additionalProperties: false, so an undocumented field fails). A
// violation fails the test that started the service, when it ends.

// contractHeaders are the headers any response may carry without its
// document naming them: HTTP's own, and X-Request-Id, which every response
// carries (the documents' descriptions say so).
var contractHeaders = []string{"Content-Type", "Content-Length", "Date", "X-Request-Id", "Connection", "Keep-Alive", "Transfer-Encoding"}

// contract is what is checked for one running service.
type contract struct {
	name string
	api  *platform.API
	mu   sync.Mutex
	bad  []string
	seen int
}

// checkedResponses counts the responses checked in this run (printed at
// the end by TestMain, so a run that checked nothing shows it).
var checkedResponses, contractViolations atomic.Int64

func (c *contract) record(msg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen++
	checkedResponses.Add(1)
	if msg != "" {
		contractViolations.Add(1)
	}
	if msg != "" && len(c.bad) < 20 {
		c.bad = append(c.bad, msg)
	}
}

// contracts maps a service's host:port to its contract.
var contracts sync.Map

// watchContract checks every response from addr against api until the
// test ends, then fails it with what did not match.
func watchContract(t testing.TB, name, addr string, api *platform.API) {
	c := &contract{name: name, api: api}
	contracts.Store(addr, c)
	t.Cleanup(func() {
		contracts.CompareAndDelete(addr, c)
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, msg := range c.bad {
			t.Errorf("%s answered outside its OpenAPI document: %s", name, msg)
		}
	})
}

// contractTransport checks each response of a service it knows.
type contractTransport struct{ base http.RoundTripper }

func (ct contractTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := ct.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	v, ok := contracts.Load(req.URL.Host)
	if !ok {
		return resp, nil
	}
	c := v.(*contract)
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		// A body cut short (a server shutting down) is the test's to judge.
		return resp, err
	}
	c.record(c.check(req, resp, body))
	return resp, nil
}

// check returns what in the response the document does not allow, or "".
func (c *contract) check(req *http.Request, resp *http.Response, body []byte) string {
	where := fmt.Sprintf("%s %s -> %d", req.Method, req.URL.RequestURI(), resp.StatusCode)
	route, _ := c.api.Find(req)
	if route == nil {
		// A route the document does not have: the only right answers are
		// the router's 404 and 405 (and a replica's 421 for a write), as
		// problems.
		if !slices.Contains([]int{http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusMisdirectedRequest}, resp.StatusCode) {
			return where + ": no operation in the document for this request"
		}
		if err := c.checkProblem(resp.Header, body); err != nil {
			return where + ": " + err.Error()
		}
		return checkHeaders(where, resp.Header, nil, "Allow")
	}
	if err := c.api.ValidateResponse(context.Background(), req, resp.StatusCode, resp.Header, body); err != nil {
		return where + ": " + firstLine(err.Error())
	}
	ref := route.Operation.Responses.Status(resp.StatusCode)
	if ref == nil || ref.Value == nil {
		return where + ": undocumented status"
	}
	if len(ref.Value.Content) == 0 && len(body) > 0 && req.Method != http.MethodHead {
		return where + ": a body where the document has none"
	}
	var extra []string
	if resp.StatusCode == http.StatusMethodNotAllowed {
		extra = append(extra, "Allow")
	}
	return checkHeaders(where, resp.Header, ref.Value.Headers, extra...)
}

// checkProblem validates a body against the documents' Problem schema.
func (c *contract) checkProblem(h http.Header, body []byte) error {
	if ct := h.Get("Content-Type"); ct != platform.ProblemContentType {
		return fmt.Errorf("content type %q, want %s", ct, platform.ProblemContentType)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("problem body is not JSON: %w", err)
	}
	schema := c.api.Doc.Components.Schemas["Problem"].Value
	if err := schema.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.VisitAsResponse()); err != nil {
		return fmt.Errorf("problem body: %s", firstLine(err.Error()))
	}
	return nil
}

func checkHeaders(where string, got http.Header, documented openapi3.Headers, extra ...string) string {
	for name := range got {
		if slices.Contains(contractHeaders, name) || slices.Contains(extra, name) {
			continue
		}
		if _, ok := documented[name]; ok {
			continue
		}
		if slices.ContainsFunc(keys(documented), func(k string) bool { return http.CanonicalHeaderKey(k) == name }) {
			continue
		}
		return where + ": undocumented header " + name
	}
	return ""
}

func keys(h openapi3.Headers) []string {
	out := make([]string, 0, len(h))
	for k := range h {
		out = append(out, k)
	}
	return out
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// TestEveryRouteIsDocumented: each service serves its document at
// /openapi.json, and its registered routes are exactly the document's
// operations, both ways. (A service whose routes and document disagree
// does not start at all; this checks what is served.)
func TestEveryRouteIsDocumented(t *testing.T) {
	s := startStack(t)
	for _, svc := range []*running{s.Auth, s.User, s.Product, s.Order} {
		r := call(t, "GET", svc.URL+"/openapi.json", "", nil)
		expect(t, r, http.StatusOK)
		api, err := platform.LoadAPI(r.Body)
		if err != nil {
			t.Fatalf("%s: served document: %v", svc.URL, err)
		}
		routes, ops := svc.App.Routes(), api.Operations()
		for _, rt := range routes {
			if !slices.Contains(ops, rt) {
				t.Errorf("%s: route %q is not in the served document", svc.URL, rt)
			}
		}
		for _, op := range ops {
			if !slices.Contains(routes, op) {
				t.Errorf("%s: operation %q has no route", svc.URL, op)
			}
		}
		if len(routes) < 6 {
			t.Errorf("%s: only %d routes: %v", svc.URL, len(routes), routes)
		}
	}
}

// TestContractCheckFailsOnUndocumentedAnswers: the check above is not
// vacuous. A field, a status and a header the document lacks, and a route
// it lacks, are each reported.
func TestContractCheckFailsOnUndocumentedAnswers(t *testing.T) {
	s := startStack(t, stackOptions{skipOrder: true})
	v, _ := contracts.Load(strings.TrimPrefix(s.Product.URL, "http://"))
	c := v.(*contract)
	get := func(path string) *http.Request {
		req, _ := http.NewRequest("GET", s.Product.URL+path, nil)
		return req
	}
	okBody := `{"status":"ok"}`
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	for name, tc := range map[string]struct {
		req    *http.Request
		status int
		header http.Header
		body   string
	}{
		"an undocumented field":  {get("/healthz"), 200, jsonHeader, `{"status":"ok","extra":1}`},
		"an undocumented status": {get("/healthz"), 201, jsonHeader, okBody},
		"an undocumented header": {get("/healthz"), 200, http.Header{"Content-Type": {"application/json"}, "X-Debug": {"1"}}, okBody},
		"an undocumented route":  {get("/v1/debug"), 200, jsonHeader, okBody},
		"a wrong content type":   {get("/healthz"), 200, http.Header{"Content-Type": {"text/html"}}, okBody},
		"a problem of another shape": {get("/v1/products/" + "00000000-0000-4000-8000-000000000000"), 404,
			http.Header{"Content-Type": {platform.ProblemContentType}}, `{"error":{"code":"not_found","message":"x"}}`},
	} {
		resp := &http.Response{StatusCode: tc.status, Header: tc.header}
		if msg := c.check(tc.req, resp, []byte(tc.body)); msg == "" {
			t.Errorf("%s passed the contract check", name)
		}
	}
	resp := &http.Response{StatusCode: 200, Header: jsonHeader}
	if msg := c.check(get("/healthz"), resp, []byte(okBody)); msg != "" {
		t.Errorf("a documented answer failed the check: %s", msg)
	}
}
