package ingress_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/appconfig"
	"github.com/example/ecommerce-platform/components/ingress"
	"github.com/example/ecommerce-platform/components/workload"
	"github.com/example/ecommerce-platform/stacks/plan"
	"github.com/example/ecommerce-platform/stacks/plan/lookups"
)

var services = []string{"auth", "user", "product", "order"}

func TestRoutesSendEveryPathToItsService(t *testing.T) {
	routes, err := ingress.Routes(services)
	require.NoError(t, err)
	for p, want := range map[string]string{
		"/v1/auth/login":           "auth",
		"/v1/auth/roles/admin/x":   "auth",
		appconfig.JWKSPath:         "auth",
		"/.well-known/jwks.json":   "auth",
		"/v1/users/me":             "user",
		"/v1/products":             "product",
		"/v1/products/42/stock":    "product",
		"/v1/orders":               "order",
		"/v1/orders/7":             "order",
		"/v1/productsX":            "",
		"/v1/users":                "",
		"/healthz":                 "",
		"/readyz":                  "",
		"/metrics":                 "",
		"/":                        "",
		"/V1/orders":               "", // path patterns are case-sensitive
		"/v2/orders":               "",
		"/.well-known/jwks.json/x": "",
	} {
		assert.Equal(t, want, ingress.Match(routes, p), p)
	}
	seen := map[int]bool{}
	for _, r := range routes {
		assert.False(t, seen[r.Priority], "priority %d is unique", r.Priority)
		seen[r.Priority] = true
		assert.LessOrEqual(t, len(r.Patterns)+1, ingress.MaxConditionValues, "%s: patterns and the header within ELB's limit", r.Service)
	}
	assert.Equal(t, 10, routes[0].Priority)

	_, err = ingress.Routes([]string{"auth", "billing"})
	assert.ErrorContains(t, err, `"billing"`)
}

// A service added later takes the next priority; the others keep theirs.
func TestRoutePrioritiesAreStable(t *testing.T) {
	before, err := ingress.Routes(services[:3])
	require.NoError(t, err)
	after, err := ingress.Routes(services)
	require.NoError(t, err)
	for i := range before {
		assert.Equal(t, before[i], after[i])
	}
}

func TestWeights(t *testing.T) {
	for canary, want := range map[int][2]int{0: {100, 0}, 10: {90, 10}, 50: {50, 50}} {
		s, c := ingress.Weights(canary)
		assert.Equal(t, want, [2]int{s, c})
	}
}

func TestTargetGroupNames(t *testing.T) {
	seen := map[string]bool{}
	for _, display := range []string{"ecommerce-prod-us-east-1", "ecommerce-staging-ap-southeast-2", "x"} {
		for _, svc := range []string{"auth", "product-canary", strings.Repeat("s", ingress.MaxServiceNameLength)} {
			n := ingress.TargetGroupName(display, svc)
			assert.LessOrEqual(t, len(n), 32, n)
			assert.Regexp(t, `^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$`, n)
			assert.True(t, strings.HasPrefix(n, svc+"-"), "the Service reads in the name: %s", n)
			assert.False(t, seen[n], "unique across regions and stacks: %s", n)
			seen[n] = true
			assert.Equal(t, n, ingress.TargetGroupName(display, svc), "stable")
		}
	}
}

func TestLogDeliveryPrincipal(t *testing.T) {
	assert.Equal(t, map[string]any{"AWS": "arn:aws:iam::127311923021:root"}, ingress.LogDeliveryPrincipal("us-east-1"))
	assert.Equal(t, map[string]any{"AWS": "arn:aws:iam::156460612806:root"}, ingress.LogDeliveryPrincipal("eu-west-1"))
	assert.Equal(t, map[string]any{"AWS": "arn:aws:iam::718504428378:root"}, ingress.LogDeliveryPrincipal("ap-south-1"))
	// Opened after August 2022: the service principal.
	assert.Equal(t, map[string]any{"Service": ingress.LogDeliveryService}, ingress.LogDeliveryPrincipal("ap-southeast-4"))
}

