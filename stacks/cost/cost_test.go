package cost_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/stacks/cost"
	"github.com/example/ecommerce-platform/stacks/planfile"
)

const urnPrefix = "urn:pulumi:s::p::"

func res(typ, name, region, parent string, inputs map[string]any, deps ...string) *planfile.Resource {
	if inputs == nil {
		inputs = map[string]any{}
	}
	// Inputs go through JSON as in a plan file: numbers become float64.
	b, _ := json.Marshal(inputs)
	var in map[string]any
	_ = json.Unmarshal(b, &in)
	r := &planfile.Resource{URN: urnPrefix + typ + "::" + name, Type: typ, Name: name, Region: region, Inputs: in, DependsOn: deps}
	if parent != "" {
		r.Parent = urnPrefix + parent
	}
	return r
}

// small is a hand-built plan: a master region with a cluster, network,
// database and cache; a replica region; a region with no price table.
func small() *planfile.Plan {
	return planfile.New("s",
		res("pulumi:providers:aws", "aws-us-east-1", "us-east-1", "", map[string]any{"defaultTags": map[string]any{"tags": map[string]any{"environment": "prod"}}}),
		res("ecommerce:region:Region", "us-east-1", "us-east-1", "", nil),
		res("ecommerce:cluster:Cluster", "c", "us-east-1", "ecommerce:region:Region::us-east-1", nil),
		res("aws:eks/cluster:Cluster", "c", "us-east-1", "ecommerce:cluster:Cluster::c", nil),
		res("aws:ec2/launchTemplate:LaunchTemplate", "lt", "us-east-1", "ecommerce:cluster:Cluster::c",
			map[string]any{"blockDeviceMappings": []any{map[string]any{"ebs": map[string]any{"volumeSize": 100}}}}),
		res("aws:eks/nodeGroup:NodeGroup", "workload", "us-east-1", "ecommerce:cluster:Cluster::c",
			map[string]any{"instanceTypes": []string{"m6i.2xlarge", "m6a.2xlarge"}, "capacityType": "ON_DEMAND", "scalingConfig": map[string]any{"desiredSize": 6}},
			urnPrefix+"aws:ec2/launchTemplate:LaunchTemplate::lt"),
		res("aws:eks/nodeGroup:NodeGroup", "odd", "us-east-1", "ecommerce:cluster:Cluster::c",
			map[string]any{"instanceTypes": []string{"x9.huge"}, "scalingConfig": map[string]any{"desiredSize": 1}, "diskSize": 20}),
		res("ecommerce:network:Network", "n", "us-east-1", "ecommerce:region:Region::us-east-1", nil),
		res("aws:ec2/vpc:Vpc", "n", "us-east-1", "ecommerce:network:Network::n", nil),
		res("aws:ec2/natGateway:NatGateway", "nat-a", "us-east-1", "ecommerce:network:Network::n", nil),
		res("aws:ec2/eip:Eip", "nat-a", "us-east-1", "ecommerce:network:Network::n", nil),
		res("aws:ec2/vpcEndpoint:VpcEndpoint", "sts", "us-east-1", "ecommerce:network:Network::n",
			map[string]any{"vpcEndpointType": "Interface", "subnetIds": []string{"a", "b", "c"}}),
		res("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", "us-east-1", "ecommerce:network:Network::n", map[string]any{"vpcEndpointType": "Gateway"}),
		res("aws:cloudwatch/logGroup:LogGroup", "cp", "us-east-1", "ecommerce:cluster:Cluster::c",
			map[string]any{"name": "/aws/eks/c/cluster", "retentionInDays": 30}),
		res("ecommerce:database:Databases", "db", "us-east-1", "ecommerce:region:Region::us-east-1", nil),
		res("aws:rds/instance:Instance", "db-order", "us-east-1", "ecommerce:database:Databases::db",
			map[string]any{"engine": "postgres", "instanceClass": "db.r6g.xlarge", "multiAz": true, "allocatedStorage": 200, "storageType": "gp3"}),
		res("ecommerce:cache:Cache", "cache", "us-east-1", "ecommerce:region:Region::us-east-1", nil),
		res("aws:elasticache/replicationGroup:ReplicationGroup", "cache", "us-east-1", "ecommerce:cache:Cache::cache",
			map[string]any{"engine": "redis", "nodeType": "cache.r7g.large", "numCacheClusters": 3}),
		res("aws:kms/key:Key", "data", "us-east-1", "ecommerce:region:Region::us-east-1", nil),
		res("aws:secretsmanager/secret:Secret", "order", "us-east-1", "ecommerce:region:Region::us-east-1", nil),
		res("aws:sqs/queue:Queue", "q", "us-east-1", "ecommerce:region:Region::us-east-1", nil),
		res("aws:dynamodb/table:Table", "t", "us-east-1", "ecommerce:region:Region::us-east-1", nil),

		res("ecommerce:region:Region", "eu-west-1", "eu-west-1", "", nil),
		res("ecommerce:database:Databases", "db-eu", "eu-west-1", "ecommerce:region:Region::eu-west-1", nil),
		res("aws:rds/instance:Instance", "db-order-eu", "eu-west-1", "ecommerce:database:Databases::db-eu",
			map[string]any{"replicateSourceDb": "arn:aws:rds:us-east-1:1:db:order", "instanceClass": "db.r6g.xlarge", "multiAz": false, "allocatedStorage": 200, "storageType": "gp3"}),

		res("ecommerce:region:Region", "af-south-1", "af-south-1", "", nil),
		res("aws:ec2/natGateway:NatGateway", "nat-af", "af-south-1", "ecommerce:region:Region::af-south-1", nil),
		res("aws:kms/key:Key", "data-af", "af-south-1", "ecommerce:region:Region::af-south-1", nil),
	)
}

