package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDiagramWritesDOT(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run([]string{"-stack", "staging", "-project", "../../.."}, &out))
	dot := out.String()
	assert.True(t, strings.HasPrefix(dot, "// Generated from the offline plan of stack staging"), dot)
	assert.Contains(t, dot, `"us-east-1/databases" -> "eu-west-1/databases" [label="replication (4)"];`)

	file := filepath.Join(t.TempDir(), "d.dot")
	var quiet bytes.Buffer
	require.NoError(t, run([]string{"-stack", "staging", "-project", "../../..", "-out", file}, &quiet))
	assert.Empty(t, quiet.String())
	b, err := os.ReadFile(file) //nolint:gosec // the test's own file
	require.NoError(t, err)
	assert.Equal(t, dot, string(b))
}

func TestDiagramRefusesBadInput(t *testing.T) {
	var out bytes.Buffer
	assert.ErrorContains(t, run(nil, &out), "-stack is required")
	assert.ErrorContains(t, run([]string{"-stack", "dev", "-plan", "x.json"}, &out), "-stack and -plan: give one")
	assert.ErrorContains(t, run([]string{"-plan", "/nonexistent/plan.json"}, &out), "no such file")
}
