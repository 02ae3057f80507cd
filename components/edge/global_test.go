package edge_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/edge"
	"github.com/example/ecommerce-platform/stacks/plan"
)

// runGlobal builds the global half with a provider per region plus
// us-east-1 and the random provider, as the stack does.
func runGlobal(t *testing.T, args func(providers map[string]*aws.Provider) *edge.GlobalArgs) (*plan.Inventory, *edge.Global, error) {
	t.Helper()
	var g *edge.Global
	inv, err := plan.Run("ecommerce", "test", nil, func(ctx *pulumi.Context) error {
		providers := map[string]*aws.Provider{}
		for _, r := range []string{"us-east-1", "eu-west-1", "ap-south-1"} {
			p, err := aws.NewProvider(ctx, "aws-"+r, &aws.ProviderArgs{
				Region:            pulumi.String(r),
				AllowedAccountIds: pulumi.StringArray{pulumi.String(plan.TestAccount)},
			})
			if err != nil {
				return err
			}
			providers[r] = p
		}
		rnd, err := random.NewProvider(ctx, "random", &random.ProviderArgs{})
		if err != nil {
			return err
		}
		g, err = edge.NewGlobal(ctx, "edge", args(providers), pulumi.Provider(rnd))
		return err
	})
	return inv, g, err
}

func goodArgs(providers map[string]*aws.Provider) *edge.GlobalArgs {
	return &edge.GlobalArgs{
		Name:             "ecommerce-prod",
		AccountID:        plan.TestAccount,
		Domain:           "shop.example.com",
		APIHost:          "api.shop.example.com",
		Regions:          []string{"eu-west-1", "ap-south-1"},
		RegionProviders:  providers,
		EdgeProvider:     providers[edge.Region],
		WafRateLimit:     2000,
		LogRetentionDays: 365,
	}
}

func TestCertificatesLiveWhereTheirUsersAre(t *testing.T) {
	inv, g, err := runGlobal(t, goodArgs)
	require.NoError(t, err)
	certs := inv.OfType("aws:acm/certificate:Certificate")
	require.Len(t, certs, 3, "CloudFront's and one per region")
	byName := map[string]*plan.Resource{}
	for _, c := range certs {
		byName[c.Name] = c
		assert.Equal(t, "DNS", c.Get("validationMethod"), c.Name)
	}
	assert.Equal(t, "us-east-1", byName["cert-edge"].Region, "CloudFront reads certificates from us-east-1 only")
	assert.Equal(t, "api.shop.example.com", byName["cert-edge"].Get("domainName"))
	for _, r := range []string{"eu-west-1", "ap-south-1"} {
		c := byName["cert-"+r]
		require.NotNil(t, c, r)
		assert.Equal(t, r, c.Region, "a load balancer takes a certificate of its own region")
		assert.Equal(t, "api."+r+".shop.example.com", c.Get("domainName"))
		assert.Equal(t, []any{"origin.api.shop.example.com"}, c.Get("subjectAlternativeNames"),
			"CloudFront sends the global origin name as Host")
	}

	// Each certificate is waited for in its own region, with the record
	// of every name it carries.
	records := map[string]*plan.Resource{}
	for _, r := range inv.OfType("aws:route53/record:Record") {
		records[r.URN] = r
		assert.Equal(t, "CNAME", r.Get("type"))
	}
	require.Len(t, records, 4, "one per distinct name: the edge's, two regions', and the global origin's shared by both")
	validations := inv.OfType("aws:acm/certificateValidation:CertificateValidation")
	require.Len(t, validations, 3)
	for _, v := range validations {
		cert := byName[v.Name]
		require.NotNil(t, cert, v.Name)
		assert.Equal(t, cert.Region, v.Region, v.Name)
		assert.True(t, inv.WaitsFor(v, cert), "%s waits for its certificate", v.Name)
		fqdns, _ := v.Get("validationRecordFqdns").([]any)
		names := []string{cert.String("domainName")}
		for _, s := range cert.Get("subjectAlternativeNames").([]any) {
			names = append(names, s.(string))
		}
		require.Len(t, fqdns, len(names), v.Name)
		for i, f := range fqdns {
			assert.True(t, strings.HasSuffix(f.(string), "."+names[i]), "%s: %s validates %s", v.Name, f, names[i])
		}
	}
	assert.Len(t, g.RegionalCertificates, 2)
	assert.NotContains(t, g.RegionalCertificates, "us-east-1")
}