// The load balancer keeps a leaving pod's requests exactly as long as the
// pod may still answer them, and the kubelet does not kill it before.
func TestDeregistrationDelayMatchesPodShutdown(t *testing.T) {
	assert.Equal(t, workload.ShutdownDelaySeconds+workload.ShutdownTimeoutSeconds, ingress.DeregistrationDelaySeconds)
	assert.Less(t, ingress.DeregistrationDelaySeconds, workload.GracePeriodSeconds)
}

func TestControllerPolicyBindsOnlyOwnTargetGroups(t *testing.T) {
	arns := []string{"arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/b/2", "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/a/1"}
	doc, err := ingress.ControllerPolicy(arns)
	require.NoError(t, err)
	var p struct {
		Statement []struct {
			Sid      string
			Action   []string
			Resource any
		}
	}
	require.NoError(t, json.Unmarshal([]byte(doc), &p))
	require.Len(t, p.Statement, 2)
	for _, s := range p.Statement {
		for _, a := range s.Action {
			assert.NotContains(t, a, "*", "no wildcard action")
			if s.Resource == "*" {
				assert.Regexp(t, `^(ec2|elasticloadbalancing):(Describe|Get)`, a, "only reads on every resource")
			}
		}
	}
	assert.Equal(t, []any{arns[1], arns[0]}, p.Statement[1].Resource)
	assert.ElementsMatch(t, []string{"elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"}, p.Statement[1].Action)
}

func TestAccessLogPolicy(t *testing.T) {
	doc, err := ingress.AccessLogPolicy("eu-west-1", "123456789012", "logs-abc")
	require.NoError(t, err)
	assert.JSONEq(t, `{"Version":"2012-10-17","Statement":[
		{"Sid":"LoadBalancerAccessLogs","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::156460612806:root"},
		 "Action":"s3:PutObject","Resource":"arn:aws:s3:::logs-abc/alb/AWSLogs/123456789012/*"},
		{"Sid":"DenyPlainTransport","Effect":"Deny","Principal":"*","Action":"s3:*",
		 "Resource":["arn:aws:s3:::logs-abc","arn:aws:s3:::logs-abc/*"],
		 "Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`, doc)
}

// The component asks for the prefix list the offline runs answer.
func TestPrefixListIsTheAnsweredOne(t *testing.T) {
	assert.Equal(t, lookups.CloudFrontOriginFacing, ingress.CloudFrontPrefixList)
}

const (
	region      = "eu-west-1"
	vpcCidr     = "10.31.0.0/16"
	certArn     = "arn:aws:acm:eu-west-1:123456789012:certificate/abc"
	originValue = "s3cr3t-origin-value"
	nodeSG      = "sg-0123456789abcdef0"
)

// stub stands for a workload component in the component tests.
type stub struct{ pulumi.ResourceState }

