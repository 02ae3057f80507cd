package platform

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/ecommerce-platform/services/internal/smfake"
)

const (
	testSecretARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/user/runtime-AbCdEf"
	dbPassword    = "s3cret-db-password"
)

// loadSecret runs LoadRuntimeSecret with env as the process environment,
// against sm.
func loadSecret(t *testing.T, sm *smfake.Server, env map[string]string) (func(string) string, error) {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return LoadRuntimeSecret(context.Background(), func(k string) string { return env[k] },
		func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(sm.URL) })
}

func TestRuntimeSecretSuppliesTheVariables(t *testing.T) {
	sm := smfake.New()
	defer sm.Close()
	sm.Put(testSecretARN, `{"DATABASE_URL": "postgres://user_app:`+dbPassword+`@db:5432/userdb", "AWS_REGION": "us-east-1",
		"SERVICE_NAME": "user", "REDIS_AUTH_TOKEN": ""}`)
	// As in a pod: the ARN, the pod's own settings, and AWS_REGION injected
	// by the pod identity webhook with the same value as the secret's.
	getenv, err := loadSecret(t, sm, map[string]string{
		RuntimeSecretVariable: testSecretARN, "HTTP_ADDR": ":8080", "AWS_REGION": "us-east-1", "REDIS_AUTH_TOKEN": "from-env",
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"DATABASE_URL": "postgres://user_app:" + dbPassword + "@db:5432/userdb", "SERVICE_NAME": "user",
		"HTTP_ADDR": ":8080", "AWS_REGION": "us-east-1",
		// An empty value in the secret is unset, as in the configuration.
		"REDIS_AUTH_TOKEN": "from-env", "QUEUE_URL": "",
	} {
		if got := getenv(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	// The region is the ARN's, whatever AWS_REGION says.
	if got := sm.SignedRegions(); !slices.Equal(got, []string{"eu-west-1"}) {
		t.Errorf("requests signed for %v, want the ARN's region eu-west-1", got)
	}
}

func TestRuntimeSecretUnsetReadsTheEnvironmentOnly(t *testing.T) {
	sm := smfake.New()
	defer sm.Close()
	getenv, err := loadSecret(t, sm, map[string]string{"DATABASE_URL": "postgres://x@db/x"})
	if err != nil || getenv("DATABASE_URL") != "postgres://x@db/x" {
		t.Fatalf("without %s: %v", RuntimeSecretVariable, err)
	}
	if n := len(sm.SignedRegions()); n != 0 {
		t.Errorf("%d requests to Secrets Manager without a secret ARN", n)
	}
}

func TestRuntimeSecretFailures(t *testing.T) {
	sm := smfake.New()
	defer sm.Close()
	arn := func(name string) string { return "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + name }
	sm.Deny(arn("denied"))
	sm.Put(arn("not-json"), "DATABASE_URL=postgres://x")
	sm.Put(arn("array"), `["DATABASE_URL"]`)
	sm.Put(arn("null"), `null`)
	sm.Put(arn("number"), `{"DB_MAX_CONNS": 10, "LOG_LEVEL": "info"}`)
	sm.Put(arn("bad-key"), `{"database-url": "x"}`)
	sm.Put(arn("platform"), `{"GOMEMLIMIT": "200MiB"}`)
	sm.Put(arn("clash"), `{"DATABASE_URL": "postgres://user_app:`+dbPassword+`@db/userdb", "AWS_REGION": "us-east-1", "QUEUE_URL": "http://q"}`)
	for _, c := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"not an ARN", map[string]string{RuntimeSecretVariable: "shop/user/runtime"}, []string{RuntimeSecretVariable, "is not a Secrets Manager secret ARN"}},
		{"another service's ARN", map[string]string{RuntimeSecretVariable: "arn:aws:sns:us-east-1:123456789012:topic"}, []string{RuntimeSecretVariable, "is not a Secrets Manager secret ARN"}},
		{"not found", map[string]string{RuntimeSecretVariable: arn("missing")}, []string{RuntimeSecretVariable, arn("missing"), "ResourceNotFoundException"}},
		{"access denied", map[string]string{RuntimeSecretVariable: arn("denied")}, []string{RuntimeSecretVariable, "AccessDeniedException", "not authorized"}},
		{"not JSON", map[string]string{RuntimeSecretVariable: arn("not-json")}, []string{RuntimeSecretVariable, "not a JSON object of strings"}},
		{"a JSON array", map[string]string{RuntimeSecretVariable: arn("array")}, []string{"not a JSON object of strings"}},
		{"JSON null", map[string]string{RuntimeSecretVariable: arn("null")}, []string{"not a JSON object of strings"}},
		{"a number", map[string]string{RuntimeSecretVariable: arn("number")}, []string{"DB_MAX_CONNS is not a string"}},
		{"a key that is no variable", map[string]string{RuntimeSecretVariable: arn("bad-key")}, []string{`"database-url" is not an environment variable name`}},
		{"a platform variable", map[string]string{RuntimeSecretVariable: arn("platform")}, []string{"GOMEMLIMIT", "only the process environment"}},
		{"a clash", map[string]string{RuntimeSecretVariable: arn("clash"), "DATABASE_URL": "postgres://postgres@db/userdb", "AWS_REGION": "eu-west-1", "QUEUE_URL": "http://q"},
			[]string{"DATABASE_URL is set in the environment and in the secret", "AWS_REGION is set in the environment and in the secret"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			getenv, err := loadSecret(t, sm, c.env)
			if err == nil {
				t.Fatalf("loaded; DATABASE_URL=%q", getenv("DATABASE_URL"))
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			t.Log(err)
			if strings.Contains(err.Error(), dbPassword) {
				t.Errorf("the error prints the secret's value: %v", err)
			}
			if c.name == "a clash" && strings.Contains(err.Error(), "QUEUE_URL") {
				t.Errorf("QUEUE_URL has the same value in both places, yet the error names it: %v", err)
			}
		})
	}
}
