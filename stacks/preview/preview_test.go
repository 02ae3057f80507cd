package preview_test

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/example/ecommerce-platform/stacks/offline"
)

// The shipped stacks; each must preview under the real engine.
var shipped = []string{"dev", "staging", "prod"}

// created is one resource a run would create, as the engine names it.
type created struct {
	Type, Name, Parent string
}

func (c created) String() string { return c.Type + " " + c.Name + " (parent " + c.Parent + ")" }

// offlinePlan is what the offline plan (Pulumi's mock engine, `make plan`)
// creates for a shipped stack and the warnings it prints: the one place
// this test depends on the repository's plan.
func offlinePlan(t *testing.T, root, stack string) (map[created]bool, []string) {
	t.Helper()
	res, err := offline.Plan(root, stack)
	require.NoError(t, err, "offline plan of %s", stack)
	out := map[created]bool{}
	for _, r := range res.Inventory.Resources {
		out[created{r.Type, r.Name, r.Parent}] = true
	}
	return out, res.Config.Warnings()
}

// rig is what every preview shares: the CLI, the program built once, and a
// plugin directory holding the stand-in providers and the Go host.
type rig struct {
	tmp     string // removed when the tests end
	root    string // repository root
	cli     auto.PulumiCommand
	program string // the built program
	home    string // PULUMI_HOME with the plugin cache
}

var (
	rigOnce sync.Once
	theRig  *rig
	errRig  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if theRig != nil {
		_ = os.RemoveAll(theRig.tmp)
	}
	os.Exit(code)
}

func setup(t *testing.T) *rig {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: the real-engine previews take a minute")
	}
	rigOnce.Do(func() { theRig, errRig = newRig() })
	require.NoError(t, errRig)
	return theRig
}

func newRig() (_ *rig, err error) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(root, "Pulumi.yaml")); err != nil {
		return nil, fmt.Errorf("repository root not found: %w", err)
	}
	if _, err := os.Stat(filepath.Join(root, "bin", "pulumi")); err != nil {
		return nil, fmt.Errorf("the Pulumi CLI is not built (%w); run scripts/build-pulumi.sh, as `make test` does", err)
	}
	// The CLI must be the SDK's own version: the engine and the program
	// speak the protocol of one release.
	want := sdk.Version
	cli, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: root, Version: want})
	if err != nil {
		return nil, err
	}
	if !cli.Version().EQ(want) {
		return nil, fmt.Errorf("bin/pulumi is %s, the SDK is %s; rebuild it with scripts/build-pulumi.sh", cli.Version(), want)
	}

	// One temporary directory for the whole test binary's run: built
	// binaries and the plugin cache. Each preview gets its own state.
	tmp, err := os.MkdirTemp("", "ecommerce-preview-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(tmp)
		}
	}()
	bin := filepath.Join(tmp, "bin") + string(filepath.Separator)
	build := exec.Command("go", "build", "-o", bin, ".", "./stacks/preview/stubprovider", "./stacks/preview/gohost")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %w\n%s", err, out)
	}

	// Plugins go into the plugin cache of a private PULUMI_HOME, named for
	// the version each provider SDK in go.mod asks for. With ambient
	// plugins ignored and acquisition disabled, the engine runs exactly
	// these or fails naming the plugin and version it wanted.
	home := filepath.Join(tmp, "home")
	plugins := filepath.Join(home, "plugins")
	install := func(dir, file, target string) error {
		if err := os.MkdirAll(filepath.Join(plugins, dir), 0o750); err != nil {
			return err
		}
		return os.Symlink(target, filepath.Join(plugins, dir, file))
	}
	program := filepath.Join(bin, "ecommerce-platform")
	providers, err := providerVersions(program)
	if err != nil {
		return nil, err
	}
	for name, version := range providers {
		if err := install("resource-"+name+"-v"+version, "pulumi-resource-"+name, filepath.Join(bin, "stubprovider")); err != nil {
			return nil, err
		}
	}
	if err := install("language-go-v"+want.String(), "pulumi-language-go", filepath.Join(bin, "gohost")); err != nil {
		return nil, err
	}
	return &rig{tmp: tmp, root: root, cli: cli, program: program, home: home}, nil
}

