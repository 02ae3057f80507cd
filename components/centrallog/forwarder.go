package centrallog

import (
	"fmt"
	"sort"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/check"
)

// Group is one log group a region forwards.
type Group struct {
	// Source is one of StreamedSources: it selects the stream.
	Source string
	// Name is the log group's name; Resource is the group, which the
	// subscription filter waits for.
	Name     pulumi.StringInput
	Resource pulumi.Resource
}

// AccessLogs is a region's load balancer access-log bucket to replicate.
type AccessLogs struct {
	// Bucket is the bucket's name; it must be versioned (Versioning, which
	// the replication waits for).
	Bucket     pulumi.StringInput
	Versioning pulumi.Resource
	// Prefix is where the load balancer writes in the bucket ("alb").
	Prefix string
}

// KeyPrefix is the part of the access-log bucket one region's load
// balancers write to: ELB puts AWSLogs/<account>/elasticloadbalancing/
// <region>/ after the configured prefix, so the replicas land under a
// prefix per region in the central bucket too.
func (a *AccessLogs) KeyPrefix(accountID, region string) string {
	return fmt.Sprintf("%s/AWSLogs/%s/elasticloadbalancing/%s/", a.Prefix, accountID, region)
}

// ForwarderArgs configures one region's forwarding to the central store.
type ForwarderArgs struct {
	// Name prefixes the destinations, e.g. "ecommerce-prod".
	Name      string
	AccountID string
	// Region is this region; MasterRegion holds Central.
	Region       string
	MasterRegion string
	// Central is the master region's store.
	Central *Central
	// Groups are the region's log groups to forward.
	Groups []Group
	// AccessLogs replicates the region's load balancer logs; nil for none.
	AccessLogs *AccessLogs
}

func (a *ForwarderArgs) check() error {
	p := check.New("centrallog forwarder")
	if a == nil {
		p.Require("Args", false)
		return p.Err()
	}
	p.Require("Name", a.Name != "")
	p.Require("AccountID", a.AccountID != "")
	p.Require("Region", a.Region != "")
	p.Require("MasterRegion", a.MasterRegion != "")
	p.Require("Central", a.Central != nil)
	if len(a.Groups) == 0 && a.AccessLogs == nil {
		p.Add("Groups", "nothing to forward: give log groups or AccessLogs")
	}
	sources := map[string]bool{}
	for i, g := range a.Groups {
		field := fmt.Sprintf("Groups.%d", i)
		p.Require(field+".Name", g.Name != nil)
		if sources[g.Source] {
			// One stream per source and region: two groups of one source
			// would mix in one prefix.
			p.Add(field+".Source", "%q is forwarded twice from %s", g.Source, a.Region)
		}
		sources[g.Source] = true
		if a.Central != nil {
			if _, ok := a.Central.StreamArns[Stream{g.Source, a.Region}.Key()]; !ok {
				p.Add(field+".Source", "the central store has no stream for %s from %s; add it to Args.Streams", g.Source, a.Region)
			}
		}
	}
	if l := a.AccessLogs; l != nil {
		p.Require("AccessLogs.Bucket", l.Bucket != nil)
		p.Require("AccessLogs.Versioning", l.Versioning != nil)
		p.Require("AccessLogs.Prefix", l.Prefix != "")
	}
	return p.Err()
}

// Forwarder is one region's share of the central logs.
type Forwarder struct {
	pulumi.ResourceState

	// Filters are the subscription filters by source.
	Filters map[string]*cloudwatch.LogSubscriptionFilter
	// Destinations are the region's CloudWatch Logs destinations by source
	// (none in the master region, whose filters name the streams).
	Destinations map[string]*cloudwatch.LogDestination
	// Replication is the access-log bucket's replication; nil without
	// AccessLogs.
	Replication *s3.BucketReplicationConfig
}

