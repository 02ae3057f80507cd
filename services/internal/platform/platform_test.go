package platform

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

type sample struct {
	Name  string   `json:"name"`
	Count int      `json:"count"`
	Tags  []string `json:"tags"`
	Inner struct {
		On bool `json:"on"`
	} `json:"inner"`
}

func TestDecodeJSONNamesTheField(t *testing.T) {
	for body, field := range map[string]string{
		``:                         "body",
		`{`:                        "body",
		`nope`:                     "body",
		`{"name": 1}`:              "name",
		`{"count": "x"}`:           "count",
		`{"count": 1.5}`:           "count",
		`{"tags": "x"}`:            "tags",
		`{"inner": {"on": 1}}`:     "inner.on",
		`{"colour": "red"}`:        "colour",
		`{"name": "a"} {"name":1}`: "body",
		`{"name": "a"} x`:          "body",
		// NUL reaches PostgreSQL as SQLSTATE 22021 (a 500) unless refused here.
		`{"name": "a\u0000b"}`:        "name",
		`{"tags": ["ok", "x\u0000"]}`: "tags[1]",
		`{"name": "a", "count": 1, "tags": null, "inner": {"on": true}}`: "",
	} {
		if field == "" {
			continue
		}
		var s sample
		err := DecodeJSONBytes(strings.NewReader(body), &s)
		var e *Error
		if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Field != field {
			t.Errorf("%q: error %#v, want a 400 naming %q", body, err, field)
		}
	}
	var s sample
	if err := DecodeJSONBytes(strings.NewReader(`{"name":"a","count":2}`), &s); err != nil || s.Name != "a" || s.Count != 2 {
		t.Fatalf("valid body: %v %+v", err, s)
	}
}

// FuzzDecodeJSON: whatever the body, the decoder returns a value or a 4xx
// naming a field; it never panics and never yields a 5xx.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"name":"x","count":3,"tags":["a"],"inner":{"on":true}}`, `{"count":1e400}`,
		`{"name":"\ud800"}`, `[1,2]`, `{"inner":null}`, `{"a":`, "\x00", `{"name":"\u0000"}`, `{"tags":["\u0000"]}`, `{"name":"a"}{"name":"b"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var s sample
		err := DecodeJSONBytes(bytes.NewReader(body), &s)
		if err == nil {
			for _, str := range append([]string{s.Name}, s.Tags...) {
				if strings.ContainsRune(str, 0) {
					t.Fatalf("body %q: a NUL passed the decoder", body)
				}
			}
			return
		}
		var e *Error
		if !errors.As(err, &e) || e.Status < 400 || e.Status >= 500 || e.Field == "" {
			t.Fatalf("body %q: %#v", body, err)
		}
	})
}

func TestParseMessage(t *testing.T) {
	ev := Event{ID: uuid.New(), Type: "x.y", Source: "s", Data: json.RawMessage(`{"a":1}`)}
	raw, _ := json.Marshal(ev)
	wrapped, _ := json.Marshal(map[string]string{"Type": "Notification", "Message": string(raw), "TopicArn": "arn"})
	for _, body := range [][]byte{raw, wrapped} {
		got, err := ParseMessage(body)
		if err != nil || got.ID != ev.ID || got.Type != "x.y" || string(got.Data) != `{"a":1}` {
			t.Fatalf("%s: %+v %v", body, got, err)
		}
	}
	for _, bad := range []string{`{}`, `{"id":"` + ev.ID.String() + `","data":{}}`, `{"type":"t","data":{}}`, `{"id":"` + ev.ID.String() + `","type":"t"}`, `x`} {
		if _, err := ParseMessage([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

func FuzzParseMessage(f *testing.F) {
	f.Add([]byte(`{"id":"7d9f3c5e-2a8b-4c1d-9e6f-0a1b2c3d4e5f","type":"t","data":{}}`))
	f.Add([]byte(`{"Type":"Notification","Message":"{\"id\":\"7d9f3c5e-2a8b-4c1d-9e6f-0a1b2c3d4e5f\",\"type\":\"t\",\"data\":1}"}`))
	f.Add([]byte(`{"Type":"Notification","Message":""}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseMessage(body)
		if err == nil && (ev.ID == uuid.Nil || ev.Type == "" || len(ev.Data) == 0) {
			t.Fatalf("accepted an incomplete event from %q", body)
		}
	})
}

