package stacks_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/stacks"
	"github.com/example/ecommerce-platform/stacks/plan"
)

// rawConfig returns a stack's config as the program receives it, keys
// without the namespace.
func rawConfig(t testing.TB, stack string) map[string]string {
	t.Helper()
	proj, err := plan.LoadProject("..")
	require.NoError(t, err)
	cfg, err := proj.Config("..", stack)
	require.NoError(t, err)
	raw := map[string]string{}
	for k, v := range cfg {
		if key, ok := strings.CutPrefix(k, stacks.Namespace+":"); ok {
			raw[key] = v
		}
	}
	return raw
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

func regionAt(v any, i int) map[string]any { return v.([]any)[i].(map[string]any) }

func TestShippedStacksAreValid(t *testing.T) {
	for _, stack := range []string{"dev", "staging", "prod"} {
		t.Run(stack, func(t *testing.T) {
			cfg, err := stacks.Parse(rawConfig(t, stack))
			require.NoError(t, err)
			assert.Equal(t, stack, cfg.Environment)
			assert.Equal(t, cfg.MasterRegion, cfg.Ordered()[0].Name, "master region comes first")
		})
	}
}

func TestProdTopology(t *testing.T) {
	cfg, err := stacks.Parse(rawConfig(t, "prod"))
	require.NoError(t, err)
	var names []string
	for _, r := range cfg.Regions {
		names = append(names, r.Name)
		assert.Len(t, r.AvailabilityZones, 3, r.Name)
	}
	assert.Equal(t, []string{"us-east-1", "eu-west-1", "ap-south-1"}, names)
	assert.Equal(t, "us-east-1", cfg.MasterRegion)
	assert.Equal(t, "perAz", cfg.NatGateways)
}

func TestInvalidConfigNamesTheKey(t *testing.T) {
	cases := []invalidCase{
		{"unknown environment", "dev", func(t *testing.T, raw map[string]string) { raw["environment"] = "qa" }, "environment"},
		{"short account id", "dev", func(t *testing.T, raw map[string]string) { raw["accountId"] = "12345" }, "accountId"},
		{"missing account id", "dev", func(t *testing.T, raw map[string]string) { delete(raw, "accountId") }, "accountId"},
		{"master not among regions", "dev", func(t *testing.T, raw map[string]string) { raw["masterRegion"] = "eu-west-1" }, "masterRegion"},
		{"unknown region name", "dev", func(t *testing.T, raw map[string]string) {
			edit(t, raw, "regions", func(v any) any { regionAt(v, 0)["name"] = "us-east1"; return v })
		}, "regions[0].name"},
		{"duplicate region", "staging", func(t *testing.T, raw map[string]string) {
			edit(t, raw, "regions", func(v any) any {
				r := regionAt(v, 1)
				r["name"] = "us-east-1"
				r["availabilityZones"] = []string{"us-east-1a", "us-east-1b"}
				return v
			})
		}, "regions[1].name"},
		{"no regions", "dev", func(t *testing.T, raw map[string]string) { raw["regions"] = "[]" }, "regions"},
		{"regions not a list", "dev", func(t *testing.T, raw map[string]string) { raw["regions"] = `{"name":"us-east-1"}` }, "regions"},
		{"vpc cidr not a cidr", "dev", func(t *testing.T, raw map[string]string) {
			edit(t, raw, "regions", func(v any) any { regionAt(v, 0)["vpcCidr"] = "banana"; return v })
		}, "regions[0].vpcCidr"},
		{"vpc cidr too large", "dev", func(t *testing.T, raw map[string]string) {
			edit(t, raw, "regions", func(v any) any { regionAt(v, 0)["vpcCidr"] = "10.0.0.0/8"; return v })
		}, "regions[0].vpcCidr"},
		{"vpc cidr too small for the subnet plan", "dev", func(t *testing.T, raw map[string]string) {
			edit(t, raw, "regions", func(v any) any { regionAt(v, 0)["vpcCidr"] = "10.10.0.0/24"; return v })
		}, "regions[0].vpcCidr"},
		{"vpc cidr with host bits", "dev", func(t *testing.T, raw map[string]string) {
			edit(t, raw, "regions", func(v any) any { regionAt(v, 0)["vpcCidr"] = "10.10.1.0/16"; return v })
		}, "regions[0].vpcCidr"},
		{"vpc cidrs overlap across regions", "staging", func(t *testing.T, raw map[string]string) {
			edit(t, raw, "regions", func(v any) any { regionAt(v, 1)["vpcCidr"] = "10.20.0.0/18"; return v })
		}, "regions[1].vpcCidr"},
		{"one availability zone", "dev", func(t *testing.T, raw map[string]string) {
			edit(t, raw, "regions", func(v any) any { regionAt(v, 0)["availabilityZones"] = []string{"us-east-1a"}; return v })
		}, "regions[0].availabilityZones"},
		{"four availability zones", "dev", func(t *testing.T, raw map[string]string) {
			edit(t, raw, "regions", func(v any) any {
				regionAt(v, 0)["availabilityZones"] = []string{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"}
				return v
			})
		}, "regions[0].availabilityZones"},
		{"zone of another region", "dev", func(t *testing.T, raw map[string]string) {
			edit(t, raw, "regions", func(v any) any { regionAt(v, 0)["availabilityZones"] = []string{"us-east-1a", "eu-west-1b"}; return v })
		}, "regions[0].availabilityZones[1]"},
		{"zone listed twice", "dev", func(t *testing.T, raw map[string]string) {
			edit(t, raw, "regions", func(v any) any { regionAt(v, 0)["availabilityZones"] = []string{"us-east-1a", "us-east-1a"}; return v })
		}, "regions[0].availabilityZones[1]"},
		{"unknown field in a region", "dev", func(t *testing.T, raw map[string]string) {
			edit(t, raw, "regions", func(v any) any { regionAt(v, 0)["cidr"] = "10.0.0.0/16"; return v })
		}, "regions"},
		{"unsupported kubernetes version", "dev", func(t *testing.T, raw map[string]string) { raw["kubernetesVersion"] = "1.20" }, "kubernetesVersion"},
		{"node group min above desired", "dev", func(t *testing.T, raw map[string]string) {
			edit(t, raw, "systemNodeGroup", func(v any) any { v.(map[string]any)["minSize"] = 3; return v })
		}, "systemNodeGroup"},
		{"node group desired above max", "dev", func(t *testing.T, raw map[string]string) {
			edit(t, raw, "workloadNodeGroup", func(v any) any { v.(map[string]any)["desiredSize"] = 9; return v })
		}, "workloadNodeGroup"},
		{"node group without instance types", "dev", func(t *testing.T, raw map[string]string) {
			edit(t, raw, "workloadNodeGroup", func(v any) any { v.(map[string]any)["instanceTypes"] = []string{}; return v })
		}, "workloadNodeGroup.instanceTypes"},
		{"malformed instance type", "dev", func(t *testing.T, raw map[string]string) {
			edit(t, raw, "systemNodeGroup", func(v any) any { v.(map[string]any)["instanceTypes"] = []string{"large"}; return v })
		}, "systemNodeGroup.instanceTypes[0]"},
		{"node disk too small", "dev", func(t *testing.T, raw map[string]string) {
			edit(t, raw, "systemNodeGroup", func(v any) any { v.(map[string]any)["diskSizeGiB"] = 5; return v })
		}, "systemNodeGroup.diskSizeGiB"},
		{"unknown node group field", "dev", func(t *testing.T, raw map[string]string) {
			edit(t, raw, "systemNodeGroup", func(v any) any { v.(map[string]any)["desired"] = 2; return v })
		}, "systemNodeGroup"},
		{"unknown nat mode", "dev", func(t *testing.T, raw map[string]string) { raw["natGateways"] = "none" }, "natGateways"},
		{"prod with a single nat gateway", "prod", func(t *testing.T, raw map[string]string) { raw["natGateways"] = "single" }, "natGateways"},
		{"retention CloudWatch does not accept", "dev", func(t *testing.T, raw map[string]string) { raw["logRetentionDays"] = "10" }, "logRetentionDays"},
		{"retention not a number", "dev", func(t *testing.T, raw map[string]string) { raw["logRetentionDays"] = "ninety" }, "logRetentionDays"},
		{"api open to the internet", "dev", func(t *testing.T, raw map[string]string) { raw["clusterPublicAccessCidrs"] = `["0.0.0.0/0"]` }, "clusterPublicAccessCidrs[0]"},
		{"api cidr malformed", "dev", func(t *testing.T, raw map[string]string) { raw["clusterPublicAccessCidrs"] = `["10.0.0.300/24"]` }, "clusterPublicAccessCidrs[0]"},
		{"admin role not an ARN", "dev", func(t *testing.T, raw map[string]string) { raw["clusterAdminRoleArn"] = "platform-admin" }, "clusterAdminRoleArn"},
		{"admin role of another account", "dev", func(t *testing.T, raw map[string]string) {
			raw["clusterAdminRoleArn"] = "arn:aws:iam::999999999999:role/platform-admin"
		}, "clusterAdminRoleArn"},
		{"misspelt key", "dev", func(t *testing.T, raw map[string]string) { raw["regoins"] = "[]" }, "regoins"},
	}
	require.GreaterOrEqual(t, len(cases), 15)
	runInvalid(t, cases)
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
			cfg, err := stacks.Parse(raw)
			require.Error(t, err)
			assert.Nil(t, cfg)
			var verr *stacks.ValidationError
			require.True(t, errors.As(err, &verr), "error is a ValidationError: %v", err)
			assert.Contains(t, verr.Keys(), tc.key, "error names the key:\n%v", err)
			assert.Contains(t, err.Error(), "ecommerce:"+tc.key+":", "message shows the full key")
		})
	}
}

