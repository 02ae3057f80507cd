package config_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/stacks/config"
)

func TestInvalidStackSection(t *testing.T) {
	runInvalid(t, []invalidCase{
		{"unknown environment", "dev", func(t *testing.T, raw map[string]string) { raw["environment"] = "qa" }, "environment"},
		{"short account id", "dev", func(t *testing.T, raw map[string]string) { raw["accountId"] = "12345" }, "accountId"},
		{"missing account id", "dev", func(t *testing.T, raw map[string]string) { delete(raw, "accountId") }, "accountId"},
		{"retention CloudWatch does not accept", "dev", func(t *testing.T, raw map[string]string) { raw["logRetentionDays"] = "10" }, "logRetentionDays"},
		{"retention not a number", "dev", func(t *testing.T, raw map[string]string) { raw["logRetentionDays"] = "ninety" }, "logRetentionDays"},
	})
}

// The shipped stacks make the choices their environments call for.
func TestShippedEnvironmentChoices(t *testing.T) {
	dev, err := config.Parse(rawConfig(t, "dev"))
	require.NoError(t, err)
	prod, err := config.Parse(rawConfig(t, "prod"))
	require.NoError(t, err)

	assert.False(t, dev.Protected(), "dev tears down without snapshots")
	assert.Equal(t, 0, dev.SecretRecoveryWindowDays())
	assert.False(t, dev.DatabaseSettings().Protect)
	assert.True(t, prod.Protected())
	assert.Equal(t, 30, prod.SecretRecoveryWindowDays())
	assert.True(t, prod.DatabaseSettings().Protect)
	assert.Equal(t, prod.LogRetentionDays, prod.DatabaseSettings().LogRetentionDays)
}
