package config_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/stacks/config"
)

func TestInvalidDatabaseSection(t *testing.T) {
	db := func(name string, value any) func(t *testing.T, raw map[string]string) {
		return set("database", name, value)
	}
	runInvalid(t, []invalidCase{
		{"backup retention zero", "dev", db("backupRetentionDays", 0), "database.backupRetentionDays"},
		{"backup retention above 35", "dev", db("backupRetentionDays", 36), "database.backupRetentionDays"},
		{"backup retention short for prod", "prod", db("backupRetentionDays", 3), "database.backupRetentionDays"},
		{"prod without multi-az", "prod", db("multiAz", false), "database.multiAz"},
		{"unknown instance class family", "dev", db("instanceClass", "db.q9.large"), "database.instanceClass"},
		{"instance class not a class", "dev", db("instanceClass", "t4g.micro"), "database.instanceClass"},
		{"engine version with a minor", "dev", db("engineVersion", "16.4"), "database.engineVersion"},
		{"unsupported engine major", "dev", db("engineVersion", "9"), "database.engineVersion"},
		{"storage below the gp3 minimum", "dev", db("allocatedStorageGiB", 10), "database.allocatedStorageGiB"},
		{"autoscaling ceiling not above the start", "dev", db("maxAllocatedStorageGiB", 20), "database.maxAllocatedStorageGiB"},
		{"monitoring interval RDS refuses", "dev", db("monitoringIntervalSeconds", 7), "database.monitoringIntervalSeconds"},
		{"monitoring off", "dev", db("monitoringIntervalSeconds", 0), "database.monitoringIntervalSeconds"},
		{"performance insights retention", "dev", db("performanceInsightsRetentionDays", 30), "database.performanceInsightsRetentionDays"},
		{"slow statement threshold zero", "dev", db("slowStatementMs", 0), "database.slowStatementMs"},
		{"unknown database field", "dev", db("multi_az", true), "database"},
		{"protection is not configurable", "dev", db("protect", true), "database"},
		{"unknown service in perService", "dev", db("perService", map[string]any{"billing": map[string]any{"instanceClass": "db.r6g.large"}}), "database.perService.billing"},
		{"unknown family in a service override", "prod", db("perService", map[string]any{"order": map[string]any{"instanceClass": "db.q1.large"}}), "database.perService.order.instanceClass"},
		{"service ceiling below the shared start", "prod", db("perService", map[string]any{"auth": map[string]any{"maxAllocatedStorageGiB": 100}}), "database.perService.auth.maxAllocatedStorageGiB"},
		{"database not an object", "dev", func(t *testing.T, raw map[string]string) { raw["database"] = `"big"` }, "database"},
	})
}

func TestShippedDatabaseChoices(t *testing.T) {
	dev, err := config.Parse(rawConfig(t, "dev"))
	require.NoError(t, err)
	prod, err := config.Parse(rawConfig(t, "prod"))
	require.NoError(t, err)
	assert.False(t, dev.Database.MultiAZ, "dev runs single-AZ databases")
	assert.True(t, prod.Database.MultiAZ)
	assert.GreaterOrEqual(t, prod.Database.BackupRetentionDays, config.MinProdBackupDays)
	assert.Equal(t, "db.r6g.2xlarge", prod.Database.SizingFor("order").InstanceClass, "prod sizes order up")
	assert.Equal(t, prod.Database.InstanceClass, prod.Database.SizingFor("auth").InstanceClass)
}
