// Package config reads a service's settings from environment variables, the
// shape of the per-service secret the infrastructure provides. Load checks
// everything at start so a bad deployment fails before serving traffic.
package config

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Database roles (DATABASE_ROLE).
const (
	RolePrimary = "primary"
	RoleReplica = "replica"
)

// Services that this module builds.
const (
	Auth    = "auth"
	User    = "user"
	Product = "product"
	Order   = "order"
)

// Config is every setting a service reads. Secrets are kept out of String.
type Config struct {
	ServiceName string
	HTTPAddr    string
	LogLevel    slog.Level

	DatabaseURL     string
	DatabaseReadURL string // empty: reads go to the primary
	// DatabaseRole is RolePrimary where the service's primary is, and
	// RoleReplica elsewhere: DATABASE_URL is then a read replica as the
	// read-only role, and the service serves reads only.
	DatabaseRole string
	// EventHandlers are the events this instance handles (EVENT_HANDLERS);
	// nil when unset: every event the service handles as a primary, its
	// regional ones as a replica.
	EventHandlers []string
	DBMaxConns    int32
	// MigrateOnStart applies the migrations at start (DATABASE_URL must be
	// the schema owner): for local runs. Otherwise the service waits,
	// not ready, until `<service> migrate` has brought the schema up.
	MigrateOnStart bool

	RedisURL       string
	RedisAuthToken string

	QueueURL             string
	QueueWaitSeconds     int32
	QueueVisibilitySecs  int32
	TopicARN             string
	AWSRegion            string
	AWSEndpointURL       string
	OutboxPollInterval   time.Duration
	ShutdownTimeout      time.Duration
	ShutdownDelay        time.Duration
	CacheTTL             time.Duration
	ProductAPIURL        string
	AuthJWKSURL          string
	JWTIssuer            string
	JWTSigningKey        ed25519.PrivateKey
	AccessTokenTTL       time.Duration
	RefreshTokenTTL      time.Duration
	AdminEmails          []string
	PasswordHashMemoryKB uint32
	LoginMaxFailures     int
	LoginFailureWindow   time.Duration

	// Login cost bounds (auth): how many argon2id hashes may run at once
	// (derived from PasswordHashBudgetMB / PasswordHashMemoryKB), how many
	// logins may queue for a slot and for how long.
	PasswordHashBudgetMB int
	PasswordHashQueue    int
	PasswordHashWait     time.Duration
	LoginIPMaxAttempts   int
	LoginIPWindow        time.Duration
	TrustedProxies       []netip.Prefix

	AccessLogSampleRate float64
	JWKSRefreshInterval time.Duration
	LocalCacheTTL       time.Duration
	LocalCacheEntries   int

	OrderRedriveAfter      time.Duration
	OrderCancelAfter       time.Duration
	OrderReconcileInterval time.Duration

	PruneInterval                time.Duration
	ProcessedMessagesRetention   time.Duration
	ExpiredRefreshTokenRetention time.Duration
}

// HashSlots is how many password hashes may run at once: the memory budget
// divided by the memory one hash takes, at least one.
func (c Config) HashSlots() int {
	if c.PasswordHashMemoryKB == 0 {
		return 1
	}
	return max(1, c.PasswordHashBudgetMB*1024/int(c.PasswordHashMemoryKB))
}

// String masks secrets so the config can be logged at start.
func (c Config) String() string {
	return fmt.Sprintf("service=%s http_addr=%s database=%s read_database=%s redis=%s queue=%s topic=%s region=%s endpoint=%s",
		c.ServiceName, c.HTTPAddr, maskURL(c.DatabaseURL), maskURL(c.DatabaseReadURL), maskURL(c.RedisURL),
		c.QueueURL, c.TopicARN, c.AWSRegion, c.AWSEndpointURL)
}

func maskURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable>"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	return u.Redacted()
}

