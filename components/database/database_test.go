package database_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/database"
	"github.com/example/ecommerce-platform/stacks/plan"
)

func TestDatabaseHelpers(t *testing.T) {
	fam, err := database.ParameterGroupFamily("16")
	require.NoError(t, err)
	assert.Equal(t, "postgres16", fam)
	for _, bad := range []string{"", "16.4", "sixteen", "9"} {
		_, err := database.ParameterGroupFamily(bad)
		assert.Error(t, err, bad)
	}
	assert.Equal(t, "userdb", database.DBName("user"), "user is reserved in PostgreSQL")
	assert.Equal(t, "h:5432", database.Endpoint("h"))

	// A password with URL-special characters survives the round trip.
	raw := database.URL("db.example", "order_app", "p@ss/w:rd?#", "order")
	u, err := url.Parse(raw)
	require.NoError(t, err)
	pw, _ := u.User.Password()
	assert.Equal(t, "p@ss/w:rd?#", pw)
	assert.Equal(t, "order_app", u.User.Username())
	assert.Equal(t, "db.example:5432", u.Host)
	assert.Equal(t, "/orderdb", u.Path)
	assert.Equal(t, "verify-full", u.Query().Get("sslmode"), "the server's certificate and name are verified")
	assert.Equal(t, database.CABundlePath, u.Query().Get("sslrootcert"))
	assert.Equal(t, "user_app", database.AppUser("user"))
}

func TestSizingResolvesOverrides(t *testing.T) {
	s := database.Settings{
		Sizing:     database.Sizing{InstanceClass: "db.r6g.large", AllocatedStorageGiB: 100, MaxAllocatedStorageGiB: 500},
		PerService: map[string]database.Sizing{"order": {InstanceClass: "db.r6g.2xlarge", MaxAllocatedStorageGiB: 2000}},
	}
	assert.Equal(t, database.Sizing{InstanceClass: "db.r6g.2xlarge", AllocatedStorageGiB: 100, MaxAllocatedStorageGiB: 2000}, s.SizingFor("order"))
	assert.Equal(t, s.Sizing, s.SizingFor("auth"))
}

func validSettings() database.Settings {
	return database.Settings{
		EngineVersion:       "16",
		Sizing:              database.Sizing{InstanceClass: "db.t4g.micro", AllocatedStorageGiB: 20, MaxAllocatedStorageGiB: 40},
		BackupRetentionDays: 1, MonitoringIntervalSeconds: 60, PerformanceInsightsRetentionDays: 7,
		SlowStatementMs: 500, LogRetentionDays: 7,
	}
}

func TestSettingsCheckNamesEveryField(t *testing.T) {
	assert.Empty(t, validSettings().Check([]string{"order"}))
	s := validSettings()
	s.EngineVersion = "9"
	s.BackupRetentionDays = 0
	s.MonitoringIntervalSeconds = 7
	s.PerformanceInsightsRetentionDays = 62 + 1
	s.SlowStatementMs = 0
	s.PerService = map[string]database.Sizing{"order": {AllocatedStorageGiB: 10}, "billing": {}}
	var fields []string
	for _, p := range s.Check([]string{"order"}) {
		fields = append(fields, p.Field)
	}
	assert.Equal(t, []string{
		"engineVersion", "perService.billing", "perService.order.allocatedStorageGiB",
		"backupRetentionDays", "monitoringIntervalSeconds", "performanceInsightsRetentionDays", "slowStatementMs",
	}, fields)
}

func dbArgs() *database.Args {
	return &database.Args{
		DisplayName: "ecommerce-test-eu-west-1", Region: "eu-west-1", AccountID: plan.TestAccount,
		Services:            []string{"order", "auth"},
		Settings:            validSettings(),
		Passwords:           map[string]pulumi.StringInput{"order": pulumi.String("pw-order"), "auth": pulumi.String("pw-auth")},
		VpcID:               pulumi.String("vpc-1"),
		SubnetIDs:           pulumi.ToStringArray([]string{"subnet-a", "subnet-b"}),
		NodeSecurityGroupID: pulumi.String("sg-nodes"),
		KmsKeyArn:           pulumi.String("arn:aws:kms:eu-west-1:123456789012:key/k"),
		LogsKmsKeyArn:       pulumi.String("arn:aws:kms:eu-west-1:123456789012:key/logs"),
	}
}

