// Command release changes what one service runs in one stack file, for the
// release and canary workflows (.github/workflows/release.yml,
// canary-step.yml): only that service's lines of stacks/Pulumi.<stack>.yaml
// move, comments stay. It prints key=value lines a workflow appends to
// $GITHUB_OUTPUT. `make plan STACK=<stack>` validates the result fully.
//
//	release image          -stack prod -service order -image sha256:<digest>
//	release canary-start   -stack prod -service order -image sha256:<digest> [-weight 5]
//	release canary-weight  -stack prod -service order -weight 25
//	release canary-promote -stack prod -service order
//	release canary-remove  -stack prod -service order
//	release canary-next    -stack prod -service order -alarms us-east-1=a.json ... -since <unix> [-bake 20m] [-steps 5,25,50] [-apply]
//	release show           -stack prod -service order
//	release canaries       (every running canary, as a JSON matrix)
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/example/ecommerce-platform/stacks/stackedit"
	"gopkg.in/yaml.v3"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, time.Now); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

type alarmFlags map[string]string

func (a alarmFlags) String() string { return fmt.Sprint(map[string]string(a)) }
func (a alarmFlags) Set(v string) error {
	region, file, ok := strings.Cut(v, "=")
	if !ok || region == "" || file == "" {
		return fmt.Errorf("%q: want <region>=<describe-alarms output file>", v)
	}
	a[region] = file
	return nil
}

func run(args []string, stdout io.Writer, now func() time.Time) error {
	if len(args) == 0 {
		return errors.New("a subcommand is required: image, canary-start, canary-weight, canary-promote, canary-remove, canary-next, show, canaries")
	}
	cmd := args[0]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	dir := fs.String("project", ".", "directory holding Pulumi.yaml")
	stack := fs.String("stack", "", "stack name (stacks/Pulumi.<stack>.yaml)")
	service := fs.String("service", "", "auth, user, product or order")
	image := fs.String("image", "", "a digest (sha256:<64 hex>) or a tag")
	weight := fs.Int("weight", stackedit.MaxCanaryWeight+1, "canary weight, 0 to 50")
	alarms := alarmFlags{}
	fs.Var(alarms, "alarms", "<region>=<file>: `aws cloudwatch describe-alarms` output for the service's alarm prefix in that region (once per region)")
	since := fs.Int64("since", 0, "unix time the canary's weight last changed")
	bake := fs.Duration("bake", 20*time.Minute, "how long each weight runs with quiet alarms before the next step")
	steps := fs.String("steps", "5,25,50", "the weights a canary climbs through before promotion")
	apply := fs.Bool("apply", false, "canary-next: also write the decision into the stack file")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if cmd == "canaries" {
		return listCanaries(*dir, stdout)
	}
	if *stack == "" || *service == "" {
		return fmt.Errorf("%s: -stack and -service are required", cmd)
	}
	st, err := openStack(*dir, *stack)
	if err != nil {
		return err
	}
	f := st.file
	switch cmd {
	case "show":
		return st.show(*service, stdout)
	case "image":
		err = f.SetImage(*service, *image)
	case "canary-start":
		w := *weight
		if w == stackedit.MaxCanaryWeight+1 {
			w = DefaultSteps[0]
		}
		err = f.StartCanary(*service, *image, w)
	case "canary-weight":
		if *weight == stackedit.MaxCanaryWeight+1 {
			return errors.New("canary-weight: -weight is required")
		}
		err = f.SetCanaryWeight(*service, *weight)
	case "canary-promote":
		err = f.PromoteCanary(*service)
	case "canary-remove":
		err = f.RemoveCanary(*service)
	case "canary-next":
		return st.canaryNext(*service, alarms, *since, now(), *bake, *steps, *apply, stdout)
	default:
		return fmt.Errorf("unknown subcommand %q", cmd)
	}
	if err != nil {
		return err
	}
	if err := st.save(); err != nil {
		return err
	}
	return st.show(*service, stdout)
}

type stackFile struct {
	name, path, project string
	file                *stackedit.File
	// defaultRegions are Pulumi.yaml's, for a stack file that leaves
	// ecommerce:regions out.
	defaultRegions []region
}

type region struct {
	Name string `yaml:"name"`
}

type projectFile struct {
	Name           string `yaml:"name"`
	StackConfigDir string `yaml:"stackConfigDir"`
	Config         struct {
		Regions struct {
			Default []region `yaml:"default"`
		} `yaml:"regions"`
	} `yaml:"config"`
}

func loadProject(dir string) (*projectFile, error) {
	projectSrc, err := os.ReadFile(filepath.Join(dir, "Pulumi.yaml")) //nolint:gosec // the project file
	if err != nil {
		return nil, err
	}
	var project projectFile
	if err := yaml.Unmarshal(projectSrc, &project); err != nil {
		return nil, fmt.Errorf("read Pulumi.yaml: %w", err)
	}
	return &project, nil
}

