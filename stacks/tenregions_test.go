package stacks_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/policies/rules"
	"github.com/example/ecommerce-platform/stacks"
	"github.com/example/ecommerce-platform/stacks/config"
	"github.com/example/ecommerce-platform/stacks/cost"
	"github.com/example/ecommerce-platform/stacks/offline"
	"github.com/example/ecommerce-platform/stacks/plan"
)

// tenRegions is the prod stack grown to the seed's "10+ regions": the
// shipped three, then seven more, each with its own non-overlapping /16
// (10.30.0.0/16 upwards) and three zones that exist in that region (Tokyo
// has no 1b for new accounts, Canada Central no 1c). docs/capacity.md
// lists the keys this changes.
var tenRegions = []config.Region{
	{Name: "us-east-1", VpcCidr: "10.30.0.0/16", AvailabilityZones: []string{"us-east-1a", "us-east-1b", "us-east-1c"}},
	{Name: "eu-west-1", VpcCidr: "10.31.0.0/16", AvailabilityZones: []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}},
	{Name: "ap-south-1", VpcCidr: "10.32.0.0/16", AvailabilityZones: []string{"ap-south-1a", "ap-south-1b", "ap-south-1c"}},
	{Name: "us-west-2", VpcCidr: "10.33.0.0/16", AvailabilityZones: []string{"us-west-2a", "us-west-2b", "us-west-2c"}},
	{Name: "eu-central-1", VpcCidr: "10.34.0.0/16", AvailabilityZones: []string{"eu-central-1a", "eu-central-1b", "eu-central-1c"}},
	{Name: "ap-northeast-1", VpcCidr: "10.35.0.0/16", AvailabilityZones: []string{"ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"}},
	{Name: "ap-southeast-1", VpcCidr: "10.36.0.0/16", AvailabilityZones: []string{"ap-southeast-1a", "ap-southeast-1b", "ap-southeast-1c"}},
	{Name: "ap-southeast-2", VpcCidr: "10.37.0.0/16", AvailabilityZones: []string{"ap-southeast-2a", "ap-southeast-2b", "ap-southeast-2c"}},
	{Name: "sa-east-1", VpcCidr: "10.38.0.0/16", AvailabilityZones: []string{"sa-east-1a", "sa-east-1b", "sa-east-1c"}},
	{Name: "ca-central-1", VpcCidr: "10.39.0.0/16", AvailabilityZones: []string{"ca-central-1a", "ca-central-1b", "ca-central-1d"}},
}

// setTenRegions sets prod's regions key to tenRegions: the only key a
// 10-region deployment must change (masterRegion and registry.region stay
// us-east-1).
func setTenRegions(tb testing.TB) func(raw map[string]string) {
	return func(raw map[string]string) {
		b, err := json.Marshal(tenRegions)
		require.NoError(tb, err)
		raw[config.Namespace+":"+config.KeyRegions] = string(b)
	}
}

