package config_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/stacks/config"
)

func regionAt(v any, i int) map[string]any { return v.([]any)[i].(map[string]any) }

// editRegion changes region i of the regions key.
func editRegion(i int, f func(r map[string]any)) func(t *testing.T, raw map[string]string) {
	return func(t *testing.T, raw map[string]string) {
		edit(t, raw, "regions", func(v any) any { f(regionAt(v, i)); return v })
	}
}

func TestInvalidRegionsSection(t *testing.T) {
	runInvalid(t, []invalidCase{
		{"master not among regions", "dev", func(t *testing.T, raw map[string]string) { raw["masterRegion"] = "eu-west-1" }, "masterRegion"},
		{"unknown region name", "dev", editRegion(0, func(r map[string]any) { r["name"] = "us-east1" }), "regions[0].name"},
		{"duplicate region", "staging", editRegion(1, func(r map[string]any) {
			r["name"] = "us-east-1"
			r["availabilityZones"] = []string{"us-east-1a", "us-east-1b"}
		}), "regions[1].name"},
		{"no regions", "dev", func(t *testing.T, raw map[string]string) { raw["regions"] = "[]" }, "regions"},
		{"regions not a list", "dev", func(t *testing.T, raw map[string]string) { raw["regions"] = `{"name":"us-east-1"}` }, "regions"},
		{"vpc cidr not a cidr", "dev", editRegion(0, func(r map[string]any) { r["vpcCidr"] = "banana" }), "regions[0].vpcCidr"},
		{"vpc cidr too large", "dev", editRegion(0, func(r map[string]any) { r["vpcCidr"] = "10.0.0.0/8" }), "regions[0].vpcCidr"},
		{"vpc cidr too small for the subnet plan", "dev", editRegion(0, func(r map[string]any) { r["vpcCidr"] = "10.10.0.0/24" }), "regions[0].vpcCidr"},
		{"vpc cidr with host bits", "dev", editRegion(0, func(r map[string]any) { r["vpcCidr"] = "10.10.1.0/16" }), "regions[0].vpcCidr"},
		{"vpc cidrs overlap across regions", "staging", editRegion(1, func(r map[string]any) { r["vpcCidr"] = "10.20.0.0/18" }), "regions[1].vpcCidr"},
		{"one availability zone", "dev", editRegion(0, func(r map[string]any) { r["availabilityZones"] = []string{"us-east-1a"} }), "regions[0].availabilityZones"},
		{"four availability zones", "dev", editRegion(0, func(r map[string]any) {
			r["availabilityZones"] = []string{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"}
		}), "regions[0].availabilityZones"},
		{"zone of another region", "dev", editRegion(0, func(r map[string]any) { r["availabilityZones"] = []string{"us-east-1a", "eu-west-1b"} }), "regions[0].availabilityZones[1]"},
		{"zone listed twice", "dev", editRegion(0, func(r map[string]any) { r["availabilityZones"] = []string{"us-east-1a", "us-east-1a"} }), "regions[0].availabilityZones[1]"},
		{"unknown field in a region", "dev", editRegion(0, func(r map[string]any) { r["cidr"] = "10.0.0.0/16" }), "regions"},
		{"unknown nat mode", "dev", func(t *testing.T, raw map[string]string) { raw["natGateways"] = "none" }, "natGateways"},
		{"prod with a single nat gateway", "prod", func(t *testing.T, raw map[string]string) { raw["natGateways"] = "single" }, "natGateways"},
	})
}

func TestProdTopology(t *testing.T) {
	cfg, err := config.Parse(rawConfig(t, "prod"))
	require.NoError(t, err)
	var names []string
	for _, r := range cfg.Regions {
		names = append(names, r.Name)
		assert.Len(t, r.AvailabilityZones, 3, r.Name)
	}
	assert.Equal(t, []string{"us-east-1", "eu-west-1", "ap-south-1"}, names)
	assert.Equal(t, "us-east-1", cfg.MasterRegion)
	assert.Equal(t, "perAz", cfg.NatGateways)
	assert.Equal(t, "eu-west-1", cfg.BackupRegion(), "the first region after the master keeps the backup copies")
}

func TestOrderedPutsTheMasterFirst(t *testing.T) {
	cfg, err := config.Parse(rawConfig(t, "prod"))
	require.NoError(t, err)
	cfg.MasterRegion = "eu-west-1"
	var names []string
	for _, r := range cfg.Ordered() {
		names = append(names, r.Name)
	}
	assert.Equal(t, []string{"eu-west-1", "us-east-1", "ap-south-1"}, names)
	assert.Equal(t, "us-east-1", cfg.BackupRegion())
}
