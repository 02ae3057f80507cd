package platform

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// RequestTimeout bounds the work of one request.
const RequestTimeout = 10 * time.Second

type requestIDKey struct{}

// RequestID returns the id of the request being served, if any.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// validRequestID accepts an upstream id only if it is short and printable, so
// a client cannot inject arbitrary data into the logs.
func validRequestID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, c := range s {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

// withRequestID takes X-Request-Id from the caller (the load balancer) or
// makes one, echoes it and puts a logger carrying it in the context.
func withRequestID(base *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		// A deadline for everything the request does downstream, below the
		// server's WriteTimeout so the client still gets a JSON 503.
		ctx, cancel := context.WithTimeout(r.Context(), RequestTimeout)
		defer cancel()
		ctx = context.WithValue(ctx, requestIDKey{}, id)
		ctx = WithLogger(ctx, base)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// httpMetrics are the RED metrics every service exports.
type httpMetrics struct {
	log *slog.Logger
	// sampleRate is the share of successful requests written to the access
	// log (ACCESS_LOG_SAMPLE_RATE); errors and slow requests always are.
	sampleRate float64
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	inFlight   prometheus.Gauge
	// series caches the children of requests and latency per label set:
	// resolving them hashes every label value, on every request otherwise.
	series sync.Map // seriesKey -> *seriesPair
}

type seriesKey struct {
	route, method string
	status        int
}

type seriesPair struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

func (m *httpMetrics) observe(route, method string, status int, elapsed time.Duration) {
	k := seriesKey{route, method, status}
	v, ok := m.series.Load(k)
	if !ok {
		v, _ = m.series.LoadOrStore(k, &seriesPair{
			count:   m.requests.WithLabelValues(route, method, strconv.Itoa(status)),
			latency: m.latency.WithLabelValues(route, method),
		})
	}
	p := v.(*seriesPair)
	p.count.Inc()
	p.latency.Observe(elapsed.Seconds())
}

func newHTTPMetrics(reg prometheus.Registerer, log *slog.Logger) *httpMetrics {
	m := &httpMetrics{
		log: log,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total", Help: "HTTP requests served, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "http_request_duration_seconds", Help: "HTTP request latency, by route pattern and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "http_requests_in_flight", Help: "HTTP requests being served now.",
		}),
	}
	reg.MustRegister(m.requests, m.latency, m.inFlight)
	return m
}

// instrument records metrics and logs failures. It must sit directly above
// the mux so that r.Pattern, which the mux sets on this request, is seen.
func (m *httpMetrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.inFlight.Inc()
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			m.inFlight.Dec()
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched" // keeps label cardinality bounded
			}
			elapsed := time.Since(start)
			m.observe(route, r.Method, status, elapsed)
			m.accessLog(r, route, status, elapsed)
		}()
		next.ServeHTTP(rec, r)
	})
}

// SlowRequest is the latency from which a successful request is always
// written to the access log, whatever the sampling.
const SlowRequest = time.Second

// accessLog writes one line per request at info: every failure and slow
// request except 429s and 503s, and a sample of those and of the rest (at
// full rate an access log would cost more than the cached product read it
// describes). The rate is in the line so counts can be scaled back.
func (m *httpMetrics) accessLog(r *http.Request, route string, status int, elapsed time.Duration) {
	level, rate := slog.LevelInfo, 1.0
	switch {
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		// Throttled and shed requests come in floods; they are counted in
		// the metrics, so the log keeps a sample. (A 503 from a dependency
		// outage also logs its cause, unsampled, where it happens.)
		if m.sampleRate <= 0 || mrand.Float64() >= m.sampleRate { //nolint:gosec // sampling, not security
			return
		}
		level, rate = slog.LevelWarn, m.sampleRate
	case status >= 500:
		level = slog.LevelWarn
	case status >= 400 || elapsed >= SlowRequest:
	case m.sampleRate <= 0 || mrand.Float64() >= m.sampleRate: //nolint:gosec // sampling, not security
		return
	default:
		rate = m.sampleRate
	}
	Logger(r.Context()).LogAttrs(r.Context(), level, "request", slog.String("method", r.Method), slog.String("route", route),
		slog.Int("status", status), slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000), slog.Float64("sample_rate", rate))
}

// recoverPanics turns a panic into a logged 500 problem, so one bad
// request cannot take the process down.
func recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				Logger(r.Context()).Error("panic", "value", fmt.Sprint(v), "stack", string(debug.Stack()))
				WriteProblem(w, r, &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error"})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// plainErrorRewriter turns the mux's own plain-text 404 and 405 answers into
// the problem shape every other error uses. Handlers set a JSON
// content type before writing, so they pass through untouched.
type plainErrorRewriter struct {
	http.ResponseWriter
	r          *http.Request
	swallowing bool
}

func (p *plainErrorRewriter) WriteHeader(code int) {
	if (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) &&
		strings.HasPrefix(p.Header().Get("Content-Type"), "text/plain") {
		p.swallowing = true
		p.Header().Del("X-Content-Type-Options")
		e := &Error{Status: code, Code: "not_found", Message: "no such route"}
		if code == http.StatusMethodNotAllowed {
			e = &Error{Status: code, Code: "method_not_allowed", Message: "method not allowed; see the Allow header"}
		}
		WriteProblem(p.ResponseWriter, p.r, e)
		return
	}
	p.ResponseWriter.WriteHeader(code)
}

func (p *plainErrorRewriter) Write(b []byte) (int, error) {
	if p.swallowing {
		return len(b), nil
	}
	return p.ResponseWriter.Write(b)
}

func (p *plainErrorRewriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }

func jsonRouteErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&plainErrorRewriter{ResponseWriter: w, r: r}, r)
	})
}