func validArgs(ctx *pulumi.Context, kube pulumi.ProviderResource, canaryWeight int) (*ingress.Args, error) {
	var backends []ingress.Backend
	for _, svc := range services {
		w := &stub{}
		if err := ctx.RegisterComponentResource("test:workload:Service", region+"-"+svc, w); err != nil {
			return nil, err
		}
		// Its namespace, as the workload creates it.
		if _, err := corev1.NewNamespace(ctx, region+"-"+svc, &corev1.NamespaceArgs{
			Metadata: metav1.ObjectMetaArgs{Name: pulumi.String(svc)},
		}, pulumi.Parent(w), pulumi.Provider(kube)); err != nil {
			return nil, err
		}
		b := ingress.Backend{Service: svc, Namespace: svc, ServiceName: workload.ServiceName(svc), Workload: w}
		if svc == "order" && canaryWeight >= 0 {
			b.CanaryServiceName, b.CanaryWeight = workload.CanaryServiceName(svc), canaryWeight
		}
		backends = append(backends, b)
	}
	return &ingress.Args{
		Region: region, AccountID: plan.TestAccount, DisplayName: "ecommerce-test-eu-west-1",
		VpcID:                  pulumi.String("vpc-0123456789abcdef0"),
		VpcCidr:                vpcCidr,
		PublicSubnetIDs:        pulumi.ToStringArray([]string{"subnet-a", "subnet-b", "subnet-c"}),
		CertificateArn:         pulumi.String(certArn),
		OriginSecret:           pulumi.String(originValue),
		DeletionProtection:     true,
		AccessLogRetentionDays: 90,
		Backends:               backends,
		Cluster: ingress.ClusterArgs{
			Name:                pulumi.String("ecommerce-test-eu-west-1"),
			OidcProviderArn:     pulumi.String("arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/AB"),
			OidcIssuerURL:       pulumi.String("https://oidc.eks.eu-west-1.amazonaws.com/id/AB"),
			NodeSecurityGroupID: pulumi.String(nodeSG),
			Provider:            kube,
			NodeSelector:        map[string]string{"platform/node-group": "system"},
		},
	}, nil
}

type built struct {
	inv     *plan.Inventory
	dnsName string
	zoneID  string
	tgs     []string
}

func build(t *testing.T, canaryWeight int, mutate func(a *ingress.Args) *ingress.Args) (*built, error) {
	t.Helper()
	out := &built{}
	inv, err := plan.RunComponent(region, func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		kube, err := kubernetes.NewProvider(ctx, "kube", &kubernetes.ProviderArgs{Kubeconfig: pulumi.String("{}")})
		if err != nil {
			return err
		}
		args, err := validArgs(ctx, kube, canaryWeight)
		if err != nil {
			return err
		}
		if mutate != nil {
			args = mutate(args)
		}
		ing, err := ingress.New(ctx, region+"-ingress", args, opts...)
		if err != nil {
			return err
		}
		ing.DNSName.ApplyT(func(s string) string { out.dnsName = s; return s })
		ing.ZoneID.ApplyT(func(s string) string { out.zoneID = s; return s })
		for svc := range ing.TargetGroups {
			out.tgs = append(out.tgs, svc)
		}
		sort.Strings(out.tgs)
		return nil
	})
	out.inv = inv
	return out, err
}

// plainInput unwraps secrets and outputs; secret tells whether any layer
// was secret.
func plainInput(v resource.PropertyValue) (resource.PropertyValue, bool) {
	secret := false
	for {
		switch {
		case v.IsSecret():
			secret, v = true, v.SecretValue().Element
		case v.IsOutput():
			secret, v = secret || v.OutputValue().Secret, v.OutputValue().Element
		default:
			return v, secret
		}
	}
}

func TestLoadBalancer(t *testing.T) {
	b, err := build(t, 10, nil)
	require.NoError(t, err)
	alb := b.inv.Find("aws:lb/loadBalancer:LoadBalancer", region+"-ingress")
	require.NotNil(t, alb)
	assert.Equal(t, "application", alb.String("loadBalancerType"))
	assert.Equal(t, false, alb.Get("internal"))
	assert.Equal(t, []any{"subnet-a", "subnet-b", "subnet-c"}, alb.Get("subnets"), "in the public subnets")
	assert.Equal(t, true, alb.Get("dropInvalidHeaderFields"))
	assert.Contains(t, []string{"defensive", "strictest"}, alb.String("desyncMitigationMode"))
	assert.Equal(t, true, alb.Get("enableDeletionProtection"))
	assert.Equal(t, true, alb.Get("accessLogs.enabled"))
	bucket := b.inv.Find("aws:s3/bucketV2:BucketV2", region+"-ingress-access-logs")
	require.NotNil(t, bucket)
	assert.NotEmpty(t, alb.String("accessLogs.bucket"))
	policy := b.inv.Find("aws:s3/bucketPolicy:BucketPolicy", region+"-ingress-access-logs")
	require.NotNil(t, policy)
	assert.True(t, b.inv.WaitsFor(alb, policy), "ELB refuses logging until the bucket admits it")
	assert.Contains(t, b.dnsName, ".eu-west-1.elb.amazonaws.com")
	assert.Equal(t, "Z32O12XQLNTSW2", b.zoneID)

	b, err = build(t, -1, func(a *ingress.Args) *ingress.Args { a.DeletionProtection = false; return a })
	require.NoError(t, err)
	assert.Equal(t, false, b.inv.Find("aws:lb/loadBalancer:LoadBalancer", region+"-ingress").Get("enableDeletionProtection"))
	assert.Equal(t, true, b.inv.Find("aws:s3/bucketV2:BucketV2", region+"-ingress-access-logs").Get("forceDestroy"))
}

