// Package buckets holds what every S3 bucket of the platform gets: no
// public access and no object owned by anyone but the bucket's account.
package buckets

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Private blocks every form of public access to a bucket and disables
// ACLs (BucketOwnerEnforced): objects written by AWS services (load
// balancers, Firehose, replication) belong to the bucket's account, and
// only its policy grants access. Both resources are named name.
func Private(ctx *pulumi.Context, name string, bucket pulumi.StringInput, opts ...pulumi.ResourceOption) error {
	if _, err := s3.NewBucketPublicAccessBlock(ctx, name, &s3.BucketPublicAccessBlockArgs{
		Bucket:                bucket,
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, opts...); err != nil {
		return err
	}
	_, err := s3.NewBucketOwnershipControls(ctx, name, &s3.BucketOwnershipControlsArgs{
		Bucket: bucket,
		Rule:   s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, opts...)
	return err
}
