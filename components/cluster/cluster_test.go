package cluster_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/cluster"
	"github.com/example/ecommerce-platform/stacks/plan"
)

const (
	keyArn     = "arn:aws:kms:eu-west-1:123456789012:key/test"
	logsKeyArn = "arn:aws:kms:eu-west-1:123456789012:key/logs"
)

func validArgs() *cluster.Args {
	return &cluster.Args{
		ClusterName:       "ecommerce-test-eu-west-1",
		Region:            "eu-west-1",
		Version:           "1.33",
		SubnetIDs:         pulumi.ToStringArray([]string{"subnet-a", "subnet-b", "subnet-c"}),
		KmsKeyArn:         pulumi.String(keyArn),
		LogsKmsKeyArn:     pulumi.String(logsKeyArn),
		PublicAccessCidrs: []string{"198.51.100.0/24"},
		DeployerArn:       "arn:aws:iam::123456789012:role/platform-deployer",
		AdminRoleArn:      "arn:aws:iam::123456789012:role/platform-admin",
		LogRetentionDays:  90,
		SystemNodes:       cluster.NodeGroupArgs{InstanceTypes: []string{"m6i.large"}, MinSize: 2, DesiredSize: 2, MaxSize: 4, DiskSizeGiB: 50},
		WorkloadNodes:     cluster.NodeGroupArgs{InstanceTypes: []string{"m6i.xlarge"}, MinSize: 2, DesiredSize: 3, MaxSize: 10, DiskSizeGiB: 80},
	}
}

type built struct {
	inv        *plan.Inventory
	kubeconfig string
	nodeSG     string
}

func build(t *testing.T, args *cluster.Args) (*built, error) {
	t.Helper()
	out := &built{}
	inv, err := plan.Run("ecommerce", "test", nil, func(ctx *pulumi.Context) error {
		p, err := aws.NewProvider(ctx, "aws-eu-west-1", &aws.ProviderArgs{Region: pulumi.String("eu-west-1")})
		if err != nil {
			return err
		}
		c, err := cluster.New(ctx, "eu-west-1", args, pulumi.Provider(p))
		if err != nil {
			return err
		}
		c.Kubeconfig.ApplyT(func(s string) string { out.kubeconfig = s; return s })
		c.NodeSecurityGroupID.ApplyT(func(s string) string { out.nodeSG = s; return s })
		return nil
	})
	out.inv = inv
	return out, err
}

func TestClusterControlPlane(t *testing.T) {
	b, err := build(t, validArgs())
	require.NoError(t, err)
	c := b.inv.Find("aws:eks/cluster:Cluster", "eu-west-1")
	require.NotNil(t, c)
	assert.Equal(t, "ecommerce-test-eu-west-1", c.String("name"))
	assert.Equal(t, "1.33", c.String("version"))
	assert.Equal(t, []any{"secrets"}, c.Get("encryptionConfig.resources"))
	assert.Equal(t, keyArn, c.String("encryptionConfig.provider.keyArn"))
	for _, logType := range []string{"api", "audit", "authenticator"} {
		assert.Contains(t, c.Get("enabledClusterLogTypes"), logType)
	}
	assert.Equal(t, true, c.Get("vpcConfig.endpointPrivateAccess"))
	assert.Equal(t, true, c.Get("vpcConfig.endpointPublicAccess"))
	assert.Equal(t, []any{"198.51.100.0/24"}, c.Get("vpcConfig.publicAccessCidrs"))
	assert.Equal(t, "API", c.String("accessConfig.authenticationMode"), "access entries, not aws-auth")

	logs := b.inv.Find("aws:cloudwatch/logGroup:LogGroup", "eu-west-1-control-plane")
	require.NotNil(t, logs)
	assert.Equal(t, "/aws/eks/ecommerce-test-eu-west-1/cluster", logs.String("name"), "the name EKS writes to")
	assert.Equal(t, logsKeyArn, logs.String("kmsKeyId"), "control-plane logs under the logs key")
	assert.EqualValues(t, 90, logs.Get("retentionInDays"))
}

func TestClusterPrivateOnlyWithoutCidrs(t *testing.T) {
	args := validArgs()
	args.PublicAccessCidrs = nil
	b, err := build(t, args)
	require.NoError(t, err)
	c := b.inv.Find("aws:eks/cluster:Cluster", "eu-west-1")
	assert.Equal(t, false, c.Get("vpcConfig.endpointPublicAccess"))
	assert.Equal(t, true, c.Get("vpcConfig.endpointPrivateAccess"))
}