func assumptions() cost.Assumptions {
	a := cost.DefaultAssumptions("prod")
	a.NATGBPerGateway = 100
	a.EndpointGBPerRegion = 50
	a.ControlPlaneLogGBPerCluster = 10
	return a
}

func find(t *testing.T, e *cost.Estimate, region, item string) cost.Line {
	t.Helper()
	for _, l := range e.Lines {
		if l.Region == region && l.Item == item {
			return l
		}
	}
	t.Fatalf("no line %q in %s; lines: %+v", item, region, e.Lines)
	return cost.Line{}
}

// The arithmetic, line by line, on the small plan: each figure is count x
// quantity x the table's price.
func TestPriceSmallPlan(t *testing.T) {
	e := cost.Price(small(), assumptions())
	assert.Equal(t, "prod", e.Environment, "from the provider's default tags")

	want := []struct {
		region, item string
		usd          float64
	}{
		{"us-east-1", "EKS control plane (standard support)", 73.00},                                  // 730 h x 0.10
		{"us-east-1", "nodes m6i.2xlarge (desired size; first of m6i.2xlarge, m6a.2xlarge)", 1681.92}, // 6 x 730 x 0.384
		{"us-east-1", "node root volumes gp3 100 GB", 48.00},                                          // 6 x 100 x 0.08
		{"us-east-1", "node root volumes gp3 20 GB", 1.60},                                            // the unpriced type's node: 1 x 20 x 0.08
		{"us-east-1", "NAT gateway", 32.85},                                                           // 730 x 0.045
		{"us-east-1", "NAT gateway data processed (nat-gb)", 4.50},                                    // 100 GB x 0.045
		{"us-east-1", "public IPv4 address (Elastic IP)", 3.65},                                       // 730 x 0.005
		{"us-east-1", "interface endpoint x 3 AZ", 21.90},                                             // 3 x 730 x 0.01
		{"us-east-1", "interface endpoint data processed (endpoint-gb)", 0.50},                        // 50 GB x 0.01
		{"us-east-1", "log ingestion: EKS control-plane logs (control-plane-log-gb)", 5.00},           // 10 GB x 0.50
		{"us-east-1", "RDS PostgreSQL db.r6g.xlarge, primary + Multi-AZ standby", 657.00},             // 2 x 730 x 0.45
		{"us-east-1", "RDS gp3 storage 200 GB (x2, Multi-AZ)", 46.00},                                 // 2 x 200 x 0.115
		{"us-east-1", "ElastiCache cache.r7g.large node (primary + 2 replica(s))", 479.61},            // 3 x 730 x 0.219
		{"us-east-1", "KMS customer-managed key", 1.00},
		{"us-east-1", "Secrets Manager secret", 0.40},
		{"eu-west-1", "RDS PostgreSQL db.r6g.xlarge, cross-region read replica", 367.92}, // 730 x 0.504
		{"eu-west-1", "RDS gp3 storage 200 GB", 25.40},                                   // 200 x 0.127
		{"af-south-1", "KMS customer-managed key", 1.00},                                 // the same in every region
	}
	sum := 0.0
	for _, w := range want {
		l := find(t, e, w.region, w.item)
		assert.InDelta(t, w.usd, l.Monthly(), 0.005, "%s %s: %s", w.region, w.item, l.Detail())
		sum += w.usd
	}
	assert.Len(t, e.Lines, len(want), "nothing priced beyond the lines above (the gateway endpoint, VPC and launch template are free); an unpriced instance type still has its volumes priced")
	assert.InDelta(t, sum, e.Total(), 0.01)
	assert.InDelta(t, 3056.93, e.RegionTotals()["us-east-1"], 0.01)

	l := find(t, e, "us-east-1", "nodes m6i.2xlarge (desired size; first of m6i.2xlarge, m6a.2xlarge)")
	assert.Equal(t, "cluster", l.Component, "priced under the region's component that owns it")
	assert.Equal(t, "region", find(t, e, "us-east-1", "Secrets Manager secret").Component, "right under the Region component")
	assert.Equal(t, "6 x 730 h x $0.384/h", l.Detail())

	notPriced := map[string]string{}
	for _, n := range e.NotPriced {
		notPriced[n.Region+" "+n.What] = n.Why
	}
	assert.Equal(t, "no EC2 price for it in us-east-1 in stacks/cost/prices.go", notPriced["us-east-1 nodes x9.huge"])
	assert.Equal(t, "no price rule for this type in stacks/cost", notPriced["us-east-1 aws:dynamodb/table:Table"])
	assert.Contains(t, notPriced["us-east-1 SQS queue"], "priced per request")
	assert.Equal(t, "no prices for region af-south-1 in stacks/cost/prices.go", notPriced["af-south-1 NAT gateway"])
	assert.Contains(t, notPriced["eu-west-1 cross-region replication traffic"], "depends on the write rate", "a replica's inbound stream is named, not priced")
}

