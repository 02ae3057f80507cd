package cache_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/cache"
	"github.com/example/ecommerce-platform/stacks/plan"
)

func validArgs() *cache.Args {
	return &cache.Args{
		DisplayName: "ecommerce-test-eu-west-1", Region: "eu-west-1", AccountID: plan.TestAccount, VpcID: pulumi.String("vpc-1"),
		SubnetIDs: pulumi.ToStringArray([]string{"subnet-a", "subnet-b"}), NodeSecurityGroupID: pulumi.String("sg-nodes"),
		KmsKeyArn: pulumi.String("arn:aws:kms:eu-west-1:123456789012:key/k"), LogsKmsKeyArn: pulumi.String("arn:aws:kms:eu-west-1:123456789012:key/logs"), LogRetentionDays: 7,
		Settings: cache.Settings{EngineVersion: "7.1", NodeType: "cache.t4g.small", Replicas: 1, SnapshotRetentionDays: 1,
			SnapshotWindow: "02:00-03:00", MaintenanceWindow: "sun:05:00-sun:06:00"},
	}
}

func TestURL(t *testing.T) {
	assert.Equal(t, "rediss://h:6379", cache.URL("h"), "TLS, and no credential in the URL")
}

func TestCacheChecksArgsFirst(t *testing.T) {
	cases := map[string]struct {
		change func(a *cache.Args) *cache.Args
		field  string
	}{
		"nil args":              {func(*cache.Args) *cache.Args { return nil }, "Args"},
		"six replicas":          {func(a *cache.Args) *cache.Args { a.Settings.Replicas = 6; return a }, "Settings.replicas"},
		"overlapping windows":   {func(a *cache.Args) *cache.Args { a.Settings.SnapshotWindow = "05:30-06:30"; return a }, "Settings.snapshotWindow"},
		"without key":           {func(a *cache.Args) *cache.Args { a.KmsKeyArn = nil; return a }, "KmsKeyArn"},
		"retention not allowed": {func(a *cache.Args) *cache.Args { a.LogRetentionDays = 2; return a }, "LogRetentionDays"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			inv, err := plan.RunComponent("eu-west-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
				_, err := cache.New(ctx, "cache", tc.change(validArgs()), opts...)
				return err
			})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.field+":")
			assert.True(t, inv.OnlyProviders(), "nothing is created")
		})
	}
}

func TestCacheEncryptedWithTokenAndSlowLog(t *testing.T) {
	inv, err := plan.RunComponent("eu-west-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		_, err := cache.New(ctx, "eu-west-1-cache", validArgs(), opts...)
		return err
	})
	require.NoError(t, err)
	g := inv.Find("aws:elasticache/replicationGroup:ReplicationGroup", "eu-west-1-cache")
	require.NotNil(t, g)
	assert.Equal(t, true, g.Get("transitEncryptionEnabled"))
	assert.Equal(t, true, g.Get("atRestEncryptionEnabled"))
	assert.Equal(t, plan.Secret, g.Get("authToken"))
	assert.Equal(t, true, g.Get("automaticFailoverEnabled"), "a replica means failover")
	assert.EqualValues(t, 2, g.Get("numCacheClusters"))
	slow := inv.Find("aws:cloudwatch/logGroup:LogGroup", "eu-west-1-cache-slow-log")
	require.NotNil(t, slow)
	assert.Equal(t, "arn:aws:kms:eu-west-1:123456789012:key/logs", slow.String("kmsKeyId"), "the slow log under the logs key")
	assert.Equal(t, "arn:aws:kms:eu-west-1:123456789012:key/k", g.String("kmsKeyId"), "the data under the data key")
	// ElastiCache can deliver the slow log only where a resource policy
	// admits the log delivery service; the group waits for it.
	policy := inv.Find("aws:cloudwatch/logResourcePolicy:LogResourcePolicy", "eu-west-1-cache-slow-log")
	require.NotNil(t, policy)
	doc := policy.String("policyDocument")
	assert.Contains(t, doc, `"Service":"delivery.logs.amazonaws.com"`)
	assert.Contains(t, doc, `"Resource":["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/elasticache/ecommerce-test-eu-west-1/slow-log:log-stream:*"]`, "scoped to the slow log group")
	assert.Contains(t, doc, `"aws:SourceAccount":"123456789012"`)
	assert.True(t, inv.WaitsFor(g, policy), "the replication group waits for the delivery policy")
	token := inv.Find("random:index/randomPassword:RandomPassword", "eu-west-1-cache-auth")
	require.NotNil(t, token)
	assert.Equal(t, "eu-west-1", token.Region, "the regional token belongs to its region")
}
