// Package buckets holds what every S3 bucket of the platform gets: no
// public access, no object owned by anyone but the bucket's account, and
// default encryption.
package buckets

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Private blocks every form of public access to a bucket and disables
// ACLs (BucketOwnerEnforced): objects written by AWS services (load
// balancers, Firehose, replication) belong to the bucket's account, and
// only its policy grants access. Objects are encrypted by default with
// kmsKeyArn (SSE-KMS with a bucket key: one data key per bucket, far fewer
// KMS requests), or with S3-managed keys when it is nil (SSE-S3: the only
// encryption ELB delivers access logs to). Every resource is named name.
func Private(ctx *pulumi.Context, name string, bucket pulumi.StringInput, kmsKeyArn pulumi.StringInput, opts ...pulumi.ResourceOption) error {
	if _, err := s3.NewBucketPublicAccessBlock(ctx, name, &s3.BucketPublicAccessBlockArgs{
		Bucket:                bucket,
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, opts...); err != nil {
		return err
	}
	if _, err := s3.NewBucketOwnershipControls(ctx, name, &s3.BucketOwnershipControlsArgs{
		Bucket: bucket,
		Rule:   s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, opts...); err != nil {
		return err
	}
	rule := s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
		ApplyServerSideEncryptionByDefault: s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
			SseAlgorithm: pulumi.String(SSES3),
		},
	}
	if kmsKeyArn != nil {
		rule.ApplyServerSideEncryptionByDefault = s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
			SseAlgorithm: pulumi.String("aws:kms"), KmsMasterKeyId: kmsKeyArn,
		}
		rule.BucketKeyEnabled = pulumi.Bool(true)
	}
	_, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name, &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket,
		Rules:  s3.BucketServerSideEncryptionConfigurationV2RuleArray{rule},
	}, opts...)
	return err
}

// SSES3 is S3-managed encryption's algorithm name.
const SSES3 = "AES256"
