package stacks_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/stacks"
	"github.com/example/ecommerce-platform/stacks/plan"
)

var shipped = []string{"dev", "staging", "prod"}

// planStack returns the cached plan of a shipped stack (the runs are
// deterministic and the tests only read them).
func planStack(t *testing.T, stack string) (*plan.Inventory, *stacks.Config) {
	t.Helper()
	run := planData(t, stack, nil)
	return run.inv, run.cfg
}

// regionOf walks up to the enclosing Region component.
func regionOf(inv *plan.Inventory, r *plan.Resource) string {
	for cur := r; cur != nil; cur = inv.Lookup(cur.Parent) {
		if cur.Type == "ecommerce:region:Region" {
			return cur.Name
		}
	}
	return ""
}

func TestStackInventoryPerRegion(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			inv, cfg := planStack(t, stack)
			counts := inv.Counts()
			assert.Len(t, inv.OfType("ecommerce:region:Region"), len(cfg.Regions))
			for _, rc := range cfg.Regions {
				c := counts[rc.Name]
				zones := len(rc.AvailabilityZones)
				assert.Equal(t, 1, c["aws:ec2/vpc:Vpc"], rc.Name)
				assert.Equal(t, 3*zones, c["aws:ec2/subnet:Subnet"], rc.Name)
				nats := 1
				if cfg.NatGateways == "perAz" {
					nats = zones
				}
				assert.Equal(t, nats, c["aws:ec2/natGateway:NatGateway"], rc.Name)
				assert.Equal(t, 1, c["aws:eks/cluster:Cluster"], rc.Name)
				assert.Equal(t, 2, c["aws:eks/nodeGroup:NodeGroup"], rc.Name)
				assert.Equal(t, 4, c["aws:eks/addon:Addon"], rc.Name)
				assert.Equal(t, 1, c["aws:kms/key:Key"], rc.Name)
				assert.Equal(t, 1, c["aws:ec2/flowLog:FlowLog"], rc.Name)
				assert.Equal(t, 1, c["pulumi:providers:aws"], rc.Name)
				assert.Equal(t, 1, c["pulumi:providers:kubernetes"], rc.Name)
			}
		})
	}
}

// TestNoResourceEscapesItsRegion: every AWS resource is created with the
// provider of the region whose component holds it, never a default provider.
func TestNoResourceEscapesItsRegion(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			inv, _ := planStack(t, stack)
			checked := 0
			for _, r := range inv.Resources {
				if !r.Custom || !strings.HasPrefix(r.Type, "aws:") {
					continue
				}
				p := inv.ProviderOf(r)
				require.True(t, p != nil && p.Type == "pulumi:providers:aws",
					"%s %s uses provider %q, not one of the stack's regional providers", r.Type, r.Name, r.Provider)
				home := regionOf(inv, r)
				require.NotEmpty(t, home, "%s %s is inside a Region component", r.Type, r.Name)
				assert.Equal(t, home, p.String("region"), "%s %s", r.Type, r.Name)
				assert.Equal(t, home, r.Region)
				checked++
			}
			assert.Greater(t, checked, 50)
		})
	}
}

// TestDefaultTagsOnEveryResource: tags come from each regional provider, so
// every taggable resource carries them without a component remembering to.
func TestDefaultTagsOnEveryResource(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			inv, cfg := planStack(t, stack)
			ps := inv.OfType("pulumi:providers:aws")
			require.Len(t, ps, len(cfg.Regions))
			for _, p := range ps {
				region := p.String("region")
				assert.Equal(t, map[string]any{
					"project": "ecommerce", "environment": stack, "region": region, "managed-by": "pulumi",
				}, p.Get("defaultTags.tags"), region)
				assert.Equal(t, []any{cfg.AccountID}, p.Get("allowedAccountIds"), "the provider is pinned to the stack's account")
			}
			// A resource's own tags merge over the defaults; none may
			// contradict them.
			tagged := 0
			for _, r := range inv.Resources {
				tags, ok := r.Get("tags").(map[string]any)
				if !ok {
					continue
				}
				tagged++
				for k, want := range map[string]string{"project": "ecommerce", "environment": stack, "region": r.Region, "managed-by": "pulumi"} {
					if v, set := tags[k]; set {
						assert.Equal(t, want, v, "%s %s overrides default tag %s", r.Type, r.Name, k)
					}
				}
			}
			assert.Greater(t, tagged, 50)
		})
	}
}

