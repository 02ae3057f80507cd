package logs_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/logs"
	"github.com/example/ecommerce-platform/stacks/plan"
)

func TestGroupIsEncryptedAndRetained(t *testing.T) {
	inv, err := plan.RunComponent("eu-west-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		_, err := logs.NewGroup(ctx, "g", &logs.GroupArgs{
			Name: pulumi.String("/x/y"), RetentionDays: 30, KmsKeyArn: pulumi.String("arn:aws:kms:eu-west-1:1:key/k"),
		}, opts...)
		return err
	})
	require.NoError(t, err)
	g := inv.Find("aws:cloudwatch/logGroup:LogGroup", "g")
	require.NotNil(t, g)
	assert.EqualValues(t, 30, g.Get("retentionInDays"))
	assert.Equal(t, "arn:aws:kms:eu-west-1:1:key/k", g.String("kmsKeyId"))
}

func TestGroupRefusesWhatCloudWatchWould(t *testing.T) {
	inv, err := plan.RunComponent("eu-west-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		_, err := logs.NewGroup(ctx, "g", &logs.GroupArgs{Name: pulumi.String("/x"), RetentionDays: 10}, opts...)
		return err
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "KmsKeyArn: is required")
	assert.Contains(t, err.Error(), "RetentionDays: 10 is not a CloudWatch Logs retention")
	assert.True(t, inv.OnlyProviders())
	assert.True(t, logs.ValidRetention(365))
	assert.False(t, logs.ValidRetention(0))
}