// providerSDK matches the module path of a Pulumi provider SDK, as the Go
// language host recognises them: github.com/pulumi/pulumi-<name>/sdk[/vN].
var providerSDK = regexp.MustCompile(`^github\.com/pulumi/pulumi-([a-z0-9-]+)/sdk(/v[0-9]+)?$`)

// providerVersions returns provider name -> version of every provider SDK
// the built program links, from its module list (so, from go.mod).
func providerVersions(program string) (map[string]string, error) {
	info, err := buildinfo.ReadFile(program)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, m := range info.Deps {
		if match := providerSDK.FindStringSubmatch(m.Path); match != nil {
			out[match[1]] = strings.TrimPrefix(m.Version, "v")
		}
	}
	for _, want := range []string{"aws", "kubernetes", "random"} {
		if out[want] == "" {
			return nil, fmt.Errorf("the program links no %s provider SDK; the stand-ins are out of date", want)
		}
	}
	return out, nil
}

// project writes a project directory for one preview: Pulumi.yaml as
// shipped but running the prebuilt program, and a copy of the stack file
// (the CLI rewrites it), changed by edit when edit is not nil.
func (r *rig) project(t *testing.T, stack string, edit func(config map[string]any)) string {
	t.Helper()
	dir := t.TempDir()
	proj, err := os.ReadFile(filepath.Join(r.root, "Pulumi.yaml"))
	require.NoError(t, err)
	const shippedRuntime = "\nruntime: go\n"
	require.Contains(t, string(proj), shippedRuntime, "Pulumi.yaml declares the go runtime")
	proj = []byte(strings.Replace(string(proj), shippedRuntime,
		fmt.Sprintf("\nruntime:\n  name: go\n  options:\n    binary: %s\n", r.program), 1))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), proj, 0o600))

	stackFile := "Pulumi." + stack + ".yaml"
	body, err := os.ReadFile(filepath.Join(r.root, "stacks", stackFile))
	require.NoError(t, err)
	if edit != nil {
		var doc map[string]any
		require.NoError(t, yaml.Unmarshal(body, &doc))
		config, ok := doc["config"].(map[string]any)
		require.True(t, ok, "%s has a config block", stackFile)
		edit(config)
		body, err = yaml.Marshal(doc)
		require.NoError(t, err)
	}
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "stacks"), 0o750))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "stacks", stackFile), body, 0o600))
	return dir
}

// outcome is what one preview showed.
type outcome struct {
	creates  map[created]bool
	warnings []string // every warning diagnostic, the engine's and the program's
	output   string   // the CLI's
}

