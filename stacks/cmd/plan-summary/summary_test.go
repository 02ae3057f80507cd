package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/example/ecommerce-platform/policies/rules"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// res is one resource of a hand-made plan file.
type res struct {
	typ, name, region, parent string
	inputs                    map[string]any
}

func urn(typ, name string) string { return "urn:pulumi:dev::ecommerce::" + typ + "::" + name }

func planFile(t *testing.T, stack string, rs ...res) []byte {
	t.Helper()
	type jr struct {
		URN           string         `json:"urn"`
		Type          string         `json:"type"`
		Name          string         `json:"name"`
		Region        string         `json:"region"`
		Parent        string         `json:"parent"`
		DependsOn     []string       `json:"dependsOn"`
		IgnoreChanges []string       `json:"ignoreChanges"`
		Inputs        map[string]any `json:"inputs"`
	}
	doc := struct {
		Stack     string `json:"stack"`
		Resources []jr   `json:"resources"`
	}{Stack: stack}
	for _, r := range rs {
		parent := ""
		if r.parent != "" {
			parent = r.parent
		}
		in := r.inputs
		if in == nil {
			in = map[string]any{}
		}
		doc.Resources = append(doc.Resources, jr{URN: urn(r.typ, r.name), Type: r.typ, Name: r.name, Region: r.region,
			Parent: parent, DependsOn: []string{}, IgnoreChanges: []string{}, Inputs: in})
	}
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	return b
}

const (
	tRegion     = "ecommerce:region:Region"
	tWorkload   = "ecommerce:workload:Workload"
	tNetwork    = "ecommerce:network:Network"
	tDeployment = "kubernetes:apps/v1:Deployment"
	tRoute      = "aws:ec2/route:Route"
)

// platform is a small two-region stack: per region a network with a
// route, and two services' Deployments under their workload components.
func platform(images map[string]string, extra ...res) []res {
	rs := []res{{typ: "pulumi:providers:aws", name: "aws-us-east-1", region: "us-east-1"}}
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		reg := urn(tRegion, region)
		rs = append(rs,
			res{typ: tRegion, name: region, region: region},
			res{typ: tNetwork, name: region + "-network", region: region, parent: reg},
			res{typ: tRoute, name: region + "-route", region: region, parent: urn(tNetwork, region+"-network"),
				inputs: map[string]any{"destinationCidrBlock": "0.0.0.0/0"}},
		)
		for _, svc := range []string{"order", "product"} {
			w := region + "-" + svc
			rs = append(rs,
				res{typ: tWorkload, name: w, region: region, parent: reg},
				res{typ: tDeployment, name: w, region: region, parent: urn(tWorkload, w), inputs: map[string]any{
					"metadata": map[string]any{"name": svc},
					"spec":     map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"image": images[svc]}}}}},
				}},
			)
		}
	}
	return append(rs, extra...)
}

var baseImages = map[string]string{"order": "repo/order@sha256:aaa", "product": "repo/product@sha256:bbb"}

func summarize(t *testing.T, in []StackInput) string {
	t.Helper()
	md, err := Summarize(in, Options{BaseRef: "main", HeadSHA: "0123456789abcdef", RunURL: "https://example.test/run/1"})
	require.NoError(t, err)
	return md
}

func policyCounts(t *testing.T, plan []byte) (int, int) {
	t.Helper()
	st, err := rules.ParsePlan(plan)
	require.NoError(t, err)
	rep, err := rules.Evaluate(st, nil)
	require.NoError(t, err)
	return rep.Count(rules.Mandatory), rep.Count(rules.Advisory)
}

// A release of one service: the comment's change list is exactly that
// service's Deployments, one per region, and names what differs.
func TestReleaseShowsOnlyItsDeployments(t *testing.T) {
	base := planFile(t, "dev", platform(baseImages)...)
	head := planFile(t, "dev", platform(map[string]string{"order": "repo/order@sha256:ccc", "product": "repo/product@sha256:bbb"})...)
	md := summarize(t, []StackInput{{Name: "dev", Plan: head, Base: base}})

	assert.True(t, strings.HasPrefix(md, Marker+"\n"), "the marker starts the comment")
	assert.Contains(t, md, "`0123456` · changes against `main` · [plans, reports and previews](https://example.test/run/1)")
	m, a := policyCounts(t, head)
	assert.Contains(t, md, "| dev | 7 | ~2 | ", "seven cloud resources, two changed")
	assert.Contains(t, md, fmt.Sprintf("%d mandatory · %d advisory |", m, a))
	assert.Contains(t, md, "<details><summary>2 resource(s) change against the base: ~Deployment 2</summary>")
	assert.Contains(t, md, "| ~ | `eu-west-1-order` | `kubernetes:apps/v1:Deployment` | eu-west-1 | spec |\n| ~ | `us-east-1-order` | `kubernetes:apps/v1:Deployment` | us-east-1 | spec |\n\n")
	changes := md[strings.Index(md, "<details><summary>2 resource(s)"):]
	changes = changes[:strings.Index(changes, "</details>")]
	assert.NotContains(t, changes, "product", "the other service is untouched")
	assert.NotContains(t, changes, "route", "the network is untouched")
}

