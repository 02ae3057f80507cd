package config_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/stacks/config"
)

func TestInvalidCentralLogs(t *testing.T) {
	key := "centralLogs.retentionDays"
	runInvalid(t, []invalidCase{
		{"zero days: S3 expires after at least one", "dev", set("centralLogs", "retentionDays", 0), key},
		{"negative days", "staging", set("centralLogs", "retentionDays", -30), key},
		{"beyond ten years", "dev", set("centralLogs", "retentionDays", 4000), key},
		{"prod keeps a year", "prod", set("centralLogs", "retentionDays", 90), key},
		{"not a number", "dev", set("centralLogs", "retentionDays", "ninety"), "centralLogs"},
		{"a typo in the field", "dev", set("centralLogs", "retentionDay", 30), "centralLogs"},
	})
}

func TestCentralLogsPerEnvironment(t *testing.T) {
	want := map[string]int{"dev": 30, "staging": 90, "prod": 365}
	for stack, days := range want {
		cfg, err := config.Parse(rawConfig(t, stack))
		require.NoError(t, err)
		assert.Equal(t, days, cfg.CentralLogs.RetentionDays, stack)
	}
	raw := rawConfig(t, "staging")
	delete(raw, "centralLogs")
	cfg, err := config.Parse(raw)
	require.NoError(t, err)
	assert.Equal(t, 90, cfg.CentralLogs.RetentionDays, "left out: the declared default")
}

func TestCentralLogsErrorSaysWhatIsAllowed(t *testing.T) {
	raw := rawConfig(t, "dev")
	set("centralLogs", "retentionDays", 0)(t, raw)
	_, err := config.Parse(raw)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ecommerce:centralLogs.retentionDays: 0: allowed 1 to 3653 days")
}
