package diagram_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/stacks/diagram"
	"github.com/example/ecommerce-platform/stacks/planfile"
)

const pfx = "urn:pulumi:s::p::"

func res(typ, name, region, parent string, inputs map[string]any, deps ...string) *planfile.Resource {
	r := &planfile.Resource{URN: pfx + typ + "::" + name, Type: typ, Name: name, Region: region, Inputs: inputs}
	if parent != "" {
		r.Parent = pfx + parent
	}
	for _, d := range deps {
		r.DependsOn = append(r.DependsOn, pfx+d)
	}
	return r
}

// Two regions with a primary and its replica, a topic and a queue in each
// region subscribed to it, and the traffic path: CloudFront -> ALB ->
// a service bound to the ALB's target group.
func twoRegions() *planfile.Plan {
	region := func(name string) []*planfile.Resource {
		reg := "ecommerce:region:Region::" + name
		out := []*planfile.Resource{
			res("ecommerce:region:Region", name, name, "", nil),
			res("ecommerce:database:Databases", name+"-db", name, reg, nil),
			res("ecommerce:messaging:Queues", name+"-queues", name, reg, nil),
			res("aws:sqs/queue:Queue", name+"-q", name, "ecommerce:messaging:Queues::"+name+"-queues", nil),
			res("ecommerce:ingress:Ingress", name+"-ingress", name, reg, nil),
			res("aws:lb/loadBalancer:LoadBalancer", name+"-alb", name, "ecommerce:ingress:Ingress::"+name+"-ingress", nil),
			res("aws:lb/targetGroup:TargetGroup", name+"-tg", name, "ecommerce:ingress:Ingress::"+name+"-ingress", nil),
			res("ecommerce:workload:Service", name+"-order", name, reg, nil),
			res("kubernetes:apps/v1:Deployment", name+"-order", name, "ecommerce:workload:Service::"+name+"-order", nil),
			res("kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding", name+"-order", name, "ecommerce:workload:Service::"+name+"-order", nil,
				"aws:lb/targetGroup:TargetGroup::"+name+"-tg"),
		}
		return out
	}
	rs := []*planfile.Resource{
		res("pulumi:providers:aws", "aws-us-east-1", "us-east-1", "", nil),
		res("ecommerce:edge:Edge", "edge", "", "", nil),
		res("aws:cloudfront/distribution:Distribution", "cdn", "us-east-1", "ecommerce:edge:Edge::edge", nil,
			"aws:lb/loadBalancer:LoadBalancer::us-east-1-alb", "aws:lb/loadBalancer:LoadBalancer::eu-west-1-alb"),
	}
	rs = append(rs, region("eu-west-1")...) // listed first: the master still comes first
	rs = append(rs, region("us-east-1")...)
	rs = append(rs,
		res("aws:rds/instance:Instance", "us-east-1-db-order", "us-east-1", "ecommerce:database:Databases::us-east-1-db", map[string]any{"engine": "postgres"}),
		res("aws:rds/instance:Instance", "eu-west-1-db-order", "eu-west-1", "ecommerce:database:Databases::eu-west-1-db",
			map[string]any{"replicateSourceDb": "[unknown]"}, "aws:rds/instance:Instance::us-east-1-db-order"),
		res("ecommerce:messaging:Topics", "us-east-1-topics", "us-east-1", "ecommerce:region:Region::us-east-1", nil),
		res("aws:sns/topic:Topic", "order", "us-east-1", "ecommerce:messaging:Topics::us-east-1-topics", nil),
		res("ecommerce:messaging:Subscriptions", "subscriptions", "", "", nil),
		res("aws:sns/topicSubscription:TopicSubscription", "sub-us", "us-east-1", "ecommerce:messaging:Subscriptions::subscriptions", nil,
			"aws:sns/topic:Topic::order", "aws:sqs/queue:Queue::us-east-1-q"),
		res("aws:sns/topicSubscription:TopicSubscription", "sub-eu", "us-east-1", "ecommerce:messaging:Subscriptions::subscriptions", nil,
			"aws:sns/topic:Topic::order", "aws:sqs/queue:Queue::eu-west-1-q"),
	)
	return planfile.New("s", rs...)
}

func TestGraphOfTwoRegions(t *testing.T) {
	g := diagram.Build(twoRegions())
	assert.Equal(t, "us-east-1", g.Master, "the region with the primaries")

	var nodes []string
	for _, n := range g.Nodes {
		nodes = append(nodes, n.ID())
	}
	assert.Equal(t, []string{
		"global/edge",
		"us-east-1/ingress", "us-east-1/service", "us-east-1/databases", "us-east-1/topics", "us-east-1/queues",
		"eu-west-1/ingress", "eu-west-1/service", "eu-west-1/databases", "eu-west-1/queues",
	}, nodes, "global, the master, then the others; the subscriptions component is drawn as edges only")

	var edges []string
	for _, e := range g.Edges {
		edges = append(edges, e.From.ID()+" -> "+e.To.ID()+" "+e.Label)
	}
	assert.ElementsMatch(t, []string{
		"global/edge -> us-east-1/ingress HTTPS origin",
		"global/edge -> eu-west-1/ingress HTTPS origin",
		"us-east-1/databases -> eu-west-1/databases replication",
		"us-east-1/topics -> us-east-1/queues events",
		"us-east-1/topics -> eu-west-1/queues events",
		"us-east-1/ingress -> us-east-1/service requests",
		"eu-west-1/ingress -> eu-west-1/service requests",
	}, edges)
}

