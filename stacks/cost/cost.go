// Package cost estimates what a stack costs a month, on demand, from its
// offline plan (`make plan OUT=`): every resource the plan would create is
// priced from the dated table in prices.go under printed assumptions, or
// reported as not priced. Nothing unknown is silently zero.
package cost

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/example/ecommerce-platform/stacks/planfile"
)

// Line is one priced item: Count resources (or units) of Each quantity a
// month at USD per unit.
type Line struct {
	Region    string // "" for what is in no region
	Component string
	Item      string
	Count     int
	Each      float64
	Unit      string
	USD       float64
	Service   string // key of Sources
}

// Monthly is the line's cost a month.
func (l Line) Monthly() float64 { return float64(l.Count) * l.Each * l.USD }

// NotPriced is something the plan creates that costs money the estimate
// leaves out, and why.
type NotPriced struct {
	Region    string
	Component string
	What      string
	Count     int
	Why       string
}

// Estimate is a stack's monthly cost.
type Estimate struct {
	Stack       string
	Environment string
	Assumptions Assumptions
	Lines       []Line
	NotPriced   []NotPriced
}

// Total is the sum of every line.
func (e *Estimate) Total() float64 {
	t := 0.0
	for _, l := range e.Lines {
		t += l.Monthly()
	}
	return t
}

// RegionTotals are the totals by region ("" for no region).
func (e *Estimate) RegionTotals() map[string]float64 {
	out := map[string]float64{}
	for _, l := range e.Lines {
		out[l.Region] += l.Monthly()
	}
	return out
}

// Environment is the stack's environment as its AWS providers tag it
// (the stack name when no provider says).
func Environment(p *planfile.Plan) string {
	for _, r := range p.OfType("pulumi:providers:aws") {
		if env := r.String("defaultTags.tags.environment"); env != "" {
			return env
		}
	}
	return p.Stack
}

