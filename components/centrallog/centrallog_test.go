package centrallog_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/centrallog"
	"github.com/example/ecommerce-platform/components/observe"
	"github.com/example/ecommerce-platform/stacks/plan"
)

const (
	acct    = plan.TestAccount
	master  = "eu-west-1"
	other   = "ap-south-1"
	keyArn  = "arn:aws:kms:eu-west-1:123456789012:key/logs"
	firehos = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
	// topicArn is the master region's alarm topic.
	topicArn = "arn:aws:sns:eu-west-1:123456789012:ecommerce-prod-eu-west-1-alarms"
)

func args() *centrallog.Args {
	return &centrallog.Args{
		Name: "ecommerce-prod", AccountID: acct, Region: master, KmsKeyArn: pulumi.String(keyArn),
		RetentionDays: 365, LogRetentionDays: 90, Protected: true,
		Streams: []centrallog.Stream{
			{Source: centrallog.Containers, Region: master}, {Source: centrallog.Dataplane, Region: master},
			{Source: centrallog.Containers, Region: other}, {Source: centrallog.WAF, Region: "us-east-1"},
		},
		Alarms: centrallog.AlarmArgs{Names: observe.Names{Stack: "prod", Region: master}, TopicArn: pulumi.String(topicArn)},
	}
}

// run builds the store in the master region and, when forward is set, the
// other region's forwarder, each through its own region's provider.
func run(t *testing.T, a *centrallog.Args, forward func(ctx *pulumi.Context, c *centrallog.Central, providers map[string]pulumi.ResourceOption) error) (*plan.Inventory, error) {
	t.Helper()
	return plan.Run("ecommerce", "test", nil, func(ctx *pulumi.Context) error {
		providers := map[string]pulumi.ResourceOption{}
		for _, r := range []string{master, other} {
			p, err := aws.NewProvider(ctx, "aws-"+r, &aws.ProviderArgs{Region: pulumi.String(r), AllowedAccountIds: pulumi.StringArray{pulumi.String(acct)}})
			if err != nil {
				return err
			}
			providers[r] = pulumi.Provider(p)
		}
		c, err := centrallog.New(ctx, "central-logs", a, providers[master])
		if err != nil || forward == nil {
			return err
		}
		return forward(ctx, c, providers)
	})
}

func doc(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &m), s)
	return m
}

