// Package workflows checks the structure of the GitHub Actions workflows
// that a reviewer relies on and actionlint does not check (make lint runs
// actionlint for the rest): every job that runs `pulumi up` has an
// environment and the stack's concurrency group; no workflow or job holds
// a token permission it does not need; every third-party action is pinned
// to a full commit SHA, one of the reviewed pins below. It reads YAML only
// (no Pulumi SDK), so its test links in seconds.
package workflows

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Pin is a reviewed commit of an action and the release tag it is.
type Pin struct{ SHA, Version string }

// Pins are the third-party actions the workflows may use, each at the
// commit of a release tag. Each SHA was matched to its tag through public
// workflow files that pin it with that version comment (several
// independent repositories each) and, for checkout and setup-go, public run
// logs that resolved the tag to it. A new action or version is added here
// in the same review that adds it to a workflow.
var Pins = map[string]Pin{
	"actions/checkout":                      {"11bd71901bbe5b1630ceea73d27597364c9af683", "v4.2.2"},
	"actions/setup-go":                      {"d35c59abb061a4a6fb18e82ac0862c26744d6ab5", "v5.5.0"},
	"actions/cache":                         {"5a3ec84eff668545956fd18022155c47e93e2684", "v4.2.3"},
	"actions/upload-artifact":               {"ea165f8d65b6e75b540449e92b4886f43607fa02", "v4.6.2"},
	"actions/download-artifact":             {"d3f86a106a0bac45b974a628896c90dbdf5c8093", "v4.3.0"},
	"actions/github-script":                 {"60a0d83039c74a4aee543508d2ffcb1c3799cdea", "v7.0.1"},
	"actions/create-github-app-token":       {"df432ceedc7162793a195dd1713ff69aefc7379e", "v2.0.6"},
	"aws-actions/configure-aws-credentials": {"b47578312673ae6fa5b5096b330d9fbac3d116df", "v4.2.1"},
	"docker/setup-qemu-action":              {"29109295f81e9208d7d86ff1c6c12d2833863392", "v3.6.0"},
	"docker/setup-buildx-action":            {"b5ca514318bd6ebac0fb2aedd5d36ec1b5c232a2", "v3.10.0"},
	"docker/build-push-action":              {"263435318d21b8e681c14492fe198d362a7d2c83", "v6.18.0"},
	"aquasecurity/trivy-action":             {"ed142fd0673e97e23eac54620cfb913e5ce36c25", "v0.36.0"},
}

// Write scopes a job may hold, and what in a job shows it needs one.
// Anything else written (issues, packages, security-events, ...) is
// needed by no workflow here, so it is refused.
var needs = map[string]func(j *job) bool{
	// OIDC for an AWS role.
	"id-token": func(j *job) bool { return j.usesAction("aws-actions/configure-aws-credentials") },
	// Pushing a branch or a commit.
	"contents": func(j *job) bool { return j.runs(`\bgit\s+push\b`) },
	// The plan comment, or a release pull request.
	"pull-requests": func(j *job) bool {
		return j.runs(`\bgh\s+pr\s+(create|comment|edit)\b`) || j.scriptCalls(`\b(createComment|updateComment)\b`)
	},
}

var (
	shaRef       = regexp.MustCompile(`^([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)(/[^@]*)?@([0-9a-f]{40})$`)
	versionNote  = regexp.MustCompile(`^#\s*(v?[0-9]+(\.[0-9]+)*)\s*$`)
	dockerDigest = regexp.MustCompile(`^docker://[^@]+@sha256:[0-9a-f]{64}$`)
	pulumiUp     = regexp.MustCompile(`(?m)^[^#\n]*\bpulumi\s+up\b`)
)

// DeployRunnerLabel marks the self-hosted runners that may deploy, one per
// stack (with the stack's name as a second label); reachCheck is the script
// every up job runs first.
const (
	DeployRunnerLabel = "ecommerce-deploy"
	reachCheck        = "scripts/check-deploy-reach.sh"
)