// What the traffic path adds, when the plan has it: load balancer hours
// and capacity units, its public addresses, CloudFront requests, WAF.
func TestPriceEdge(t *testing.T) {
	p := planfile.New("s",
		res("aws:lb/loadBalancer:LoadBalancer", "alb", "us-east-1", "", map[string]any{"loadBalancerType": "application", "subnets": []string{"a", "b", "c"}}),
		res("aws:lb/loadBalancer:LoadBalancer", "nlb", "us-east-1", "", map[string]any{"loadBalancerType": "network"}),
		res("aws:cloudfront/distribution:Distribution", "cdn", "us-east-1", "", nil),
		res("aws:wafv2/webAcl:WebAcl", "waf", "us-east-1", "", map[string]any{"rules": []any{
			map[string]any{"name": "common"}, map[string]any{"name": "bad-inputs"},
			map[string]any{"name": "bots", "statement": map[string]any{"managedRuleGroupStatement": map[string]any{"name": "AWSManagedRulesBotControlRuleSet"}}},
		}}),
		res("aws:route53/healthCheck:HealthCheck", "hc", "", "", map[string]any{"type": "HTTPS_STR_MATCH", "requestInterval": 30}),
		res("aws:s3/bucketV2:BucketV2", "alb-logs", "us-east-1", "", nil),
		res("aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "alb-logs", "us-east-1", "", nil),
		res("aws:backup/vault:Vault", "vault", "us-east-1", "", nil),
		res("aws:backup/plan:Plan", "plan", "us-east-1", "", nil),
	)
	a := cost.DefaultAssumptions("prod")
	// One new connection per request and nothing in the responses: the
	// capacity units are new connections / 25.
	a.RequestsPerSecond, a.RequestsPerConnection, a.ResponseKB = 2500, 1, 0
	e := cost.Price(p, a)
	for item, usd := range map[string]float64{
		"application load balancer": 16.43, // 730 x 0.0225
		"load balancer capacity units (2500 requests/s here: rps / regions, response-kb)": 584.00,  // 2500/25 = 100 LCU x 730 x 0.008
		"public IPv4 addresses of the load balancer (3 AZ)":                               10.95,   // 3 x 730 x 0.005
		"CloudFront HTTPS requests (rps, US/Europe edges)":                                6570.00, // 2500 x 730 x 3600 / 10k x 0.01
		"WAF web ACL": 5.00,
		"WAF rules (3; a managed rule group is one)":                                  3.00,
		"WAF requests inspected (rps)":                                                3942.00, // 6570 M requests x 0.60
		"Route 53 health check (AWS endpoint)":                                        0.50,
		"Route 53 health check options (HTTPS, string match, fast interval, latency)": 2.00, // HTTPS + string match
	} {
		var region = "us-east-1"
		if item[:5] == "Route" {
			region = ""
		}
		assert.InDelta(t, usd, find(t, e, region, item).Monthly(), 0.005, item)
	}
	var why []string
	for _, n := range e.NotPriced {
		why = append(why, n.What+": "+n.Why)
	}
	assert.ElementsMatch(t, []string{
		"load balancer nlb: type network: only application load balancers are priced",
		"WAF AWSManagedRulesBotControlRuleSet: a paid managed rule group: its subscription and request fees are not in the table",
		"S3 bucket: storage (0.023 USD per GB-month of Standard in us-east-1) and requests depend on what is written to it, such as access logs",
		"AWS Backup vault: recovery points are priced per GB-month (about 0.095 USD for RDS snapshots in us-east-1) and cross-region copies per GB transferred; both depend on the data size",
	}, why, "the bucket and the vault are named once; the lifecycle configuration and the backup plan are free")
}

// A region's container and dataplane logs are priced at their own
// assumptions twice, as CloudWatch Logs ingestion of their Container
// Insights groups and as Firehose ingestion of their central streams;
// the WAF stream and the other groups stay at other-log-gb.
func TestPriceContainerAndDataplaneLogs(t *testing.T) {
	insights := func(kind string) *planfile.Resource {
		return res("aws:cloudwatch/logGroup:LogGroup", "insights-"+kind, "us-east-1", "", map[string]any{"name": "/aws/containerinsights/c/" + kind, "retentionInDays": 30})
	}
	stream := func(source string) *planfile.Resource {
		return res("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "central-logs-"+source, "us-east-1", "",
			map[string]any{"name": "s-" + source, "tags": map[string]any{"source": source, "source-region": "eu-west-1"}})
	}
	p := planfile.New("s", insights("application"), insights("dataplane"), insights("host"), stream("containers"), stream("dataplane"), stream("waf"))
	a := cost.DefaultAssumptions("prod")
	assert.InDelta(t, 900, a.ContainerLogGBPerRegion, 0, "prod's stated figure")
	assert.InDelta(t, 30, a.DataplaneLogGBPerRegion, 0)
	a.ContainerLogGBPerRegion, a.DataplaneLogGBPerRegion, a.OtherLogGBPerGroup = 200, 20, 2
	e := cost.Price(p, a)
	for item, usd := range map[string]float64{
		"log ingestion: container logs (container-log-gb)":                 100.00, // 200 GB x 0.50
		"log ingestion: dataplane logs (dataplane-log-gb)":                 10.00,  // 20 GB x 0.50
		"log ingestion: other log groups (other-log-gb)":                   1.00,   // the host group: 2 GB x 0.50
		"Firehose ingestion: a region's container logs (container-log-gb)": 5.80,   // 200 GB x 0.029
		"Firehose ingestion: a region's dataplane logs (dataplane-log-gb)": 0.58,   // 20 GB x 0.029
		"Firehose ingestion: a forwarded log group (other-log-gb)":         0.058,  // WAF: 2 GB x 0.029
	} {
		assert.InDelta(t, usd, find(t, e, "us-east-1", item).Monthly(), 0.005, item)
	}
	var out bytes.Buffer
	require.NoError(t, e.Write(&out))
	assert.Contains(t, out.String(), "container-log-gb = 200 GB per region per month")
	assert.Contains(t, out.String(), "dataplane-log-gb = 20 GB per region per month")
}

func TestTiered(t *testing.T) {
	assert.InDelta(t, 0.0, cost.Tiered(0, cost.CloudFrontOut), 1e-9)
	assert.InDelta(t, 85.0, cost.Tiered(1000, cost.CloudFrontOut), 1e-9)
	// 10 TB at 0.085, 40 TB at 0.080, 10 TB at 0.060
	assert.InDelta(t, 870.4+3276.8+614.4, cost.Tiered(60*1024, cost.CloudFrontOut), 1e-6)
	// beyond the last bound
	assert.InDelta(t, cost.Tiered(5*1024*1024, cost.CloudFrontOut)+1024*0.020, cost.Tiered(5*1024*1024+1024, cost.CloudFrontOut), 1e-6)
}

func TestAssumptionsSetAndPrint(t *testing.T) {
	a := cost.DefaultAssumptions("dev")
	require.NoError(t, a.Set("nat-gb=123.5"))
	assert.InDelta(t, 123.5, a.NATGBPerGateway, 0)
	assert.ErrorContains(t, a.Set("nat-gb=-1"), "-assume nat-gb: \"-1\" is not a number >= 0")
	assert.ErrorContains(t, a.Set("natgb=1"), "no such assumption; names: container-log-gb, control-plane-log-gb, database-log-gb, dataplane-log-gb")
	assert.ErrorContains(t, a.Set("nat-gb"), "want name=value")

	var out bytes.Buffer
	e := cost.Price(small(), a)
	require.NoError(t, e.Write(&out))
	s := out.String()
	assert.Contains(t, s, "Monthly cost estimate of stack s (environment prod): $")
	assert.Contains(t, s, "hours per month: 730")
	assert.Contains(t, s, "nat-gb = 123.5 GB per NAT gateway per month")
	assert.Contains(t, s, "rps = 2 requests/s")
	assert.Contains(t, s, "Not priced (left out of the total):")
	assert.Contains(t, s, "af-south-1 region: NAT gateway x 1: no prices for region af-south-1")
	assert.Contains(t, s, "rds          https://aws.amazon.com/rds/postgresql/pricing/")
	assert.Contains(t, s, "written "+cost.PricesDate)
}

func TestMoney(t *testing.T) {
	for v, want := range map[float64]string{0: "$0.00", 1.006: "$1.01", 1.004: "$1.00", 1234567.891: "$1,234,567.89", 999.999: "$1,000.00", -12.5: "-$12.50"} {
		assert.Equal(t, want, cost.Money(v), "%v", v)
	}
}

// Every price in the table has a source, and every region priced has
// every regional figure (a zero would price something at nothing).
func TestPriceTableIsComplete(t *testing.T) {
	for region, p := range cost.Prices {
		for name, v := range map[string]float64{"EBSGp3": p.EBSGp3, "RDSGp3": p.RDSGp3, "NATHour": p.NATHour, "NATGB": p.NATGB,
			"EndpointHour": p.EndpointHour, "EndpointGB": p.EndpointGB, "ALBHour": p.ALBHour, "ALBLCUHour": p.ALBLCUHour, "LogsIngestGB": p.LogsIngestGB} {
			assert.Positive(t, v, "%s %s", region, name)
		}
		for _, table := range []map[string]float64{p.EC2, p.RDSPostgres, p.ElastiCacheRedis} {
			assert.NotEmpty(t, table, region)
			for k, v := range table {
				assert.Positive(t, v, "%s %s", region, k)
			}
		}
	}
	for _, shipped := range []string{"us-east-1", "eu-west-1", "ap-south-1"} {
		assert.Contains(t, cost.Prices, shipped)
	}
}

func TestMarkdownTable(t *testing.T) {
	e := cost.Price(small(), assumptions())
	table := cost.MarkdownTable([]*cost.Estimate{e})
	assert.Equal(t, "| Stack | Per month (on demand) | By region | Largest components | Not priced |\n"+
		"|---|---:|---|---|---|\n"+
		"| s | $3,451.25 | af-south-1 $1.00, eu-west-1 $393.32, us-east-1 $3,056.93 | cluster $1,809.52, database $1,096.32, cache $479.61 | 5 items of 5 kinds |\n", table)
}
