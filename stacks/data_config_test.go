package stacks_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/stacks"
)

// field returns a function that sets one field of an object-valued key.
func field(name string, value any) func(v any) any {
	return func(v any) any { v.(map[string]any)[name] = value; return v }
}

// event returns a function that replaces one entry of the event map.
func event(name string, value any) func(v any) any {
	return func(v any) any {
		if value == nil {
			delete(v.(map[string]any), name)
		} else {
			v.(map[string]any)[name] = value
		}
		return v
	}
}

// Data cases of the validation table: each mutates a valid stack config and
// names the key the error must report.
func TestInvalidDataConfigNamesTheKey(t *testing.T) {
	type mut = func(t *testing.T, raw map[string]string)
	set := func(key string, f func(any) any) mut {
		return func(t *testing.T, raw map[string]string) { edit(t, raw, key, f) }
	}
	cases := []invalidCase{
		// database
		{"backup retention zero", "dev", set("database", field("backupRetentionDays", 0)), "database.backupRetentionDays"},
		{"backup retention above 35", "dev", set("database", field("backupRetentionDays", 36)), "database.backupRetentionDays"},
		{"backup retention short for prod", "prod", set("database", field("backupRetentionDays", 3)), "database.backupRetentionDays"},
		{"prod without multi-az", "prod", set("database", field("multiAz", false)), "database.multiAz"},
		{"unknown instance class family", "dev", set("database", field("instanceClass", "db.q9.large")), "database.instanceClass"},
		{"instance class not a class", "dev", set("database", field("instanceClass", "t4g.micro")), "database.instanceClass"},
		{"engine version with a minor", "dev", set("database", field("engineVersion", "16.4")), "database.engineVersion"},
		{"unsupported engine major", "dev", set("database", field("engineVersion", "9")), "database.engineVersion"},
		{"storage below the gp3 minimum", "dev", set("database", field("allocatedStorageGiB", 10)), "database.allocatedStorageGiB"},
		{"autoscaling ceiling not above the start", "dev", set("database", field("maxAllocatedStorageGiB", 20)), "database.maxAllocatedStorageGiB"},
		{"monitoring interval RDS refuses", "dev", set("database", field("monitoringIntervalSeconds", 7)), "database.monitoringIntervalSeconds"},
		{"monitoring off", "dev", set("database", field("monitoringIntervalSeconds", 0)), "database.monitoringIntervalSeconds"},
		{"performance insights retention", "dev", set("database", field("performanceInsightsRetentionDays", 30)), "database.performanceInsightsRetentionDays"},
		{"slow statement threshold zero", "dev", set("database", field("slowStatementMs", 0)), "database.slowStatementMs"},
		{"unknown database field", "dev", set("database", field("multi_az", true)), "database"},
		{"unknown service in perService", "dev", set("database", field("perService", map[string]any{"billing": map[string]any{"instanceClass": "db.r6g.large"}})), "database.perService.billing"},
		{"unknown family in a service override", "prod", set("database", field("perService", map[string]any{"order": map[string]any{"instanceClass": "db.q1.large"}})), "database.perService.order.instanceClass"},
		{"service ceiling below the shared start", "prod", set("database", field("perService", map[string]any{"auth": map[string]any{"maxAllocatedStorageGiB": 100}})), "database.perService.auth.maxAllocatedStorageGiB"},
		{"database not an object", "dev", func(t *testing.T, raw map[string]string) { raw["database"] = `"big"` }, "database"},
		// cache
		{"replica count negative", "dev", set("cache", field("replicas", -1)), "cache.replicas"},
		{"replica count above 5", "dev", set("cache", field("replicas", 6)), "cache.replicas"},
		{"prod cache without replica", "prod", set("cache", field("replicas", 0)), "cache.replicas"},
		{"unknown node family", "dev", set("cache", field("nodeType", "cache.z1.large")), "cache.nodeType"},
		{"node type not a node type", "dev", set("cache", field("nodeType", "r7g.large")), "cache.nodeType"},
		{"redis version without tls support", "dev", set("cache", field("engineVersion", "5.0.6")), "cache.engineVersion"},
		{"snapshot retention above 35", "dev", set("cache", field("snapshotRetentionDays", 40)), "cache.snapshotRetentionDays"},
		{"prod cache without snapshots", "prod", set("cache", field("snapshotRetentionDays", 0)), "cache.snapshotRetentionDays"},
		{"malformed maintenance window", "dev", set("cache", field("maintenanceWindow", "sunday 5am")), "cache.maintenanceWindow"},
		{"malformed snapshot window", "dev", set("cache", field("snapshotWindow", "25:00-26:00")), "cache.snapshotWindow"},
		{"snapshot window overlaps maintenance", "dev", set("cache", field("snapshotWindow", "05:30-06:30")), "cache.snapshotWindow"},
		{"snapshot window across midnight overlaps maintenance", "dev", func(t *testing.T, raw map[string]string) {
			edit(t, raw, "cache", field("maintenanceWindow", "mon:00:00-mon:01:00"))
			edit(t, raw, "cache", field("snapshotWindow", "23:30-00:30"))
		}, "cache.snapshotWindow"},
		{"snapshot window under an hour", "dev", set("cache", field("snapshotWindow", "02:00-02:30")), "cache.snapshotWindow"},
		{"maintenance window under an hour", "dev", set("cache", field("maintenanceWindow", "sun:05:00-sun:05:30")), "cache.maintenanceWindow"},
		// messaging
		{"max receive count zero", "dev", set("messaging", field("maxReceiveCount", 0)), "messaging.maxReceiveCount"},
		{"max receive count above 1000", "dev", set("messaging", field("maxReceiveCount", 1001)), "messaging.maxReceiveCount"},
		{"retention above 14 days", "dev", set("messaging", field("messageRetentionSeconds", 1209601)), "messaging.messageRetentionSeconds"},
		{"visibility timeout above 12 hours", "dev", set("messaging", field("visibilityTimeoutSeconds", 43201)), "messaging.visibilityTimeoutSeconds"},
		// events
		{"unknown publisher in the event map", "dev", set("events", event("order.placed", map[string]any{
			"publishers": []string{"billing"}, "consumers": []string{"product"},
		})), "events.order.placed.publishers[0]"},
		{"unknown consumer in the event map", "dev", set("events", event("user.registered", map[string]any{
			"publishers": []string{"auth"}, "consumers": []string{"user", "mailer"},
		})), "events.user.registered.consumers[1]"},
		{"consumer without a producer", "dev", set("events", event("order.placed", map[string]any{
			"publishers": []string{}, "consumers": []string{"product"},
		})), "events.order.placed.publishers"},
		{"consumer listed twice", "dev", set("events", event("order.placed", map[string]any{
			"publishers": []string{"order"}, "consumers": []string{"product", "product"},
		})), "events.order.placed.consumers[1]"},
		{"malformed event name", "dev", set("events", event("OrderPlaced", map[string]any{
			"publishers": []string{"order"}, "consumers": []string{},
		})), "events.OrderPlaced"},
		{"empty event map", "dev", func(t *testing.T, raw map[string]string) { raw["events"] = `{}` }, "events"},
		{"unknown event field", "dev", set("events", event("order.placed", map[string]any{
			"publisher": "order", "consumers": []string{"product"},
		})), "events"},
	}
	runInvalid(t, cases)
}

