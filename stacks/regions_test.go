package stacks_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/stacks"
	"github.com/example/ecommerce-platform/stacks/config"
	"github.com/example/ecommerce-platform/stacks/plan"
)

// TestNoResourceEscapesItsRegion: every AWS resource is created with one of
// the stack's providers: inside a Region component that region's, outside
// (the wiring) the one the phase chose, never a default provider.
func TestNoResourceEscapesItsRegion(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			run := planStack(t, stack)
			inv := run.inv
			checked := 0
			for _, r := range inv.Resources {
				if !r.Custom || !strings.HasPrefix(r.Type, "aws:") {
					continue
				}
				p := inv.ProviderOf(r)
				require.True(t, p != nil && p.Type == "pulumi:providers:aws",
					"%s %s uses provider %q, not one of the stack's providers", r.Type, r.Name, r.Provider)
				assert.Equal(t, p.String("region"), r.Region, "%s %s", r.Type, r.Name)
				if home := regionOf(inv, r); home != "" {
					assert.Equal(t, home, p.String("region"), "%s %s lives in the region that holds it", r.Type, r.Name)
				} else {
					// Outside the regions, the wiring: the subscriptions,
					// made in the topics' (master) region, and the image
					// replication, from the registry region; the global
					// dashboard in the master region; and the edge:
					// each region's certificate in its region, everything
					// else in the edge region.
					switch {
					case strings.Contains(r.URN, "ecommerce:edge:Edge$"):
						want := stacks.EdgeRegion
						if region, ok := strings.CutPrefix(r.Name, "cert-"); ok && region != "edge" {
							want = region
						}
						assert.Equal(t, want, r.Region, "%s %s", r.Type, r.Name)
						continue
					case strings.Contains(r.URN, "ecommerce:centrallog:Central$"):
						// The central logs' store, in the master region.
						assert.Equal(t, run.cfg.MasterRegion, r.Region, "%s %s", r.Type, r.Name)
						continue
					case strings.Contains(r.URN, "ecommerce:centrallog:Forwarder$"):
						// A region's forwarding ("central-logs-<region>"),
						// in the region of what it reads.
						assert.Equal(t, strings.TrimPrefix(inv.Lookup(r.Parent).Name, "central-logs-"), r.Region, "%s %s", r.Type, r.Name)
						continue
					case strings.Contains(r.URN, "ecommerce:edge:Routing$"):
						assert.Equal(t, stacks.EdgeRegion, r.Region, "%s %s", r.Type, r.Name)
						continue
					}
					switch r.Type {
					case snsSub:
						assert.Equal(t, run.cfg.MasterRegion, r.Region, "%s %s", r.Type, r.Name)
					case "aws:ecr/replicationConfiguration:ReplicationConfiguration":
						assert.Equal(t, run.cfg.RegistryRegion(), r.Region, "%s %s", r.Type, r.Name)
					case "aws:cloudwatch/dashboard:Dashboard":
						// The global dashboard, where operators look first.
						assert.Equal(t, run.cfg.MasterRegion, r.Region, "%s %s", r.Type, r.Name)
					case "aws:backup/plan:Plan", "aws:backup/selection:Selection", "aws:iam/role:Role", "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
						// The backup plan, over the master's primaries.
						assert.Equal(t, "ecommerce:backup:Plan", inv.Lookup(r.Parent).Type, "%s %s", r.Type, r.Name)
						assert.Equal(t, run.cfg.MasterRegion, r.Region, "%s %s", r.Type, r.Name)
					default:
						t.Errorf("%s %s is outside every region", r.Type, r.Name)
					}
				}
				checked++
			}
			assert.Greater(t, checked, 50)
		})
	}
}

// TestEveryCustomResourceNamesItsProvider: the stacks disable default
// providers, so the real engine refuses a resource without an explicit
// one; the mocks must catch that too.
func TestEveryCustomResourceNamesItsProvider(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			inv := planStack(t, stack).inv
			for _, r := range inv.Resources {
				if !r.Custom || strings.HasPrefix(r.Type, "pulumi:providers:") {
					continue
				}
				p := inv.ProviderOf(r)
				require.NotNil(t, p, "%s %s has no explicit provider", r.Type, r.Name)
				pkg := strings.SplitN(r.Type, ":", 2)[0]
				assert.Equal(t, "pulumi:providers:"+pkg, p.Type, "%s %s uses a provider of its own package", r.Type, r.Name)
			}
		})
	}
}