// Free are the types that cost nothing by themselves, and why: what they
// cost shows up elsewhere, or AWS does not charge for them.
var Free = map[string]string{
	"aws:ec2/vpc:Vpc":                                                                            "no charge",
	"aws:ec2/subnet:Subnet":                                                                      "no charge",
	"aws:ec2/routeTable:RouteTable":                                                              "no charge",
	"aws:ec2/routeTableAssociation:RouteTableAssociation":                                        "no charge",
	"aws:ec2/internetGateway:InternetGateway":                                                    "no charge (data transfer out is the cost)",
	"aws:ec2/securityGroup:SecurityGroup":                                                        "no charge",
	"aws:ec2/defaultSecurityGroup:DefaultSecurityGroup":                                          "no charge",
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":                                  "no charge",
	"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":                                    "no charge",
	"aws:ec2/launchTemplate:LaunchTemplate":                                                      "priced with its node group's volumes",
	"aws:ec2/flowLog:FlowLog":                                                                    "priced as its log group's ingestion",
	"aws:cloudwatch/logResourcePolicy:LogResourcePolicy":                                         "no charge",
	"aws:iam/role:Role":                                                                          "no charge",
	"aws:iam/rolePolicy:RolePolicy":                                                              "no charge",
	"aws:iam/policy:Policy":                                                                      "no charge",
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment":                                          "no charge",
	"aws:iam/openIdConnectProvider:OpenIdConnectProvider":                                        "no charge",
	"aws:kms/alias:Alias":                                                                        "no charge",
	"aws:eks/accessEntry:AccessEntry":                                                            "no charge",
	"aws:eks/accessPolicyAssociation:AccessPolicyAssociation":                                    "no charge",
	"aws:eks/addon:Addon":                                                                        "no charge (its pods run on the priced nodes)",
	"aws:rds/subnetGroup:SubnetGroup":                                                            "no charge",
	"aws:rds/parameterGroup:ParameterGroup":                                                      "no charge",
	"aws:elasticache/subnetGroup:SubnetGroup":                                                    "no charge",
	"aws:elasticache/parameterGroup:ParameterGroup":                                              "no charge",
	"aws:secretsmanager/secretVersion:SecretVersion":                                             "included in its secret's monthly price",
	"aws:ecr/lifecyclePolicy:LifecyclePolicy":                                                    "no charge (it bounds the repository's storage)",
	"aws:ecr/replicationConfiguration:ReplicationConfiguration":                                  "no charge (the replicas' storage is priced in each region)",
	"aws:sqs/queuePolicy:QueuePolicy":                                                            "no charge",
	"aws:sqs/redriveAllowPolicy:RedriveAllowPolicy":                                              "no charge",
	"aws:sns/topicPolicy:TopicPolicy":                                                            "no charge",
	"aws:sns/topicSubscription:TopicSubscription":                                                "no charge (deliveries to SQS are free)",
	"aws:lb/targetGroup:TargetGroup":                                                             "no charge",
	"aws:lb/listener:Listener":                                                                   "no charge",
	"aws:lb/listenerRule:ListenerRule":                                                           "no charge (rule evaluations are a load balancer capacity dimension)",
	"aws:alb/targetGroup:TargetGroup":                                                            "no charge",
	"aws:alb/listener:Listener":                                                                  "no charge",
	"aws:alb/listenerRule:ListenerRule":                                                          "no charge",
	"aws:acm/certificate:Certificate":                                                            "no charge (public certificates)",
	"aws:acm/certificateValidation:CertificateValidation":                                        "no charge",
	"aws:route53/record:Record":                                                                  "no charge (queries to alias records of AWS resources are free)",
	"aws:wafv2/webAclAssociation:WebAclAssociation":                                              "no charge",
	"aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration":                            "priced as its log group's ingestion",
	"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2":                       "no charge (it bounds the bucket's storage)",
	"aws:s3/bucketOwnershipControls:BucketOwnershipControls":                                     "no charge",
	"aws:s3/bucketPolicy:BucketPolicy":                                                           "no charge",
	"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":                                     "no charge",
	"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": "no charge (SSE-S3; SSE-KMS requests are KMS requests)",
	"aws:s3/bucketVersioningV2:BucketVersioningV2":                                               "no charge (the versions' storage is the bucket's)",
	"aws:backup/plan:Plan":                                                                       "no charge (its recovery points are the vault's storage)",
	"aws:backup/selection:Selection":                                                             "no charge",
	"aws:backup/vaultLockConfiguration:VaultLockConfiguration":                                   "no charge",
	"aws:cloudfront/cachePolicy:CachePolicy":                                                     "no charge",
	"aws:cloudfront/originRequestPolicy:OriginRequestPolicy":                                     "no charge",
	"aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy":                                 "no charge",
	"aws:cloudwatch/logStream:LogStream":                                                         "no charge (its events are its log group's ingestion)",
	"aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter":                                 "no charge (what it forwards is priced at its Firehose stream)",
	"aws:cloudwatch/logDestination:LogDestination":                                               "no charge (what it forwards is priced at its Firehose stream)",
	"aws:cloudwatch/logDestinationPolicy:LogDestinationPolicy":                                   "no charge",
}

func free(r *planfile.Resource) (string, bool) {
	switch {
	case strings.HasPrefix(r.Type, "pulumi:providers:"):
		return "a provider", true
	case strings.HasPrefix(r.Type, "kubernetes:"):
		return "runs on the priced nodes", true
	case strings.HasPrefix(r.Type, "random:"):
		return "computed by Pulumi", true
	case !r.Custom():
		return "a component", true
	}
	why, ok := Free[r.Type]
	return why, ok
}

type pricer struct {
	plan   *planfile.Plan
	a      Assumptions
	est    *Estimate
	lbRegs int // regions with an application load balancer
}

type rule func(p *pricer, r *planfile.Resource, region Regional, priced bool, component string)

