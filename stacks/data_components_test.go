package stacks_test

// Tests of the data components on their own: pure helpers as tables, and
// each component under the mock engine with hand-made inputs. They live in
// this package rather than beside each component because every test binary
// that imports the AWS SDK takes 30-60 s to link; this one links it anyway.

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/appconfig"
	"github.com/example/ecommerce-platform/components/cache"
	"github.com/example/ecommerce-platform/components/database"
	"github.com/example/ecommerce-platform/components/messaging"
	"github.com/example/ecommerce-platform/stacks/plan"
)

func TestTopologyPlan(t *testing.T) {
	cases := []struct {
		name    string
		events  []messaging.Event
		routes  []messaging.Route
		pubs    []string
		cons    []string
		wantErr string
	}{
		{
			name: "one topic per publisher, routes merge its events",
			events: []messaging.Event{
				{Name: "product.updated", Publishers: []string{"product"}, Consumers: []string{"order"}},
				{Name: "order.cancelled", Publishers: []string{"product"}, Consumers: []string{"order"}},
				{Name: "order.placed", Publishers: []string{"order"}, Consumers: []string{"product", "user"}},
			},
			pubs: []string{"order", "product"},
			cons: []string{"order", "product", "user"},
			routes: []messaging.Route{
				{Publisher: "product", Consumer: "order", Events: []string{"order.cancelled", "product.updated"}},
				{Publisher: "order", Consumer: "product", Events: []string{"order.placed"}},
				{Publisher: "order", Consumer: "user", Events: []string{"order.placed"}},
			},
		},
		{
			name: "an event with two publishers reaches its consumer from both topics",
			events: []messaging.Event{
				{Name: "order.cancelled", Publishers: []string{"order", "product"}, Consumers: []string{"user"}},
			},
			pubs: []string{"order", "product"},
			cons: []string{"user"},
			routes: []messaging.Route{
				{Publisher: "order", Consumer: "user", Events: []string{"order.cancelled"}},
				{Publisher: "product", Consumer: "user", Events: []string{"order.cancelled"}},
			},
		},
		{
			name:   "an event nobody consumes still gets its publisher's topic",
			events: []messaging.Event{{Name: "user.deleted", Publishers: []string{"user"}}},
			pubs:   []string{"user"},
		},
		{
			name:    "a consumer without a producer",
			events:  []messaging.Event{{Name: "order.placed", Consumers: []string{"product"}}},
			wantErr: "order.placed has consumers [product] but no publisher",
		},
		{
			name:    "an unnamed event",
			events:  []messaging.Event{{Publishers: []string{"order"}}},
			wantErr: "has no name",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			topo, err := messaging.Plan(tc.events)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.pubs, topo.Publishers)
			assert.Equal(t, tc.cons, topo.Consumers)
			assert.Equal(t, tc.routes, topo.Routes)
		})
	}
}

func TestFilterPolicyMatchesTheEventTypeAttribute(t *testing.T) {
	r := messaging.Route{Events: []string{"order.cancelled", "product.updated"}}
	assert.JSONEq(t, `{"event_type":["order.cancelled","product.updated"]}`, r.FilterPolicy())
}

func TestQueuePolicyDocument(t *testing.T) {
	doc, err := messaging.QueuePolicy("arn:aws:sqs:eu-west-1:1:q", []string{"arn:aws:sns:us-east-1:1:t"})
	require.NoError(t, err)
	var p map[string]any
	require.NoError(t, json.Unmarshal([]byte(doc), &p))
	assert.Equal(t, "2012-10-17", p["Version"])
	assert.NotContains(t, doc, `"Principal":{"AWS":"*"}`)
	assert.Contains(t, doc, `"aws:SourceArn":["arn:aws:sns:us-east-1:1:t"]`)
}

