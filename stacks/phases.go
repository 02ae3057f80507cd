package stacks

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/backup"
	"github.com/example/ecommerce-platform/components/edge"
	"github.com/example/ecommerce-platform/components/global"
	"github.com/example/ecommerce-platform/components/ingress"
	"github.com/example/ecommerce-platform/components/messaging"
	"github.com/example/ecommerce-platform/components/observe"
	"github.com/example/ecommerce-platform/components/region"
	"github.com/example/ecommerce-platform/components/registry"
	"github.com/example/ecommerce-platform/components/workload"
	"github.com/example/ecommerce-platform/stacks/config"
)

// global builds the stack-wide resources.
func (p *Platform) global(ctx *pulumi.Context) error {
	cfg := p.Config
	g, err := global.New(ctx, "global", &global.Args{
		Services:    config.Services,
		TokenIssuer: config.TokenIssuer,
		// Stacks deployed before the global phase kept these secrets under
		// their master region; adopt them rather than generate new ones.
		AdoptFromRegion: cfg.MasterRegion,
	}, pulumi.Provider(p.Random))
	if err != nil {
		return err
	}
	p.Global = g
	return p.edge(ctx)
}

// edge builds the traffic path's global half: CloudFront's certificate
// and the web ACL through the us-east-1 provider, each region's
// certificate through its own.
func (p *Platform) edge(ctx *pulumi.Context) error {
	cfg := p.Config
	var regions []string
	for _, r := range cfg.Ordered() {
		regions = append(regions, r.Name)
	}
	e, err := edge.NewGlobal(ctx, "edge", &edge.GlobalArgs{
		Name:             cfg.StackName(ctx.Project()),
		AccountID:        cfg.AccountID,
		Domain:           cfg.Traffic.Domain,
		HostedZoneID:     cfg.Traffic.HostedZoneID,
		APIHost:          cfg.APIHost(),
		Regions:          regions,
		RegionProviders:  p.Providers,
		EdgeProvider:     p.Providers[EdgeRegion],
		WafRateLimit:     cfg.Traffic.WafRateLimit,
		LogRetentionDays: cfg.LogRetentionDays,
	}, pulumi.Provider(p.Random))
	p.Edge = e
	return err
}

// regions builds every region, master first: the others replicate from
// and subscribe to it.
func (p *Platform) regions(ctx *pulumi.Context) error {
	cfg := p.Config
	topology, err := cfg.Topology()
	if err != nil {
		return err
	}
	for _, rc := range cfg.Ordered() {
		r, err := region.New(ctx, rc.Name, p.regionArgs(ctx, rc, topology),
			pulumi.Providers(p.Providers[rc.Name], p.Random))
		if err != nil {
			return err
		}
		p.Regions = append(p.Regions, r)
		if r.Master {
			p.Master = r
		}
	}
	return nil
}