// Load reads the configuration through getenv (os.Getenv in production) and
// returns every problem found, each naming its variable.
func Load(getenv func(string) string) (Config, error) {
	r := reader{getenv: getenv}
	c := Config{
		ServiceName:          r.required("SERVICE_NAME"),
		HTTPAddr:             r.str("HTTP_ADDR", ":8080"),
		LogLevel:             r.level("LOG_LEVEL"),
		DatabaseURL:          r.url("DATABASE_URL", true, "postgres", "postgresql"),
		DatabaseReadURL:      r.url("DATABASE_READ_URL", false, "postgres", "postgresql"),
		DatabaseRole:         r.oneOf("DATABASE_ROLE", RolePrimary, RolePrimary, RoleReplica),
		EventHandlers:        r.list("EVENT_HANDLERS"),
		DBMaxConns:           int32(r.integer("DB_MAX_CONNS", 10, 1, 1000)), //nolint:gosec // range-checked by r.integer
		MigrateOnStart:       r.boolean("MIGRATE_ON_START"),
		RedisURL:             r.url("REDIS_URL", false, "redis", "rediss"),
		RedisAuthToken:       getenv("REDIS_AUTH_TOKEN"),
		QueueURL:             r.url("QUEUE_URL", false, "http", "https"),
		QueueWaitSeconds:     int32(r.integer("QUEUE_WAIT_SECONDS", 20, 0, 20)),                  //nolint:gosec // range-checked by r.integer
		QueueVisibilitySecs:  int32(r.integer("QUEUE_VISIBILITY_TIMEOUT_SECONDS", 30, 1, 43200)), //nolint:gosec // range-checked by r.integer
		TopicARN:             r.str("TOPIC_ARN", ""),
		AWSRegion:            r.str("AWS_REGION", ""),
		AWSEndpointURL:       r.url("AWS_ENDPOINT_URL", false, "http", "https"),
		OutboxPollInterval:   r.duration("OUTBOX_POLL_INTERVAL", 500*time.Millisecond, 10*time.Millisecond, time.Minute),
		ShutdownTimeout:      r.duration("SHUTDOWN_TIMEOUT", 20*time.Second, time.Second, 10*time.Minute),
		ShutdownDelay:        r.duration("SHUTDOWN_DELAY", 0, 0, 5*time.Minute),
		CacheTTL:             r.duration("CACHE_TTL", 5*time.Minute, time.Second, 24*time.Hour),
		ProductAPIURL:        r.url("PRODUCT_API_URL", false, "http", "https"),
		AuthJWKSURL:          r.url("AUTH_JWKS_URL", false, "http", "https"),
		JWTIssuer:            r.str("JWT_ISSUER", "ecommerce-auth"),
		AccessTokenTTL:       r.duration("ACCESS_TOKEN_TTL", 15*time.Minute, time.Minute, 24*time.Hour),
		RefreshTokenTTL:      r.duration("REFRESH_TOKEN_TTL", 30*24*time.Hour, time.Hour, 365*24*time.Hour),
		AdminEmails:          r.list("ADMIN_EMAILS"),
		PasswordHashMemoryKB: uint32(r.integer("PASSWORD_HASH_MEMORY_KB", 19*1024, 8*1024, 1024*1024)), //nolint:gosec // range-checked by r.integer
		LoginMaxFailures:     r.integer("LOGIN_MAX_FAILURES", 10, 0, 1000),
		LoginFailureWindow:   r.duration("LOGIN_FAILURE_WINDOW", 15*time.Minute, time.Minute, 24*time.Hour),

		PasswordHashBudgetMB: r.integer("PASSWORD_HASH_MEMORY_BUDGET_MB", 64, 8, 64*1024),
		PasswordHashQueue:    r.integer("PASSWORD_HASH_QUEUE", 16, 0, 10000),
		PasswordHashWait:     r.duration("PASSWORD_HASH_WAIT", time.Second, 0, 30*time.Second),
		LoginIPMaxAttempts:   r.integer("LOGIN_IP_MAX_ATTEMPTS", 300, 0, 1_000_000),
		LoginIPWindow:        r.duration("LOGIN_IP_WINDOW", time.Minute, time.Second, 24*time.Hour),
		TrustedProxies:       r.prefixes("TRUSTED_PROXY_CIDRS"),

		AccessLogSampleRate: r.fraction("ACCESS_LOG_SAMPLE_RATE", 0.05),
		JWKSRefreshInterval: r.duration("JWKS_REFRESH_INTERVAL", 5*time.Minute, time.Second, 24*time.Hour),
		LocalCacheTTL:       r.duration("LOCAL_CACHE_TTL", 2*time.Second, 0, 5*time.Minute),
		LocalCacheEntries:   r.integer("LOCAL_CACHE_MAX_ENTRIES", 10000, 1, 1_000_000),

		OrderRedriveAfter:      r.duration("ORDER_REDRIVE_AFTER", 2*time.Minute, time.Second, 24*time.Hour),
		OrderCancelAfter:       r.duration("ORDER_CANCEL_AFTER", 30*time.Minute, time.Second, 7*24*time.Hour),
		OrderReconcileInterval: r.duration("ORDER_RECONCILE_INTERVAL", 30*time.Second, 100*time.Millisecond, time.Hour),

		PruneInterval:                r.duration("PRUNE_INTERVAL", time.Hour, time.Second, 24*time.Hour),
		ProcessedMessagesRetention:   r.duration("PROCESSED_MESSAGES_RETENTION", 15*24*time.Hour, time.Hour, 365*24*time.Hour),
		ExpiredRefreshTokenRetention: r.duration("EXPIRED_REFRESH_TOKEN_RETENTION", 24*time.Hour, 0, 365*24*time.Hour),
	}
	if key := getenv("JWT_SIGNING_KEY"); key != "" {
		k, err := ParseSigningKey(key)
		if err != nil {
			r.fail("JWT_SIGNING_KEY", err.Error())
		}
		c.JWTSigningKey = k
	}

	need := func(name, value string) {
		if value == "" {
			r.fail(name, "is required for the "+c.ServiceName+" service")
		}
	}
	// A replica publishes nothing (it writes nothing, so its outbox stays
	// empty) and consumes only the regional events (product's cache
	// invalidation).
	primary := c.DatabaseRole == RolePrimary
	needPrimary := func(name, value string) {
		if primary && value == "" {
			r.fail(name, "is required for the "+c.ServiceName+" service with DATABASE_ROLE=primary (where its primary database is)")
		}
	}
	switch c.ServiceName {
	case Auth:
		needPrimary("TOPIC_ARN", c.TopicARN)
		need("JWT_SIGNING_KEY", getenv("JWT_SIGNING_KEY"))
	case User:
		needPrimary("QUEUE_URL", c.QueueURL)
		need("AUTH_JWKS_URL", c.AuthJWKSURL)
	case Product:
		need("REDIS_URL", c.RedisURL)
		need("QUEUE_URL", c.QueueURL)
		needPrimary("TOPIC_ARN", c.TopicARN)
		need("AUTH_JWKS_URL", c.AuthJWKSURL)
	case Order:
		needPrimary("QUEUE_URL", c.QueueURL)
		needPrimary("TOPIC_ARN", c.TopicARN)
		need("AUTH_JWKS_URL", c.AuthJWKSURL)
		need("PRODUCT_API_URL", c.ProductAPIURL)
	case "":
	default:
		r.fail("SERVICE_NAME", fmt.Sprintf("must be one of auth, user, product, order, got %q", c.ServiceName))
	}
	if !primary && c.MigrateOnStart {
		r.fail("MIGRATE_ON_START", "must not be set with DATABASE_ROLE=replica: a replica's schema comes from its primary")
	}
	if !primary && c.TopicARN != "" {
		r.fail("TOPIC_ARN", "must not be set with DATABASE_ROLE=replica: events are published where the primary is")
	}
	if c.AWSRegion == "" && c.ServiceName != "" {
		// Every instance says where it runs (logs, the AWS clients).
		r.fail("AWS_REGION", "is required")
	}
	if c.TopicARN != "" && !strings.HasPrefix(c.TopicARN, "arn:") {
		r.fail("TOPIC_ARN", "must be an ARN (arn:aws:sns:...)")
	}
	if c.OrderCancelAfter <= c.OrderRedriveAfter {
		// A stuck order gets at least one re-drive before it is given up.
		r.fail("ORDER_CANCEL_AFTER", fmt.Sprintf("must be longer than ORDER_REDRIVE_AFTER (%s)", c.OrderRedriveAfter))
	}
	if c.QueueVisibilitySecs <= c.QueueWaitSeconds && c.QueueURL != "" {
		// A message must stay hidden longer than one receive call lasts.
		r.fail("QUEUE_VISIBILITY_TIMEOUT_SECONDS", "must be greater than QUEUE_WAIT_SECONDS")
	}
	return c, errors.Join(r.errs...)
}

