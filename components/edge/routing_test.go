package edge_test

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/edge"
	"github.com/example/ecommerce-platform/components/edgefn"
	"github.com/example/ecommerce-platform/stacks/plan"
)

const (
	tRecord   = "aws:route53/record:Record"
	tCheck    = "aws:route53/healthCheck:HealthCheck"
	tAlarm    = "aws:cloudwatch/metricAlarm:MetricAlarm"
	tDist     = "aws:cloudfront/distribution:Distribution"
	tFunction = "aws:cloudfront/function:Function"
)

var services = []string{"auth", "order", "product", "user"}

// healthAlarm is a service's healthy-targets alarm as observe names it.
func healthAlarm(region, svc string) string { return "prod-" + region + "-" + svc + "-healthy-targets" }

// albOf is a region's load balancer as the ingress component exposes it,
// with its services' health alarms.
func albOf(region string) edge.Origin {
	alarms := map[string]pulumi.StringInput{}
	for _, s := range services {
		alarms[s] = pulumi.String(healthAlarm(region, s))
	}
	return edge.Origin{
		DNSName:      pulumi.String("ecommerce-prod-" + region + "-1234567890." + region + ".elb.amazonaws.com"),
		ZoneID:       pulumi.String("ZALB" + strings.ToUpper(strings.ReplaceAll(region, "-", ""))),
		HealthAlarms: alarms,
	}
}

// runRouting builds the routing of a model over regions, master first.
func runRouting(t *testing.T, model string, regions []string, edit func(a *edge.RoutingArgs)) (*plan.Inventory, *edge.Routing, error) {
	t.Helper()
	var r *edge.Routing
	inv, err := plan.Run("ecommerce", "test", nil, func(ctx *pulumi.Context) error {
		providers := map[string]*aws.Provider{}
		for _, name := range []string{"us-east-1", "eu-west-1", "ap-south-1"} {
			p, err := aws.NewProvider(ctx, "aws-"+name, &aws.ProviderArgs{
				Region:            pulumi.String(name),
				AllowedAccountIds: pulumi.StringArray{pulumi.String(plan.TestAccount)},
			})
			if err != nil {
				return err
			}
			providers[name] = p
		}
		origins := map[string]edge.Origin{}
		for _, name := range regions {
			origins[name] = albOf(name)
		}
		args := &edge.RoutingArgs{
			Name:          "ecommerce-prod",
			Model:         model,
			Domain:        "shop.example.com",
			APIHost:       "api.shop.example.com",
			ZoneID:        pulumi.String("Z0123456789ABCDEFGHIJ"),
			MasterRegion:  regions[0],
			Regions:       regions,
			Origins:       origins,
			EdgeProvider:  providers[edge.Region],
			OriginHeader:  "X-Origin-Verify",
			OriginSecret:  pulumi.ToSecret(pulumi.String("s3cr3t")).(pulumi.StringOutput),
			Certificate:   pulumi.String("arn:aws:acm:us-east-1:123456789012:certificate/edge"),
			WebACLArn:     pulumi.String("arn:aws:wafv2:us-east-1:123456789012:global/webacl/ecommerce-prod-edge/abc"),
			LogGroupArn:   pulumi.String("arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/cloudfront/ecommerce-prod"),
			PriceClass:    edge.PriceClassAll,
			StickySeconds: 5,
		}
		if edit != nil {
			edit(args)
		}
		var err error
		r, err = edge.NewRouting(ctx, "routing", args)
		return err
	})
	return inv, r, err
}

// recordsNamed returns the records answering one DNS name.
func recordsNamed(inv *plan.Inventory, name string) []*plan.Resource {
	return inv.Where(tRecord, "name", name)
}

