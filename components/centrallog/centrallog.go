// Package centrallog gathers every region's logs in one place in the
// master region: an encrypted, versioned, lifecycled S3 bucket.
//
//   - Container logs (the Container Insights application and dataplane log
//     groups) and the edge's WAF and CloudFront log groups reach it through CloudWatch Logs
//     subscription filters and Firehose streams in the master region, one
//     stream per source and region, so each lands under its own prefix
//     ("<source>/<region>/yyyy/MM/dd/") without dynamic partitioning.
//   - Load balancer access logs reach it through S3 replication from each
//     region's access-log bucket (ELB writes only to an SSE-S3 bucket of its
//     own region, so it cannot write here directly).
//
// A subscription filter can only name a destination in its log group's
// region: the master region's groups name the stream itself; every other
// region names a CloudWatch Logs destination of its own region whose
// target is the stream in the master region (Forwarder).
package centrallog

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kinesis"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/buckets"
	"github.com/example/ecommerce-platform/components/check"
	"github.com/example/ecommerce-platform/components/logs"
	"github.com/example/ecommerce-platform/components/observe"
)

// Sources of the central logs; each is a top-level prefix of the bucket.
const (
	// Containers are the pods' stdout/stderr (Container Insights
	// "application" group).
	Containers = "containers"
	// Dataplane are the nodes' kubelet, kube-proxy and container runtime
	// logs (Container Insights "dataplane" group).
	Dataplane = "dataplane"
	// WAF are the edge web ACL's request logs.
	WAF = "waf"
	// CDN are CloudFront's access logs (standard logging v2, delivered to
	// a log group in the edge region).
	CDN = "cdn"
	// ALB are the load balancers' access logs, replicated from each
	// region's access-log bucket under the key ELB gave them.
	ALB = "alb"
	// Errors holds what a stream failed to deliver or decompress.
	Errors = "errors"
)

// StreamedSources are the sources that go through a Firehose stream.
var StreamedSources = []string{Containers, Dataplane, WAF, CDN}

// Limits AWS enforces at apply time.
const (
	// MaxStreamName is Firehose's limit on a delivery stream name, whose
	// characters are letters, digits, underscores, hyphens and periods.
	MaxStreamName = 64
	// MaxFiltersPerGroup is how many subscription filters CloudWatch Logs
	// allows on one log group.
	MaxFiltersPerGroup = 2
	// MinRetentionDays is the least an S3 lifecycle expiration accepts;
	// MaxRetentionDays is the platform's bound (ten years).
	MinRetentionDays = 1
	MaxRetentionDays = 3653
	// NoncurrentDays keeps a deleted or overwritten log recoverable for a
	// week before the lifecycle removes it for good (the bucket is
	// versioned because replication requires it of a destination).
	NoncurrentDays = 7
)

// The bucket is named "<Name>-logs-<random>"; S3 bucket names are global,
// and a bucket prefix leaves room for the random part only up to 37
// characters.
const (
	bucketPrefixSuffix = "-logs-"
	maxBucketPrefix    = 37
)

var streamNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)

// FilterName names every subscription filter the platform puts on a log
// group; a group holds at most MaxFiltersPerGroup of them, so one is left
// for an operator's own.
const FilterName = "central-logs"

// StreamName is the Firehose stream of one source and region.
func StreamName(name, source, region string) string {
	return fmt.Sprintf("%s-%s-%s", name, source, region)
}

// Prefix is where a source's objects of one region land in the bucket.
// The date is the arrival day (UTC), the partition Athena projects.
func Prefix(source, region string) string {
	return fmt.Sprintf("%s/%s/!{timestamp:yyyy/MM/dd}/", source, region)
}

// ErrorPrefix is where a stream puts what it could not deliver; Firehose
// requires the error-output-type expression when the prefix has
// expressions.
func ErrorPrefix(source, region string) string {
	return fmt.Sprintf("%s/%s/%s/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/", Errors, source, region)
}

// Stream is one Firehose stream to create: a source of one region.
type Stream struct {
	Source string
	Region string
}

// Key is the stream's key in Central.StreamArns ("containers/eu-west-1").
func (s Stream) Key() string { return s.Source + "/" + s.Region }

// Args configures the central store in the master region.
type Args struct {
	// Name prefixes the streams and the bucket, e.g. "ecommerce-prod".
	Name string
	// AccountID and Region (the master region) scope the roles and keys.
	AccountID string
	Region    string
	// KmsKeyArn is the master region's logs key: the bucket, the streams
	// and the streams' error log group are encrypted with it.
	KmsKeyArn pulumi.StringInput
	// RetentionDays expires every object of the bucket (S3 lifecycle).
	RetentionDays int
	// LogRetentionDays retains the streams' own error log group.
	LogRetentionDays int
	// Protected keeps the bucket (and its logs) when the stack stops
	// managing it, e.g. when the master region moves: outside dev.
	Protected bool
	// Streams are the sources and regions to receive.
	Streams []Stream
	// Alarms are the streams' delivery alarms: their names (the master
	// region's stack and region) and the master region's alarm topic.
	Alarms AlarmArgs
}

