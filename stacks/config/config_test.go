package config_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/stacks/config"
	"github.com/example/ecommerce-platform/stacks/offline"
	"github.com/example/ecommerce-platform/stacks/plan"
)

var shipped = []string{"dev", "staging", "prod"}

// rawConfig returns a shipped stack's config as the program receives it,
// keys without the namespace.
func rawConfig(t testing.TB, stack string) map[string]string {
	t.Helper()
	proj, err := plan.LoadProject("../..")
	require.NoError(t, err)
	cfg, err := proj.Config("../..", stack)
	require.NoError(t, err)
	return offline.Raw(cfg)
}

// edit changes one JSON-encoded key of raw through a function on its
// decoded value.
func edit(t *testing.T, raw map[string]string, key string, f func(v any) any) {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal([]byte(raw[key]), &v), key)
	b, err := json.Marshal(f(v))
	require.NoError(t, err)
	raw[key] = string(b)
}

// set edits one field of an object-valued key.
func set(key, name string, value any) func(t *testing.T, raw map[string]string) {
	return func(t *testing.T, raw map[string]string) {
		edit(t, raw, key, func(v any) any { v.(map[string]any)[name] = value; return v })
	}
}

// invalidCase mutates a valid stack config and names the key the error
// must report.
type invalidCase struct {
	name  string
	stack string
	apply func(t *testing.T, raw map[string]string)
	key   string
}

// runInvalid checks that each case is refused with a ValidationError naming
// its key, and that no Config comes back.
func runInvalid(t *testing.T, cases []invalidCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := rawConfig(t, tc.stack)
			tc.apply(t, raw)
			cfg, err := config.Parse(raw)
			require.Error(t, err)
			assert.Nil(t, cfg)
			var verr *config.ValidationError
			require.True(t, errors.As(err, &verr), "error is a ValidationError: %v", err)
			assert.Contains(t, verr.Keys(), tc.key, "error names the key:\n%v", err)
			assert.Contains(t, err.Error(), "ecommerce:"+tc.key+":", "message shows the full key")
		})
	}
}

func TestShippedStacksAreValid(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			cfg, err := config.Parse(rawConfig(t, stack))
			require.NoError(t, err)
			assert.Equal(t, stack, cfg.Environment)
			assert.Equal(t, cfg.MasterRegion, cfg.Ordered()[0].Name, "master region comes first")
		})
	}
}

func TestUnknownKeyIsRefused(t *testing.T) {
	runInvalid(t, []invalidCase{
		{"misspelt key", "dev", func(t *testing.T, raw map[string]string) { raw["regoins"] = "[]" }, "regoins"},
		{"misspelt integer key", "dev", func(t *testing.T, raw map[string]string) { raw["logRetentionDayz"] = "30" }, "logRetentionDayz"},
	})
}

func TestValidationReportsEveryProblemAtOnce(t *testing.T) {
	raw := rawConfig(t, "dev")
	raw["environment"] = "qa"
	raw["kubernetesVersion"] = "1.2"
	raw["natGateways"] = "none"
	edit(t, raw, "cache", func(v any) any { v.(map[string]any)["replicas"] = 9; return v })
	_, err := config.Parse(raw)
	var verr *config.ValidationError
	require.True(t, errors.As(err, &verr))
	assert.Equal(t, []string{"environment", "natGateways", "kubernetesVersion", "cache.replicas"}, verr.Keys(),
		"every problem, in section order")
}

// A key left out takes the default the section declares, the same one
// Pulumi.yaml declares for the CLI.
func TestMissingKeysTakeTheirDefaults(t *testing.T) {
	cfg, err := config.Parse(map[string]string{
		"accountId": "123456789012", "deployerRoleArn": "arn:aws:iam::123456789012:role/deployer", "domain": "shop.example.com",
		"services": `{"auth":{"image":"1.0.0"},"user":{"image":"1.0.0"},"product":{"image":"1.0.0"},"order":{"image":"1.0.0"}}`,
	})
	require.NoError(t, err)
	assert.Equal(t, "dev", cfg.Environment)
	assert.Equal(t, "us-east-1", cfg.MasterRegion)
	require.Len(t, cfg.Regions, 1)
	assert.Equal(t, 90, cfg.LogRetentionDays)
	assert.Equal(t, "db.t4g.medium", cfg.Database.InstanceClass)
	assert.Len(t, cfg.Events, 5, "the five domain events the services exchange")

	_, err = config.Parse(map[string]string{})
	var verr *config.ValidationError
	require.True(t, errors.As(err, &verr))
	assert.Equal(t, []string{"accountId", "deployerRoleArn", "services", "domain"}, verr.Keys(),
		"only the account, the deployer, what runs and the domain have no default: they must never be guessed")
}

// TestProjectFileDeclaresEveryKey keeps Pulumi.yaml and the sections in
// step: every key the program reads is declared with the same type and
// default and a description; nothing else is declared.
func TestProjectFileDeclaresEveryKey(t *testing.T) {
	proj, err := workspace.LoadProject("../../Pulumi.yaml")
	require.NoError(t, err)
	assert.Equal(t, config.Namespace, proj.Name.String())
	assert.Equal(t, "stacks", proj.StackConfigDir)
	want := config.Declarations()
	for key, decl := range proj.Config {
		d, ok := want[key]
		if !assert.True(t, ok, "Pulumi.yaml declares %s, which the program does not read", key) {
			continue
		}
		assert.Equal(t, d.Type, decl.TypeName(), "%s: type", key)
		assert.NotEmpty(t, decl.Description, "%s has a description", key)
		if d.Default == nil {
			assert.Nil(t, decl.Default, "%s has no default", key)
			continue
		}
		goDefault, err := json.Marshal(d.Default)
		require.NoError(t, err)
		yamlDefault, err := json.Marshal(decl.Default)
		require.NoError(t, err)
		assert.JSONEq(t, string(goDefault), string(yamlDefault), "%s: Pulumi.yaml's default equals the section's", key)
	}
	for key := range want {
		_, ok := proj.Config[key]
		assert.True(t, ok, "Pulumi.yaml declares %s", key)
	}
}

func TestLoadRefusesSecretsAndUnknownKeysFromTheEngine(t *testing.T) {
	raw := rawConfig(t, "dev")
	full := map[string]string{}
	for k, v := range raw {
		full[config.Namespace+":"+k] = v
	}
	// Under the CLI every key of the stack, ours and others', arrives in
	// PULUMI_CONFIG; a misspelt one of ours is refused, others' are not ours.
	engine := map[string]string{"ecommerce:logRetentionDayz": "30", "aws:region": "us-east-1"}
	for k, v := range full {
		engine[k] = v
	}
	doc, err := json.Marshal(engine)
	require.NoError(t, err)
	t.Setenv(config.EnvConfig, string(doc))
	_, err = loadUnderMocks(t, full, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ecommerce:logRetentionDayz: unknown key")
	assert.NotContains(t, err.Error(), "aws:region")

	t.Setenv(config.EnvConfig, "")
	_, err = loadUnderMocks(t, full, []string{"ecommerce:accountId"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ecommerce:accountId: must not be a secret")

	cfg, err := loadUnderMocks(t, full, nil)
	require.NoError(t, err)
	assert.Equal(t, "dev", cfg.Environment)
}