func TestDatabaseHelpers(t *testing.T) {
	fam, err := database.ParameterGroupFamily("16")
	require.NoError(t, err)
	assert.Equal(t, "postgres16", fam)
	for _, bad := range []string{"", "16.4", "sixteen", "9"} {
		_, err := database.ParameterGroupFamily(bad)
		assert.Error(t, err, bad)
	}
	assert.Equal(t, "userdb", database.DBName("user"), "user is reserved in PostgreSQL")

	// A password with URL-special characters survives the round trip.
	raw := database.URL("db.example", "p@ss/w:rd?#", "order")
	u, err := url.Parse(raw)
	require.NoError(t, err)
	pw, _ := u.User.Password()
	assert.Equal(t, "p@ss/w:rd?#", pw)
	assert.Equal(t, "db.example:5432", u.Host)
	assert.Equal(t, "/orderdb", u.Path)
	assert.Equal(t, "rediss://h:6379", cache.URL("h"))
}

func TestRuntimeSecretRendering(t *testing.T) {
	doc, err := appconfig.Render(map[string]string{"QUEUE_URL": "q", "AWS_REGION": "r"})
	require.NoError(t, err)
	assert.Equal(t, `{"AWS_REGION":"r","QUEUE_URL":"q"}`, doc, "stable key order, so an unchanged setting is no diff")
	assert.Equal(t, "ecommerce-prod-us-east-1/order/runtime", appconfig.SecretName("ecommerce-prod-us-east-1", "order"))
}

func TestAccessPolicyNeedsItsParts(t *testing.T) {
	_, err := appconfig.AccessPolicy(appconfig.Access{Region: "eu-west-1", SecretArn: "s"})
	assert.Error(t, err, "no key")
	_, err = appconfig.AccessPolicy(appconfig.Access{Region: "eu-west-1", SecretArn: "s", KeyArn: "k", TopicArn: "t"})
	assert.Error(t, err, "a publisher without the topic's key")
	doc, err := appconfig.AccessPolicy(appconfig.Access{Region: "eu-west-1", SecretArn: "s", KeyArn: "k"})
	require.NoError(t, err)
	assert.NotContains(t, doc, "sqs:")
	assert.NotContains(t, doc, "sns:")
}

// componentRun runs one component in a bare program with a regional AWS
// provider and a random provider. The inventory is returned even when the
// program fails, to show what was created before the failure.
func componentRun(t *testing.T, build func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error) (*plan.Inventory, error) {
	t.Helper()
	mocks := plan.NewMocks("ecommerce", "test")
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		p, err := aws.NewProvider(ctx, "aws-eu-west-1", &aws.ProviderArgs{
			Region:            pulumi.String("eu-west-1"),
			AllowedAccountIds: pulumi.StringArray{pulumi.String("123456789012")},
		})
		if err != nil {
			return err
		}
		r, err := random.NewProvider(ctx, "random", &random.ProviderArgs{})
		if err != nil {
			return err
		}
		return build(ctx, pulumi.Providers(p, r))
	}, pulumi.WithMocks("ecommerce", "test", mocks))
	return &plan.Inventory{Stack: "test", Resources: mocks.Resources()}, err
}

func dbArgs() *database.Args {
	return &database.Args{
		DisplayName: "ecommerce-test-eu-west-1", Region: "eu-west-1", AccountID: "123456789012",
		Services: []string{"order", "auth"},
		Settings: database.Settings{
			EngineVersion: "16", InstanceClass: "db.t4g.micro", AllocatedStorageGiB: 20, MaxAllocatedStorageGiB: 40,
			BackupRetentionDays: 1, MonitoringIntervalSeconds: 60, PerformanceInsightsRetentionDays: 7,
			SlowStatementMs: 500, LogRetentionDays: 7,
		},
		VpcID:               pulumi.String("vpc-1"),
		SubnetIDs:           pulumi.ToStringArray([]string{"subnet-a", "subnet-b"}),
		NodeSecurityGroupID: pulumi.String("sg-nodes"),
		KmsKeyArn:           pulumi.String("arn:aws:kms:eu-west-1:123456789012:key/k"),
	}
}