// job is one job of one workflow.
type job struct {
	file, name string
	node       *yaml.Node
	wf         *workflow
}

type workflow struct {
	file string
	root *yaml.Node
}

// Load reads every workflow in dir (.github/workflows).
func Load(dir string) (map[string][]byte, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.y*ml"))
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p) //nolint:gosec // the repository's workflows
		if err != nil {
			return nil, err
		}
		out[filepath.Base(p)] = b
	}
	return out, nil
}

// Report is what Check found.
type Report struct {
	Problems []string
	// UpJobs are the jobs that run `pulumi up` ("file: job").
	UpJobs []string
	// Actions are the third-party actions used, "owner/repo@sha".
	Actions []string
}

// Check checks every workflow; files are keyed by file name.
func Check(files map[string][]byte) Report {
	var rep Report
	wfs := map[string]*workflow{}
	names := make([]string, 0, len(files))
	for name, b := range files {
		var doc yaml.Node
		if err := yaml.Unmarshal(b, &doc); err != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s: not a YAML mapping (%v)", name, err))
			continue
		}
		wfs[name] = &workflow{file: name, root: doc.Content[0]}
		names = append(names, name)
	}
	sort.Strings(names)
	actions := map[string]bool{}
	for _, name := range names {
		wf := wfs[name]
		p := func(format string, args ...any) {
			rep.Problems = append(rep.Problems, name+": "+fmt.Sprintf(format, args...))
		}
		for _, trigger := range triggers(get(wf.root, "on")) {
			if trigger == "pull_request_target" {
				p("pull_request_target runs with secrets on a pull request's code; use pull_request")
			}
		}
		top := get(wf.root, "permissions")
		switch {
		case top == nil:
			p("no top-level permissions: the default token may write; set `permissions: {}` or `contents: read`")
		case top.Kind == yaml.ScalarNode:
			p("top-level permissions %q; set `{}` or `contents: read` and grant writes per job", top.Value)
		default:
			for _, kv := range pairs(top) {
				readContents := kv[0].Value == "contents" && kv[1].Value == "read"
				if !readContents && kv[1].Value != "none" {
					p("top-level permissions grant %s: %s; the default is `{}` or `contents: read`, writes go on the jobs that need them", kv[0].Value, kv[1].Value)
				}
			}
		}
		for _, kv := range pairs(get(wf.root, "jobs")) {
			j := &job{file: name, name: kv[0].Value, node: kv[1], wf: wf}
			pj := func(format string, args ...any) { p("job %s: "+format, append([]any{j.name}, args...)...) }
			checkPermissions(j, top, wfs, pj)
			for _, u := range j.uses() {
				checkPin(u, pj, actions)
			}
			if j.runsPulumiUp() {
				rep.UpJobs = append(rep.UpJobs, name+": "+j.name)
				checkUpJob(j, pj)
			}
			checkCheckouts(j, top, pj)
		}
	}
	for a := range actions {
		rep.Actions = append(rep.Actions, a)
	}
	sort.Strings(rep.Actions)
	return rep
}

func checkPin(u *yaml.Node, p func(string, ...any), actions map[string]bool) {
	ref := u.Value
	switch {
	case strings.HasPrefix(ref, "./"):
		return
	case strings.HasPrefix(ref, "docker://"):
		if !dockerDigest.MatchString(ref) {
			p("%s: a container action is pinned by digest (docker://image@sha256:...)", ref)
		}
		return
	}
	m := shaRef.FindStringSubmatch(ref)
	if m == nil {
		p("%s is not pinned to a full 40-hex commit SHA", ref)
		return
	}
	actions[m[1]+"@"+m[3]] = true
	note := versionNote.FindStringSubmatch(strings.TrimSpace(u.LineComment))
	if note == nil {
		p("%s: say which release the SHA is in a comment (# vX.Y.Z), so updates can be reviewed", ref)
	}
	pin, known := Pins[m[1]]
	switch {
	case !known:
		p("%s: %s is not a reviewed action (tools/workflows.Pins)", ref, m[1])
	case pin.SHA != m[3]:
		p("%s: the reviewed pin of %s is %s (%s)", ref, m[1], pin.SHA, pin.Version)
	case note != nil && note[1] != pin.Version:
		p("%s: the comment says %s, the SHA is %s", ref, note[1], pin.Version)
	}
}

