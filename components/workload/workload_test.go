package workload_test

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/appconfig"
	"github.com/example/ecommerce-platform/components/workload"
	"github.com/example/ecommerce-platform/stacks/plan"
)

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestQuantities(t *testing.T) {
	for q, want := range map[string]int{"250m": 250, "1": 1000, "1.5": 1500, "0.25": 250, "2": 2000} {
		got, ok := workload.MilliCPU(q)
		assert.True(t, ok, q)
		assert.Equal(t, want, got, q)
	}
	for _, bad := range []string{"", "1.2345", "m", "-1", "1e3"} {
		_, ok := workload.MilliCPU(bad)
		assert.False(t, ok, bad)
	}
	for q, want := range map[string]int{"256Mi": 256, "2Gi": 2048} {
		got, ok := workload.MiB(q)
		assert.True(t, ok, q)
		assert.Equal(t, want, got, q)
	}
	_, ok := workload.MiB("256M")
	assert.False(t, ok, "decimal megabytes are not offered")
}

func TestImageRef(t *testing.T) {
	repo := "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecommerce-prod/order"
	assert.Equal(t, repo+"@"+digest, workload.ImageRef(repo, digest), "a digest names exactly one build")
	assert.Equal(t, repo+":1.4.2", workload.ImageRef(repo, "1.4.2"))
}

func release() workload.Release {
	return workload.Release{
		Image: digest, MinReplicas: 3, MaxReplicas: 12, TargetCPUPercent: 70,
		CPU:    workload.Resources{Request: "250m", Limit: "1"},
		Memory: workload.Resources{Request: "256Mi", Limit: "256Mi"},
	}
}

func wiring(migrates bool) *appconfig.Service {
	out := func(s string) pulumi.StringOutput { return pulumi.String(s).ToStringOutput() }
	w := &appconfig.Service{
		Name: "order", Region: "eu-west-1", Namespace: "order", ServiceAccount: "order",
		SecretArn: out("arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecommerce-test-eu-west-1/order/runtime-abc"),
		RoleArn:   out("arn:aws:iam::123456789012:role/order"),
		Env:       map[string]string{"AUTH_JWKS_URL": "http://auth.auth.svc.cluster.local/v1/auth/jwks", "PRODUCT_API_URL": "http://product.product.svc.cluster.local"},
	}
	if migrates {
		w.Migration = &appconfig.Migration{AppUser: "order_app"}
		w.MigrationSecretArn = out("arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecommerce-test-eu-west-1/order/migrate-abc")
		w.MigrationRoleArn = out("arn:aws:iam::123456789012:role/order-migrate")
		w.MigrationServiceAccount = "order-migrate"
	}
	return w
}

func args(r workload.Release, migrates bool) *workload.Args {
	return &workload.Args{
		Wiring: wiring(migrates), Release: r,
		RepositoryURL:     pulumi.String("123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecommerce-test/order"),
		VpcCidr:           "10.31.0.0/16",
		LoadBalancerCidrs: []string{"10.31.192.0/21", "10.31.200.0/21"},
		Callees:           []string{"auth", "product"},
		NodeSelector:      map[string]string{"platform/node-group": "workload"},
		KubernetesVersion: "1.34",
	}
}

func build(t *testing.T, a *workload.Args) (*plan.Inventory, error) {
	t.Helper()
	return plan.RunComponent("eu-west-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		k, err := kubernetes.NewProvider(ctx, "eu-west-1", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		_, err = workload.New(ctx, "eu-west-1-order", a, append(opts, pulumi.Providers(k))...)
		return err
	})
}

