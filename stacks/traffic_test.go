package stacks_test

// The deployment models (issue #10) and the edge's share of the write path
// (issue #14), over the shipped stacks and the other combinations.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/edge"
	"github.com/example/ecommerce-platform/components/edgefn"
	"github.com/example/ecommerce-platform/components/ingress"
	"github.com/example/ecommerce-platform/stacks/plan"
)

const (
	r53Check   = "aws:route53/healthCheck:HealthCheck"
	cfDist     = "aws:cloudfront/distribution:Distribution"
	cfFunction = "aws:cloudfront/function:Function"
)

// named returns the records of one DNS name.
func named(inv *plan.Inventory, name string) []*plan.Resource {
	return inv.Where(r53Record, "name", name)
}

// albDNS returns each region's load balancer's DNS name as the mocks
// answered it, through the regional record that aliases it.
func albDNS(t *testing.T, run *stackRun) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, rc := range run.cfg.Regions {
		recs := named(run.inv, edge.RegionalHost(rc.Name, run.cfg.Traffic.Domain))
		require.Len(t, recs, 1, rc.Name)
		alb := regionLB(t, run.inv, rc.Name)
		assert.True(t, run.inv.WaitsFor(recs[0], alb), "%s aliases %s's load balancer", recs[0].Name, rc.Name)
		out[rc.Name] = recs[0].String("aliases.0.name")
	}
	return out
}

// TestRecordsPerModel: what each model answers for the global origin name,
// which checks exist, and what CloudFront connects to. dev is
// single-region, staging primary-standby, prod active-active; the other
// combinations are built from them.
func TestRecordsPerModel(t *testing.T) {
	cases := []struct {
		name   string
		stack  string
		change func(cfg map[string]string)
		model  string
	}{
		{"dev", "dev", nil, edge.SingleRegion},
		{"staging", "staging", nil, edge.PrimaryStandby},
		{"prod", "prod", nil, edge.ActiveActive},
		{"staging as active-active", "staging", func(c map[string]string) { c["ecommerce:model"] = edge.ActiveActive }, edge.ActiveActive},
		{"prod as primary-standby", "prod", func(c map[string]string) { c["ecommerce:model"] = edge.PrimaryStandby }, edge.PrimaryStandby},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run := planChanged(t, tc.stack, tc.change) // cached when unchanged
			inv, cfg := run.inv, run.cfg
			require.Equal(t, tc.model, cfg.Traffic.Model)
			albs := albDNS(t, run)
			origin := named(inv, edge.OriginHost(cfg.APIHost()))
			checks := inv.OfType(r53Check)
			calculated := map[string]*plan.Resource{}
			for _, c := range checks {
				if c.Get("type") == "CALCULATED" {
					calculated[c.String("referenceName")] = c
				}
			}
			regions := len(cfg.Regions)
			switch tc.model {
			case edge.SingleRegion:
				require.Len(t, origin, 1)
				assert.Equal(t, albs[cfg.MasterRegion], origin[0].Get("aliases.0.name"), "a plain alias to the one load balancer")
				assert.Nil(t, origin[0].Get("setIdentifier"))
				assert.Empty(t, checks, "nothing to choose between, nothing to check")
			case edge.ActiveActive:
				require.Len(t, origin, regions)
				assert.Len(t, calculated, regions)
				seen := map[string]bool{}
				for _, r := range origin {
					region := r.String("latencyRoutingPolicies.0.region")
					seen[region] = true
					assert.Equal(t, region, r.Get("setIdentifier"))
					assert.Equal(t, albs[region], r.Get("aliases.0.name"), "%s answers with its own load balancer", region)
					require.NotNil(t, calculated[region], region)
					assert.True(t, inv.WaitsFor(r, calculated[region]), "%s's latency record is tied to its check", region)
				}
				assert.Len(t, seen, regions)
			case edge.PrimaryStandby:
				require.Len(t, origin, 2)
				assert.Len(t, calculated, regions)
				byRole := map[string]*plan.Resource{}
				for _, r := range origin {
					byRole[r.String("failoverRoutingPolicies.0.type")] = r
				}
				primary, secondary := byRole[edge.Primary], byRole[edge.Secondary]
				require.NotNil(t, primary)
				require.NotNil(t, secondary)
				assert.Equal(t, albs[cfg.MasterRegion], primary.Get("aliases.0.name"), "the master is primary")
				assert.True(t, inv.WaitsFor(primary, calculated[cfg.MasterRegion]))
				standbys := cfg.Ordered()[1:]
				if len(standbys) == 1 {
					assert.Equal(t, albs[standbys[0].Name], secondary.Get("aliases.0.name"))
					assert.True(t, inv.WaitsFor(secondary, calculated[standbys[0].Name]))
				} else {
					set := named(inv, edge.StandbyHost(cfg.APIHost()))
					assert.Equal(t, edge.StandbyHost(cfg.APIHost()), secondary.Get("aliases.0.name"))
					assert.Equal(t, true, secondary.Get("aliases.0.evaluateTargetHealth"), "healthy while a standby is")
					require.Len(t, set, len(standbys))
					for _, r := range set {
						region := r.String("latencyRoutingPolicies.0.region")
						assert.NotEqual(t, cfg.MasterRegion, region)
						assert.True(t, inv.WaitsFor(r, calculated[region]))
					}
				}
			}

			// Every region's health follows each of its services' targets,
			// read from an alarm in that region.
			for region, calc := range calculated {
				children, _ := calc.Get("childHealthchecks").([]any)
				assert.Len(t, children, 4, region)
				// Each child reads a service's healthy-targets alarm in
				// the region, which notifies the region's alarm topic.
				checks := inv.Where("aws:route53/healthCheck:HealthCheck", "cloudwatchAlarmRegion", region)
				assert.Len(t, checks, 4, "an alarm check per service of %s", region)
				for _, c := range checks {
					assert.Equal(t, "CLOUDWATCH_METRIC", c.String("type"), c.Name)
					matched := inRegion(inv.Where("aws:cloudwatch/metricAlarm:MetricAlarm", "name", c.String("cloudwatchAlarmName")), region)
					require.Len(t, matched, 1, "%s reads an alarm of %s", c.Name, region)
					a := matched[0]
					assert.True(t, strings.HasSuffix(a.String("name"), "-healthy-targets"), a.Name)
					assert.Contains(t, a.String("dimensions.TargetGroup"), "targetgroup/", a.Name)
					assert.True(t, inv.WaitsFor(c, a), "%s waits for its alarm", c.Name)
					assert.Len(t, a.Get("alarmActions"), 1, "%s pages through the region's topic", a.Name)
				}
			}

			// CloudFront: the global origin name, the API host's aliases.
			dists := inv.OfType(cfDist)
			require.Len(t, dists, 1)
			d := dists[0]
			assert.Equal(t, edge.OriginHost(cfg.APIHost()), d.Get("origins.0.domainName"))
			assert.Equal(t, []any{cfg.APIHost()}, d.Get("aliases"))
			assert.Equal(t, cfg.PriceClass(), d.Get("priceClass"))
			api := named(inv, cfg.APIHost())
			require.Len(t, api, 2, "A and AAAA")
			for _, r := range api {
				assert.True(t, inv.WaitsFor(r, d), "%s %s aliases CloudFront", r.Name, r.String("type"))
			}
		})
	}
}

