package config_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/example/ecommerce-platform/services/internal/config"
	"github.com/example/ecommerce-platform/services/internal/platform"
)

// contract is services/runtime-contract.json, which the infrastructure's
// tests read too: what each service requires, and what any service reads.
type contract struct {
	Services map[string]struct {
		Required        []string `json:"required"`
		ReplicaRequired []string `json:"replicaRequired"`
	} `json:"services"`
	Migrate struct {
		Required []string `json:"required"`
	} `json:"migrate"`
	Platform struct {
		Variables []string `json:"variables"`
	} `json:"platform"`
	Optional []string `json:"optional"`
}

func loadContract(t *testing.T) contract {
	t.Helper()
	b, err := os.ReadFile("../../runtime-contract.json")
	if err != nil {
		t.Fatal(err)
	}
	var c contract
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("runtime-contract.json: %v", err)
	}
	return c
}

// samples are valid values for the variables a service may require.
var samples = map[string]string{
	"AWS_REGION":         "us-east-1",
	"DATABASE_URL":       "postgres://app:pw@db.example:5432/appdb?sslmode=require",
	"JWT_SIGNING_KEY":    base64.StdEncoding.EncodeToString(make([]byte, 32)),
	"TOPIC_ARN":          "arn:aws:sns:us-east-1:123456789012:events",
	"QUEUE_URL":          "https://sqs.us-east-1.amazonaws.com/123456789012/queue",
	"AUTH_JWKS_URL":      "http://auth.auth.svc.cluster.local/v1/auth/jwks",
	"PRODUCT_API_URL":    "http://product.product.svc.cluster.local",
	"REDIS_URL":          "rediss://cache.example:6379",
	"APP_DB_USER":        "svc_app",
	"APP_DB_PASSWORD":    strings.Repeat("x", 40),
	"READER_DB_USER":     "svc_reader",
	"READER_DB_PASSWORD": strings.Repeat("y", 40),
	"DATABASE_ROLE":      "replica",
}

// TestRuntimeContract keeps runtime-contract.json true: each service starts
// with exactly its required variables, fails naming any one of them when it
// is missing, and reads nothing the contract does not list.
func TestRuntimeContract(t *testing.T) {
	c := loadContract(t)
	for _, svc := range []string{config.Auth, config.User, config.Product, config.Order} {
		spec, ok := c.Services[svc]
		if !ok {
			t.Fatalf("runtime-contract.json has no entry for %s", svc)
		}
		for mode, required := range map[string][]string{"primary": spec.Required, "replica": spec.ReplicaRequired} {
			t.Run(svc+"/"+mode, func(t *testing.T) {
				if len(required) == 0 {
					t.Fatalf("runtime-contract.json lists nothing %s requires as a %s", svc, mode)
				}
				env := map[string]string{}
				for _, k := range required {
					v := samples[k]
					if k == "SERVICE_NAME" {
						v = svc
					}
					if v == "" {
						t.Fatalf("the test has no sample value for required %s", k)
					}
					env[k] = v
				}
				read := map[string]bool{}
				getenv := func(k string) string { read[k] = true; return env[k] }
				if _, err := config.Load(getenv); err != nil {
					t.Fatalf("%s does not start with exactly its required variables: %v", svc, err)
				}
				listed := append(slices.Clone(required), c.Optional...)
				var unlisted []string
				for k := range read {
					if !slices.Contains(listed, k) {
						unlisted = append(unlisted, k)
					}
				}
				sort.Strings(unlisted)
				if len(unlisted) > 0 {
					t.Errorf("%s reads %v, which runtime-contract.json does not list; add them (and have the infrastructure set any it must)", svc, unlisted)
				}
				for _, k := range listed {
					if !read[k] {
						t.Errorf("runtime-contract.json lists %s, which %s no longer reads", k, svc)
					}
				}
				for _, k := range required {
					without := map[string]string{}
					for kk, v := range env {
						if kk != k {
							without[kk] = v
						}
					}
					_, err := config.Load(func(k string) string { return without[k] })
					if err == nil || !strings.Contains(err.Error(), k) {
						t.Errorf("%s starts without %s, which the contract says it requires (error: %v)", svc, k, err)
					}
				}
			})
		}
	}
}

// TestMigrateContract keeps the "migrate" section true: migrate mode runs
// with exactly its required variables, fails naming any one of them when
// it is missing, and reads nothing else (the infrastructure's migration
// secret holds exactly these).
func TestMigrateContract(t *testing.T) {
	c := loadContract(t)
	env := map[string]string{}
	for _, k := range c.Migrate.Required {
		if samples[k] == "" && k != "SERVICE_NAME" {
			t.Fatalf("the test has no sample value for required %s", k)
		}
		env[k] = samples[k]
	}
	env["SERVICE_NAME"] = config.Order
	read := map[string]bool{}
	if _, err := config.LoadMigrate(func(k string) string { read[k] = true; return env[k] }); err != nil {
		t.Fatalf("migrate mode does not run with exactly its required variables: %v", err)
	}
	for k := range read {
		if !slices.Contains(c.Migrate.Required, k) {
			t.Errorf("migrate mode reads %s, which the contract's migrate section does not list", k)
		}
	}
	for _, k := range c.Migrate.Required {
		if !read[k] {
			t.Errorf("the contract's migrate section lists %s, which migrate mode no longer reads", k)
		}
		without := maps.Clone(env)
		delete(without, k)
		if _, err := config.LoadMigrate(func(k string) string { return without[k] }); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("migrate mode runs without %s, which the contract says it requires (error: %v)", k, err)
		}
	}
}

// TestPlatformContract keeps the "platform" section true: in either mode,
// what the process reads from its environment besides its configuration is
// exactly that list, and the platform refuses a secret holding one of them.
func TestPlatformContract(t *testing.T) {
	c := loadContract(t)
	want := slices.Sorted(slices.Values(c.Platform.Variables))
	if got := slices.Sorted(slices.Values(platform.PlatformVariables)); !slices.Equal(got, want) {
		t.Errorf("platform.PlatformVariables is %v, the contract's platform section %v", got, want)
	}
	for _, mode := range []struct {
		args []string
		load func(getenv func(string) string)
	}{
		{nil, func(g func(string) string) { _, _ = config.Load(g) }},
		{[]string{"migrate"}, func(g func(string) string) { _, _ = config.LoadMigrate(g) }},
	} {
		configReads := map[string]bool{}
		mode.load(func(k string) string { configReads[k] = true; return "" })
		reads := map[string]bool{}
		// An empty environment: the configuration is refused before
		// anything connects anywhere.
		err := platform.Run(context.Background(), config.User, mode.args, func(k string) string { reads[k] = true; return "" },
			io.Discard, nil, nil)
		if err == nil {
			t.Fatalf("%v: started with an empty environment", mode.args)
		}
		var outside []string
		for k := range reads {
			if !configReads[k] {
				outside = append(outside, k)
			}
		}
		sort.Strings(outside)
		if !slices.Equal(outside, want) {
			t.Errorf("%v: the process reads %v outside its configuration; the contract's platform section lists %v", mode.args, outside, want)
		}
	}
}