// The DOT text is deterministic: the same plan in any order gives the same
// bytes, and it carries the clusters, labels and edges.
func TestDOTIsDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	require.NoError(t, diagram.Build(twoRegions()).WriteDOT(&a))
	p := twoRegions()
	for i, j := 0, len(p.Resources)-1; i < j; i, j = i+1, j-1 {
		p.Resources[i], p.Resources[j] = p.Resources[j], p.Resources[i]
	}
	require.NoError(t, diagram.Build(planfile.New("s", p.Resources...)).WriteDOT(&b))
	assert.Equal(t, a.String(), b.String())

	dot := a.String()
	assert.Contains(t, dot, `subgraph "cluster_us-east-1" {`)
	assert.Contains(t, dot, `label="us-east-1 (master: primaries, topics)";`)
	assert.Contains(t, dot, `"us-east-1/databases" [label="databases\n1 PostgreSQL"];`)
	assert.Contains(t, dot, `"us-east-1/topics" -> "eu-west-1/queues" [label="events", style=dashed];`)
	assert.Contains(t, dot, `"us-east-1/databases" -> "us-east-1/topics" [style=invis];`, "a region's nodes chained in order: one column per region")
	invisible := 0
	for _, line := range strings.Split(dot, "\n") {
		from, to, ok := strings.Cut(strings.TrimSuffix(strings.TrimSpace(line), " [style=invis];"), " -> ")
		if !ok || !strings.HasSuffix(line, "[style=invis];") {
			continue
		}
		invisible++
		assert.Equal(t, strings.SplitN(from, "/", 2)[0], strings.SplitN(to, "/", 2)[0], "chained within one region only: %s", line)
	}
	assert.Equal(t, len(diagram.Build(twoRegions()).Nodes)-3, invisible, "one link between consecutive nodes of each of the three clusters")
	assert.Less(t, strings.Index(dot, "cluster_global"), strings.Index(dot, "cluster_us-east-1"))
	assert.Less(t, strings.Index(dot, "cluster_us-east-1"), strings.Index(dot, "cluster_eu-west-1"))
}

func TestTitle(t *testing.T) {
	assert.Equal(t, "regional keys", diagram.Title("ecommerce:keys:RegionalKeys"))
	assert.Equal(t, "databases", diagram.Title("ecommerce:database:Databases"))
	assert.Equal(t, "global", diagram.Title("ecommerce:global:Global"))
}

// A module's stack-wide half beside the stack's own global component is
// named for its module, not drawn into the same node.
func TestModuleGlobalBesideTheGlobal(t *testing.T) {
	p := planfile.New("s",
		res("ecommerce:global:Global", "global", "", "", nil),
		res("random:index/randomPassword:RandomPassword", "seed", "", "ecommerce:global:Global::global", nil),
		res("ecommerce:edge:Global", "edge", "", "", nil),
		res("aws:kms/key:Key", "waf-logs", "", "ecommerce:edge:Global::edge", nil),
	)
	var ids []string
	for _, n := range diagram.Build(p).Nodes {
		ids = append(ids, n.ID())
	}
	assert.ElementsMatch(t, []string{"global/edge global", "global/global"}, ids)
}

// Two component kinds with one type name in one region keep a node each,
// told apart by module.
func TestKindsSharingATypeName(t *testing.T) {
	p := planfile.New("s",
		res("ecommerce:registry:Replication", "images", "", "", nil),
		res("aws:ecr/replicationConfiguration:ReplicationConfiguration", "images", "", "ecommerce:registry:Replication::images", nil),
		res("ecommerce:database:Replication", "backups", "", "", nil),
		res("aws:kms/key:Key", "copies", "", "ecommerce:database:Replication::backups", nil),
	)
	g := diagram.Build(p)
	var ids, labels []string
	for _, n := range g.Nodes {
		ids = append(ids, n.ID())
		labels = append(labels, n.Label())
	}
	assert.Equal(t, []string{"global/database replication", "global/registry replication"}, ids)
	assert.Equal(t, []string{`database replication\n1 KMS key`, `registry replication\n1 ECR replication rule`}, labels)
}

