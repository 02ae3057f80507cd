package region

import (
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/appconfig"
	"github.com/example/ecommerce-platform/components/cache"
	"github.com/example/ecommerce-platform/components/check"
	"github.com/example/ecommerce-platform/components/database"
	"github.com/example/ecommerce-platform/components/messaging"
)

// DataArgs are the region's data and messaging settings.
type DataArgs struct {
	// Services get a database, a runtime secret, an IRSA role and, if they
	// consume events, a queue.
	Services []string
	// TokenIssuer is the service that signs access tokens; it gets the
	// signing key in its runtime secret ("" for none).
	TokenIssuer string
	// Calls are the service-to-service calls (caller -> callees).
	Calls    map[string][]string
	Database database.Settings
	Cache    cache.Settings
	Queues   messaging.QueueSettings
	// Topology is the event map's topics, queues and routes.
	Topology *messaging.Topology
	// SecretRecoveryWindowDays applies to the runtime secrets.
	SecretRecoveryWindowDays int
	// BackupCopies makes this (non-master) region hold copies of the
	// primaries' automated backups.
	BackupCopies bool
	// DatabasePasswords (master users), AppPasswords (the services' login
	// roles), ReaderPasswords (their read-only roles), by service, and
	// SigningSeed are the stack's generated
	// secrets, from the global phase.
	DatabasePasswords map[string]pulumi.StringOutput
	AppPasswords      map[string]pulumi.StringOutput
	ReaderPasswords   map[string]pulumi.StringOutput
	SigningSeed       pulumi.StringOutput
}

// Data is one region's data layer and per-service wiring.
type Data struct {
	// Databases are primaries in the master region, replicas elsewhere.
	Databases *database.Databases
	Cache     *cache.Cache
	// Topics exist in the master region only; other regions use the
	// master's.
	Topics *messaging.Topics
	Queues *messaging.Queues
	// Wiring holds the runtime secrets and IRSA roles.
	Wiring *appconfig.Settings
	// Services are the per-service wiring by service: what each service's
	// instances in this region need and may touch.
	Services map[string]*appconfig.Service
}

func (d *DataArgs) check(primary *Region, p *check.Problems) {
	if d == nil {
		return
	}
	p.Require("Data.Services", len(d.Services) > 0)
	p.Require("Data.Topology", d.Topology != nil)
	if d.TokenIssuer != "" && !slices.Contains(d.Services, d.TokenIssuer) {
		p.Add("Data.TokenIssuer", "%q is not one of the services %v", d.TokenIssuer, d.Services)
	}
	for _, svc := range d.Services {
		if _, ok := d.DatabasePasswords[svc]; !ok {
			p.Add("Data.DatabasePasswords."+svc, "is required: the primary of %s is created with it and its migrations connect with it", svc)
		}
		if _, ok := d.AppPasswords[svc]; !ok {
			p.Add("Data.AppPasswords."+svc, "is required: %s serves as its own login role, with this password, in the master region", svc)
		}
		if _, ok := d.ReaderPasswords[svc]; !ok {
			p.Add("Data.ReaderPasswords."+svc, "is required: %s serves reads as its read-only role, with this password, outside the master region", svc)
		}
	}
	if d.TokenIssuer != "" && d.SigningSeed == (pulumi.StringOutput{}) {
		p.Add("Data.SigningSeed", "is required: %s signs tokens with it", d.TokenIssuer)
	}
	if primary == nil {
		if d.BackupCopies {
			p.Add("Data.BackupCopies", "backup copies go to a region other than the master")
		}
		return
	}
	if primary.Data == nil || primary.Data.Topics == nil {
		p.Add("Primary", "the master region %s has no data layer to replicate and subscribe to", primary.Name)
		return
	}
	for _, svc := range d.Services {
		if _, ok := primary.Data.Databases.Instances[svc]; !ok {
			p.Add("Primary", "the master region has no database for %s to replicate", svc)
		}
	}
}

