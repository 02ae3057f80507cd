// Package diagram draws a stack from its offline plan (`make plan OUT=`):
// regions as clusters, the components of each region as nodes, and the data
// flows the plan encodes as edges: database replication from a primary to
// its replicas, events from topics to the queues subscribed to them in every
// region, and, when the plan has them, edge -> load balancer -> services.
// It writes Graphviz DOT in a deterministic order; `dot` renders it.
package diagram

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode"

	"github.com/example/ecommerce-platform/stacks/planfile"
)

// Node is one component kind in one region ("" region: the stack's global
// components).
type Node struct {
	Region string
	Kind   string // the component's type token
	Names  []string
	// Contents counts the resources that say what the node is, by label.
	Contents map[string]int
	// title is Title(Kind), qualified by the module when two kinds in the
	// region share a type name (ecommerce:edge:Global beside
	// ecommerce:global:Global: "edge global").
	title string
}

// ID is the node's DOT identifier.
func (n *Node) ID() string { return regionLabel(n.Region) + "/" + n.Title() }

// Title is the node's kind in words, unique in its region.
func (n *Node) Title() string {
	if n.title != "" {
		return n.title
	}
	return Title(n.Kind)
}

// Edge is a data flow between two nodes.
type Edge struct {
	From, To *Node
	Label    string
	Count    int
}

// Graph is what the diagram shows.
type Graph struct {
	Stack string
	// Master is the region holding primaries (and topics), "" if none.
	Master string
	Nodes  []*Node
	Edges  []*Edge
}

// Notable are the types a node's label counts, with their label; other
// resources (roles, policies, routes, ...) are in the node but not listed.
var Notable = map[string]string{
	"aws:ec2/vpc:Vpc":                                           "VPC",
	"aws:ec2/natGateway:NatGateway":                             "NAT gateway",
	"aws:ec2/vpcEndpoint:VpcEndpoint":                           "VPC endpoint",
	"aws:eks/cluster:Cluster":                                   "EKS cluster",
	"aws:eks/nodeGroup:NodeGroup":                               "node group",
	"aws:rds/instance:Instance":                                 "PostgreSQL",
	"aws:elasticache/replicationGroup:ReplicationGroup":         "Redis",
	"aws:sns/topic:Topic":                                       "SNS topic",
	"aws:sqs/queue:Queue":                                       "SQS queue",
	"aws:secretsmanager/secret:Secret":                          "secret",
	"aws:kms/key:Key":                                           "KMS key",
	"aws:ecr/repository:Repository":                             "ECR repository",
	"aws:ecr/replicationConfiguration:ReplicationConfiguration": "ECR replication rule",
	"aws:iam/role:Role":                                         "IAM role",
	"kubernetes:apps/v1:Deployment":                             "Deployment",
	"aws:lb/loadBalancer:LoadBalancer":                          "load balancer",
	"aws:alb/loadBalancer:LoadBalancer":                         "load balancer",
	"aws:lb/targetGroup:TargetGroup":                            "target group",
	"aws:alb/targetGroup:TargetGroup":                           "target group",
	"aws:cloudfront/distribution:Distribution":                  "CloudFront",
	"aws:wafv2/webAcl:WebAcl":                                   "WAF web ACL",
	"aws:route53/zone:Zone":                                     "hosted zone",
	"aws:route53/healthCheck:HealthCheck":                       "health check",
	"aws:acm/certificate:Certificate":                           "certificate",
	"random:index/randomPassword:RandomPassword":                "generated password",
	"random:index/randomBytes:RandomBytes":                      "generated key",
	"aws:cloudwatch/metricAlarm:MetricAlarm":                    "alarm",
	"aws:cloudwatch/dashboard:Dashboard":                        "dashboard",
	"aws:backup/vault:Vault":                                    "backup vault",
	"aws:backup/plan:Plan":                                      "backup plan",
	"aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": "Firehose stream",
	"aws:s3/bucketV2:BucketV2":                                  "S3 bucket",
}

// edgeOnly are types the diagram draws as edges, not as a node's content:
// a component holding only these has no node.
var edgeOnly = map[string]bool{
	"aws:sns/topicSubscription:TopicSubscription": true,
}

