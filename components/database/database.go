// Package database builds the PostgreSQL databases of one region: one RDS
// instance per service, writable primaries in the master region and
// encrypted cross-region read replicas of them everywhere else.
package database

import (
	"regexp"
	"sort"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/check"
	"github.com/example/ecommerce-platform/components/iamdoc"
	"github.com/example/ecommerce-platform/components/logs"
	"github.com/example/ecommerce-platform/components/network"
)

// Args configures the databases of one region.
type Args struct {
	// DisplayName prefixes identifiers and Name tags.
	DisplayName string
	// Region is where the instances live (used in identifiers and checks).
	Region string
	// AccountID scopes the monitoring role's trust.
	AccountID string
	// Services get one instance each.
	Services []string
	Settings Settings
	// VpcID, SubnetIDs (the database subnets) and NodeSecurityGroupID (the
	// only source admitted on 5432) come from the network and cluster.
	VpcID               pulumi.StringInput
	SubnetIDs           pulumi.StringArrayInput
	NodeSecurityGroupID pulumi.StringInput
	// KmsKeyArn is this region's data key: storage, Performance Insights,
	// backup copies; LogsKmsKeyArn its logs key, for the exported logs.
	KmsKeyArn, LogsKmsKeyArn pulumi.StringInput
	// Sources, when set, makes every instance a read replica of the
	// primary with this ARN, by service. Nil in the master region.
	Sources map[string]pulumi.StringInput
	// Passwords are the primaries' master passwords by service (secret),
	// generated once for the stack: a replica promoted by a failover keeps
	// the password it replicated. Required for primaries.
	Passwords map[string]pulumi.StringInput
	// BackupCopies, when set, copies these primaries' automated backups
	// into this region (encrypted with its key) for Settings'
	// BackupRetentionDays: point-in-time recovery survives the loss of the
	// master region, and of a mistake the replicas replayed.
	BackupCopies bool
}

// Instance is one service's database in this region.
type Instance struct {
	// Arn is what replicas in other regions replicate from.
	Arn pulumi.StringOutput
	// Address is the DNS name of the instance; Port is always 5432.
	Address pulumi.StringOutput
	// Resource is the instance, for what must wait until it answers.
	Resource pulumi.Resource
}

// Databases is every service's PostgreSQL instance in one region.
type Databases struct {
	pulumi.ResourceState

	// Arns are the instance ARNs by service.
	Arns pulumi.StringMapOutput `pulumi:"arns"`
	// Addresses are the instance endpoints (host names) by service.
	Addresses pulumi.StringMapOutput `pulumi:"addresses"`
	// SecurityGroupID guards every instance of the region.
	SecurityGroupID pulumi.StringOutput `pulumi:"securityGroupId"`

	// Replica is true when the instances replicate from another region.
	Replica bool
	// Instances by service.
	Instances map[string]*Instance
}

var identPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

func (a *Args) check() error {
	p := check.New("database")
	if a == nil {
		p.Require("Args", false)
		return p.Err()
	}
	p.Require("DisplayName", a.DisplayName != "")
	p.Require("Region", a.Region != "")
	p.Require("AccountID", a.AccountID != "")
	p.Require("Services", len(a.Services) > 0)
	for _, s := range a.Services {
		if id := Identifier(a.DisplayName, s); !identPattern.MatchString(id) {
			p.Add("Services", "identifier %q is not a valid RDS identifier (a letter, then up to 62 lower-case letters, digits or hyphens)", id)
		}
		if a.Sources != nil && a.Sources[s] == nil {
			p.Add("Sources."+s, "a replica needs the ARN of its primary")
		}
		if a.Sources == nil && a.Passwords[s] == nil {
			p.Add("Passwords."+s, "a primary needs its master password")
		}
	}
	if a.BackupCopies && a.Sources == nil {
		p.Add("BackupCopies", "copies the primaries' backups into a replica region; the master region has the originals")
	}
	p.Require("VpcID", a.VpcID != nil)
	p.Require("SubnetIDs", a.SubnetIDs != nil)
	p.Require("NodeSecurityGroupID", a.NodeSecurityGroupID != nil)
	if a.KmsKeyArn == nil {
		p.Add("KmsKeyArn", "is required: storage is always encrypted")
	}
	if a.LogsKmsKeyArn == nil {
		p.Add("LogsKmsKeyArn", "is required: exported logs are always encrypted")
	}
	p.Merge("Settings", a.Settings.Check(a.Services))
	if !logs.ValidRetention(a.Settings.LogRetentionDays) {
		p.Add("Settings.LogRetentionDays", "%d is not a CloudWatch Logs retention; allowed: %v", a.Settings.LogRetentionDays, logs.RetentionDays)
	}
	return p.Err()
}