var rules = map[string]rule{
	"aws:eks/cluster:Cluster": func(p *pricer, r *planfile.Resource, _ Regional, _ bool, c string) {
		p.line(r, c, "EKS control plane (standard support)", HoursPerMonth, "h", EKSClusterHour, "eks")
	},
	"aws:eks/nodeGroup:NodeGroup":                       (*pricer).nodeGroup,
	"aws:ec2/natGateway:NatGateway":                     (*pricer).natGateway,
	"aws:ec2/eip:Eip":                                   (*pricer).publicIP,
	"aws:ec2/vpcEndpoint:VpcEndpoint":                   (*pricer).endpoint,
	"aws:rds/instance:Instance":                         (*pricer).database,
	"aws:elasticache/replicationGroup:ReplicationGroup": (*pricer).cache,
	"aws:kms/key:Key": func(p *pricer, r *planfile.Resource, _ Regional, _ bool, c string) {
		p.line(r, c, "KMS customer-managed key", 1, "key-month", KMSKeyMonth, "kms")
	},
	"aws:secretsmanager/secret:Secret": func(p *pricer, r *planfile.Resource, _ Regional, _ bool, c string) {
		p.line(r, c, "Secrets Manager secret", 1, "secret-month", SecretMonth, "secrets")
	},
	"aws:cloudwatch/logGroup:LogGroup":         (*pricer).logGroup,
	"aws:ecr/repository:Repository":            (*pricer).repository,
	"aws:lb/loadBalancer:LoadBalancer":         (*pricer).loadBalancer,
	"aws:alb/loadBalancer:LoadBalancer":        (*pricer).loadBalancer,
	"aws:cloudfront/distribution:Distribution": (*pricer).distribution,
	"aws:wafv2/webAcl:WebAcl":                  (*pricer).webACL,
	// A viewer-request or viewer-response function runs once per request
	// of the behaviours it is on; the write path's are on every behaviour.
	"aws:cloudfront/function:Function": func(p *pricer, r *planfile.Resource, _ Regional, _ bool, c string) {
		invocations := p.a.RequestsPerSecond * HoursPerMonth * 3600
		p.line(r, c, "CloudFront Function invocations (rps)", invocations/1e6, "million invocations", CloudFrontFunctionMillion, "cloudfront")
	},
	"aws:route53/zone:Zone": func(p *pricer, r *planfile.Resource, _ Regional, _ bool, c string) {
		p.line(r, c, "Route 53 hosted zone", 1, "zone-month", Route53ZoneMonth, "route53")
	},
	"aws:route53/healthCheck:HealthCheck": (*pricer).healthCheck,
	"aws:cloudwatch/metricAlarm:MetricAlarm": func(p *pricer, r *planfile.Resource, _ Regional, _ bool, c string) {
		metrics := 0
		for i := 0; i < r.Len("metricQueries"); i++ {
			if r.Get(fmt.Sprintf("metricQueries.%d.metric", i)) != nil {
				metrics++
			}
		}
		p.line(r, c, "CloudWatch alarm (per metric)", float64(max(metrics, 1)), "alarm-metric-month", AlarmMonth, "cloudwatch")
	},
	"aws:cloudwatch/compositeAlarm:CompositeAlarm": func(p *pricer, r *planfile.Resource, _ Regional, _ bool, c string) {
		p.line(r, c, "CloudWatch composite alarm", 1, "alarm-month", CompositeAlarmMonth, "cloudwatch")
	},
	"aws:cloudwatch/dashboard:Dashboard": func(p *pricer, r *planfile.Resource, _ Regional, _ bool, c string) {
		p.line(r, c, "CloudWatch dashboard (the account's first 3 are free: not deducted)", 1, "dashboard-month", DashboardMonth, "cloudwatch")
	},
	"aws:sqs/queue:Queue": func(p *pricer, r *planfile.Resource, _ Regional, _ bool, c string) {
		p.notPriced(r, c, "SQS queue", "priced per request (0.40 USD per million after the first million a month); no request volume is assumed")
	},
	"aws:amp/workspace:Workspace": (*pricer).ampWorkspace,
	"aws:amp/scraper:Scraper":     (*pricer).ampScraper,
	"aws:s3/bucketV2:BucketV2":    (*pricer).bucket,
	"aws:s3/bucket:Bucket":        (*pricer).bucket,
	"aws:backup/vault:Vault": func(p *pricer, r *planfile.Resource, _ Regional, _ bool, c string) {
		p.notPriced(r, c, "AWS Backup vault", "recovery points are priced per GB-month (about 0.095 USD for RDS snapshots in us-east-1) and cross-region copies per GB transferred; both depend on the data size")
	},
	"aws:sns/topic:Topic": func(p *pricer, r *planfile.Resource, _ Regional, _ bool, c string) {
		p.notPriced(r, c, "SNS topic", "priced per publish (0.50 USD per million after the first million a month); deliveries to SQS are free")
	},
	"aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": (*pricer).firehose,
	"aws:s3/bucketReplicationConfig:BucketReplicationConfig": func(p *pricer, r *planfile.Resource, _ Regional, _ bool, c string) {
		p.notPriced(r, c, "S3 replication of load balancer access logs", "replicas are priced as their bucket's storage plus inter-region transfer (about 0.02 USD per GB) and PUT requests; all depend on the access-log volume")
	},
	"aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication": func(p *pricer, r *planfile.Resource, _ Regional, _ bool, c string) {
		p.notPriced(r, c, "cross-region copy of a database's automated backups", "backup storage in the other region and inter-region transfer depend on the change rate")
	},
}