// preview runs `pulumi preview` on a fresh local backend.
func (r *rig) preview(t *testing.T, dir, stack string) (outcome, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	state := t.TempDir()
	env := map[string]string{
		"PULUMI_BACKEND_URL": "file://" + state,
		// Encrypts the stack's secrets in the throwaway state; not a secret.
		"PULUMI_CONFIG_PASSPHRASE":                    "preview-test",
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
		"PULUMI_IGNORE_AMBIENT_PLUGINS":               "true",
		"PULUMI_SKIP_UPDATE_CHECK":                    "true",
	}
	ws, err := auto.NewLocalWorkspace(ctx, auto.WorkDir(dir), auto.Pulumi(r.cli), auto.PulumiHome(r.home), auto.EnvVars(env))
	require.NoError(t, err)
	s, err := auto.NewStack(ctx, stack, ws)
	require.NoError(t, err, "pulumi stack init %s", stack)

	ch := make(chan events.EngineEvent)
	var mu sync.Mutex
	res := outcome{creates: map[created]bool{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range ch {
			mu.Lock()
			if d := e.DiagnosticEvent; d != nil && d.Severity == "warning" {
				res.warnings = append(res.warnings, strings.TrimSpace(d.Message))
			}
			if pre := e.ResourcePreEvent; pre != nil && pre.Metadata.Op == "create" && pre.Metadata.New != nil {
				n := pre.Metadata.New
				res.creates[created{n.Type, nameOf(n.URN), n.Parent}] = true
			}
			mu.Unlock()
		}
	}()
	var out strings.Builder
	_, err = s.Preview(ctx, optpreview.EventStreams(ch), optpreview.ProgressStreams(&out), optpreview.ErrorProgressStreams(&out))
	if err == nil {
		// A successful preview has delivered every event and closed ch.
		<-done
	} else {
		// A CLI that fails before the engine starts never opens the event
		// stream, and the Automation API then leaves ch open.
		select {
		case <-done:
		case <-time.After(time.Second):
		}
	}
	mu.Lock()
	defer mu.Unlock()
	res.creates = maps.Clone(res.creates)
	res.warnings = slices.Clone(res.warnings)
	res.output = out.String()
	return res, err
}

// nameOf returns the logical name at the end of a URN.
func nameOf(urn string) string {
	return urn[strings.LastIndex(urn, "::")+2:]
}

// TestPreviewMatchesTheOfflinePlan runs a real `pulumi preview` of every
// shipped stack and compares what it would create with the offline plan.
// The engine checks what the mocks do not: the stack file against
// Pulumi.yaml's schema, that every resource has an explicit provider
// (default providers are disabled), that URNs are unique, and that the
// provider plugins the SDKs ask for exist at their versions.
func TestPreviewMatchesTheOfflinePlan(t *testing.T) {
	r := setup(t)
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			want, warnings := offlinePlan(t, r.root, stack)
			got, err := r.preview(t, r.project(t, stack, nil), stack)
			require.NoError(t, err, "pulumi preview of %s:\n%s", stack, got.output)
			// The engine counts the stack itself, which the mocks never
			// see; everything else must be the same set.
			delete(got.creates, created{Type: "pulumi:pulumi:Stack", Name: "ecommerce-" + stack})
			assert.Empty(t, diff(got.creates, want), "created by the preview, not in the offline plan")
			assert.Empty(t, diff(want, got.creates), "in the offline plan, not created by the preview")
			assert.Greater(t, len(got.creates), 100, "the preview created the platform")
			// The preview warns exactly as the offline plan does: no plugin
			// at a wrong version, no deprecated input, no warning lost.
			assert.ElementsMatch(t, warnings, got.warnings, "warnings of the preview of %s", stack)
		})
	}
}

// TestPreviewRefusesBrokenStackFiles: a broken copy of the dev stack file
// fails the real preview with an error that names the key, before any
// resource is planned.
func TestPreviewRefusesBrokenStackFiles(t *testing.T) {
	r := setup(t)
	cases := []struct {
		name string
		edit func(config map[string]any)
		want string // in the error: the key and what is wrong
	}{{
		// The CLI checks the stack file against Pulumi.yaml's types
		// before the program runs.
		name: "wrong type",
		edit: func(c map[string]any) { c["ecommerce:logRetentionDays"] = "abc" },
		want: "configuration key 'logRetentionDays' must be of type 'integer'",
	}, {
		name: "object for an array",
		edit: func(c map[string]any) { c["ecommerce:regions"] = map[string]any{"name": "us-east-1"} },
		want: "configuration key 'regions' must be of type 'array<object>'",
	}, {
		// Pulumi.yaml declares accountId without a default.
		name: "missing required key",
		edit: func(c map[string]any) { delete(c, "ecommerce:accountId") },
		want: "missing configuration value 'accountId'",
	}, {
		// The CLI accepts an undeclared key; the program gets the whole
		// stack config from its language host and refuses it.
		name: "unknown key",
		edit: func(c map[string]any) { c["ecommerce:logRetentionDayz"] = 14 },
		want: "config ecommerce:logRetentionDayz: unknown key",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.preview(t, r.project(t, "dev", tc.edit), "dev")
			require.Error(t, err, "a stack file with a %s must fail the preview:\n%s", tc.name, got.output)
			assert.Contains(t, err.Error(), tc.want, "the error names the key and what is wrong")
			delete(got.creates, created{Type: "pulumi:pulumi:Stack", Name: "ecommerce-dev"})
			assert.Empty(t, got.creates, "nothing is planned before the config is valid")
		})
	}
}

// diff lists, sorted, what a has and b does not.
func diff(a, b map[created]bool) []string {
	var out []string
	for c := range a {
		if !b[c] {
			out = append(out, c.String())
		}
	}
	sort.Strings(out)
	return out
}
