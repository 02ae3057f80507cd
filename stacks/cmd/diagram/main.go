// Command diagram writes a stack's diagram as Graphviz DOT, drawn from its
// offline plan (or from a plan file `make plan OUT=` wrote): regions as
// clusters, components as nodes, replication, events and traffic as edges.
// `make diagram` renders it to SVG with Graphviz's dot.
//
//	go run ./stacks/cmd/diagram -stack prod -out docs/diagram-prod.dot
//	go run ./stacks/cmd/diagram -plan plan-prod.json
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/example/ecommerce-platform/stacks/diagram"
	"github.com/example/ecommerce-platform/stacks/offline"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "diagram:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("diagram", flag.ContinueOnError)
	stack := fs.String("stack", "", "stack to plan offline: dev, staging, prod (reads stacks/Pulumi.<stack>.yaml)")
	planPath := fs.String("plan", "", "draw this plan file (make plan OUT=) instead of planning -stack")
	dir := fs.String("project", ".", "directory holding Pulumi.yaml")
	out := fs.String("out", "", "write the DOT to this file instead of standard output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	p, err := offline.Load(*dir, *stack, *planPath)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := diagram.Build(p).WriteDOT(&b); err != nil {
		return err
	}
	if *out == "" {
		_, err = stdout.Write(b.Bytes())
		return err
	}
	return os.WriteFile(*out, b.Bytes(), 0o644) //nolint:gosec // a document committed to the repository
}