func TestAccessLogBucket(t *testing.T) {
	b, err := build(t, -1, nil)
	require.NoError(t, err)
	name := region + "-ingress-access-logs"
	sse := b.inv.Find("aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", name)
	require.NotNil(t, sse)
	assert.Equal(t, "AES256", sse.String("rules.0.applyServerSideEncryptionByDefault.sseAlgorithm"), "ELB delivers only to SSE-S3 buckets")
	lc := b.inv.Find("aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", name)
	require.NotNil(t, lc)
	assert.EqualValues(t, 90, lc.Get("rules.0.expiration.days"))
	assert.Equal(t, "Enabled", lc.String("rules.0.status"))
	// Versioned for the replication to the central log bucket: what the
	// expiry leaves behind goes too.
	assert.Equal(t, "Enabled", b.inv.Find("aws:s3/bucketVersioningV2:BucketVersioningV2", name).String("versioningConfiguration.status"))
	assert.EqualValues(t, 1, lc.Get("rules.0.noncurrentVersionExpiration.noncurrentDays"))
	assert.Equal(t, true, lc.Get("rules.1.expiration.expiredObjectDeleteMarker"))
	assert.Nil(t, lc.Get("rules.1.expiration.days"))
	pab := b.inv.Find("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", name)
	require.NotNil(t, pab)
	for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		assert.Equal(t, true, pab.Get(k), k)
	}
	own := b.inv.Find("aws:s3/bucketOwnershipControls:BucketOwnershipControls", name)
	require.NotNil(t, own)
	assert.Equal(t, "BucketOwnerEnforced", own.String("rule.objectOwnership"))
	pol := b.inv.Find("aws:s3/bucketPolicy:BucketPolicy", name)
	assert.Contains(t, pol.String("policy"), `"aws:SecureTransport":"false"`)
	assert.Contains(t, pol.String("policy"), "arn:aws:iam::156460612806:root")
}

// HTTPS from CloudFront's prefix list only, out only to the pods' port in
// the VPC; the nodes admit the load balancer on that port.
func TestSecurityGroups(t *testing.T) {
	b, err := build(t, -1, nil)
	require.NoError(t, err)
	sg := b.inv.Find("aws:ec2/securityGroup:SecurityGroup", region+"-ingress")
	require.NotNil(t, sg)
	assert.Nil(t, sg.Get("ingress"), "no inline rules")
	answer, ok, err := lookups.Answer(lookups.ManagedPrefixList, map[string]any{"name": ingress.CloudFrontPrefixList}, region)
	require.True(t, ok)
	require.NoError(t, err)

	var in, out []*plan.Resource
	for _, r := range b.inv.OfType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
		if r.Name == region+"-ingress-https-from-cloudfront" {
			in = append(in, r)
		}
	}
	out = b.inv.OfType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
	require.Len(t, in, 1)
	require.Len(t, out, 1)
	assert.Equal(t, answer["id"], in[0].String("prefixListId"))
	assert.EqualValues(t, 443, in[0].Get("fromPort"))
	assert.EqualValues(t, 443, in[0].Get("toPort"))
	assert.Nil(t, in[0].Get("cidrIpv4"))
	assert.Equal(t, vpcCidr, out[0].String("cidrIpv4"))
	assert.EqualValues(t, workload.HTTPPort, out[0].Get("fromPort"))
	assert.EqualValues(t, workload.HTTPPort, out[0].Get("toPort"))

	pods := b.inv.Find("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", region+"-ingress-pods-from-alb")
	require.NotNil(t, pods)
	assert.Equal(t, nodeSG, pods.String("securityGroupId"))
	assert.Regexp(t, `^sg-`, pods.String("referencedSecurityGroupId"))
	assert.EqualValues(t, workload.HTTPPort, pods.Get("fromPort"))
	assert.Len(t, b.inv.OfType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"), 2, "from CloudFront, and to the pods")
}

