package rules

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// M is a resource's inputs in tests; "[unknown]" and "[secret]" strings
// stand for unknown and secret values, as in a plan file.
type M = map[string]any

// tc is one policy case: the resources of a stack, and which resource
// violates it (none for a passing case) naming which property.
type tc struct {
	policy   string
	name     string
	env      string // "" means prod; "none" an unknown environment
	settings map[string]any
	rs       []*Resource
	fail     string // the violating resource's name; "" for a passing case
	prop     string // what the message must name
	// byPresence: the rule fails on the property being set at all, so an
	// unknown value violates it too (a replica's password).
	byPresence bool
}

func res(typ, name string, in M) *Resource {
	return &Resource{
		URN: "urn:pulumi:test::ecommerce::" + typ + "::" + name, Type: typ, Name: name, Region: "us-east-1",
		Inputs: fromPlain(in), DependenciesKnown: true, IgnoreChangesKnown: true,
	}
}

func in(region string, r *Resource) *Resource {
	r.Region = region
	return r
}

func dependsOn(r *Resource, on ...*Resource) *Resource {
	for _, o := range on {
		r.Dependencies = append(r.Dependencies, o.URN)
	}
	return r
}

func ignoring(r *Resource, paths ...string) *Resource {
	r.IgnoreChanges = paths
	return r
}

func secret(v any) resource.PropertyValue {
	return resource.MakeSecret(fromPlainValue(v))
}

func doc(statements ...M) string {
	b, _ := json.Marshal(M{"Version": "2012-10-17", "Statement": statements})
	return string(b)
}

func pass(policy, name string, rs ...*Resource) tc {
	return tc{policy: policy, name: name, rs: rs}
}

func fail(policy, name, prop string, rs ...*Resource) tc {
	return tc{policy: policy, name: name, rs: rs, fail: rs[0].Name, prop: prop}
}

func (c tc) inEnv(env string) tc      { c.env = env; return c }
func (c tc) presence() tc             { c.byPresence = true; return c }
func (c tc) with(s map[string]any) tc { c.settings = s; return c }
func (c tc) failing(name string) tc   { c.fail = name; return c }

func allCases() []tc {
	var out []tc
	out = append(out, securityCases()...)
	out = append(out, kubernetesCases()...)
	out = append(out, reliabilityCases()...)
	out = append(out, costCases()...)
	out = append(out, preflightCases()...)
	out = append(out, trafficCases()...)
	out = append(out, metricsCases()...)
	out = append(out, centralLogCases()...)
	return out
}

func (c tc) run(t *testing.T) []Violation {
	t.Helper()
	env := c.env
	switch env {
	case "":
		env = "prod"
	case "none":
		env = ""
	}
	cfg := Config{}
	if c.settings != nil {
		cfg[c.policy] = PolicyConfig{Properties: c.settings}
	}
	rep, err := Evaluate(&Stack{Name: "test", Environment: env, Resources: c.rs}, cfg)
	require.NoError(t, err)
	var out []Violation
	for _, v := range rep.Violations {
		if v.Policy == c.policy {
			out = append(out, v)
		}
	}
	return out
}

// TestPolicies runs every case: a passing case draws no violation of its
// policy, a failing one draws one on the named resource whose message
// names the property.
func TestPolicies(t *testing.T) {
	for _, c := range allCases() {
		t.Run(c.policy+"/"+c.name, func(t *testing.T) {
			require.NotNil(t, Find(c.policy), "no policy %s", c.policy)
			got := c.run(t)
			if c.fail == "" {
				assert.Empty(t, got)
				return
			}
			require.NotEmpty(t, got, "want a violation of %s", c.policy)
			found := false
			for _, v := range got {
				if v.Name == c.fail && strings.Contains(v.Message, c.prop) {
					found = true
				}
			}
			assert.True(t, found, "want a violation on %s naming %q, got %v", c.fail, c.prop, got)
		})
	}
}

// TestEveryPolicyHasAPassingAndAFailingCase keeps the table complete.
func TestEveryPolicyHasAPassingAndAFailingCase(t *testing.T) {
	passing, failing := map[string]int{}, map[string]int{}
	for _, c := range allCases() {
		if c.fail == "" {
			passing[c.policy]++
		} else {
			failing[c.policy]++
		}
	}
	for _, p := range All() {
		assert.NotZero(t, passing[p.Name], "%s has no passing case", p.Name)
		assert.NotZero(t, failing[p.Name], "%s has no failing case", p.Name)
	}
}

