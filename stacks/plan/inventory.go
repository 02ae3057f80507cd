package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Secret is what every secret value becomes in the inventory.
const Secret = "[secret]"

func keyOf(k string) resource.PropertyKey { return resource.PropertyKey(k) }

// Inventory is what one stack would create.
type Inventory struct {
	Stack     string      `json:"stack"`
	Resources []*Resource `json:"-"`

	index map[string]*Resource // by URN, built on first Lookup
}

// Lookup returns the resource with this URN, or nil.
func (inv *Inventory) Lookup(urn string) *Resource {
	if inv.index == nil {
		inv.index = indexURN(inv.Resources)
	}
	return inv.index[urn]
}

// ProviderOf returns the provider resource a custom resource was created
// with, or nil for none (a default provider, which the mocks never record).
func (inv *Inventory) ProviderOf(r *Resource) *Resource {
	urn, _, found := strings.Cut(r.Provider, "::"+providerID(r.Provider))
	if !found {
		return nil
	}
	return inv.Lookup(urn)
}

// jsonResource is the documented shape of one inventory entry.
type jsonResource struct {
	URN       string   `json:"urn"`
	Type      string   `json:"type"`
	Name      string   `json:"name"`
	Region    string   `json:"region"`
	Parent    string   `json:"parent"`
	DependsOn []string `json:"dependsOn"`
	// IgnoreChanges is always written, so a reader can tell "none" from
	// a plan file that predates it.
	IgnoreChanges []string       `json:"ignoreChanges"`
	Inputs        map[string]any `json:"inputs"`
}

// MarshalJSON writes {"stack", "resources": [{urn, type, name, region,
// parent, dependsOn, ignoreChanges, inputs}]}, with every secret replaced
// by "[secret]" and every value unknown before apply by "[unknown]".
func (inv *Inventory) MarshalJSON() ([]byte, error) {
	out := struct {
		Stack     string         `json:"stack"`
		Resources []jsonResource `json:"resources"`
	}{Stack: inv.Stack, Resources: make([]jsonResource, 0, len(inv.Resources))}
	for _, r := range inv.Resources {
		deps := r.DependsOn
		if deps == nil {
			deps = []string{}
		}
		ignore := r.IgnoreChanges
		if ignore == nil {
			ignore = []string{}
		}
		out.Resources = append(out.Resources, jsonResource{
			URN: r.URN, Type: r.Type, Name: r.Name, Region: r.Region, Parent: r.Parent,
			DependsOn: deps, IgnoreChanges: ignore, Inputs: Redact(r.Inputs),
		})
	}
	return json.Marshal(out)
}

// Redact turns a property map into plain values with secrets replaced.
func Redact(m resource.PropertyMap) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		// The SDK's bookkeeping keys are not inputs a reviewer set.
		if strings.HasPrefix(string(k), "__") {
			continue
		}
		out[string(k)] = redactValue(v)
	}
	return out
}

func redactValue(v resource.PropertyValue) any {
	switch {
	case v.IsSecret():
		return Secret
	case v.IsOutput():
		o := v.OutputValue()
		if o.Secret {
			return Secret
		}
		if !o.Known {
			return "[unknown]"
		}
		return redactValue(o.Element)
	case v.IsComputed():
		return "[unknown]"
	case v.IsArray():
		arr := v.ArrayValue()
		out := make([]any, len(arr))
		for i, e := range arr {
			out[i] = redactValue(e)
		}
		return out
	case v.IsObject():
		return Redact(v.ObjectValue())
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN)
	case v.IsAsset(), v.IsArchive():
		return "[asset]"
	case v.IsNull():
		return nil
	default:
		return v.V
	}
}

// OfType returns the resources of one type token.
func (inv *Inventory) OfType(token string) []*Resource {
	var out []*Resource
	for _, r := range inv.Resources {
		if r.Type == token {
			out = append(out, r)
		}
	}
	return out
}

// Where returns the resources of one type whose input at path is the
// string value (e.g. the records of one DNS name, the alarm of one name).
func (inv *Inventory) Where(token, path, value string) []*Resource {
	var out []*Resource
	for _, r := range inv.OfType(token) {
		if r.String(path) == value {
			out = append(out, r)
		}
	}
	return out
}

// Find returns the resource with this type and logical name, or nil.
func (inv *Inventory) Find(token, name string) *Resource {
	for _, r := range inv.Resources {
		if r.Type == token && r.Name == name {
			return r
		}
	}
	return nil
}

// Counts returns region -> type -> number of resources.
func (inv *Inventory) Counts() map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, r := range inv.Resources {
		if out[r.Region] == nil {
			out[r.Region] = map[string]int{}
		}
		out[r.Region][r.Type]++
	}
	return out
}

