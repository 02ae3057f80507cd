package rules

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Report is the result of evaluating the pack over a stack.
type Report struct {
	Stack       string
	Environment string
	// Policies is the number of policies evaluated (not disabled).
	Policies   int
	Resources  int
	Violations []Violation
}

// Count returns the number of violations at a level.
func (r *Report) Count(l Level) int {
	n := 0
	for _, v := range r.Violations {
		if v.Level == l {
			n++
		}
	}
	return n
}

// Evaluate runs every policy of the pack over the stack, with cfg's levels
// and settings (nil for the defaults).
func Evaluate(s *Stack, cfg Config) (*Report, error) {
	rep := &Report{Stack: s.Name, Environment: s.Environment, Resources: len(s.Resources)}
	for _, p := range All() {
		level := cfg.LevelOf(p)
		if level == Disabled {
			continue
		}
		rep.Policies++
		var props map[string]any
		if pc, ok := cfg[p.Name]; ok {
			props = pc.Properties
		}
		settings, err := p.Resolve(props)
		if err != nil {
			return nil, fmt.Errorf("policy config: %w", err)
		}
		add := func(r *Resource, msg string) {
			rep.Violations = append(rep.Violations, Violation{
				Policy: p.Name, Group: p.Group, Level: level,
				URN: r.URN, Type: r.Type, Name: r.Name, Message: msg,
			})
		}
		if p.Stack != nil {
			for _, f := range p.CheckStack(s) {
				add(f.Resource, f.Message)
			}
			continue
		}
		for _, r := range s.Resources {
			for _, msg := range p.CheckResource(r, s.Environment, settings) {
				add(r, msg)
			}
		}
	}
	sort.SliceStable(rep.Violations, func(i, j int) bool {
		a, b := rep.Violations[i], rep.Violations[j]
		if a.Level != b.Level {
			return a.Level == Mandatory
		}
		return a.Policy < b.Policy
	})
	return rep, nil
}

// Write prints the report: what was evaluated, the violations by level,
// each with its policy, resource and message.
func (r *Report) Write(w io.Writer) error {
	var b strings.Builder
	env := r.Environment
	if env == "" {
		env = "unknown (held to prod's rules)"
	}
	fmt.Fprintf(&b, "Policy report for stack %s (environment %s): %d policies over %d resources\n",
		r.Stack, env, r.Policies, r.Resources)
	fmt.Fprintf(&b, "  mandatory violations: %d\n  advisory violations:  %d\n", r.Count(Mandatory), r.Count(Advisory))
	for _, l := range []Level{Mandatory, Advisory} {
		first := true
		for _, v := range r.Violations {
			if v.Level != l {
				continue
			}
			if first {
				fmt.Fprintf(&b, "\n%s:\n", strings.ToUpper(string(l)))
				first = false
			}
			fmt.Fprintf(&b, "  %s (%s)\n    %s %s\n    %s\n", v.Policy, v.Group, v.Type, v.Name, v.Message)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