func TestAddedRemovedAndNewStacks(t *testing.T) {
	base := planFile(t, "staging", platform(baseImages, res{typ: tRoute, name: "old-route", region: "us-east-1"})...)
	head := planFile(t, "staging", platform(baseImages, res{typ: tRoute, name: "new-route", region: "eu-west-1"})...)
	md := summarize(t, []StackInput{
		{Name: "staging", Plan: head, Base: base},
		{Name: "qa", Plan: planFile(t, "qa", platform(baseImages)...)},
	})
	assert.Contains(t, md, "| staging | 8 | +1 -1 | ")
	assert.Contains(t, md, "| - | `old-route` | `aws:ec2/route:Route` | us-east-1 |  |\n| + | `new-route` | `aws:ec2/route:Route` | eu-west-1 |  |\n")
	assert.Contains(t, md, "| qa | 7 | new stack | ", "a stack the base branch lacks")
	assert.Less(t, strings.Index(md, "| staging |"), strings.Index(md, "| qa |"), "shipped stacks first, in promotion order")
}

func TestCountsPerRegionAndComponent(t *testing.T) {
	md := summarize(t, []StackInput{{Name: "dev", Plan: planFile(t, "dev", platform(baseImages)...)}})
	assert.Contains(t, md, "<details><summary>Resources per region and component</summary>\n\n"+
		"| Component | eu-west-1 | us-east-1 |\n|---|--:|--:|\n"+
		"| network | 1 | 1 |\n"+
		"| providers |  | 1 |\n"+
		"| workload | 2 | 2 |\n"+
		"| **total** | **3** | **4** |\n")
}

func TestPolicyViolations(t *testing.T) {
	db := res{typ: "aws:rds/instance:Instance", name: "us-east-1-db-order", region: "us-east-1",
		inputs: map[string]any{"publiclyAccessible": true, "storageEncrypted": true}}
	gp2 := res{typ: "aws:ebs/volume:Volume", name: "us-east-1-scratch", region: "us-east-1",
		inputs: map[string]any{"type": "gp2", "encrypted": true, "kmsKeyId": "arn:aws:kms:us-east-1:111111111111:key/x"}}
	base := planFile(t, "prod", platform(baseImages, db)...)
	head := planFile(t, "prod", platform(baseImages, db, gp2)...)
	md := summarize(t, []StackInput{{Name: "prod", Plan: head, Base: base}})
	m, a := policyCounts(t, head)
	require.Positive(t, m)
	assert.Contains(t, md, fmt.Sprintf("| ❌ %d mandatory · %d advisory (", m, a))
	assert.Contains(t, md, fmt.Sprintf("**%d mandatory policy violation(s)** (the deploy is blocked):", m))
	assert.Contains(t, md, "- `disallow-public-rds` on `us-east-1-db-order` (Instance): publiclyAccessible is true")
	// The base had the database already: only the volume's finding is new.
	assert.Contains(t, md, "new advisory finding(s)</summary>\n\n- `enforce-gp3-storage` on `us-east-1-scratch` (Volume): type is gp2 (the default); use gp3\n\n</details>")
}

// The text `pulumi preview --color never` prints, in the shape of the
// CLI's display (pkg/backend/display: the Resources summary and the
// Policies block).
const previewText = `Previewing update (prod):
     Type                              Name             Plan       Info
 +   pulumi:pulumi:Stack               ecommerce-prod   create     1 error
 +   ├─ aws:rds/instance:Instance      us-east-1-db     create

Diagnostics:
  pulumi:pulumi:Stack (ecommerce-prod):
    error: preview failed

Policies:
    ❌ ecommerce-policies@v0.0.1 (local: policies)
        - [mandatory]  disallow-public-rds  (aws:rds/instance:Instance: us-east-1-db)
          publiclyAccessible is true; databases are reached only from inside the VPC

Resources:
    + 2 to create
    ~ 1 to update
    3 changes. 120 unchanged

Duration: 4s
`

