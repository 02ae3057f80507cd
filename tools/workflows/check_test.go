package workflows

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

const dir = "../../.github/workflows"

func TestShippedWorkflows(t *testing.T) {
	files, err := Load(dir)
	require.NoError(t, err)
	require.NotEmpty(t, files)
	rep := Check(files)
	assert.Empty(t, rep.Problems)
	// The one job that deploys: every deploy, release and canary step
	// goes through it.
	assert.Equal(t, []string{"pulumi-stack.yml: up"}, rep.UpJobs)
	var pinned []string
	for name, pin := range Pins {
		pinned = append(pinned, name+"@"+pin.SHA)
	}
	sort.Strings(pinned)
	assert.Equal(t, pinned, rep.Actions, "every reviewed pin is used, and nothing else")
}

// A base workflow that passes, and one flaw at a time.
const good = `
name: x
on: push
permissions: {}
jobs:
  deploy:
    runs-on: [self-hosted, linux, ecommerce-deploy, prod]
    environment: prod
    concurrency:
      group: pulumi-prod
      cancel-in-progress: false
    permissions:
      contents: read
      id-token: write
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          persist-credentials: false
      - uses: aws-actions/configure-aws-credentials@b47578312673ae6fa5b5096b330d9fbac3d116df # v4.2.1
        with:
          role-to-assume: arn:aws:iam::111111111111:role/deploy
          aws-region: us-east-1
      - run: scripts/check-deploy-reach.sh prod
      - run: pulumi up --stack prod --yes
`

func TestCheckCatchesEachFlaw(t *testing.T) {
	require.Empty(t, Check(map[string][]byte{"x.yml": []byte(good)}).Problems)
	cases := []struct {
		name, from, to, want string
	}{
		{"no environment", "    environment: prod\n", "", "job deploy: runs pulumi up without an environment"},
		{"no concurrency", "    concurrency:\n      group: pulumi-prod\n      cancel-in-progress: false\n", "", "runs pulumi up without a concurrency group"},
		{"cancelled mid-up", "cancel-in-progress: false", "cancel-in-progress: true", "cancel-in-progress: false (a cancelled up"},
		{"group not shared", "group: pulumi-prod", "group: deploy-${{ github.ref }}", "concurrency group must be pulumi-<stack>"},
		{"unpinned action", "checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2", "checkout@v4", "actions/checkout@v4 is not pinned to a full 40-hex commit SHA"},
		{"short SHA", "checkout@11bd71901bbe5b1630ceea73d27597364c9af683", "checkout@11bd719", "is not pinned to a full 40-hex"},
		{"no version comment", "@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2", "@11bd71901bbe5b1630ceea73d27597364c9af683", "say which release the SHA is"},
		{"wrong version comment", "# v4.2.2", "# v4.3.0", "the comment says v4.3.0, the SHA is v4.2.2"},
		{"unreviewed SHA", "checkout@11bd71901bbe5b1630ceea73d27597364c9af683", "checkout@0000000000000000000000000000000000000000", "the reviewed pin of actions/checkout is 11bd7190"},
		{"unreviewed action", "- run: pulumi up", "- uses: someone/action@1111111111111111111111111111111111111111 # v1\n      - run: pulumi up", "someone/action is not a reviewed action"},
		{"write-all at the top", "permissions: {}\njobs", "permissions: write-all\njobs", `top-level permissions "write-all"`},
		{"a write at the top", "permissions: {}\njobs", "permissions:\n  contents: write\njobs", "top-level permissions grant contents: write"},
		{"no top-level permissions", "permissions: {}\njobs", "jobs", "no top-level permissions"},
		{"a write nothing needs", "      id-token: write\n", "      id-token: write\n      pull-requests: write\n", "job deploy: grants pull-requests: write, which nothing in it needs"},
		{"a needed write missing", "      id-token: write\n", "", "job deploy: needs id-token: write and is not granted it"},
		{"job write-all", "    permissions:\n      contents: read\n      id-token: write\n", "    permissions: write-all\n", `job deploy: permissions "write-all"`},
		{"token left in .git/config", "        with:\n          persist-credentials: false\n", "", "set persist-credentials: false"},
		{"pull_request_target", "on: push", "on: pull_request_target", "pull_request_target runs with secrets"},
		{"hosted runner", "runs-on: [self-hosted, linux, ecommerce-deploy, prod]", "runs-on: ubuntu-latest", "runs pulumi up on a runner other than [self-hosted, ecommerce-deploy, <stack>]"},
		{"another self-hosted runner", "ecommerce-deploy, prod]", "prod]", "runs pulumi up on a runner other than"},
		{"no reach check", "      - run: scripts/check-deploy-reach.sh prod\n", "", "runs pulumi up before scripts/check-deploy-reach.sh"},
		{"reach check after the up", "      - run: scripts/check-deploy-reach.sh prod\n      - run: pulumi up --stack prod --yes\n", "      - run: pulumi up --stack prod --yes\n      - run: scripts/check-deploy-reach.sh prod\n", "runs pulumi up before scripts/check-deploy-reach.sh"},
		{"pulumi/actions up", "- run: pulumi up --stack prod --yes", "- uses: pulumi/actions@1111111111111111111111111111111111111111 # v6\n        with:\n          command: up", "pulumi/actions is not a reviewed action"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Contains(t, good, c.from)
			bad := strings.Replace(good, c.from, c.to, 1)
			rep := Check(map[string][]byte{"x.yml": []byte(bad)})
			assert.NotEmpty(t, rep.Problems)
			found := false
			for _, p := range rep.Problems {
				found = found || strings.Contains(p, c.want)
			}
			assert.True(t, found, "want %q in %q", c.want, rep.Problems)
		})
	}
}

