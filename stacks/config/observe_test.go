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