// Estimate prices a plan under assumptions a.
func Price(p *planfile.Plan, a Assumptions) *Estimate {
	pr := &pricer{plan: p, a: a, est: &Estimate{Stack: p.Stack, Environment: Environment(p), Assumptions: a}}
	lbRegions := map[string]bool{}
	for _, r := range p.Resources {
		if isALB(r) {
			lbRegions[r.Region] = true
		}
	}
	pr.lbRegs = len(lbRegions)
	endpointRegions := map[string]*planfile.Resource{}
	for _, r := range p.Resources {
		if _, ok := free(r); ok {
			continue
		}
		component := componentName(p, r)
		region, priced := Prices[r.Region]
		f, ok := rules[r.Type]
		if !ok {
			pr.notPriced(r, component, r.Type, "no price rule for this type in stacks/cost")
			continue
		}
		f(pr, r, region, priced, component)
		if r.Type == "aws:ec2/vpcEndpoint:VpcEndpoint" && r.String("vpcEndpointType") == "Interface" && endpointRegions[r.Region] == nil {
			endpointRegions[r.Region] = r
		}
	}
	for _, region := range sortedKeys(endpointRegions) {
		r := endpointRegions[region]
		prices, ok := Prices[region]
		if !ok {
			continue // the endpoints themselves are already reported
		}
		pr.line(r, componentName(p, r), "interface endpoint data processed (endpoint-gb)", a.EndpointGBPerRegion, "GB", prices.EndpointGB, "privatelink")
	}
	pr.est.Lines = mergeLines(pr.est.Lines)
	pr.est.NotPriced = mergeNotPriced(pr.est.NotPriced)
	return pr.est
}

func componentName(p *planfile.Plan, r *planfile.Resource) string {
	c := p.Component(r)
	if c == nil {
		return "stack"
	}
	return planfile.Module(c.Type)
}

func (p *pricer) line(r *planfile.Resource, component, item string, each float64, unit string, usd float64, service string) {
	p.est.Lines = append(p.est.Lines, Line{Region: r.Region, Component: component, Item: item, Count: 1, Each: each, Unit: unit, USD: usd, Service: service})
}

func (p *pricer) notPriced(r *planfile.Resource, component, what, why string) {
	p.est.NotPriced = append(p.est.NotPriced, NotPriced{Region: r.Region, Component: component, What: what, Count: 1, Why: why})
}

func (p *pricer) missing(r *planfile.Resource, component, what, table string) {
	if _, ok := Prices[r.Region]; !ok {
		p.notPriced(r, component, what, fmt.Sprintf("no prices for region %s in stacks/cost/prices.go", r.Region))
		return
	}
	p.notPriced(r, component, what, fmt.Sprintf("no %s price for it in %s in stacks/cost/prices.go", table, r.Region))
}

func (p *pricer) nodeGroup(r *planfile.Resource, region Regional, _ bool, c string) {
	types := r.Strings("instanceTypes")
	desired, ok := r.Number("scalingConfig.desiredSize")
	if len(types) == 0 || !ok {
		p.notPriced(r, c, "node group "+r.Name, "no instance type or desired size in the plan")
		return
	}
	if ct := r.String("capacityType"); ct != "" && ct != "ON_DEMAND" {
		p.notPriced(r, c, "node group "+r.Name, "capacity type "+ct+" is not on demand")
		return
	}
	// On demand, a managed node group launches its instance types in the
	// order listed (the prioritized allocation strategy): the first is what
	// runs while it has capacity.
	itype := types[0]
	n := int(desired)
	if usd, ok := region.EC2[itype]; ok {
		label := fmt.Sprintf("nodes %s (desired size)", itype)
		if len(types) > 1 {
			label = fmt.Sprintf("nodes %s (desired size; first of %s)", itype, strings.Join(types, ", "))
		}
		p.est.Lines = append(p.est.Lines, Line{Region: r.Region, Component: c, Item: label, Count: n, Each: HoursPerMonth, Unit: "h", USD: usd, Service: "ec2"})
	} else {
		p.missing(r, c, "nodes "+itype, "EC2")
	}
	gb := p.nodeVolumeGB(r)
	if gb <= 0 {
		p.notPriced(r, c, "node volumes of "+r.Name, "no volume size in the plan")
		return
	}
	if region.EBSGp3 == 0 {
		p.missing(r, c, "node volumes (gp3)", "EBS")
		return
	}
	p.est.Lines = append(p.est.Lines, Line{Region: r.Region, Component: c, Item: fmt.Sprintf("node root volumes gp3 %g GB", gb), Count: n, Each: gb, Unit: "GB-month", USD: region.EBSGp3, Service: "ebs"})
}

