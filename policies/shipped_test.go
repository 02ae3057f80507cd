package main

// The pack over the shipped stacks: what `make plan` and `pulumi preview
// --policy-pack policies` would report on dev, staging and prod.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/policies/pack"
	"github.com/example/ecommerce-platform/policies/rules"
	"github.com/example/ecommerce-platform/stacks/offline"
	"github.com/example/ecommerce-platform/stacks/plan"
)

var shipped = []string{"dev", "staging", "prod"}

var (
	plansMu sync.Mutex
	plans   = map[string]*plan.Inventory{}
)

// planned returns the cached plan of a shipped stack, made the way
// `make plan` makes it.
func planned(t testing.TB, stack string) *plan.Inventory {
	t.Helper()
	plansMu.Lock()
	defer plansMu.Unlock()
	if inv, ok := plans[stack]; ok {
		return inv
	}
	inv, err := offline.PlanStack("..", stack)
	require.NoError(t, err)
	plans[stack] = inv
	return inv
}

func evaluate(t *testing.T, s *rules.Stack) *rules.Report {
	t.Helper()
	rep, err := rules.Evaluate(s, nil)
	require.NoError(t, err)
	return rep
}

// key identifies a finding independently of how the resource was read.
func key(policy, typ, name string) string { return policy + " " + typ + " " + name }

func findings(rep *rules.Report, level rules.Level) map[string]int {
	out := map[string]int{}
	for _, v := range rep.Violations {
		if level == "" || v.Level == level {
			out[key(v.Policy, v.Type, v.Name)]++
		}
	}
	return out
}

// TestShippedStacksPassMandatoryPolicies: every shipped stack passes every
// mandatory policy, as `make plan` requires.
func TestShippedStacksPassMandatoryPolicies(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			rep := evaluate(t, planned(t, stack).PolicyStack())
			assert.Equal(t, stack, rep.Environment)
			assert.Equal(t, len(rules.All()), rep.Policies)
			var lines []string
			for _, v := range rep.Violations {
				if v.Level == rules.Mandatory {
					lines = append(lines, v.String())
				}
			}
			assert.Empty(t, lines, "mandatory violations in %s:\n%s", stack, strings.Join(lines, "\n"))
		})
	}
}

var advisoryRow = regexp.MustCompile("^\\| `([a-z0-9-]+)` \\| ([a-z, ]+) \\|")

// TestAdvisoryViolationsAreDocumented: the advisory findings on the shipped
// stacks are exactly those the README lists as accepted, with why.
func TestAdvisoryViolationsAreDocumented(t *testing.T) {
	got := map[string][]string{}
	for _, stack := range shipped {
		rep := evaluate(t, planned(t, stack).PolicyStack())
		seen := map[string]bool{}
		for _, v := range rep.Violations {
			if v.Level == rules.Advisory && !seen[v.Policy] {
				seen[v.Policy] = true
				got[v.Policy] = append(got[v.Policy], stack)
			}
		}
	}
	b, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, section, found := strings.Cut(string(b), "## Accepted advisory violations")
	require.True(t, found, "policies/README.md has an \"Accepted advisory violations\" section")
	section, _, _ = strings.Cut(section, "\n## ")
	documented := map[string][]string{}
	for _, line := range strings.Split(section, "\n") {
		if m := advisoryRow.FindStringSubmatch(line); m != nil {
			for _, s := range strings.Split(m[2], ",") {
				documented[m[1]] = append(documented[m[1]], strings.TrimSpace(s))
			}
		}
	}
	assert.Equal(t, got, documented)
}

// plant is one violation put into a copy of a real plan.
type plant struct {
	group    rules.Group
	policies []string // what must catch it
	typ      string
	edit     func(r *rules.Resource) bool // changes the first resource it accepts
}