// AlarmArgs name the delivery alarms and say whom they notify.
type AlarmArgs struct {
	Names    observe.Names
	TopicArn pulumi.StringInput
}

func (a *Args) check() error {
	p := check.New("centrallog")
	if a == nil {
		p.Require("Args", false)
		return p.Err()
	}
	p.Require("Name", a.Name != "")
	if len(a.Name)+len(bucketPrefixSuffix) > maxBucketPrefix {
		p.Add("Name", "%q is too long: the bucket prefix %q+%q must be at most %d characters", a.Name, a.Name, bucketPrefixSuffix, maxBucketPrefix)
	}
	p.Require("AccountID", a.AccountID != "")
	p.Require("Region", a.Region != "")
	p.Require("KmsKeyArn", a.KmsKeyArn != nil)
	if a.RetentionDays < MinRetentionDays || a.RetentionDays > MaxRetentionDays {
		p.Add("RetentionDays", "%d: allowed %d to %d (S3 lifecycle days)", a.RetentionDays, MinRetentionDays, MaxRetentionDays)
	}
	if !logs.ValidRetention(a.LogRetentionDays) {
		p.Add("LogRetentionDays", "%d is not a CloudWatch Logs retention; allowed: %v", a.LogRetentionDays, logs.RetentionDays)
	}
	p.Require("Streams", len(a.Streams) > 0)
	p.Require("Alarms.Names.Stack", a.Alarms.Names.Stack != "")
	if a.Alarms.Names.Region != a.Region {
		// The master's alarm topic and its key admit CloudWatch only for
		// alarms named after their own region.
		p.Add("Alarms.Names.Region", "%q: must be the store's region %q (the streams' metrics and the alarm topic are there)", a.Alarms.Names.Region, a.Region)
	}
	if a.Alarms.TopicArn == nil {
		p.Add("Alarms.TopicArn", "is required: logs that stop reaching the bucket must page")
	}
	seen := map[string]bool{}
	for i, s := range a.Streams {
		field := fmt.Sprintf("Streams.%d", i)
		if !slices.Contains(StreamedSources, s.Source) {
			p.Add(field+".Source", "%q: allowed %s", s.Source, strings.Join(StreamedSources, ", "))
		}
		p.Require(field+".Region", s.Region != "")
		if seen[s.Key()] {
			p.Add(field, "%s is listed twice", s.Key())
		}
		seen[s.Key()] = true
		if n := StreamName(a.Name, s.Source, s.Region); len(n) > MaxStreamName || !streamNameRE.MatchString(n) {
			p.Add(field, "stream name %q: Firehose allows at most %d letters, digits, '_', '-' and '.'", n, MaxStreamName)
		}
	}
	for _, spec := range AlarmSpecs(a.Alarms.Names, a.Name, a.Streams) {
		if len(spec.Name) > observe.MaxAlarmNameLength {
			p.Add("Alarms.Names", "alarm name %q is %d characters; CloudWatch allows %d", spec.Name, len(spec.Name), observe.MaxAlarmNameLength)
		}
	}
	return p.Err()
}

// Central is the master region's log store.
type Central struct {
	pulumi.ResourceState

	// BucketName and BucketArn are the central bucket.
	BucketName pulumi.StringOutput `pulumi:"bucketName"`
	BucketArn  pulumi.StringOutput `pulumi:"bucketArn"`
	// StreamArns are the Firehose streams by Stream.Key.
	StreamArns map[string]pulumi.StringOutput
	// RoleArn is the role the streams write to the bucket with.
	RoleArn pulumi.StringOutput `pulumi:"roleArn"`
	// Versioning is the bucket's versioning, which replication into it
	// waits for (named, not through the component: a dependency on a
	// component reaches only the children registered by then).
	Versioning pulumi.Resource
	// AlarmSpecs are the streams' delivery alarms as decided, in the
	// order of Args.Streams; Alarms are they by Stream.Key.
	AlarmSpecs []observe.Spec
	Alarms     map[string]*cloudwatch.MetricAlarm
	// Incoming are the always-logging streams' alarms on receiving
	// nothing (IncomingSpec), by Stream.Key.
	Incoming map[string]*cloudwatch.MetricAlarm
}