var (
	lbTypes          = map[string]bool{"aws:lb/loadBalancer:LoadBalancer": true, "aws:alb/loadBalancer:LoadBalancer": true}
	targetGroupTypes = map[string]bool{"aws:lb/targetGroup:TargetGroup": true, "aws:alb/targetGroup:TargetGroup": true}
)

const (
	rdsInstance  = "aws:rds/instance:Instance"
	subscription = "aws:sns/topicSubscription:TopicSubscription"
	distribution = "aws:cloudfront/distribution:Distribution"
	snsTopic     = "aws:sns/topic:Topic"
	sqsQueue     = "aws:sqs/queue:Queue"
	k8sService   = "kubernetes:core/v1:Service"
	logGroup     = "aws:cloudwatch/logGroup:LogGroup"
	logFilter    = "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter"
	logDest      = "aws:cloudwatch/logDestination:LogDestination"
	firehose     = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
	s3Bucket     = "aws:s3/bucketV2:BucketV2"
	s3Versioning = "aws:s3/bucketVersioningV2:BucketVersioningV2"
	s3Replicate  = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
	// targetGroupBinding is the AWS Load Balancer Controller's resource
	// that registers a Service's pods in a target group.
	targetGroupBinding = "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding"
)

// Build reads the graph out of a plan.
func Build(p *planfile.Plan) *Graph {
	g := &Graph{Stack: p.Stack}
	nodes := map[[2]string]*Node{}
	nodeOf := map[string]*Node{} // resource URN -> node
	componentRegion := func(c *planfile.Resource) string {
		// A component under a Region belongs to it; the rest are global.
		for cur := c; cur != nil; cur = p.Lookup(cur.Parent) {
			if cur.Type == planfile.RegionType {
				return cur.Name
			}
		}
		return ""
	}
	for _, r := range p.Resources {
		if !r.Custom() || strings.HasPrefix(r.Type, "pulumi:providers:") {
			continue
		}
		c := p.Component(r)
		if c == nil {
			continue
		}
		region := componentRegion(c)
		key := [2]string{region, c.Type}
		n := nodes[key]
		if n == nil {
			n = &Node{Region: region, Kind: c.Type, Contents: map[string]int{}}
			nodes[key] = n
		}
		if !contains(n.Names, c.Name) {
			n.Names = append(n.Names, c.Name)
		}
		nodeOf[r.URN] = n
		if label, ok := Notable[r.Type]; ok {
			n.Contents[label]++
		}
		if r.Type == rdsInstance && r.String("replicateSourceDb") == "" && region != "" {
			g.Master = region
		}
	}
	// Kinds that share a type name in one region are told apart by module,
	// so each keeps its own node (and DOT identifier).
	titles := map[[2]string]int{}
	for _, n := range nodes {
		titles[[2]string{n.Region, Title(n.Kind)}]++
	}
	for _, n := range nodes {
		if titles[[2]string{n.Region, Title(n.Kind)}] > 1 {
			if mod := planfile.Module(n.Kind); mod != Title(n.Kind) {
				n.title = mod + " " + Title(n.Kind)
			}
		}
	}
	edges := map[[3]string]*Edge{}
	addEdge := func(from, to *Node, label string) {
		if from == nil || to == nil {
			return
		}
		key := [3]string{from.ID(), to.ID(), label}
		if e := edges[key]; e != nil {
			e.Count++
			return
		}
		edges[key] = &Edge{From: from, To: to, Label: label, Count: 1}
	}
	depsOfType := func(r *planfile.Resource, match func(string) bool) []*planfile.Resource {
		var out []*planfile.Resource
		for _, d := range r.DependsOn {
			if dr := p.Lookup(d); dr != nil && match(dr.Type) {
				out = append(out, dr)
			}
		}
		return out
	}
	// Kubernetes Services by region, namespace and name: a
	// TargetGroupBinding names the Service its load balancer sends to.
	k8sServices := map[[3]string]*planfile.Resource{}
	for _, r := range p.OfType(k8sService) {
		k8sServices[[3]string{r.Region, r.String("metadata.namespace"), r.String("metadata.name")}] = r
	}
	for _, r := range p.Resources {
		if r.Type == targetGroupBinding {
			// A binding beside its load balancer: the requests go to the
			// Service it names, in the binding's namespace.
			svc := k8sServices[[3]string{r.Region, r.String("metadata.namespace"), r.String("spec.serviceRef.name")}]
			if svc != nil && nodeOf[svc.URN] != nodeOf[r.URN] {
				addEdge(nodeOf[r.URN], nodeOf[svc.URN], "requests")
			}
		}
		switch {
		case r.Type == rdsInstance && r.String("replicateSourceDb") != "":
			// The replica waits for its source through the input.
			for _, src := range depsOfType(r, func(t string) bool { return t == rdsInstance }) {
				addEdge(nodeOf[src.URN], nodeOf[r.URN], "replication")
			}
		case r.Type == subscription:
			topics := depsOfType(r, func(t string) bool { return t == snsTopic })
			queues := depsOfType(r, func(t string) bool { return t == sqsQueue })
			for _, t := range topics {
				for _, q := range queues {
					addEdge(nodeOf[t.URN], nodeOf[q.URN], "events")
				}
			}
		case r.Type == logFilter:
			// A log group's events, to a stream directly or through a
			// destination of the group's region.
			streams := depsOfType(r, func(t string) bool { return t == firehose })
			for _, d := range depsOfType(r, func(t string) bool { return t == logDest }) {
				streams = append(streams, depsOfType(d, func(t string) bool { return t == firehose })...)
			}
			for _, g := range depsOfType(r, func(t string) bool { return t == logGroup }) {
				for _, s := range streams {
					addEdge(nodeOf[g.URN], nodeOf[s.URN], "logs")
				}
			}
		case r.Type == s3Replicate:
			// From the source bucket's component (its versioning, which
			// the configuration waits for) to the destination bucket's,
			// known by the name (or name prefix) its ARN starts with.
			dest := strings.TrimPrefix(r.String("rules.0.destination.bucket"), "arn:aws:s3:::")
			for _, b := range depsOfType(r, func(t string) bool { return t == s3Bucket }) {
				name := b.String("bucket")
				if name == "" {
					name = b.String("bucketPrefix")
				}
				if name == "" || !strings.HasPrefix(dest, name) {
					continue
				}
				for _, v := range depsOfType(r, func(t string) bool { return t == s3Versioning }) {
					if from, to := nodeOf[v.URN], nodeOf[b.URN]; from != to {
						addEdge(from, to, "access logs")
					}
				}
			}
		case r.Type == distribution:
			for _, lb := range depsOfType(r, func(t string) bool { return lbTypes[t] }) {
				addEdge(nodeOf[r.URN], nodeOf[lb.URN], "HTTPS origin")
			}
		case !targetGroupTypes[r.Type] && !lbTypes[r.Type]:
			// Whatever binds a service to a load balancer's target group
			// (a TargetGroupBinding, a listener's target) is traffic from
			// the load balancer's component to the binder's.
			for _, tg := range depsOfType(r, func(t string) bool { return targetGroupTypes[t] }) {
				if from, to := nodeOf[tg.URN], nodeOf[r.URN]; from != to {
					addEdge(from, to, "requests")
				}
			}
		}
	}
	for _, n := range nodes {
		if len(n.Contents) == 0 && allEdgeOnly(p, n, nodeOf) {
			continue
		}
		sort.Strings(n.Names)
		g.Nodes = append(g.Nodes, n)
	}
	sort.Slice(g.Nodes, func(i, j int) bool { return nodeLess(g, g.Nodes[i], g.Nodes[j]) })
	for _, e := range edges {
		g.Edges = append(g.Edges, e)
	}
	sort.Slice(g.Edges, func(i, j int) bool {
		a, b := g.Edges[i], g.Edges[j]
		if a.From.ID() != b.From.ID() {
			return nodeLess(g, a.From, b.From)
		}
		if a.To.ID() != b.To.ID() {
			return nodeLess(g, a.To, b.To)
		}
		return a.Label < b.Label
	})
	return g
}