// Bad arguments fail before anything is created.
func TestDataComponentsCheckArgsFirst(t *testing.T) {
	cases := map[string]func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error{
		"database nil args": func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
			_, err := database.New(ctx, "db", nil, opts...)
			return err
		},
		"database without key": func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
			a := dbArgs()
			a.KmsKeyArn = nil
			_, err := database.New(ctx, "db", a, opts...)
			return err
		},
		"database without backups": func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
			a := dbArgs()
			a.Settings.BackupRetentionDays = 0
			_, err := database.New(ctx, "db", a, opts...)
			return err
		},
		"replica without its source": func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
			a := dbArgs()
			a.Sources = map[string]pulumi.StringInput{"order": pulumi.String("arn:aws:rds:us-east-1:1:db:x")}
			_, err := database.New(ctx, "db", a, opts...)
			return err
		},
		"database identifier too long": func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
			a := dbArgs()
			a.DisplayName = strings.Repeat("x", 70)
			_, err := database.New(ctx, "db", a, opts...)
			return err
		},
		"backup copies in the master region": func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
			a := dbArgs()
			a.BackupCopies = true
			_, err := database.New(ctx, "db", a, opts...)
			return err
		},
		"cache nil args": func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
			_, err := cache.New(ctx, "cache", nil, opts...)
			return err
		},
		"cache with six replicas": func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
			_, err := cache.New(ctx, "cache", &cache.Args{
				DisplayName: "x", VpcID: pulumi.String("v"), SubnetIDs: pulumi.StringArray{}, NodeSecurityGroupID: pulumi.String("sg"),
				KmsKeyArn: pulumi.String("k"), LogRetentionDays: 7,
				Settings: cache.Settings{EngineVersion: "7.1", NodeType: "cache.t4g.micro", Replicas: 6, SnapshotWindow: "a", MaintenanceWindow: "b"},
			}, opts...)
			return err
		},
		"queues without topic for a route": func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
			topo, err := messaging.Plan([]messaging.Event{{Name: "a.b", Publishers: []string{"order"}, Consumers: []string{"user"}}})
			if err != nil {
				return err
			}
			_, err = messaging.NewQueues(ctx, "q", &messaging.QueuesArgs{
				DisplayName: "x", Topology: topo, KmsKeyArn: pulumi.String("k"),
				Settings: messaging.QueueSettings{MaxReceiveCount: 5, MessageRetentionSeconds: 60},
			}, opts...)
			return err
		},
		"topics without key": func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
			_, err := messaging.NewTopics(ctx, "t", &messaging.TopicsArgs{NamePrefix: "x", Topology: &messaging.Topology{}}, opts...)
			return err
		},
		"runtime secrets with a bad recovery window": func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
			_, err := appconfig.New(ctx, "s", &appconfig.Args{
				DisplayName: "x", Region: "r", KmsKeyArn: pulumi.String("k"), RecoveryWindowDays: 3,
				Services: map[string]appconfig.Service{"order": {}},
			}, opts...)
			return err
		},
	}
	for name, build := range cases {
		t.Run(name, func(t *testing.T) {
			inv, err := componentRun(t, build)
			require.Error(t, err)
			require.Len(t, inv.Resources, 2, "the providers")
			for _, r := range inv.Resources {
				assert.True(t, strings.HasPrefix(r.Type, "pulumi:providers:"), "nothing but the providers exists: %s %s", r.Type, r.Name)
			}
		})
	}
}

// A replica set on its own: every child is parented to the component, lands
// in the provider's region and replicates the given source.
func TestReplicaDatabasesComponent(t *testing.T) {
	var out *database.Databases
	inv, err := componentRun(t, func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		a := dbArgs()
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
	assert.Empty(t, inv.OfType("random:index/randomPassword:RandomPassword"), "replicas generate no password")
	order := inv.Find("aws:rds/instance:Instance", "eu-west-1-db-order")
	require.NotNil(t, order)
	assert.Equal(t, "arn:aws:rds:us-east-1:123456789012:db:primary-order", order.String("replicateSourceDb"))
	assert.Equal(t, "ecommerce-test-eu-west-1-order", order.String("identifier"))
	assert.Equal(t, "arn:aws:kms:eu-west-1:123456789012:key/k", order.String("kmsKeyId"))
	logs := inv.Find("aws:cloudwatch/logGroup:LogGroup", "eu-west-1-db-order")
	require.NotNil(t, logs)
	assert.Equal(t, "/aws/rds/instance/ecommerce-test-eu-west-1-order/postgresql", logs.String("name"), "the group RDS exports into exists first, encrypted")
}
