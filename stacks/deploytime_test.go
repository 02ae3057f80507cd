package stacks_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/stacks/plan"
)

// Nothing that holds data waits for a cluster: the databases, caches,
// replicas and backup copies are built beside the clusters, not after them
// (their only link to the nodes is an ingress rule of its own).
func TestNoDataStoreWaitsForACluster(t *testing.T) {
	dataTypes := []string{rdsInstance, redisGroup, "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"}
	for _, stack := range shipped {
		inv := planStack(t, stack).inv
		var clusters []*plan.Resource
		for _, typ := range []string{"aws:eks/cluster:Cluster", "aws:eks/nodeGroup:NodeGroup"} {
			clusters = append(clusters, inv.OfType(typ)...)
		}
		require.NotEmpty(t, clusters)
		for _, typ := range dataTypes {
			for _, r := range inv.OfType(typ) {
				for _, c := range clusters {
					assert.False(t, inv.WaitsFor(r, c), "%s: %s %s waits for %s", stack, r.Type, r.Name, c.Name)
				}
			}
		}
	}
}

// Regions do not wait for each other, except where data must: a replica
// for its primary, a region's workloads for the primary they write to, a
// queue's policy for the topics it admits.
func TestRegionsBuildSideBySide(t *testing.T) {
	run := planStack(t, "prod")
	inv := run.inv
	for _, r := range inv.Resources {
		if r.Region == "" || r.Region == run.cfg.MasterRegion || !r.Custom {
			continue
		}
		switch {
		case strings.HasPrefix(r.Type, "aws:ec2/"), strings.HasPrefix(r.Type, "aws:eks/"), strings.HasPrefix(r.Type, "aws:kms/"),
			r.Type == redisGroup, r.Type == "aws:ecr/repository:Repository":
			for _, other := range inv.Resources {
				if other.Custom && other.Region != "" && other.Region != r.Region && other.Type != "pulumi:providers:random" {
					if inv.WaitsFor(r, other) {
						t.Errorf("%s %s (%s) waits for %s %s (%s)", r.Type, r.Name, r.Region, other.Type, other.Name, other.Region)
					}
				}
			}
		}
	}
}

// The promise of issue #18: prod's fresh deploy takes within 5% of its
// data floor (a primary, then its cross-region replica); everything else
// runs beside that chain.
func TestFreshDeployIsNearTheDataFloor(t *testing.T) {
	floor := plan.CreateDurations[rdsInstance].Time + plan.ReplicaDuration.Time
	e := planStack(t, "prod").inv.EstimateCreate()
	assert.LessOrEqual(t, e.Total, floor+floor/20, "prod's fresh deploy (%s) is within 5%% of primary + replica (%s)", e.Total, floor)
	var long []string
	for _, s := range e.Path {
		if s.Duration.Time >= time.Minute {
			long = append(long, s.Resource.Type)
		}
	}
	assert.Equal(t, []string{rdsInstance, rdsInstance, "kubernetes:apps/v1:Deployment"}, long,
		"the primary, its replica and the replica region's rollout are the only long steps on the path")
	for _, stack := range shipped {
		e := planStack(t, stack).inv.EstimateCreate()
		t.Logf("%s: fresh deploy %s", stack, e.Total.Round(time.Second))
	}
}

// A release of one service is its rollouts: the master's migration job and
// Deployment one after the other, the other regions' Deployments beside.
func TestImageBumpEstimate(t *testing.T) {
	base := planStack(t, "prod")
	bumped := planChanged(t, "prod", setRelease("order", "image", newDigest))
	e := bumped.inv.EstimateUpdate(base.inv)
	assert.Equal(t, 4, e.Changed, "three Deployments and a migration job")
	assert.Equal(t, plan.CreateDurations["kubernetes:batch/v1:Job"].Time+plan.CreateDurations["kubernetes:apps/v1:Deployment"].Time, e.Total)
	for _, s := range e.Path {
		assert.True(t, strings.Contains(s.Resource.Name, "order"), s.Resource.Name)
	}
}
