package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Variables the platform reads from the process environment itself, before
// (and outside) the configuration: services/runtime-contract.json lists
// them in its "platform" section.
const (
	// RuntimeSecretVariable is the ARN of the Secrets Manager secret whose
	// JSON object of strings supplies the configuration variables: the
	// runtime secret when serving, the migration secret in migrate mode.
	RuntimeSecretVariable = "RUNTIME_SECRET_ARN"
	// MemoryLimitVariable is the Go runtime's soft memory limit. The
	// runtime reads it when the process starts, so only the pod spec can
	// set it; the start-up log reports the limit in force.
	MemoryLimitVariable = "GOMEMLIMIT"
)

// PlatformVariables are the variables above.
var PlatformVariables = []string{MemoryLimitVariable, RuntimeSecretVariable}

// secretARN is arn:<partition>:secretsmanager:<region>:<account>:secret:<name>.
var secretARN = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:([a-z]{2}(?:-[a-z]+)+-[0-9]+):[0-9]{12}:secret:.+$`)

// variableName is what an environment variable may be called here.
var variableName = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)

// secretTimeout bounds the whole read, the SDK's retries included: a
// process that cannot read its settings should say so, not hang.
const secretTimeout = 30 * time.Second

// LoadRuntimeSecret returns getenv extended with the variables of the
// secret named by RUNTIME_SECRET_ARN, or getenv itself when that is unset.
// It reads the secret with the SDK's default credentials (IRSA in EKS),
// signed for the region in the ARN. The secret must be a JSON object of
// strings. A variable set in both the environment and the secret with
// different values is an error naming it: one place must decide a setting
// (the pod identity webhook sets AWS_REGION, which the secret also holds,
// to the same value). Empty values count as unset, as they do in the
// configuration. opts adjust the client (tests point it at a local server;
// AWS_ENDPOINT_URL_SECRETS_MANAGER does the same from the environment).
func LoadRuntimeSecret(ctx context.Context, getenv func(string) string, opts ...func(*secretsmanager.Options)) (func(string) string, error) {
	arn := strings.TrimSpace(getenv(RuntimeSecretVariable))
	if arn == "" {
		return getenv, nil
	}
	m := secretARN.FindStringSubmatch(arn)
	if m == nil {
		return nil, fmt.Errorf("%s %q is not a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)", RuntimeSecretVariable, arn)
	}
	ctx, cancel := context.WithTimeout(ctx, secretTimeout)
	defer cancel()
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(m[1]))
	if err != nil {
		return nil, fmt.Errorf("%s %s: load AWS config: %w", RuntimeSecretVariable, arn, err)
	}
	out, err := secretsmanager.NewFromConfig(cfg, opts...).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("%s %s: cannot read the secret: %w", RuntimeSecretVariable, arn, err)
	}
	if out.SecretString == nil {
		return nil, fmt.Errorf("%s %s: the secret holds binary data, not a JSON object of strings", RuntimeSecretVariable, arn)
	}
	vars, err := parseSecret(*out.SecretString)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", RuntimeSecretVariable, arn, err)
	}
	var errs []error
	for _, k := range sortedKeys(vars) {
		for _, p := range PlatformVariables {
			if k == p {
				errs = append(errs, fmt.Errorf("%s %s: holds %s, which only the process environment (the pod spec) can set", RuntimeSecretVariable, arn, k))
			}
		}
		if env := getenv(k); env != "" && vars[k] != "" && env != vars[k] {
			// Never print the values: the secret holds credentials.
			errs = append(errs, fmt.Errorf("%s is set in the environment and in the secret %s (%s) with different values; set it in one place", k, arn, RuntimeSecretVariable))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return func(k string) string {
		if v := vars[k]; v != "" {
			return v
		}
		return getenv(k)
	}, nil
}

// parseSecret decodes a JSON object whose values are all strings, naming
// the key whose value is not.
func parseSecret(s string) (map[string]string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &raw); err != nil || raw == nil {
		if err == nil {
			err = errors.New("null")
		}
		return nil, fmt.Errorf("the secret is not a JSON object of strings: %w", err)
	}
	vars := make(map[string]string, len(raw))
	var errs []error
	for _, k := range sortedKeys(raw) {
		if !variableName.MatchString(k) {
			errs = append(errs, fmt.Errorf("the secret's key %q is not an environment variable name (A-Z, 0-9, _)", k))
			continue
		}
		var v string
		if err := json.Unmarshal(raw[k], &v); err != nil {
			errs = append(errs, fmt.Errorf("the secret's %s is not a string", k))
			continue
		}
		vars[k] = v
	}
	return vars, errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
