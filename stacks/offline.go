package stacks

import (
	"strings"

	"github.com/example/ecommerce-platform/stacks/plan"
)

// PlanStack runs the program for one stack offline, under Pulumi's mock
// engine, from Pulumi.yaml in dir and the stack's config file. Unlike a run
// under the CLI, it also sees every key written in the namespace, so a
// misspelt key is reported instead of silently left at its default.
func PlanStack(dir, stack string) (*plan.Inventory, error) {
	proj, err := plan.LoadProject(dir)
	if err != nil {
		return nil, err
	}
	cfg, err := proj.Config(dir, stack)
	if err != nil {
		return nil, err
	}
	raw := map[string]string{}
	for k, v := range cfg {
		if key, ok := strings.CutPrefix(k, Namespace+":"); ok {
			raw[key] = v
		}
	}
	if _, err := Parse(raw); err != nil {
		return nil, err
	}
	return plan.Run(proj.Name, stack, cfg, Program)
}
