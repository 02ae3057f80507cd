package stacks_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/appconfig"
	"github.com/example/ecommerce-platform/components/ingress"
	"github.com/example/ecommerce-platform/components/workload"
	"github.com/example/ecommerce-platform/stacks/config"
	"github.com/example/ecommerce-platform/stacks/plan"
	"github.com/example/ecommerce-platform/stacks/plan/lookups"
)

const (
	loadBalancer       = "aws:lb/loadBalancer:LoadBalancer"
	targetGroup        = "aws:lb/targetGroup:TargetGroup"
	listenerRule       = "aws:lb/listenerRule:ListenerRule"
	listener           = "aws:lb/listener:Listener"
	sgIngressRule      = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	sgEgressRule       = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
	targetGroupBinding = "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding"
)

// regionLB returns a region's one load balancer.
func regionLB(t *testing.T, inv *plan.Inventory, region string) *plan.Resource {
	t.Helper()
	lbs := inRegion(inv.OfType(loadBalancer), region)
	require.Len(t, lbs, 1, "one load balancer in %s", region)
	return lbs[0]
}

// CloudFront sends the origin secret in the header every listener rule
// checks: two names would leave every region answering 403.
func TestEdgeAndLoadBalancersAgreeOnTheOriginHeader(t *testing.T) {
	inv := planStack(t, "prod").inv
	sent := inv.OfType(cfDist)[0].String("origins.0.customHeaders.0.name")
	assert.Equal(t, ingress.OriginHeader, sent)
	rules := inv.OfType("aws:lb/listenerRule:ListenerRule")
	require.NotEmpty(t, rules)
	for _, r := range rules {
		assert.Equal(t, sent, r.String("conditions.1.httpHeader.httpHeaderName"), r.Name)
	}
}

// Every region's load balancer is internet-facing in its public subnets
// and admits HTTPS from CloudFront's origin-facing prefix list, nothing
// else; it sends only to the pods' port in its VPC.
func TestLoadBalancersAdmitOnlyCloudFront(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			run := planStack(t, stack)
			for _, rc := range run.cfg.Regions {
				alb := regionLB(t, run.inv, rc.Name)
				assert.Equal(t, false, alb.Get("internal"))
				groups, ok := alb.Get("securityGroups").([]any)
				require.True(t, ok && len(groups) == 1, "%s: one security group", alb.Name)
				sg := groups[0].(string)
				for _, s := range run.inv.OfType("aws:ec2/subnet:Subnet") {
					if s.Region == rc.Name {
						assert.Equal(t, s.String("tags.tier") == "public", run.inv.WaitsFor(alb, s), "%s in the public subnets only (%s)", alb.Name, s.Name)
					}
				}
				want, ok, err := lookups.Answer(lookups.ManagedPrefixList, map[string]any{"name": ingress.CloudFrontPrefixList}, rc.Name)
				require.True(t, ok)
				require.NoError(t, err)
				var in, out []*plan.Resource
				for _, r := range run.inv.OfType(sgIngressRule) {
					if r.String("securityGroupId") == sg {
						in = append(in, r)
					}
				}
				for _, r := range run.inv.OfType(sgEgressRule) {
					if r.String("securityGroupId") == sg {
						out = append(out, r)
					}
				}
				require.Len(t, in, 1, "%s: one ingress rule", rc.Name)
				assert.Equal(t, want["id"], in[0].String("prefixListId"), "%s: from CloudFront's list in its region", rc.Name)
				assert.EqualValues(t, 443, in[0].Get("fromPort"))
				assert.EqualValues(t, 443, in[0].Get("toPort"))
				for _, k := range []string{"cidrIpv4", "cidrIpv6", "referencedSecurityGroupId"} {
					assert.Nil(t, in[0].Get(k), k)
				}
				require.Len(t, out, 1, "%s: one egress rule", rc.Name)
				assert.Equal(t, rc.VpcCidr, out[0].String("cidrIpv4"))
				assert.EqualValues(t, workload.HTTPPort, out[0].Get("fromPort"))
				assert.EqualValues(t, workload.HTTPPort, out[0].Get("toPort"))
				group := run.inv.Find("aws:ec2/securityGroup:SecurityGroup", alb.Name)
				require.NotNil(t, group)
				assert.Nil(t, group.Get("ingress"), "%s: no inline rules", group.Name)
				assert.Nil(t, group.Get("egress"), "%s: no inline rules", group.Name)
				// The nodes (the pods) admit it on their port.
				var toPods int
				for _, r := range run.inv.OfType(sgIngressRule) {
					if r.String("referencedSecurityGroupId") == sg {
						toPods++
						assert.Equal(t, run.nodeSG[rc.Name], r.String("securityGroupId"))
						assert.EqualValues(t, workload.HTTPPort, r.Get("fromPort"))
						assert.EqualValues(t, workload.HTTPPort, r.Get("toPort"))
					}
				}
				assert.Equal(t, 1, toPods)
			}
		})
	}
}

