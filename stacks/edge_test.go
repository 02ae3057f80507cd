package stacks_test

// The traffic path's global half (issue #10): the zone, the certificates
// where their users read them, the web ACL in us-east-1, and bad traffic
// config refused before anything exists.

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/stacks"
	"github.com/example/ecommerce-platform/stacks/config"
	"github.com/example/ecommerce-platform/stacks/plan"
)

const (
	acmCert       = "aws:acm/certificate:Certificate"
	acmValidation = "aws:acm/certificateValidation:CertificateValidation"
	r53Record     = "aws:route53/record:Record"
	r53Zone       = "aws:route53/zone:Zone"
	wafACL        = "aws:wafv2/webAcl:WebAcl"
)

// Every region's load balancer gets a certificate in its own region, for
// its origin name and the global origin name; CloudFront's is in
// us-east-1 whatever the master region, and so is the web ACL.
func TestCertificatesAreWhereTheirUsersReadThem(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			run := planStack(t, stack)
			inv, cfg := run.inv, run.cfg
			certs := map[string]*plan.Resource{}
			for _, c := range inv.OfType(acmCert) {
				certs[c.Name] = c
			}
			require.Len(t, certs, len(cfg.Regions)+1, "one per region and CloudFront's")
			edgeCert := certs["cert-edge"]
			require.NotNil(t, edgeCert)
			assert.Equal(t, stacks.EdgeRegion, edgeCert.Region)
			assert.Equal(t, cfg.APIHost(), edgeCert.Get("domainName"))
			for _, r := range cfg.Regions {
				c := certs["cert-"+r.Name]
				require.NotNil(t, c, r.Name)
				assert.Equal(t, r.Name, c.Region)
				assert.Equal(t, "api."+r.Name+"."+cfg.Traffic.Domain, c.Get("domainName"))
				assert.Equal(t, []any{"origin." + cfg.APIHost()}, c.Get("subjectAlternativeNames"))
			}
			for _, v := range inv.OfType(acmValidation) {
				assert.Equal(t, certs[v.Name].Region, v.Region, "%s is awaited in its certificate's region", v.Name)
			}
			acls := inv.OfType(wafACL)
			require.Len(t, acls, 1)
			assert.Equal(t, stacks.EdgeRegion, acls[0].Region)
			assert.Equal(t, "CLOUDFRONT", acls[0].Get("scope"))
		})
	}
}

// A stack whose regions leave out us-east-1 still makes CloudFront's
// certificate and the web ACL there.
func TestEdgeLivesInUsEast1WhateverTheRegions(t *testing.T) {
	run := planChanged(t, "dev", func(cfg map[string]string) {
		cfg["ecommerce:masterRegion"] = "eu-west-1"
		cfg["ecommerce:regions"] = `[{"name":"eu-west-1","vpcCidr":"10.10.0.0/16","availabilityZones":["eu-west-1a","eu-west-1b"]}]`
	})
	regions := map[string]string{}
	for _, typ := range []string{acmCert, wafACL, "aws:cloudwatch/logGroup:LogGroup"} {
		for _, r := range run.inv.OfType(typ) {
			if strings.Contains(r.URN, "ecommerce:edge:Edge$") {
				regions[r.Name] = r.Region
			}
		}
	}
	assert.Equal(t, map[string]string{"cert-edge": "us-east-1", "cert-eu-west-1": "eu-west-1", "waf": "us-east-1", "waf-logs": "us-east-1", "cdn-logs": "us-east-1"}, regions)
}