func TestWriteErrorStatuses(t *testing.T) {
	cases := []struct {
		err    error
		status int
	}{
		{Invalid("email", "bad"), 400},
		{NotFound("thing"), 404},
		{&pgconn.PgError{Code: "57P01"}, 503},
		{&pgconn.PgError{Code: "23505"}, 500},
		{&net.OpError{Op: "dial", Err: errors.New("refused")}, 503},
		{io.ErrUnexpectedEOF, 503},
		{errors.New("bug"), 500},
	}
	for _, c := range cases {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/", nil)
		WriteError(w, r.WithContext(WithLogger(r.Context(), slog.New(slog.NewJSONHandler(io.Discard, nil)))), c.err)
		var body struct {
			Error *Error `json:"error"`
		}
		if w.Code != c.status || json.Unmarshal(w.Body.Bytes(), &body) != nil || body.Error == nil || body.Error.Code == "" {
			t.Errorf("%v: status %d body %s, want %d with a JSON error", c.err, w.Code, w.Body, c.status)
		}
	}
}

func okReq() *http.Request {
	r := httptest.NewRequest("GET", "/ok", nil)
	r.Header.Set("X-Request-Id", "abc-123")
	return r
}

func TestMiddlewareRecoversAndCounts(t *testing.T) {
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	m := newHTTPMetrics(reg, NewLogger(&logs, "test", slog.LevelInfo))
	m.sampleRate = 0 // successes unlogged: only the failure must show
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boom/{id}", func(http.ResponseWriter, *http.Request) { panic("kaput") })
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) {
		if RequestID(r.Context()) != "abc-123" {
			t.Errorf("request id %q", RequestID(r.Context()))
		}
		WriteJSON(w, 200, map[string]string{"ok": "yes"})
	})
	h := withRequestID(NewLogger(&logs, "test", slog.LevelInfo), m.instrument(recoverPanics(mux)))

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/boom/7", nil))
	if w.Code != 500 || !strings.Contains(w.Body.String(), `"code":"internal"`) || w.Header().Get("X-Request-Id") == "" {
		t.Fatalf("panic: %d %s", w.Code, w.Body)
	}
	if !strings.Contains(logs.String(), `"msg":"panic"`) || !strings.Contains(logs.String(), `"service":"test"`) ||
		!strings.Contains(logs.String(), `"request_id"`) {
		t.Fatalf("panic log: %s", logs.String())
	}
	r := httptest.NewRequest("GET", "/ok", nil)
	r.Header.Set("X-Request-Id", "abc-123")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Header().Get("X-Request-Id") != "abc-123" {
		t.Fatal("request id not echoed")
	}
	// The access log: the 500 always, at warn, with route, status, duration
	// and request id; the sampled-out 200 not.
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("a log line is not JSON: %q", l)
		}
		if m["msg"] == "request" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 1 || lines[0]["route"] != "GET /boom/{id}" || lines[0]["status"] != float64(500) ||
		lines[0]["level"] != "WARN" || lines[0]["request_id"] == nil || lines[0]["duration_ms"] == nil {
		t.Fatalf("access log lines %v", lines)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("GET /boom/{id}", "GET", "500")); got != 1 {
		t.Fatalf("500s counted %v", got)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("GET /ok", "GET", "200")); got != 1 {
		t.Fatalf("200s counted %v", got)
	}
	if got := testutil.ToFloat64(m.inFlight); got != 0 {
		t.Fatalf("in flight %v after all requests ended", got)
	}
	m.sampleRate = 1
	h.ServeHTTP(httptest.NewRecorder(), okReq())
	if !strings.Contains(logs.String(), `"route":"GET /ok","status":200`) {
		t.Fatalf("a sampled success is not logged: %s", logs.String())
	}
	if !validRequestID("a-b_c.1") || validRequestID("bad id") || validRequestID(strings.Repeat("x", 129)) || validRequestID("") {
		t.Fatal("validRequestID")
	}
}
