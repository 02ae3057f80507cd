package plan

import (
	"github.com/example/ecommerce-platform/policies/rules"
)

// PolicyStack returns the inventory as the policy rules' input: the one
// place the plan and the policy pack meet.
func (inv *Inventory) PolicyStack() *rules.Stack {
	s := &rules.Stack{Name: inv.Stack}
	for _, r := range inv.Resources {
		s.Resources = append(s.Resources, &rules.Resource{
			URN: r.URN, Type: r.Type, Name: r.Name, Parent: r.Parent, Region: r.Region,
			Inputs:       r.Inputs,
			Dependencies: r.DependsOn, DependenciesKnown: true,
			IgnoreChanges: r.IgnoreChanges, IgnoreChangesKnown: true,
		})
	}
	s.Environment = rules.EnvironmentOf(s.Resources, inv.Stack)
	return s
}
