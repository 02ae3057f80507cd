// Package database builds the PostgreSQL databases of one region: one RDS
// instance per service, writable primaries in the master region and
// encrypted cross-region read replicas of them everywhere else.
package database

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/network"
)

// Port is the PostgreSQL port every instance listens on.
const Port = 5432

// Username is the master user of every database; RDS refuses reserved
// words (such as "user") as a master user name.
const Username = "app"

// Timing windows (UTC), chosen to not overlap: backups, then maintenance.
const (
	BackupWindow      = "03:00-04:00" //nolint:gosec // a time window, not a credential
	MaintenanceWindow = "sun:04:30-sun:05:30"
)

// Settings size every instance; the stack config fills them.
type Settings struct {
	// EngineVersion is the PostgreSQL major version, e.g. "16".
	EngineVersion string
	// InstanceClass, e.g. db.r6g.large.
	InstanceClass string
	// AllocatedStorageGiB is the initial gp3 size; MaxAllocatedStorageGiB
	// the storage-autoscaling ceiling.
	AllocatedStorageGiB    int
	MaxAllocatedStorageGiB int
	// MultiAZ keeps a synchronous standby in another zone.
	MultiAZ bool
	// BackupRetentionDays of automated backups (primaries), 1 to 35.
	BackupRetentionDays int
	// MonitoringIntervalSeconds of enhanced monitoring.
	MonitoringIntervalSeconds int
	// PerformanceInsightsRetentionDays: 7 or a multiple of 31.
	PerformanceInsightsRetentionDays int
	// SlowStatementMs logs statements slower than this.
	SlowStatementMs int
	// Protect turns on deletion protection and a final snapshot.
	Protect bool
	// LogRetentionDays of the exported PostgreSQL logs.
	LogRetentionDays int
}

// Sizing is what a service may size differently from the others.
type Sizing struct {
	InstanceClass          string
	AllocatedStorageGiB    int
	MaxAllocatedStorageGiB int
}

// SizingFor resolves a service's sizing over the shared settings.
func (a *Args) SizingFor(service string) Sizing {
	z := Sizing{a.Settings.InstanceClass, a.Settings.AllocatedStorageGiB, a.Settings.MaxAllocatedStorageGiB}
	o := a.Sizes[service]
	if o.InstanceClass != "" {
		z.InstanceClass = o.InstanceClass
	}
	if o.AllocatedStorageGiB != 0 {
		z.AllocatedStorageGiB = o.AllocatedStorageGiB
	}
	if o.MaxAllocatedStorageGiB != 0 {
		z.MaxAllocatedStorageGiB = o.MaxAllocatedStorageGiB
	}
	return z
}

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
	// KmsKeyArn is this region's key: storage, Performance Insights, logs.
	KmsKeyArn pulumi.StringInput
	// Sources, when set, makes every instance a read replica of the
	// primary with this ARN, by service. Nil in the master region.
	Sources map[string]pulumi.StringInput
	// Sizes overrides the sizing of some services (zero fields keep
	// Settings' values).
	Sizes map[string]Sizing
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
	// Password is the master password (primaries only; replicas share
	// their primary's). Always a secret output.
	Password pulumi.StringOutput
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
	if a == nil {
		return errors.New("database: args are required")
	}
	var errs []error
	if a.DisplayName == "" || a.Region == "" || a.AccountID == "" {
		errs = append(errs, errors.New("database: DisplayName, Region and AccountID are required"))
	}
	if len(a.Services) == 0 {
		errs = append(errs, errors.New("database: at least one service is required"))
	}
	for _, s := range a.Services {
		if id := Identifier(a.DisplayName, s); !identPattern.MatchString(id) {
			errs = append(errs, fmt.Errorf("database: identifier %q is not a valid RDS identifier", id))
		}
		if a.Sources != nil && a.Sources[s] == nil {
			errs = append(errs, fmt.Errorf("database: replica of %q has no source ARN", s))
		}
		if z := a.SizingFor(s); z.InstanceClass == "" || z.AllocatedStorageGiB < 20 || z.MaxAllocatedStorageGiB < z.AllocatedStorageGiB {
			errs = append(errs, fmt.Errorf("database: %s needs InstanceClass, AllocatedStorageGiB >= 20 and MaxAllocatedStorageGiB >= AllocatedStorageGiB", s))
		}
	}
	if a.BackupCopies && a.Sources == nil {
		errs = append(errs, errors.New("database: BackupCopies copies the primaries' backups into a replica region; the master region has the originals"))
	}
	if a.VpcID == nil || a.SubnetIDs == nil || a.NodeSecurityGroupID == nil {
		errs = append(errs, errors.New("database: VpcID, SubnetIDs and NodeSecurityGroupID are required"))
	}
	if a.KmsKeyArn == nil {
		errs = append(errs, errors.New("database: KmsKeyArn is required: storage is always encrypted"))
	}
	s := a.Settings
	if _, err := ParameterGroupFamily(s.EngineVersion); err != nil {
		errs = append(errs, err)
	}
	if s.BackupRetentionDays < 1 {
		errs = append(errs, errors.New("database: BackupRetentionDays must be at least 1: replicas and point-in-time recovery need backups"))
	}
	if s.MonitoringIntervalSeconds <= 0 || s.PerformanceInsightsRetentionDays <= 0 || s.SlowStatementMs <= 0 || s.LogRetentionDays <= 0 {
		errs = append(errs, errors.New("database: monitoring interval, Performance Insights retention, slow statement threshold and log retention must be positive"))
	}
	return errors.Join(errs...)
}