func allEdgeOnly(p *planfile.Plan, n *Node, nodeOf map[string]*Node) bool {
	for _, r := range p.Resources {
		if nodeOf[r.URN] == n && !edgeOnly[r.Type] {
			return false
		}
	}
	return true
}

// kindOrder orders the kinds inside a region (by type name), foundations
// first, then along a request: ingress, services, data, events.
var kindOrder = []string{"global", "edge", "registry", "replication", "regionalkeys", "network", "cluster",
	"ingress", "service", "settings", "databases", "cache", "topics", "queues", "subscriptions"}

func kindRank(kind string) int {
	t := strings.ToLower(typeName(kind))
	for i, k := range kindOrder {
		if t == k {
			return i
		}
	}
	return len(kindOrder) // unknown kinds last, by type
}

// nodeLess orders nodes: global first, then the master region, then the
// other regions by name; inside a region by kindOrder, then by type.
func nodeLess(g *Graph, a, b *Node) bool {
	ra, rb := regionRank(g, a.Region), regionRank(g, b.Region)
	if ra != rb {
		return ra < rb
	}
	if a.Region != b.Region {
		return a.Region < b.Region
	}
	if ka, kb := kindRank(a.Kind), kindRank(b.Kind); ka != kb {
		return ka < kb
	}
	return a.Kind < b.Kind
}