// A TargetGroupBinding beside the load balancer draws the requests to the
// Service it names, in its namespace and region.
func TestTargetGroupBindingDrawsRequests(t *testing.T) {
	p := planfile.New("s",
		res("ecommerce:ingress:Ingress", "in", "us-east-1", "", nil),
		res("aws:lb/loadBalancer:LoadBalancer", "alb", "us-east-1", "ecommerce:ingress:Ingress::in", nil),
		res("kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding", "auth", "us-east-1", "ecommerce:ingress:Ingress::in",
			map[string]any{"metadata": map[string]any{"name": "auth", "namespace": "auth"}, "spec": map[string]any{"serviceRef": map[string]any{"name": "auth"}}}),
		res("kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding", "user", "us-east-1", "ecommerce:ingress:Ingress::in",
			map[string]any{"metadata": map[string]any{"name": "user", "namespace": "user"}, "spec": map[string]any{"serviceRef": map[string]any{"name": "user"}}}),
		res("ecommerce:workload:Service", "auth", "us-east-1", "", nil),
		res("kubernetes:core/v1:Service", "auth", "us-east-1", "ecommerce:workload:Service::auth", map[string]any{"metadata": map[string]any{"name": "auth", "namespace": "auth"}}),
		res("ecommerce:workload:Service", "user", "us-east-1", "", nil),
		res("kubernetes:core/v1:Service", "user", "us-east-1", "ecommerce:workload:Service::user", map[string]any{"metadata": map[string]any{"name": "user", "namespace": "other"}}),
	)
	g := diagram.Build(p)
	var edges []string
	for _, e := range g.Edges {
		edges = append(edges, fmt.Sprintf("%s -> %s %s x%d", e.From.ID(), e.To.ID(), e.Label, e.Count))
	}
	assert.Equal(t, []string{"global/ingress -> global/service requests x1"}, edges, "user's binding names a Service in another namespace: no edge")
}

// A region's log groups feed the central streams (directly or through a
// destination), and its access-log bucket replicates into the central
// bucket: each is one edge to the central store.
func TestCentralLogsDrawLogsAndAccessLogs(t *testing.T) {
	const central = "ecommerce:centrallog:Central::central-logs"
	const fwd = "ecommerce:centrallog:Forwarder::central-logs-eu-west-1"
	p := planfile.New("s",
		res("ecommerce:region:Region", "eu-west-1", "eu-west-1", "", nil),
		res("ecommerce:observe:Observability", "eu-obs", "eu-west-1", "ecommerce:region:Region::eu-west-1", nil),
		res("aws:cloudwatch/logGroup:LogGroup", "app", "eu-west-1", "ecommerce:observe:Observability::eu-obs", nil),
		res("ecommerce:ingress:Ingress", "eu-in", "eu-west-1", "ecommerce:region:Region::eu-west-1", nil),
		res("aws:s3/bucketV2:BucketV2", "alb-logs", "eu-west-1", "ecommerce:ingress:Ingress::eu-in", nil),
		res("aws:s3/bucketVersioningV2:BucketVersioningV2", "alb-logs", "eu-west-1", "ecommerce:ingress:Ingress::eu-in", nil),
		res("ecommerce:centrallog:Central", "central-logs", "", "", nil),
		res("aws:s3/bucketV2:BucketV2", "central-logs", "us-east-1", central, map[string]any{"bucketPrefix": "ecommerce-prod-logs-"}),
		res("aws:s3/bucketVersioningV2:BucketVersioningV2", "central-logs", "us-east-1", central, nil),
		res("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "containers-eu", "us-east-1", central, nil),
		res("ecommerce:centrallog:Forwarder", "central-logs-eu-west-1", "", "", nil),
		res("aws:cloudwatch/logDestination:LogDestination", "dest", "eu-west-1", fwd, nil,
			"aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream::containers-eu"),
		res("aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter", "filter", "eu-west-1", fwd, nil,
			"aws:cloudwatch/logGroup:LogGroup::app", "aws:cloudwatch/logDestination:LogDestination::dest"),
		res("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "rep", "eu-west-1", fwd,
			map[string]any{"rules": []any{map[string]any{"destination": map[string]any{"bucket": "arn:aws:s3:::ecommerce-prod-logs-0123abcd"}}}},
			"aws:s3/bucketV2:BucketV2::alb-logs", "aws:s3/bucketVersioningV2:BucketVersioningV2::alb-logs",
			"aws:s3/bucketV2:BucketV2::central-logs", "aws:s3/bucketVersioningV2:BucketVersioningV2::central-logs"),
	)
	g := diagram.Build(p)
	var edges []string
	for _, e := range g.Edges {
		edges = append(edges, e.From.ID()+" -> "+e.To.ID()+" "+e.Label)
	}
	assert.ElementsMatch(t, []string{
		"eu-west-1/observability -> global/central logs",
		"eu-west-1/ingress -> global/central access logs",
	}, edges)
}
