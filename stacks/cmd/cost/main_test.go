package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/stacks/offline"
)

var total = regexp.MustCompile(`\(environment (\w+)\): (\$[0-9,.]+),`)

// The estimate from -stack (planned offline) and from the plan file of the
// same stack are the same report; -assume changes it and the report says so.
func TestCostFromStackAndFromPlanFile(t *testing.T) {
	var fromStack, fromFile bytes.Buffer
	require.NoError(t, run([]string{"-stack", "dev", "-project", "../../.."}, &fromStack))
	m := total.FindStringSubmatch(fromStack.String())
	require.NotNil(t, m, fromStack.String())
	assert.Equal(t, "dev", m[1])

	inv, err := offline.PlanStack("../../..", "dev")
	require.NoError(t, err)
	b, err := json.Marshal(inv)
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "plan-dev.json")
	require.NoError(t, os.WriteFile(file, b, 0o600))
	require.NoError(t, run([]string{"-plan", file}, &fromFile))
	assert.Equal(t, fromStack.String(), fromFile.String())

	var changed bytes.Buffer
	require.NoError(t, run([]string{"-plan", file, "-assume", "nat-gb=1000", "-assume", "rps=7"}, &changed))
	assert.Contains(t, changed.String(), "nat-gb = 1000 GB per NAT gateway per month")
	assert.NotEqual(t, m[2], total.FindStringSubmatch(changed.String())[2], "a dev NAT gateway processing 1 TB costs more")
}

func TestCostRefusesBadInput(t *testing.T) {
	var out bytes.Buffer
	assert.ErrorContains(t, run(nil, &out), "-stack is required")
	assert.ErrorContains(t, run([]string{"-stack", "dev", "-plan", "x.json"}, &out), "-stack and -plan: give one")
	assert.ErrorContains(t, run([]string{"-stack", "qa", "-project", "../../.."}, &out), `stack "qa": no stack file`)
	assert.ErrorContains(t, run([]string{"-stack", "dev", "-project", "../../..", "-assume", "natgb=1"}, &out), "-assume natgb: no such assumption")
	assert.Empty(t, out.String(), "nothing printed on an error")
}
