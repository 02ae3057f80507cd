package kubeapi

import (
	"context"
	"regexp"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/stacks/plan"
)

// workload is a small program through the real Kubernetes SDK: a provider
// with a default namespace, a restricted namespace, an auto-named
// Deployment landing in the provider's namespace, a Service naming the
// namespace through an output, and a Helm release that creates its own.
func workload(ctx *pulumi.Context) error {
	prov, err := kubernetes.NewProvider(ctx, "cluster", &kubernetes.ProviderArgs{
		Namespace: pulumi.String("shop"), EnableServerSideApply: pulumi.Bool(true),
	})
	if err != nil {
		return err
	}
	on := pulumi.Provider(prov)
	ns, err := corev1.NewNamespace(ctx, "shop", &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("shop"), Labels: pulumi.StringMap{
			"pod-security.kubernetes.io/enforce": pulumi.String("restricted"),
		}},
	}, on)
	if err != nil {
		return err
	}
	labels := pulumi.StringMap{"app": pulumi.String("web")}
	_, err = appsv1.NewDeployment(ctx, "web", &appsv1.DeploymentArgs{
		Spec: &appsv1.DeploymentSpecArgs{
			Selector: &metav1.LabelSelectorArgs{MatchLabels: labels},
			Strategy: &appsv1.DeploymentStrategyArgs{RollingUpdate: &appsv1.RollingUpdateDeploymentArgs{
				MaxUnavailable: pulumi.Int(0), MaxSurge: pulumi.String("25%"),
			}},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: labels},
				Spec: &corev1.PodSpecArgs{
					SecurityContext: &corev1.PodSecurityContextArgs{
						RunAsNonRoot:   pulumi.Bool(true),
						SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
					},
					Containers: corev1.ContainerArray{&corev1.ContainerArgs{
						Name:  pulumi.String("web"),
						Image: pulumi.String("registry.example/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
						Ports: corev1.ContainerPortArray{&corev1.ContainerPortArgs{ContainerPort: pulumi.Int(8080)}},
						SecurityContext: &corev1.SecurityContextArgs{
							AllowPrivilegeEscalation: pulumi.Bool(false),
							ReadOnlyRootFilesystem:   pulumi.Bool(true),
							Capabilities:             &corev1.CapabilitiesArgs{Drop: pulumi.StringArray{pulumi.String("ALL")}},
						},
					}},
				},
			},
		},
	}, on, pulumi.DependsOn([]pulumi.Resource{ns}))
	if err != nil {
		return err
	}
	_, err = corev1.NewService(ctx, "web", &corev1.ServiceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("web"), Namespace: ns.Metadata.Name()},
		Spec: &corev1.ServiceSpecArgs{
			Selector: labels,
			Ports:    corev1.ServicePortArray{&corev1.ServicePortArgs{Port: pulumi.Int(80), TargetPort: pulumi.Int(8080)}},
		},
	}, on)
	if err != nil {
		return err
	}
	_, err = helmv3.NewRelease(ctx, "autoscaler", &helmv3.ReleaseArgs{
		Chart: pulumi.String("cluster-autoscaler"), Namespace: pulumi.String("scaling"), CreateNamespace: pulumi.Bool(true),
	}, on)
	return err
}

func planOf(t *testing.T, program pulumi.RunFunc) *plan.Inventory {
	t.Helper()
	inv, err := plan.Run("kubeapi", "test", nil, program)
	require.NoError(t, err)
	return inv
}