// checkPermissions: writes only where needed, and granted where needed.
func checkPermissions(j *job, top *yaml.Node, wfs map[string]*workflow, p func(string, ...any)) {
	perms := get(j.node, "permissions")
	if perms != nil && perms.Kind == yaml.ScalarNode {
		p("permissions %q; list the scopes it needs", perms.Value)
		return
	}
	if perms == nil {
		perms = top
	}
	granted := map[string]bool{}
	for _, kv := range pairs(perms) {
		if kv[1].Value == "write" {
			granted[kv[0].Value] = true
		}
	}
	wanted := j.needs(wfs, map[string]bool{})
	for scope := range granted {
		if !wanted[scope] {
			p("grants %s: write, which nothing in it needs", scope)
		}
	}
	for scope := range wanted {
		if !granted[scope] {
			p("needs %s: write and is not granted it", scope)
		}
	}
}

// checkUpJob: an environment (its protection rules and its deploy role),
// and the stack's concurrency group, never cancelled mid-up; the
// self-hosted deploy runner, the only place outside the clusters that
// their API servers admit, and the check that it reaches them before the
// up starts (docs/delivery.md, "Private cluster endpoints").
func checkUpJob(j *job, p func(string, ...any)) {
	labels := map[string]bool{}
	if ro := get(j.node, "runs-on"); ro != nil {
		if ro.Kind == yaml.SequenceNode {
			for _, l := range ro.Content {
				labels[l.Value] = true
			}
		} else {
			labels[ro.Value] = true
		}
	}
	if !labels["self-hosted"] || !labels[DeployRunnerLabel] {
		p("runs pulumi up on a runner other than [self-hosted, %s, <stack>]: only the deploy runner's address reaches the clusters' API servers", DeployRunnerLabel)
	}
	checked := false
	for _, s := range j.steps() {
		r := get(s, "run")
		if r == nil {
			continue
		}
		if strings.Contains(r.Value, reachCheck) {
			checked = true
		}
		if pulumiUp.MatchString(r.Value) && !checked {
			p("runs pulumi up before %s: an unreachable cluster would fail the up half-way", reachCheck)
			break
		}
	}
	if env := get(j.node, "environment"); env == nil || (env.Kind == yaml.ScalarNode && strings.TrimSpace(env.Value) == "") {
		p("runs pulumi up without an environment")
	}
	c := get(j.node, "concurrency")
	switch {
	case c == nil:
		p("runs pulumi up without a concurrency group")
	case c.Kind == yaml.ScalarNode:
		p("concurrency %q: use a mapping with group: pulumi-<stack> and cancel-in-progress: false", c.Value)
	default:
		if g := get(c, "group"); g == nil || !strings.HasPrefix(g.Value, "pulumi-") {
			p("concurrency group must be pulumi-<stack>, shared by every workflow that deploys the stack")
		}
		if cip := get(c, "cancel-in-progress"); cip == nil || cip.Value != "false" {
			p("concurrency must set cancel-in-progress: false (a cancelled up leaves the stack half-applied)")
		}
	}
}

// checkCheckouts: a checkout keeps no token in .git/config unless the job
// pushes.
func checkCheckouts(j *job, top *yaml.Node, p func(string, ...any)) {
	perms := get(j.node, "permissions")
	if perms == nil {
		perms = top
	}
	pushes := get(perms, "contents") != nil && get(perms, "contents").Value == "write"
	for _, s := range j.steps() {
		u := get(s, "uses")
		if u == nil || !strings.HasPrefix(u.Value, "actions/checkout@") || pushes {
			continue
		}
		pc := get(get(s, "with"), "persist-credentials")
		if pc == nil || pc.Value != "false" {
			p("checkout keeps the token in .git/config; set persist-credentials: false (only jobs that push keep it)")
		}
	}
}

