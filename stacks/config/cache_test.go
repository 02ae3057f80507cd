package config_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/stacks/config"
)

func TestInvalidCacheSection(t *testing.T) {
	c := func(name string, value any) func(t *testing.T, raw map[string]string) {
		return set("cache", name, value)
	}
	runInvalid(t, []invalidCase{
		{"replica count negative", "dev", c("replicas", -1), "cache.replicas"},
		{"replica count above 5", "dev", c("replicas", 6), "cache.replicas"},
		{"prod cache without replica", "prod", c("replicas", 0), "cache.replicas"},
		{"unknown node family", "dev", c("nodeType", "cache.z1.large"), "cache.nodeType"},
		{"node type not a node type", "dev", c("nodeType", "r7g.large"), "cache.nodeType"},
		{"redis version without tls support", "dev", c("engineVersion", "5.0.6"), "cache.engineVersion"},
		{"snapshot retention above 35", "dev", c("snapshotRetentionDays", 40), "cache.snapshotRetentionDays"},
		{"prod cache without snapshots", "prod", c("snapshotRetentionDays", 0), "cache.snapshotRetentionDays"},
		{"malformed maintenance window", "dev", c("maintenanceWindow", "sunday 5am"), "cache.maintenanceWindow"},
		{"malformed snapshot window", "dev", c("snapshotWindow", "25:00-26:00"), "cache.snapshotWindow"},
		{"snapshot window overlaps maintenance", "dev", c("snapshotWindow", "05:30-06:30"), "cache.snapshotWindow"},
		{"snapshot window across midnight overlaps maintenance", "dev", func(t *testing.T, raw map[string]string) {
			set("cache", "maintenanceWindow", "mon:00:00-mon:01:00")(t, raw)
			set("cache", "snapshotWindow", "23:30-00:30")(t, raw)
		}, "cache.snapshotWindow"},
		{"snapshot window under an hour", "dev", c("snapshotWindow", "02:00-02:30"), "cache.snapshotWindow"},
		{"maintenance window under an hour", "dev", c("maintenanceWindow", "sun:05:00-sun:05:30"), "cache.maintenanceWindow"},
		{"unknown cache field", "dev", c("nodes", 2), "cache"},
	})
}

func TestShippedCacheChoices(t *testing.T) {
	dev, err := config.Parse(rawConfig(t, "dev"))
	require.NoError(t, err)
	prod, err := config.Parse(rawConfig(t, "prod"))
	require.NoError(t, err)
	assert.Equal(t, 0, dev.Cache.Replicas, "dev runs a single cache node")
	assert.GreaterOrEqual(t, prod.Cache.Replicas, 1)
}