func TestPackShape(t *testing.T) {
	all := All()
	assert.GreaterOrEqual(t, len(all), 45)
	names := map[string]bool{}
	groups := map[Group]int{}
	for _, p := range all {
		assert.False(t, names[p.Name], "duplicate %s", p.Name)
		names[p.Name] = true
		groups[p.Group]++
		assert.Regexp(t, `^(missing|disallow|enable|enforce)-[a-z0-9-]+$`, p.Name)
		assert.NotEmpty(t, p.Description, p.Name)
		assert.Contains(t, []Level{Mandatory, Advisory}, p.Level, p.Name)
		assert.True(t, (p.Resource == nil) != (p.Stack == nil), "%s is a resource or a stack policy", p.Name)
		if p.Stack != nil {
			assert.Empty(t, p.Settings, "%s: stack policies get no config from the engine", p.Name)
		}
		for _, s := range p.Settings {
			assert.NotEmpty(t, s.Description, "%s.%s", p.Name, s.Name)
		}
	}
	for _, g := range []Group{Security, Reliability, Cost, Preflight} {
		assert.NotZero(t, groups[g], g)
	}
}

// variants are what a defensive rule must survive at any input: unknown,
// secret, and every wrong type.
var variants = []any{
	UnknownPlaceholder, SecretPlaceholder, secret("x"), 42, -1, "text", "", true, []any{}, []any{"a", 1}, M{}, M{"x": M{}}, nil,
}

// mutate returns copies of m with each leaf (and each object) replaced by
// each variant.
func mutate(m M) []M {
	var out []M
	for k, v := range m {
		for _, x := range variants {
			c := M{}
			for k2, v2 := range m {
				c[k2] = v2
			}
			c[k] = x
			out = append(out, c)
		}
		switch vv := v.(type) {
		case M:
			for _, sub := range mutate(vv) {
				c := M{}
				for k2, v2 := range m {
					c[k2] = v2
				}
				c[k] = sub
				out = append(out, c)
			}
		case []any:
			for i, e := range vv {
				if em, ok := e.(M); ok {
					for _, sub := range mutate(em) {
						arr := append([]any(nil), vv...)
						arr[i] = sub
						c := M{}
						for k2, v2 := range m {
							c[k2] = v2
						}
						c[k] = arr
						out = append(out, c)
					}
				}
			}
		}
	}
	return out
}

// TestRulesNeverPanic evaluates the whole pack over every case's
// resources with each input replaced by an unknown, a secret or a value of
// the wrong type, at every depth.
func TestRulesNeverPanic(t *testing.T) {
	n := 0
	for _, c := range allCases() {
		for i, r := range c.rs {
			for _, m := range mutate(plain(resource.NewObjectProperty(r.Inputs)).(map[string]any)) {
				rs := append([]*Resource(nil), c.rs...)
				mut := *r
				mut.Inputs = fromPlain(m)
				rs[i] = &mut
				func() {
					defer func() {
						if p := recover(); p != nil {
							t.Fatalf("%s/%s: panic on %s %v: %v", c.policy, c.name, r.Name, m, p)
						}
					}()
					_, err := Evaluate(&Stack{Name: "test", Environment: "prod", Resources: rs}, nil)
					require.NoError(t, err)
				}()
				n++
			}
		}
	}
	t.Logf("%d mutated stacks evaluated", n)
}

// Unknown and secret values are never violations by themselves: a case's
// failing resource with the failing property made unknown draws no
// violation naming that property.
func TestUnknownIsNotAViolation(t *testing.T) {
	for _, c := range allCases() {
		if c.fail == "" || c.byPresence || strings.Contains(c.prop, " ") || c.prop == "" {
			continue
		}
		for i, r := range c.rs {
			if r.Name != c.fail {
				continue
			}
			top := strings.SplitN(c.prop, ".", 2)[0]
			if _, ok := r.Inputs[resource.PropertyKey(top)]; !ok {
				continue
			}
			for _, ph := range []string{UnknownPlaceholder, SecretPlaceholder} {
				rs := append([]*Resource(nil), c.rs...)
				mut := *r
				mut.Inputs = r.Inputs.Copy()
				mut.Inputs[resource.PropertyKey(top)] = fromPlainValue(ph)
				rs[i] = &mut
				cc := c
				cc.rs = rs
				for _, v := range cc.run(t) {
					assert.False(t, v.Name == c.fail && strings.Contains(v.Message, c.prop),
						"%s/%s: %s %s draws %q", c.policy, c.name, top, ph, v.Message)
				}
			}
		}
	}
}

func TestParseConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{
		"all": "advisory",
		"enforce-rds-backup-retention": {"enforcementLevel": "mandatory", "minimumDays": {"prod": 14}},
		"disallow-documentation-cidrs": "disabled"
	}`))
	require.NoError(t, err)
	backup := Find("enforce-rds-backup-retention")
	assert.Equal(t, Mandatory, cfg.LevelOf(backup))
	assert.Equal(t, Advisory, cfg.LevelOf(Find("enable-kms-key-rotation")), "all applies to the rest")
	assert.Equal(t, Disabled, cfg.LevelOf(Find("disallow-documentation-cidrs")))
	s, err := backup.Resolve(cfg["enforce-rds-backup-retention"].Properties)
	require.NoError(t, err)
	days, _ := s.EnvInt("minimumDays", "prod")
	assert.Equal(t, 14, days)

	for doc, want := range map[string]string{
		`{"no-such-policy": "advisory"}`:                                "no-such-policy: no such policy",
		`{"enforce-rds-backup-retention": {"minimumDay": 3}}`:           "enforce-rds-backup-retention.minimumDay: no such setting (its settings are minimumDays)",
		`{"enforce-rds-backup-retention": {"minimumDays": "seven"}}`:    "enforce-rds-backup-retention.minimumDays: must be an object of integers keyed by environment",
		`{"enable-kms-key-rotation": {"enforcementLevel": "blocking"}}`: `enable-kms-key-rotation.enforcementLevel: "blocking" is not one of mandatory, advisory, disabled`,
		`{"missing-ecr-lifecycle-policy": {"x": 1}}`:                    "missing-ecr-lifecycle-policy.x: no such setting (it has no settings)",
		`[1]`: "not a JSON object",
	} {
		_, err := ParseConfig([]byte(doc))
		require.Error(t, err, doc)
		assert.Contains(t, err.Error(), want, doc)
	}
}

func TestSchemaCarriesDefaults(t *testing.T) {
	for _, p := range All() {
		s := p.Schema()
		if len(p.Settings) == 0 {
			assert.Nil(t, s, p.Name)
			continue
		}
		for _, set := range p.Settings {
			prop := s[set.Name]
			require.NotNil(t, prop, "%s.%s", p.Name, set.Name)
			assert.NotEmpty(t, prop["type"], "%s.%s", p.Name, set.Name)
			// The engine fills defaults from the schema: they must be the
			// rule's own and plain JSON (the schema travels as a protobuf
			// Struct).
			b, err := json.Marshal(prop["default"])
			require.NoError(t, err)
			assert.JSONEq(t, mustJSON(set.Default), string(b))
			switch prop["default"].(type) {
			case []any, float64, map[string]any:
			default:
				t.Errorf("%s.%s default is %T, not plain JSON", p.Name, set.Name, prop["default"])
			}
		}
	}
}

func TestParsePlanPlaceholders(t *testing.T) {
	s, err := ParsePlan([]byte(`{"stack": "qa", "resources": [
		{"urn": "urn:a", "type": "pulumi:providers:aws", "name": "p", "region": "us-east-1", "inputs": {"region": "us-east-1", "defaultTags": {"tags": {"environment": "staging"}}}},
		{"urn": "urn:b", "type": "aws:rds/instance:Instance", "name": "db", "region": "us-east-1", "dependsOn": ["urn:a"],
		 "inputs": {"password": "[secret]", "kmsKeyId": "[unknown]", "allocatedStorage": 20, "tags": {"a": "b"}}}
	]}`))
	require.NoError(t, err)
	assert.Equal(t, "staging", s.Environment, "from the providers' environment tag")
	db := s.Resources[1]
	assert.True(t, db.Get("password").Secret())
	assert.True(t, db.Get("password").Unknown())
	assert.True(t, db.Get("kmsKeyId").Unknown())
	n, ok := db.Get("allocatedStorage").Num()
	assert.True(t, ok)
	assert.Equal(t, 20.0, n)
	assert.True(t, db.DependsOn("urn:a"))
	assert.True(t, db.DependenciesKnown)
	assert.False(t, db.IgnoreChangesKnown, "a file without ignoreChanges says nothing about it")
	assert.False(t, s.Resources[0].DependenciesKnown)

	_, err = ParsePlan([]byte(`{"stack": "x", "resources": [{"type": "", "name": "a"}]}`))
	assert.ErrorContains(t, err, "resources[0]: type and name are required")
	_, err = ParsePlan([]byte(`{"stack": "x"}`))
	assert.ErrorContains(t, err, "no resources")
}

func TestReportWrite(t *testing.T) {
	rep := &Report{Stack: "dev", Environment: "dev", Policies: 3, Resources: 2, Violations: []Violation{
		{Policy: "p-one", Group: Security, Level: Mandatory, Type: "aws:x:Y", Name: "r1", Message: "prop is bad"},
		{Policy: "p-two", Group: Cost, Level: Advisory, Type: "aws:x:Z", Name: "r2", Message: "other is meh"},
	}}
	var b strings.Builder
	require.NoError(t, rep.Write(&b))
	out := b.String()
	for _, want := range []string{"stack dev", "3 policies over 2 resources", "mandatory violations: 1", "advisory violations:  1",
		"MANDATORY:\n  p-one (security)\n    aws:x:Y r1\n    prop is bad", "ADVISORY:\n  p-two (cost)"} {
		assert.Contains(t, out, want)
	}
}

// Every policy's name appears in a sorted, complete list (for the README's
// table and reviewers).
func TestAllIsSortedByGroupThenName(t *testing.T) {
	all := All()
	var names []string
	for _, p := range all {
		names = append(names, fmt.Sprintf("%s/%s", p.Group, p.Name))
	}
	assert.True(t, sort.SliceIsSorted(all, func(i, j int) bool {
		order := map[Group]int{Security: 0, Reliability: 1, Cost: 2, Preflight: 3}
		if all[i].Group != all[j].Group {
			return order[all[i].Group] < order[all[j].Group]
		}
		return all[i].Name < all[j].Name
	}), names)
}
