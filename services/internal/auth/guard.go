package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/example/ecommerce-platform/services/internal/config"
	"github.com/example/ecommerce-platform/services/internal/platform"
)

// hashGate bounds the memory password hashing can take: each argon2id hash
// holds PASSWORD_HASH_MEMORY_KB while it runs, so at most slots run at once
// (PASSWORD_HASH_MEMORY_BUDGET_MB / PASSWORD_HASH_MEMORY_KB). Up to queue
// requests wait for a slot, each at most wait; the rest are shed at once
// with 503 and Retry-After, before anything is hashed, so a login flood
// costs a bounded amount of memory and the logins that do get a slot still
// finish in hashing time.
type hashGate struct {
	slots   chan struct{}
	queue   int64
	wait    time.Duration
	waiting atomic.Int64

	inFlight prometheus.Gauge
	shed     *prometheus.CounterVec
}

func newHashGate(cfg config.Config, reg prometheus.Registerer) *hashGate {
	g := &hashGate{
		slots: make(chan struct{}, cfg.HashSlots()), queue: int64(cfg.PasswordHashQueue), wait: cfg.PasswordHashWait,
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "auth_password_hashes_in_flight", Help: "argon2id hashes running now."}),
		shed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "auth_password_hash_shed_total", Help: "Requests refused before hashing, by reason (queue_full, wait_timeout).",
		}, []string{"reason"}),
	}
	slots := prometheus.NewGauge(prometheus.GaugeOpts{Name: "auth_password_hash_slots", Help: "How many hashes may run at once."})
	slots.Set(float64(cap(g.slots)))
	reg.MustRegister(g.inFlight, g.shed, slots)
	return g
}

var errShed = platform.Overloaded("too many logins at once; retry shortly", time.Second)

// acquire takes a slot or returns the 503 to answer; release must follow a
// nil error.
func (g *hashGate) acquire(ctx context.Context) error {
	select {
	case g.slots <- struct{}{}:
		g.inFlight.Inc()
		return nil
	default:
	}
	if g.waiting.Add(1) > g.queue {
		g.waiting.Add(-1)
		g.shed.WithLabelValues("queue_full").Inc()
		return errShed
	}
	defer g.waiting.Add(-1)
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		g.inFlight.Inc()
		return nil
	case <-t.C:
		g.shed.WithLabelValues("wait_timeout").Inc()
		return errShed
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *hashGate) release() {
	g.inFlight.Dec()
	<-g.slots
}

// Login throttling, counted in Redis so every replica sees the same counts:
//
//   - per client address: at most LOGIN_IP_MAX_ATTEMPTS logins and
//     registrations per LOGIN_IP_WINDOW, right or wrong, so one source
//     cannot flood;
//   - per (email, client address): after LOGIN_MAX_FAILURES wrong passwords
//     within LOGIN_FAILURE_WINDOW that client gets 429 for that email until
//     the window ends. Keyed by both, a stranger guessing an email locks out
//     only themselves, never the owner logging in from elsewhere.
//
// Both answer 429 with Retry-After. Without Redis, or while it is down,
// they fail open (the hash gate still bounds the cost): locking everyone out
// is worse than slower guessing.
type throttle struct {
	rdb       *redis.Client
	cfg       config.Config
	throttled *prometheus.CounterVec
}

func newThrottle(rdb *redis.Client, cfg config.Config, reg prometheus.Registerer) *throttle {
	t := &throttle{rdb: rdb, cfg: cfg, throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "auth_login_throttled_total", Help: "Logins refused with 429, by scope (client, email_client).",
	}, []string{"scope"})}
	reg.MustRegister(t.throttled)
	return t
}

func ipKey(ip netip.Addr) string { return "auth:login-ip:" + ip.String() }

func failureKey(email string, ip netip.Addr) string {
	return "auth:login-failures:" + email + "|" + ip.String()
}

// admit counts this attempt against the client's budget and refuses it if
// the client is over either limit.
func (t *throttle) admit(ctx context.Context, email string, ip netip.Addr) error {
	if err := t.admitClient(ctx, ip); err != nil || t.rdb == nil {
		return err
	}
	if max := t.cfg.LoginMaxFailures; max > 0 {
		pipe := t.rdb.Pipeline()
		n := pipe.Get(ctx, failureKey(email, ip))
		ttl := pipe.PTTL(ctx, failureKey(email, ip))
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			platform.Logger(ctx).Warn("login throttle unavailable", "err", err)
			return nil
		}
		if c, _ := n.Int(); c >= max {
			t.throttled.WithLabelValues("email_client").Inc()
			return platform.TooMany("email", fmt.Sprintf("too many failed logins; retry in %d seconds", seconds(ttl.Val())), ttl.Val())
		}
	}
	return nil
}

// admitClient counts an attempt (a login or a registration: both hash a
// password) against the client address's budget.
func (t *throttle) admitClient(ctx context.Context, ip netip.Addr) error {
	if t.rdb == nil {
		return nil
	}
	if max := t.cfg.LoginIPMaxAttempts; max > 0 {
		pipe := t.rdb.TxPipeline()
		n := pipe.Incr(ctx, ipKey(ip))
		pipe.ExpireNX(ctx, ipKey(ip), t.cfg.LoginIPWindow)
		ttl := pipe.PTTL(ctx, ipKey(ip))
		if _, err := pipe.Exec(ctx); err != nil {
			platform.Logger(ctx).Warn("login throttle unavailable", "err", err)
			return nil
		}
		if n.Val() > int64(max) {
			t.throttled.WithLabelValues("client").Inc()
			return platform.TooMany("", fmt.Sprintf("too many attempts from this address; retry in %d seconds", seconds(ttl.Val())), ttl.Val())
		}
	}
	return nil
}

func seconds(d time.Duration) int {
	if d <= 0 {
		return 1
	}
	return int((d + time.Second - 1) / time.Second)
}

func (t *throttle) failed(ctx context.Context, email string, ip netip.Addr) {
	if t.rdb == nil || t.cfg.LoginMaxFailures == 0 {
		return
	}
	pipe := t.rdb.TxPipeline()
	pipe.Incr(ctx, failureKey(email, ip))
	// The window starts at the first failure and is not extended by later
	// ones, so a locked pair always reopens on time.
	pipe.ExpireNX(ctx, failureKey(email, ip), t.cfg.LoginFailureWindow)
	if _, err := pipe.Exec(ctx); err != nil {
		platform.Logger(ctx).Warn("login throttle unavailable", "err", err)
	}
}

func (t *throttle) succeeded(ctx context.Context, email string, ip netip.Addr) {
	if t.rdb == nil || t.cfg.LoginMaxFailures == 0 {
		return
	}
	if err := t.rdb.Del(ctx, failureKey(email, ip)).Err(); err != nil {
		platform.Logger(ctx).Warn("login throttle unavailable", "err", err)
	}
}

// clientIP is the request's client address as the throttle sees it.
func (s *service) clientIP(r *http.Request) netip.Addr {
	return platform.ClientIP(r, s.d.Config.TrustedProxies)
}
