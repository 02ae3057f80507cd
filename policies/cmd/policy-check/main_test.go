package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/stacks/offline"
)

// planFile writes the dev stack's plan file, as `make plan OUT=` does.
func planFile(t *testing.T) string {
	t.Helper()
	res, err := offline.Plan("../../..", "dev")
	require.NoError(t, err)
	b, err := json.MarshalIndent(res.Inventory, "", "  ")
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "plan-dev.json")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return path
}

func TestPolicyCheck(t *testing.T) {
	plan := planFile(t)
	var out bytes.Buffer
	require.NoError(t, run([]string{"-plan", plan}, &out), out.String())
	assert.Contains(t, out.String(), "Policy report for stack dev (environment dev)")
	assert.Contains(t, out.String(), "mandatory violations: 0")

	// A hand edit that opens a database to the internet fails the check.
	b, err := os.ReadFile(plan) //nolint:gosec // the test's own file
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(b, &doc))
	for _, r := range doc["resources"].([]any) {
		m := r.(map[string]any)
		if m["type"] == "aws:rds/instance:Instance" {
			m["inputs"].(map[string]any)["publiclyAccessible"] = true
			break
		}
	}
	b, err = json.Marshal(doc)
	require.NoError(t, err)
	edited := filepath.Join(t.TempDir(), "edited.json")
	require.NoError(t, os.WriteFile(edited, b, 0o600))
	out.Reset()
	err = run([]string{"-plan", edited}, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "1 mandatory policy violation(s)")
	assert.Contains(t, out.String(), "disallow-public-rds (security)")
	assert.Contains(t, out.String(), "publiclyAccessible is true")

	// Judged as prod, dev's single-zone databases fail.
	out.Reset()
	assert.Error(t, run([]string{"-plan", plan, "-environment", "prod"}, &out))
	assert.Contains(t, out.String(), "enforce-rds-multi-az")
}

func TestPolicyCheckRefusesBadInput(t *testing.T) {
	var out bytes.Buffer
	assert.ErrorContains(t, run(nil, &out), "-plan is required")
	assert.ErrorContains(t, run([]string{"-plan", filepath.Join(t.TempDir(), "none.json")}, &out), "no such file")
	bad := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"stack": "x", "resources": []}`), 0o600))
	assert.ErrorContains(t, run([]string{"-plan", bad}, &out), "no resources")
	cfg := filepath.Join(t.TempDir(), "cfg.json")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"no-such-policy": "advisory"}`), 0o600))
	assert.ErrorContains(t, run([]string{"-plan", planFile(t), "-policy-config", cfg}, &out), "no-such-policy: no such policy")
}
