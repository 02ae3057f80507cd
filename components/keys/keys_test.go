package keys_test

import (
	"encoding/json"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/keys"
	"github.com/example/ecommerce-platform/stacks/plan"
)

type statement struct {
	Sid       string
	Principal map[string]string
	Action    any
	Condition map[string]map[string]string
}

func TestPolicyLetsOnlyNamedServicesIn(t *testing.T) {
	doc, err := keys.Policy("123456789012", "eu-west-1")
	require.NoError(t, err)
	var p struct{ Statement []statement }
	require.NoError(t, json.Unmarshal([]byte(doc), &p))
	bySid := map[string]statement{}
	for _, s := range p.Statement {
		bySid[s.Sid] = s
	}
	assert.Equal(t, "arn:aws:iam::123456789012:root", bySid["AccountAdministers"].Principal["AWS"],
		"the account keeps control, so the key can never become unmanageable")
	logs := bySid["CloudWatchLogsEncrypts"]
	assert.Equal(t, "logs.eu-west-1.amazonaws.com", logs.Principal["Service"], "CloudWatch Logs of the key's own region")
	assert.Equal(t, "arn:aws:logs:eu-west-1:123456789012:*", logs.Condition["ArnLike"]["kms:EncryptionContext:aws:logs:arn"],
		"only this account's log groups")
	assert.Contains(t, bySid["AutoScalingEncryptsNodeVolumes"].Principal["AWS"], "123456789012:role/aws-service-role/autoscaling.amazonaws.com/")
	sns := bySid["SNSDeliversToEncryptedQueues"]
	assert.Equal(t, "sns.amazonaws.com", sns.Principal["Service"])
	assert.Equal(t, "123456789012", sns.Condition["StringEquals"]["aws:SourceAccount"])
	assert.Len(t, p.Statement, 4)
}

func TestKeyRotatesAndHasAlias(t *testing.T) {
	inv, err := plan.Run("ecommerce", "test", nil, func(ctx *pulumi.Context) error {
		p, err := aws.NewProvider(ctx, "aws-eu-west-1", &aws.ProviderArgs{Region: pulumi.String("eu-west-1")})
		if err != nil {
			return err
		}
		_, err = keys.New(ctx, "eu-west-1", &keys.Args{AccountID: "123456789012", Region: "eu-west-1", Alias: "ecommerce-test-eu-west-1"}, pulumi.Provider(p))
		return err
	})
	require.NoError(t, err)
	key := inv.Find("aws:kms/key:Key", "eu-west-1")
	require.NotNil(t, key)
	assert.Equal(t, true, key.Get("enableKeyRotation"))
	assert.EqualValues(t, 30, key.Get("deletionWindowInDays"))
	alias := inv.Find("aws:kms/alias:Alias", "eu-west-1")
	require.NotNil(t, alias)
	assert.Equal(t, "alias/ecommerce-test-eu-west-1", alias.String("name"))
	comp := inv.Find("ecommerce:keys:RegionalKey", "eu-west-1")
	assert.Equal(t, comp.URN, key.Parent)
	assert.Equal(t, comp.URN, alias.Parent)
}

func TestKeyRejectsMissingArgs(t *testing.T) {
	inv, err := plan.Run("ecommerce", "test", nil, func(ctx *pulumi.Context) error {
		_, err := keys.New(ctx, "x", &keys.Args{Region: "eu-west-1", Alias: "a"})
		return err
	})
	require.Error(t, err)
	assert.Empty(t, inv.Resources)
}
