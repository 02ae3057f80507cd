package centrallog

import (
	"fmt"

	"github.com/example/ecommerce-platform/components/iamdoc"
)

// BucketPolicy refuses any request on the central bucket made without TLS.
// Writers are admitted by their own IAM policies (same account).
func BucketPolicy(bucketArn string) (string, error) {
	return iamdoc.Document(iamdoc.DenyPlainTransport("s3:*", []string{bucketArn, bucketArn + "/*"}))
}

// FirehoseTrust lets Firehose assume the streams' role, only on behalf of
// this account (Firehose passes the account as the external id).
func FirehoseTrust(accountID string) (string, error) {
	return iamdoc.ServiceTrust("firehose.amazonaws.com", []string{"sts:AssumeRole"},
		iamdoc.Equals("sts:ExternalId", accountID))
}

// FirehosePolicy lets the streams write their sources' prefixes and the
// error prefix of the central bucket (never the replicated load balancer
// logs), encrypt with the logs key only through S3 for this bucket, and
// log delivery errors to their own log group.
func FirehosePolicy(region, bucketArn, keyArn, errorGroupArn string) (string, error) {
	objects := []string{}
	for _, s := range StreamedSources {
		objects = append(objects, fmt.Sprintf("%s/%s/*", bucketArn, s))
	}
	objects = append(objects, fmt.Sprintf("%s/%s/*", bucketArn, Errors))
	return iamdoc.Document(
		iamdoc.Statement{
			Sid:      "ReadBucket",
			Effect:   iamdoc.Allow,
			Action:   []string{"s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"},
			Resource: bucketArn,
		},
		iamdoc.Statement{
			Sid:      "WriteLogObjects",
			Effect:   iamdoc.Allow,
			Action:   []string{"s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"},
			Resource: objects,
		},
		iamdoc.Statement{
			// With a bucket key the encryption context is the bucket's
			// ARN; without, the object's.
			Sid:      "EncryptThroughS3",
			Effect:   iamdoc.Allow,
			Action:   []string{"kms:GenerateDataKey", "kms:Decrypt"},
			Resource: keyArn,
			Condition: map[string]any{
				"StringEquals": map[string]any{"kms:ViaService": fmt.Sprintf("s3.%s.amazonaws.com", region)},
				"StringLike":   map[string]any{"kms:EncryptionContext:aws:s3:arn": []string{bucketArn, bucketArn + "/*"}},
			},
		},
		iamdoc.Statement{
			Sid:      "LogDeliveryErrors",
			Effect:   iamdoc.Allow,
			Action:   "logs:PutLogEvents",
			Resource: errorGroupArn + ":log-stream:*",
		},
	)
}

// LogsTrust lets CloudWatch Logs of one region assume a role, only for
// this account's log groups and destinations in that region (the
// confused-deputy guard).
func LogsTrust(region, accountID string) (string, error) {
	return iamdoc.ServiceTrust("logs.amazonaws.com", []string{"sts:AssumeRole"}, map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": accountID},
		"StringLike":   map[string]any{"aws:SourceArn": fmt.Sprintf("arn:aws:logs:%s:%s:*", region, accountID)},
	})
}

// LogsPolicy lets CloudWatch Logs put records into exactly these streams.
func LogsPolicy(streamArns []string) (string, error) {
	return iamdoc.Document(iamdoc.Statement{
		Sid:      "PutIntoCentralStreams",
		Effect:   iamdoc.Allow,
		Action:   []string{"firehose:PutRecord", "firehose:PutRecordBatch"},
		Resource: streamArns,
	})
}

// DestinationPolicy lets only this account subscribe log groups to a
// destination.
func DestinationPolicy(accountID, destinationArn string) (string, error) {
	return iamdoc.Document(iamdoc.Statement{
		Sid:       "AccountSubscribes",
		Effect:    iamdoc.Allow,
		Principal: iamdoc.Principal{AWS: accountID},
		Action:    "logs:PutSubscriptionFilter",
		Resource:  destinationArn,
	})
}

// ReplicationTrust lets S3 assume the replication role, only for this
// source bucket of this account.
func ReplicationTrust(accountID, sourceBucketArn string) (string, error) {
	return iamdoc.ServiceTrust("s3.amazonaws.com", []string{"sts:AssumeRole"}, map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": accountID},
		"ArnLike":      map[string]any{"aws:SourceArn": sourceBucketArn},
	})
}

// ReplicationPolicy lets S3 read the source bucket's versions under
// keyPrefix and replicate them to the same keys of the central bucket, and
// nothing else. The replicas keep the source's SSE-S3 encryption (S3
// replicates an object with the encryption type it has), so no KMS
// permission is needed.
func ReplicationPolicy(sourceBucketArn, centralBucketArn, keyPrefix string) (string, error) {
	return iamdoc.Document(
		iamdoc.Statement{
			Sid:      "ReadReplicationConfiguration",
			Effect:   iamdoc.Allow,
			Action:   []string{"s3:GetReplicationConfiguration", "s3:ListBucket"},
			Resource: sourceBucketArn,
		},
		iamdoc.Statement{
			Sid:      "ReadSourceVersions",
			Effect:   iamdoc.Allow,
			Action:   []string{"s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"},
			Resource: sourceBucketArn + "/" + keyPrefix + "*",
		},
		iamdoc.Statement{
			Sid:      "WriteReplicas",
			Effect:   iamdoc.Allow,
			Action:   []string{"s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"},
			Resource: centralBucketArn + "/" + keyPrefix + "*",
		},
	)
}