// New creates the bucket, the streams' role, their error log group and the
// streams. opts must carry the master region's provider.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Central, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	c := &Central{StreamArns: map[string]pulumi.StringOutput{}, Alarms: map[string]*cloudwatch.MetricAlarm{}, Incoming: map[string]*cloudwatch.MetricAlarm{},
		AlarmSpecs: AlarmSpecs(args.Alarms.Names, args.Name, args.Streams)}
	if err := ctx.RegisterComponentResource("ecommerce:centrallog:Central", name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)

	bucket, versioning, err := newBucket(ctx, name, args, parent)
	if err != nil {
		return nil, err
	}
	c.BucketName, c.BucketArn, c.Versioning = bucket.Bucket, bucket.Arn, versioning

	group, err := logs.NewGroup(ctx, name+"-delivery-errors", &logs.GroupArgs{
		Name:          pulumi.Sprintf("/aws/kinesisfirehose/%s-central-logs", args.Name),
		RetentionDays: args.LogRetentionDays,
		KmsKeyArn:     args.KmsKeyArn,
	}, parent)
	if err != nil {
		return nil, err
	}

	trust, err := FirehoseTrust(args.AccountID)
	if err != nil {
		return nil, err
	}
	role, err := iam.NewRole(ctx, name+"-firehose", &iam.RoleArgs{
		Description:      pulumi.Sprintf("Firehose streams of %s writing the central logs", args.Name),
		AssumeRolePolicy: pulumi.String(trust),
	}, parent)
	if err != nil {
		return nil, err
	}
	doc := pulumi.All(bucket.Arn, args.KmsKeyArn, group.Arn).ApplyT(func(v []any) (string, error) {
		return FirehosePolicy(args.Region, v[0].(string), v[1].(string), v[2].(string))
	}).(pulumi.StringOutput)
	policy, err := iam.NewRolePolicy(ctx, name+"-firehose", &iam.RolePolicyArgs{
		Role:   role.ID(),
		Policy: doc,
	}, parent)
	if err != nil {
		return nil, err
	}
	c.RoleArn = role.Arn

	for i, s := range args.Streams {
		stream := StreamName(args.Name, s.Source, s.Region)
		logStream, err := cloudwatch.NewLogStream(ctx, name+"-"+s.Source+"-"+s.Region, &cloudwatch.LogStreamArgs{
			LogGroupName: group.Name,
			Name:         pulumi.String(stream),
		}, parent)
		if err != nil {
			return nil, err
		}
		fh, err := kinesis.NewFirehoseDeliveryStream(ctx, name+"-"+s.Source+"-"+s.Region, &kinesis.FirehoseDeliveryStreamArgs{
			Name:        pulumi.String(stream),
			Destination: pulumi.String("extended_s3"),
			// Encrypted at rest while buffered, with the master's logs key
			// (Firehose takes a grant on it when the stream is created).
			ServerSideEncryption: &kinesis.FirehoseDeliveryStreamServerSideEncryptionArgs{
				Enabled: pulumi.Bool(true),
				KeyType: pulumi.String("CUSTOMER_MANAGED_CMK"),
				KeyArn:  args.KmsKeyArn,
			},
			ExtendedS3Configuration: &kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationArgs{
				RoleArn:           role.Arn,
				BucketArn:         bucket.Arn,
				Prefix:            pulumi.String(Prefix(s.Source, s.Region)),
				ErrorOutputPrefix: pulumi.String(ErrorPrefix(s.Source, s.Region)),
				// CloudWatch Logs sends gzip-compressed batches: Firehose
				// decompresses them and keeps only the log events' messages
				// (one per line), then compresses the object once. Without
				// decompression the objects would be gzip inside gzip,
				// which Athena cannot read.
				ProcessingConfiguration: &kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationArgs{
					Enabled: pulumi.Bool(true),
					Processors: kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorArray{
						&kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorArgs{
							Type: pulumi.String("Decompression"),
							Parameters: kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorParameterArray{
								&kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorParameterArgs{
									ParameterName: pulumi.String("CompressionFormat"), ParameterValue: pulumi.String("GZIP"),
								},
							},
						},
						&kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorArgs{
							Type: pulumi.String("CloudWatchLogProcessing"),
							Parameters: kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorParameterArray{
								&kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorParameterArgs{
									ParameterName: pulumi.String("DataMessageExtraction"), ParameterValue: pulumi.String("true"),
								},
							},
						},
					},
				},
				CompressionFormat: pulumi.String("GZIP"),
				// Objects are SSE-KMS with the same key whatever the
				// bucket default says.
				KmsKeyArn: args.KmsKeyArn,
				// Fewer, larger objects: cheaper requests and faster scans.
				BufferingSize:     pulumi.Int(64),
				BufferingInterval: pulumi.Int(300),
				CloudwatchLoggingOptions: &kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationCloudwatchLoggingOptionsArgs{
					Enabled:       pulumi.Bool(true),
					LogGroupName:  group.Name,
					LogStreamName: logStream.Name,
				},
			},
			Tags: pulumi.StringMap{"source": pulumi.String(s.Source), "source-region": pulumi.String(s.Region)},
			// The role must be able to write before the first delivery.
		}, parent, pulumi.DependsOn([]pulumi.Resource{policy}))
		if err != nil {
			return nil, err
		}
		c.StreamArns[s.Key()] = fh.Arn
		// After the stream: its metrics have no data before it exists.
		spec := c.AlarmSpecs[i]
		alarm, err := observe.NewMetricAlarm(ctx, name+"-"+s.Source+"-"+s.Region+"-delivery", spec,
			pulumi.StringMap{"DeliveryStreamName": fh.Name}, args.Alarms.TopicArn, parent, pulumi.DependsOn([]pulumi.Resource{fh}))
		if err != nil {
			return nil, err
		}
		c.Alarms[s.Key()] = alarm
		if spec, ok := IncomingSpec(args.Alarms.Names, args.Name, s); ok {
			alarm, err := observe.NewMetricAlarm(ctx, name+"-"+s.Source+"-"+s.Region+"-incoming", spec,
				pulumi.StringMap{"DeliveryStreamName": fh.Name}, args.Alarms.TopicArn, parent, pulumi.DependsOn([]pulumi.Resource{fh}))
			if err != nil {
				return nil, err
			}
			c.Incoming[s.Key()] = alarm
		}
	}

	outputs := pulumi.Map{"bucketName": c.BucketName, "bucketArn": c.BucketArn, "roleArn": c.RoleArn}
	arns := pulumi.StringMap{}
	for k, v := range c.StreamArns {
		arns[k] = v
	}
	outputs["streamArns"] = arns
	return c, ctx.RegisterResourceOutputs(c, outputs)
}

