package config

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"
	"time"
)

func keyPEM(t *testing.T) string {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func valid(t *testing.T, service string) map[string]string {
	m := map[string]string{
		"SERVICE_NAME": service, "DATABASE_URL": "postgres://app:secret@db:5432/app", "AWS_REGION": "eu-west-1",
		"QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123/q", "TOPIC_ARN": "arn:aws:sns:eu-west-1:123:t",
		"AUTH_JWKS_URL": "http://auth/v1/auth/jwks", "PRODUCT_API_URL": "http://product", "REDIS_URL": "rediss://cache:6379",
	}
	if service == Auth {
		m["JWT_SIGNING_KEY"] = keyPEM(t)
	}
	return m
}

func load(m map[string]string) (Config, error) {
	return Load(func(k string) string { return m[k] })
}

func TestLoadValid(t *testing.T) {
	for _, s := range []string{Auth, User, Product, Order} {
		c, err := load(valid(t, s))
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if c.HTTPAddr != ":8080" || c.DBMaxConns != 10 || c.QueueWaitSeconds != 20 || c.AccessTokenTTL != 15*time.Minute {
			t.Fatalf("%s: defaults not applied: %+v", s, c)
		}
	}
}

func TestLoadNamesTheVariable(t *testing.T) {
	cases := []struct {
		service string
		set     map[string]string
		unset   []string
		want    string
	}{
		{Order, nil, []string{"SERVICE_NAME"}, "SERVICE_NAME is required"},
		{Order, map[string]string{"SERVICE_NAME": "billing"}, nil, "SERVICE_NAME must be one of"},
		{Order, nil, []string{"DATABASE_URL"}, "DATABASE_URL is required"},
		{Order, map[string]string{"DATABASE_URL": "mysql://x/y"}, nil, "DATABASE_URL must use scheme"},
		{Order, map[string]string{"DATABASE_READ_URL": "::"}, nil, "DATABASE_READ_URL must be a URL"},
		{Order, nil, []string{"PRODUCT_API_URL"}, "PRODUCT_API_URL is required for the order service"},
		{Order, nil, []string{"AWS_REGION"}, "AWS_REGION is required"},
		{Order, map[string]string{"TOPIC_ARN": "orders"}, nil, "TOPIC_ARN must be an ARN"},
		{Product, nil, []string{"REDIS_URL"}, "REDIS_URL is required for the product service"},
		{Product, map[string]string{"REDIS_URL": "http://cache"}, nil, "REDIS_URL must use scheme redis or rediss"},
		{User, nil, []string{"QUEUE_URL"}, "QUEUE_URL is required for the user service"},
		{User, nil, []string{"AUTH_JWKS_URL"}, "AUTH_JWKS_URL is required"},
		{Auth, nil, []string{"JWT_SIGNING_KEY"}, "JWT_SIGNING_KEY is required"},
		{Auth, map[string]string{"JWT_SIGNING_KEY": "not pem"}, nil, "JWT_SIGNING_KEY is neither PEM nor a base64 32-byte Ed25519 seed"},
		{Auth, map[string]string{"JWT_SIGNING_KEY": "c2hvcnQ="}, nil, "JWT_SIGNING_KEY is neither PEM nor a base64 32-byte Ed25519 seed"},
		{Auth, map[string]string{"JWT_SIGNING_KEY": "-----BEGIN PRIVATE KEY-----\nxx\n-----END PRIVATE KEY-----\n"}, nil, "JWT_SIGNING_KEY is not PEM"},
		{Order, map[string]string{"DB_MAX_CONNS": "0"}, nil, "DB_MAX_CONNS must be an integer from 1"},
		{Order, map[string]string{"QUEUE_WAIT_SECONDS": "21"}, nil, "QUEUE_WAIT_SECONDS must be an integer from 0 to 20"},
		{Order, map[string]string{"QUEUE_VISIBILITY_TIMEOUT_SECONDS": "5", "QUEUE_WAIT_SECONDS": "10"}, nil, "QUEUE_VISIBILITY_TIMEOUT_SECONDS must be greater"},
		{Order, map[string]string{"SHUTDOWN_TIMEOUT": "soon"}, nil, "SHUTDOWN_TIMEOUT must be a duration from 1s to 10m0s"},
		{Order, map[string]string{"CACHE_TTL": "-1s"}, nil, "CACHE_TTL must be a duration from 1s to 24h0m0s"},
		// Zero values that used to be accepted and did harm: a relay that
		// spins, tokens that are born expired, no drain, cache without expiry.
		{Order, map[string]string{"OUTBOX_POLL_INTERVAL": "0s"}, nil, "OUTBOX_POLL_INTERVAL must be a duration from 10ms to 1m0s"},
		{Auth, map[string]string{"ACCESS_TOKEN_TTL": "0s"}, nil, "ACCESS_TOKEN_TTL must be a duration from 1m0s to 24h0m0s"},
		{Order, map[string]string{"SHUTDOWN_TIMEOUT": "0s"}, nil, "SHUTDOWN_TIMEOUT must be a duration from 1s"},
		{Product, map[string]string{"CACHE_TTL": "0"}, nil, "CACHE_TTL must be a duration from 1s"},
		{Auth, map[string]string{"REFRESH_TOKEN_TTL": "1m"}, nil, "REFRESH_TOKEN_TTL must be a duration from 1h0m0s"},
		{Auth, map[string]string{"LOGIN_FAILURE_WINDOW": "0s"}, nil, "LOGIN_FAILURE_WINDOW must be a duration from 1m0s"},
		{Order, map[string]string{"SHUTDOWN_DELAY": "1h"}, nil, "SHUTDOWN_DELAY must be a duration from 0s to 5m0s"},
		{Auth, map[string]string{"PASSWORD_HASH_MEMORY_KB": "0"}, nil, "PASSWORD_HASH_MEMORY_KB must be an integer from 8192"},
		{Auth, map[string]string{"PASSWORD_HASH_MEMORY_BUDGET_MB": "0"}, nil, "PASSWORD_HASH_MEMORY_BUDGET_MB must be an integer from 8"},
		{Auth, map[string]string{"PASSWORD_HASH_WAIT": "1h"}, nil, "PASSWORD_HASH_WAIT must be a duration from 0s to 30s"},
		{Auth, map[string]string{"LOGIN_IP_WINDOW": "0s"}, nil, "LOGIN_IP_WINDOW must be a duration from 1s"},
		{Auth, map[string]string{"TRUSTED_PROXY_CIDRS": "10.0.0.0/16,not-a-cidr"}, nil, `TRUSTED_PROXY_CIDRS must be comma-separated CIDRs such as 10.0.0.0/16, got "not-a-cidr"`},
		{Order, map[string]string{"ACCESS_LOG_SAMPLE_RATE": "2"}, nil, "ACCESS_LOG_SAMPLE_RATE must be a number from 0 to 1"},
		{Order, map[string]string{"JWKS_REFRESH_INTERVAL": "0s"}, nil, "JWKS_REFRESH_INTERVAL must be a duration from 1s"},
		{Product, map[string]string{"LOCAL_CACHE_TTL": "1h"}, nil, "LOCAL_CACHE_TTL must be a duration from 0s to 5m0s"},
		{Product, map[string]string{"LOCAL_CACHE_MAX_ENTRIES": "0"}, nil, "LOCAL_CACHE_MAX_ENTRIES must be an integer from 1"},
		{Order, map[string]string{"ORDER_REDRIVE_AFTER": "0s"}, nil, "ORDER_REDRIVE_AFTER must be a duration from 1s"},
		{Order, map[string]string{"ORDER_REDRIVE_AFTER": "10m", "ORDER_CANCEL_AFTER": "5m"}, nil, "ORDER_CANCEL_AFTER must be longer than ORDER_REDRIVE_AFTER"},
		{Order, map[string]string{"ORDER_RECONCILE_INTERVAL": "0s"}, nil, "ORDER_RECONCILE_INTERVAL must be a duration from 100ms"},
		{Order, map[string]string{"PRUNE_INTERVAL": "0s"}, nil, "PRUNE_INTERVAL must be a duration from 1s"},
		{Order, map[string]string{"PROCESSED_MESSAGES_RETENTION": "1m"}, nil, "PROCESSED_MESSAGES_RETENTION must be a duration from 1h0m0s"},
		{Order, map[string]string{"LOG_LEVEL": "loud"}, nil, "LOG_LEVEL must be"},
		{Auth, map[string]string{"LOGIN_MAX_FAILURES": "-1"}, nil, "LOGIN_MAX_FAILURES must be an integer from 0"},
		{Order, map[string]string{"DATABASE_ROLE": "writer"}, nil, `DATABASE_ROLE must be one of primary, replica, got "writer"`},
		{Order, map[string]string{"DATABASE_ROLE": "replica"}, nil, "TOPIC_ARN must not be set with DATABASE_ROLE=replica"},
		{User, map[string]string{"DATABASE_ROLE": "replica", "MIGRATE_ON_START": "true"}, nil, "MIGRATE_ON_START must not be set with DATABASE_ROLE=replica"},
		{Product, map[string]string{"DATABASE_ROLE": "replica", "TOPIC_ARN": ""}, []string{"QUEUE_URL"}, "QUEUE_URL is required for the product service"},
	}
	for _, c := range cases {
		m := valid(t, c.service)
		for k, v := range c.set {
			m[k] = v
		}
		for _, k := range c.unset {
			delete(m, k)
		}
		_, err := load(m)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v: error %v, want it to contain %q", c.set, c.unset, err, c.want)
		}
	}
}