// nodeVolumeGB is a node's root volume: its launch template's first block
// device, or the node group's own disk size (20 GB when unset).
func (p *pricer) nodeVolumeGB(r *planfile.Resource) float64 {
	for _, d := range r.DependsOn {
		lt := p.plan.Lookup(d)
		if lt == nil || lt.Type != "aws:ec2/launchTemplate:LaunchTemplate" {
			continue
		}
		if gb, ok := lt.Number("blockDeviceMappings.0.ebs.volumeSize"); ok {
			return gb
		}
	}
	if gb, ok := r.Number("diskSize"); ok {
		return gb
	}
	if r.Get("launchTemplate") == nil {
		return 20
	}
	return 0
}

func (p *pricer) natGateway(r *planfile.Resource, region Regional, priced bool, c string) {
	if !priced {
		p.missing(r, c, "NAT gateway", "VPC")
		return
	}
	p.line(r, c, "NAT gateway", HoursPerMonth, "h", region.NATHour, "vpc")
	p.line(r, c, "NAT gateway data processed (nat-gb)", p.a.NATGBPerGateway, "GB", region.NATGB, "vpc")
}

func (p *pricer) publicIP(r *planfile.Resource, _ Regional, _ bool, c string) {
	p.line(r, c, "public IPv4 address (Elastic IP)", HoursPerMonth, "h", PublicIPv4Hour, "vpc")
}

func (p *pricer) endpoint(r *planfile.Resource, region Regional, priced bool, c string) {
	if r.String("vpcEndpointType") != "Interface" {
		return // gateway endpoints (S3, DynamoDB) are free
	}
	if !priced {
		p.missing(r, c, "interface endpoint", "PrivateLink")
		return
	}
	azs := r.Len("subnetIds")
	if azs == 0 {
		p.notPriced(r, c, "interface endpoint "+r.Name, "its subnets are not in the plan")
		return
	}
	p.est.Lines = append(p.est.Lines, Line{Region: r.Region, Component: c, Item: fmt.Sprintf("interface endpoint x %d AZ", azs), Count: 1, Each: float64(azs) * HoursPerMonth, Unit: "AZ-h", USD: region.EndpointHour, Service: "privatelink"})
}

func (p *pricer) database(r *planfile.Resource, region Regional, _ bool, c string) {
	class := r.String("instanceClass")
	replica := r.String("replicateSourceDb") != ""
	if engine := r.String("engine"); !replica && engine != "postgres" {
		p.notPriced(r, c, "database "+r.Name, fmt.Sprintf("engine %q: only PostgreSQL is priced", engine))
		return
	}
	role := "primary"
	if replica {
		role = "cross-region read replica"
	}
	units := 1
	label := fmt.Sprintf("RDS PostgreSQL %s, %s", class, role)
	if r.Bool("multiAz") {
		units = 2
		label += " + Multi-AZ standby"
	}
	if usd, ok := region.RDSPostgres[class]; ok {
		p.est.Lines = append(p.est.Lines, Line{Region: r.Region, Component: c, Item: label, Count: units, Each: HoursPerMonth, Unit: "h", USD: usd, Service: "rds"})
	} else {
		p.missing(r, c, "RDS "+class, "RDS for PostgreSQL")
	}
	gb, ok := r.Number("allocatedStorage")
	switch st := r.String("storageType"); {
	case !ok:
		p.notPriced(r, c, "storage of "+r.Name, "no allocated storage in the plan")
	case st != "" && st != "gp3":
		p.notPriced(r, c, "storage of "+r.Name, "storage type "+st+": only gp3 is priced")
	case region.RDSGp3 == 0:
		p.missing(r, c, "RDS gp3 storage", "RDS storage")
	default:
		item := fmt.Sprintf("RDS gp3 storage %g GB", gb)
		if units == 2 {
			item += " (x2, Multi-AZ)"
		}
		p.est.Lines = append(p.est.Lines, Line{Region: r.Region, Component: c, Item: item, Count: units, Each: gb, Unit: "GB-month", USD: region.RDSGp3, Service: "rds"})
		if _, set := r.Number("iops"); set {
			p.notPriced(r, c, "provisioned IOPS of "+r.Name, "IOPS above the gp3 baseline are not priced")
		}
	}
	if replica {
		p.notPriced(r, c, "cross-region replication traffic", "inter-region data transfer of the replication stream (about 0.02 USD per GB out of the source region) depends on the write rate")
	}
	if days, ok := r.Number("performanceInsightsRetentionPeriod"); ok && days > 7 && r.Bool("performanceInsightsEnabled") {
		p.notPriced(r, c, fmt.Sprintf("Performance Insights, %g days of history", days), "history beyond the free 7 days is priced per vCPU and is not in the table")
	}
}