func TestListeners(t *testing.T) {
	b, err := build(t, -1, nil)
	require.NoError(t, err)
	https := b.inv.Find("aws:lb/listener:Listener", region+"-ingress-https")
	require.NotNil(t, https)
	assert.Equal(t, "HTTPS", https.String("protocol"))
	assert.Equal(t, ingress.SSLPolicy, https.String("sslPolicy"))
	assert.Equal(t, certArn, https.String("certificateArn"))
	assert.Equal(t, "fixed-response", https.String("defaultActions.0.type"), "without a matching rule (and the header), 403")
	assert.Equal(t, "403", https.String("defaultActions.0.fixedResponse.statusCode"))
	http := b.inv.Find("aws:lb/listener:Listener", region+"-ingress-http")
	require.NotNil(t, http)
	assert.Equal(t, "redirect", http.String("defaultActions.0.type"))
	assert.Equal(t, "HTTPS", http.String("defaultActions.0.redirect.protocol"))
	assert.Len(t, b.inv.OfType("aws:lb/listener:Listener"), 2)
}

// Each rule matches its service's paths AND the origin header with the
// secret, which is marked secret; forwards to its target groups.
func TestRulesRequireTheOriginSecret(t *testing.T) {
	b, err := build(t, 10, nil)
	require.NoError(t, err)
	rules := b.inv.OfType("aws:lb/listenerRule:ListenerRule")
	require.Len(t, rules, len(services))
	tgArn := func(svc string) string {
		return b.inv.Find("aws:lb/targetGroup:TargetGroup", region+"-ingress-"+svc).URN
	}
	for _, r := range rules {
		svc := r.String("tags.service")
		assert.Equal(t, ingress.Paths[svc], toStrings(r.Get("conditions.0.pathPattern.values")), r.Name)
		assert.Equal(t, ingress.OriginHeader, r.String("conditions.1.httpHeader.httpHeaderName"))
		assert.Equal(t, "[secret]", r.Get("conditions.1.httpHeader.values.0"), "the secret is marked secret")
		// The plain value is the secret itself.
		hv, secret := plainInput(r.Inputs["conditions"].ArrayValue()[1].ObjectValue()["httpHeader"].ObjectValue()["values"].ArrayValue()[0])
		assert.True(t, secret)
		assert.Equal(t, originValue, hv.StringValue(), "the header's value is the origin secret")
		groups := r.Get("actions.0.forward.targetGroups").([]any)
		assert.True(t, b.inv.WaitsFor(r, b.inv.Lookup(tgArn(workload.ServiceName(svc)))))
		if svc == "order" {
			require.Len(t, groups, 2)
			assert.EqualValues(t, 90, groups[0].(map[string]any)["weight"])
			assert.EqualValues(t, 10, groups[1].(map[string]any)["weight"])
			assert.True(t, b.inv.WaitsFor(r, b.inv.Lookup(tgArn("order-canary"))))
		} else {
			require.Len(t, groups, 1)
			assert.EqualValues(t, 100, groups[0].(map[string]any)["weight"])
		}
	}
	// Nothing else carries the secret in plain text.
	for _, r := range b.inv.Resources {
		raw, err := json.Marshal(plan.Redact(r.Inputs))
		require.NoError(t, err)
		assert.NotContains(t, string(raw), originValue, "%s %s", r.Type, r.Name)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}

func TestTargetGroups(t *testing.T) {
	b, err := build(t, 10, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"auth", "order", "order-canary", "product", "user"}, b.tgs)
	tgs := b.inv.OfType("aws:lb/targetGroup:TargetGroup")
	require.Len(t, tgs, 5)
	for _, tg := range tgs {
		assert.Equal(t, "ip", tg.String("targetType"), tg.Name)
		assert.EqualValues(t, workload.HTTPPort, tg.Get("port"), tg.Name)
		assert.Equal(t, "/readyz", tg.String("healthCheck.path"), tg.Name)
		assert.EqualValues(t, ingress.DeregistrationDelaySeconds, tg.Get("deregistrationDelay"), tg.Name)
		assert.LessOrEqual(t, len(tg.String("name")), 32, tg.Name)
	}
}