// monitoringTrust lets only RDS, acting for this account, assume the
// enhanced monitoring role.
func monitoringTrust(accountID string) (string, error) {
	return iamdoc.ServiceTrust("monitoring.rds.amazonaws.com", []string{"sts:AssumeRole"},
		iamdoc.Equals("aws:SourceAccount", accountID))
}

// New creates the region's databases: primaries when Sources is nil,
// replicas of Sources otherwise. Pass the region's AWS provider (and a
// random provider) in opts.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Databases, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	family, err := ParameterGroupFamily(args.Settings.EngineVersion)
	if err != nil {
		return nil, err
	}
	d := &Databases{Replica: args.Sources != nil, Instances: map[string]*Instance{}}
	if err := ctx.RegisterComponentResource("ecommerce:database:Databases", name, d, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(d)
	s := args.Settings
	tags := func(display string) pulumi.StringMap {
		return pulumi.StringMap{"Name": pulumi.String(args.DisplayName + "-" + display)}
	}

	// Enhanced monitoring publishes OS metrics through this role. One per
	// region keeps each region self-contained when the master moves.
	trust, err := monitoringTrust(args.AccountID)
	if err != nil {
		return nil, err
	}
	role, err := iam.NewRole(ctx, name+"-monitoring", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(trust),
		Description:      pulumi.Sprintf("RDS enhanced monitoring of %s", args.DisplayName),
		Tags:             tags("rds-monitoring"),
	}, parent)
	if err != nil {
		return nil, err
	}
	attachment, err := iam.NewRolePolicyAttachment(ctx, name+"-monitoring", &iam.RolePolicyAttachmentArgs{
		Role:      role.Name,
		PolicyArn: pulumi.String("arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"),
	}, parent)
	if err != nil {
		return nil, err
	}

	subnets, err := rds.NewSubnetGroup(ctx, name, &rds.SubnetGroupArgs{
		Description: pulumi.Sprintf("Database subnets of %s", args.DisplayName),
		SubnetIds:   args.SubnetIDs,
		Tags:        tags("db"),
	}, parent)
	if err != nil {
		return nil, err
	}
	sg, err := network.NewServerSecurityGroup(ctx, name, &network.ServerSecurityGroupArgs{
		VpcID:                 args.VpcID,
		Server:                "PostgreSQL",
		Port:                  Port,
		SourceSecurityGroupID: args.NodeSecurityGroupID,
		Tags:                  tags("db"),
	}, parent)
	if err != nil {
		return nil, err
	}
	params, err := rds.NewParameterGroup(ctx, name, &rds.ParameterGroupArgs{
		Family:      pulumi.String(family),
		Description: pulumi.Sprintf("TLS only, slow statements logged (%s)", args.DisplayName),
		Parameters: rds.ParameterGroupParameterArray{
			// Static on older majors: apply at the next reboot rather
			// than fail the update.
			rds.ParameterGroupParameterArgs{Name: pulumi.String("rds.force_ssl"), Value: pulumi.String("1"), ApplyMethod: pulumi.String("pending-reboot")},
			rds.ParameterGroupParameterArgs{Name: pulumi.String("log_min_duration_statement"), Value: pulumi.String(strconv.Itoa(s.SlowStatementMs))},
			rds.ParameterGroupParameterArgs{Name: pulumi.String("log_lock_waits"), Value: pulumi.String("1")},
		},
		Tags: tags("db"),
	}, parent)
	if err != nil {
		return nil, err
	}

	services := append([]string(nil), args.Services...)
	sort.Strings(services)
	arns, addresses := pulumi.StringMap{}, pulumi.StringMap{}
	for _, svc := range services {
		inst, err := newInstance(ctx, name+"-"+svc, svc, args, instanceDeps{
			role: role, attachment: attachment, subnets: subnets, sg: sg.Group, params: params,
		}, parent)
		if err != nil {
			return nil, err
		}
		d.Instances[svc] = inst
		arns[svc] = inst.Arn
		addresses[svc] = inst.Address
		if args.BackupCopies {
			// Created in this (the destination) region, reading the
			// source primary's backups.
			if _, err := rds.NewInstanceAutomatedBackupsReplication(ctx, name+"-"+svc+"-backups", &rds.InstanceAutomatedBackupsReplicationArgs{
				SourceDbInstanceArn: args.Sources[svc],
				KmsKeyId:            args.KmsKeyArn,
				RetentionPeriod:     pulumi.Int(s.BackupRetentionDays),
			}, parent); err != nil {
				return nil, err
			}
		}
	}
	d.Arns = arns.ToStringMapOutput()
	d.Addresses = addresses.ToStringMapOutput()
	d.SecurityGroupID = sg.Group.ID().ToStringOutput()
	return d, ctx.RegisterResourceOutputs(d, pulumi.Map{
		"arns":            d.Arns,
		"addresses":       d.Addresses,
		"securityGroupId": d.SecurityGroupID,
	})
}

