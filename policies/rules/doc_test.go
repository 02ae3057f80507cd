package rules

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the policy table in policies/README.md")

const (
	tableBegin = "<!-- policy-table:begin (generated: go test ./policies/rules -run TestPolicyTable -update) -->"
	tableEnd   = "<!-- policy-table:end -->"
)

// policyTable renders the pack as the README's markdown table.
func policyTable() string {
	var b strings.Builder
	b.WriteString("| Policy | Group | Level | Kind | What it checks | Settings (default) |\n|---|---|---|---|---|---|\n")
	for _, p := range All() {
		kind := "resource"
		if p.Stack != nil {
			kind = "stack"
		}
		var settings []string
		for _, s := range p.Settings {
			settings = append(settings, fmt.Sprintf("`%s` %s (`%s`)", s.Name, strings.TrimSuffix(s.Description, "."), mustJSON(s.Default)))
		}
		desc := strings.ReplaceAll(p.Description, "|", "\\|")
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", p.Name, p.Group, p.Level, kind, desc, strings.Join(settings, "; "))
	}
	return b.String()
}

// TestPolicyTableInReadme keeps policies/README.md's table the pack's own.
func TestPolicyTableInReadme(t *testing.T) {
	const path = "../README.md"
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	doc := string(b)
	before, rest, ok1 := strings.Cut(doc, tableBegin)
	_, after, ok2 := strings.Cut(rest, tableEnd)
	require.True(t, ok1 && ok2, "policies/README.md holds the table markers")
	want := before + tableBegin + "\n" + policyTable() + tableEnd + after
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(want), 0o644))
		return
	}
	assert.Equal(t, want, doc, "the table is stale: go test ./policies/rules -run TestPolicyTable -update")
}

// The example config in policies/ is valid for the pack.
func TestExampleConfigIsValid(t *testing.T) {
	cfg, err := LoadConfig("../config.example.json")
	require.NoError(t, err)
	assert.Equal(t, Mandatory, cfg.LevelOf(Find("enforce-cloudfront-price-class")))
	s, err := Find("enforce-rds-backup-retention").Resolve(cfg["enforce-rds-backup-retention"].Properties)
	require.NoError(t, err)
	days, _ := s.EnvInt("minimumDays", "prod")
	assert.Equal(t, 14, days)
}
