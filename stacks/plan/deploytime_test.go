package plan_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/stacks/plan"
)

func urn(name string) string { return "urn:pulumi:s::p::t::" + name }

func res(name, typ string, deps ...string) *plan.Resource {
	r := &plan.Resource{URN: urn(name), Name: name, Type: typ, Custom: true, Region: "r", Inputs: resource.PropertyMap{}}
	for _, d := range deps {
		r.DependsOn = append(r.DependsOn, urn(d))
	}
	return r
}

// A hand-made graph pins the arithmetic: a cluster (11 min) and a primary
// (15) side by side; a replica (30) after the primary; a node group (4)
// after the cluster; a Deployment (1) after the nodes' component (so after
// every resource under it) and after the replica.
func graph() *plan.Inventory {
	replica := res("replica", "aws:rds/instance:Instance", "primary")
	replica.Inputs["replicateSourceDb"] = resource.NewStringProperty("arn:aws:rds:x:1:db:primary")
	nodes := &plan.Resource{URN: urn("nodes"), Name: "nodes", Type: "ecommerce:cluster:Cluster"}
	group := res("group", "aws:eks/nodeGroup:NodeGroup", "cluster")
	group.Parent = nodes.URN
	return &plan.Inventory{Stack: "s", Resources: []*plan.Resource{
		res("cluster", "aws:eks/cluster:Cluster"),
		res("primary", "aws:rds/instance:Instance"),
		replica, nodes, group,
		res("app", "kubernetes:apps/v1:Deployment", "nodes", "replica"),
	}}
}

func TestEstimateIsTheLongestChainOfWaits(t *testing.T) {
	e := graph().EstimateCreate()
	assert.Equal(t, 46*time.Minute, e.Total, "primary 15 + replica 30 + rollout 1; the cluster's 15 runs beside them")
	var names []string
	for _, s := range e.Path {
		names = append(names, s.Resource.Name)
	}
	assert.Equal(t, []string{"primary", "replica", "app"}, names)
	assert.Equal(t, 5, e.Changed, "the component is not created in AWS")
	assert.Equal(t, 46*time.Minute, e.Regions["r"])

	var out bytes.Buffer
	require.NoError(t, e.Write(&out, "fresh"))
	assert.Contains(t, out.String(), "fresh: 46:00 (min:s)")
	assert.Contains(t, out.String(), "15:00 ->  45:00  aws:rds/instance:Instance replica (30:00")
}

// An update creates or changes only what differs from the base plan: here
// the Deployment, one minute, whatever the rest costs to create.
func TestEstimateUpdateCountsOnlyWhatChanged(t *testing.T) {
	base := graph()
	b, err := json.Marshal(base)
	require.NoError(t, err)
	old, err := plan.ReadInventory(b)
	require.NoError(t, err)

	changed := graph()
	changed.Resources[5].Inputs["image"] = resource.NewStringProperty("v2")
	e := changed.EstimateUpdate(old)
	assert.Equal(t, time.Minute, e.Total)
	assert.Equal(t, 1, e.Changed)
	assert.Zero(t, graph().EstimateUpdate(old).Total, "no change, no wait")

	_, err = plan.ReadInventory([]byte(`{"stack":"s","resources":[{"name":"x"}]}`))
	assert.ErrorContains(t, err, "no urn or type")
}