func TestZoneCreatedOrTaken(t *testing.T) {
	inv, _, err := runGlobal(t, goodArgs)
	require.NoError(t, err)
	zones := inv.OfType("aws:route53/zone:Zone")
	require.Len(t, zones, 1)
	assert.Equal(t, "shop.example.com", zones[0].Get("name"))
	for _, r := range inv.OfType("aws:route53/record:Record") {
		assert.True(t, inv.WaitsFor(r, zones[0]), "%s is in the created zone", r.Name)
	}

	inv, _, err = runGlobal(t, func(p map[string]*aws.Provider) *edge.GlobalArgs {
		a := goodArgs(p)
		a.HostedZoneID = "Z0123456789ABCDEFGHIJ"
		return a
	})
	require.NoError(t, err)
	assert.Empty(t, inv.OfType("aws:route53/zone:Zone"), "an existing zone is taken by id, not looked up or created")
	for _, r := range inv.OfType("aws:route53/record:Record") {
		assert.Equal(t, "Z0123456789ABCDEFGHIJ", r.Get("zoneId"), r.Name)
	}
}

func TestWebACLIsCloudFrontScopedAndLogged(t *testing.T) {
	inv, _, err := runGlobal(t, goodArgs)
	require.NoError(t, err)
	acls := inv.OfType("aws:wafv2/webAcl:WebAcl")
	require.Len(t, acls, 1)
	acl := acls[0]
	assert.Equal(t, "CLOUDFRONT", acl.Get("scope"))
	assert.Equal(t, edge.Region, acl.Region)
	rules, _ := acl.Get("rules").([]any)
	require.Len(t, rules, len(edge.ManagedRuleGroups)+1)
	priorities := map[float64]bool{}
	var managed []string
	var limit any
	for _, r := range rules {
		m := r.(map[string]any)
		p := m["priority"].(float64)
		assert.False(t, priorities[p], "priority %v is used once", p)
		priorities[p] = true
		stmt := m["statement"].(map[string]any)
		if mg, ok := stmt["managedRuleGroupStatement"].(map[string]any); ok {
			managed = append(managed, mg["name"].(string))
			assert.Contains(t, m["overrideAction"], "none", "%s blocks (not overridden to count)", mg["name"])
		}
		if rb, ok := stmt["rateBasedStatement"].(map[string]any); ok {
			limit = rb["limit"]
			assert.Equal(t, "IP", rb["aggregateKeyType"])
			assert.Contains(t, m["action"], "block")
		}
	}
	assert.ElementsMatch(t, edge.ManagedRuleGroups, managed)
	assert.EqualValues(t, 2000, limit)

	lg := inv.Find("aws:cloudwatch/logGroup:LogGroup", "waf-logs")
	require.NotNil(t, lg)
	assert.Equal(t, "aws-waf-logs-ecommerce-prod", lg.Get("name"))
	assert.EqualValues(t, 365, lg.Get("retentionInDays"))
	assert.Equal(t, edge.Region, lg.Region)
	key := inv.Find("aws:kms/key:Key", "waf-logs")
	require.NotNil(t, key)
	assert.True(t, inv.WaitsFor(lg, key), "the group is encrypted with the edge's logs key")
	assert.Contains(t, key.String("policy"), `"logs.us-east-1.amazonaws.com"`, "CloudWatch Logs of us-east-1 may use the key")

	logging := inv.OfType("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
	require.Len(t, logging, 1)
	assert.True(t, inv.WaitsFor(logging[0], acl))
	assert.True(t, inv.WaitsFor(logging[0], lg))
	policy := inv.Find("aws:cloudwatch/logResourcePolicy:LogResourcePolicy", "log-delivery")
	require.NotNil(t, policy)
	assert.True(t, inv.WaitsFor(logging[0], policy), "WAF delivers only once the group admits it")
	var doc struct {
		Statement []struct{ Principal map[string]string }
	}
	require.NoError(t, json.Unmarshal([]byte(policy.String("policyDocument")), &doc))
	assert.Equal(t, "delivery.logs.amazonaws.com", doc.Statement[0].Principal["Service"])
	redacted, _ := logging[0].Get("redactedFields").([]any)
	assert.Len(t, redacted, len(edge.RedactedHeaders), "tokens and cookies stay out of the logs")

	// CloudFront's access logs: the same key, retention and delivery
	// policy.
	cdn := inv.Find("aws:cloudwatch/logGroup:LogGroup", "cdn-logs")
	require.NotNil(t, cdn)
	assert.Equal(t, edge.Region, cdn.Region)
	assert.EqualValues(t, 365, cdn.Get("retentionInDays"))
	assert.True(t, inv.WaitsFor(cdn, key))
	assert.True(t, inv.WaitsFor(policy, cdn), "the delivery policy admits CloudFront's group too")
}

func TestOriginSecretIsGeneratedAndSecret(t *testing.T) {
	inv, g, err := runGlobal(t, goodArgs)
	require.NoError(t, err)
	pw := inv.Find("random:index/randomPassword:RandomPassword", "origin-secret")
	require.NotNil(t, pw)
	assert.EqualValues(t, edge.OriginSecretLength, pw.Get("length"))
	assert.Equal(t, false, pw.Get("special"), "a header value: letters and digits")
	assert.NotContains(t, pw.URN, "us-east-1", "named without a region: a failover keeps it")
	assert.Empty(t, pw.Region, "it belongs to no region")
	require.NotNil(t, g)
}

func TestEveryChildIsParentedAndOnAnExplicitProvider(t *testing.T) {
	inv, _, err := runGlobal(t, goodArgs)
	require.NoError(t, err)
	comp := inv.Find("ecommerce:edge:Edge", "edge")
	require.NotNil(t, comp)
	for _, r := range inv.Descendants(comp) {
		require.NotNil(t, inv.ProviderOf(r), "%s %s has an explicit provider", r.Type, r.Name)
		if strings.HasPrefix(r.Type, "aws:") && r.Type != "aws:acm/certificate:Certificate" && r.Type != "aws:acm/certificateValidation:CertificateValidation" {
			assert.Equal(t, edge.Region, r.Region, "%s %s", r.Type, r.Name)
		}
	}
}

func TestGlobalChecksArgsFirst(t *testing.T) {
	cases := []struct {
		field string
		edit  func(a *edge.GlobalArgs)
	}{
		{"Domain", func(a *edge.GlobalArgs) { a.Domain = "Shop.Example.com" }},
		{"APIHost", func(a *edge.GlobalArgs) { a.APIHost = "api.elsewhere.example.org" }},
		{"HostedZoneID", func(a *edge.GlobalArgs) { a.HostedZoneID = "/hostedzone/Z1" }},
		{"Regions", func(a *edge.GlobalArgs) { a.Regions = nil }},
		{"RegionProviders", func(a *edge.GlobalArgs) { a.Regions = append(a.Regions, "us-west-2") }},
		{"WafRateLimit", func(a *edge.GlobalArgs) { a.WafRateLimit = 5 }},
		{"LogRetentionDays", func(a *edge.GlobalArgs) { a.LogRetentionDays = 10 }},
		{"Name", func(a *edge.GlobalArgs) { a.Name = "" }},
		{"EdgeProvider", func(a *edge.GlobalArgs) { a.EdgeProvider = nil }},
	}
	for _, tc := range cases {
		t.Run(tc.field, func(t *testing.T) {
			inv, _, err := runGlobal(t, func(p map[string]*aws.Provider) *edge.GlobalArgs {
				a := goodArgs(p)
				tc.edit(a)
				return a
			})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.field+":")
			assert.True(t, inv.OnlyProviders(), "nothing is created")
		})
	}
}