func (p *pricer) cache(r *planfile.Resource, region Regional, _ bool, c string) {
	node := r.String("nodeType")
	if engine := r.String("engine"); engine != "" && engine != "redis" {
		p.notPriced(r, c, "cache "+r.Name, fmt.Sprintf("engine %q: only Redis OSS is priced", engine))
		return
	}
	nodes := 0
	if n, ok := r.Number("numCacheClusters"); ok {
		nodes = int(n)
	} else if groups, ok := r.Number("numNodeGroups"); ok {
		replicas, _ := r.Number("replicasPerNodeGroup")
		nodes = int(groups * (1 + replicas))
	}
	if nodes == 0 {
		p.notPriced(r, c, "cache "+r.Name, "no node count in the plan")
		return
	}
	usd, ok := region.ElastiCacheRedis[node]
	if !ok {
		p.missing(r, c, "ElastiCache "+node, "ElastiCache")
		return
	}
	p.est.Lines = append(p.est.Lines, Line{Region: r.Region, Component: c, Item: fmt.Sprintf("ElastiCache %s node (primary + %d replica(s))", node, nodes-1), Count: nodes, Each: HoursPerMonth, Unit: "h", USD: usd, Service: "elasticache"})
	if days, ok := r.Number("snapshotRetentionLimit"); ok && days > 1 {
		p.notPriced(r, c, fmt.Sprintf("cache snapshots beyond the first (%g days kept)", days), "snapshot storage beyond one free snapshot depends on the data size")
	}
}

func (p *pricer) logGroup(r *planfile.Resource, region Regional, priced bool, c string) {
	name := r.String("name")
	var gb float64
	var kind string
	switch {
	case strings.Contains(name, "flow"):
		gb, kind = p.a.FlowLogGBPerVPC, "VPC flow logs (flow-log-gb)"
	case strings.HasPrefix(name, "/aws/eks/"):
		gb, kind = p.a.ControlPlaneLogGBPerCluster, "EKS control-plane logs (control-plane-log-gb)"
	case strings.HasPrefix(name, "/aws/rds/"):
		gb, kind = p.a.DatabaseLogGBPerInstance, "PostgreSQL logs (database-log-gb)"
	case strings.HasPrefix(name, "/aws/containerinsights/") && strings.HasSuffix(name, "/application"):
		gb, kind = p.a.ContainerLogGBPerRegion, "container logs (container-log-gb)"
	case strings.HasPrefix(name, "/aws/containerinsights/") && strings.HasSuffix(name, "/dataplane"):
		gb, kind = p.a.DataplaneLogGBPerRegion, "dataplane logs (dataplane-log-gb)"
	default:
		gb, kind = p.a.OtherLogGBPerGroup, "other log groups (other-log-gb)"
	}
	if !priced {
		p.missing(r, c, "log ingestion: "+kind, "CloudWatch Logs")
		return
	}
	p.line(r, c, "log ingestion: "+kind, gb, "GB", region.LogsIngestGB, "cloudwatch")
	if days, ok := r.Number("retentionInDays"); !ok || days > 30 {
		p.notPriced(r, c, "log storage", "stored, compressed log data (0.03 USD per GB-month in us-east-1) depends on compression and retention")
	}
}

func (p *pricer) repository(r *planfile.Resource, _ Regional, _ bool, c string) {
	kept := p.imagesKept(r)
	if kept == 0 {
		p.notPriced(r, c, "image storage of "+r.Name, "no lifecycle policy bounds how many images it keeps")
		return
	}
	p.line(r, c, fmt.Sprintf("ECR storage, %d images kept x image-mb", kept), float64(kept)*p.a.ImageMB/1024, "GB-month", ECRStorageGBMonth, "ecr")
}