type instanceDeps struct {
	role       *iam.Role
	attachment *iam.RolePolicyAttachment
	subnets    *rds.SubnetGroup
	sg         *ec2.SecurityGroup
	params     *rds.ParameterGroup
}

// newInstance creates one service's instance. Primary and replica share
// the logical name: when masterRegion moves to this region the program
// drops replicateSourceDb, which promotes the replica in place.
func newInstance(ctx *pulumi.Context, name, svc string, args *Args, deps instanceDeps, parent pulumi.ResourceOption) (*Instance, error) {
	s := args.Settings
	size := s.SizingFor(svc)
	ident := Identifier(args.DisplayName, svc)
	// Created first: RDS would otherwise make its own.
	logGroup, err := logs.NewGroup(ctx, name, &logs.GroupArgs{
		Name:          pulumi.Sprintf("/aws/rds/instance/%s/postgresql", ident),
		RetentionDays: s.LogRetentionDays,
		KmsKeyArn:     args.LogsKmsKeyArn,
	}, parent)
	if err != nil {
		return nil, err
	}
	in := &rds.InstanceArgs{
		Identifier:                         pulumi.String(ident),
		InstanceClass:                      pulumi.String(size.InstanceClass),
		StorageType:                        pulumi.String("gp3"),
		AllocatedStorage:                   pulumi.Int(size.AllocatedStorageGiB),
		MaxAllocatedStorage:                pulumi.Int(size.MaxAllocatedStorageGiB),
		StorageEncrypted:                   pulumi.Bool(true),
		KmsKeyId:                           args.KmsKeyArn,
		MultiAz:                            pulumi.Bool(s.MultiAZ),
		DbSubnetGroupName:                  deps.subnets.Name,
		VpcSecurityGroupIds:                pulumi.StringArray{deps.sg.ID()},
		ParameterGroupName:                 deps.params.Name,
		PubliclyAccessible:                 pulumi.Bool(false),
		Port:                               pulumi.Int(Port),
		CaCertIdentifier:                   pulumi.String("rds-ca-rsa2048-g1"),
		AutoMinorVersionUpgrade:            pulumi.Bool(true),
		MaintenanceWindow:                  pulumi.String(MaintenanceWindow),
		CopyTagsToSnapshot:                 pulumi.Bool(true),
		DeletionProtection:                 pulumi.Bool(s.Protect),
		MonitoringInterval:                 pulumi.Int(s.MonitoringIntervalSeconds),
		MonitoringRoleArn:                  deps.role.Arn,
		PerformanceInsightsEnabled:         pulumi.Bool(true),
		PerformanceInsightsKmsKeyId:        args.KmsKeyArn,
		PerformanceInsightsRetentionPeriod: pulumi.Int(s.PerformanceInsightsRetentionDays),
		EnabledCloudwatchLogsExports:       pulumi.StringArray{pulumi.String("postgresql")},
		Tags:                               pulumi.StringMap{"Name": pulumi.String(ident), "service": pulumi.String(svc)},
	}
	inst := &Instance{}
	if args.Sources != nil {
		// A replica: no engine, user, password, database name or backups
		// of its own; it gets them from the primary it replicates.
		in.ReplicateSourceDb = args.Sources[svc]
		in.SkipFinalSnapshot = pulumi.Bool(true)
	} else {
		in.Engine = pulumi.String("postgres")
		// A major version only: RDS applies minor upgrades itself and the
		// provider does not report them as drift. Majors move by config.
		in.EngineVersion = pulumi.String(s.EngineVersion)
		in.AllowMajorVersionUpgrade = pulumi.Bool(true)
		in.DbName = pulumi.String(DBName(svc))
		in.Username = pulumi.String(Username)
		in.Password = pulumi.ToSecret(args.Passwords[svc]).(pulumi.StringOutput)
		in.BackupRetentionPeriod = pulumi.Int(s.BackupRetentionDays)
		in.BackupWindow = pulumi.String(BackupWindow)
		in.DeleteAutomatedBackups = pulumi.Bool(!s.Protect)
		in.SkipFinalSnapshot = pulumi.Bool(!s.Protect)
		if s.Protect {
			in.FinalSnapshotIdentifier = pulumi.String(ident + "-final")
		}
	}
	db, err := rds.NewInstance(ctx, name, in, parent,
		pulumi.DependsOn([]pulumi.Resource{logGroup, deps.attachment}))
	if err != nil {
		return nil, err
	}
	inst.Arn = db.Arn
	inst.Resource = db
	inst.Address = db.Address
	return inst, nil
}