// The edge and the load balancers agree: CloudFront sends the secret the
// listeners require, in the header they check, over TLS to a name every
// regional certificate carries, with the certificate and web ACL of
// us-east-1.
func TestCloudFrontReachesEveryLoadBalancer(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			run := planStack(t, stack)
			inv, cfg := run.inv, run.cfg
			d := inv.OfType(cfDist)[0]
			assert.Equal(t, plan.Secret, d.Get("origins.0.customHeaders.0.value"))
			assert.Equal(t, ingress.OriginHeader, d.Get("origins.0.customHeaders.0.name"))
			secret := inv.Find("random:index/randomPassword:RandomPassword", "origin-secret")
			require.NotNil(t, secret)
			assert.True(t, inv.WaitsFor(d, secret), "CloudFront sends the stack's origin secret")
			for _, c := range inv.OfType(acmCert) {
				if c.Name == "cert-edge" {
					continue
				}
				assert.Contains(t, c.Get("subjectAlternativeNames"), d.Get("origins.0.domainName"), "%s carries the name CloudFront sends as Host", c.Name)
			}
			edgeCert := inv.Find(acmValidation, "cert-edge")
			require.NotNil(t, edgeCert)
			assert.True(t, inv.WaitsFor(d, edgeCert), "CloudFront waits for its certificate to be issued")
			assert.Equal(t, "us-east-1", edgeCert.Region)
			assert.Contains(t, d.String("webAclId"), ":wafv2:us-east-1:")
			assert.Equal(t, "TLSv1.2_2021", d.Get("viewerCertificate.minimumProtocolVersion"))
			assert.Equal(t, cfg.Traffic.Model != edge.SingleRegion, len(inv.OfType(r53Check)) > 0)
		})
	}
}

