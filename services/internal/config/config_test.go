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
		{Order, map[string]string{"SHUTDOWN_TIMEOUT": "soon"}, nil, "SHUTDOWN_TIMEOUT must be a non-negative duration"},
		{Order, map[string]string{"CACHE_TTL": "-1s"}, nil, "CACHE_TTL must be a non-negative duration"},
		{Order, map[string]string{"LOG_LEVEL": "loud"}, nil, "LOG_LEVEL must be"},
		{Auth, map[string]string{"LOGIN_MAX_FAILURES": "-1"}, nil, "LOGIN_MAX_FAILURES must be an integer from 0"},
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
