package region

import (
	"errors"
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/appconfig"
	"github.com/example/ecommerce-platform/components/cache"
	"github.com/example/ecommerce-platform/components/database"
	"github.com/example/ecommerce-platform/components/messaging"
)

// DataArgs are the region's data and messaging settings.
type DataArgs struct {
	// Services get a database, a runtime secret and, if they consume
	// events, a queue.
	Services []string
	Database database.Settings
	// DatabaseSizes overrides some services' sizing.
	DatabaseSizes map[string]database.Sizing
	Cache         cache.Settings
	Queues        messaging.QueueSettings
	// Topology is the event map's topics, queues and routes.
	Topology *messaging.Topology
	// TopicPrefix names the topics, e.g. "ecommerce-prod" (master only).
	TopicPrefix string
	// SecretRecoveryWindowDays applies to the runtime secrets.
	SecretRecoveryWindowDays int
	// BackupCopies makes this (non-master) region hold copies of the
	// primaries' automated backups.
	BackupCopies bool
	// MasterRegion names the region of the primaries and topics.
	MasterRegion string
	// TokenIssuer is the service that signs access tokens; it gets the
	// JWT signing key in its runtime secret ("" for none).
	TokenIssuer string
	// Primary is the master region's data layer: replicas replicate from
	// its databases and every region's queues admit its topics. Required
	// outside the master region, nil in it.
	Primary *Data
}

// Data is one region's data layer.
type Data struct {
	// Databases are primaries in the master region, replicas elsewhere.
	Databases *database.Databases
	Cache     *cache.Cache
	// Topics exist in the master region only; other regions refer to the
	// master's through DataArgs.Primary.
	Topics   *messaging.Topics
	Queues   *messaging.Queues
	Settings *appconfig.Settings
	// KeyArn is the region's key, as the data layer uses it.
	KeyArn pulumi.StringOutput
	// SigningSeed is the token issuer's Ed25519 seed (base64, secret),
	// generated once in the master region and shared by every region, so
	// a token signed in one region verifies in all.
	SigningSeed pulumi.StringOutput

	// AccessPolicies are, by service, the IAM policy documents of the
	// services' workload roles in this region: their own secret, queue
	// and topic, nothing else.
	AccessPolicies map[string]pulumi.StringOutput
}

func (d *DataArgs) check(master bool) error {
	if d == nil {
		return nil
	}
	switch {
	case len(d.Services) == 0 || d.Topology == nil:
		return errors.New("region: Data needs Services and Topology")
	case master && d.Primary != nil:
		return errors.New("region: the master region holds the primaries; Data.Primary must be nil")
	case master && d.TopicPrefix == "":
		return errors.New("region: the master region needs Data.TopicPrefix for its topics")
	case master && d.BackupCopies:
		return errors.New("region: backup copies go to a region other than the master")
	case !master && (d.Primary == nil || d.Primary.Databases == nil || d.Primary.Topics == nil || d.MasterRegion == ""):
		return errors.New("region: a non-master region needs Data.Primary (the master's databases and topics) and Data.MasterRegion")
	}
	if d.TokenIssuer != "" && !slices.Contains(d.Services, d.TokenIssuer) {
		return fmt.Errorf("region: Data.TokenIssuer %q is not one of the services %v", d.TokenIssuer, d.Services)
	}
	if !master {
		for _, svc := range d.Services {
			if _, ok := d.Primary.Databases.Instances[svc]; !ok {
				return fmt.Errorf("region: the master region has no database for %s to replicate", svc)
			}
		}
	}
	return nil
}

