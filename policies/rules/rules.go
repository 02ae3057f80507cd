// Package rules holds the platform's policies as plain Go functions over a
// resource's type and inputs (resource.PropertyMap, what both the Pulumi
// engine's analyzer and the mock-engine plan carry). The policy pack in
// policies/ wraps them for `pulumi preview --policy-pack`, and the plan
// command and the plan-file checker evaluate them in process, so a rule is
// written once and behaves the same in all three places.
//
// Every rule reads inputs defensively: a missing input means the provider's
// default, an unknown (computed) value or a value of the wrong type is not a
// violation by itself, and nothing a rule reads can make it panic.
package rules

import (
	"fmt"
	"sort"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Group is the concern a policy belongs to.
type Group string

// The groups of the pack.
const (
	Security    Group = "security"
	Reliability Group = "reliability"
	Cost        Group = "cost"
	// Preflight policies catch what AWS or Kubernetes rejects only at
	// apply time, so a preview stops it instead of a half-applied update.
	Preflight Group = "preflight"
)

// Level is a policy's enforcement level, named as Pulumi names them.
type Level string

// The enforcement levels.
const (
	Mandatory Level = "mandatory"
	Advisory  Level = "advisory"
	Disabled  Level = "disabled"
)

// Resource is one resource as the rules see it.
type Resource struct {
	URN    string
	Type   string
	Name   string
	Parent string
	// Region the resource is created in ("" when unknown or regionless).
	Region string
	Inputs resource.PropertyMap

	// Dependencies are the URNs the resource depends on, when the caller
	// knows them (DependenciesKnown).
	Dependencies      []string
	DependenciesKnown bool
	// IgnoreChanges are the resource's ignoreChanges paths, when known.
	IgnoreChanges      []string
	IgnoreChangesKnown bool
}

// Get returns the input at a dotted path; numeric parts index arrays.
func (r *Resource) Get(path string) Value {
	return Value{v: resource.NewObjectProperty(r.Inputs), present: true}.Path(path)
}

// DependsOn tells whether r depends on the resource with this URN.
func (r *Resource) DependsOn(urn string) bool {
	for _, d := range r.Dependencies {
		if d == urn {
			return true
		}
	}
	return false
}

// Stack is what one evaluation looks at: every resource of a stack.
type Stack struct {
	Name string
	// Environment is dev, staging, prod or another name; "" when unknown,
	// in which case environment-dependent rules hold it to prod's.
	Environment string
	Resources   []*Resource
}

// Policy is one rule of the pack. Exactly one of Resource and Stack is set.
type Policy struct {
	Name        string
	Group       Group
	Level       Level
	Description string
	// Types are the resource types the policy reads; a resource policy
	// without types reads every resource.
	Types []string
	// Settings a team may tune; a stack policy has none, because the
	// analyzer protocol passes no configuration to stack policies.
	Settings []Setting
	// Resource checks one resource of one of Types.
	Resource func(c *ResourceCheck)
	// Stack checks relations between resources.
	Stack func(c *StackCheck)
}

// Applies tells whether a resource policy reads resources of this type.
func (p *Policy) Applies(typ string) bool {
	if len(p.Types) == 0 {
		return true
	}
	for _, t := range p.Types {
		if t == typ {
			return true
		}
	}
	return false
}

// Violation is one finding.
type Violation struct {
	Policy  string
	Group   Group
	Level   Level
	URN     string
	Type    string
	Name    string
	Message string
}

func (v Violation) String() string {
	return fmt.Sprintf("[%s] %s: %s %q: %s", v.Level, v.Policy, v.Type, v.Name, v.Message)
}

// ResourceCheck is what a resource policy's function gets.
type ResourceCheck struct {
	*Resource
	Env      string
	Settings Settings
	messages []string
}

// Fail records a violation. The message names the property; the report
// names the resource.
func (c *ResourceCheck) Fail(format string, args ...any) {
	c.messages = append(c.messages, fmt.Sprintf(format, plainNumbers(args)...))
}

// plainNumbers prints whole numbers as integers (1209600, not 1.2096e+06).
func plainNumbers(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if f, ok := a.(float64); ok && f == float64(int64(f)) {
			a = int64(f)
		}
		out[i] = a
	}
	return out
}