func TestFromInventoryAsTheProviderWould(t *testing.T) {
	got, err := FromInventory(planOf(t, workload))
	require.NoError(t, err)

	require.Len(t, got.Clusters, 1)
	c := got.Clusters[0]
	assert.Equal(t, "cluster", c.Provider)
	assert.Equal(t, []string{"scaling"}, c.Namespaces, "the Helm release's own namespace")
	require.Len(t, c.Objects, 3)
	assert.Equal(t, 3, got.Count())

	byKind := map[string]Object{}
	for _, o := range c.Objects {
		byKind[o.Kind()] = o
	}
	ns, deploy, svc := byKind["Namespace"], byKind["Deployment"], byKind["Service"]
	assert.Equal(t, [3]string{"v1", "Namespace", "shop"}, [3]string{ns.APIVersion(), ns.Kind(), ns.Name()})
	assert.Equal(t, [3]string{"v1", "Service", "shop"}, [3]string{svc.APIVersion(), svc.Kind(), svc.Namespace()})

	assert.Equal(t, "apps/v1", deploy.APIVersion())
	assert.Equal(t, "Deployment", deploy.Kind())
	assert.Regexp(t, regexp.MustCompile(`^web-[0-9a-f]{8}$`), deploy.Name(), "auto-named like the provider")
	assert.Equal(t, "true", deploy.metadata()["annotations"].(map[string]any)["pulumi.com/autonamed"])
	assert.Empty(t, deploy.Namespace())
	assert.Equal(t, "shop", deploy.DefaultNamespace, "the provider's namespace")
	assert.Contains(t, deploy.Origin, "kubernetes:apps/v1:Deployment::web")

	again, err := FromInventory(planOf(t, workload))
	require.NoError(t, err)
	// Found by kind: the mock engine registers resources concurrently, so
	// the order of the Deployment and the Service may differ between runs.
	var deployAgain string
	for _, o := range again.Clusters[0].Objects {
		if o.Kind() == "Deployment" {
			deployAgain = o.Name()
		}
	}
	assert.Equal(t, deploy.Name(), deployAgain, "the same plan gives the same names")

	var skipped []string
	for _, s := range got.Skipped {
		skipped = append(skipped, s.Type+" "+s.Name)
	}
	assert.Equal(t, []string{"pulumi:providers:kubernetes cluster", "kubernetes:helm.sh/v3:Release autoscaler"}, skipped)

	// What the SDK sent is what the server takes.
	findings, err := apiserver.Server(t).Check(context.Background(), c.Objects, c.Namespaces...)
	require.NoError(t, err)
	assert.Empty(t, findings)
}

func TestFromInventoryRefusesACredentialInAnObject(t *testing.T) {
	_, err := FromInventory(planOf(t, func(ctx *pulumi.Context) error {
		prov, err := kubernetes.NewProvider(ctx, "cluster", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		_, err = corev1.NewSecret(ctx, "db", &corev1.SecretArgs{
			StringData: pulumi.StringMap{"password": pulumi.String("hunter2")},
		}, pulumi.Provider(prov))
		return err
	}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "kubernetes:core/v1:Secret::db")
	assert.Contains(t, err.Error(), "stringData is a secret: no Kubernetes object may hold a credential")
	assert.NotContains(t, err.Error(), "hunter2")
}

func TestFromInventoryRefusesAnObjectWithoutItsProvider(t *testing.T) {
	_, err := FromInventory(planOf(t, func(ctx *pulumi.Context) error {
		_, err := corev1.NewConfigMap(ctx, "settings", &corev1.ConfigMapArgs{})
		return err
	}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "kubernetes:core/v1:ConfigMap::settings: created without an explicit Kubernetes provider")
}

// A TargetGroupBinding is skipped where the chart that installs its CRD is
// released on the same cluster, and sent (so the server refuses the kind
// it does not serve, as a new cluster would) where it is not.
func TestFromInventorySkipsKindsOfAChartOnTheSameCluster(t *testing.T) {
	program := func(withChart bool) func(ctx *pulumi.Context) error {
		return func(ctx *pulumi.Context) error {
			prov, err := kubernetes.NewProvider(ctx, "cluster", &kubernetes.ProviderArgs{})
			if err != nil {
				return err
			}
			if withChart {
				if _, err := helmv3.NewRelease(ctx, "lbc", &helmv3.ReleaseArgs{
					Chart: pulumi.String("aws-load-balancer-controller"), Version: pulumi.String("1.13.0"),
					Namespace: pulumi.String("kube-system"),
				}, pulumi.Provider(prov)); err != nil {
					return err
				}
			}
			_, err = apiextensions.NewCustomResource(ctx, "auth", &apiextensions.CustomResourceArgs{
				ApiVersion: pulumi.String("elbv2.k8s.aws/v1beta1"),
				Kind:       pulumi.String("TargetGroupBinding"),
				Metadata:   metav1.ObjectMetaArgs{Name: pulumi.String("auth"), Namespace: pulumi.String("auth")},
				OtherFields: kubernetes.UntypedArgs{"spec": pulumi.Map{
					"serviceRef":     pulumi.Map{"name": pulumi.String("auth"), "port": pulumi.Int(80)},
					"targetGroupARN": pulumi.String("arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/auth-1/2"),
				}},
			}, pulumi.Provider(prov))
			return err
		}
	}
	got, err := FromInventory(planOf(t, program(true)))
	require.NoError(t, err)
	assert.Zero(t, got.Count())
	var reasons []string
	for _, s := range got.Skipped {
		if s.Name == "auth" {
			reasons = append(reasons, s.Reason)
		}
	}
	require.Len(t, reasons, 1)
	assert.Contains(t, reasons[0], "aws-load-balancer-controller chart")

	got, err = FromInventory(planOf(t, program(false)))
	require.NoError(t, err)
	require.Equal(t, 1, got.Count(), "without the chart the binding goes to the server")
	assert.Equal(t, "TargetGroupBinding", got.Clusters[0].Objects[0].Kind())
}
