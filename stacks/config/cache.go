package config

import (
	"github.com/example/ecommerce-platform/components/cache"
	"github.com/example/ecommerce-platform/components/check"
)

// KeyCache is the cache section's key.
const KeyCache = "cache"

var cacheSection = section{
	keys: []key{
		{KeyCache, "object", cache.Settings{
			EngineVersion: "7.1", NodeType: "cache.t4g.small", Replicas: 1, SnapshotRetentionDays: 1,
			SnapshotWindow: "02:00-03:00", MaintenanceWindow: "sun:05:00-sun:06:00",
		}, func(c *Config) any { return &c.Cache }},
	},
	validate: func(c *Config, p *check.Problems) {
		k := c.Cache
		p.Merge(KeyCache, k.Check())
		if c.Environment == "prod" {
			if k.Replicas == 0 {
				p.Add(KeyCache+".replicas", "prod needs at least 1 replica, so the cache fails over to another zone")
			}
			if k.SnapshotRetentionDays == 0 {
				p.Add(KeyCache+".snapshotRetentionDays", "prod keeps at least 1 daily snapshot; allowed: 1 to %d", cache.MaxSnapshotDays)
			}
		}
	},
}