// The pods' network policies admit the load balancer's subnets: the
// CIDRs of the public subnets it sits in.
func TestNetworkPoliciesAdmitTheLoadBalancerSubnets(t *testing.T) {
	run := planStack(t, "prod")
	for _, rc := range run.cfg.Regions {
		var public []string
		for _, s := range inRegion(run.inv.OfType("aws:ec2/subnet:Subnet"), rc.Name) {
			if s.String("tags.tier") == "public" {
				public = append(public, s.String("cidrBlock"))
			}
		}
		sort.Strings(public)
		require.Len(t, public, len(rc.AvailabilityZones))
		for _, np := range inRegion(run.inv.OfType("kubernetes:networking.k8s.io/v1:NetworkPolicy"), rc.Name) {
			if np.String("metadata.name") == "default-deny" {
				continue
			}
			var got []string
			for _, peer := range np.Get("spec.ingress.0.from").([]any) {
				if b, ok := peer.(map[string]any)["ipBlock"]; ok {
					got = append(got, b.(map[string]any)["cidr"].(string))
				}
			}
			sort.Strings(got)
			assert.Equal(t, public, got, "%s admits exactly the load balancer's subnets", np.Name)
		}
	}
}

// planRoutes rebuilds a region's listener rules as routes to the
// Kubernetes Services their target groups bind, and checks each one
// requires the origin header with the stack's secret.
func planRoutes(t *testing.T, run *stackRun, region string) (routes []ingress.Route, forwards map[string][]map[string]any) {
	t.Helper()
	svcOf := map[string]string{} // target group ARN -> Kubernetes Service
	for _, tgb := range inRegion(run.inv.OfType(targetGroupBinding), region) {
		svcOf[tgb.String("spec.targetGroupARN")] = tgb.String("spec.serviceRef.name")
	}
	forwards = map[string][]map[string]any{}
	rules := inRegion(run.inv.OfType(listenerRule), region)
	sort.Slice(rules, func(i, j int) bool {
		return rules[i].Get("priority").(float64) < rules[j].Get("priority").(float64)
	})
	secret := ""
	for _, r := range rules {
		var patterns []string
		for _, p := range r.Get("conditions.0.pathPattern.values").([]any) {
			patterns = append(patterns, p.(string))
		}
		assert.Equal(t, ingress.OriginHeader, r.String("conditions.1.httpHeader.httpHeaderName"), r.Name)
		v, isSecret := plain(r.Inputs["conditions"].ArrayValue()[1].ObjectValue()["httpHeader"].ObjectValue()["values"].ArrayValue()[0])
		require.True(t, isSecret, "%s: the origin secret is marked secret", r.Name)
		require.True(t, v.IsString() && len(v.StringValue()) >= 32, r.Name)
		if secret == "" {
			secret = v.StringValue()
		}
		assert.Equal(t, secret, v.StringValue(), "one origin secret")
		var groups []map[string]any
		svc := ""
		for _, g := range r.Get("actions.0.forward.targetGroups").([]any) {
			m := g.(map[string]any)
			name := svcOf[m["arn"].(string)]
			require.NotEmpty(t, name, "%s forwards to a target group a binding fills", r.Name)
			groups = append(groups, map[string]any{"service": name, "weight": m["weight"]})
			if svc == "" {
				svc = name
			}
		}
		forwards[svc] = groups
		routes = append(routes, ingress.Route{Service: svc, Patterns: patterns, Priority: int(r.Get("priority").(float64))})
	}
	return routes, forwards
}

// Every public path reaches its service's Kubernetes Service, and nothing
// else is routed: the listener's answer without a rule is 403.
func TestEveryPathRoutedToItsService(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			run := planStack(t, stack)
			for _, rc := range run.cfg.Regions {
				routes, forwards := planRoutes(t, run, rc.Name)
				require.Len(t, routes, len(config.Services))
				for p, want := range map[string]string{
					"/v1/auth/login": "auth", appconfig.JWKSPath: "auth", "/.well-known/jwks.json": "auth",
					"/v1/users/me": "user", "/v1/products": "product", "/v1/products/1/stock": "product",
					"/v1/orders": "order", "/v1/orders/9": "order",
					"/healthz": "", "/readyz": "", "/metrics": "", "/v1/productsX": "",
				} {
					assert.Equal(t, want, ingress.Match(routes, p), "%s %s", rc.Name, p)
				}
				for svc, groups := range forwards {
					assert.Equal(t, []map[string]any{{"service": workload.ServiceName(svc), "weight": float64(100)}}, groups, "%s %s: no canary", rc.Name, svc)
				}
				var https []*plan.Resource
				for _, l := range inRegion(run.inv.OfType(listener), rc.Name) {
					switch l.String("protocol") {
					case "HTTPS":
						https = append(https, l)
						assert.Equal(t, "fixed-response", l.String("defaultActions.0.type"))
						assert.Equal(t, "403", l.String("defaultActions.0.fixedResponse.statusCode"), "no rule, no header: 403")
						assert.Contains(t, l.String("certificateArn"), ":acm:"+rc.Name+":", "the region's certificate")
					case "HTTP":
						assert.Equal(t, "redirect", l.String("defaultActions.0.type"))
					default:
						t.Errorf("%s: listener protocol %s", l.Name, l.String("protocol"))
					}
				}
				require.Len(t, https, 1)
			}
		})
	}
}

