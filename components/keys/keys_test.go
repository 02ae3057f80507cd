package keys_test

import (
	"encoding/json"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/keys"
	"github.com/example/ecommerce-platform/stacks/plan"
)

type statement struct {
	Sid       string
	Principal any
	Action    any
	Condition map[string]map[string]any
}

func policy(t *testing.T, class string) map[string]statement {
	t.Helper()
	doc, err := (&keys.Args{AccountID: "123456789012", Region: "eu-west-1", TopicPrefix: "ecommerce-prod", AlarmPrefix: "prod-eu-west-1-"}).Policy(class)
	require.NoError(t, err)
	var p struct{ Statement []statement }
	require.NoError(t, json.Unmarshal([]byte(doc), &p))
	bySid := map[string]statement{}
	for _, s := range p.Statement {
		bySid[s.Sid] = s
	}
	return bySid
}

func TestEveryKeyIsAdministeredByTheAccount(t *testing.T) {
	for _, class := range keys.Classes {
		admin := policy(t, class)["AccountAdministers"]
		assert.Equal(t, map[string]any{"AWS": "arn:aws:iam::123456789012:root"}, admin.Principal,
			"%s: the account keeps control, so the key can never become unmanageable", class)
	}
}

// KMS refuses a key policy naming a principal that does not exist; the
// Auto Scaling service-linked role exists only after the account's first
// Auto Scaling group, so no policy may name it (or any service-linked role).
func TestNoKeyPolicyNamesARoleThatMayNotExist(t *testing.T) {
	for _, class := range keys.Classes {
		doc, err := (&keys.Args{AccountID: "123456789012", Region: "eu-west-1", TopicPrefix: "ecommerce-prod", AlarmPrefix: "prod-eu-west-1-"}).Policy(class)
		require.NoError(t, err)
		assert.NotContains(t, doc, "aws-service-role", class)
		assert.NotContains(t, doc, ":role/", "%s names no role at all", class)
	}
}

func TestEachClassAdmitsOnlyItsServices(t *testing.T) {
	assert.Len(t, policy(t, keys.Data), 1, "data: services use it with the caller's identity, through grants")

	msg := policy(t, keys.Messaging)
	require.Len(t, msg, 3)
	alarms := msg["CloudWatchAlarmsPublishToEncryptedTopic"]
	assert.Equal(t, map[string]any{"Service": "cloudwatch.amazonaws.com"}, alarms.Principal)
	assert.Equal(t, "123456789012", alarms.Condition["StringEquals"]["aws:SourceAccount"])
	assert.Equal(t, "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:prod-eu-west-1-*", alarms.Condition["ArnLike"]["aws:SourceArn"], "only the region's alarms of the stack")
	sns := msg["SNSDeliversToEncryptedQueues"]
	assert.Equal(t, map[string]any{"Service": "sns.amazonaws.com"}, sns.Principal)
	assert.Equal(t, "123456789012", sns.Condition["StringEquals"]["aws:SourceAccount"])
	assert.Equal(t, "arn:aws:sns:*:123456789012:ecommerce-prod-*", sns.Condition["ArnLike"]["aws:SourceArn"], "only the stack's topics")

	logs := policy(t, keys.Logs)
	require.Len(t, logs, 3)
	amp := logs["PrometheusEncryptsWorkspaces"]
	assert.Equal(t, "aps.eu-west-1.amazonaws.com", amp.Condition["StringEquals"]["kms:ViaService"], "the metrics workspace, only through Prometheus in the key's region")
	assert.Equal(t, "123456789012", amp.Condition["StringEquals"]["kms:CallerAccount"])
	cw := logs["CloudWatchLogsEncrypts"]
	assert.Equal(t, map[string]any{"Service": "logs.eu-west-1.amazonaws.com"}, cw.Principal, "CloudWatch Logs of the key's own region")
	assert.Equal(t, "arn:aws:logs:eu-west-1:123456789012:*", cw.Condition["ArnLike"]["kms:EncryptionContext:aws:logs:arn"], "only this account's log groups")

	cl := policy(t, keys.Cluster)
	require.Len(t, cl, 4)
	assert.Equal(t, "ecr.eu-west-1.amazonaws.com", cl["ECREncryptsImages"].Condition["StringEquals"]["kms:ViaService"], "images, only through ECR")
	for _, sid := range []string{"EBSEncryptsNodeVolumes", "EBSGrantsForAttachedVolumes"} {
		s := cl[sid]
		assert.Equal(t, map[string]any{"AWS": "*"}, s.Principal, sid)
		assert.Equal(t, "123456789012", s.Condition["StringEquals"]["kms:CallerAccount"], "%s: callers of this account only", sid)
		assert.Equal(t, "ec2.eu-west-1.amazonaws.com", s.Condition["StringEquals"]["kms:ViaService"], "%s: only through EC2", sid)
	}
	assert.Equal(t, "true", cl["EBSGrantsForAttachedVolumes"].Condition["Bool"]["kms:GrantIsForAWSResource"])

	_, err := (&keys.Args{AccountID: "123456789012", Region: "eu-west-1", TopicPrefix: "x", AlarmPrefix: "x-"}).Policy("misc")
	assert.ErrorContains(t, err, `unknown class "misc"`)
}

func TestKeysRotateAndHaveAliases(t *testing.T) {
	inv, err := plan.RunComponent("eu-west-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		_, err := keys.New(ctx, "eu-west-1", &keys.Args{AccountID: plan.TestAccount, Region: "eu-west-1", Alias: "ecommerce-test-eu-west-1", TopicPrefix: "ecommerce-test", AlarmPrefix: "test-eu-west-1-"}, opts...)
		return err
	})
	require.NoError(t, err)
	comp := inv.Find("ecommerce:keys:RegionalKeys", "eu-west-1")
	require.NotNil(t, comp)
	require.Len(t, inv.OfType("aws:kms/key:Key"), len(keys.Classes))
	for _, class := range keys.Classes {
		key := inv.Find("aws:kms/key:Key", "eu-west-1-"+class)
		require.NotNil(t, key, class)
		assert.Equal(t, true, key.Get("enableKeyRotation"))
		assert.EqualValues(t, 30, key.Get("deletionWindowInDays"))
		assert.Equal(t, comp.URN, key.Parent)
		alias := inv.Find("aws:kms/alias:Alias", "eu-west-1-"+class)
		require.NotNil(t, alias)
		assert.Equal(t, "alias/ecommerce-test-eu-west-1-"+class, alias.String("name"))
	}
	// The data key keeps the URN the region's single key had before keys
	// were split, so databases and caches keep their key.
	data := inv.Find("aws:kms/key:Key", "eu-west-1-data")
	assert.Equal(t, []string{"urn:pulumi:test::ecommerce::ecommerce:keys:RegionalKey$aws:kms/key:Key::eu-west-1"}, data.Aliases)
}

func TestKeysRejectMissingArgs(t *testing.T) {
	inv, err := plan.RunComponent("eu-west-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		_, err := keys.New(ctx, "x", &keys.Args{Region: "eu-west-1", Alias: "a"}, opts...)
		return err
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "AccountID:")
	assert.Contains(t, err.Error(), "TopicPrefix:")
	assert.True(t, inv.OnlyProviders())
}