// firehose prices a central log stream's ingestion: it forwards one log
// group, so it ingests what that group does: a region's container or
// dataplane logs by the stream's "source" tag, else (the WAF logs) what
// any other group does.
func (p *pricer) firehose(r *planfile.Resource, region Regional, priced bool, c string) {
	gb, what := p.a.OtherLogGBPerGroup, "a forwarded log group (other-log-gb)"
	switch r.String("tags.source") { // centrallog.Containers, centrallog.Dataplane
	case "containers":
		gb, what = p.a.ContainerLogGBPerRegion, "a region's container logs (container-log-gb)"
	case "dataplane":
		gb, what = p.a.DataplaneLogGBPerRegion, "a region's dataplane logs (dataplane-log-gb)"
	}
	if !priced {
		p.missing(r, c, "Firehose ingestion: "+what, "Firehose")
		return
	}
	p.line(r, c, "Firehose ingestion: "+what, gb, "GB", region.FirehoseIngestGB, "firehose")
	if r.Len("extendedS3Configuration.processingConfiguration.processors") > 0 {
		p.notPriced(r, c, "Firehose decompression of CloudWatch Logs records", "charged per GB decompressed on top of ingestion; its price is not in the table")
	}
}

// bucket names what a bucket's storage depends on; nothing is assumed.
func (p *pricer) bucket(r *planfile.Resource, _ Regional, _ bool, c string) {
	p.notPriced(r, c, "S3 bucket", "storage (0.023 USD per GB-month of Standard in us-east-1) and requests depend on what is written to it, such as access logs")
}

// imagesKept reads the count rule of the repository's lifecycle policy.
func (p *pricer) imagesKept(repo *planfile.Resource) int {
	for _, lp := range p.plan.OfType("aws:ecr/lifecyclePolicy:LifecyclePolicy") {
		ofRepo := lp.Parent == repo.URN || contains(lp.DependsOn, repo.URN) || lp.String("repository") == repo.String("name")
		if lp.Region != repo.Region || !ofRepo {
			continue
		}
		var doc struct {
			Rules []struct {
				Selection struct {
					TagStatus   string `json:"tagStatus"`
					CountType   string `json:"countType"`
					CountNumber int    `json:"countNumber"`
				} `json:"selection"`
			} `json:"rules"`
		}
		if json.Unmarshal([]byte(lp.String("policy")), &doc) != nil {
			continue
		}
		kept := 0
		for _, rule := range doc.Rules {
			if rule.Selection.CountType == "imageCountMoreThan" && rule.Selection.TagStatus != "untagged" {
				kept = max(kept, rule.Selection.CountNumber)
			}
		}
		if kept > 0 {
			return kept
		}
	}
	return 0
}

func isALB(r *planfile.Resource) bool {
	if r.Type != "aws:lb/loadBalancer:LoadBalancer" && r.Type != "aws:alb/loadBalancer:LoadBalancer" {
		return false
	}
	t := r.String("loadBalancerType")
	return t == "" || t == "application"
}

func (p *pricer) loadBalancer(r *planfile.Resource, region Regional, priced bool, c string) {
	if !isALB(r) {
		p.notPriced(r, c, "load balancer "+r.Name, "type "+r.String("loadBalancerType")+": only application load balancers are priced")
		return
	}
	if !priced {
		p.missing(r, c, "application load balancer", "ELB")
		return
	}
	p.line(r, c, "application load balancer", HoursPerMonth, "h", region.ALBHour, "elb")
	// Capacity units: the largest of the dimensions; processed bytes and
	// new connections are the ones this traffic drives.
	rps := p.a.RequestsPerSecond / float64(max(p.lbRegs, 1))
	gbPerHour := rps * p.a.ResponseKB * 3600 / (1024 * 1024)
	newConns := 0.0
	if p.a.RequestsPerConnection > 0 {
		newConns = rps / p.a.RequestsPerConnection / 25
	}
	lcu := max(gbPerHour, newConns)
	p.line(r, c, fmt.Sprintf("load balancer capacity units (%.0f requests/s here: rps / regions, response-kb)", rps), lcu*HoursPerMonth, "LCU-h", region.ALBLCUHour, "elb")
	if !r.Bool("internal") {
		azs := max(r.Len("subnets"), r.Len("subnetMappings"))
		if azs > 0 {
			p.line(r, c, fmt.Sprintf("public IPv4 addresses of the load balancer (%d AZ)", azs), float64(azs)*HoursPerMonth, "h", PublicIPv4Hour, "vpc")
		}
	}
}