// TestTenRegionsPlan plans prod across ten regions under the mock engine:
// the config validates, every region gets the full regional stack (a
// cluster with its two node groups, the four services, a replica of each
// primary, its queues subscribed to the master's topics), each primary
// stays within RDS's 15 read replicas, and the policy pack finds no
// mandatory violation.
func TestTenRegionsPlan(t *testing.T) {
	// planChanged fails the test on invalid config: ten regions are valid.
	run := planChanged(t, "prod", setTenRegions(t))
	cfg, inv := run.cfg, run.inv

	master := cfg.MasterRegion
	perRegion := map[string]map[string]int{}
	for _, r := range inv.Resources {
		if perRegion[r.Region] == nil {
			perRegion[r.Region] = map[string]int{}
		}
		perRegion[r.Region][r.Type]++
	}
	for _, region := range tenRegions {
		got := perRegion[region.Name]
		require.NotNil(t, got, "region %s has resources", region.Name)
		assert.Equal(t, 1, got["aws:eks/cluster:Cluster"], region.Name)
		assert.Equal(t, 2, got["aws:eks/nodeGroup:NodeGroup"], region.Name)
		assert.Equal(t, 3, got["aws:ec2/natGateway:NatGateway"], "%s: a NAT gateway per zone", region.Name)
		assert.Equal(t, len(config.Services), got["kubernetes:apps/v1:Deployment"], region.Name)
		assert.Equal(t, len(config.Services), got[rdsInstance], "%s: one database per service", region.Name)
		assert.Equal(t, 1, got[redisGroup], region.Name)
		assert.Positive(t, got[sqsQueue], region.Name)
	}
	assert.Len(t, perRegion, len(tenRegions)+1, "ten regions and the global resources, nothing elsewhere")

	// Each primary feeds nine cross-region replicas; RDS allows 15 per
	// source instance.
	replicas := map[string]int{}
	for _, r := range inv.OfType(rdsInstance) {
		if r.Region == master {
			assert.Empty(t, r.String("replicateSourceDb"), "%s is a primary", r.Name)
			continue
		}
		src := r.String("replicateSourceDb")
		require.NotEmpty(t, src, "%s in %s replicates a primary", r.Name, r.Region)
		replicas[src]++
	}
	require.Len(t, replicas, len(config.Services))
	for src, n := range replicas {
		assert.Equal(t, len(tenRegions)-1, n, src)
		assert.LessOrEqual(t, n, 15, "%s: RDS for PostgreSQL allows 15 read replicas per source", src)
	}
	// Every consuming queue of every region is subscribed to the master's
	// topics: the subscriptions grow with the regions.
	// (A cross-region subscription lives beside its topic.)
	subsByQueueRegion := map[string]int{}
	for _, s := range inv.OfType(snsSub) {
		assert.Contains(t, s.String("topic"), "arn:aws:sns:"+master+":", "%s subscribes to a topic of the master region", s.Name)
		for _, region := range tenRegions {
			if strings.Contains(s.String("endpoint"), ":sqs:"+region.Name+":") {
				subsByQueueRegion[region.Name]++
			}
		}
	}
	for _, region := range tenRegions[1:] {
		assert.Equal(t, subsByQueueRegion["eu-west-1"], subsByQueueRegion[region.Name], "%s's queues subscribe to what every replica region's do", region.Name)
	}
	assert.Positive(t, subsByQueueRegion["eu-west-1"])
	assert.Len(t, inv.OfType(snsSub), sum(subsByQueueRegion), "every subscription delivers to a queue of one of the regions")

	rep, err := rules.Evaluate(inv.PolicyStack(), nil)
	require.NoError(t, err)
	for _, v := range rep.Violations {
		if v.Level == rules.Mandatory {
			t.Errorf("mandatory violation: %s %s %s: %s", v.Policy, v.Type, v.Name, v.Message)
		}
	}

	// What it costs where the price table has the region, and what it
	// cannot price (the regions the table lacks are named, not zero).
	p, err := offline.FromInventory(inv)
	require.NoError(t, err)
	est := cost.Price(p, cost.DefaultAssumptions("prod"))
	unpricedRegions := map[string]bool{}
	for _, n := range est.NotPriced {
		if n.Why == fmt.Sprintf("no prices for region %s in stacks/cost/prices.go", n.Region) {
			unpricedRegions[n.Region] = true
		}
	}
	for _, region := range tenRegions {
		_, priced := cost.Prices[region.Name]
		assert.Equal(t, !priced, unpricedRegions[region.Name], "%s: reported as not priced exactly when the table lacks it", region.Name)
	}
	totals := est.RegionTotals()
	for _, region := range tenRegions {
		t.Logf("%-15s %4d resources, priced %s", region.Name, sum(perRegion[region.Name]), cost.Money(totals[region.Name]))
	}
	deploy := inv.EstimateCreate()
	assert.Less(t, deploy.Total, planStack(t, "prod").inv.EstimateCreate().Total+10*time.Minute,
		"regions build beside each other: seven more regions add no long chain to a fresh deploy")
	t.Logf("fresh deploy estimate: %s (three regions: %s)", deploy.Total, planStack(t, "prod").inv.EstimateCreate().Total)
	t.Logf("ten regions: %d resources, %d subscriptions, priced total %s (%d regions unpriced)",
		len(inv.Resources), len(inv.OfType(snsSub)), cost.Money(est.Total()), len(unpricedRegions))
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// BenchmarkPlanTenRegions is one synthesis of the ten-region prod stack
// under the mock engine (config validation and every resource
// registered): how the plan, and so every test and PR comment that plans
// it, grows with the regions. Compare BenchmarkPlan/prod (three regions).
func BenchmarkPlanTenRegions(b *testing.B) {
	proj, err := plan.LoadProject("..")
	require.NoError(b, err)
	raw, err := proj.Config("..", "prod")
	require.NoError(b, err)
	setTenRegions(b)(raw)
	b.ReportAllocs()
	var resources int
	for b.Loop() {
		inv, err := plan.Run(proj.Name, "prod", raw, stacks.Program)
		if err != nil {
			b.Fatal(err)
		}
		resources = len(inv.Resources)
	}
	b.ReportMetric(float64(resources), "resources")
}