// Every validation record is in the stack's zone (created here, since the
// shipped stacks name none), one per distinct name: the global origin
// name, carried by every region's certificate, has one record.
func TestValidationRecordsAreInTheZone(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			run := planStack(t, stack)
			inv, cfg := run.inv, run.cfg
			zones := inv.OfType(r53Zone)
			require.Len(t, zones, 1)
			assert.Equal(t, cfg.Traffic.Domain, zones[0].Get("name"))
			names := map[string]bool{}
			for _, r := range inv.OfType(r53Record) {
				if !strings.HasPrefix(r.Name, "validation-") {
					continue
				}
				assert.True(t, inv.WaitsFor(r, zones[0]), "%s is in the zone", r.Name)
				assert.True(t, strings.HasSuffix(strings.TrimSuffix(r.String("name"), "."), "."+cfg.Traffic.Domain), "%s: %s", r.Name, r.String("name"))
				assert.False(t, names[r.String("name")], "%s is created once", r.String("name"))
				names[r.String("name")] = true
			}
			assert.Len(t, names, len(cfg.Regions)+2, "each region's name, the API host and the global origin name")
		})
	}
	// An existing zone is taken by its id: none is created.
	run := planChanged(t, "dev", func(cfg map[string]string) { cfg["ecommerce:hostedZoneId"] = "Z0123456789ABCDEFGHIJ" })
	assert.Empty(t, run.inv.OfType(r53Zone))
	for _, r := range run.inv.OfType(r53Record) {
		assert.Equal(t, "Z0123456789ABCDEFGHIJ", r.Get("zoneId"), r.Name)
	}
}

// The edge is named without the master region: a failover keeps every
// certificate, record, secret and the web ACL.
func TestFailoverKeepsTheEdge(t *testing.T) {
	before := planStack(t, "prod")
	after := planChanged(t, "prod", setMaster("eu-west-1"))
	for _, prefix := range []string{"aws:acm/", "aws:route53/", "aws:wafv2/", "ecommerce:edge:"} {
		b, a := urnsOf(before.inv, prefix), urnsOf(after.inv, prefix)
		require.NotEmpty(t, b, prefix)
		assert.Equal(t, b, a, "%s resources keep their URNs across a failover", prefix)
	}
}

// Inconsistent traffic config stops the program before any resource.
func TestInvalidTrafficConfigCreatesNothing(t *testing.T) {
	proj, err := plan.LoadProject("..")
	require.NoError(t, err)
	for key, value := range map[string]string{
		"model":        "single-region", // prod has three regions
		"domain":       "shop example com",
		"wafRateLimit": "5",
	} {
		cfg, err := proj.Config("..", "prod")
		require.NoError(t, err)
		cfg["ecommerce:"+key] = value
		inv, err := plan.Run(proj.Name, "prod", cfg, stacks.Program)
		require.Error(t, err, key)
		assert.Contains(t, err.Error(), "ecommerce:"+key+":", key)
		assert.Empty(t, inv.Resources, "%s: nothing is registered before validation passes", key)
	}
}

// The stack tells operators where the API is and, for a zone it created,
// which name servers to delegate to.
func TestTrafficOutputs(t *testing.T) {
	proj, err := plan.LoadProject("..")
	require.NoError(t, err)
	raw, err := proj.Config("..", "prod")
	require.NoError(t, err)
	var got map[string]any
	_, err = plan.Run(proj.Name, "prod", raw, func(ctx *pulumi.Context) error {
		cfg, err := config.Load(ctx)
		if err != nil {
			return err
		}
		p, err := stacks.Build(ctx, cfg)
		if err != nil {
			return err
		}
		res, err := internals.UnsafeAwaitOutput(ctx.Context(), p.TrafficOutputs().ToMapOutput())
		got, _ = res.Value.(map[string]any)
		return err
	})
	require.NoError(t, err)
	assert.Equal(t, "api.shop.example.com", got["apiHost"])
	assert.Equal(t, "origin.api.shop.example.com", got["originHost"])
	assert.Equal(t, "active-active", got["model"])
	assert.Equal(t, "api.us-east-1.shop.example.com", got["masterOrigin"])
	assert.Len(t, got["nameServers"], 4, "the created zone's name servers, to delegate to")
	assert.Contains(t, got["webAclArn"], ":global/webacl/")
}