func TestRoutingPerModel(t *testing.T) {
	three := []string{"us-east-1", "eu-west-1", "ap-south-1"}
	cases := []struct {
		model   string
		regions []string
		// records of the global origin name, and health checks
		origin, checks int
		routing        string
	}{
		{edge.SingleRegion, three[:1], 1, 0, ""},
		{edge.PrimaryStandby, three[:2], 2, 2 * (len(services) + 1), "failoverRoutingPolicies"},
		{edge.PrimaryStandby, three, 2, 3 * (len(services) + 1), "failoverRoutingPolicies"},
		{edge.ActiveActive, three[:2], 2, 2 * (len(services) + 1), "latencyRoutingPolicies"},
		{edge.ActiveActive, three, 3, 3 * (len(services) + 1), "latencyRoutingPolicies"},
	}
	for _, tc := range cases {
		t.Run(tc.model+"/"+strings.Join(tc.regions, ","), func(t *testing.T) {
			inv, r, err := runRouting(t, tc.model, tc.regions, nil)
			require.NoError(t, err)
			assert.Len(t, r.HealthChecks, tc.checks/(len(services)+1), "a check per region in multi-region models")

			// Each region's own name aliases its load balancer.
			for _, region := range tc.regions {
				recs := recordsNamed(inv, "api."+region+".shop.example.com")
				require.Len(t, recs, 1, region)
				assert.Equal(t, "ecommerce-prod-"+region+"-1234567890."+region+".elb.amazonaws.com", recs[0].Get("aliases.0.name"))
				assert.Equal(t, true, recs[0].Get("aliases.0.evaluateTargetHealth"))
			}

			origin := recordsNamed(inv, "origin.api.shop.example.com")
			require.Len(t, origin, tc.origin)
			checks := inv.OfType(tCheck)
			assert.Len(t, checks, tc.checks)
			for _, rec := range origin {
				if tc.routing == "" {
					assert.Nil(t, rec.Get("setIdentifier"), "a plain alias")
					assert.Nil(t, rec.Get("healthCheckId"))
					continue
				}
				assert.NotNil(t, rec.Get(tc.routing+".0"), "%s is routed by %s", rec.Name, tc.routing)
				hc, _ := rec.Get("healthCheckId").(string)
				evaluates, _ := rec.Get("aliases.0.evaluateTargetHealth").(bool)
				assert.True(t, hc != "" || (evaluates && strings.HasPrefix(rec.String("aliases.0.name"), "standby.")),
					"%s is tied to a health check or to a healthy standby", rec.Name)
			}
			if tc.model == edge.PrimaryStandby {
				roles := map[string]string{}
				for _, rec := range origin {
					roles[rec.String("failoverRoutingPolicies.0.type")] = rec.String("aliases.0.name")
				}
				assert.Equal(t, "ecommerce-prod-us-east-1-1234567890.us-east-1.elb.amazonaws.com", roles[edge.Primary], "the master is primary")
				if len(tc.regions) == 2 {
					assert.Contains(t, roles[edge.Secondary], "eu-west-1")
				} else {
					assert.Equal(t, "standby.origin.api.shop.example.com", roles[edge.Secondary])
					assert.Len(t, recordsNamed(inv, "standby.origin.api.shop.example.com"), len(tc.regions)-1)
				}
			}

			// The API host: A and AAAA aliases of CloudFront.
			api := recordsNamed(inv, "api.shop.example.com")
			require.Len(t, api, 2)
			types := []string{}
			for _, rec := range api {
				types = append(types, rec.String("type"))
				assert.Equal(t, edge.CloudFrontZoneID, rec.Get("aliases.0.zoneId"))
				assert.True(t, strings.HasSuffix(rec.String("aliases.0.name"), ".cloudfront.net"))
			}
			assert.ElementsMatch(t, []string{"A", "AAAA"}, types)
		})
	}
}

// A region is healthy while every service behind its load balancer has a
// healthy target: a check per service's alarm (in the alarm's region),
// and a calculated check needing all of them. The alarms are the
// region's own (observe); routing makes none.
func TestRegionHealthFollowsItsTargets(t *testing.T) {
	inv, _, err := runRouting(t, edge.ActiveActive, []string{"us-east-1", "eu-west-1"}, nil)
	require.NoError(t, err)
	assert.Empty(t, inv.OfType(tAlarm))
	read := map[string]bool{}
	calculated := 0
	for _, c := range inv.OfType(tCheck) {
		assert.Equal(t, edge.Region, c.Region)
		switch c.Get("type") {
		case "CLOUDWATCH_METRIC":
			region := c.String("cloudwatchAlarmRegion")
			svc := strings.TrimPrefix(c.Name, "health-"+region+"-")
			assert.Equal(t, healthAlarm(region, svc), c.String("cloudwatchAlarmName"), "%s reads its service's alarm in its region", c.Name)
			assert.Equal(t, "Unhealthy", c.Get("insufficientDataHealthStatus"))
			read[c.String("cloudwatchAlarmName")] = true
		case "CALCULATED":
			calculated++
			children, _ := c.Get("childHealthchecks").([]any)
			assert.Len(t, children, len(services))
			assert.EqualValues(t, len(services), c.Get("childHealthThreshold"), "every service must be healthy")
		default:
			t.Errorf("%s: unexpected type %v", c.Name, c.Get("type"))
		}
	}
	assert.Equal(t, 2, calculated)
	assert.Len(t, read, 2*len(services), "every service of both regions")
}