// Identifier is the RDS identifier of a service's instance in a region. A
// replica keeps its identifier when promoted, so failover renames nothing.
func Identifier(displayName, service string) string {
	return displayName + "-" + service
}

// DBName is the database each service's instance holds. "user" and
// "order" are reserved words in PostgreSQL, hence the suffix.
func DBName(service string) string { return service + "db" }

// ParameterGroupFamily maps a major version ("16") to its family.
func ParameterGroupFamily(engineVersion string) (string, error) {
	if n, err := strconv.Atoi(engineVersion); err != nil || n < 10 {
		return "", fmt.Errorf("database: EngineVersion %q must be a PostgreSQL major version such as \"16\"", engineVersion)
	}
	return "postgres" + engineVersion, nil
}

// URL is the connection URL the services read. TLS is required: the
// parameter group refuses plain connections anyway.
func URL(address, password, service string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(Username, password),
		Host:     fmt.Sprintf("%s:%d", address, Port),
		Path:     "/" + DBName(service),
		RawQuery: "sslmode=require",
	}
	return u.String()
}

func monitoringTrust(accountID string) string {
	b, _ := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect":    "Allow",
			"Principal": map[string]any{"Service": "monitoring.rds.amazonaws.com"},
			"Action":    "sts:AssumeRole",
			// Only RDS acting for this account may assume it.
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": accountID}},
		}},
	})
	return string(b)
}

// New creates the region's databases: primaries when Sources is nil,
// replicas of Sources otherwise. Pass the region's AWS provider (and a
// random provider) in opts.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Databases, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	family, _ := ParameterGroupFamily(args.Settings.EngineVersion)
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
	role, err := iam.NewRole(ctx, name+"-monitoring", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(monitoringTrust(args.AccountID)),
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
			role: role, attachment: attachment, subnets: subnets, sg: sg, params: params,
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
	d.SecurityGroupID = sg.ID().ToStringOutput()
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
	size := args.SizingFor(svc)
	ident := Identifier(args.DisplayName, svc)
	// Created first, so RDS writes into an encrypted group with a
	// retention instead of creating an unencrypted, never-expiring one.
	logGroup, err := cloudwatch.NewLogGroup(ctx, name, &cloudwatch.LogGroupArgs{
		Name:            pulumi.Sprintf("/aws/rds/instance/%s/postgresql", ident),
		RetentionInDays: pulumi.Int(s.LogRetentionDays),
		KmsKeyId:        args.KmsKeyArn,
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
		// Letters and digits only: the password goes into a URL and RDS
		// refuses some punctuation; 40 of them are ~238 bits.
		pw, err := random.NewRandomPassword(ctx, name, &random.RandomPasswordArgs{
			Length:  pulumi.Int(40),
			Special: pulumi.Bool(false),
		}, parent)
		if err != nil {
			return nil, err
		}
		inst.Password = pulumi.ToSecret(pw.Result).(pulumi.StringOutput)
		in.Engine = pulumi.String("postgres")
		// A major version only: RDS applies minor upgrades itself and the
		// provider does not report them as drift. Majors move by config.
		in.EngineVersion = pulumi.String(s.EngineVersion)
		in.AllowMajorVersionUpgrade = pulumi.Bool(true)
		in.DbName = pulumi.String(DBName(svc))
		in.Username = pulumi.String(Username)
		in.Password = inst.Password
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
	inst.Address = db.Address
	return inst, nil
}
