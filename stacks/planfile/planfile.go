// Package planfile reads the inventory that `make plan OUT=` writes (the
// JSON of stacks/plan.Inventory) into plain Go values. It imports no Pulumi
// package, so the tools over a plan (cost, diagram) and their tests build
// and link in seconds.
package planfile

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Secret and Unknown are what a secret value, and a value known only after
// apply, become in a plan file.
const (
	Secret  = "[secret]"
	Unknown = "[unknown]"
)

// Plan is what one stack would create.
type Plan struct {
	Stack     string      `json:"stack"`
	Resources []*Resource `json:"resources"`

	byURN    map[string]*Resource
	children map[string][]*Resource
}

// Resource is one entry of the plan.
type Resource struct {
	URN       string         `json:"urn"`
	Type      string         `json:"type"`
	Name      string         `json:"name"`
	Region    string         `json:"region"`
	Parent    string         `json:"parent"`
	DependsOn []string       `json:"dependsOn"`
	Inputs    map[string]any `json:"inputs"`
}

// Read parses a plan file and indexes it.
func Read(b []byte) (*Plan, error) {
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("plan file: %w", err)
	}
	for i, r := range p.Resources {
		if r == nil || r.URN == "" || r.Type == "" {
			return nil, fmt.Errorf("plan file: resource %d has no urn or type; write it with a current `make plan OUT=`", i)
		}
	}
	p.index()
	return &p, nil
}

// New builds a plan from resources made in code (tests), indexed as Read
// indexes a file.
func New(stack string, resources ...*Resource) *Plan {
	p := &Plan{Stack: stack, Resources: resources}
	p.index()
	return p
}

func (p *Plan) index() {
	p.byURN = make(map[string]*Resource, len(p.Resources))
	p.children = map[string][]*Resource{}
	for _, r := range p.Resources {
		p.byURN[r.URN] = r
		p.children[r.Parent] = append(p.children[r.Parent], r)
	}
}

// Lookup returns the resource with this URN, or nil.
func (p *Plan) Lookup(urn string) *Resource { return p.byURN[urn] }

// Children returns the resources whose parent is r, in plan order.
func (p *Plan) Children(r *Resource) []*Resource { return p.children[r.URN] }

// OfType returns the resources of one type token, in plan order.
func (p *Plan) OfType(token string) []*Resource {
	var out []*Resource
	for _, r := range p.Resources {
		if r.Type == token {
			out = append(out, r)
		}
	}
	return out
}

// Regions returns the regions resources are in, sorted ("" left out).
func (p *Plan) Regions() []string {
	seen := map[string]bool{}
	for _, r := range p.Resources {
		if r.Region != "" {
			seen[r.Region] = true
		}
	}
	out := make([]string, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// Custom reports whether r is a cloud resource (or a provider), not one of
// the program's components, which create nothing themselves.
func (r *Resource) Custom() bool { return !strings.HasPrefix(r.Type, "ecommerce:") }

// Component returns the component r belongs to: the nearest ancestor
// (or r itself) that is a component directly under a Region component, the
// Region itself for what sits right under it, or, for what is in no region,
// the outermost component under the stack. Nil when r is in no component
// (a provider).
func (p *Plan) Component(r *Resource) *Resource {
	var below, outermost *Resource
	for cur := r; cur != nil; cur = p.Lookup(cur.Parent) {
		if cur.Type == RegionType {
			if below != nil {
				return below
			}
			return cur
		}
		if !cur.Custom() {
			below, outermost = cur, cur
		}
	}
	return outermost
}

// RegionType is the type token of the per-region component.
const RegionType = "ecommerce:region:Region"

// Module returns the module of a type token: "network" for
// "ecommerce:network:Network", "rds" for "aws:rds/instance:Instance".
func Module(token string) string {
	parts := strings.Split(token, ":")
	if len(parts) < 2 {
		return token
	}
	mod, _, _ := strings.Cut(parts[1], "/")
	return mod
}

// Get returns the input at a dotted path ("scalingConfig.desiredSize",
// "subnetIds.0") or nil when absent.
func (r *Resource) Get(path string) any {
	var cur any = r.Inputs
	for _, part := range strings.Split(path, ".") {
		switch v := cur.(type) {
		case map[string]any:
			cur = v[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(v) {
				return nil
			}
			cur = v[i]
		default:
			return nil
		}
	}
	return cur
}

// String returns the input at path as a string, "" if it is not one.
func (r *Resource) String(path string) string {
	s, _ := r.Get(path).(string)
	return s
}

// Number returns the input at path as a number, and whether it is one
// (not absent, secret or unknown).
func (r *Resource) Number(path string) (float64, bool) {
	switch v := r.Get(path).(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	}
	return 0, false
}

// Bool returns the input at path as a bool (false when absent).
func (r *Resource) Bool(path string) bool {
	b, _ := r.Get(path).(bool)
	return b
}

// Strings returns the string elements of the list at path.
func (r *Resource) Strings(path string) []string {
	list, _ := r.Get(path).([]any)
	out := make([]string, 0, len(list))
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Len returns the length of the list at path (0 when it is not a list).
func (r *Resource) Len(path string) int {
	list, _ := r.Get(path).([]any)
	return len(list)
}