func TestDistributionFrontsTheGlobalOrigin(t *testing.T) {
	for _, model := range []string{edge.SingleRegion, edge.ActiveActive} {
		regions := []string{"us-east-1"}
		if model == edge.ActiveActive {
			regions = append(regions, "eu-west-1")
		}
		inv, _, err := runRouting(t, model, regions, nil)
		require.NoError(t, err)
		dists := inv.OfType(tDist)
		require.Len(t, dists, 1)
		d := dists[0]
		assert.Equal(t, edge.Region, d.Region)
		assert.Equal(t, []any{"api.shop.example.com"}, d.Get("aliases"))
		assert.Equal(t, "origin.api.shop.example.com", d.Get("origins.0.domainName"))
		assert.Len(t, d.Get("origins"), 1)
		assert.Nil(t, d.Get("originGroups"), "no origin group: DNS fails over, and writes could not target one")
		assert.Equal(t, "https-only", d.Get("origins.0.customOriginConfig.originProtocolPolicy"))
		assert.Equal(t, []any{"TLSv1.2"}, d.Get("origins.0.customOriginConfig.originSslProtocols"))
		assert.Equal(t, "X-Origin-Verify", d.Get("origins.0.customHeaders.0.name"))
		assert.Equal(t, plan.Secret, d.Get("origins.0.customHeaders.0.value"), "the origin secret stays secret")
		assert.Equal(t, "arn:aws:acm:us-east-1:123456789012:certificate/edge", d.Get("viewerCertificate.acmCertificateArn"))
		assert.Equal(t, "TLSv1.2_2021", d.Get("viewerCertificate.minimumProtocolVersion"))
		assert.Equal(t, "sni-only", d.Get("viewerCertificate.sslSupportMethod"))
		assert.Equal(t, "http2and3", d.Get("httpVersion"))
		assert.Equal(t, edge.PriceClassAll, d.Get("priceClass"))
		assert.Contains(t, d.String("webAclId"), ":global/webacl/")

		def := "defaultCacheBehavior"
		assert.Equal(t, edge.CachingDisabledPolicy, d.Get(def+".cachePolicyId"), "nothing but the catalogue is cached")
		assert.Equal(t, edge.AllViewerExceptHostPolicy, d.Get(def+".originRequestPolicyId"), "Authorization and Idempotency-Key reach the services")
		assert.ElementsMatch(t, edge.AllMethods, d.Get(def+".allowedMethods"))
		assert.Equal(t, "https-only", d.Get(def+".viewerProtocolPolicy"))

		products := "orderedCacheBehaviors.0"
		assert.Equal(t, edge.ProductsPath, d.Get(products+".pathPattern"))
		assert.ElementsMatch(t, []any{"GET", "HEAD"}, d.Get(products+".cachedMethods"))
		policy := inv.Find("aws:cloudfront/cachePolicy:CachePolicy", "products")
		require.NotNil(t, policy)
		assert.True(t, inv.WaitsFor(d, policy))
		key := "parametersInCacheKeyAndForwardedToOrigin."
		assert.Equal(t, "all", policy.Get(key+"queryStringsConfig.queryStringBehavior"))
		assert.Equal(t, []any{"Authorization"}, policy.Get(key+"headersConfig.headers.items"))
		assert.Equal(t, []any{edgefn.StickyCookie}, policy.Get(key+"cookiesConfig.cookies.items"), "a recent writer misses the shared copy")
		assert.EqualValues(t, edge.ProductsMaxTTL, policy.Get("maxTtl"))

		// Standard logs (v2) into the edge's log group.
		src := inv.Find("aws:cloudwatch/logDeliverySource:LogDeliverySource", "cdn-logs")
		require.NotNil(t, src)
		assert.Equal(t, "ACCESS_LOGS", src.Get("logType"))
		assert.True(t, inv.WaitsFor(src, d))
		dest := inv.Find("aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination", "cdn-logs")
		require.NotNil(t, dest)
		assert.Contains(t, dest.String("deliveryDestinationConfiguration.destinationResourceArn"), ":log-group:")
		require.NotNil(t, inv.Find("aws:cloudwatch/logDelivery:LogDelivery", "cdn-logs"))
	}
}

