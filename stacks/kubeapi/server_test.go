package kubeapi

import (
	"context"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests' server emulates the shipped stacks' Kubernetes minor.
var apiserver = Shared{Options: Options{Emulate: "1.34"}}

func TestMain(m *testing.M) {
	code := m.Run()
	apiserver.Close()
	os.Exit(code)
}

// obj builds an Object from a manifest literal.
func obj(m map[string]any) Object { return Object{Manifest: m} }

func namespace(name string, labels map[string]any) Object {
	return obj(map[string]any{
		"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": name, "labels": labels},
	})
}

var restricted = map[string]any{
	"pod-security.kubernetes.io/enforce":         "restricted",
	"pod-security.kubernetes.io/enforce-version": "latest",
}

// restrictedPod is a pod spec the restricted Pod Security Standard admits.
func restrictedPod() map[string]any {
	return map[string]any{
		"securityContext": map[string]any{
			"runAsNonRoot":   true,
			"seccompProfile": map[string]any{"type": "RuntimeDefault"},
		},
		"containers": []any{map[string]any{
			"name":  "app",
			"image": "registry.example/app@sha256:" + strings.Repeat("ab", 32),
			"securityContext": map[string]any{
				"allowPrivilegeEscalation": false,
				"readOnlyRootFilesystem":   true,
				"capabilities":             map[string]any{"drop": []any{"ALL"}},
			},
			"resources": map[string]any{
				"requests": map[string]any{"cpu": "100m", "memory": "64Mi"},
				"limits":   map[string]any{"memory": "128Mi"},
			},
		}},
	}
}

func deployment(ns, name string, replicas any, pod map[string]any) Object {
	labels := map[string]any{"app": name}
	return obj(map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec": map[string]any{
			"replicas": replicas,
			"selector": map[string]any{"matchLabels": labels},
			"template": map[string]any{"metadata": map[string]any{"labels": labels}, "spec": pod},
		},
	})
}

func check(t *testing.T, objects ...Object) []Finding {
	t.Helper()
	findings, err := apiserver.Server(t).Check(context.Background(), objects)
	require.NoError(t, err)
	return findings
}

func TestAcceptsAValidDeploymentWithoutCreatingIt(t *testing.T) {
	findings := check(t, namespace("valid", restricted), deployment("valid", "web", 2, restrictedPod()))
	assert.Empty(t, findings)

	s := apiserver.Server(t)
	assert.Equal(t, "v1.37.2", s.Version)
	assert.Equal(t, "1.34", s.Emulated)
	status, _, _, err := s.do(context.Background(), http.MethodGet, "/apis/apps/v1/namespaces/valid/deployments/web", nil, "", nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, status, "a dry run must not create the Deployment")
	status, _, _, err = s.do(context.Background(), http.MethodGet, "/api/v1/namespaces/valid", nil, "", nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status, "the namespace is created for real")
}

func TestRejectsAWrongFieldTypeWithTheServersMessage(t *testing.T) {
	findings := check(t, namespace("types", nil), deployment("types", "web", "three", restrictedPod()))
	require.Len(t, findings, 1)
	f := findings[0]
	assert.Equal(t, Finding{Kind: "Deployment", Namespace: "types", Name: "web", Message: f.Message}, f)
	assert.Contains(t, f.Message, ".spec.replicas")
	assert.Contains(t, f.String(), "Deployment types/web rejected: ")
}

func TestRejectsUnknownFields(t *testing.T) {
	d := deployment("strict", "web", 1, restrictedPod())
	d.Manifest["spec"].(map[string]any)["replica"] = 1
	findings := check(t, namespace("strict", nil), d)
	require.Len(t, findings, 1)
	assert.Contains(t, findings[0].Message, ".spec.replica: field not declared in schema")
}

func TestRestrictedNamespaceRefusesAPrivilegedPod(t *testing.T) {
	pod := restrictedPod()
	container := pod["containers"].([]any)[0].(map[string]any)
	container["securityContext"] = map[string]any{"privileged": true}

	findings := check(t,
		namespace("locked", restricted),
		obj(map[string]any{
			"apiVersion": "v1", "kind": "Pod",
			"metadata": map[string]any{"name": "root", "namespace": "locked"},
			"spec":     pod,
		}),
		deployment("locked", "root", 1, pod),
	)
	require.Len(t, findings, 2)
	SortFindings(findings)
	for _, f := range findings {
		t.Log(f)
	}

	// The Deployment is stored, but the server warns: its pods would be refused.
	assert.Equal(t, "Deployment", findings[0].Kind)
	assert.True(t, findings[0].Warning)
	assert.Contains(t, findings[0].Message, `would violate PodSecurity "restricted:latest"`)
	assert.Contains(t, findings[0].Message, "privileged")

	assert.Equal(t, "Pod", findings[1].Kind)
	assert.False(t, findings[1].Warning)
	assert.Contains(t, findings[1].Message, `violates PodSecurity "restricted:latest"`)
}