func TestEncryptionEverywhere(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			inv, _ := planStack(t, stack)
			keyOf := map[string]string{} // region -> key ARN
			for _, k := range inv.OfType("aws:kms/key:Key") {
				assert.Equal(t, true, k.Get("enableKeyRotation"), k.Name)
			}
			for _, c := range inv.OfType("aws:eks/cluster:Cluster") {
				keyOf[c.Region] = c.String("encryptionConfig.provider.keyArn")
				assert.Equal(t, []any{"secrets"}, c.Get("encryptionConfig.resources"))
				assert.True(t, strings.HasPrefix(keyOf[c.Region], fmt.Sprintf("arn:aws:kms:%s:", c.Region)), "cluster in %s uses a key of its own region", c.Region)
			}
			for _, g := range inv.OfType("aws:cloudwatch/logGroup:LogGroup") {
				assert.Equal(t, keyOf[g.Region], g.String("kmsKeyId"), "log group %s is encrypted with its region's key", g.Name)
				assert.NotNil(t, g.Get("retentionInDays"), g.Name)
			}
			for _, lt := range inv.OfType("aws:ec2/launchTemplate:LaunchTemplate") {
				assert.Equal(t, "true", lt.String("blockDeviceMappings.0.ebs.encrypted"), lt.Name)
				assert.Equal(t, keyOf[lt.Region], lt.String("blockDeviceMappings.0.ebs.kmsKeyId"), lt.Name)
			}
		})
	}
}

func TestEveryResourceHasAComponentParent(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			inv, _ := planStack(t, stack)
			components := map[string]bool{}
			for _, r := range inv.Resources {
				if !r.Custom {
					components[r.URN] = true
				}
			}
			for _, r := range inv.Resources {
				switch r.Type {
				case "pulumi:providers:aws", "ecommerce:region:Region":
					assert.Contains(t, r.Parent, "pulumi:pulumi:Stack", "%s %s is top level", r.Type, r.Name)
				default:
					assert.True(t, components[r.Parent], "%s %s is parented to a component, not %s", r.Type, r.Name, r.Parent)
				}
			}
		})
	}
}

func TestProdIsZoneRedundantAndPrivate(t *testing.T) {
	inv, _ := planStack(t, "prod")
	for _, c := range inv.OfType("aws:eks/cluster:Cluster") {
		assert.Equal(t, false, c.Get("vpcConfig.endpointPublicAccess"), "prod API endpoint is private (%s)", c.Region)
	}
	for region, c := range inv.Counts() {
		if region != "" {
			assert.Equal(t, 3, c["aws:ec2/natGateway:NatGateway"], region)
		}
	}
}

// The JSON inventory is what reviewers and tools read: it has the
// documented shape and its region and parent fields are filled in.
func TestInventoryJSONShape(t *testing.T) {
	_, cfg := planStack(t, "staging")
	inv, err := stacks.PlanStack("..", "staging") // the path `make plan` takes
	require.NoError(t, err)
	b, err := json.Marshal(inv)
	require.NoError(t, err)
	var doc struct {
		Stack     string `json:"stack"`
		Resources []struct {
			Type   string         `json:"type"`
			Name   string         `json:"name"`
			Region string         `json:"region"`
			Parent string         `json:"parent"`
			Inputs map[string]any `json:"inputs"`
		} `json:"resources"`
	}
	require.NoError(t, json.Unmarshal(b, &doc))
	assert.Equal(t, "staging", doc.Stack)
	assert.Len(t, doc.Resources, len(inv.Resources))
	regions := map[string]bool{}
	for _, r := range doc.Resources {
		assert.NotEmpty(t, r.Type)
		assert.NotEmpty(t, r.Name)
		assert.NotEmpty(t, r.Parent)
		regions[r.Region] = true
	}
	for _, rc := range cfg.Regions {
		assert.True(t, regions[rc.Name], rc.Name)
	}
}

// The master region is built first and every region exports its summary.
func TestBuildOrderAndSummary(t *testing.T) {
	proj, err := plan.LoadProject("..")
	require.NoError(t, err)
	cfg, err := proj.Config("..", "prod")
	require.NoError(t, err)
	// Listing the master last in config must not change the build order.
	var c stacks.Config
	var built *stacks.Platform
	clusterNames := map[string]string{}
	var mu sync.Mutex
	_, err = plan.Run(proj.Name, "prod", cfg, func(ctx *pulumi.Context) error {
		loaded, err := stacks.Load(ctx)
		if err != nil {
			return err
		}
		c = *loaded
		c.Regions = append(c.Regions[1:], c.Regions[0])
		built, err = stacks.Build(ctx, &c)
		if err != nil {
			return err
		}
		for _, r := range built.Regions {
			name := r.Name
			r.Cluster.Name.ApplyT(func(s string) string {
				mu.Lock()
				defer mu.Unlock()
				clusterNames[name] = s
				return s
			})
		}
		return nil
	})
	require.NoError(t, err)
	require.Len(t, built.Regions, 3)
	assert.Equal(t, "us-east-1", built.Regions[0].Name)
	assert.True(t, built.Regions[0].Master)
	assert.False(t, built.Regions[1].Master)
	assert.Equal(t, map[string]string{
		"us-east-1":  "ecommerce-prod-us-east-1",
		"eu-west-1":  "ecommerce-prod-eu-west-1",
		"ap-south-1": "ecommerce-prod-ap-south-1",
	}, clusterNames)
}
