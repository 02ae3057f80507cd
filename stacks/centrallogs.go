package stacks

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/centrallog"
	"github.com/example/ecommerce-platform/components/ingress"
	"github.com/example/ecommerce-platform/components/observe"
)

// centralGroups are the Container Insights log groups each region
// forwards, by source: the pods' logs and the nodes' (kubelet, runtime).
// host and performance stay regional: host is the nodes' system logs,
// performance is metrics as logs, already in CloudWatch.
var centralGroups = map[string]string{
	centrallog.Containers: "application",
	centrallog.Dataplane:  "dataplane",
}

// centralLogs gathers every region's logs in the master region (wiring
// phase: every log group and access-log bucket exists): the store through
// the master's provider, then per region (and EdgeRegion, where the WAF
// logs are) the subscriptions and the access-log replication through that
// region's provider.
func (p *Platform) centralLogs(ctx *pulumi.Context) error {
	cfg := p.Config
	name := cfg.StackName(ctx.Project())
	if p.Master.Observe == nil {
		return fmt.Errorf("master region %s has no alarm topic for the central logs' alarms", p.Master.Name)
	}
	forwards := map[string]*centrallog.ForwarderArgs{}
	var order []string
	var streams []centrallog.Stream
	forward := func(region string) *centrallog.ForwarderArgs {
		if f, ok := forwards[region]; ok {
			return f
		}
		f := &centrallog.ForwarderArgs{Name: name, AccountID: cfg.AccountID, Region: region, MasterRegion: p.Master.Name}
		forwards[region] = f
		order = append(order, region)
		return f
	}
	for _, r := range p.Regions {
		f := forward(r.Name)
		if r.Observe != nil {
			for _, source := range []string{centrallog.Containers, centrallog.Dataplane} {
				g, ok := r.Observe.LogGroups[centralGroups[source]]
				if !ok {
					return fmt.Errorf("region %s has no %s log group to forward", r.Name, centralGroups[source])
				}
				f.Groups = append(f.Groups, centrallog.Group{Source: source, Name: g.Name, Resource: g})
				streams = append(streams, centrallog.Stream{Source: source, Region: r.Name})
			}
		}
		if r.Ingress != nil {
			f.AccessLogs = &centrallog.AccessLogs{
				Bucket:     r.Ingress.AccessLogBucket,
				Versioning: r.Ingress.AccessLogVersioning,
				Prefix:     ingress.AccessLogPrefix,
			}
		}
	}
	if p.Edge != nil {
		f := forward(EdgeRegion)
		f.Groups = append(f.Groups,
			centrallog.Group{Source: centrallog.WAF, Name: p.Edge.WafLogGroup},
			centrallog.Group{Source: centrallog.CDN, Name: p.Edge.CdnLogGroup})
		streams = append(streams,
			centrallog.Stream{Source: centrallog.WAF, Region: EdgeRegion},
			centrallog.Stream{Source: centrallog.CDN, Region: EdgeRegion})
	}
	central, err := centrallog.New(ctx, "central-logs", &centrallog.Args{
		Name:             name,
		AccountID:        cfg.AccountID,
		Region:           p.Master.Name,
		KmsKeyArn:        p.Master.Keys.Logs.Arn,
		RetentionDays:    cfg.CentralLogs.RetentionDays,
		LogRetentionDays: cfg.LogRetentionDays,
		Protected:        cfg.Protected(),
		Streams:          streams,
		// The streams are in the master region: so are their alarms, named
		// and notifying as the master's own.
		Alarms: centrallog.AlarmArgs{
			Names:    observe.Names{Stack: ctx.Stack(), Region: p.Master.Name},
			TopicArn: p.Master.Observe.TopicArn,
		},
	}, pulumi.Provider(p.Providers[p.Master.Name]))
	if err != nil {
		return err
	}
	p.CentralLogs = central
	slices.Sort(order)
	for _, region := range order {
		f := forwards[region]
		f.Central = central
		if len(f.Groups) == 0 && f.AccessLogs == nil {
			continue
		}
		if _, err := centrallog.NewForwarder(ctx, "central-logs-"+region, f, pulumi.Provider(p.Providers[region])); err != nil {
			return err
		}
	}
	return nil
}
