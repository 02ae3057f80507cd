package buckets_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/buckets"
	"github.com/example/ecommerce-platform/stacks/plan"
)

func TestPrivateBucketsAreClosedAndEncrypted(t *testing.T) {
	const key = "arn:aws:kms:eu-west-1:123456789012:key/logs"
	inv, err := plan.RunComponent("eu-west-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		if err := buckets.Private(ctx, "kms", pulumi.String("central"), pulumi.String(key), opts...); err != nil {
			return err
		}
		return buckets.Private(ctx, "s3", pulumi.String("alb"), nil, opts...)
	})
	require.NoError(t, err)
	for _, name := range []string{"kms", "s3"} {
		block := inv.Find("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", name)
		require.NotNil(t, block, name)
		for _, f := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
			assert.Equal(t, true, block.Get(f), "%s %s", name, f)
		}
		owner := inv.Find("aws:s3/bucketOwnershipControls:BucketOwnershipControls", name)
		require.NotNil(t, owner, name)
		assert.Equal(t, "BucketOwnerEnforced", owner.String("rule.objectOwnership"), "ACLs off")
	}
	const sse = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	kms := inv.Find(sse, "kms")
	require.NotNil(t, kms)
	assert.Equal(t, "aws:kms", kms.String("rules.0.applyServerSideEncryptionByDefault.sseAlgorithm"))
	assert.Equal(t, key, kms.String("rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId"))
	assert.Equal(t, true, kms.Get("rules.0.bucketKeyEnabled"))
	s3 := inv.Find(sse, "s3")
	require.NotNil(t, s3)
	assert.Equal(t, buckets.SSES3, s3.String("rules.0.applyServerSideEncryptionByDefault.sseAlgorithm"), "what ELB can deliver to")
	assert.Nil(t, s3.Get("rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId"))
}
