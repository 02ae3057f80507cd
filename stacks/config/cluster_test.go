package config_test

import (
	"testing"
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