func TestHashSlotsFromBudget(t *testing.T) {
	m := valid(t, Auth)
	m["PASSWORD_HASH_MEMORY_KB"], m["PASSWORD_HASH_MEMORY_BUDGET_MB"] = "19456", "128"
	c, err := load(m)
	if err != nil {
		t.Fatal(err)
	}
	if c.HashSlots() != 6 { // 128 MiB / 19 MiB
		t.Fatalf("%d slots", c.HashSlots())
	}
	m["PASSWORD_HASH_MEMORY_BUDGET_MB"] = "8"
	if c, _ = load(m); c.HashSlots() != 1 {
		t.Fatalf("a budget below one hash must still allow one, got %d", c.HashSlots())
	}
}

func TestStringMasksSecrets(t *testing.T) {
	c, err := load(valid(t, Product))
	if err != nil {
		t.Fatal(err)
	}
	if s := c.String(); strings.Contains(s, "secret") || !strings.Contains(s, "postgres://app@db") {
		t.Fatalf("String() = %s", s)
	}
}

func TestParseSigningKeyRejectsOtherKeys(t *testing.T) {
	if _, err := ParseSigningKey("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"); err == nil {
		t.Fatal("accepted garbage")
	}
	if _, err := ParseSigningKey(keyPEM(t)); err != nil {
		t.Fatal(err)
	}
}

// The infrastructure stores the signing key as a base64 seed; the same seed
// must give the same key in every region, or tokens signed in one region
// would not verify against another region's JWKS.
func TestSigningKeyFromSeed(t *testing.T) {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i)
	}
	k1, err := ParseSigningKey(base64.StdEncoding.EncodeToString(seed))
	if err != nil {
		t.Fatal(err)
	}
	k2, err := ParseSigningKey(base64.StdEncoding.EncodeToString(seed) + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equal(k2) || !k1.Equal(ed25519.NewKeyFromSeed(seed)) {
		t.Fatal("the same seed must give the same key")
	}
}