func setInput(r *rules.Resource, k string, v any) {
	r.Inputs[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
}

var plants = []plant{
	{rules.Security, []string{"disallow-public-rds"}, "aws:rds/instance:Instance", func(r *rules.Resource) bool {
		setInput(r, "publiclyAccessible", true)
		return true
	}},
	{rules.Reliability, []string{"enforce-rds-multi-az"}, "aws:rds/instance:Instance", func(r *rules.Resource) bool {
		setInput(r, "multiAz", false)
		return true
	}},
	{rules.Cost, []string{"missing-log-retention"}, "aws:cloudwatch/logGroup:LogGroup", func(r *rules.Resource) bool {
		delete(r.Inputs, "retentionInDays")
		return true
	}},
	// Transit encryption off with an auth token is both a security gap
	// and a create AWS refuses.
	{rules.Preflight, []string{"enforce-elasticache-auth-token-transit-encryption", "enable-redis-transit-encryption"}, "aws:elasticache/replicationGroup:ReplicationGroup", func(r *rules.Resource) bool {
		setInput(r, "transitEncryptionEnabled", false)
		return true
	}},
	{rules.Preflight, []string{"enforce-sqs-limits"}, "aws:sqs/queue:Queue", func(r *rules.Resource) bool {
		setInput(r, "visibilityTimeoutSeconds", 50000)
		return true
	}},
}

// TestPlantedViolationsAreCaught reads a real plan through its plan file
// (what a reviewer edits by hand), plants one violation per group into a
// copy, and asserts each is caught, on its resource, and nothing else new.
func TestPlantedViolationsAreCaught(t *testing.T) {
	b, err := json.Marshal(planned(t, "prod"))
	require.NoError(t, err)
	base, err := rules.ParsePlan(b)
	require.NoError(t, err)
	before := findings(evaluate(t, base), "")

	edited, err := rules.ParsePlan(b)
	require.NoError(t, err)
	want := map[string]int{}
	groups := map[rules.Group]bool{}
	for _, p := range plants {
		planted := false
		for _, r := range edited.Resources {
			if r.Type == p.typ && p.edit(r) {
				for _, pol := range p.policies {
					want[key(pol, r.Type, r.Name)]++
				}
				planted = true
				break
			}
		}
		require.True(t, planted, "a %s to plant %v in", p.typ, p.policies)
		groups[p.group] = true
	}
	assert.Len(t, groups, 4, "one plant per group")

	after := findings(evaluate(t, edited), "")
	added := map[string]int{}
	for k, n := range after {
		if n > before[k] {
			added[k] = n - before[k]
		}
	}
	assert.Equal(t, want, added)
}

// TestPackAgreesWithRulesOverARealPlan runs every policy of the pack the
// way the engine calls it (property.Map inputs, the region and environment
// from each resource's provider, options, dependencies) over the shipped
// stacks, and expects the same findings as the in-process evaluation.
func TestPackAgreesWithRulesOverARealPlan(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			inv := planned(t, stack)
			want := findings(evaluate(t, inv.PolicyStack()), "")

			var ars []policyx.AnalyzerResource
			for _, r := range inv.Resources {
				ar := policyx.AnalyzerResource{
					Type: r.Type, Name: r.Name, URN: r.URN, Parent: r.Parent,
					Properties:   resource.FromResourcePropertyMap(r.Inputs),
					Dependencies: r.DependsOn,
				}
				ar.Options.IgnoreChanges = r.IgnoreChanges
				if p := inv.ProviderOf(r); p != nil {
					ar.Provider = policyx.AnalyzerProviderResource{Type: p.Type, Name: p.Name, URN: p.URN,
						Properties: resource.FromResourcePropertyMap(p.Inputs)}
				}
				ars = append(ars, ar)
			}
			p, err := pack.New(nil)
			require.NoError(t, err)
			got := map[string]int{}
			byURN := map[string]*plan.Resource{}
			for _, r := range inv.Resources {
				byURN[r.URN] = r
			}
			m := &collector{}
			for _, pol := range p.Policies() {
				m.policy = pol.Name()
				switch pol := pol.(type) {
				case policyx.ResourceValidationPolicy:
					for _, ar := range ars {
						m.urn = ar.URN
						require.NoError(t, pol.Validate(context.Background(), policyx.ResourceValidationArgs{Manager: m, Resource: ar}))
					}
				case policyx.StackValidationPolicy:
					require.NoError(t, pol.Validate(context.Background(), policyx.StackValidationArgs{Manager: m, Resources: ars}))
				}
			}
			for _, f := range m.found {
				r := byURN[f.urn]
				require.NotNil(t, r, "violation on an unknown URN %s", f.urn)
				assert.Contains(t, f.message, fmt.Sprintf("%s %q", r.Type, r.Name), "the message names the resource")
				got[key(f.policy, r.Type, r.Name)]++
			}
			assert.Equal(t, want, got)
		})
	}
}

type collector struct {
	policy, urn string
	found       []struct{ policy, urn, message string }
}

func (c *collector) ReportViolation(message, urn string) {
	if urn == "" {
		urn = c.urn
	}
	c.found = append(c.found, struct{ policy, urn, message string }{c.policy, urn, message})
}

// secretReaders are the rules that read inside secrets: a plan file
// redacts them, so they find nothing there.
var secretReaders = map[string]bool{"enforce-postgres-verify-full": true, "disallow-master-user-in-runtime-secret": true}

// TestPlanFileAgreesWithInProcess: `make policy-check` over the plan file
// finds what `make plan` finds, except what only a secret's value shows.
func TestPlanFileAgreesWithInProcess(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			inv := planned(t, stack)
			want := map[string]int{}
			for k, n := range findings(evaluate(t, inv.PolicyStack()), "") {
				if !secretReaders[strings.SplitN(k, " ", 2)[0]] {
					want[k] = n
				}
			}
			b, err := json.Marshal(inv)
			require.NoError(t, err)
			file, err := rules.ParsePlan(b)
			require.NoError(t, err)
			assert.Equal(t, stack, file.Environment)
			got := findings(evaluate(t, file), "")
			var keys []string
			for k := range got {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			assert.Equal(t, want, got, keys)
		})
	}
}

// BenchmarkEvaluate times the whole pack over the prod plan in process,
// as `make plan STACK=prod` runs it.
func BenchmarkEvaluate(b *testing.B) {
	s := planned(b, "prod").PolicyStack()
	b.ReportMetric(float64(len(s.Resources)), "resources")
	b.ResetTimer()
	for b.Loop() {
		if _, err := rules.Evaluate(s, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPolicyCheckFile times `make policy-check` on the prod plan
// file: parse, then evaluate.
func BenchmarkPolicyCheckFile(b *testing.B) {
	data, err := json.Marshal(planned(b, "prod"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		s, err := rules.ParsePlan(data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := rules.Evaluate(s, nil); err != nil {
			b.Fatal(err)
		}
	}
}
