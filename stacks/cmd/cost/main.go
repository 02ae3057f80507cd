// Command cost prints the estimated monthly on-demand cost of a stack from
// its offline plan (or from a plan file `make plan OUT=` wrote): per region
// and per component, every line with its arithmetic, what is not priced and
// why, the assumptions and the price table's date and sources.
//
//	go run ./stacks/cmd/cost -stack prod [-assume rps=50000] [-assume nat-gb=800]
//	go run ./stacks/cmd/cost -plan plan-prod.json
//	go run ./stacks/cmd/cost -readme-table       # the README's table of the shipped stacks
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/example/ecommerce-platform/stacks/cost"
	"github.com/example/ecommerce-platform/stacks/offline"
)

// Shipped are the stacks the README's table shows.
var Shipped = []string{"dev", "staging", "prod"}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "cost:", err)
		os.Exit(1)
	}
}

type assumeFlags []string

func (a *assumeFlags) String() string     { return strings.Join(*a, ",") }
func (a *assumeFlags) Set(v string) error { *a = append(*a, v); return nil }

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("cost", flag.ContinueOnError)
	stack := fs.String("stack", "", "stack to plan offline: dev, staging, prod (reads stacks/Pulumi.<stack>.yaml)")
	planPath := fs.String("plan", "", "price this plan file (make plan OUT=) instead of planning -stack")
	dir := fs.String("project", ".", "directory holding Pulumi.yaml")
	readme := fs.Bool("readme-table", false, "print the README's table of the shipped stacks' estimates (default assumptions)")
	var assume assumeFlags
	fs.Var(&assume, "assume", "change one assumption, name=value (repeat); the report lists the names")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *readme {
		table, err := ReadmeTable(*dir)
		if err != nil {
			return err
		}
		_, err = io.WriteString(stdout, table)
		return err
	}
	p, err := offline.Load(*dir, *stack, *planPath)
	if err != nil {
		return err
	}
	a := cost.DefaultAssumptions(cost.Environment(p))
	for _, kv := range assume {
		if err := a.Set(kv); err != nil {
			return err
		}
	}
	return cost.Price(p, a).Write(stdout)
}

// ReadmeTable plans every shipped stack offline and prices it under its
// environment's default assumptions: the table README.md shows (a test in
// stacks/ compares them).
func ReadmeTable(dir string) (string, error) {
	var estimates []*cost.Estimate
	for _, s := range Shipped {
		p, err := offline.PlanFile(dir, s)
		if err != nil {
			return "", err
		}
		estimates = append(estimates, cost.Price(p, cost.DefaultAssumptions(cost.Environment(p))))
	}
	return cost.MarkdownTable(estimates), nil
}