// WriteSummary prints the component tree and the counts per region and type.
func (inv *Inventory) WriteSummary(w io.Writer) error {
	children := map[string][]*Resource{}
	var roots []*Resource
	for _, r := range inv.Resources {
		if inv.Lookup(r.Parent) != nil {
			children[r.Parent] = append(children[r.Parent], r)
		} else {
			roots = append(roots, r)
		}
	}
	regions := map[string]bool{}
	for _, r := range inv.Resources {
		if r.Region != "" {
			regions[r.Region] = true
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Stack %s: %d resources in %d region(s)\n\nComponent tree (custom resources counted under their component):\n",
		inv.Stack, len(inv.Resources), len(regions))
	var walk func(r *Resource, depth int)
	walk = func(r *Resource, depth int) {
		if r.Custom {
			return
		}
		direct := 0
		for _, c := range children[r.URN] {
			if c.Custom {
				direct++
			}
		}
		region := r.Region
		if region == "" {
			region = "global"
		}
		fmt.Fprintf(&b, "%s%s %s [%s] %d resource(s)\n", strings.Repeat("  ", depth+1), r.Type, r.Name, region, direct)
		for _, c := range children[r.URN] {
			walk(c, depth+1)
		}
	}
	var globals []string
	for _, r := range roots {
		if r.Custom {
			globals = append(globals, r.Type+" "+r.Name)
			continue
		}
		walk(r, 0)
	}
	if len(globals) > 0 {
		fmt.Fprintf(&b, "  top-level resources: %s\n", strings.Join(globals, ", "))
	}

	fmt.Fprintf(&b, "\nResources per region and type:\n")
	counts := inv.Counts()
	regionNames := make([]string, 0, len(counts))
	for r := range counts {
		regionNames = append(regionNames, r)
	}
	sort.Strings(regionNames)
	for _, region := range regionNames {
		label, total := region, 0
		if label == "" {
			label = "global"
		}
		types := make([]string, 0, len(counts[region]))
		for t, n := range counts[region] {
			types = append(types, t)
			total += n
		}
		sort.Strings(types)
		fmt.Fprintf(&b, "  %s (%d)\n", label, total)
		for _, t := range types {
			fmt.Fprintf(&b, "    %-62s %4d\n", t, counts[region][t])
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func indexURN(rs []*Resource) map[string]*Resource {
	m := make(map[string]*Resource, len(rs))
	for _, r := range rs {
		m[r.URN] = r
	}
	return m
}

// Get returns the input at a dotted path ("vpcConfig.subnetIds") as a plain
// value, secrets shown as "[secret]", or nil when absent. Array elements are
// addressed by index ("tags.Name", "routes.0.cidrBlock"); a dot inside a key
// is escaped ("metadata.labels.app\\.kubernetes\\.io/name").
func (r *Resource) Get(path string) any {
	var cur any = Redact(r.Inputs)
	for _, part := range splitPath(path) {
		switch v := cur.(type) {
		case map[string]any:
			cur = v[part]
		case []any:
			var i int
			if _, err := fmt.Sscanf(part, "%d", &i); err != nil || i < 0 || i >= len(v) {
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

// WaitsFor reports whether r waits for other, directly or through the
// resources it waits for. Waiting for a component is waiting for all that
// is under it, as the engine does.
func (inv *Inventory) WaitsFor(r, other *Resource) bool {
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
		cur := inv.Lookup(urn)
		if cur == nil {
			return false
		}
		for _, d := range cur.DependsOn {
			if walk(d) {
				return true
			}
		}
		if !cur.Custom {
			for _, c := range inv.Children(cur) {
				if walk(c.URN) {
					return true
				}
			}
		}
		return false
	}
	for _, d := range r.DependsOn {
		if walk(d) {
			return true
		}
	}
	return false
}

// Children returns the resources whose parent is r.
func (inv *Inventory) Children(r *Resource) []*Resource {
	var out []*Resource
	for _, c := range inv.Resources {
		if c.Parent == r.URN {
			out = append(out, c)
		}
	}
	return out
}

// Descendants returns every resource below r.
func (inv *Inventory) Descendants(r *Resource) []*Resource {
	var out []*Resource
	for _, c := range inv.Children(r) {
		out = append(out, c)
		out = append(out, inv.Descendants(c)...)
	}
	return out
}

// splitPath splits a Get path on the dots that are not escaped.
func splitPath(path string) []string {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(path); i++ {
		switch {
		case path[i] == '\\' && i+1 < len(path) && path[i+1] == '.':
			cur.WriteByte('.')
			i++
		case path[i] == '.':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(path[i])
		}
	}
	return append(parts, cur.String())
}