// TestEdgeRoutesWritesToTheMaster: in prod (active-active) the edge
// functions send writes, and a recent writer's reads, to the master
// region's own name, on every behaviour; the name follows masterRegion on
// failover, in place. Elsewhere there are no functions: every request
// already goes to the master.
func TestEdgeRoutesWritesToTheMaster(t *testing.T) {
	var urns map[string]string
	for _, master := range []string{"us-east-1", "eu-west-1", "ap-south-1"} {
		run := planChanged(t, "prod", setMaster(master))
		inv := run.inv
		fns := inv.OfType(cfFunction)
		require.Len(t, fns, 2, "viewer request and viewer response")
		want := fmt.Sprintf("api.%s.%s", master, run.cfg.Traffic.Domain)
		byName := map[string]*plan.Resource{}
		for _, f := range fns {
			byName[f.Name] = f
			assert.Equal(t, edgefn.Runtime, f.Get("runtime"))
			assert.Equal(t, true, f.Get("publish"))
		}
		router := byName["write-router"]
		require.NotNil(t, router)
		code := router.String("code")
		assert.Contains(t, code, "var MASTER_ORIGIN = '"+want+"';", "writes go to %s", want)
		for _, other := range run.cfg.Regions {
			if other.Name != master {
				assert.NotContains(t, code, "api."+other.Name+".", "no other region's name")
			}
		}
		assert.Contains(t, byName["read-your-writes"].String("code"), fmt.Sprintf("STICKY_SECONDS = %d;", run.cfg.Traffic.StickySeconds))

		// The master's name exists and is what the master's certificate
		// is issued for.
		require.Len(t, named(inv, want), 1)
		assert.Equal(t, want, inv.Find(acmCert, "cert-"+master).Get("domainName"))

		d := inv.OfType(cfDist)[0]
		for _, b := range []string{"defaultCacheBehavior", "orderedCacheBehaviors.0"} {
			assocs, _ := d.Get(b + ".functionAssociations").([]any)
			require.Len(t, assocs, 2, b)
			events := map[string]bool{}
			for _, a := range assocs {
				events[a.(map[string]any)["eventType"].(string)] = true
			}
			assert.Equal(t, map[string]bool{"viewer-request": true, "viewer-response": true}, events, b)
		}
		assert.True(t, inv.WaitsFor(d, router))
		products := inv.Find("aws:cloudfront/cachePolicy:CachePolicy", "products")
		assert.Contains(t, products.Get("parametersInCacheKeyAndForwardedToOrigin.cookiesConfig.cookies.items"), edgefn.StickyCookie,
			"a recent writer's reads miss the shared cached copy")

		// Failover rewrites the functions in place: same URNs.
		got := map[string]string{}
		for _, f := range fns {
			got[f.Name] = f.URN
		}
		if urns != nil {
			assert.Equal(t, urns, got, "the functions keep their URNs across a failover")
		}
		urns = got
	}
	for _, stack := range []string{"dev", "staging"} {
		run := planStack(t, stack)
		assert.Empty(t, run.inv.OfType(cfFunction), "%s: no write routing outside active-active", stack)
		d := run.inv.OfType(cfDist)[0]
		assert.Nil(t, d.Get("defaultCacheBehavior.functionAssociations"), stack)
	}
}

// In primary-standby a failover swaps the roles of the two failover
// records in place: the same records, the new master primary.
func TestFailoverSwapsThePrimaryRecord(t *testing.T) {
	for _, master := range []string{"us-east-1", "eu-west-1"} {
		run := planChanged(t, "staging", setMaster(master))
		albs := albDNS(t, run)
		for _, r := range named(run.inv, edge.OriginHost(run.cfg.APIHost())) {
			role := r.String("failoverRoutingPolicies.0.type")
			assert.True(t, strings.HasSuffix(r.Name, strings.ToLower(role[:1])+strings.ToLower(role[1:])), "%s is named by its role %s", r.Name, role)
			if role == edge.Primary {
				assert.Equal(t, albs[master], r.Get("aliases.0.name"), "master %s is primary", master)
			} else {
				assert.NotEqual(t, albs[master], r.Get("aliases.0.name"))
			}
		}
	}
}