// newBucket creates the central bucket: private, owner-enforced, SSE-KMS
// with a bucket key, versioned, expired after the retention, TLS only.
func newBucket(ctx *pulumi.Context, name string, args *Args, parent pulumi.ResourceOption) (*s3.BucketV2, *s3.BucketVersioningV2, error) {
	opts := []pulumi.ResourceOption{parent}
	if args.Protected {
		// When the master region moves the bucket is replaced in the new
		// one; the old one stays with its logs (its lifecycle still
		// expires them) instead of failing the update on a non-empty
		// bucket or losing the history.
		opts = append(opts, pulumi.RetainOnDelete(true))
	}
	bucket, err := s3.NewBucketV2(ctx, name, &s3.BucketV2Args{
		BucketPrefix: pulumi.String(args.Name + bucketPrefixSuffix),
		ForceDestroy: pulumi.Bool(!args.Protected),
	}, opts...)
	if err != nil {
		return nil, nil, err
	}
	if err := buckets.Private(ctx, name, bucket.Bucket, args.KmsKeyArn, parent); err != nil {
		return nil, nil, err
	}
	// Replication needs versioning on its destination too.
	versioning, err := s3.NewBucketVersioningV2(ctx, name, &s3.BucketVersioningV2Args{
		Bucket:                  bucket.Bucket,
		VersioningConfiguration: s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
	}, parent)
	if err != nil {
		return nil, nil, err
	}
	if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, name, &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bucket.Bucket,
		Rules: s3.BucketLifecycleConfigurationV2RuleArray{
			s3.BucketLifecycleConfigurationV2RuleArgs{
				Id:         pulumi.String("expire-logs"),
				Status:     pulumi.String("Enabled"),
				Filter:     s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
				Expiration: s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(args.RetentionDays)},
				NoncurrentVersionExpiration: s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{
					NoncurrentDays: pulumi.Int(NoncurrentDays),
				},
				AbortIncompleteMultipartUpload: s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{
					DaysAfterInitiation: pulumi.Int(1),
				},
			},
			// S3 refuses ExpiredObjectDeleteMarker next to Days in one
			// expiration: the delete markers the first rule leaves are
			// removed by a rule of their own.
			s3.BucketLifecycleConfigurationV2RuleArgs{
				Id:     pulumi.String("remove-expired-delete-markers"),
				Status: pulumi.String("Enabled"),
				Filter: s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
				Expiration: s3.BucketLifecycleConfigurationV2RuleExpirationArgs{
					ExpiredObjectDeleteMarker: pulumi.Bool(true),
				},
			},
		},
	}, parent); err != nil {
		return nil, nil, err
	}
	doc := bucket.Arn.ApplyT(BucketPolicy).(pulumi.StringOutput)
	if _, err := s3.NewBucketPolicy(ctx, name, &s3.BucketPolicyArgs{
		Bucket: bucket.Bucket,
		Policy: doc,
	}, parent); err != nil {
		return nil, nil, err
	}
	return bucket, versioning, nil
}
