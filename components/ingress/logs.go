package ingress

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/buckets"
	"github.com/example/ecommerce-platform/components/iamdoc"
)

// AccessLogPrefix is where in the bucket the load balancer writes; ELB
// adds AWSLogs/<account>/elasticloadbalancing/<region>/ after it.
const AccessLogPrefix = "alb"

// accessLogNoncurrentDays removes the versions the expiration leaves
// behind: the bucket is versioned only because S3 replication (to the
// central log bucket) requires it.
const accessLogNoncurrentDays = 1

// AccessLogEncryption is the bucket's default encryption. ELB delivers
// access logs only to buckets encrypted with S3-managed keys (SSE-S3):
// with SSE-KMS the delivery fails (policies/README.md:
// enforce-alb-access-log-bucket).
const AccessLogEncryption = buckets.SSES3

type accessLogs struct {
	Bucket *s3.BucketV2
	// Policy admits the log delivery; the load balancer waits for it, or
	// ELB refuses to enable logging (access denied on the bucket).
	Policy *s3.BucketPolicy
	// Versioning is on for replication; a replication waits for it.
	Versioning *s3.BucketVersioningV2
}

// AccessLogPolicy lets the region's log delivery write under the prefix
// of this account only, and refuses any request made without TLS.
func AccessLogPolicy(region, accountID, bucket string) (string, error) {
	arn := "arn:aws:s3:::" + bucket
	return iamdoc.Document(
		iamdoc.Statement{
			Sid:       "LoadBalancerAccessLogs",
			Effect:    iamdoc.Allow,
			Principal: LogDeliveryPrincipal(region),
			Action:    "s3:PutObject",
			Resource:  fmt.Sprintf("%s/%s/AWSLogs/%s/*", arn, AccessLogPrefix, accountID),
		},
		iamdoc.DenyPlainTransport("s3:*", []string{arn, arn + "/*"}),
	)
}

// newAccessLogs creates the bucket: private, owner-enforced, SSE-S3, logs
// expired after the retention, TLS only.
func newAccessLogs(ctx *pulumi.Context, name string, args *Args, tags pulumi.StringMap, parent pulumi.ResourceOption) (*accessLogs, error) {
	bucket, err := s3.NewBucketV2(ctx, name, &s3.BucketV2Args{
		// Outside dev the bucket outlives a mistaken destroy, like the
		// load balancer; in dev a destroy empties it.
		ForceDestroy: pulumi.Bool(!args.DeletionProtection),
		Tags:         tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	// No key: ELB delivers only to SSE-S3 buckets (AccessLogEncryption).
	if err := buckets.Private(ctx, name, bucket.Bucket, nil, parent); err != nil {
		return nil, err
	}
	versioning, err := s3.NewBucketVersioningV2(ctx, name, &s3.BucketVersioningV2Args{
		Bucket:                  bucket.Bucket,
		VersioningConfiguration: s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
	}, parent)
	if err != nil {
		return nil, err
	}
	if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, name, &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bucket.Bucket,
		Rules: s3.BucketLifecycleConfigurationV2RuleArray{s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:     pulumi.String("expire-access-logs"),
			Status: pulumi.String("Enabled"),
			Filter: s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String(AccessLogPrefix + "/")},
			Expiration: s3.BucketLifecycleConfigurationV2RuleExpirationArgs{
				Days: pulumi.Int(args.AccessLogRetentionDays),
			},
			NoncurrentVersionExpiration: s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{
				NoncurrentDays: pulumi.Int(accessLogNoncurrentDays),
			},
			AbortIncompleteMultipartUpload: s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{
				DaysAfterInitiation: pulumi.Int(1),
			},
		}, s3.BucketLifecycleConfigurationV2RuleArgs{
			// Versioned, every expiry leaves a delete marker; S3 refuses
			// ExpiredObjectDeleteMarker next to Days, hence a rule of its own.
			Id:         pulumi.String("remove-expired-delete-markers"),
			Status:     pulumi.String("Enabled"),
			Filter:     s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String(AccessLogPrefix + "/")},
			Expiration: s3.BucketLifecycleConfigurationV2RuleExpirationArgs{ExpiredObjectDeleteMarker: pulumi.Bool(true)},
		}},
	}, parent); err != nil {
		return nil, err
	}
	doc := bucket.Bucket.ApplyT(func(b string) (string, error) {
		return AccessLogPolicy(args.Region, args.AccountID, b)
	}).(pulumi.StringOutput)
	policy, err := s3.NewBucketPolicy(ctx, name, &s3.BucketPolicyArgs{
		Bucket: bucket.Bucket,
		Policy: doc,
	}, parent)
	if err != nil {
		return nil, err
	}
	return &accessLogs{Bucket: bucket, Policy: policy, Versioning: versioning}, nil
}