// The controller: pinned chart, told its cluster, region and VPC, its own
// role binding only this component's target groups; a binding per Service.
func TestControllerAndBindings(t *testing.T) {
	b, err := build(t, 10, nil)
	require.NoError(t, err)
	rel := b.inv.Find("kubernetes:helm.sh/v3:Release", region+"-ingress-lb-controller")
	require.NotNil(t, rel)
	assert.Equal(t, ingress.ControllerChartVersion, rel.String("version"))
	assert.Equal(t, "ecommerce-test-eu-west-1", rel.String("values.clusterName"))
	assert.Equal(t, region, rel.String("values.region"))
	assert.Equal(t, "vpc-0123456789abcdef0", rel.String("values.vpcId"))
	assert.Equal(t, false, rel.Get("values.enableCertManager"))
	assert.Equal(t, true, rel.Get("values.keepTLSSecret"), "the webhook certificate survives renders")
	assert.Contains(t, rel.String("values.serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn"), ":role/"+region+"-ingress-lb-controller")

	role := b.inv.Find("aws:iam/role:Role", region+"-ingress-lb-controller")
	require.NotNil(t, role)
	assert.Contains(t, role.String("assumeRolePolicy"), "system:serviceaccount:kube-system:aws-load-balancer-controller")
	pol := b.inv.Find("aws:iam/rolePolicy:RolePolicy", region+"-ingress-lb-controller")
	require.NotNil(t, pol)
	for _, tg := range b.inv.OfType("aws:lb/targetGroup:TargetGroup") {
		assert.Contains(t, pol.String("policy"), tg.String("name"), "may bind %s", tg.Name)
	}

	bindings := b.inv.OfType("kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding")
	require.Len(t, bindings, 5)
	for _, tgb := range bindings {
		svc := tgb.String("metadata.name")
		tg := b.inv.Find("aws:lb/targetGroup:TargetGroup", region+"-ingress-"+svc)
		require.NotNil(t, tg, svc)
		assert.Equal(t, svc, tgb.String("spec.serviceRef.name"))
		assert.EqualValues(t, workload.ServicePort, tgb.Get("spec.serviceRef.port"))
		assert.Equal(t, "ip", tgb.String("spec.targetType"))
		assert.Contains(t, tgb.String("spec.targetGroupARN"), ":targetgroup/"+tg.String("name")+"/")
		assert.True(t, b.inv.WaitsFor(tgb, rel), "%s waits for the controller's webhook", svc)
		assert.True(t, b.inv.WaitsFor(tgb, b.inv.Find("kubernetes:core/v1:Namespace", region+"-"+strings.TrimSuffix(svc, "-canary"))), "%s waits for its workload", svc)
		kube := b.inv.ProviderOf(tgb)
		require.NotNil(t, kube)
		assert.Equal(t, "kube", kube.Name)
	}
}

