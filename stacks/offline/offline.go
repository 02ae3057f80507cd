// Package offline plans a stack with no cloud account, CLI or network:
// the program runs under Pulumi's mock engine from Pulumi.yaml and the
// stack's file. The deployed program does not link it (nor the mock
// engine): only `make plan` and the tests do.
package offline

import (
	"encoding/json"
	"errors"
	"os"
	"strings"

	"github.com/example/ecommerce-platform/stacks"
	"github.com/example/ecommerce-platform/stacks/config"
	"github.com/example/ecommerce-platform/stacks/plan"
	"github.com/example/ecommerce-platform/stacks/planfile"
)

// Result is one offline plan: what the stack would create, and its
// validated config.
type Result struct {
	Inventory *plan.Inventory
	Config    *config.Config
}

// Plan runs the program for one stack under the mocks. Like the program
// under the CLI, it sees every key written in the namespace, so a misspelt
// key is reported instead of silently left at its default.
func Plan(dir, stack string) (*Result, error) {
	proj, err := plan.LoadProject(dir)
	if err != nil {
		return nil, err
	}
	raw, err := proj.Config(dir, stack)
	if err != nil {
		return nil, err
	}
	cfg, err := config.Parse(Raw(raw))
	if err != nil {
		return nil, err
	}
	inv, err := plan.Run(proj.Name, stack, raw, stacks.Program)
	if err != nil {
		return nil, err
	}
	return &Result{Inventory: inv, Config: cfg}, nil
}

// PlanStack is Plan's inventory.
func PlanStack(dir, stack string) (*plan.Inventory, error) {
	r, err := Plan(dir, stack)
	if err != nil {
		return nil, err
	}
	return r.Inventory, nil
}

// Raw returns the keys of our namespace without it, as config.Parse takes
// them.
func Raw(cfg map[string]string) map[string]string {
	raw := map[string]string{}
	for k, v := range cfg {
		if key, ok := strings.CutPrefix(k, config.Namespace+":"); ok {
			raw[key] = v
		}
	}
	return raw
}

// PlanFile is the stack's plan as `make plan OUT=` writes it (every secret
// redacted), read back as the plain values the tools over a plan (cost,
// diagram) take.
func PlanFile(dir, stack string) (*planfile.Plan, error) {
	inv, err := PlanStack(dir, stack)
	if err != nil {
		return nil, err
	}
	return FromInventory(inv)
}

// Load is the plan a tool over a plan (cost, diagram) works on: the plan
// file at path when given, else stack planned offline from dir; exactly
// one of stack and path.
func Load(dir, stack, path string) (*planfile.Plan, error) {
	switch {
	case path != "" && stack != "":
		return nil, errors.New("-stack and -plan: give one")
	case path != "":
		b, err := os.ReadFile(path) //nolint:gosec // the plan file the user names
		if err != nil {
			return nil, err
		}
		return planfile.Read(b)
	case stack != "":
		return PlanFile(dir, stack)
	}
	return nil, errors.New("-stack is required, e.g. -stack prod (or -plan plan.json)")
}

// FromInventory converts an inventory through its plan-file JSON, so a tool
// sees exactly what it would read from the file.
func FromInventory(inv *plan.Inventory) (*planfile.Plan, error) {
	b, err := json.Marshal(inv)
	if err != nil {
		return nil, err
	}
	return planfile.Read(b)
}