// regionArgs are one region's settings; p.Master is nil while the master
// itself is being built.
func (p *Platform) regionArgs(ctx *pulumi.Context, rc config.Region, topology *messaging.Topology) *region.Args {
	cfg := p.Config
	return &region.Args{
		Region:      rc.Name,
		Primary:     p.Master,
		DisplayName: cfg.DisplayName(ctx.Project(), rc.Name),
		StackName:   cfg.StackName(ctx.Project()),
		Stack:       ctx.Stack(),
		AccountID:   cfg.AccountID,
		Network: region.NetworkArgs{
			VpcCidr:          rc.VpcCidr,
			Zones:            rc.AvailabilityZones,
			NatGateways:      cfg.NatGateways,
			LogRetentionDays: cfg.LogRetentionDays,
		},
		Cluster: region.ClusterArgs{
			Version:           cfg.Cluster.KubernetesVersion,
			PublicAccessCidrs: cfg.Cluster.PublicAccessCidrs,
			DeployerArn:       cfg.Cluster.DeployerArn,
			AdminRoleArn:      cfg.Cluster.AdminRoleArn,
			SystemNodes:       cfg.Cluster.SystemNodes,
			WorkloadNodes:     cfg.Cluster.WorkloadNodes,
		},
		Data: &region.DataArgs{
			Services:                 config.Services,
			TokenIssuer:              config.TokenIssuer,
			Calls:                    config.Calls,
			Database:                 cfg.DatabaseSettings(),
			Cache:                    cfg.Cache,
			Queues:                   cfg.Messaging,
			Topology:                 topology,
			SecretRecoveryWindowDays: cfg.SecretRecoveryWindowDays(),
			// The first region after the master keeps copies of its
			// backups (protected environments): restoring to a point in
			// time must not depend on the master region being up.
			BackupCopies:      cfg.Protected() && cfg.BackupRegion() == rc.Name,
			DatabasePasswords: p.Global.DatabasePasswords,
			AppPasswords:      p.Global.AppPasswords,
			ReaderPasswords:   p.Global.ReaderPasswords,
			SigningSeed:       p.Global.SigningSeed,
		},
		Workloads: &region.WorkloadsArgs{
			Releases:       p.releases(),
			RegistryPrefix: cfg.StackName(ctx.Project()),
			KeepReleases:   cfg.Registry.KeepReleases,
		},
		Ingress: &region.IngressArgs{
			CertificateArn: p.Edge.RegionalCertificates[rc.Name],
			OriginSecret:   p.Edge.OriginSecret,
			// Outside dev a mistaken delete of a load balancer cuts the
			// region off until DNS moves; protected, as the databases are.
			DeletionProtection: cfg.Protected(),
			// Access logs are kept as long as every other log.
			AccessLogRetentionDays: cfg.LogRetentionDays,
		},
		Vault:   &region.VaultArgs{Lock: cfg.VaultLock()},
		Observe: &region.ObserveArgs{Settings: cfg.Alarms},
		// Every stack scrapes its services' metrics, at the default
		// interval (docs/operations.md, "Service metrics").
		Metrics: &region.MetricsArgs{},
	}
}

// releases are the services' resolved releases.
func (p *Platform) releases() map[string]workload.Release {
	out := map[string]workload.Release{}
	for _, svc := range config.Services {
		out[svc] = p.Config.Release(svc)
	}
	return out
}

// wiring builds what crosses regions: every region's queues subscribed to
// the master's topics, and the images replicated from the registry region.
func (p *Platform) wiring(ctx *pulumi.Context) error {
	if err := p.subscriptions(ctx); err != nil {
		return err
	}
	if err := p.backups(ctx); err != nil {
		return err
	}
	if err := p.replication(ctx); err != nil {
		return err
	}
	if err := p.dashboard(ctx); err != nil {
		return err
	}
	if err := p.centralLogs(ctx); err != nil {
		return err
	}
	return p.routing(ctx)
}

// dashboard puts every region's requests, errors, p95, healthy targets,
// replica lag and queue depth side by side, master first, in the master
// region (where operators look first; a dashboard reads any region's
// metrics).
func (p *Platform) dashboard(ctx *pulumi.Context) error {
	var views []observe.RegionView
	for _, r := range p.Regions {
		if r.Observe == nil {
			continue
		}
		views = append(views, observe.RegionView{Region: r.Name, Specs: r.Observe.Specs, IDs: r.Observe.IDs})
	}
	if len(views) == 0 {
		return nil
	}
	d, err := observe.NewGlobalDashboard(ctx, "global-dashboard", &observe.GlobalDashboardArgs{
		Name:    p.Config.StackName(ctx.Project()) + "-global",
		Regions: views,
	}, pulumi.Provider(p.Providers[p.Config.MasterRegion]))
	p.Dashboard = d
	return err
}

