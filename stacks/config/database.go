package config

import (
	"github.com/example/ecommerce-platform/components/check"
	"github.com/example/ecommerce-platform/components/database"
)

// KeyDatabase is the database section's key.
const KeyDatabase = "database"

// MinProdBackupDays keeps a week of point-in-time recovery in prod.
const MinProdBackupDays = 7

var databaseSection = section{
	keys: []key{
		{KeyDatabase, "object", database.Settings{
			EngineVersion:                    "16",
			Sizing:                           database.Sizing{InstanceClass: "db.t4g.medium", AllocatedStorageGiB: 20, MaxAllocatedStorageGiB: 100},
			BackupRetentionDays:              7,
			MonitoringIntervalSeconds:        60,
			PerformanceInsightsRetentionDays: 7,
			SlowStatementMs:                  500,
		}, func(c *Config) any { return &c.Database }},
	},
	validate: func(c *Config, p *check.Problems) {
		d := c.Database
		// What RDS itself refuses is the component's rule.
		p.Merge(KeyDatabase, d.Check(Services))
		// What prod requires is the platform's.
		if c.Environment == "prod" {
			if d.BackupRetentionDays >= 1 && d.BackupRetentionDays < MinProdBackupDays {
				p.Add(KeyDatabase+".backupRetentionDays", "%d is too short for prod; allowed: %d to %d", d.BackupRetentionDays, MinProdBackupDays, database.MaxBackupDays)
			}
			if !d.MultiAZ {
				p.Add(KeyDatabase+".multiAz", "must be true in prod so losing one zone does not take the databases down")
			}
		}
	},
}

// DatabaseSettings are the database settings the components get: the
// configured ones plus what the environment decides.
func (c *Config) DatabaseSettings() database.Settings {
	s := c.Database
	s.Protect = c.Protected()
	s.LogRetentionDays = c.LogRetentionDays
	return s
}