// ParseSigningKey reads the Ed25519 signing key: either a PKCS#8 PEM key,
// as `openssl genpkey -algorithm ed25519` writes it, or a standard base64
// 32-byte seed, which is what the infrastructure generates (a random byte
// string is all a secret store needs to hold for an Ed25519 key).
func ParseSigningKey(s string) (ed25519.PrivateKey, error) {
	if !strings.Contains(s, "-----BEGIN") {
		seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
		if err != nil || len(seed) != ed25519.SeedSize {
			return nil, fmt.Errorf("is neither PEM nor a base64 %d-byte Ed25519 seed", ed25519.SeedSize)
		}
		return ed25519.NewKeyFromSeed(seed), nil
	}
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("is not PEM encoded")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("is not a PKCS#8 private key: %w", err)
	}
	ed, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("must be an Ed25519 key, got %T", k)
	}
	return ed, nil
}

type reader struct {
	getenv func(string) string
	errs   []error
}

func (r *reader) fail(name, msg string) {
	r.errs = append(r.errs, fmt.Errorf("%s %s", name, msg))
}

func (r *reader) str(name, def string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return def
}

func (r *reader) required(name string) string {
	v := r.str(name, "")
	if v == "" {
		r.fail(name, "is required")
	}
	return v
}

func (r *reader) url(name string, required bool, schemes ...string) string {
	v := r.str(name, "")
	if v == "" {
		if required {
			r.fail(name, "is required")
		}
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		r.fail(name, "must be a URL with a host")
		return ""
	}
	for _, s := range schemes {
		if u.Scheme == s {
			return v
		}
	}
	r.fail(name, fmt.Sprintf("must use scheme %s, got %q", strings.Join(schemes, " or "), u.Scheme))
	return ""
}

