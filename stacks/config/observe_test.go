package config_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/observe"
	"github.com/example/ecommerce-platform/stacks/config"
)

func TestInvalidAlarmsSection(t *testing.T) {
	a := func(name string, value any) func(t *testing.T, raw map[string]string) {
		return func(t *testing.T, raw map[string]string) {
			if _, ok := raw["alarms"]; !ok {
				raw["alarms"] = "{}"
			}
			set("alarms", name, value)(t, raw)
		}
	}
	runInvalid(t, []invalidCase{
		{"not an email", "prod", a("emails", []string{"oncall"}), "alarms.emails[0]"},
		{"plain http endpoint", "prod", a("httpsEndpoints", []string{"http://hooks.example.com/x"}), "alarms.httpsEndpoints[0]"},
		{"percentage of 100", "dev", a("databaseCpuPercent", 100), "alarms.databaseCpuPercent"},
		{"negative lag", "dev", a("replicaLagSeconds", -1), "alarms.replicaLagSeconds"},
		{"age beyond SQS retention", "dev", a("queueOldestMessageSeconds", 1300000), "alarms.queueOldestMessageSeconds"},
		{"unknown alarms field", "dev", a("cpu", 80), "alarms"},
	})
}

// A stack that sets some thresholds keeps the defaults of the others.
func TestAlarmsKeepDefaultsOfFieldsLeftOut(t *testing.T) {
	raw := rawConfig(t, "dev")
	raw["alarms"] = `{"emails":["oncall@example.com"],"nodeCpuPercent":70}`
	cfg, err := config.Parse(raw)
	require.NoError(t, err)
	want := observe.DefaultSettings()
	want.Emails = []string{"oncall@example.com"}
	want.NodeCPUPercent = 70
	assert.Equal(t, want, cfg.Alarms)
}

func TestInvalidBackupSection(t *testing.T) {
	b := func(name string, value any) func(t *testing.T, raw map[string]string) {
		return func(t *testing.T, raw map[string]string) {
			if _, ok := raw["backup"]; !ok {
				raw["backup"] = "{}"
			}
			set("backup", name, value)(t, raw)
		}
	}
	runInvalid(t, []invalidCase{
		{"no daily retention", "dev", b("dailyRetentionDays", 0), "backup.dailyRetentionDays"},
		{"weekly under a week", "dev", b("weeklyRetentionDays", 3), "backup.weeklyRetentionDays"},
		{"copy to an unknown region", "prod", b("copyRegion", "eu-central-1"), "backup.copyRegion"},
		{"copy to the master", "prod", b("copyRegion", "us-east-1"), "backup.copyRegion"},
		{"prod lock under a week", "prod", b("lockMinRetentionDays", 3), "backup.lockMinRetentionDays"},
		{"lock floor above the daily retention", "dev", b("lockMinRetentionDays", 40), "backup.lockMinRetentionDays"},
		{"compliance grace under 3 days", "dev", b("lockChangeableForDays", 1), "backup.lockChangeableForDays"},
	})
}

func TestBackupCopyRegionAndLock(t *testing.T) {
	prod, err := config.Parse(rawConfig(t, "prod"))
	require.NoError(t, err)
	assert.Equal(t, "eu-west-1", prod.BackupCopyRegion(), "the first region after the master")
	require.NotNil(t, prod.VaultLock())
	assert.Equal(t, config.MinProdLockDays, prod.VaultLock().MinRetentionDays)
	raw := rawConfig(t, "prod")
	raw["backup"] = `{"copyRegion":"ap-south-1"}`
	prod, err = config.Parse(raw)
	require.NoError(t, err)
	assert.Equal(t, "ap-south-1", prod.BackupCopyRegion())
	assert.Equal(t, 35, prod.Backup.DailyRetentionDays, "fields left out keep their defaults")
	dev, err := config.Parse(rawConfig(t, "dev"))
	require.NoError(t, err)
	assert.Nil(t, dev.VaultLock(), "dev tears down without waiting for a lock")
	assert.Empty(t, dev.BackupCopyRegion(), "one region: no copy")
}