// Bad arguments fail before anything is created, each naming its field.
func TestDatabasesCheckArgsFirst(t *testing.T) {
	cases := map[string]struct {
		change func(a *database.Args) *database.Args
		field  string
	}{
		"nil args":                     {func(*database.Args) *database.Args { return nil }, "Args"},
		"without key":                  {func(a *database.Args) *database.Args { a.KmsKeyArn = nil; return a }, "KmsKeyArn"},
		"without backups":              {func(a *database.Args) *database.Args { a.Settings.BackupRetentionDays = 0; return a }, "Settings.backupRetentionDays"},
		"primary without its password": {func(a *database.Args) *database.Args { delete(a.Passwords, "auth"); return a }, "Passwords.auth"},
		"replica without its source": {func(a *database.Args) *database.Args {
			a.Sources = map[string]pulumi.StringInput{"order": pulumi.String("arn:aws:rds:us-east-1:1:db:x")}
			return a
		}, "Sources.auth"},
		"identifier too long":                {func(a *database.Args) *database.Args { a.DisplayName = strings.Repeat("x", 70); return a }, "Services"},
		"backup copies in the master region": {func(a *database.Args) *database.Args { a.BackupCopies = true; return a }, "BackupCopies"},
		"retention CloudWatch refuses":       {func(a *database.Args) *database.Args { a.Settings.LogRetentionDays = 10; return a }, "Settings.LogRetentionDays"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			inv, err := plan.RunComponent("eu-west-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
				_, err := database.New(ctx, "db", tc.change(dbArgs()), opts...)
				return err
			})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.field+":")
			assert.True(t, inv.OnlyProviders(), "nothing is created")
		})
	}
}

// Primaries take the given passwords, encrypted storage, TLS-only
// parameters and logs exported into a group that exists first.
func TestPrimaryDatabases(t *testing.T) {
	inv, err := plan.RunComponent("eu-west-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		_, err := database.New(ctx, "eu-west-1-db", dbArgs(), opts...)
		return err
	})
	require.NoError(t, err)
	assert.Empty(t, inv.OfType("random:index/randomPassword:RandomPassword"), "passwords come from the stack, not from a region")
	order := inv.Find("aws:rds/instance:Instance", "eu-west-1-db-order")
	require.NotNil(t, order)
	assert.Equal(t, plan.Secret, order.Get("password"), "the password is a secret input")
	assert.Equal(t, "postgres", order.String("engine"))
	assert.Equal(t, true, order.Get("storageEncrypted"))
	assert.Equal(t, false, order.Get("publiclyAccessible"))
	params := inv.Find("aws:rds/parameterGroup:ParameterGroup", "eu-west-1-db")
	require.NotNil(t, params)
	assert.Contains(t, params.Get("parameters"), map[string]any{"name": "rds.force_ssl", "value": "1", "applyMethod": "pending-reboot"})
}

// A replica set on its own: every child is parented to the component, lands
// in the provider's region and replicates the given source.
func TestReplicaDatabases(t *testing.T) {
	var out *database.Databases
	inv, err := plan.RunComponent("eu-west-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		a := dbArgs()
		a.Passwords = nil
		a.Sources = map[string]pulumi.StringInput{
			"order": pulumi.String("arn:aws:rds:us-east-1:123456789012:db:primary-order"),
			"auth":  pulumi.String("arn:aws:rds:us-east-1:123456789012:db:primary-auth"),
		}
		var err error
		out, err = database.New(ctx, "eu-west-1-db", a, opts...)
		return err
	})
	require.NoError(t, err)
	require.True(t, out.Replica)
	comp := inv.Find("ecommerce:database:Databases", "eu-west-1-db")
	require.NotNil(t, comp)
	for _, r := range inv.Descendants(comp) {
		assert.Equal(t, comp.URN, r.Parent, "%s %s is a direct child", r.Type, r.Name)
		assert.Equal(t, "eu-west-1", r.Region, "%s %s uses the region's provider", r.Type, r.Name)
	}
	order := inv.Find("aws:rds/instance:Instance", "eu-west-1-db-order")
	require.NotNil(t, order)
	assert.Equal(t, "arn:aws:rds:us-east-1:123456789012:db:primary-order", order.String("replicateSourceDb"))
	assert.Nil(t, order.Get("password"), "a replica never carries a password")
	assert.Equal(t, "ecommerce-test-eu-west-1-order", order.String("identifier"))
	assert.Equal(t, "arn:aws:kms:eu-west-1:123456789012:key/k", order.String("kmsKeyId"))
	logs := inv.Find("aws:cloudwatch/logGroup:LogGroup", "eu-west-1-db-order")
	require.NotNil(t, logs)
	assert.Equal(t, "/aws/rds/instance/ecommerce-test-eu-west-1-order/postgresql", logs.String("name"), "the group RDS exports into exists first, encrypted")
}
