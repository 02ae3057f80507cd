package plan

import (
	"time"
)

// Duration is how long AWS (or Kubernetes) takes to create one resource of a
// type, and where the figure comes from. Figures are typical, not bounds:
// they make the estimate's critical path and its order of magnitude right.
type Duration struct {
	Time   time.Duration
	Source string
}

// DurationsDate is when the figures below were last reviewed.
const DurationsDate = "2026-11-28"

const (
	measured = "typical time reported by issue #18's review, not measured here"
	awsDocs  = "AWS documentation's typical time"
	estimate = "estimate"
)

// CreateDurations are the create times by type; anything not listed takes
// DefaultDuration (an API call or two).
var CreateDurations = map[string]Duration{
	"aws:eks/cluster:Cluster":                           {11 * time.Minute, measured},
	"aws:eks/nodeGroup:NodeGroup":                       {4 * time.Minute, measured},
	"aws:eks/addon:Addon":                               {90 * time.Second, estimate},
	"aws:rds/instance:Instance":                         {15 * time.Minute, measured},
	"aws:elasticache/replicationGroup:ReplicationGroup": {12 * time.Minute, measured},
	"aws:ec2/natGateway:NatGateway":                     {2 * time.Minute, measured},
	"aws:ec2/vpcEndpoint:VpcEndpoint":                   {2 * time.Minute, estimate},
	"aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication": {5 * time.Minute, estimate},
	"aws:sqs/queue:Queue": {30 * time.Second, estimate},
	"aws:iam/openIdConnectProvider:OpenIdConnectProvider":       {10 * time.Second, estimate},
	"aws:eks/accessEntry:AccessEntry":                           {10 * time.Second, estimate},
	"aws:ecr/replicationConfiguration:ReplicationConfiguration": {10 * time.Second, estimate},
	"kubernetes:apps/v1:Deployment":                             {1 * time.Minute, estimate + ": a ~20 MB image pulled in-region, start-up, readiness and minReadySeconds"},
	"kubernetes:batch/v1:Job":                                   {1 * time.Minute, estimate + ": a migration run"},
	"kubernetes:helm.sh/v3:Release":                             {2 * time.Minute, estimate},
	"kubernetes:core/v1:Namespace":                              {2 * time.Second, estimate},
	// The edge: ACM issues a DNS-validated certificate a few minutes
	// after its record resolves; a distribution deploys to every edge
	// location before the create returns.
	"aws:acm/certificateValidation:CertificateValidation": {3 * time.Minute, estimate},
	"aws:cloudfront/distribution:Distribution":            {5 * time.Minute, estimate},
	"aws:route53/record:Record":                           {1 * time.Minute, awsDocs + ": a change is INSYNC on every Route 53 server within about a minute"},
}

// ReplicaDuration is a cross-region read replica's create time: a snapshot
// copied across regions, then caught up.
var ReplicaDuration = Duration{30 * time.Minute, measured}

// DefaultDuration is the create time of a type not listed.
var DefaultDuration = Duration{5 * time.Second, estimate + ": one or two API calls"}

// CreateDuration is how long r takes to create.
func CreateDuration(r *Resource) Duration {
	if !r.Custom || isProvider(r) {
		return Duration{}
	}
	if r.Type == "aws:rds/instance:Instance" && r.String("replicateSourceDb") != "" {
		return ReplicaDuration
	}
	if d, ok := CreateDurations[r.Type]; ok {
		return d
	}
	return DefaultDuration
}