func regionRank(g *Graph, region string) int {
	switch region {
	case "":
		return 0
	case g.Master:
		return 1
	}
	return 2
}

func regionLabel(r string) string {
	if r == "" {
		return "global"
	}
	return r
}

func typeName(token string) string {
	parts := strings.Split(token, ":")
	return parts[len(parts)-1]
}

// Title is a component type's name in words: "ecommerce:keys:RegionalKeys"
// -> "regional keys". Build qualifies it by module where two kinds in a
// region share it.
func Title(token string) string {
	var b strings.Builder
	for i, c := range typeName(token) {
		if unicode.IsUpper(c) && i > 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

// Label is the node's text: its kind, then its notable contents.
func (n *Node) Label() string {
	lines := []string{n.Title()}
	if strings.HasSuffix(n.Kind, ":Service") && len(n.Names) > 1 {
		lines[0] = fmt.Sprintf("services (%d)", len(n.Names))
	}
	labels := make([]string, 0, len(n.Contents))
	for l := range n.Contents {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	for _, l := range labels {
		lines = append(lines, fmt.Sprintf("%d %s", n.Contents[l], l))
	}
	return strings.Join(lines, `\n`)
}

// WriteDOT writes the graph in Graphviz's DOT language, in a fixed order.
func (g *Graph) WriteDOT(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "// Generated from the offline plan of stack %s by `make diagram STACK=%s`; do not edit.\n", g.Stack, g.Stack)
	fmt.Fprintf(&b, "digraph %q {\n", g.Stack)
	b.WriteString("  graph [rankdir=TB, compound=true, fontname=\"Helvetica\", fontsize=12, nodesep=0.3, ranksep=0.35];\n")
	b.WriteString("  node [shape=box, style=\"rounded,filled\", fillcolor=\"#f5f7fa\", fontname=\"Helvetica\", fontsize=10];\n")
	b.WriteString("  edge [fontname=\"Helvetica\", fontsize=9];\n")
	// Inside a region the nodes are chained by invisible edges in their
	// order (foundations first, then along a request): each region is a
	// column, the regions stand side by side, and the flows between them
	// run across instead of the regions piling into one tall rank.
	var region = "\x00"
	var column []string
	closeRegion := func() {
		for i := 1; i < len(column); i++ {
			fmt.Fprintf(&b, "    %q -> %q [style=invis];\n", column[i-1], column[i])
		}
		column = nil
		b.WriteString("  }\n")
	}
	for _, n := range g.Nodes {
		if n.Region != region {
			if region != "\x00" {
				closeRegion()
			}
			region = n.Region
			label := regionLabel(region)
			if region != "" && region == g.Master {
				label += " (master: primaries, topics)"
			}
			fmt.Fprintf(&b, "  subgraph %q {\n    label=%q;\n    style=\"rounded\";\n", "cluster_"+regionLabel(region), label)
		}
		fmt.Fprintf(&b, "    %q [label=\"%s\"];\n", n.ID(), n.Label())
		column = append(column, n.ID())
	}
	if region != "\x00" {
		closeRegion()
	}
	for _, e := range g.Edges {
		label := e.Label
		if e.Count > 1 {
			label = fmt.Sprintf("%s (%d)", e.Label, e.Count)
		}
		style := ""
		if e.Label == "events" {
			style = ", style=dashed"
		}
		fmt.Fprintf(&b, "  %q -> %q [label=%q%s];\n", e.From.ID(), e.To.ID(), label, style)
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