// newData builds databases and cache (after the cluster, whose nodes are
// their only clients), then topics (master), queues, and the per-service
// wiring that reads them.
func newData(ctx *pulumi.Context, name string, args *Args, r *Region, parent pulumi.ResourceOption) (*Data, error) {
	d := args.Data
	out := &Data{}
	var err error

	dbArgs := &database.Args{
		DisplayName:         args.DisplayName,
		Region:              args.Region,
		AccountID:           args.AccountID,
		Services:            d.Services,
		Settings:            d.Database,
		VpcID:               r.Network.VpcID,
		SubnetIDs:           r.Network.DatabaseSubnetIDs,
		NodeSecurityGroupID: r.Cluster.NodeSecurityGroupID,
		KmsKeyArn:           r.Keys.Data.Arn,
		LogsKmsKeyArn:       r.Keys.Logs.Arn,
	}
	// primary is the master region's data: this region's own in the master.
	primary := out
	if r.Master {
		dbArgs.Passwords = map[string]pulumi.StringInput{}
		for svc, pw := range d.DatabasePasswords {
			dbArgs.Passwords[svc] = pw
		}
	} else {
		primary = args.Primary.Data
		dbArgs.Sources = map[string]pulumi.StringInput{}
		for _, svc := range d.Services {
			dbArgs.Sources[svc] = primary.Databases.Instances[svc].Arn
		}
		dbArgs.BackupCopies = d.BackupCopies
	}
	if out.Databases, err = database.New(ctx, name+"-db", dbArgs, parent); err != nil {
		return nil, err
	}

	if out.Cache, err = cache.New(ctx, name+"-cache", &cache.Args{
		DisplayName:         args.DisplayName,
		Region:              args.Region,
		AccountID:           args.AccountID,
		Settings:            d.Cache,
		VpcID:               r.Network.VpcID,
		SubnetIDs:           r.Network.DatabaseSubnetIDs,
		NodeSecurityGroupID: r.Cluster.NodeSecurityGroupID,
		KmsKeyArn:           r.Keys.Data.Arn,
		LogsKmsKeyArn:       r.Keys.Logs.Arn,
		LogRetentionDays:    args.Network.LogRetentionDays,
	}, parent); err != nil {
		return nil, err
	}

	if r.Master {
		if out.Topics, err = messaging.NewTopics(ctx, name+"-topics", &messaging.TopicsArgs{
			NamePrefix: args.StackName,
			Topology:   d.Topology,
			KmsKeyArn:  r.Keys.Messaging.Arn,
			AccountID:  args.AccountID,
		}, parent); err != nil {
			return nil, err
		}
	}
	if out.Queues, err = messaging.NewQueues(ctx, name+"-queues", &messaging.QueuesArgs{
		DisplayName: args.DisplayName,
		Topology:    d.Topology.ForRegion(r.Master),
		Settings:    d.Queues,
		TopicArns:   primary.Topics.ByPublisher,
		KmsKeyArn:   r.Keys.Messaging.Arn,
	}, parent); err != nil {
		return nil, err
	}

	topicKey := r.Keys.Messaging.Arn
	if !r.Master {
		topicKey = args.Primary.Keys.Messaging.Arn
	}
	inputs := map[string]appconfig.Inputs{}
	for _, svc := range d.Services {
		inputs[svc] = serviceInputs(svc, r.Master, d, out, primary)
	}
	if out.Wiring, err = appconfig.New(ctx, name+"-settings", &appconfig.Args{
		DisplayName:        args.DisplayName,
		Region:             args.Region,
		MasterRegion:       r.MasterRegion,
		KmsKeyArn:          r.Keys.Data.Arn,
		QueueKeyArn:        r.Keys.Messaging.Arn,
		TopicKeyArn:        topicKey,
		RecoveryWindowDays: d.SecretRecoveryWindowDays,
		OidcProviderArn:    r.Cluster.OidcProviderArn,
		OidcIssuerURL:      r.Cluster.OidcIssuerURL,
		TokenIssuer:        d.TokenIssuer,
		Services:           inputs,
	}, parent); err != nil {
		return nil, err
	}
	out.Services = out.Wiring.Services
	return out, nil
}

// serviceInputs gathers what one service gets from this region's data
// layer (local) and the master's (primary).
//
// In the master region a service serves with its read-write role on the
// primary, publishes to its topic and handles every event routed to it.
// Elsewhere it serves reads only: its read-only role on the local replica,
// no topic, and a queue only for the regional events (cache
// invalidation). Writes reach the master region at the edge, so nothing
// outside it holds a credential that could write, or needs a path to the
// primaries.
func serviceInputs(svc string, master bool, d *DataArgs, local, primary *Data) appconfig.Inputs {
	writer := primary.Databases.Instances[svc]
	reader := local.Databases.Instances[svc]
	dbURL := func(address pulumi.StringOutput, user string, password pulumi.StringOutput) pulumi.StringOutput {
		// Replicas share the primary's roles and passwords. The URL embeds
		// one, so it is a secret; a generated password (not an RDS-managed
		// one, which rotates on its own and lives only in the master
		// region) keeps it valid in every region, also after a failover.
		return pulumi.ToSecret(pulumi.All(address, password).ApplyT(func(v []any) string {
			return database.URL(v[0].(string), user, v[1].(string), svc)
		})).(pulumi.StringOutput)
	}
	in := appconfig.Inputs{
		WriteAddress:   writer.Address,
		ReadAddress:    reader.Address,
		RedisURL:       local.Cache.Address.ApplyT(cache.URL).(pulumi.StringOutput),
		RedisAuthToken: local.Cache.AuthToken,
		Calls:          d.Calls[svc],
		Handlers:       d.Topology.ForRegion(master).Handlers(svc),
	}
	if master {
		in.DatabaseURL = dbURL(writer.Address, database.AppUser(svc), d.AppPasswords[svc])
		in.DatabaseReadURL = in.DatabaseURL
	} else {
		in.ReadOnly = true
		in.DatabaseURL = dbURL(reader.Address, database.ReaderUser(svc), d.ReaderPasswords[svc])
		in.DatabaseReadURL = in.DatabaseURL
	}
	if q, ok := local.Queues.ByConsumer[svc]; ok {
		in.QueueURL, in.QueueArn = q.URL, q.Arn
	}
	if t, ok := primary.Topics.ByPublisher[svc]; ok && master {
		in.TopicArn = t
	}
	if svc == d.TokenIssuer {
		// Every region publishes the token issuer's public keys (JWKS);
		// tokens are issued by logins, which are writes, in the master.
		in.SigningKey = d.SigningSeed
	}
	if master {
		// Only the migrations, where the primary is, own the schema and
		// create the service's roles: they alone get the master user.
		in.Migration = &appconfig.Migration{
			DatabaseURL:    dbURL(writer.Address, database.Username, d.DatabasePasswords[svc]),
			AppUser:        database.AppUser(svc),
			AppPassword:    d.AppPasswords[svc],
			ReaderUser:     database.ReaderUser(svc),
			ReaderPassword: d.ReaderPasswords[svc],
		}
	}
	return in
}
