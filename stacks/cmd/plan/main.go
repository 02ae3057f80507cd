// Command plan runs the platform program for one stack under Pulumi's mock
// engine, with no cloud account, no Pulumi CLI and no network, and prints
// what the stack would create. With -out it also writes the inventory as
// JSON, every secret replaced by "[secret]".
//
//	go run ./stacks/cmd/plan -stack dev [-out plan.json]
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/example/ecommerce-platform/stacks/offline"
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
	if err := fs.Parse(args); err != nil {
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
	return nil
}