// newData builds databases and cache (after the cluster, whose nodes are
// their only clients), then topics (master), queues and runtime secrets.
func newData(ctx *pulumi.Context, name string, args *Args, r *Region, parent pulumi.ResourceOption) (*Data, error) {
	d := args.Data
	// The random provider is explicit: stacks disable default providers.
	rnd, err := random.NewProvider(ctx, name+"-random", &random.ProviderArgs{}, parent)
	if err != nil {
		return nil, err
	}
	opts := []pulumi.ResourceOption{parent, pulumi.Providers(rnd)}
	out := &Data{}

	dbArgs := &database.Args{
		DisplayName:         args.DisplayName,
		Region:              args.Region,
		AccountID:           args.AccountID,
		Services:            d.Services,
		Settings:            d.Database,
		Sizes:               d.DatabaseSizes,
		VpcID:               r.Network.VpcID,
		SubnetIDs:           r.Network.DatabaseSubnetIDs,
		NodeSecurityGroupID: r.Cluster.NodeSecurityGroupID,
		KmsKeyArn:           r.Key.Arn,
	}
	primary := d.Primary
	if !args.Master {
		dbArgs.Sources = map[string]pulumi.StringInput{}
		for _, svc := range d.Services {
			dbArgs.Sources[svc] = primary.Databases.Instances[svc].Arn
		}
		dbArgs.BackupCopies = d.BackupCopies
	}
	if out.Databases, err = database.New(ctx, name+"-db", dbArgs, opts...); err != nil {
		return nil, err
	}
	if args.Master {
		primary = out
		if d.TokenIssuer != "" {
			seed, err := random.NewRandomBytes(ctx, name+"-jwt-signing-seed", &random.RandomBytesArgs{
				Length: pulumi.Int(32), // an Ed25519 seed
			}, opts...)
			if err != nil {
				return nil, err
			}
			out.SigningSeed = seed.Base64
		}
	}

	if out.Cache, err = cache.New(ctx, name+"-cache", &cache.Args{
		DisplayName:         args.DisplayName,
		Settings:            d.Cache,
		VpcID:               r.Network.VpcID,
		SubnetIDs:           r.Network.DatabaseSubnetIDs,
		NodeSecurityGroupID: r.Cluster.NodeSecurityGroupID,
		KmsKeyArn:           r.Key.Arn,
		LogRetentionDays:    args.Network.LogRetentionDays,
	}, opts...); err != nil {
		return nil, err
	}

	if args.Master {
		if out.Topics, err = messaging.NewTopics(ctx, name+"-topics", &messaging.TopicsArgs{
			NamePrefix: d.TopicPrefix,
			Topology:   d.Topology,
			KmsKeyArn:  r.Key.Arn,
			AccountID:  args.AccountID,
		}, opts...); err != nil {
			return nil, err
		}
	}
	topics := primary.Topics.ByPublisher
	if out.Queues, err = messaging.NewQueues(ctx, name+"-queues", &messaging.QueuesArgs{
		DisplayName: args.DisplayName,
		Topology:    d.Topology,
		Settings:    d.Queues,
		TopicArns:   topics,
		KmsKeyArn:   r.Key.Arn,
	}, opts...); err != nil {
		return nil, err
	}

	services := map[string]appconfig.Service{}
	for _, svc := range d.Services {
		writer := primary.Databases.Instances[svc]
		reader := out.Databases.Instances[svc]
		service := svc
		dbURL := func(address pulumi.StringOutput) pulumi.StringOutput {
			// Replicas share the primary's password. The URL embeds it, so
			// it is a secret; the services read a complete URL, and a
			// generated password (not an RDS-managed one, which rotates on
			// its own and lives only in the master region) keeps it valid
			// in every region, also while the master region is down.
			return pulumi.ToSecret(pulumi.All(address, writer.Password).ApplyT(func(v []any) string {
				return database.URL(v[0].(string), v[1].(string), service)
			})).(pulumi.StringOutput)
		}
		s := appconfig.Service{
			DatabaseURL:     dbURL(writer.Address),
			DatabaseReadURL: dbURL(reader.Address),
			RedisURL:        out.Cache.Address.ApplyT(cache.URL).(pulumi.StringOutput),
			RedisAuthToken:  out.Cache.AuthToken,
		}
		if q, ok := out.Queues.ByConsumer[svc]; ok {
			s.QueueURL = q.URL
		}
		if t, ok := topics[svc]; ok {
			s.TopicARN = t
		}
		if svc == d.TokenIssuer {
			s.JWTSigningKey = primary.SigningSeed
		}
		services[svc] = s
	}
	if out.Settings, err = appconfig.New(ctx, name+"-settings", &appconfig.Args{
		DisplayName:        args.DisplayName,
		Region:             args.Region,
		KmsKeyArn:          r.Key.Arn,
		RecoveryWindowDays: d.SecretRecoveryWindowDays,
		Services:           services,
	}, opts...); err != nil {
		return nil, err
	}

	masterRegion, masterKey := args.Region, r.Key.Arn
	if !args.Master {
		masterRegion, masterKey = d.MasterRegion, d.Primary.KeyArn
	}
	out.KeyArn = r.Key.Arn
	out.AccessPolicies = map[string]pulumi.StringOutput{}
	for _, svc := range d.Services {
		var queueArn, topicArn pulumi.StringInput = pulumi.String(""), pulumi.String("")
		if q, ok := out.Queues.ByConsumer[svc]; ok {
			queueArn = q.Arn
		}
		if t, ok := topics[svc]; ok {
			topicArn = t
		}
		region := args.Region
		secretArn := out.Settings.SecretArns.MapIndex(pulumi.String(svc))
		out.AccessPolicies[svc] = pulumi.All(secretArn, r.Key.Arn, queueArn, topicArn, masterKey).ApplyT(func(v []any) (string, error) {
			a := appconfig.Access{
				Region: region, MasterRegion: masterRegion,
				SecretArn: v[0].(string), KeyArn: v[1].(string), QueueArn: v[2].(string),
				TopicArn: v[3].(string), TopicKeyArn: v[4].(string),
			}
			return appconfig.AccessPolicy(a)
		}).(pulumi.StringOutput)
	}
	return out, nil
}
