// Command policy-check evaluates the policy pack over a plan file, the
// JSON inventory `make plan STACK=<stack> OUT=<file>` writes (or one
// edited by hand), with no Pulumi CLI or cloud account, and exits non-zero
// on a mandatory violation.
//
//	go run ./policies/cmd/policy-check -plan plan.json [-policy-config config.json]
//
// Secrets in the file are "[secret]" and values unknown before apply
// "[unknown]": rules treat both as values they cannot see, so a rule that
// needs one (the runtime secrets' database URLs) checks nothing there.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/example/ecommerce-platform/policies/rules"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("policy-check", flag.ContinueOnError)
	planFile := fs.String("plan", "", "plan file written by `make plan OUT=` (required)")
	configFile := fs.String("policy-config", "", "policy settings and levels, in the --policy-pack-config format")
	env := fs.String("environment", "", "environment to judge the plan as (default: its providers' environment tag, else the stack name)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *planFile == "" {
		return errors.New("policy-check: -plan is required, e.g. -plan plan-dev.json")
	}
	b, err := os.ReadFile(*planFile)
	if err != nil {
		return fmt.Errorf("policy-check: %w", err)
	}
	stack, err := rules.ParsePlan(b)
	if err != nil {
		return fmt.Errorf("policy-check: %s: %w", *planFile, err)
	}
	if *env != "" {
		stack.Environment = *env
	}
	cfg, err := rules.LoadConfig(*configFile)
	if err != nil {
		return fmt.Errorf("policy-check: %w", err)
	}
	rep, err := rules.Evaluate(stack, cfg)
	if err != nil {
		return fmt.Errorf("policy-check: %w", err)
	}
	if err := rep.Write(stdout); err != nil {
		return err
	}
	if n := rep.Count(rules.Mandatory); n > 0 {
		return fmt.Errorf("policy-check: %d mandatory policy violation(s) in %s", n, *planFile)
	}
	return nil
}
