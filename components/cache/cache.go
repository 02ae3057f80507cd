// Package cache builds the Redis (ElastiCache) replication group of one
// region: TLS, encryption at rest with the regional key, an auth token, and
// reachable from the cluster nodes only. Caches are regional: each region
// invalidates its own from events.
package cache

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elasticache"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/check"
	"github.com/example/ecommerce-platform/components/logs"
	"github.com/example/ecommerce-platform/components/network"
)

// Port is the Redis port.
const Port = 6379

// TokenSpecial are the only punctuation characters ElastiCache accepts in an
// auth token (besides letters and digits).
const TokenSpecial = "!&#$^<>-"

// TokenLength is within ElastiCache's 16 to 128.
const TokenLength = 64

// Args configures the cache of one region.
type Args struct {
	// DisplayName names the group and its Name tags.
	DisplayName string
	// Region and AccountID scope the slow log's delivery policy.
	Region, AccountID string
	Settings          Settings
	// VpcID, SubnetIDs (the database subnets) and NodeSecurityGroupID (the
	// only source admitted on 6379).
	VpcID               pulumi.StringInput
	SubnetIDs           pulumi.StringArrayInput
	NodeSecurityGroupID pulumi.StringInput
	// KmsKeyArn encrypts the data at rest and the snapshots (the region's
	// data key); LogsKmsKeyArn the slow log.
	KmsKeyArn, LogsKmsKeyArn pulumi.StringInput
	// LogRetentionDays of the slow log in CloudWatch Logs.
	LogRetentionDays int
}

// Cache is one region's Redis replication group.
type Cache struct {
	pulumi.ResourceState

	// Address is the primary endpoint; writes and reads go there.
	Address pulumi.StringOutput `pulumi:"address"`
	// ReaderAddress balances reads over the replicas.
	ReaderAddress pulumi.StringOutput `pulumi:"readerAddress"`
	// SecurityGroupID guards the group.
	SecurityGroupID pulumi.StringOutput `pulumi:"securityGroupId"`
	// AuthToken is the Redis AUTH token, always a secret output. It is
	// not registered as a component output: it reaches the services only
	// through their runtime secrets.
	AuthToken pulumi.StringOutput
	// Group is the replication group, for what must wait until it answers.
	Group pulumi.Resource
	// GroupID is the replication group id; its nodes are "<id>-001",
	// "<id>-002", ... (the alarms' CacheClusterId dimension).
	GroupID pulumi.StringOutput
	// Nodes is the number of nodes: the primary and its replicas.
	Nodes int
}

func (a *Args) check() error {
	p := check.New("cache")
	if a == nil {
		p.Require("Args", false)
		return p.Err()
	}
	p.Require("DisplayName", a.DisplayName != "")
	p.Require("Region", a.Region != "")
	p.Require("AccountID", a.AccountID != "")
	p.Require("VpcID", a.VpcID != nil)
	p.Require("SubnetIDs", a.SubnetIDs != nil)
	p.Require("NodeSecurityGroupID", a.NodeSecurityGroupID != nil)
	if a.KmsKeyArn == nil {
		p.Add("KmsKeyArn", "is required: data at rest is always encrypted")
	}
	if a.LogsKmsKeyArn == nil {
		p.Add("LogsKmsKeyArn", "is required: the slow log is always encrypted")
	}
	if !logs.ValidRetention(a.LogRetentionDays) {
		p.Add("LogRetentionDays", "%d is not a CloudWatch Logs retention; allowed: %v", a.LogRetentionDays, logs.RetentionDays)
	}
	p.Merge("Settings", a.Settings.Check())
	return p.Err()
}

// URL is the connection URL the services read: TLS ("rediss"), no
// credential in it; the token travels separately as a secret.
func URL(address string) string { return fmt.Sprintf("rediss://%s:%d", address, Port) }

