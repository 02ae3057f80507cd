// Command plan-summary writes the pull request comment of the
// infrastructure pipeline (.github/workflows/infra-pr.yml): per stack the
// cloud resources of its offline plan, what changes against the base
// branch's plan (the blast radius of a change: a release lists exactly its
// service's Deployments and migration job), the deploy-time estimate of
// that change, the policy pack's verdict, and where a real `pulumi preview
// --policy-pack policies` ran, its outcome. The comment starts with a
// marker, so the workflow edits it in place on every push.
//
//	plan-summary -plan dev=plan-dev.json -base dev=base-dev.json \
//	    [-preview dev=preview-dev.txt] [-error prod=plan-prod.err] \
//	    [-base-ref main] [-head-sha <sha>] [-run-url <url>] [-out summary.md]
//
// A preview's exit code is read from <preview file>.rc when it exists.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/example/ecommerce-platform/policies/rules"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "plan-summary:", err)
		os.Exit(1)
	}
}

// files maps a stack to a file, from repeated -flag stack=path.
type files map[string]string

func (f files) String() string { return fmt.Sprint(map[string]string(f)) }
func (f files) Set(v string) error {
	stack, path, ok := strings.Cut(v, "=")
	if !ok || stack == "" || path == "" {
		return fmt.Errorf("%q: want <stack>=<file>", v)
	}
	f[stack] = path
	return nil
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("plan-summary", flag.ContinueOnError)
	plans, bases, previews, errs := files{}, files{}, files{}, files{}
	fs.Var(plans, "plan", "<stack>=<plan file> of the change (repeat per stack)")
	fs.Var(bases, "base", "<stack>=<plan file> of the base branch; a stack without one is new")
	fs.Var(previews, "preview", "<stack>=<text output of pulumi preview>; its exit code in <file>.rc")
	fs.Var(errs, "error", "<stack>=<file with the plan's error>, for a stack whose plan failed")
	baseRef := fs.String("base-ref", "", "name of the base branch")
	headSHA := fs.String("head-sha", "", "commit planned")
	runURL := fs.String("run-url", "", "link to the workflow run")
	policyConfig := fs.String("policy-config", "", "policy settings and levels, in the --policy-pack-config format")
	maxRows := fs.Int("max-rows", 25, "rows per list before it is cut")
	out := fs.String("out", "", "write the markdown here instead of stdout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(plans) == 0 && len(errs) == 0 {
		return errors.New("at least one -plan <stack>=<file> (or -error) is required")
	}
	cfg, err := rules.LoadConfig(*policyConfig)
	if err != nil {
		return err
	}
	names := map[string]bool{}
	for _, m := range []files{plans, errs, previews} {
		for s := range m {
			names[s] = true
		}
	}
	var inputs []StackInput
	for _, name := range orderStacks(names) {
		in := StackInput{Name: name}
		if p, ok := plans[name]; ok {
			if in.Plan, err = os.ReadFile(p); err != nil { //nolint:gosec // files the workflow names
				return err
			}
		}
		if p, ok := bases[name]; ok {
			if in.Base, err = os.ReadFile(p); err != nil { //nolint:gosec // files the workflow names
				return err
			}
		}
		if p, ok := errs[name]; ok {
			b, err := os.ReadFile(p) //nolint:gosec // files the workflow names
			if err != nil {
				return err
			}
			in.PlanError = string(b)
			if strings.TrimSpace(in.PlanError) == "" {
				in.PlanError = "the plan failed without a message"
			}
		}
		if p, ok := previews[name]; ok {
			if in.Preview, err = os.ReadFile(p); err != nil { //nolint:gosec // files the workflow names
				return err
			}
			if rc, err := os.ReadFile(p + ".rc"); err == nil { //nolint:gosec // files the workflow names
				n, err := strconv.Atoi(strings.TrimSpace(string(rc)))
				if err != nil {
					return fmt.Errorf("%s.rc: %q is not an exit code", p, rc)
				}
				in.PreviewExit = &n
			}
		}
		inputs = append(inputs, in)
	}
	md, err := Summarize(inputs, Options{BaseRef: *baseRef, HeadSHA: *headSHA, RunURL: *runURL, PolicyConfig: cfg, MaxRows: *maxRows})
	if err != nil {
		return err
	}
	if *out != "" {
		return os.WriteFile(*out, []byte(md), 0o600)
	}
	_, err = io.WriteString(stdout, md)
	return err
}

// orderStacks puts the shipped stacks in promotion order, others after.
func orderStacks(names map[string]bool) []string {
	rank := map[string]int{"dev": 0, "staging": 1, "prod": 2}
	out := make([]string, 0, len(names))
	for n := range names {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool {
		ri, oki := rank[out[i]]
		rj, okj := rank[out[j]]
		switch {
		case oki && okj:
			return ri < rj
		case oki != okj:
			return oki
		}
		return out[i] < out[j]
	})
	return out
}