func TestDeploymentIsRestrictedAndCarriesNoCredential(t *testing.T) {
	inv, err := build(t, args(release(), false))
	require.NoError(t, err)
	ns := inv.Find("kubernetes:core/v1:Namespace", "eu-west-1-order")
	require.NotNil(t, ns)
	assert.Equal(t, "restricted", ns.String("metadata.labels.pod-security\\.kubernetes\\.io/enforce"))
	assert.Equal(t, "v1.34", ns.String("metadata.labels.pod-security\\.kubernetes\\.io/enforce-version"), "judged by the rules of the cluster's version")

	d := inv.Find("kubernetes:apps/v1:Deployment", "eu-west-1-order")
	require.NotNil(t, d)
	assert.Nil(t, d.Get("spec.replicas"), "the autoscaler owns the count")
	assert.EqualValues(t, 0, d.Get("spec.strategy.rollingUpdate.maxUnavailable"))
	pod := "spec.template.spec."
	c := pod + "containers.0."
	assert.Equal(t, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecommerce-test/order@"+digest, d.String(c+"image"), "the region's own repository, by digest")
	assert.Equal(t, true, d.Get(pod+"securityContext.runAsNonRoot"))
	assert.Equal(t, "RuntimeDefault", d.String(pod+"securityContext.seccompProfile.type"))
	assert.Equal(t, false, d.Get(c+"securityContext.allowPrivilegeEscalation"))
	assert.Equal(t, true, d.Get(c+"securityContext.readOnlyRootFilesystem"))
	assert.Equal(t, []any{"ALL"}, d.Get(c+"securityContext.capabilities.drop"))
	assert.Equal(t, "/readyz", d.String(c+"readinessProbe.httpGet.path"))
	assert.Equal(t, "/healthz", d.String(c+"livenessProbe.httpGet.path"))
	assert.Equal(t, "/healthz", d.String(c+"startupProbe.httpGet.path"))
	assert.Equal(t, "250m", d.String(c+"resources.requests.cpu"))
	assert.Equal(t, "256Mi", d.String(c+"resources.limits.memory"))
	assert.EqualValues(t, workload.GracePeriodSeconds, d.Get(pod+"terminationGracePeriodSeconds"))
	assert.Greater(t, workload.GracePeriodSeconds, workload.ShutdownDelaySeconds+workload.ShutdownTimeoutSeconds, "the kubelet waits for the whole drain")
	keys := []string{}
	for _, tsc := range d.Get(pod + "topologySpreadConstraints").([]any) {
		keys = append(keys, tsc.(map[string]any)["topologyKey"].(string))
	}
	assert.Equal(t, []string{"topology.kubernetes.io/zone", "kubernetes.io/hostname"}, keys)

	env := map[string]string{}
	for _, e := range d.Get(c + "env").([]any) {
		m := e.(map[string]any)
		env[m["name"].(string)], _ = m["value"].(string)
		assert.Nil(t, m["valueFrom"], "no value from a Kubernetes Secret")
	}
	assert.Equal(t, "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecommerce-test-eu-west-1/order/runtime-abc", env[workload.RuntimeSecretVariable])
	assert.Equal(t, "http://product.product.svc.cluster.local", env["PRODUCT_API_URL"])
	assert.Equal(t, "204MiB", env["GOMEMLIMIT"], "80% of the 256Mi limit")
	assert.Equal(t, "10.31.192.0/21,10.31.200.0/21", env["TRUSTED_PROXY_CIDRS"], "the load balancer's subnets")
	for k := range env {
		assert.NotContains(t, []string{"DATABASE_URL", "DATABASE_READ_URL", "REDIS_AUTH_TOKEN", "JWT_SIGNING_KEY"}, k, "credentials stay in the runtime secret")
	}
	assert.Empty(t, inv.OfType("kubernetes:core/v1:Secret"))

	sa := inv.Find("kubernetes:core/v1:ServiceAccount", "eu-west-1-order-order")
	require.NotNil(t, sa)
	assert.Equal(t, "arn:aws:iam::123456789012:role/order", sa.String("metadata.annotations.eks\\.amazonaws\\.com/role-arn"))

	hpa := inv.Find("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "eu-west-1-order")
	require.NotNil(t, hpa)
	assert.EqualValues(t, 3, hpa.Get("spec.minReplicas"))
	assert.EqualValues(t, 12, hpa.Get("spec.maxReplicas"))
	pdb := inv.Find("kubernetes:policy/v1:PodDisruptionBudget", "eu-west-1-order")
	require.NotNil(t, pdb)
	assert.EqualValues(t, 1, pdb.Get("spec.maxUnavailable"), "a drain may take one pod at a time")
	svc := inv.Find("kubernetes:core/v1:Service", "eu-west-1-order")
	require.NotNil(t, svc)
	assert.Equal(t, "ClusterIP", svc.String("spec.type"))
	assert.EqualValues(t, workload.ServicePort, svc.Get("spec.ports.0.port"))
	assert.Empty(t, inv.OfType("kubernetes:batch/v1:Job"), "migrations run only where the primary is")
}

func TestNetworkPoliciesAdmitOnlyTheServicesTraffic(t *testing.T) {
	inv, err := build(t, args(release(), false))
	require.NoError(t, err)
	deny := inv.Find("kubernetes:networking.k8s.io/v1:NetworkPolicy", "eu-west-1-order-default-deny")
	require.NotNil(t, deny)
	assert.Equal(t, []any{"Ingress", "Egress"}, deny.Get("spec.policyTypes"))
	assert.Nil(t, deny.Get("spec.ingress"))
	allow := inv.Find("kubernetes:networking.k8s.io/v1:NetworkPolicy", "eu-west-1-order-order")
	require.NotNil(t, allow)
	from := allow.Get("spec.ingress.0.from").([]any)
	require.Len(t, from, 2, "the load balancer's subnets and no caller")
	assert.Equal(t, "10.31.192.0/21", allow.String("spec.ingress.0.from.0.ipBlock.cidr"))
	assert.EqualValues(t, workload.HTTPPort, allow.Get("spec.ingress.0.ports.0.port"))
	egress := allow.Get("spec.egress").([]any)
	require.Len(t, egress, 4, "DNS, the VPC's data ports, AWS APIs, the services it calls")
	callees := egress[3].(map[string]any)["to"].([]any)
	require.Len(t, callees, 2)
	assert.Equal(t, "auth", callees[0].(map[string]any)["namespaceSelector"].(map[string]any)["matchLabels"].(map[string]any)["kubernetes.io/metadata.name"])
}

func TestCanaryRunsBesideTheStableDeployment(t *testing.T) {
	r := release()
	r.Canary = &workload.Canary{Image: "1.5.0-rc1", Weight: 10}
	inv, err := build(t, args(r, false))
	require.NoError(t, err)
	stable := inv.Find("kubernetes:apps/v1:Deployment", "eu-west-1-order")
	canary := inv.Find("kubernetes:apps/v1:Deployment", "eu-west-1-order-canary")
	require.NotNil(t, stable)
	require.NotNil(t, canary)
	assert.True(t, strings.HasSuffix(canary.String("spec.template.spec.containers.0.image"), ":1.5.0-rc1"))
	assert.Equal(t, "canary", canary.String("spec.selector.matchLabels.ecommerce\\.example\\.com/track"))
	assert.Equal(t, "stable", stable.String("spec.selector.matchLabels.ecommerce\\.example\\.com/track"), "the stable Service never selects canary pods")
	cs := inv.Find("kubernetes:core/v1:Service", "eu-west-1-order-canary")
	require.NotNil(t, cs)
	assert.Equal(t, workload.CanaryServiceName("order"), cs.String("metadata.name"))
}

func TestMigrationJobRunsBeforeTheRelease(t *testing.T) {
	inv, err := build(t, args(release(), true))
	require.NoError(t, err)
	jobs := inv.OfType("kubernetes:batch/v1:Job")
	require.Len(t, jobs, 1)
	job := jobs[0]
	assert.Equal(t, []any{"migrate"}, job.Get("spec.template.spec.containers.0.args"))
	assert.Equal(t, "order-migrate", job.String("spec.template.spec.serviceAccountName"))
	assert.Contains(t, job.String("spec.template.spec.containers.0.env.0.value"), "/order/migrate", "the migration secret, not the runtime one")
	assert.True(t, strings.HasPrefix(job.String("metadata.name"), "order-migrate-"), "named after the release")
	d := inv.Find("kubernetes:apps/v1:Deployment", "eu-west-1-order")
	assert.True(t, inv.WaitsFor(d, job), "the release's pods start on its schema")
	sa := inv.Find("kubernetes:core/v1:ServiceAccount", "eu-west-1-order-order-migrate")
	require.NotNil(t, sa)
	assert.Equal(t, "arn:aws:iam::123456789012:role/order-migrate", sa.String("metadata.annotations.eks\\.amazonaws\\.com/role-arn"))

	other := release()
	other.Image = "1.5.0"
	inv2, err := build(t, args(other, true))
	require.NoError(t, err)
	assert.NotEqual(t, job.String("metadata.name"), inv2.OfType("kubernetes:batch/v1:Job")[0].String("metadata.name"), "each release runs its own migration")
}

func TestWorkloadChecksArgsFirst(t *testing.T) {
	bad := release()
	bad.Image = "latest"
	bad.MinReplicas = 1
	inv, err := build(t, args(bad, false))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Release.image:")
	assert.Contains(t, err.Error(), "Release.minReplicas:")
	assert.True(t, inv.OnlyProviders())
}