func TestChildrenParentedAndRegional(t *testing.T) {
	b, err := build(t, 10, nil)
	require.NoError(t, err)
	comp := b.inv.Find("ecommerce:ingress:Ingress", region+"-ingress")
	require.NotNil(t, comp)
	provider := b.inv.Find("pulumi:providers:aws", "aws-"+region)
	for _, r := range b.inv.Descendants(comp) {
		assert.Equal(t, comp.URN, r.Parent, "%s %s is a direct child", r.Type, r.Name)
		if r.Custom && !strings.HasPrefix(r.Type, "kubernetes:") {
			assert.Contains(t, r.Provider, provider.URN, "%s %s uses the region's provider", r.Type, r.Name)
			assert.Equal(t, region, r.Region, "%s %s", r.Type, r.Name)
		}
	}
}

func TestRejectsBadArgsBeforeCreating(t *testing.T) {
	for name, c := range map[string]struct {
		mutate func(a *ingress.Args) *ingress.Args
		field  string
	}{
		"nil":            {func(*ingress.Args) *ingress.Args { return nil }, "Args"},
		"no secret":      {func(a *ingress.Args) *ingress.Args { a.OriginSecret = nil; return a }, "OriginSecret"},
		"no cert":        {func(a *ingress.Args) *ingress.Args { a.CertificateArn = nil; return a }, "CertificateArn"},
		"bad cidr":       {func(a *ingress.Args) *ingress.Args { a.VpcCidr = "10.0.0.0"; return a }, "VpcCidr"},
		"no retention":   {func(a *ingress.Args) *ingress.Args { a.AccessLogRetentionDays = 0; return a }, "AccessLogRetentionDays"},
		"unknown":        {func(a *ingress.Args) *ingress.Args { a.Backends[0].Service = "billing"; return a }, "Backends[0].Service"},
		"twice":          {func(a *ingress.Args) *ingress.Args { a.Backends[1].Service = "auth"; return a }, "Backends[1].Service"},
		"heavy canary":   {func(a *ingress.Args) *ingress.Args { a.Backends[3].CanaryWeight = 101; return a }, "Backends[3].CanaryWeight"},
		"canary no svc":  {func(a *ingress.Args) *ingress.Args { a.Backends[0].CanaryWeight = 5; return a }, "Backends[0].CanaryWeight"},
		"long name":      {func(a *ingress.Args) *ingress.Args { a.Backends[0].ServiceName = strings.Repeat("a", 24); return a }, "Backends[0].ServiceName"},
		"no provider":    {func(a *ingress.Args) *ingress.Args { a.Cluster.Provider = nil; return a }, "Cluster.Provider"},
		"no node group":  {func(a *ingress.Args) *ingress.Args { a.Cluster.NodeSecurityGroupID = nil; return a }, "Cluster.NodeSecurityGroupID"},
		"bad account":    {func(a *ingress.Args) *ingress.Args { a.AccountID = "12"; return a }, "AccountID"},
		"no backends":    {func(a *ingress.Args) *ingress.Args { a.Backends = nil; return a }, "Backends"},
		"no workload":    {func(a *ingress.Args) *ingress.Args { a.Backends[2].Workload = nil; return a }, "Backends[2].Workload"},
		"no public nets": {func(a *ingress.Args) *ingress.Args { a.PublicSubnetIDs = nil; return a }, "PublicSubnetIDs"},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := build(t, 10, c.mutate)
			require.Error(t, err)
			assert.ErrorContains(t, err, c.field+":")
			for _, r := range b.inv.Resources {
				assert.NotContains(t, []string{"ecommerce:ingress:Ingress"}, r.Type, "nothing created")
				assert.False(t, strings.HasPrefix(r.Type, "aws:lb/"), fmt.Sprintf("%s created", r.Type))
			}
		})
	}
}
