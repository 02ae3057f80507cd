package stacks_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/stacks"
	"github.com/example/ecommerce-platform/stacks/config"
	"github.com/example/ecommerce-platform/stacks/kubeapi"
	"github.com/example/ecommerce-platform/stacks/plan"
)

// kubeCheck sends a plan's Kubernetes objects to real kube-apiservers, one
// per emulated Kubernetes minor, started on first need and stopped with
// the test.
type kubeCheck struct {
	servers map[string]*kubeapi.Server
}

func newKubeCheck(t *testing.T) *kubeCheck {
	k := &kubeCheck{servers: map[string]*kubeapi.Server{}}
	t.Cleanup(func() {
		for _, s := range k.servers {
			s.Close()
		}
	})
	return k
}

// server returns a server emulating the cluster's minor, or the oldest the
// binary can emulate.
func (k *kubeCheck) server(t *testing.T, clusterVersion string) *kubeapi.Server {
	t.Helper()
	binary, err := kubeapi.BinaryVersion(kubeapi.Options{})
	require.NoError(t, err)
	emulate, note, err := kubeapi.Emulation(clusterVersion, binary)
	require.NoError(t, err)
	if note != "" {
		t.Log(note)
	}
	if s, ok := k.servers[emulate]; ok {
		return s
	}
	s, err := kubeapi.Start(context.Background(), kubeapi.Options{Emulate: emulate})
	require.NoError(t, err)
	k.servers[emulate] = s
	t.Logf("kube-apiserver %s emulating %s, with etcd, ready in %s", s.Version, s.Emulated, s.Startup.Round(time.Millisecond))
	return s
}

// check sends every Kubernetes object of the plan, cluster by cluster, and
// returns the number sent and the findings, each prefixed with its cluster.
// Every Kubernetes resource must be an object or skipped with its reason;
// a plan with Kubernetes resources besides its providers must yield
// objects, so nothing can fall through unchecked.
func (k *kubeCheck) check(t *testing.T, inv *plan.Inventory) (int, []string) {
	t.Helper()
	objects, err := kubeapi.FromInventory(inv)
	require.NoError(t, err)

	resources := 0
	for _, r := range inv.Resources {
		if strings.HasPrefix(r.Type, "kubernetes:") || r.Type == "pulumi:providers:kubernetes" {
			resources++
		}
	}
	require.Equal(t, resources, objects.Count()+len(objects.Skipped), "Kubernetes resources not accounted for")
	workloads := resources - len(inv.OfType("pulumi:providers:kubernetes"))
	t.Logf("stack %s: %d Kubernetes object(s) to check on %d cluster(s); %d resource(s) skipped",
		inv.Stack, objects.Count(), len(objects.Clusters), len(objects.Skipped))
	for _, s := range objects.Skipped {
		t.Logf("  skipped %s", s)
	}
	if workloads == 0 {
		// No Kubernetes resource but the providers (the program before its
		// workloads): nothing to send, so no server is started.
		return 0, nil
	}
	require.Positive(t, objects.Count(),
		"the stack has %d Kubernetes resource(s) besides its providers, yet none is an object a server can check", workloads)

	var out []string
	for _, c := range objects.Clusters {
		if len(c.Objects) == 0 {
			continue
		}
		server := k.server(t, eksVersion(t, inv, c.Region))
		start := time.Now()
		findings, err := server.Check(context.Background(), c.Objects, c.Namespaces...)
		require.NoError(t, err)
		t.Logf("  cluster %s: %d object(s) checked in %s", c.Region, len(c.Objects), time.Since(start).Round(time.Millisecond))
		kubeapi.SortFindings(findings)
		for _, f := range findings {
			out = append(out, c.Region+": "+f.String())
		}
	}
	return objects.Count(), out
}

// eksVersion is the Kubernetes version of the region's EKS cluster.
func eksVersion(t *testing.T, inv *plan.Inventory, region string) string {
	t.Helper()
	for _, c := range inv.OfType("aws:eks/cluster:Cluster") {
		if c.Region == region {
			v := c.String("version")
			require.NotEmpty(t, v, "EKS cluster %s has no version", c.Name)
			return v
		}
	}
	t.Fatalf("no EKS cluster in region %q", region)
	return ""
}

