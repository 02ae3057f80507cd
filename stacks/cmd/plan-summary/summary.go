package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/example/ecommerce-platform/policies/rules"
	"github.com/example/ecommerce-platform/stacks/plan"
)

// Marker starts the comment, so the workflow finds and edits its own
// comment instead of posting another.
const Marker = "<!-- ecommerce-plan-summary -->"

// MaxChars keeps the comment well inside GitHub's 65,536-character limit.
const MaxChars = 60000

// StackInput is what the summary reads for one stack.
type StackInput struct {
	Name string
	// Plan and Base are the plan files (`make plan OUT=`) of the pull
	// request and of the base branch; Base is nil for a stack the base
	// branch does not have.
	Plan, Base []byte
	// PlanError is why there is no plan (the plan's own message, e.g. a
	// config key it refused); Plan is then nil.
	PlanError string
	// Preview is the text output of `pulumi preview --policy-pack
	// policies` and PreviewExit its exit code; nil when no preview ran.
	Preview     []byte
	PreviewExit *int
}

// Options shape the summary.
type Options struct {
	// BaseRef names the base branch, HeadSHA the commit planned, RunURL
	// the workflow run with the full plans and previews.
	BaseRef, HeadSHA, RunURL string
	PolicyConfig             rules.Config
	// MaxRows bounds each list (changes, violations); the run's
	// artifacts have everything.
	MaxRows int
}

// stackSummary is one stack's numbers and lists.
type stackSummary struct {
	name       string
	err        string
	resources  int
	counts     map[string]map[string]int // component -> region -> n
	regions    []string
	base       bool
	changes    []change
	deployTime string
	report     *rules.Report
	newAdvice  []rules.Violation
	preview    *previewSummary
}

type change struct {
	op, name, typ, region string
	keys                  []string
}

// Summarize builds every stack's summary, then renders the markdown,
// shortening the lists until it fits in a comment.
func Summarize(stacks []StackInput, opts Options) (string, error) {
	if opts.MaxRows <= 0 {
		opts.MaxRows = 25
	}
	var sums []*stackSummary
	for _, in := range stacks {
		s, err := summarizeStack(in, opts)
		if err != nil {
			return "", fmt.Errorf("stack %s: %w", in.Name, err)
		}
		sums = append(sums, s)
	}
	for rows := opts.MaxRows; ; rows /= 2 {
		md := render(sums, opts, rows, rows >= opts.MaxRows/4)
		if len(md) <= MaxChars || rows <= 1 {
			if len(md) > MaxChars {
				md = md[:MaxChars-200] + "\n\n… cut to fit a comment; the run's artifacts have everything.\n"
			}
			return md, nil
		}
	}
}

func summarizeStack(in StackInput, opts Options) (*stackSummary, error) {
	s := &stackSummary{name: in.Name, err: in.PlanError}
	if in.Preview != nil {
		s.preview = parsePreview(in.Preview, in.PreviewExit)
	}
	if in.Plan == nil {
		if s.err == "" {
			s.err = "no plan file"
		}
		return s, nil
	}
	inv, err := plan.ReadInventory(in.Plan)
	if err != nil {
		return nil, err
	}
	for _, r := range inv.Resources {
		if r.Custom {
			s.resources++
		}
	}
	s.counts, s.regions = countByComponent(inv)
	report, err := evaluate(in.Plan, opts.PolicyConfig)
	if err != nil {
		return nil, err
	}
	s.report = report
	if in.Base != nil {
		base, err := plan.ReadInventory(in.Base)
		if err != nil {
			return nil, fmt.Errorf("base plan: %w", err)
		}
		s.base = true
		s.changes = diff(base, inv)
		est := inv.EstimateUpdate(base)
		if est.Changed > 0 {
			s.deployTime = clock(est.Total.Seconds())
		}
		baseReport, err := evaluate(in.Base, opts.PolicyConfig)
		if err != nil {
			return nil, fmt.Errorf("base plan: %w", err)
		}
		s.newAdvice = newViolations(baseReport, report, rules.Advisory)
	} else {
		est := inv.EstimateCreate()
		s.deployTime = clock(est.Total.Seconds())
	}
	return s, nil
}

func clock(seconds float64) string {
	n := int(seconds + 0.5)
	return fmt.Sprintf("%d:%02d", n/60, n%60)
}

func evaluate(planFile []byte, cfg rules.Config) (*rules.Report, error) {
	st, err := rules.ParsePlan(planFile)
	if err != nil {
		return nil, err
	}
	return rules.Evaluate(st, cfg)
}

// newViolations are the violations at a level that the base plan did not
// have (same policy, same resource).
func newViolations(base, head *rules.Report, level rules.Level) []rules.Violation {
	seen := map[string]bool{}
	for _, v := range base.Violations {
		seen[v.Policy+"|"+v.URN] = true
	}
	var out []rules.Violation
	for _, v := range head.Violations {
		if v.Level == level && !seen[v.Policy+"|"+v.URN] {
			out = append(out, v)
		}
	}
	return out
}