// New creates the cache. Pass the region's AWS provider and a random
// provider in opts.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Cache, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	c := &Cache{}
	if err := ctx.RegisterComponentResource("ecommerce:cache:Cache", name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	s := args.Settings
	tags := pulumi.StringMap{"Name": pulumi.String(args.DisplayName + "-cache")}

	subnets, err := elasticache.NewSubnetGroup(ctx, name, &elasticache.SubnetGroupArgs{
		Description: pulumi.Sprintf("Cache subnets of %s", args.DisplayName),
		SubnetIds:   args.SubnetIDs,
		Tags:        tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	sg, err := network.NewServerSecurityGroup(ctx, name, &network.ServerSecurityGroupArgs{
		VpcID:                 args.VpcID,
		Server:                "Redis (TLS)",
		Port:                  Port,
		SourceSecurityGroupID: args.NodeSecurityGroupID,
		Tags:                  tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	token, err := random.NewRandomPassword(ctx, name+"-auth", &random.RandomPasswordArgs{
		Length:          pulumi.Int(TokenLength),
		Special:         pulumi.Bool(true),
		OverrideSpecial: pulumi.String(TokenSpecial),
	}, parent)
	if err != nil {
		return nil, err
	}
	authToken := pulumi.ToSecret(token.Result).(pulumi.StringOutput)

	// The slow log shows which keys or commands hurt; encrypted, with a
	// retention, instead of kept nowhere.
	slowLog, err := logs.NewGroup(ctx, name+"-slow-log", &logs.GroupArgs{
		Name:          pulumi.Sprintf("/aws/elasticache/%s/slow-log", args.DisplayName),
		RetentionDays: args.LogRetentionDays,
		KmsKeyArn:     args.LogsKmsKeyArn,
		Tags:          tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	// ElastiCache delivers through CloudWatch Logs' vended-log channel,
	// which writes only where a resource policy admits it.
	delivery, err := logs.NewDeliveryPolicy(ctx, name+"-slow-log", &logs.DeliveryPolicyArgs{
		PolicyName:   args.DisplayName + "-elasticache-slow-log",
		Region:       args.Region,
		AccountID:    args.AccountID,
		LogGroupArns: []pulumi.StringInput{slowLog.Arn},
	}, parent)
	if err != nil {
		return nil, err
	}

	failover := s.Replicas > 0
	group, err := elasticache.NewReplicationGroup(ctx, name, &elasticache.ReplicationGroupArgs{
		Description:              pulumi.Sprintf("Regional cache of %s", args.DisplayName),
		Engine:                   pulumi.String("redis"),
		EngineVersion:            pulumi.String(s.EngineVersion),
		NodeType:                 pulumi.String(s.NodeType),
		Port:                     pulumi.Int(Port),
		NumCacheClusters:         pulumi.Int(1 + s.Replicas),
		AutomaticFailoverEnabled: pulumi.Bool(failover),
		MultiAzEnabled:           pulumi.Bool(failover),
		SubnetGroupName:          subnets.Name,
		SecurityGroupIds:         pulumi.StringArray{sg.Group.ID()},
		TransitEncryptionEnabled: pulumi.Bool(true),
		AtRestEncryptionEnabled:  pulumi.Bool(true),
		KmsKeyId:                 args.KmsKeyArn,
		AuthToken:                authToken,
		// ROTATE keeps the old token valid while clients move to a new
		// one, so replacing the token does not drop every connection.
		AuthTokenUpdateStrategy: pulumi.String("ROTATE"),
		SnapshotRetentionLimit:  pulumi.Int(s.SnapshotRetentionDays),
		SnapshotWindow:          pulumi.String(s.SnapshotWindow),
		MaintenanceWindow:       pulumi.String(s.MaintenanceWindow),
		AutoMinorVersionUpgrade: pulumi.Bool(true),
		LogDeliveryConfigurations: elasticache.ReplicationGroupLogDeliveryConfigurationArray{
			elasticache.ReplicationGroupLogDeliveryConfigurationArgs{
				Destination:     slowLog.Name,
				DestinationType: pulumi.String("cloudwatch-logs"),
				LogFormat:       pulumi.String("json"),
				LogType:         pulumi.String("slow-log"),
			},
		},
		Tags: tags,
	}, parent, pulumi.DependsOn([]pulumi.Resource{delivery}))
	if err != nil {
		return nil, err
	}
	c.Address = group.PrimaryEndpointAddress
	c.Group = group
	c.GroupID = group.ID().ToStringOutput()
	c.Nodes = 1 + s.Replicas
	c.ReaderAddress = group.ReaderEndpointAddress
	c.SecurityGroupID = sg.Group.ID().ToStringOutput()
	c.AuthToken = authToken
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"address":         c.Address,
		"readerAddress":   c.ReaderAddress,
		"securityGroupId": c.SecurityGroupID,
	})
}