func TestValidationReportsEveryProblemAtOnce(t *testing.T) {
	raw := rawConfig(t, "dev")
	raw["environment"] = "qa"
	raw["kubernetesVersion"] = "1.2"
	raw["natGateways"] = "none"
	_, err := stacks.Parse(raw)
	var verr *stacks.ValidationError
	require.True(t, errors.As(err, &verr))
	assert.ElementsMatch(t, []string{"environment", "kubernetesVersion", "natGateways"}, verr.Keys())
}

func TestInvalidConfigCreatesNothing(t *testing.T) {
	proj, err := plan.LoadProject("..")
	require.NoError(t, err)
	cfg, err := proj.Config("..", "staging")
	require.NoError(t, err)
	cfg["ecommerce:masterRegion"] = "ap-south-1"
	inv, err := plan.Run(proj.Name, "staging", cfg, stacks.Program)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ecommerce:masterRegion")
	assert.Empty(t, inv.Resources, "no resource may be registered before validation passes")
}

// TestProjectFileDeclaresEveryKey keeps Pulumi.yaml, the Go config and the
// stack files in step: every key the program reads is declared with a type
// and a description, and only accountId (which must never be guessed) has
// no default.
func TestProjectFileDeclaresEveryKey(t *testing.T) {
	proj, err := workspace.LoadProject("../Pulumi.yaml")
	require.NoError(t, err)
	assert.Equal(t, stacks.Namespace, proj.Name.String())
	assert.Equal(t, "stacks", proj.StackConfigDir)
	declared := map[string]bool{}
	for key, decl := range proj.Config {
		declared[key] = true
		assert.NotEmpty(t, decl.TypeName(), "%s has a type", key)
		assert.NotEmpty(t, decl.Description, "%s has a description", key)
		if key != stacks.KeyAccountID {
			assert.NotNil(t, decl.Default, "%s has a default", key)
		}
	}
	for _, key := range stacks.AllKeys() {
		assert.True(t, declared[key], "Pulumi.yaml declares %s", key)
		delete(declared, key)
	}
	assert.Empty(t, declared, "Pulumi.yaml declares keys the program does not read")
}