func TestStoreIsEncryptedVersionedAndExpires(t *testing.T) {
	inv, err := run(t, args(), nil)
	require.NoError(t, err)

	bucket := inv.Find("aws:s3/bucketV2:BucketV2", "central-logs")
	require.NotNil(t, bucket)
	assert.Equal(t, master, bucket.Region)
	assert.Equal(t, false, bucket.Get("forceDestroy"), "protected: never emptied by a destroy")

	sse := inv.Find("aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "central-logs")
	require.NotNil(t, sse)
	assert.Equal(t, "aws:kms", sse.String("rules.0.applyServerSideEncryptionByDefault.sseAlgorithm"))
	assert.Equal(t, keyArn, sse.String("rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId"))
	assert.Equal(t, true, sse.Get("rules.0.bucketKeyEnabled"))

	assert.Equal(t, "Enabled", inv.Find("aws:s3/bucketVersioningV2:BucketVersioningV2", "central-logs").String("versioningConfiguration.status"))
	pab := inv.Find("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "central-logs")
	for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		assert.Equal(t, true, pab.Get(k), k)
	}
	lc := inv.Find("aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "central-logs")
	assert.EqualValues(t, 365, lc.Get("rules.0.expiration.days"))
	assert.Equal(t, "", lc.String("rules.0.filter.prefix"), "every prefix expires")
	assert.EqualValues(t, centrallog.NoncurrentDays, lc.Get("rules.0.noncurrentVersionExpiration.noncurrentDays"))
	assert.Equal(t, true, lc.Get("rules.1.expiration.expiredObjectDeleteMarker"))
	assert.Nil(t, lc.Get("rules.1.expiration.days"), "S3 refuses days next to expiredObjectDeleteMarker")

	policy := inv.Find("aws:s3/bucketPolicy:BucketPolicy", "central-logs").String("policy")
	assert.Contains(t, policy, `"aws:SecureTransport":"false"`)
	assert.Contains(t, policy, `"Effect":"Deny"`)
}

func TestStreamsWriteTheirPrefixEncryptedAndCompressedOnce(t *testing.T) {
	inv, err := run(t, args(), nil)
	require.NoError(t, err)
	streams := inv.OfType(firehos)
	require.Len(t, streams, 4)
	for _, s := range streams {
		name := s.String("name")
		assert.LessOrEqual(t, len(name), centrallog.MaxStreamName, name)
		assert.Equal(t, master, s.Region, "every stream is in the master region")
		assert.Equal(t, true, s.Get("serverSideEncryption.enabled"), name)
		assert.Equal(t, "CUSTOMER_MANAGED_CMK", s.String("serverSideEncryption.keyType"), name)
		assert.Equal(t, keyArn, s.String("serverSideEncryption.keyArn"), name)
		c := "extendedS3Configuration."
		assert.Equal(t, "GZIP", s.String(c+"compressionFormat"), name)
		assert.Equal(t, keyArn, s.String(c+"kmsKeyArn"), name)
		assert.Equal(t, "Decompression", s.String(c+"processingConfiguration.processors.0.type"), name)
		assert.Equal(t, "CloudWatchLogProcessing", s.String(c+"processingConfiguration.processors.1.type"), name)
		assert.Contains(t, s.String(c+"errorOutputPrefix"), "!{firehose:error-output-type}")
		assert.Equal(t, true, s.Get(c+"cloudwatchLoggingOptions.enabled"), name)
	}
	s := inv.Find(firehos, "central-logs-containers-ap-south-1")
	require.NotNil(t, s)
	assert.Equal(t, "ecommerce-prod-containers-ap-south-1", s.String("name"))
	assert.Equal(t, "containers/ap-south-1/!{timestamp:yyyy/MM/dd}/", s.String("extendedS3Configuration.prefix"))
	assert.Equal(t, "errors/containers/ap-south-1/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/", s.String("extendedS3Configuration.errorOutputPrefix"))
	waf := inv.Find(firehos, "central-logs-waf-us-east-1")
	require.NotNil(t, waf)
	assert.Equal(t, "waf/us-east-1/!{timestamp:yyyy/MM/dd}/", waf.String("extendedS3Configuration.prefix"))
}

func TestFirehoseRoleWritesOnlyTheStreamedPrefixes(t *testing.T) {
	p := doc(t, must(centrallog.FirehosePolicy(master, "arn:aws:s3:::b", keyArn, "arn:aws:logs:eu-west-1:1:log-group:g")))
	stmts := p["Statement"].([]any)
	objects := stmts[1].(map[string]any)["Resource"].([]any)
	assert.ElementsMatch(t, []any{"arn:aws:s3:::b/containers/*", "arn:aws:s3:::b/dataplane/*", "arn:aws:s3:::b/waf/*", "arn:aws:s3:::b/cdn/*", "arn:aws:s3:::b/errors/*"}, objects,
		"never the replicated load balancer logs, never the whole bucket")
	kms := stmts[2].(map[string]any)
	assert.Equal(t, keyArn, kms["Resource"])
	assert.Equal(t, "s3.eu-west-1.amazonaws.com", kms["Condition"].(map[string]any)["StringEquals"].(map[string]any)["kms:ViaService"])
	for _, s := range stmts {
		assert.NotEqual(t, "*", s.(map[string]any)["Resource"])
	}
	trust := must(centrallog.FirehoseTrust(acct))
	assert.Contains(t, trust, `"sts:ExternalId":"123456789012"`)
}

func must(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}

func group(ctx *pulumi.Context, name, region string, opt pulumi.ResourceOption) (*cloudwatch.LogGroup, error) {
	return cloudwatch.NewLogGroup(ctx, name, &cloudwatch.LogGroupArgs{Name: pulumi.String(name), KmsKeyId: pulumi.String("arn:aws:kms:" + region + ":1:key/k"), RetentionInDays: pulumi.Int(30)}, opt)
}

func TestOtherRegionForwardsThroughADestinationOfItsOwnRegion(t *testing.T) {
	inv, err := run(t, args(), func(ctx *pulumi.Context, c *centrallog.Central, prov map[string]pulumi.ResourceOption) error {
		g, err := group(ctx, "/aws/containerinsights/x-ap-south-1/application", other, prov[other])
		if err != nil {
			return err
		}
		_, err = centrallog.NewForwarder(ctx, "central-logs-"+other, &centrallog.ForwarderArgs{
			Name: "ecommerce-prod", AccountID: acct, Region: other, MasterRegion: master, Central: c,
			Groups: []centrallog.Group{{Source: centrallog.Containers, Name: g.Name, Resource: g}},
		}, prov[other])
		return err
	})
	require.NoError(t, err)

	dest := inv.Find("aws:cloudwatch/logDestination:LogDestination", "central-logs-ap-south-1-containers")
	require.NotNil(t, dest)
	assert.Equal(t, other, dest.Region, "a filter names a destination of its own region")
	assert.Equal(t, "arn:aws:firehose:eu-west-1:123456789012:deliverystream/ecommerce-prod-containers-ap-south-1", dest.String("targetArn"),
		"the destination's target is the master's stream for this source and region")

	filter := inv.Find("aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter", "central-logs-ap-south-1-containers")
	require.NotNil(t, filter)
	assert.Equal(t, other, filter.Region)
	assert.Equal(t, "arn:aws:logs:ap-south-1:123456789012:destination:ecommerce-prod-containers", filter.String("destinationArn"))
	assert.Equal(t, "", filter.String("roleArn"), "a filter on a destination uses the destination's role")
	assert.Equal(t, "/aws/containerinsights/x-ap-south-1/application", filter.String("logGroup"))
	assert.Equal(t, centrallog.FilterName, filter.String("name"))

	dp := inv.Find("aws:cloudwatch/logDestinationPolicy:LogDestinationPolicy", "central-logs-ap-south-1-containers")
	require.NotNil(t, dp)
	assert.Contains(t, dp.String("accessPolicy"), `"AWS":"123456789012"`, "only this account subscribes")

	role := inv.Find("aws:iam/role:Role", "central-logs-ap-south-1-logs")
	trust := role.String("assumeRolePolicy")
	assert.Contains(t, trust, `"Service":"logs.amazonaws.com"`)
	assert.Contains(t, trust, `"aws:SourceArn":"arn:aws:logs:ap-south-1:123456789012:*"`)
	assert.Contains(t, trust, `"aws:SourceAccount":"123456789012"`)
	pol := doc(t, inv.Find("aws:iam/rolePolicy:RolePolicy", "central-logs-ap-south-1-logs").String("policy"))
	st := pol["Statement"].([]any)[0].(map[string]any)
	assert.Equal(t, []any{"arn:aws:firehose:eu-west-1:123456789012:deliverystream/ecommerce-prod-containers-ap-south-1"}, st["Resource"],
		"exactly this region's streams")
}

func TestMasterRegionSubscribesStraightToItsStream(t *testing.T) {
	inv, err := run(t, args(), func(ctx *pulumi.Context, c *centrallog.Central, prov map[string]pulumi.ResourceOption) error {
		app, err := group(ctx, "app", master, prov[master])
		if err != nil {
			return err
		}
		dp, err := group(ctx, "dataplane", master, prov[master])
		if err != nil {
			return err
		}
		_, err = centrallog.NewForwarder(ctx, "central-logs-"+master, &centrallog.ForwarderArgs{
			Name: "ecommerce-prod", AccountID: acct, Region: master, MasterRegion: master, Central: c,
			Groups: []centrallog.Group{{Source: centrallog.Containers, Name: app.Name}, {Source: centrallog.Dataplane, Name: dp.Name}},
		}, prov[master])
		return err
	})
	require.NoError(t, err)
	assert.Empty(t, inv.OfType("aws:cloudwatch/logDestination:LogDestination"), "no destination in the stream's own region")
	f := inv.Find("aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter", "central-logs-eu-west-1-dataplane")
	require.NotNil(t, f)
	assert.Equal(t, "arn:aws:firehose:eu-west-1:123456789012:deliverystream/ecommerce-prod-dataplane-eu-west-1", f.String("destinationArn"))
	assert.True(t, strings.HasPrefix(f.String("roleArn"), "arn:aws:iam::123456789012:role/"), "CloudWatch Logs puts records with the role")
}

func TestAccessLogsReplicateUnderTheirRegionsPrefix(t *testing.T) {
	inv, err := run(t, args(), func(ctx *pulumi.Context, c *centrallog.Central, prov map[string]pulumi.ResourceOption) error {
		b, err := s3.NewBucketV2(ctx, "alb-logs", &s3.BucketV2Args{Bucket: pulumi.String("alb-logs-ap")}, prov[other])
		if err != nil {
			return err
		}
		v, err := s3.NewBucketVersioningV2(ctx, "alb-logs", &s3.BucketVersioningV2Args{Bucket: b.Bucket,
			VersioningConfiguration: s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")}}, prov[other])
		if err != nil {
			return err
		}
		_, err = centrallog.NewForwarder(ctx, "central-logs-"+other, &centrallog.ForwarderArgs{
			Name: "ecommerce-prod", AccountID: acct, Region: other, MasterRegion: master, Central: c,
			AccessLogs: &centrallog.AccessLogs{Bucket: b.Bucket, Versioning: v, Prefix: "alb"},
		}, prov[other])
		return err
	})
	require.NoError(t, err)
	rep := inv.Find("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "central-logs-ap-south-1-replication")
	require.NotNil(t, rep)
	assert.Equal(t, other, rep.Region, "the replication lives with its source bucket")
	assert.Equal(t, "alb-logs-ap", rep.String("bucket"))
	prefix := "alb/AWSLogs/123456789012/elasticloadbalancing/ap-south-1/"
	assert.Equal(t, prefix, rep.String("rules.0.filter.prefix"))
	centralArn := inv.Find(firehos, "central-logs-containers-eu-west-1").String("extendedS3Configuration.bucketArn")
	require.True(t, strings.HasPrefix(centralArn, "arn:aws:s3:::ecommerce-prod-logs-"), centralArn)
	assert.Equal(t, centralArn, rep.String("rules.0.destination.bucket"))
	assert.Equal(t, "Disabled", rep.String("rules.0.deleteMarkerReplication.status"), "the source's expiry never shortens the central retention")
	assert.True(t, inv.WaitsFor(rep, inv.Find("aws:s3/bucketVersioningV2:BucketVersioningV2", "alb-logs")), "S3 refuses replication from an unversioned bucket")
	assert.True(t, inv.WaitsFor(rep, inv.Find("aws:s3/bucketVersioningV2:BucketVersioningV2", "central-logs")), "nor to one")

	pol := doc(t, inv.Find("aws:iam/rolePolicy:RolePolicy", "central-logs-ap-south-1-replication").String("policy"))
	write := pol["Statement"].([]any)[2].(map[string]any)
	assert.Equal(t, centralArn+"/"+prefix+"*", write["Resource"], "replicas only under this region's prefix")
	assert.NotContains(t, inv.Find("aws:iam/rolePolicy:RolePolicy", "central-logs-ap-south-1-replication").String("policy"), "kms:",
		"replicas keep the source's SSE-S3: no key use")
	trust := inv.Find("aws:iam/role:Role", "central-logs-ap-south-1-replication").String("assumeRolePolicy")
	assert.Contains(t, trust, `"aws:SourceArn":"arn:aws:s3:::alb-logs-ap"`)
}

func TestRefusesWhatAWSWould(t *testing.T) {
	a := args()
	a.Name = "ecommerce-production-environment-europe12"
	a.RetentionDays = 0
	a.LogRetentionDays = 10
	a.Streams = append(a.Streams, centrallog.Stream{Source: "cloudtrail", Region: "ap-southeast-2"}, centrallog.Stream{Source: centrallog.WAF, Region: "us-east-1"},
		centrallog.Stream{Source: centrallog.Dataplane, Region: "ap-southeast-2"})
	a.Alarms = centrallog.AlarmArgs{Names: observe.Names{Stack: "prod", Region: other}}
	inv, err := run(t, a, nil)
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, "RetentionDays: 0: allowed 1 to 3653")
	assert.Contains(t, msg, "LogRetentionDays: 10 is not a CloudWatch Logs retention")
	assert.Contains(t, msg, `Streams.6: stream name "ecommerce-production-environment-europe12-dataplane-ap-southeast-2": Firehose allows at most 64`)
	assert.Contains(t, msg, `Streams.4.Source: "cloudtrail": allowed containers, dataplane, waf`)
	assert.Contains(t, msg, "Streams.5: waf/us-east-1 is listed twice")
	assert.Contains(t, msg, "Name: \"ecommerce-production-environment-europe12\" is too long")
	assert.Contains(t, msg, `Alarms.Names.Region: "ap-south-1": must be the store's region "eu-west-1"`)
	assert.Contains(t, msg, "Alarms.TopicArn: is required")
	assert.True(t, inv.OnlyProviders(), "nothing is created before the error")
}

func TestForwarderRefusesASourceWithoutStream(t *testing.T) {
	_, err := run(t, args(), func(ctx *pulumi.Context, c *centrallog.Central, prov map[string]pulumi.ResourceOption) error {
		_, err := centrallog.NewForwarder(ctx, "f", &centrallog.ForwarderArgs{
			Name: "ecommerce-prod", AccountID: acct, Region: other, MasterRegion: master, Central: c,
			Groups: []centrallog.Group{{Source: centrallog.Dataplane, Name: pulumi.String("g")}},
		}, prov[other])
		return err
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Groups.0.Source: the central store has no stream for dataplane from ap-south-1")
}

// Every stream has its delivery alarm in the master region, named with the
// master's prefix (its topic admits no other), notifying the master's
// topic, reading the stream's own freshness and S3 writes, and quiet when
// the stream is.
func TestEveryStreamHasADeliveryAlarm(t *testing.T) {
	a := args()
	inv, err := run(t, a, nil)
	require.NoError(t, err)
	delivery := 0
	for _, al := range inv.OfType("aws:cloudwatch/metricAlarm:MetricAlarm") {
		if strings.HasSuffix(al.Name, "-delivery") {
			delivery++
		}
	}
	require.Equal(t, len(a.Streams), delivery)
	for _, s := range a.Streams {
		stream := centrallog.StreamName(a.Name, s.Source, s.Region)
		al := inv.Find("aws:cloudwatch/metricAlarm:MetricAlarm", "central-logs-"+s.Source+"-"+s.Region+"-delivery")
		require.NotNil(t, al, s.Key())
		name := al.String("name")
		assert.Equal(t, "prod-"+master+"-logs-"+s.Source+"-"+s.Region+"-delivery", name)
		assert.Equal(t, master, al.Region, "%s: beside its stream", name)
		assert.Equal(t, []any{topicArn}, al.Get("alarmActions"), name)
		assert.Equal(t, []any{topicArn}, al.Get("okActions"), name)
		assert.True(t, strings.HasSuffix(al.String("alarmDescription"), " (runbook: docs/operations.md#logs-delivery)"), name)
		assert.Equal(t, "notBreaching", al.String("treatMissingData"), "%s: a quiet stream is not an alarm", name)
		assert.EqualValues(t, 3, al.Get("evaluationPeriods"), name)
		assert.EqualValues(t, 3, al.Get("datapointsToAlarm"), name)
		assert.Equal(t, "GreaterThanThreshold", al.String("comparisonOperator"), name)
		assert.EqualValues(t, 0, al.Get("threshold"), name)
		assert.Equal(t, centrallog.DeliveryExpression, al.String("metricQueries.0.expression"), name)
		assert.Equal(t, true, al.Get("metricQueries.0.returnData"), name)
		metrics := map[string]string{}
		for i := 1; i <= 2; i++ {
			q := fmt.Sprintf("metricQueries.%d.", i)
			assert.Equal(t, "AWS/Firehose", al.String(q+"metric.namespace"), name)
			assert.Equal(t, stream, al.String(q+"metric.dimensions.DeliveryStreamName"), name)
			assert.EqualValues(t, 300, al.Get(q+"metric.period"), name)
			metrics[al.String(q+"id")] = al.String(q+"metric.metricName") + "/" + al.String(q+"metric.stat")
		}
		assert.Equal(t, map[string]string{"freshness": "DeliveryToS3.DataFreshness/Maximum", "success": "DeliveryToS3.Success/Minimum"}, metrics, name)
	}
	assert.Contains(t, centrallog.DeliveryExpression, "> 900", "three buffer intervals of 300 s")
}

// The sources that always log (the nodes' dataplane) have an alarm on
// their stream receiving nothing: logs stopping before Firehose, which
// the delivery alarm (quiet without records) cannot see. The others,
// which may be quiet, have none.
func TestAlwaysLoggingStreamsAlarmOnSilence(t *testing.T) {
	a := args()
	inv, err := run(t, a, nil)
	require.NoError(t, err)
	checked := 0
	for _, s := range a.Streams {
		al := inv.Find("aws:cloudwatch/metricAlarm:MetricAlarm", "central-logs-"+s.Source+"-"+s.Region+"-incoming")
		if s.Source != centrallog.Dataplane {
			assert.Nil(t, al, "%s may be quiet", s.Key())
			continue
		}
		checked++
		require.NotNil(t, al, s.Key())
		name := al.String("name")
		assert.Equal(t, "prod-"+master+"-logs-"+s.Source+"-"+s.Region+"-incoming", name)
		assert.Equal(t, "IncomingRecords", al.String("metricName"))
		assert.Equal(t, "Sum", al.String("statistic"))
		assert.Equal(t, centrallog.StreamName(a.Name, s.Source, s.Region), al.String("dimensions.DeliveryStreamName"))
		assert.Equal(t, "LessThanThreshold", al.String("comparisonOperator"))
		assert.EqualValues(t, 1, al.Get("threshold"))
		assert.Equal(t, "breaching", al.String("treatMissingData"), "no data is the silence")
		assert.EqualValues(t, centrallog.IncomingEvaluationPeriods, al.Get("evaluationPeriods"))
		assert.Equal(t, []any{topicArn}, al.Get("alarmActions"), name)
		assert.True(t, strings.HasSuffix(al.String("alarmDescription"), " (runbook: docs/operations.md#logs-incoming)"), name)
	}
	assert.Positive(t, checked)
}