// A canary takes its configured share in every region, the stable Service
// the rest, each through a target group its binding fills.
func TestCanaryWeightsAsConfigured(t *testing.T) {
	run := planChanged(t, "staging", setRelease("order", "canary", map[string]any{"image": "1.5.0-rc1", "weight": 25}))
	for _, rc := range run.cfg.Regions {
		_, forwards := planRoutes(t, run, rc.Name)
		assert.Equal(t, []map[string]any{
			{"service": "order", "weight": float64(75)},
			{"service": "order-canary", "weight": float64(25)},
		}, forwards["order"], rc.Name)
		assert.Len(t, forwards["auth"], 1)
	}
}

// A TargetGroupBinding per Kubernetes Service (and canary), in the
// Service's namespace, binding it to a target group of its own region.
func TestTargetGroupBindingPerService(t *testing.T) {
	run := planChanged(t, "prod", setRelease("product", "canary", map[string]any{"image": "2.0.0-rc1", "weight": 5}))
	for _, rc := range run.cfg.Regions {
		tgs := map[string]*plan.Resource{}
		for _, tg := range inRegion(run.inv.OfType(targetGroup), rc.Name) {
			assert.Equal(t, "ip", tg.String("targetType"))
			assert.Equal(t, ingress.HealthCheckPath, tg.String("healthCheck.path"))
			assert.EqualValues(t, workload.DeregistrationDelaySeconds, tg.Get("deregistrationDelay"))
			tgs[tg.Name] = tg
		}
		var bound []string
		for _, tgb := range inRegion(run.inv.OfType(targetGroupBinding), rc.Name) {
			svc := tgb.String("metadata.name")
			bound = append(bound, svc)
			assert.Equal(t, svc, tgb.String("spec.serviceRef.name"))
			assert.EqualValues(t, workload.ServicePort, tgb.Get("spec.serviceRef.port"))
			assert.Equal(t, appconfig.Namespace(strings.TrimSuffix(svc, "-canary")), tgb.String("metadata.namespace"))
			tg := tgs[rc.Name+"-ingress-"+svc]
			require.NotNil(t, tg, svc)
			assert.True(t, run.inv.WaitsFor(tgb, tg))
			assert.Contains(t, tgb.String("spec.targetGroupARN"), ":elasticloadbalancing:"+rc.Name+":")
			assert.True(t, run.inv.WaitsFor(tgb, run.inv.Find("kubernetes:helm.sh/v3:Release", rc.Name+"-ingress-lb-controller")))
		}
		sort.Strings(bound)
		assert.Equal(t, []string{"auth", "order", "product", "product-canary", "user"}, bound, rc.Name)
		assert.Len(t, tgs, len(bound))
	}
}

// Load balancers are protected from deletion outside dev; every one logs
// its requests to an SSE-S3 bucket of its region, expired with the logs.
func TestLoadBalancerProtectionAndLogs(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			run := planStack(t, stack)
			for _, rc := range run.cfg.Regions {
				alb := regionLB(t, run.inv, rc.Name)
				assert.Equal(t, stack != "dev", alb.Get("enableDeletionProtection"), alb.Name)
				assert.Equal(t, true, alb.Get("dropInvalidHeaderFields"))
				assert.Equal(t, true, alb.Get("accessLogs.enabled"))
				bucket := alb.String("accessLogs.bucket")
				require.NotEmpty(t, bucket)
				for _, typ := range []string{
					"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
					"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
					"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
					"aws:s3/bucketPolicy:BucketPolicy",
				} {
					var found *plan.Resource
					for _, r := range run.inv.OfType(typ) {
						if r.String("bucket") == bucket {
							found = r
						}
					}
					require.NotNil(t, found, "%s of %s", typ, bucket)
					assert.Equal(t, rc.Name, found.Region)
					switch {
					case strings.Contains(typ, "ServerSideEncryption"):
						assert.Equal(t, "AES256", found.String("rules.0.applyServerSideEncryptionByDefault.sseAlgorithm"))
					case strings.Contains(typ, "Lifecycle"):
						assert.EqualValues(t, run.cfg.LogRetentionDays, found.Get("rules.0.expiration.days"))
					case strings.Contains(typ, "Policy"):
						assert.True(t, run.inv.WaitsFor(alb, found), "the load balancer waits for the bucket policy")
					}
				}
			}
		})
	}
}