func (p *pricer) distribution(r *planfile.Resource, _ Regional, _ bool, c string) {
	requests := p.a.RequestsPerSecond * HoursPerMonth * 3600
	p.line(r, c, "CloudFront HTTPS requests (rps, US/Europe edges)", requests/10000, "10k requests", CloudFrontHTTPS10k, "cloudfront")
	gb := requests * p.a.ResponseKB / (1024 * 1024)
	if gb > 0 {
		p.line(r, c, "CloudFront data out (rps x response-kb, tiered, US/Europe edges)", gb, "GB", Tiered(gb, CloudFrontOut)/gb, "cloudfront")
	}
}

func (p *pricer) webACL(r *planfile.Resource, _ Regional, _ bool, c string) {
	rules := r.Len("rules")
	p.line(r, c, "WAF web ACL", 1, "ACL-month", WAFWebACLMonth, "waf")
	if rules > 0 {
		p.line(r, c, fmt.Sprintf("WAF rules (%d; a managed rule group is one)", rules), float64(rules), "rule-month", WAFRuleMonth, "waf")
	}
	requests := p.a.RequestsPerSecond * HoursPerMonth * 3600
	p.line(r, c, "WAF requests inspected (rps)", requests/1e6, "million requests", WAFMillionRequests, "waf")
	for i := 0; i < rules; i++ {
		name := r.String(fmt.Sprintf("rules.%d.statement.managedRuleGroupStatement.name", i))
		if name == "AWSManagedRulesBotControlRuleSet" || name == "AWSManagedRulesATPRuleSet" || name == "AWSManagedRulesACFPRuleSet" {
			p.notPriced(r, c, "WAF "+name, "a paid managed rule group: its subscription and request fees are not in the table")
		}
	}
}

func (p *pricer) healthCheck(r *planfile.Resource, _ Regional, _ bool, c string) {
	options := 0
	typ := r.String("type")
	if strings.HasPrefix(typ, "HTTPS") {
		options++
	}
	if strings.HasSuffix(typ, "STR_MATCH") {
		options++
	}
	if iv, ok := r.Number("requestInterval"); ok && iv == 10 {
		options++
	}
	if r.Bool("measureLatency") {
		options++
	}
	if typ == "CALCULATED" || typ == "CLOUDWATCH_METRIC" {
		options = 0
	}
	p.line(r, c, "Route 53 health check (AWS endpoint)", 1, "check-month", Route53HealthCheckMonth, "route53")
	if options > 0 {
		p.line(r, c, "Route 53 health check options (HTTPS, string match, fast interval, latency)", float64(options), "option-month", Route53CheckOptionMonth, "route53")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// mergeLines sums the counts of identical lines, ordered by region,
// component and item.
func mergeLines(lines []Line) []Line {
	type key struct {
		region, component, item, unit, service string
		each, usd                              float64
	}
	idx := map[key]int{}
	var out []Line
	for _, l := range lines {
		k := key{l.Region, l.Component, l.Item, l.Unit, l.Service, l.Each, l.USD}
		if i, ok := idx[k]; ok {
			out[i].Count += l.Count
			continue
		}
		idx[k] = len(out)
		out = append(out, l)
	}
	// Lines of one item differ in quantity or price: ordered by value
	// too, so a plan file and the program it came from (whose resources
	// arrive in another order) print the same report.
	slices.SortFunc(out, func(a, b Line) int {
		return cmp.Or(cmp.Compare(a.Region, b.Region), cmp.Compare(a.Component, b.Component), cmp.Compare(a.Item, b.Item),
			cmp.Compare(a.Each, b.Each), cmp.Compare(a.USD, b.USD), cmp.Compare(a.Unit, b.Unit), cmp.Compare(a.Service, b.Service))
	})
	return out
}

func mergeNotPriced(items []NotPriced) []NotPriced {
	type key struct{ region, component, what, why string }
	idx := map[key]int{}
	var out []NotPriced
	for _, n := range items {
		k := key{n.Region, n.Component, n.What, n.Why}
		if i, ok := idx[k]; ok {
			out[i].Count += n.Count
			continue
		}
		idx[k] = len(out)
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b NotPriced) int {
		return cmp.Or(cmp.Compare(a.Region, b.Region), cmp.Compare(a.Component, b.Component), cmp.Compare(a.What, b.What), cmp.Compare(a.Why, b.Why))
	})
	return out
}