// NewForwarder subscribes the region's groups to the central streams and
// replicates its access logs. opts must carry the region's provider:
// filters, destinations and the replication configuration live in the
// region of what they read.
func NewForwarder(ctx *pulumi.Context, name string, args *ForwarderArgs, opts ...pulumi.ResourceOption) (*Forwarder, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	f := &Forwarder{Filters: map[string]*cloudwatch.LogSubscriptionFilter{}, Destinations: map[string]*cloudwatch.LogDestination{}}
	if err := ctx.RegisterComponentResource("ecommerce:centrallog:Forwarder", name, f, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(f)
	if len(args.Groups) > 0 {
		if err := f.subscribe(ctx, name, args, parent); err != nil {
			return nil, err
		}
	}
	if args.AccessLogs != nil {
		if err := f.replicate(ctx, name, args, parent); err != nil {
			return nil, err
		}
	}
	return f, ctx.RegisterResourceOutputs(f, pulumi.Map{})
}

// subscribe creates the role CloudWatch Logs uses to put records, then
// per group a filter: straight to the stream in the master region, through
// a destination of this region elsewhere.
func (f *Forwarder) subscribe(ctx *pulumi.Context, name string, args *ForwarderArgs, parent pulumi.ResourceOption) error {
	groups := append([]Group(nil), args.Groups...)
	sort.Slice(groups, func(i, j int) bool { return groups[i].Source < groups[j].Source })
	var arns []any
	for _, g := range groups {
		arns = append(arns, args.Central.StreamArns[Stream{g.Source, args.Region}.Key()])
	}
	trust, err := LogsTrust(args.Region, args.AccountID)
	if err != nil {
		return err
	}
	role, err := iam.NewRole(ctx, name+"-logs", &iam.RoleArgs{
		Description:      pulumi.Sprintf("CloudWatch Logs of %s forwarding to the central log streams", args.Region),
		AssumeRolePolicy: pulumi.String(trust),
	}, parent)
	if err != nil {
		return err
	}
	doc := pulumi.All(arns...).ApplyT(func(v []any) (string, error) {
		streams := make([]string, len(v))
		for i, s := range v {
			streams[i] = s.(string)
		}
		return LogsPolicy(streams)
	}).(pulumi.StringOutput)
	policy, err := iam.NewRolePolicy(ctx, name+"-logs", &iam.RolePolicyArgs{Role: role.ID(), Policy: doc}, parent)
	if err != nil {
		return err
	}
	// CloudWatch Logs tests the target with the role when the filter or
	// destination is created: both wait for the role's policy.
	ready := []pulumi.Resource{policy}

	for _, g := range groups {
		stream := args.Central.StreamArns[Stream{g.Source, args.Region}.Key()]
		filter := &cloudwatch.LogSubscriptionFilterArgs{
			Name:           pulumi.String(FilterName),
			LogGroup:       g.Name,
			FilterPattern:  pulumi.String(""),
			DestinationArn: stream,
			RoleArn:        role.Arn,
		}
		deps := append([]pulumi.Resource{}, ready...)
		if g.Resource != nil {
			deps = append(deps, g.Resource)
		}
		if args.Region != args.MasterRegion {
			dest, err := cloudwatch.NewLogDestination(ctx, name+"-"+g.Source, &cloudwatch.LogDestinationArgs{
				Name:      pulumi.String(fmt.Sprintf("%s-%s", args.Name, g.Source)),
				TargetArn: stream,
				RoleArn:   role.Arn,
			}, parent, pulumi.DependsOn(ready))
			if err != nil {
				return err
			}
			destDoc := dest.Arn.ApplyT(func(arn string) (string, error) {
				return DestinationPolicy(args.AccountID, arn)
			}).(pulumi.StringOutput)
			dp, err := cloudwatch.NewLogDestinationPolicy(ctx, name+"-"+g.Source, &cloudwatch.LogDestinationPolicyArgs{
				DestinationName: dest.Name,
				AccessPolicy:    destDoc,
			}, parent)
			if err != nil {
				return err
			}
			// A filter on a destination uses the destination's role.
			filter.DestinationArn, filter.RoleArn = dest.Arn, nil
			deps = append(deps, dp)
			f.Destinations[g.Source] = dest
		}
		sf, err := cloudwatch.NewLogSubscriptionFilter(ctx, name+"-"+g.Source, filter, parent, pulumi.DependsOn(deps))
		if err != nil {
			return err
		}
		f.Filters[g.Source] = sf
	}
	return nil
}

// replicate copies the region's load balancer logs into the central
// bucket under the same keys.
func (f *Forwarder) replicate(ctx *pulumi.Context, name string, args *ForwarderArgs, parent pulumi.ResourceOption) error {
	l := args.AccessLogs
	prefix := l.KeyPrefix(args.AccountID, args.Region)
	source := l.Bucket.ToStringOutput()
	trust := source.ApplyT(func(b string) (string, error) {
		return ReplicationTrust(args.AccountID, "arn:aws:s3:::"+b)
	}).(pulumi.StringOutput)
	role, err := iam.NewRole(ctx, name+"-replication", &iam.RoleArgs{
		Description:      pulumi.Sprintf("S3 replicating the %s load balancer logs to the central bucket", args.Region),
		AssumeRolePolicy: trust,
	}, parent)
	if err != nil {
		return err
	}
	doc := pulumi.All(source, args.Central.BucketArn).ApplyT(func(v []any) (string, error) {
		return ReplicationPolicy("arn:aws:s3:::"+v[0].(string), v[1].(string), prefix)
	}).(pulumi.StringOutput)
	policy, err := iam.NewRolePolicy(ctx, name+"-replication", &iam.RolePolicyArgs{Role: role.ID(), Policy: doc}, parent)
	if err != nil {
		return err
	}
	rep, err := s3.NewBucketReplicationConfig(ctx, name+"-replication", &s3.BucketReplicationConfigArgs{
		Bucket: l.Bucket,
		Role:   role.Arn,
		Rules: s3.BucketReplicationConfigRuleArray{s3.BucketReplicationConfigRuleArgs{
			Id:       pulumi.String("central-logs"),
			Status:   pulumi.String("Enabled"),
			Priority: pulumi.Int(1),
			Filter:   s3.BucketReplicationConfigRuleFilterArgs{Prefix: pulumi.String(prefix)},
			// Deletes in the source (its lifecycle) must not shorten the
			// central retention.
			DeleteMarkerReplication: s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs{Status: pulumi.String("Disabled")},
			Destination: s3.BucketReplicationConfigRuleDestinationArgs{
				Bucket:       args.Central.BucketArn,
				StorageClass: pulumi.String("STANDARD"),
			},
		}},
		// Both buckets must be versioned before S3 accepts the rule, and
		// the role must be able to act.
	}, parent, pulumi.DependsOn([]pulumi.Resource{l.Versioning, args.Central.Versioning, policy}))
	if err != nil {
		return err
	}
	f.Replication = rep
	return nil
}