// EnvIn tells whether the stack's environment is in the list setting;
// an unknown environment counts as prod.
func (c *ResourceCheck) EnvIn(setting string) bool {
	return envIn(c.Env, c.Settings.Strings(setting))
}

func envIn(env string, list []string) bool {
	if env == "" {
		env = "prod"
	}
	for _, e := range list {
		if e == env || e == "*" {
			return true
		}
	}
	return false
}

// StackCheck is what a stack policy's function gets.
type StackCheck struct {
	Stack *Stack
	found []stackFinding
}

type stackFinding struct {
	r   *Resource
	msg string
}

// Fail records a violation of resource r.
func (c *StackCheck) Fail(r *Resource, format string, args ...any) {
	c.found = append(c.found, stackFinding{r, fmt.Sprintf(format, plainNumbers(args)...)})
}

// OfType returns the stack's resources of any of these types.
func (c *StackCheck) OfType(types ...string) []*Resource {
	var out []*Resource
	for _, r := range c.Stack.Resources {
		for _, t := range types {
			if r.Type == t {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// WaitsFor tells whether r waits for other: through its dependencies,
// transitively, where waiting for a component is waiting for everything
// under it, as the engine orders it.
func (c *StackCheck) WaitsFor(r, other *Resource) bool {
	children := map[string][]string{}
	for _, x := range c.Stack.Resources {
		if x.Parent != "" {
			children[x.Parent] = append(children[x.Parent], x.URN)
		}
	}
	seen := map[string]bool{}
	var walk func(urn string) bool
	walk = func(urn string) bool {
		if urn == other.URN {
			return true
		}
		if seen[urn] {
			return false
		}
		seen[urn] = true
		if cur := c.Lookup(urn); cur != nil {
			for _, d := range cur.Dependencies {
				if walk(d) {
					return true
				}
			}
		}
		for _, ch := range children[urn] {
			if walk(ch) {
				return true
			}
		}
		return false
	}
	for _, d := range r.Dependencies {
		if walk(d) {
			return true
		}
	}
	return false
}

// Lookup returns the resource with this URN, or nil.
func (c *StackCheck) Lookup(urn string) *Resource {
	for _, r := range c.Stack.Resources {
		if r.URN == urn {
			return r
		}
	}
	return nil
}

// CheckResource runs a resource policy on one resource with its settings.
func (p *Policy) CheckResource(r *Resource, env string, s Settings) []string {
	if p.Resource == nil || !p.Applies(r.Type) {
		return nil
	}
	c := &ResourceCheck{Resource: r, Env: env, Settings: s}
	p.Resource(c)
	return c.messages
}

// StackFinding is one violation a stack policy reports.
type StackFinding struct {
	Resource *Resource
	Message  string
}

// CheckStack runs a stack policy.
func (p *Policy) CheckStack(s *Stack) []StackFinding {
	if p.Stack == nil {
		return nil
	}
	c := &StackCheck{Stack: s}
	p.Stack(c)
	out := make([]StackFinding, len(c.found))
	for i, f := range c.found {
		out[i] = StackFinding{f.r, f.msg}
	}
	return out
}

var (
	allOnce sync.Once
	all     []*Policy
)

// All returns every policy of the pack, sorted by group and name. The
// slice is shared: callers must not modify it.
func All() []*Policy {
	allOnce.Do(func() { all = build() })
	return all
}

func build() []*Policy {
	var all []*Policy
	all = append(all, securityPolicies()...)
	all = append(all, kubernetesPolicies()...)
	all = append(all, reliabilityPolicies()...)
	all = append(all, costPolicies()...)
	all = append(all, preflightPolicies()...)
	all = append(all, trafficPolicies()...)
	all = append(all, metricsPolicies()...)
	all = append(all, centralLogPolicies()...)
	order := map[Group]int{Security: 0, Reliability: 1, Cost: 2, Preflight: 3}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].Group != all[j].Group {
			return order[all[i].Group] < order[all[j].Group]
		}
		return all[i].Name < all[j].Name
	})
	return all
}

// Find returns the policy with this name, or nil.
func Find(name string) *Policy {
	for _, p := range All() {
		if p.Name == name {
			return p
		}
	}
	return nil
}
