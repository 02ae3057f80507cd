package stacks

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/cache"
	"github.com/example/ecommerce-platform/components/database"
	"github.com/example/ecommerce-platform/components/messaging"
	"github.com/example/ecommerce-platform/components/region"
)

// Topology derives topics, queues and subscriptions from the event map.
func (d *DataConfig) Topology() (*messaging.Topology, error) {
	events := make([]messaging.Event, 0, len(d.Events))
	for _, name := range d.EventNames() {
		ev := d.Events[name]
		events = append(events, messaging.Event{Name: name, Publishers: ev.Publishers, Consumers: ev.Consumers})
	}
	return messaging.Plan(events)
}

// Protected reports whether the environment's data gets deletion
// protection and final snapshots: staging too, since testers' data in it
// is expensive to rebuild; dev never, so it tears down in one command.
func (c *Config) Protected() bool { return c.Environment != "dev" }

// SecretRecoveryWindowDays: dev deletes secrets at once so a stack can be
// rebuilt under the same names; elsewhere a deleted secret stays
// recoverable for a while.
func (c *Config) SecretRecoveryWindowDays() int {
	switch c.Environment {
	case "dev":
		return 0
	case "staging":
		return 7
	default:
		return 30
	}
}

// dataArgs are the region's data settings; master is nil while the master
// region itself is being built.
func dataArgs(ctx *pulumi.Context, cfg *Config, topology *messaging.Topology, master *region.Region, regionName string) *region.DataArgs {
	d := cfg.Data
	args := &region.DataArgs{
		Services: Services,
		Database: database.Settings{
			EngineVersion:                    d.Database.EngineVersion,
			InstanceClass:                    d.Database.InstanceClass,
			AllocatedStorageGiB:              d.Database.AllocatedStorageGiB,
			MaxAllocatedStorageGiB:           d.Database.MaxAllocatedStorageGiB,
			MultiAZ:                          d.Database.MultiAZ,
			BackupRetentionDays:              d.Database.BackupRetentionDays,
			MonitoringIntervalSeconds:        d.Database.MonitoringIntervalSeconds,
			PerformanceInsightsRetentionDays: d.Database.PerformanceInsightsRetentionDays,
			SlowStatementMs:                  d.Database.SlowStatementMs,
			Protect:                          cfg.Protected(),
			LogRetentionDays:                 cfg.LogRetentionDays,
		},
		DatabaseSizes: databaseSizes(d.Database),
		Cache: cache.Settings{
			EngineVersion:         d.Cache.EngineVersion,
			NodeType:              d.Cache.NodeType,
			Replicas:              d.Cache.Replicas,
			SnapshotRetentionDays: d.Cache.SnapshotRetentionDays,
			SnapshotWindow:        d.Cache.SnapshotWindow,
			MaintenanceWindow:     d.Cache.MaintenanceWindow,
		},
		Queues: messaging.QueueSettings{
			MaxReceiveCount:          d.Messaging.MaxReceiveCount,
			VisibilityTimeoutSeconds: d.Messaging.VisibilityTimeoutSeconds,
			MessageRetentionSeconds:  d.Messaging.MessageRetentionSeconds,
		},
		Topology:                 topology,
		MasterRegion:             cfg.MasterRegion,
		TopicPrefix:              fmt.Sprintf("%s-%s", ctx.Project(), cfg.Environment),
		SecretRecoveryWindowDays: cfg.SecretRecoveryWindowDays(),
		TokenIssuer:              TokenIssuer,
	}
	if master != nil {
		args.Primary = master.Data
		// The first region after the master keeps copies of its backups
		// (protected environments): restoring to a point in time must not
		// depend on the master region being up.
		args.BackupCopies = cfg.Protected() && backupRegion(cfg) == regionName
	}
	return args
}

func databaseSizes(d DatabaseConfig) map[string]database.Sizing {
	out := map[string]database.Sizing{}
	for svc := range d.PerService {
		z := d.SizingFor(svc)
		out[svc] = database.Sizing{InstanceClass: z.InstanceClass, AllocatedStorageGiB: z.AllocatedStorageGiB, MaxAllocatedStorageGiB: z.MaxAllocatedStorageGiB}
	}
	return out
}

// backupRegion is where the master's automated backups are copied: the
// first configured region after the master, "" with a single region.
func backupRegion(cfg *Config) string {
	if ordered := cfg.Ordered(); len(ordered) > 1 {
		return ordered[1].Name
	}
	return ""
}

// subscribe wires every region's queues to the master topics. The
// subscriptions live under the master region: SNS only accepts them in the
// topic's region.
func subscribe(ctx *pulumi.Context, cfg *Config, topology *messaging.Topology, master *region.Region, regions []*region.Region) error {
	if master == nil || master.Data == nil {
		return errors.New("stacks: the master region was not built")
	}
	if len(topology.Routes) == 0 {
		return nil
	}
	queues := map[string]*messaging.Queues{}
	names := make([]string, 0, len(regions))
	for _, r := range regions {
		queues[r.Name] = r.Data.Queues
		names = append(names, r.Name)
	}
	_, err := messaging.NewSubscriptions(ctx, cfg.MasterRegion+"-subscriptions", &messaging.SubscriptionsArgs{
		Topology:  topology,
		TopicArns: master.Data.Topics.ByPublisher,
		Queues:    queues,
		Regions:   names,
	}, pulumi.Parent(master))
	return err
}

// RegionData is what the stack exports of one region's data layer: its
// endpoints, never a secret (the runtime secrets are exported by ARN only).
func RegionData(r *region.Region) pulumi.Map {
	if r.Data == nil {
		return pulumi.Map{}
	}
	m := pulumi.Map{
		"databaseAddresses":  r.Data.Databases.Addresses,
		"databaseReplicas":   pulumi.Bool(r.Data.Databases.Replica),
		"cacheAddress":       r.Data.Cache.Address,
		"cacheReaderAddress": r.Data.Cache.ReaderAddress,
		"queueUrls":          r.Data.Queues.Urls,
		"runtimeSecretArns":  r.Data.Settings.SecretArns,
	}
	if r.Data.Topics != nil {
		m["topicArns"] = r.Data.Topics.Arns
	}
	return m
}

// ServiceEndpoints is the "services" stack output: per service and region,
// where it writes, reads, consumes and finds its runtime secret, and the
// topic it publishes to. Never a secret.
func (p *Platform) ServiceEndpoints() pulumi.Map {
	regions := p.Regions
	var master *region.Region
	for _, r := range regions {
		if r.Master {
			master = r
		}
	}
	out := pulumi.Map{}
	if master == nil || master.Data == nil {
		return out
	}
	for _, svc := range Services {
		perRegion := pulumi.Map{}
		for _, r := range regions {
			e := pulumi.Map{
				"writeEndpoint":    endpoint(master.Data.Databases.Instances[svc].Address),
				"readEndpoint":     endpoint(r.Data.Databases.Instances[svc].Address),
				"runtimeSecretArn": r.Data.Settings.SecretArns.MapIndex(pulumi.String(svc)),
			}
			if q, ok := r.Data.Queues.ByConsumer[svc]; ok {
				e["queueUrl"] = q.URL
			}
			perRegion[r.Name] = e
		}
		s := pulumi.Map{"regions": perRegion}
		if t, ok := master.Data.Topics.ByPublisher[svc]; ok {
			s["topicArn"] = t
		}
		out[svc] = s
	}
	return out
}

func endpoint(address pulumi.StringOutput) pulumi.StringOutput {
	return pulumi.Sprintf("%s:%d", address, database.Port)
}
