package config_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/stacks/config"
)

func TestInvalidClusterSection(t *testing.T) {
	runInvalid(t, []invalidCase{
		{"unsupported kubernetes version", "dev", func(t *testing.T, raw map[string]string) { raw["kubernetesVersion"] = "1.20" }, "kubernetesVersion"},
		{"node group min above desired", "dev", set("systemNodeGroup", "minSize", 3), "systemNodeGroup.desiredSize"},
		{"node group desired above max", "dev", set("workloadNodeGroup", "desiredSize", 9), "workloadNodeGroup.desiredSize"},
		{"node group negative min", "dev", set("workloadNodeGroup", "minSize", -1), "workloadNodeGroup.minSize"},
		{"node group max zero", "dev", set("workloadNodeGroup", "maxSize", 0), "workloadNodeGroup.maxSize"},
		{"node group without instance types", "dev", set("workloadNodeGroup", "instanceTypes", []string{}), "workloadNodeGroup.instanceTypes"},
		{"malformed instance type", "dev", set("systemNodeGroup", "instanceTypes", []string{"large"}), "systemNodeGroup.instanceTypes[0]"},
		{"node disk too small", "dev", set("systemNodeGroup", "diskSizeGiB", 5), "systemNodeGroup.diskSizeGiB"},
		{"unknown node group field", "dev", set("systemNodeGroup", "desired", 2), "systemNodeGroup"},
		{"api open to the internet", "dev", func(t *testing.T, raw map[string]string) { raw["clusterPublicAccessCidrs"] = `["0.0.0.0/0"]` }, "clusterPublicAccessCidrs[0]"},
		{"api cidr malformed", "dev", func(t *testing.T, raw map[string]string) { raw["clusterPublicAccessCidrs"] = `["10.0.0.300/24"]` }, "clusterPublicAccessCidrs[0]"},
		{"admin role not an ARN", "dev", func(t *testing.T, raw map[string]string) { raw["clusterAdminRoleArn"] = "platform-admin" }, "clusterAdminRoleArn"},
		{"admin role of another account", "dev", func(t *testing.T, raw map[string]string) {
			raw["clusterAdminRoleArn"] = "arn:aws:iam::999999999999:role/platform-admin"
		}, "clusterAdminRoleArn"},
		{"no deployer", "dev", func(t *testing.T, raw map[string]string) { delete(raw, "deployerRoleArn") }, "deployerRoleArn"},
		{"deployer an assumed-role session", "dev", func(t *testing.T, raw map[string]string) {
			raw["deployerRoleArn"] = "arn:aws:sts::111111111111:assumed-role/platform-deployer/ci"
		}, "deployerRoleArn"},
		{"deployer of another account", "dev", func(t *testing.T, raw map[string]string) {
			raw["deployerRoleArn"] = "arn:aws:iam::999999999999:role/platform-deployer"
		}, "deployerRoleArn"},
	})
}

func TestDocumentationRangesAreWarnedAbout(t *testing.T) {
	dev, err := config.Parse(rawConfig(t, "dev"))
	require.NoError(t, err)
	w := dev.Warnings()
	require.Len(t, w, 1)
	assert.Contains(t, w[0], "ecommerce:clusterPublicAccessCidrs[0]: 198.51.100.0/24 is a documentation range")

	raw := rawConfig(t, "dev")
	raw["clusterPublicAccessCidrs"] = `["100.24.0.0/16", "203.0.113.7/32"]`
	cfg, err := config.Parse(raw)
	require.NoError(t, err)
	w = cfg.Warnings()
	require.Len(t, w, 1, "only the documentation range")
	assert.Contains(t, w[0], "[1]: 203.0.113.7/32")

	prod, err := config.Parse(rawConfig(t, "prod"))
	require.NoError(t, err)
	assert.Empty(t, prod.Warnings())
}