func (r *reader) integer(name string, def, lo, hi int) int {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.fail(name, fmt.Sprintf("must be an integer from %d to %d, got %q", lo, hi, v))
		return def
	}
	return n
}

// duration reads a duration within [lo, hi]; both bounds are stated in the
// error so an operator sees what is allowed.
func (r *reader) duration(name string, def, lo, hi time.Duration) time.Duration {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		r.fail(name, fmt.Sprintf("must be a duration from %s to %s (such as 500ms or 15m), got %q", lo, hi, v))
		return def
	}
	return d
}

func (r *reader) boolean(name string) bool {
	switch v := r.str(name, ""); v {
	case "", "false":
		return false
	case "true":
		return true
	default:
		r.fail(name, fmt.Sprintf("must be true or false, got %q", v))
		return false
	}
}

func (r *reader) fraction(name string, def float64) float64 {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1 {
		r.fail(name, fmt.Sprintf("must be a number from 0 to 1, got %q", v))
		return def
	}
	return f
}

func (r *reader) prefixes(name string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range strings.Split(r.getenv(name), ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			r.fail(name, fmt.Sprintf("must be comma-separated CIDRs such as 10.0.0.0/16, got %q", s))
			continue
		}
		out = append(out, p.Masked())
	}
	return out
}

func (r *reader) oneOf(name, def string, allowed ...string) string {
	v := r.str(name, def)
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	r.fail(name, fmt.Sprintf("must be one of %s, got %q", strings.Join(allowed, ", "), v))
	return def
}

func (r *reader) level(name string) slog.Level {
	var l slog.Level
	v := r.str(name, "info")
	if err := l.UnmarshalText([]byte(v)); err != nil {
		r.fail(name, fmt.Sprintf("must be debug, info, warn or error, got %q", v))
		return slog.LevelInfo
	}
	return l
}

func (r *reader) list(name string) []string {
	var out []string
	for _, s := range strings.Split(r.getenv(name), ",") {
		if s = strings.ToLower(strings.TrimSpace(s)); s != "" {
			out = append(out, s)
		}
	}
	return out
}