func TestCRDThenCustomResources(t *testing.T) {
	crd := obj(map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": "widgets.example.com"},
		"spec": map[string]any{
			"group": "example.com",
			"scope": "Namespaced",
			"names": map[string]any{"plural": "widgets", "singular": "widget", "kind": "Widget"},
			"versions": []any{map[string]any{
				"name": "v1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{
					"type": "object",
					"properties": map[string]any{"spec": map[string]any{
						"type":       "object",
						"required":   []any{"size"},
						"properties": map[string]any{"size": map[string]any{"type": "integer", "minimum": 1}},
					}},
				}},
			}},
		},
	})
	widget := func(name string, size any) Object {
		return obj(map[string]any{
			"apiVersion": "example.com/v1", "kind": "Widget",
			"metadata": map[string]any{"name": name, "namespace": "crds"},
			"spec":     map[string]any{"size": size},
		})
	}

	// Without its CRD the kind does not exist.
	findings := check(t, namespace("crds", nil), widget("early", 1))
	require.Len(t, findings, 1)
	assert.Contains(t, findings[0].Message, `serves no kind "Widget" in "example.com/v1"`)

	findings = check(t, crd, namespace("crds", nil), widget("good", 3), widget("bad", 0))
	require.Len(t, findings, 1, "%v", findings)
	assert.Equal(t, "bad", findings[0].Name)
	assert.Contains(t, findings[0].Message, "spec.size")
}

func TestRefusesAnObjectInANamespaceNobodyCreates(t *testing.T) {
	findings := check(t, deployment("nowhere", "web", 1, restrictedPod()))
	require.Len(t, findings, 1)
	assert.Contains(t, findings[0].Message, `namespaces "nowhere" not found`)

	// Named as created elsewhere (a Helm release), it is sent.
	s := apiserver.Server(t)
	findings, err := s.Check(context.Background(), []Object{deployment("kube-system", "web", 1, restrictedPod())}, "by-helm")
	require.NoError(t, err)
	assert.Empty(t, findings)
}

func TestCloseLeavesNothingBehind(t *testing.T) {
	s, err := Start(context.Background(), Options{})
	require.NoError(t, err)
	t.Logf("a second server (no emulation) was ready in %s", s.Startup)
	assert.Equal(t, "1.37", s.Emulated)
	pids := []int{s.etcd.Process.Pid, s.api.Process.Pid}
	dir := s.dir
	s.Close()
	for _, pid := range pids {
		_, err := os.Stat("/proc/" + strconv.Itoa(pid))
		assert.True(t, os.IsNotExist(err), "process %d still exists", pid)
	}
	_, err = os.Stat(dir)
	assert.True(t, os.IsNotExist(err), "temporary directory %s left behind", dir)
}

func TestCustomResourceNeedsItsCRDInTheSameCheck(t *testing.T) {
	crd := obj(map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": "gadgets.example.com"},
		"spec": map[string]any{
			"group": "example.com", "scope": "Cluster",
			"names": map[string]any{"plural": "gadgets", "kind": "Gadget"},
			"versions": []any{map[string]any{
				"name": "v1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object"}},
			}},
		},
	})
	gadget := obj(map[string]any{"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": map[string]any{"name": "g"}})
	assert.Empty(t, check(t, crd, gadget))

	// Another cluster's objects: the CRD is still on the server, but this
	// cluster would not have it.
	findings := check(t, gadget)
	require.Len(t, findings, 1)
	assert.Contains(t, findings[0].Message, "defined by a CustomResourceDefinition these objects do not create")
}

func TestEmulation(t *testing.T) {
	for _, c := range []struct{ cluster, binary, emulate, note, err string }{
		{cluster: "1.34", binary: "v1.37.2", emulate: "1.34"},
		{cluster: "1.35", binary: "v1.37.2", emulate: "1.35"},
		{cluster: "1.37", binary: "v1.37.2", emulate: "1.37"},
		{cluster: "1.31", binary: "v1.37.2", emulate: "1.34", note: "kube-apiserver v1.37.2 emulates back to 1.34 only, so a 1.31 cluster is checked as 1.34"},
		{cluster: "1.38", binary: "v1.37.2", err: "cluster version 1.38 is newer than kube-apiserver v1.37.2"},
		{cluster: "2.0", binary: "v1.37.2", err: `"2.0" is not a Kubernetes 1.x version`},
		{cluster: "1.x", binary: "v1.37.2", err: `"1.x" is not a Kubernetes 1.x version`},
	} {
		emulate, note, err := Emulation(c.cluster, c.binary)
		if c.err != "" {
			assert.ErrorContains(t, err, c.err, c.cluster)
			continue
		}
		require.NoError(t, err, c.cluster)
		assert.Equal(t, c.emulate, emulate, c.cluster)
		assert.Equal(t, c.note, note, c.cluster)
	}
}

func TestStartRemovesWhatDeadTestProcessesLeft(t *testing.T) {
	dead, err := os.MkdirTemp("", "kubeapi-")
	require.NoError(t, err)
	live, err := os.MkdirTemp("", "kubeapi-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(live) })
	// pid_max is at most 2^22, so this process cannot exist.
	require.NoError(t, os.WriteFile(dead+"/owner", []byte("99999999"), 0o600))
	require.NoError(t, os.WriteFile(live+"/owner", []byte(strconv.Itoa(os.Getpid())), 0o600))

	removeStale()
	_, err = os.Stat(dead)
	assert.True(t, os.IsNotExist(err), "left by a dead process: removed")
	_, err = os.Stat(live)
	assert.NoError(t, err, "a running test's server: kept")
}