func (j *job) steps() []*yaml.Node {
	s := get(j.node, "steps")
	if s == nil || s.Kind != yaml.SequenceNode {
		return nil
	}
	return s.Content
}

// uses are the job's action references: its steps' and a reusable call's.
func (j *job) uses() []*yaml.Node {
	var out []*yaml.Node
	if u := get(j.node, "uses"); u != nil {
		out = append(out, u)
	}
	for _, s := range j.steps() {
		if u := get(s, "uses"); u != nil {
			out = append(out, u)
		}
	}
	return out
}

func (j *job) usesAction(name string) bool {
	for _, u := range j.uses() {
		if strings.HasPrefix(u.Value, name+"@") {
			return true
		}
	}
	return false
}

func (j *job) runs(pattern string) bool {
	re := regexp.MustCompile(pattern)
	for _, s := range j.steps() {
		if r := get(s, "run"); r != nil && re.MatchString(r.Value) {
			return true
		}
	}
	return false
}

func (j *job) scriptCalls(pattern string) bool {
	re := regexp.MustCompile(pattern)
	for _, s := range j.steps() {
		if u := get(s, "uses"); u == nil || !strings.HasPrefix(u.Value, "actions/github-script@") {
			continue
		}
		if sc := get(get(s, "with"), "script"); sc != nil && re.MatchString(sc.Value) {
			return true
		}
	}
	return false
}

func (j *job) runsPulumiUp() bool {
	for _, s := range j.steps() {
		if r := get(s, "run"); r != nil && pulumiUp.MatchString(r.Value) {
			return true
		}
		if u := get(s, "uses"); u != nil && strings.HasPrefix(u.Value, "pulumi/actions@") {
			if c := get(get(s, "with"), "command"); c != nil && c.Value == "up" {
				return true
			}
		}
	}
	return false
}

// needs are the write scopes the job needs: from its steps, or for a call
// of a reusable workflow here, from the called workflow's jobs.
func (j *job) needs(wfs map[string]*workflow, seen map[string]bool) map[string]bool {
	out := map[string]bool{}
	if u := get(j.node, "uses"); u != nil && strings.HasPrefix(u.Value, "./.github/workflows/") {
		callee := strings.TrimPrefix(u.Value, "./.github/workflows/")
		wf := wfs[callee]
		if wf == nil || seen[callee] {
			return out
		}
		seen[callee] = true
		for _, kv := range pairs(get(wf.root, "jobs")) {
			for s := range (&job{file: callee, name: kv[0].Value, node: kv[1], wf: wf}).needs(wfs, seen) {
				out[s] = true
			}
		}
		return out
	}
	for scope, need := range needs {
		if need(j) {
			out[scope] = true
		}
	}
	return out
}

// triggers are the events of `on:` in any of its three shapes.
func triggers(on *yaml.Node) []string {
	switch {
	case on == nil:
		return nil
	case on.Kind == yaml.ScalarNode:
		return []string{on.Value}
	case on.Kind == yaml.SequenceNode:
		var out []string
		for _, n := range on.Content {
			out = append(out, n.Value)
		}
		return out
	}
	var out []string
	for _, kv := range pairs(on) {
		out = append(out, kv[0].Value)
	}
	return out
}

// get returns a mapping's value for key (aliases resolved), or nil.
func get(n *yaml.Node, key string) *yaml.Node {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return resolve(n.Content[i+1])
		}
	}
	return nil
}

func pairs(n *yaml.Node) [][2]*yaml.Node {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, [2]*yaml.Node{n.Content[i], resolve(n.Content[i+1])})
	}
	return out
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}