// The shipped stacks make the choices the environments call for.
func TestShippedDataChoices(t *testing.T) {
	dev, err := stacks.Parse(rawConfig(t, "dev"))
	require.NoError(t, err)
	prod, err := stacks.Parse(rawConfig(t, "prod"))
	require.NoError(t, err)

	assert.False(t, dev.Data.Database.MultiAZ, "dev runs single-AZ databases")
	assert.Equal(t, 0, dev.Data.Cache.Replicas, "dev runs a single cache node")
	assert.False(t, dev.Protected(), "dev tears down without snapshots")
	assert.Equal(t, 0, dev.SecretRecoveryWindowDays())

	assert.True(t, prod.Data.Database.MultiAZ)
	assert.GreaterOrEqual(t, prod.Data.Database.BackupRetentionDays, stacks.MinProdBackupDays)
	assert.GreaterOrEqual(t, prod.Data.Cache.Replicas, 1)
	assert.True(t, prod.Protected())
	assert.Equal(t, 30, prod.SecretRecoveryWindowDays())
}

// Every consumer in the shipped event map has a producer, and the map
// yields the topics and queues the services expect.
func TestShippedEventMap(t *testing.T) {
	for _, stack := range shipped {
		cfg, err := stacks.Parse(rawConfig(t, stack))
		require.NoError(t, err)
		for _, name := range cfg.Data.EventNames() {
			ev := cfg.Data.Events[name]
			if len(ev.Consumers) > 0 {
				assert.NotEmpty(t, ev.Publishers, "%s: %s is consumed, so someone publishes it", stack, name)
			}
		}
		for _, name := range []string{"user.registered", "product.updated", "order.placed", "order.cancelled"} {
			assert.Contains(t, cfg.Data.Events, name, stack)
		}
		topo, err := cfg.Data.Topology()
		require.NoError(t, err)
		assert.Equal(t, []string{"auth", "order", "product"}, topo.Publishers, stack)
		assert.Equal(t, []string{"order", "product", "user"}, topo.Consumers, stack)
	}
}
