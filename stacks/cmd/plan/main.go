// Command plan runs the platform program for one stack under Pulumi's mock
// engine, with no cloud account, no Pulumi CLI and no network, and prints
// what the stack would create and the policy pack's report on it. With -out
// it also writes the inventory as JSON, every secret replaced by
// "[secret]". It exits non-zero on a mandatory policy violation (after
// writing the inventory, so it can be reviewed).
//
//	go run ./stacks/cmd/plan -stack dev [-out plan.json] [-policy-config config.json]
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/example/ecommerce-platform/policies/rules"
	"github.com/example/ecommerce-platform/stacks/offline"
	"github.com/example/ecommerce-platform/stacks/plan"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	stack := fs.String("stack", "", "stack name: dev, staging, prod (reads stacks/Pulumi.<stack>.yaml)")
	out := fs.String("out", "", "also write the inventory as JSON to this file")
	dir := fs.String("project", ".", "directory holding Pulumi.yaml")
	policyConfig := fs.String("policy-config", "", "policy settings and levels, in the --policy-pack-config format")
	base := fs.String("base", "", "a plan file of the same stack (make plan OUT=) to estimate the deploy from it to this plan")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := rules.LoadConfig(*policyConfig)
	if err != nil {
		return err
	}
	if *stack == "" {
		return errors.New("plan: -stack is required, e.g. -stack dev")
	}
	result, err := offline.Plan(*dir, *stack)
	if err != nil {
		return err
	}
	inv := result.Inventory
	for _, w := range result.Config.Warnings() {
		if _, err := fmt.Fprintf(stdout, "warning: %s\n\n", w); err != nil {
			return err
		}
	}
	if *out != "" {
		b, err := json.MarshalIndent(inv, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*out, append(b, '\n'), 0o600); err != nil {
			return err
		}
	}
	if err := inv.WriteSummary(stdout); err != nil {
		return err
	}
	if *out != "" {
		if _, err := fmt.Fprintf(stdout, "\nInventory written to %s\n", *out); err != nil {
			return err
		}
	}
	if _, err := fmt.Fprintln(stdout); err != nil {
		return err
	}
	if err := inv.EstimateCreate().Write(stdout, "Estimated wall time of a fresh deploy"); err != nil {
		return err
	}
	if *base != "" {
		b, err := os.ReadFile(*base) //nolint:gosec // the plan file the user names
		if err != nil {
			return err
		}
		old, err := plan.ReadInventory(b)
		if err != nil {
			return err
		}
		if err := inv.EstimateUpdate(old).Write(stdout, "Estimated wall time of the deploy from "+*base); err != nil {
			return err
		}
	}
	rep, err := rules.Evaluate(inv.PolicyStack(), cfg)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(stdout); err != nil {
		return err
	}
	if err := rep.Write(stdout); err != nil {
		return err
	}
	if n := rep.Count(rules.Mandatory); n > 0 {
		return fmt.Errorf("plan: stack %s has %d mandatory policy violation(s)", *stack, n)
	}
	return nil
}