// In active-active the edge sends writes to the master region; in the
// other models every request already goes there, so there is no function.
func TestWriteRoutingOnlyInActiveActive(t *testing.T) {
	for _, tc := range []struct {
		model   string
		regions []string
		fns     bool
	}{
		{edge.SingleRegion, []string{"us-east-1"}, false},
		{edge.PrimaryStandby, []string{"us-east-1", "eu-west-1"}, false},
		{edge.ActiveActive, []string{"eu-west-1", "us-east-1"}, true},
	} {
		inv, r, err := runRouting(t, tc.model, tc.regions, nil)
		require.NoError(t, err)
		fns := inv.OfType(tFunction)
		d := inv.OfType(tDist)[0]
		if !tc.fns {
			assert.Empty(t, fns, tc.model)
			assert.Nil(t, d.Get("defaultCacheBehavior.functionAssociations"), tc.model)
			assert.Empty(t, r.MasterOrigin)
			continue
		}
		require.Len(t, fns, 2)
		assert.Equal(t, "api.eu-west-1.shop.example.com", r.MasterOrigin, "the master region's own name")
		byEvent := map[string]string{}
		for _, f := range fns {
			assert.Equal(t, edgefn.Runtime, f.Get("runtime"))
			assert.Equal(t, true, f.Get("publish"), "associations need the LIVE stage")
			assert.Equal(t, edge.Region, f.Region)
			if strings.Contains(f.String("code"), "updateRequestOrigin") {
				assert.Contains(t, f.String("code"), "'api.eu-west-1.shop.example.com'")
				byEvent["viewer-request"] = f.String("name")
			} else {
				assert.Contains(t, f.String("code"), "STICKY_SECONDS = 5;")
				byEvent["viewer-response"] = f.String("name")
			}
		}
		require.Len(t, byEvent, 2)
		for _, b := range []string{"defaultCacheBehavior", "orderedCacheBehaviors.0"} {
			assocs, _ := d.Get(b + ".functionAssociations").([]any)
			require.Len(t, assocs, 2, b)
			for _, a := range assocs {
				m := a.(map[string]any)
				arn := m["functionArn"].(string)
				assert.True(t, strings.HasSuffix(arn, "function/"+byEvent[m["eventType"].(string)]), "%s: %s runs %s", b, m["eventType"], arn)
			}
		}
	}
}

func TestRoutingChecksArgsFirst(t *testing.T) {
	two := []string{"us-east-1", "eu-west-1"}
	for _, tc := range []struct {
		field string
		edit  func(a *edge.RoutingArgs)
	}{
		{"Model", func(a *edge.RoutingArgs) { a.Model = edge.SingleRegion }},
		{"MasterRegion", func(a *edge.RoutingArgs) { a.MasterRegion = "ap-south-1" }},
		{"Origins", func(a *edge.RoutingArgs) { delete(a.Origins, "eu-west-1") }},
		{"Origins[eu-west-1]", func(a *edge.RoutingArgs) {
			o := a.Origins["eu-west-1"]
			o.HealthAlarms = nil
			a.Origins["eu-west-1"] = o
		}},
		{"OriginHeader", func(a *edge.RoutingArgs) { a.OriginHeader = "" }},
		{"OriginSecret", func(a *edge.RoutingArgs) { a.OriginSecret = nil }},
		{"Certificate", func(a *edge.RoutingArgs) { a.Certificate = nil }},
		{"WebACLArn", func(a *edge.RoutingArgs) { a.WebACLArn = nil }},
		{"PriceClass", func(a *edge.RoutingArgs) { a.PriceClass = "PriceClass_50" }},
		{"StickySeconds", func(a *edge.RoutingArgs) { a.StickySeconds = 0 }},
		{"EdgeProvider", func(a *edge.RoutingArgs) { a.EdgeProvider = nil }},
	} {
		t.Run(tc.field, func(t *testing.T) {
			inv, _, err := runRouting(t, edge.ActiveActive, two, tc.edit)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.field+":")
			assert.True(t, inv.OnlyProviders(), "nothing is created")
		})
	}
}