// A caller of a reusable workflow grants what the called jobs need, and no
// more.
func TestReusableWorkflowPermissions(t *testing.T) {
	callee := strings.Replace(good, "on: push", "on: workflow_call", 1)
	caller := func(perms string) map[string][]byte {
		return map[string][]byte{"callee.yml": []byte(callee), "caller.yml": []byte(`
on: push
permissions: {}
jobs:
  call:
    uses: ./.github/workflows/callee.yml
    permissions:
` + perms)}
	}
	assert.Empty(t, Check(caller("      contents: read\n      id-token: write\n")).Problems)
	assert.Contains(t, Check(caller("      contents: read\n")).Problems, "caller.yml: job call: needs id-token: write and is not granted it")
	assert.Contains(t, Check(caller("      contents: write\n      id-token: write\n")).Problems, "caller.yml: job call: grants contents: write, which nothing in it needs")
}

// Each service's pipeline runs when anything the service links or tests
// changes: its paths cover every package of the services module that
// cmd/<service> imports, directly or not, and the packages those packages'
// tests import.
func TestServicePipelinesCoverWhatEachServiceLinks(t *testing.T) {
	const module = "github.com/example/ecommerce-platform/services/"
	for _, svc := range []string{"auth", "user", "product", "order"} {
		t.Run(svc, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, "service-"+svc+".yml")) //nolint:gosec // the repository's workflow
			require.NoError(t, err)
			var wf struct {
				On struct {
					Push        struct{ Paths []string } `yaml:"push"`
					PullRequest struct{ Paths []string } `yaml:"pull_request"`
				} `yaml:"on"`
				Jobs map[string]struct {
					Uses string            `yaml:"uses"`
					With map[string]string `yaml:"with"`
				} `yaml:"jobs"`
			}
			require.NoError(t, yaml.Unmarshal(b, &wf))
			require.Equal(t, wf.On.Push.Paths, wf.On.PullRequest.Paths, "a pull request runs what a push would")
			require.Len(t, wf.Jobs, 1)
			for _, j := range wf.Jobs {
				assert.Equal(t, "./.github/workflows/service.yml", j.Uses)
				assert.Equal(t, map[string]string{"service": svc}, j.With)
			}
			covered := func(dir string) bool {
				for _, p := range wf.On.Push.Paths {
					if base, ok := strings.CutSuffix(p, "/**"); ok && (dir == base || strings.HasPrefix(dir, base+"/")) {
						return true
					}
				}
				return false
			}
			for _, pkg := range servicePackages(t, "../../services", module, "cmd/"+svc) {
				assert.True(t, covered("services/"+pkg), "services/%s is linked or tested by %s but does not trigger its pipeline", pkg, svc)
			}
			for _, f := range []string{"services/go.mod", "services/go.sum", "services/Dockerfile", ".github/workflows/service.yml", ".github/workflows/service-" + svc + ".yml"} {
				assert.Contains(t, wf.On.Push.Paths, f)
			}
			// And nothing of another service triggers it.
			for _, other := range []string{"auth", "user", "product", "order"} {
				if other != svc {
					assert.NotContains(t, wf.On.Push.Paths, "services/cmd/"+other+"/**")
					assert.NotContains(t, wf.On.Push.Paths, "services/internal/"+other+"/**")
				}
			}
		})
	}
}

// servicePackages walks imports from a package directory: every package
// of the module it reaches through non-test imports, plus the test
// imports of each (what `go test` of those packages builds).
func servicePackages(t *testing.T, root, module, start string) []string {
	t.Helper()
	imports := func(dir string, tests bool) []string {
		var out []string
		entries, err := os.ReadDir(filepath.Join(root, dir))
		require.NoError(t, err, dir)
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") != tests {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(root, dir, name), nil, parser.ImportsOnly)
			require.NoError(t, err)
			for _, imp := range f.Imports {
				if p := strings.Trim(imp.Path.Value, `"`); strings.HasPrefix(p, module) {
					out = append(out, strings.TrimPrefix(p, module))
				}
			}
		}
		return out
	}
	linked := map[string]bool{}
	var walk func(string)
	walk = func(dir string) {
		if linked[dir] {
			return
		}
		linked[dir] = true
		for _, p := range imports(dir, false) {
			walk(p)
		}
	}
	walk(start)
	all := map[string]bool{}
	for dir := range linked {
		all[dir] = true
		for _, p := range imports(dir, true) {
			all[p] = true
		}
	}
	out := make([]string, 0, len(all))
	for p := range all {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
