package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPlanPrintsTheTreeAndWarnsAboutExampleValues(t *testing.T) {
	var out bytes.Buffer
	file := filepath.Join(t.TempDir(), "plan.json")
	require.NoError(t, run([]string{"-stack", "dev", "-project", "../../..", "-out", file}, &out))
	assert.Contains(t, out.String(), "warning: config ecommerce:clusterPublicAccessCidrs[0]: 198.51.100.0/24 is a documentation range")
	assert.Contains(t, out.String(), "Stack dev:")
	b, err := os.ReadFile(file) //nolint:gosec // the test's own file
	require.NoError(t, err)
	var doc struct {
		Stack     string            `json:"stack"`
		Resources []json.RawMessage `json:"resources"`
	}
	require.NoError(t, json.Unmarshal(b, &doc))
	assert.Equal(t, "dev", doc.Stack)
	assert.NotEmpty(t, doc.Resources)

	out.Reset()
	require.NoError(t, run([]string{"-stack", "prod", "-project", "../../.."}, &out))
	assert.False(t, strings.Contains(out.String(), "warning:"), "prod's API endpoints are private: nothing to warn about")
}

func TestPlanRefusesBadInput(t *testing.T) {
	var out bytes.Buffer
	assert.ErrorContains(t, run(nil, &out), "-stack is required")
	assert.ErrorContains(t, run([]string{"-stack", "qa", "-project", "../../.."}, &out), `stack "qa": no stack file`)
}

// The plan ends with the policy report and fails on a mandatory violation,
// after writing the inventory, so it can still be reviewed.
func TestPlanReportsPoliciesAndFailsOnMandatoryViolations(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "policy.json")
	// Dev keeps 1 day of backups; a team asking for 30 makes that a
	// mandatory violation.
	require.NoError(t, os.WriteFile(cfg, []byte(`{"enforce-rds-backup-retention": {"minimumDays": {"dev": 30}}}`), 0o600))
	file := filepath.Join(dir, "plan.json")
	var out bytes.Buffer
	err := run([]string{"-stack", "dev", "-project", "../../..", "-out", file, "-policy-config", cfg}, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "mandatory policy violation")
	assert.Contains(t, out.String(), "Policy report for stack dev (environment dev)")
	assert.Contains(t, out.String(), "enforce-rds-backup-retention (reliability)\n    aws:rds/instance:Instance us-east-1-db-auth\n    backupRetentionPeriod is 1; dev keeps at least 30 days")
	_, statErr := os.Stat(file)
	assert.NoError(t, statErr, "the inventory is written before the verdict")

	require.NoError(t, os.WriteFile(cfg, []byte(`{"enforce-rds-backup-retention": {"minimumDay": 3}}`), 0o600))
	assert.ErrorContains(t, run([]string{"-stack", "dev", "-project", "../../..", "-policy-config", cfg}, &out),
		"enforce-rds-backup-retention.minimumDay: no such setting")
}