// countByComponent counts resources per component and region. A
// resource's component is its outermost component below the Region (the
// network, the cluster, a service's workload...); providers and
// stack-level resources have their own rows.
func countByComponent(inv *plan.Inventory) (map[string]map[string]int, []string) {
	counts := map[string]map[string]int{}
	regionSet := map[string]bool{}
	for _, r := range inv.Resources {
		if !r.Custom {
			continue
		}
		region := r.Region
		if region == "" {
			region = "global"
		}
		regionSet[region] = true
		c := componentOf(inv, r)
		if counts[c] == nil {
			counts[c] = map[string]int{}
		}
		counts[c][region]++
	}
	regions := make([]string, 0, len(regionSet))
	for r := range regionSet {
		if r != "global" {
			regions = append(regions, r)
		}
	}
	sort.Strings(regions)
	if regionSet["global"] {
		regions = append([]string{"global"}, regions...)
	}
	return counts, regions
}

func componentOf(inv *plan.Inventory, r *plan.Resource) string {
	if strings.HasPrefix(r.Type, "pulumi:providers:") {
		return "providers"
	}
	label := ""
	for p := inv.Lookup(r.Parent); p != nil; p = inv.Lookup(p.Parent) {
		if p.Type == "ecommerce:region:Region" || p.Custom {
			continue
		}
		label = module(p.Type)
	}
	if label == "" {
		if p := inv.Lookup(r.Parent); p != nil && p.Type == "ecommerce:region:Region" {
			return "region"
		}
		return "stack"
	}
	return label
}

// module is the middle of a type token: "ecommerce:network:Network" ->
// "network".
func module(token string) string {
	parts := strings.Split(token, ":")
	if len(parts) == 3 {
		return parts[1]
	}
	return token
}

// diff lists what the head plan adds, removes and changes against the
// base plan, by URN, with the top-level inputs that differ.
func diff(base, head *plan.Inventory) []change {
	var out []change
	for _, r := range head.Resources {
		if !r.Custom {
			continue
		}
		old := base.Lookup(r.URN)
		if old == nil {
			out = append(out, change{op: "+", name: r.Name, typ: r.Type, region: r.Region})
			continue
		}
		if keys := changedKeys(old, r); len(keys) > 0 {
			out = append(out, change{op: "~", name: r.Name, typ: r.Type, region: r.Region, keys: keys})
		}
	}
	for _, r := range base.Resources {
		if r.Custom && head.Lookup(r.URN) == nil {
			out = append(out, change{op: "-", name: r.Name, typ: r.Type, region: r.Region})
		}
	}
	order := map[string]int{"-": 0, "~": 1, "+": 2}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].op != out[j].op {
			return order[out[i].op] < order[out[j].op]
		}
		if out[i].typ != out[j].typ {
			return out[i].typ < out[j].typ
		}
		return out[i].name < out[j].name
	})
	return out
}

func changedKeys(a, b *plan.Resource) []string {
	x, y := plan.Redact(a.Inputs), plan.Redact(b.Inputs)
	keys := map[string]bool{}
	for k := range x {
		keys[k] = true
	}
	for k := range y {
		keys[k] = true
	}
	var out []string
	for k := range keys {
		if !equalJSON(x[k], y[k]) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func equalJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// previewSummary is what the comment keeps of a `pulumi preview`.
type previewSummary struct {
	// exit is the preview's exit code, nil when unknown.
	exit *int
	// resources are the lines of its "Resources:" block ("+ 3 to
	// create", "12 unchanged"); policies those of its "Policies:" block;
	// errors its "error:" lines.
	resources, policies, errors []string
	// unreachable: the Kubernetes provider could not reach a cluster (a
	// private endpoint, from a runner outside the VPC) and previewed its
	// objects without the server.
	unreachable bool
}

// parsePreview reads the text `pulumi preview` prints (with --color never).
func parsePreview(out []byte, exit *int) *previewSummary {
	p := &previewSummary{exit: exit}
	var block *[]string
	for _, raw := range strings.Split(string(out), "\n") {
		line := strings.TrimRight(raw, " \r")
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "Resources:":
			block = &p.resources
			continue
		case trimmed == "Policies:":
			block = &p.policies
			continue
		case strings.HasPrefix(trimmed, "error:"):
			p.errors = append(p.errors, trimmed)
		case strings.Contains(trimmed, "cluster is unreachable"):
			p.unreachable = true
		}
		if block == nil {
			continue
		}
		// A block ends at a blank line or at the next unindented heading.
		if trimmed == "" || !strings.HasPrefix(line, " ") {
			block = nil
			continue
		}
		*block = append(*block, trimmed)
	}
	return p
}

// verdict is the preview's outcome.
func (p *previewSummary) verdict() string {
	switch {
	case p.exit == nil:
		return "ran"
	case *p.exit == 0:
		return "✅ passed"
	default:
		return fmt.Sprintf("❌ failed (exit %d)", *p.exit)
	}
}

// changeLine condenses the preview's Resources block: "+ 3 to create ·
// 120 unchanged".
func (p *previewSummary) changeLine() string {
	line := "no summary"
	if len(p.resources) > 0 {
		line = strings.Join(p.resources, " · ")
	}
	if p.unreachable {
		line += " (Kubernetes objects previewed without their cluster: its endpoint is private)"
	}
	return line
}
