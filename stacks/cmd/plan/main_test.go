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