// TestKubernetesAcceptsEveryObject sends every Kubernetes object each
// shipped stack would create through a real kube-apiserver emulating the
// cluster's Kubernetes minor: CRDs and Namespaces applied, the rest
// dry-run applied. Any refusal or warning fails, naming the object and the
// server's message. The last subtest shows that one does: the dev stack
// with a ConfigMap of the wrong shape added on its region's provider.
func TestKubernetesAcceptsEveryObject(t *testing.T) {
	k := newKubeCheck(t)
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			_, findings := k.check(t, planStack(t, stack).inv)
			for _, f := range findings {
				t.Error(f)
			}
		})
	}
	t.Run("dev with a refused object", func(t *testing.T) {
		base, err := kubeapi.FromInventory(planStack(t, "dev").inv)
		require.NoError(t, err)

		n, findings := k.check(t, devWithProbe(t))
		assert.Equal(t, base.Count()+3, n)
		require.Len(t, findings, 1, "%v", findings)
		assert.Contains(t, findings[0], "us-east-1: ConfigMap probe/settings (urn:pulumi:dev::")
		assert.Contains(t, findings[0], "rejected: ")
		assert.Contains(t, findings[0], ".data.port: expected string")
	})
}

// devWithProbe plans the dev stack with probeObjects on each region's
// Kubernetes provider.
func devWithProbe(t *testing.T) *plan.Inventory {
	t.Helper()
	proj, err := plan.LoadProject("..")
	require.NoError(t, err)
	raw, err := proj.Config("..", "dev")
	require.NoError(t, err)
	inv, err := plan.Run(proj.Name, "dev", raw, func(ctx *pulumi.Context) error {
		cfg, err := config.Load(ctx)
		if err != nil {
			return err
		}
		p, err := stacks.Build(ctx, cfg)
		if err != nil {
			return err
		}
		for _, r := range p.Regions {
			if err := probeObjects(ctx, r.Name, pulumi.Provider(r.Cluster.Provider)); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)
	return inv
}

// probeObjects registers, by type token as the Kubernetes SDK does, a
// restricted namespace and a Deployment the server accepts, and a ConfigMap
// whose data holds a number, which it refuses.
func probeObjects(ctx *pulumi.Context, region string, provider pulumi.ResourceOption) error {
	register := func(token, name string, props pulumi.Map) error {
		var res pulumi.CustomResourceState
		return ctx.RegisterResource(token, region+"-"+name, props, &res, provider)
	}
	labels := pulumi.StringMap{"app": pulumi.String("probe")}
	container := pulumi.Map{
		"name":  pulumi.String("probe"),
		"image": pulumi.String("registry.example/probe@sha256:" + strings.Repeat("0", 64)),
		"securityContext": pulumi.Map{
			"allowPrivilegeEscalation": pulumi.Bool(false),
			"readOnlyRootFilesystem":   pulumi.Bool(true),
			"capabilities":             pulumi.Map{"drop": pulumi.StringArray{pulumi.String("ALL")}},
		},
	}
	if err := register("kubernetes:core/v1:Namespace", "probe-namespace", pulumi.Map{
		"apiVersion": pulumi.String("v1"), "kind": pulumi.String("Namespace"),
		"metadata": pulumi.Map{"name": pulumi.String("probe"), "labels": pulumi.StringMap{
			"pod-security.kubernetes.io/enforce": pulumi.String("restricted"),
		}},
	}); err != nil {
		return err
	}
	if err := register("kubernetes:apps/v1:Deployment", "probe", pulumi.Map{
		"apiVersion": pulumi.String("apps/v1"), "kind": pulumi.String("Deployment"),
		"metadata": pulumi.Map{"namespace": pulumi.String("probe")},
		"spec": pulumi.Map{
			"selector": pulumi.Map{"matchLabels": labels},
			"template": pulumi.Map{
				"metadata": pulumi.Map{"labels": labels},
				"spec": pulumi.Map{
					"securityContext": pulumi.Map{
						"runAsNonRoot":   pulumi.Bool(true),
						"seccompProfile": pulumi.Map{"type": pulumi.String("RuntimeDefault")},
					},
					"containers": pulumi.Array{container},
				},
			},
		},
	}); err != nil {
		return err
	}
	return register("kubernetes:core/v1:ConfigMap", "settings", pulumi.Map{
		"apiVersion": pulumi.String("v1"), "kind": pulumi.String("ConfigMap"),
		"metadata": pulumi.Map{"name": pulumi.String("settings"), "namespace": pulumi.String("probe")},
		"data":     pulumi.Map{"port": pulumi.Int(8080)},
	})
}