// routing builds the traffic path across regions once every region's
// load balancer exists: the records the model calls for, the regions'
// health checks, CloudFront and, in active-active, the write-routing
// edge functions (the master's origin follows masterRegion).
func (p *Platform) routing(ctx *pulumi.Context) error {
	cfg := p.Config
	origins := map[string]edge.Origin{}
	var regions []string
	for _, r := range p.Regions {
		if r.Ingress == nil {
			return fmt.Errorf("region %s has no load balancer to route to", r.Name)
		}
		if r.Observe == nil {
			return fmt.Errorf("region %s has no alarms to judge its health by", r.Name)
		}
		health := map[string]pulumi.StringInput{}
		for _, svc := range config.Services {
			alarm, ok := r.Observe.TargetHealth[svc]
			if !ok {
				return fmt.Errorf("region %s has no healthy-targets alarm for %s", r.Name, svc)
			}
			health[svc] = alarm.Name
		}
		origins[r.Name] = edge.Origin{
			DNSName:      r.Ingress.DNSName,
			ZoneID:       r.Ingress.ZoneID,
			HealthAlarms: health,
		}
		regions = append(regions, r.Name)
	}
	routing, err := edge.NewRouting(ctx, "routing", &edge.RoutingArgs{
		Name:          cfg.StackName(ctx.Project()),
		Model:         cfg.Traffic.Model,
		Domain:        cfg.Traffic.Domain,
		APIHost:       cfg.APIHost(),
		ZoneID:        p.Edge.ZoneID,
		MasterRegion:  cfg.MasterRegion,
		Regions:       regions,
		Origins:       origins,
		EdgeProvider:  p.Providers[EdgeRegion],
		OriginHeader:  ingress.OriginHeader,
		OriginSecret:  p.Edge.OriginSecret,
		Certificate:   p.Edge.EdgeCertificate,
		WebACLArn:     p.Edge.WebACLArn,
		LogGroupArn:   p.Edge.CdnLogGroupArn,
		PriceClass:    cfg.PriceClass(),
		StickySeconds: cfg.Traffic.StickySeconds,
	})
	p.Routing = routing
	return err
}

// backups back the master's primaries up into its vault, copied to the
// copy region's. Named for the stack, not a region: after a failover the
// same plan covers the promoted primaries (the plan is replaced in the new
// master region; every vault and its recovery points stay). A stack of one
// region has nowhere to copy to: its recovery points stay in its region.
func (p *Platform) backups(ctx *pulumi.Context) error {
	var copyVault pulumi.StringInput
	for _, r := range p.Regions {
		if r.Name == p.Config.BackupCopyRegion() {
			copyVault = r.Vault.Arn
		}
	}
	resources := []pulumi.StringInput{}
	for _, svc := range config.Services {
		resources = append(resources, p.Master.Data.Databases.Instances[svc].Arn)
	}
	_, err := backup.NewPlan(ctx, "backup", &backup.PlanArgs{
		Name:         p.Config.StackName(ctx.Project()),
		AccountID:    p.Config.AccountID,
		Settings:     p.Config.Backup,
		Vault:        p.Master.Vault,
		CopyVaultArn: copyVault,
		Resources:    resources,
	}, pulumi.Provider(p.Providers[p.Master.Name]))
	return err
}

// replication copies every image pushed to the registry region into the
// other regions' repositories, which must exist first.
func (p *Platform) replication(ctx *pulumi.Context) error {
	from := p.Config.RegistryRegion()
	var dests []string
	var repos []pulumi.Resource
	for _, r := range p.Regions {
		if r.Name == from || r.Registry == nil {
			continue
		}
		dests = append(dests, r.Name)
		repos = append(repos, r.Registry)
	}
	if len(dests) == 0 {
		return nil
	}
	_, err := registry.NewReplication(ctx, "image-replication", &registry.ReplicationArgs{
		AccountID:    p.Config.AccountID,
		Prefix:       p.Config.StackName(ctx.Project()),
		Destinations: dests,
		DependsOn:    repos,
	}, pulumi.Provider(p.Providers[from]))
	return err
}

// subscriptions subscribe every region's queues to the master's topics.
// SNS accepts a subscription only in the topic's region, hence the
// master's provider.
func (p *Platform) subscriptions(ctx *pulumi.Context) error {
	topology, err := p.Config.Topology()
	if err != nil {
		return err
	}
	if len(topology.Routes) == 0 {
		return nil
	}
	queues := map[string]*messaging.Queues{}
	names := make([]string, 0, len(p.Regions))
	for _, r := range p.Regions {
		queues[r.Name] = r.Data.Queues
		names = append(names, r.Name)
	}
	_, err = messaging.NewSubscriptions(ctx, "subscriptions", &messaging.SubscriptionsArgs{
		Topology:     topology,
		TopicArns:    p.Master.Data.Topics.ByPublisher,
		Queues:       queues,
		Regions:      names,
		MasterRegion: p.Master.Name,
	}, pulumi.Provider(p.Providers[p.Master.Name]))
	return err
}