func openStack(dir, stack string) (*stackFile, error) {
	project, err := loadProject(dir)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, project.StackConfigDir, "Pulumi."+stack+".yaml")
	src, err := os.ReadFile(path) //nolint:gosec // the named stack's file
	if err != nil {
		return nil, fmt.Errorf("stack %q: %w", stack, err)
	}
	f, err := stackedit.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &stackFile{name: stack, path: path, project: project.Name, file: f, defaultRegions: project.Config.Regions.Default}, nil
}

func (s *stackFile) save() error {
	return os.WriteFile(s.path, s.file.Bytes(), 0o644) //nolint:gosec // a stack file in the repository, as it was
}

func (s *stackFile) regions() ([]string, error) {
	var rs []region
	found, err := s.file.Decode(&rs, "config", "ecommerce:regions")
	if err != nil {
		return nil, fmt.Errorf("ecommerce:regions: %w", err)
	}
	if !found {
		rs = s.defaultRegions
	}
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out, nil
}

// repository is the service's image repository in the stack's registry
// region: what the service pipeline pushes to (components/registry).
func (s *stackFile) repository(service string, regions []string) (string, error) {
	account, _ := s.file.Get("config", "ecommerce:accountId")
	if account == "" {
		return "", errors.New("ecommerce:accountId is not set")
	}
	env, ok := s.file.Get("config", "ecommerce:environment")
	if !ok {
		env = "dev"
	}
	var registry struct {
		Region string `yaml:"region"`
	}
	if _, err := s.file.Decode(&registry, "config", "ecommerce:registry"); err != nil {
		return "", fmt.Errorf("ecommerce:registry: %w", err)
	}
	reg := registry.Region
	if reg == "" && len(regions) > 0 {
		reg = regions[0]
	}
	return fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s-%s/%s", account, reg, s.project, env, service), nil
}

// show prints what the service runs in the stack, as key=value lines.
func (s *stackFile) show(service string, w io.Writer) error {
	r, err := s.file.Release(service)
	if err != nil {
		return err
	}
	regions, err := s.regions()
	if err != nil {
		return err
	}
	repo, err := s.repository(service, regions)
	if err != nil {
		return err
	}
	lines := []string{
		"stack=" + s.name,
		"service=" + service,
		"image=" + r.Image,
		"regions=" + strings.Join(regions, " "),
		"repository=" + repo,
	}
	if r.Canary != nil {
		lines = append(lines, "canary_image="+r.Canary.Image, fmt.Sprintf("canary_weight=%d", r.Canary.Weight))
	} else {
		lines = append(lines, "canary_image=", "canary_weight=")
	}
	_, err = io.WriteString(w, strings.Join(lines, "\n")+"\n")
	return err
}

func (s *stackFile) canaryNext(service string, files alarmFlags, since int64, now time.Time, bake time.Duration, stepList string, apply bool, w io.Writer) error {
	steps, err := ParseSteps(stepList)
	if err != nil {
		return err
	}
	r, err := s.file.Release(service)
	if err != nil {
		return err
	}
	regions, err := s.regions()
	if err != nil {
		return err
	}
	if since <= 0 {
		return errors.New("canary-next: -since (unix time of the last weight change) is required")
	}
	in := CanaryInput{
		Stack: s.name, Service: service, Canary: r.Canary, Regions: regions,
		Alarms: map[string][]Alarm{}, Since: time.Unix(since, 0), Now: now, Bake: bake, Steps: steps,
	}
	for region, file := range files {
		b, err := os.ReadFile(file) //nolint:gosec // the alarm file the workflow wrote
		if err != nil {
			return err
		}
		alarms, err := ParseAlarms(b)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		in.Alarms[region] = alarms
	}
	d := NextCanaryStep(in)
	if apply {
		switch d.Action {
		case ActionStep, ActionRollback:
			err = s.file.SetCanaryWeight(service, d.Weight)
		case ActionPromote:
			err = s.file.PromoteCanary(service)
		}
		if err != nil {
			return err
		}
		if d.Action != ActionNone && d.Action != ActionHold {
			if err := s.save(); err != nil {
				return err
			}
		}
	}
	_, err = fmt.Fprintf(w, "action=%s\nweight=%d\nreason=%s\n", d.Action, d.Weight, d.Reason)
	return err
}

// listCanaries prints every stack's running canaries (weight above 0) as
// {"include": [{"stack", "service"}]}, a workflow matrix.
func listCanaries(dir string, w io.Writer) error {
	project, err := loadProject(dir)
	if err != nil {
		return err
	}
	paths, err := filepath.Glob(filepath.Join(dir, project.StackConfigDir, "Pulumi.*.yaml"))
	if err != nil {
		return err
	}
	type entry struct {
		Stack   string `json:"stack"`
		Service string `json:"service"`
	}
	out := struct {
		Include []entry `json:"include"`
	}{Include: []entry{}}
	for _, p := range paths {
		stack := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "Pulumi."), ".yaml")
		st, err := openStack(dir, stack)
		if err != nil {
			return err
		}
		for _, svc := range st.file.Services() {
			r, err := st.file.Release(svc)
			if err != nil {
				return err
			}
			if r.Canary != nil && r.Canary.Weight > 0 {
				out.Include = append(out.Include, entry{Stack: stack, Service: svc})
			}
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