func TestPreviewOutcome(t *testing.T) {
	exit := 255
	p := parsePreview([]byte(previewText), &exit)
	assert.Equal(t, []string{"+ 2 to create", "~ 1 to update", "3 changes. 120 unchanged"}, p.resources)
	assert.Equal(t, []string{"❌ ecommerce-policies@v0.0.1 (local: policies)",
		"- [mandatory]  disallow-public-rds  (aws:rds/instance:Instance: us-east-1-db)",
		"publiclyAccessible is true; databases are reached only from inside the VPC"}, p.policies)
	assert.Equal(t, []string{"error: preview failed"}, p.errors)

	plan := planFile(t, "prod", platform(baseImages)...)
	md := summarize(t, []StackInput{{Name: "prod", Plan: plan, Base: plan, Preview: []byte(previewText), PreviewExit: &exit}})
	assert.Contains(t, md, "| ❌ failed (exit 255): + 2 to create · ~ 1 to update · 3 changes. 120 unchanged |")
	assert.Contains(t, md, "<details><summary>pulumi preview: ❌ failed (exit 255)</summary>\n\n```text\nerror: preview failed\n❌ ecommerce-policies")

	ok := 0
	md = summarize(t, []StackInput{{Name: "prod", Plan: plan, Base: plan, Preview: []byte("Resources:\n    125 unchanged\n"), PreviewExit: &ok}})
	assert.Contains(t, md, "| none | — | ")
	assert.Contains(t, md, "| ✅ passed: 125 unchanged |")
	assert.NotContains(t, md, "pulumi preview:", "a clean preview needs no section")

	private := "    warning: configured Kubernetes cluster is unreachable: dial tcp: i/o timeout\nResources:\n    125 unchanged\n"
	md = summarize(t, []StackInput{{Name: "prod", Plan: plan, Base: plan, Preview: []byte(private), PreviewExit: &ok}})
	assert.Contains(t, md, "| ✅ passed: 125 unchanged (Kubernetes objects previewed without their cluster: its endpoint is private) |")
}

func TestPlanThatFailed(t *testing.T) {
	md := summarize(t, []StackInput{{Name: "prod", PlanError: "config ecommerce:regions[1].vpcCidr: overlaps regions[0].vpcCidr\n"}})
	assert.Contains(t, md, "| prod | ❌ no plan | — | — | — | — |")
	assert.Contains(t, md, "The plan failed:\n\n```text\nconfig ecommerce:regions[1].vpcCidr: overlaps regions[0].vpcCidr\n```")
}

// A change that touches thousands of resources still fits in one comment:
// lists are cut, and say so.
func TestHugeChangeFitsInAComment(t *testing.T) {
	var many []res
	for i := range 3000 {
		many = append(many, res{typ: tRoute, name: fmt.Sprintf("route-%04d-with-a-long-name-to-fill-the-comment", i), region: "us-east-1"})
	}
	head := planFile(t, "prod", platform(baseImages, many...)...)
	base := planFile(t, "prod", platform(baseImages)...)
	md := summarize(t, []StackInput{{Name: "dev", Plan: head, Base: base}, {Name: "staging", Plan: head, Base: base}, {Name: "prod", Plan: head, Base: base}})
	assert.LessOrEqual(t, len(md), MaxChars)
	assert.Contains(t, md, "| | … and 2975 more | | | |", "25 rows, then a count")
	assert.Equal(t, 3, strings.Count(md, "+3000"))
}

func TestCommandReadsItsFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o600))
		return p
	}
	head := write("plan-dev.json", planFile(t, "dev", platform(map[string]string{"order": "x@sha256:1", "product": "repo/product@sha256:bbb"})...))
	base := write("base-dev.json", planFile(t, "dev", platform(baseImages)...))
	preview := write("preview-dev.txt", []byte("Resources:\n    ~ 2 to update\n    7 unchanged\n"))
	write("preview-dev.txt.rc", []byte("0\n"))
	errFile := write("plan-prod.err", []byte("stack \"prod\": no stack file\n"))
	out := filepath.Join(dir, "summary.md")

	require.NoError(t, run([]string{"-plan", "dev=" + head, "-base", "dev=" + base, "-preview", "dev=" + preview,
		"-error", "prod=" + errFile, "-base-ref", "main", "-out", out}, &bytes.Buffer{}))
	b, err := os.ReadFile(out) //nolint:gosec // the test's file
	require.NoError(t, err)
	md := string(b)
	assert.Contains(t, md, "| dev | 7 | ~2 |")
	assert.Contains(t, md, "| ✅ passed: ~ 2 to update · 7 unchanged |")
	assert.Contains(t, md, "| prod | ❌ no plan |")

	var stdout bytes.Buffer
	assert.ErrorContains(t, run(nil, &stdout), "at least one -plan")
	assert.ErrorContains(t, run([]string{"-plan", "dev"}, &stdout), "want <stack>=<file>")
	write("odd.txt", []byte("Resources:\n"))
	write("odd.txt.rc", []byte("x"))
	assert.ErrorContains(t, run([]string{"-plan", "dev=" + head, "-preview", "dev=" + filepath.Join(dir, "odd.txt")}, &stdout), `odd.txt.rc: "x" is not an exit code`)
}
