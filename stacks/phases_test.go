package stacks_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/stacks/plan"
)

// urnsOf returns the URNs of every resource whose type starts with prefix.
func urnsOf(inv *plan.Inventory, prefix string) []string {
	var out []string
	for _, r := range inv.Resources {
		if strings.HasPrefix(r.Type, prefix) {
			out = append(out, r.URN)
		}
	}
	sort.Strings(out)
	return out
}

// The global phase holds the stack-wide secrets (the credentials, and the
// edge's origin secret): named without a region and parented to no region.
func TestGlobalPhaseHoldsTheStackWideSecrets(t *testing.T) {
	run := planStack(t, "prod")
	for _, urn := range urnsOf(run.inv, "random:") {
		r := run.inv.Lookup(urn)
		if strings.HasSuffix(r.Name, "-cache-auth") {
			assert.NotEmpty(t, regionOf(run.inv, r), "a cache token is its region's: %s", r.Name)
			continue
		}
		assert.Empty(t, regionOf(run.inv, r), "%s is under no region", r.Name)
		assert.True(t, strings.Contains(urn, "ecommerce:global:Global$") || strings.Contains(urn, "ecommerce:edge:Edge$"),
			"%s is a child of a global component", r.Name)
		for _, region := range []string{"us-east-1", "eu-west-1", "ap-south-1"} {
			assert.NotContains(t, r.Name, region, "%s is named without a region", r.Name)
		}
	}
}

// Switching masterRegion is the disaster-recovery path. It must keep every
// generated secret (a new signing key would void every token mid-incident;
// new passwords would lock the services out of the promoted databases) and
// every database (the replicas are promoted, not replaced).
func TestFailoverKeepsEverySecretAndDatabase(t *testing.T) {
	before := planStack(t, "prod")
	after := planChanged(t, "prod", setMaster("eu-west-1"))
	for _, prefix := range []string{"random:", rdsInstance} {
		b, a := urnsOf(before.inv, prefix), urnsOf(after.inv, prefix)
		require.NotEmpty(t, b, prefix)
		assert.Equal(t, b, a, "%s resources keep their URNs (type, name and parent) across a failover", prefix)
	}
}

// Failover: pointing masterRegion at a replica region drops
// replicateSourceDb from the same resources, which promotes them in place,
// with the stack's password for the promoted primary.
func TestFailoverPromotesReplicasInPlace(t *testing.T) {
	before := planStack(t, "staging")
	after := planChanged(t, "staging", setMaster("eu-west-1"))
	promoted := 0
	for _, db := range inRegion(before.inv.OfType(rdsInstance), "eu-west-1") {
		require.NotEmpty(t, db.String("replicateSourceDb"))
		p := after.inv.Lookup(db.URN)
		require.NotNil(t, p, "%s keeps its URN", db.Name)
		assert.Nil(t, p.Get("replicateSourceDb"), "%s is promoted", db.Name)
		assert.Equal(t, db.String("identifier"), p.String("identifier"))
		assert.Equal(t, plan.Secret, p.Get("password"), "%s gets the stack's password as a primary", db.Name)
		promoted++
	}
	assert.Equal(t, 4, promoted)
	for _, db := range inRegion(after.inv.OfType(rdsInstance), "us-east-1") {
		assert.Contains(t, db.String("replicateSourceDb"), "arn:aws:rds:eu-west-1:", "the old master's databases now replicate from the new one")
	}
}

// The wiring phase subscribes every region's queues in the master region;
// a failover moves the topics and subscriptions with it.
func TestWiringFollowsTheMaster(t *testing.T) {
	for _, master := range []string{"us-east-1", "eu-west-1"} {
		run := planChanged(t, "staging", setMaster(master))
		subs := run.inv.OfType(snsSub)
		require.NotEmpty(t, subs)
		for _, s := range subs {
			assert.Equal(t, master, s.Region, s.Name)
			assert.True(t, strings.HasPrefix(s.String("topic"), "arn:aws:sns:"+master+":"), s.Name)
		}
		for _, topic := range eventParts(run.inv, snsTopic) {
			assert.Equal(t, master, topic.Region)
		}
	}
}