// Explicit access entries only: EKS gives the creator nothing, the deployer
// (as whom the Kubernetes provider deploys) and the admin role get
// cluster-admin, one entry per principal.
func TestClusterAccessEntries(t *testing.T) {
	b, err := build(t, validArgs())
	require.NoError(t, err)
	c := b.inv.Find("aws:eks/cluster:Cluster", "eu-west-1")
	assert.Equal(t, false, c.Get("accessConfig.bootstrapClusterCreatorAdminPermissions"),
		"with the bootstrap on, EKS makes the creator's entry itself and ours for the same principal fails")
	assert.Equal(t, "API", c.Get("accessConfig.authenticationMode"))
	principals := map[string]string{}
	for _, e := range b.inv.OfType("aws:eks/accessEntry:AccessEntry") {
		principals[e.Name] = e.String("principalArn")
		assoc := b.inv.Find("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", e.Name)
		require.NotNil(t, assoc, e.Name)
		assert.Equal(t, "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", assoc.String("policyArn"))
	}
	assert.Equal(t, map[string]string{
		"eu-west-1-deployer": "arn:aws:iam::123456789012:role/platform-deployer",
		"eu-west-1-admin":    "arn:aws:iam::123456789012:role/platform-admin",
	}, principals)
	provider := b.inv.Find("pulumi:providers:kubernetes", "eu-west-1")
	require.NotNil(t, provider)
	assert.True(t, b.inv.WaitsFor(provider, b.inv.Find("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "eu-west-1-deployer")),
		"nothing deploys into the cluster before the deployer may")
	assert.Empty(t, b.inv.OfType("kubernetes:core/v1:ConfigMap"), "no aws-auth ConfigMap")

	// The deployer is the admin: one entry, not two for one principal.
	args := validArgs()
	args.DeployerArn = args.AdminRoleArn
	b, err = build(t, args)
	require.NoError(t, err)
	entries := b.inv.OfType("aws:eks/accessEntry:AccessEntry")
	require.Len(t, entries, 1)
	assert.Equal(t, "eu-west-1-deployer", entries[0].Name)

	args = validArgs()
	args.DeployerArn = ""
	_, err = build(t, args)
	assert.ErrorContains(t, err, "DeployerArn:")
}

func TestClusterNodeGroups(t *testing.T) {
	b, err := build(t, validArgs())
	require.NoError(t, err)
	groups := b.inv.OfType("aws:eks/nodeGroup:NodeGroup")
	require.Len(t, groups, 2)
	want := map[string]cluster.NodeGroupArgs{"eu-west-1-system": validArgs().SystemNodes, "eu-west-1-workload": validArgs().WorkloadNodes}
	for _, g := range groups {
		w, ok := want[g.Name]
		require.True(t, ok, g.Name)
		assert.Equal(t, []any{"subnet-a", "subnet-b", "subnet-c"}, g.Get("subnetIds"), "nodes in every zone")
		assert.EqualValues(t, w.MinSize, g.Get("scalingConfig.minSize"))
		assert.EqualValues(t, w.DesiredSize, g.Get("scalingConfig.desiredSize"))
		assert.EqualValues(t, w.MaxSize, g.Get("scalingConfig.maxSize"))
		assert.Equal(t, []any{w.InstanceTypes[0]}, g.Get("instanceTypes"))
		assert.NotEmpty(t, g.String("launchTemplate.id"))
	}
	for _, lt := range b.inv.OfType("aws:ec2/launchTemplate:LaunchTemplate") {
		assert.Equal(t, "true", lt.String("blockDeviceMappings.0.ebs.encrypted"), lt.Name)
		assert.Equal(t, keyArn, lt.String("blockDeviceMappings.0.ebs.kmsKeyId"), lt.Name)
		assert.Equal(t, "required", lt.String("metadataOptions.httpTokens"), "IMDSv2 only")
		assert.EqualValues(t, 1, lt.Get("metadataOptions.httpPutResponseHopLimit"), "pods cannot reach the node role's credentials")
	}
	// The node role carries no CNI permission: vpc-cni has its own IRSA role.
	nodePolicies := map[string]bool{}
	for _, a := range b.inv.OfType("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
		if strings.HasPrefix(a.Name, "eu-west-1-nodes") {
			nodePolicies[a.String("policyArn")] = true
		}
	}
	assert.True(t, nodePolicies["arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"])
	assert.False(t, nodePolicies["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"])
}

// With bootstrapSelfManagedAddons off the cluster has no network plugin
// until the vpc-cni add-on exists: nodes that join before it never become
// Ready. The node groups wait for vpc-cni and kube-proxy; coredns and the
// CSI controller (Deployments) wait for the nodes.
func TestNodesWaitForTheNetworkAddons(t *testing.T) {
	b, err := build(t, validArgs())
	require.NoError(t, err)
	addon := func(n string) *plan.Resource {
		r := b.inv.Find("aws:eks/addon:Addon", "eu-west-1-"+n)
		require.NotNil(t, r, n)
		return r
	}
	for _, g := range b.inv.OfType("aws:eks/nodeGroup:NodeGroup") {
		for _, n := range cluster.NodeAddons {
			assert.True(t, b.inv.WaitsFor(g, addon(n)), "%s waits for %s", g.Name, n)
		}
		for _, n := range cluster.PodAddons {
			assert.True(t, b.inv.WaitsFor(addon(n), g), "%s waits for %s", n, g.Name)
			assert.False(t, b.inv.WaitsFor(g, addon(n)), "%s must not wait for %s", g.Name, n)
		}
	}
	for _, n := range cluster.NodeAddons {
		for _, g := range b.inv.OfType("aws:eks/nodeGroup:NodeGroup") {
			assert.False(t, b.inv.WaitsFor(addon(n), g), "%s must not wait for the nodes", n)
		}
	}
	// The CNI enforces the services' NetworkPolicies only when asked.
	assert.JSONEq(t, `{"enableNetworkPolicy":"true"}`, addon("vpc-cni").String("configurationValues"))
	assert.NotNil(t, addon("metrics-server"), "the autoscalers read pods' CPU from it")
}

func TestClusterAddonsAndIRSA(t *testing.T) {
	b, err := build(t, validArgs())
	require.NoError(t, err)
	addons := map[string]*plan.Resource{}
	for _, a := range b.inv.OfType("aws:eks/addon:Addon") {
		addons[a.String("addonName")] = a
	}
	for _, name := range []string{"vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver"} {
		require.Contains(t, addons, name)
	}
	oidc := b.inv.OfType("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
	require.Len(t, oidc, 1)
	assert.Contains(t, oidc[0].String("url"), "https://oidc.eks.eu-west-1.amazonaws.com/id/")
	assert.Equal(t, []any{"sts.amazonaws.com"}, oidc[0].Get("clientIdLists"))

	role := b.inv.Find("aws:iam/role:Role", "eu-west-1-aws-ebs-csi-driver")
	require.NotNil(t, role)
	assert.Contains(t, addons["aws-ebs-csi-driver"].String("serviceAccountRoleArn"), ":role/eu-west-1-aws-ebs-csi-driver")
	var trust struct {
		Statement []struct {
			Principal map[string]string
			Condition map[string]map[string]string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(role.String("assumeRolePolicy")), &trust))
	require.Len(t, trust.Statement, 1)
	assert.Contains(t, trust.Statement[0].Principal["Federated"], ":oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/")
	var sub string
	for k, v := range trust.Statement[0].Condition["StringEquals"] {
		if strings.HasSuffix(k, ":sub") {
			sub = v
		}
	}
	assert.Equal(t, "system:serviceaccount:kube-system:ebs-csi-controller-sa", sub)
}

func TestClusterKubernetesProvider(t *testing.T) {
	b, err := build(t, validArgs())
	require.NoError(t, err)
	providers := b.inv.OfType("pulumi:providers:kubernetes")
	require.Len(t, providers, 1)
	var kc struct {
		Clusters []struct {
			Cluster map[string]string
		}
		Users []struct {
			User struct {
				Exec struct {
					Command string
					Args    []string
				}
			}
		}
	}
	require.NoError(t, json.Unmarshal([]byte(b.kubeconfig), &kc))
	assert.Contains(t, kc.Clusters[0].Cluster["server"], ".eks.amazonaws.com")
	assert.Equal(t, "aws", kc.Users[0].User.Exec.Command)
	assert.Equal(t, []string{"eks", "get-token", "--cluster-name", "ecommerce-test-eu-west-1", "--region", "eu-west-1", "--output", "json"}, kc.Users[0].User.Exec.Args)
	assert.Regexp(t, `^sg-[0-9a-f]{17}$`, b.nodeSG)
}

func TestClusterChildrenParentedAndRegional(t *testing.T) {
	b, err := build(t, validArgs())
	require.NoError(t, err)
	comp := b.inv.Find("ecommerce:cluster:Cluster", "eu-west-1")
	require.NotNil(t, comp)
	provider := b.inv.Find("pulumi:providers:aws", "aws-eu-west-1")
	for _, r := range b.inv.Descendants(comp) {
		assert.Equal(t, "eu-west-1", r.Region, "%s %s", r.Type, r.Name)
		switch {
		case !r.Custom || r.Type == "pulumi:providers:kubernetes":
		case strings.HasPrefix(r.Type, "kubernetes:"):
			kube := b.inv.ProviderOf(r)
			require.NotNil(t, kube, r.Name)
			assert.Equal(t, comp.URN, kube.Parent, "%s %s deploys through the cluster's own Kubernetes provider", r.Type, r.Name)
		default:
			assert.Contains(t, r.Provider, provider.URN, "%s %s uses the region's provider", r.Type, r.Name)
		}
	}
	for _, r := range b.inv.Resources {
		if r.Custom && r.Type != "pulumi:providers:aws" {
			assert.Equal(t, comp.URN, r.Parent, "%s %s is a direct child of the component", r.Type, r.Name)
		}
	}
	assert.Len(t, b.inv.Descendants(comp), len(b.inv.Resources)-2, "everything but the provider and component is below the component")
}

func TestClusterRejectsBadArgsBeforeCreating(t *testing.T) {
	for name, mutate := range map[string]func(a *cluster.Args) *cluster.Args{
		"nil args":         func(*cluster.Args) *cluster.Args { return nil },
		"no key":           func(a *cluster.Args) *cluster.Args { a.KmsKeyArn = nil; return a },
		"no subnets":       func(a *cluster.Args) *cluster.Args { a.SubnetIDs = nil; return a },
		"min above max":    func(a *cluster.Args) *cluster.Args { a.WorkloadNodes.MinSize = 11; return a },
		"no version":       func(a *cluster.Args) *cluster.Args { a.Version = ""; return a },
		"no instance type": func(a *cluster.Args) *cluster.Args { a.SystemNodes.InstanceTypes = nil; return a },
	} {
		t.Run(name, func(t *testing.T) {
			b, err := build(t, mutate(validArgs()))
			require.Error(t, err)
			assert.Len(t, b.inv.Resources, 1, "only the provider exists")
		})
	}
}

// The autoscaler is told its region (metadata is out of its reach), runs
// the image of the cluster's minor version from a pinned chart, and may
// resize only its own cluster's node groups.
func TestClusterAutoscaler(t *testing.T) {
	b, err := build(t, validArgs())
	require.NoError(t, err)
	rel := b.inv.Find("kubernetes:helm.sh/v3:Release", "eu-west-1-autoscaler")
	require.NotNil(t, rel)
	assert.Equal(t, cluster.AutoscalerChartVersion, rel.String("version"), "the chart is pinned")
	assert.Equal(t, "eu-west-1", rel.String("values.awsRegion"))
	assert.Equal(t, "ecommerce-test-eu-west-1", rel.String("values.autoDiscovery.clusterName"))
	assert.Equal(t, cluster.AutoscalerImages["1.33"], rel.String("values.image.tag"), "the image of the cluster's minor version")
	for _, g := range b.inv.OfType("aws:eks/nodeGroup:NodeGroup") {
		assert.True(t, b.inv.WaitsFor(rel, g), "installed once there are nodes to run it")
	}
	policy := b.inv.Find("aws:iam/rolePolicy:RolePolicy", "eu-west-1-autoscaler")
	require.NotNil(t, policy)
	assert.Contains(t, policy.String("policy"), `"aws:ResourceTag/k8s.io/cluster-autoscaler/ecommerce-test-eu-west-1":"owned"`, "resizes only its own cluster's groups")

	args := validArgs()
	args.Version = "1.29"
	_, err = build(t, args)
	assert.ErrorContains(t, err, "Version:")
}

func TestIRSATrustPolicy(t *testing.T) {
	doc, err := cluster.IRSATrustPolicy("arn:aws:iam::1:oidc-provider/oidc.eks.x/id/AB", "https://oidc.eks.x/id/AB", "shop", "order")
	require.NoError(t, err)
	assert.JSONEq(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
		"Principal":{"Federated":"arn:aws:iam::1:oidc-provider/oidc.eks.x/id/AB"},
		"Action":"sts:AssumeRoleWithWebIdentity",
		"Condition":{"StringEquals":{"oidc.eks.x/id/AB:sub":"system:serviceaccount:shop:order","oidc.eks.x/id/AB:aud":"sts.amazonaws.com"}}}]}`, doc)
	_, err = cluster.IRSATrustPolicy("arn", "https://issuer", "", "order")
	assert.Error(t, err)
}

func TestKubeconfigRejectsBadCA(t *testing.T) {
	_, err := cluster.Kubeconfig("c", "https://x", "not base64!", "eu-west-1")
	assert.Error(t, err)
}