// TestDefaultTagsOnEveryResource: tags come from each provider, so every
// taggable resource carries them without a component remembering to.
func TestDefaultTagsOnEveryResource(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			run := planStack(t, stack)
			inv, cfg := run.inv, run.cfg
			ps := inv.OfType("pulumi:providers:aws")
			require.Len(t, ps, len(cfg.Regions), "one per region (us-east-1, the edge region, is among them)")
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

// A stack without us-east-1 still gets a us-east-1 provider for the edge
// (CloudFront certificates and web ACLs live there).
func TestEdgeProviderWhateverTheMasterRegion(t *testing.T) {
	run := planChanged(t, "dev", func(cfg map[string]string) {
		cfg["ecommerce:masterRegion"] = "eu-west-1"
		cfg["ecommerce:regions"] = `[{"name":"eu-west-1","vpcCidr":"10.10.0.0/16","availabilityZones":["eu-west-1a","eu-west-1b"]}]`
	})
	regions := map[string]bool{}
	for _, p := range run.inv.OfType("pulumi:providers:aws") {
		regions[p.String("region")] = true
	}
	assert.Equal(t, map[string]bool{"eu-west-1": true, stacks.EdgeRegion: true}, regions)
}

func TestEveryResourceHasAComponentParent(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			inv := planStack(t, stack).inv
			components := map[string]bool{}
			for _, r := range inv.Resources {
				if !r.Custom {
					components[r.URN] = true
				}
			}
			topLevel := map[string]bool{
				"pulumi:providers:aws": true, "pulumi:providers:random": true,
				"ecommerce:global:Global": true, "ecommerce:region:Region": true, "ecommerce:messaging:Subscriptions": true,
				"ecommerce:registry:Replication": true, "ecommerce:edge:Edge": true, "ecommerce:edge:Routing": true, "ecommerce:backup:Plan": true,
				"ecommerce:observe:GlobalDashboard": true,
				"ecommerce:centrallog:Central":      true, "ecommerce:centrallog:Forwarder": true,
			}
			for _, r := range inv.Resources {
				if topLevel[r.Type] {
					assert.Contains(t, r.Parent, "pulumi:pulumi:Stack", "%s %s is top level", r.Type, r.Name)
					continue
				}
				assert.True(t, components[r.Parent], "%s %s is parented to a component, not %s", r.Type, r.Name, r.Parent)
			}
		})
	}
}

func TestProdIsZoneRedundantAndPrivate(t *testing.T) {
	inv := planStack(t, "prod").inv
	for _, c := range inv.OfType("aws:eks/cluster:Cluster") {
		assert.Equal(t, false, c.Get("vpcConfig.endpointPublicAccess"), "prod API endpoint is private (%s)", c.Region)
	}
	for region, c := range inv.Counts() {
		if region != "" {
			assert.Equal(t, 3, c["aws:ec2/natGateway:NatGateway"], region)
		}
	}
}

// The master region is built first and every region exports its summary.
func TestBuildOrderAndSummary(t *testing.T) {
	proj, err := plan.LoadProject("..")
	require.NoError(t, err)
	cfg, err := proj.Config("..", "prod")
	require.NoError(t, err)
	// Listing the master last in config must not change the build order.
	var built *stacks.Platform
	clusterNames := map[string]string{}
	var mu sync.Mutex
	_, err = plan.Run(proj.Name, "prod", cfg, func(ctx *pulumi.Context) error {
		loaded, err := config.Load(ctx)
		if err != nil {
			return err
		}
		c := *loaded
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
	assert.Same(t, built.Regions[0], built.Master)
	assert.False(t, built.Regions[1].Master)
	assert.Equal(t, "us-east-1", built.Regions[1].MasterRegion)
	want := map[string]string{}
	for _, r := range []string{"us-east-1", "eu-west-1", "ap-south-1"} {
		want[r] = fmt.Sprintf("ecommerce-prod-%s", r)
	}
	assert.Equal(t, want, clusterNames)
}

func TestInvalidConfigCreatesNothing(t *testing.T) {
	proj, err := plan.LoadProject("..")
	require.NoError(t, err)
	cfg, err := proj.Config("..", "staging")
	require.NoError(t, err)
	cfg["ecommerce:masterRegion"] = "ap-south-1"
	inv, err := plan.Run(proj.Name, "staging", cfg, stacks.Program)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ecommerce:masterRegion")
	assert.Empty(t, inv.Resources, "no resource may be registered before validation passes")
}

// Every cluster grants access by explicit entries only, one per principal
// (EKS refuses a second entry for a principal with ResourceInUseException),
// and the deployer, as whom the Kubernetes provider deploys, has one.
func TestClusterAccessIsExplicit(t *testing.T) {
	for _, stack := range shipped {
		run := planStack(t, stack)
		for _, c := range run.inv.OfType("aws:eks/cluster:Cluster") {
			assert.Equal(t, false, c.Get("accessConfig.bootstrapClusterCreatorAdminPermissions"), "%s %s", stack, c.Name)
			principals := map[string]int{}
			for _, e := range inRegion(run.inv.OfType("aws:eks/accessEntry:AccessEntry"), c.Region) {
				principals[e.String("principalArn")]++
			}
			for p, n := range principals {
				assert.Equal(t, 1, n, "%s %s: %s has one entry", stack, c.Region, p)
			}
			assert.Contains(t, principals, run.cfg.Cluster.DeployerArn, "%s %s: the deployer has an entry", stack, c.Region)
		}
	}
}
