package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Step is one resource on a deploy's timeline.
type Step struct {
	Resource       *Resource
	Start, Finish  time.Duration
	Duration       Duration
	WaitedFor      *Resource // the dependency that finished last, nil if none
	changedInDelta bool
}

// Estimate is the expected wall time of a deploy: the engine creates a
// resource as soon as everything it waits for exists, so the total is the
// longest chain of waits (the critical path).
type Estimate struct {
	Total time.Duration
	// Path is the critical path, first to last.
	Path []*Step
	// Regions are when each region's last resource is done ("" is the
	// resources of no region).
	Regions map[string]time.Duration
	// Changed counts the resources the deploy creates or changes.
	Changed int
}

// EstimateCreate is a fresh deploy: every resource created.
func (inv *Inventory) EstimateCreate() *Estimate {
	return inv.estimate(func(*Resource) bool { return true })
}

// EstimateUpdate is the deploy from base to inv: only what is new or whose
// inputs differ is created or changed (at its create time, an upper bound
// for most updates); the rest is already there.
func (inv *Inventory) EstimateUpdate(base *Inventory) *Estimate {
	return inv.estimate(func(r *Resource) bool {
		old := base.Lookup(r.URN)
		return old == nil || !sameInputs(old, r)
	})
}

func sameInputs(a, b *Resource) bool {
	x, err1 := json.Marshal(Redact(a.Inputs))
	y, err2 := json.Marshal(Redact(b.Inputs))
	return err1 == nil && err2 == nil && string(x) == string(y)
}

func isProvider(r *Resource) bool { return strings.HasPrefix(r.Type, "pulumi:providers:") }

func (inv *Inventory) estimate(changed func(*Resource) bool) *Estimate {
	children := map[string][]*Resource{}
	for _, r := range inv.Resources {
		children[r.Parent] = append(children[r.Parent], r)
	}
	steps := map[string]*Step{}
	visiting := map[string]bool{}
	var finish func(r *Resource) *Step
	// waitsOn are the resources r cannot start before: what it depends on
	// (a component meaning everything under it) and its provider.
	waitsOn := func(r *Resource) []*Resource {
		var out []*Resource
		var add func(urn string)
		add = func(urn string) {
			d := inv.Lookup(urn)
			if d == nil {
				return
			}
			if d.Custom {
				out = append(out, d)
				return
			}
			for _, c := range children[d.URN] {
				add(c.URN)
			}
		}
		for _, d := range r.DependsOn {
			add(d)
		}
		if p := inv.ProviderOf(r); p != nil {
			out = append(out, p)
		}
		return out
	}
	finish = func(r *Resource) *Step {
		if s, ok := steps[r.URN]; ok {
			return s
		}
		s := &Step{Resource: r}
		if visiting[r.URN] {
			return s // a cycle cannot exist in a plan the engine accepts
		}
		visiting[r.URN] = true
		for _, d := range waitsOn(r) {
			if ds := finish(d); s.WaitedFor == nil || ds.Finish > s.Start {
				s.Start, s.WaitedFor = ds.Finish, d
			}
		}
		if changed(r) {
			s.Duration = CreateDuration(r)
			s.changedInDelta = r.Custom && !isProvider(r)
		}
		s.Finish = s.Start + s.Duration.Time
		steps[r.URN] = s
		return s
	}
	e := &Estimate{Regions: map[string]time.Duration{}}
	var last *Step
	for _, r := range inv.Resources {
		s := finish(r)
		if s.changedInDelta {
			e.Changed++
		}
		if s.Finish > e.Regions[r.Region] {
			e.Regions[r.Region] = s.Finish
		}
		if last == nil || s.Finish > last.Finish {
			last = s
		}
	}
	if last == nil {
		return e
	}
	e.Total = last.Finish
	for s := last; s != nil; {
		if s.Duration.Time > 0 {
			e.Path = append([]*Step{s}, e.Path...)
		}
		if s.WaitedFor == nil {
			break
		}
		s = steps[s.WaitedFor.URN]
	}
	return e
}

func clock(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

// Write prints the estimate: the total, the critical path (steps of a
// minute or more; the rest are summed into the next one's wait) and when
// each region is done.
func (e *Estimate) Write(w io.Writer, title string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s (min:s), %d resource(s) to create or change\n", title, clock(e.Total), e.Changed)
	fmt.Fprintf(&b, "  critical path (create times: stacks/plan/durations.go, reviewed %s):\n", DurationsDate)
	for _, s := range e.Path {
		if s.Duration.Time < time.Minute && s != e.Path[len(e.Path)-1] {
			continue
		}
		fmt.Fprintf(&b, "    %6s -> %6s  %s %s (%s, %s)\n", clock(s.Start), clock(s.Finish), s.Resource.Type, s.Resource.Name,
			clock(s.Duration.Time), s.Duration.Source)
	}
	regions := make([]string, 0, len(e.Regions))
	for r := range e.Regions {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	parts := make([]string, 0, len(regions))
	for _, r := range regions {
		name := r
		if name == "" {
			name = "global"
		}
		parts = append(parts, fmt.Sprintf("%s %s", name, clock(e.Regions[r])))
	}
	fmt.Fprintf(&b, "  done by region: %s\n", strings.Join(parts, ", "))
	_, err := io.WriteString(w, b.String())
	return err
}

// ReadInventory reads a JSON inventory (`make plan OUT=`) back, as far as
// comparing plans needs: URNs, types, names, regions, parents, what each
// waits for and inputs (secrets stay "[secret]" on both sides).
func ReadInventory(b []byte) (*Inventory, error) {
	var doc struct {
		Stack     string         `json:"stack"`
		Resources []jsonResource `json:"resources"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("plan file: %w", err)
	}
	inv := &Inventory{Stack: doc.Stack}
	for i, r := range doc.Resources {
		if r.URN == "" || r.Type == "" {
			return nil, fmt.Errorf("plan file: resource %d has no urn or type; write it with a current `make plan OUT=`", i)
		}
		inv.Resources = append(inv.Resources, &Resource{
			URN: r.URN, Type: r.Type, Name: r.Name, Region: r.Region, Parent: r.Parent,
			Custom: !strings.HasPrefix(r.Type, "ecommerce:"), DependsOn: r.DependsOn,
			Inputs: resource.NewPropertyMapFromMap(r.Inputs),
		})
	}
	return inv, nil
}
