package stacks_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/centrallog"
	"github.com/example/ecommerce-platform/components/keys"
	"github.com/example/ecommerce-platform/components/observe"
	"github.com/example/ecommerce-platform/stacks/plan"
)

const (
	firehoseStream = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
	subFilter      = "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter"
	logDest        = "aws:cloudwatch/logDestination:LogDestination"
	s3Replication  = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
)

// streamBehind follows a subscription filter to the Firehose stream it
// feeds: directly, or through a CloudWatch Logs destination of the
// filter's region.
func streamBehind(t *testing.T, inv *plan.Inventory, f *plan.Resource) *plan.Resource {
	t.Helper()
	target := f.String("destinationArn")
	if strings.Contains(target, ":destination:") {
		var dest *plan.Resource
		for _, d := range inv.OfType(logDest) {
			if strings.HasSuffix(target, ":destination:"+d.String("name")) && d.Region == f.Region {
				dest = d
			}
		}
		require.NotNil(t, dest, "filter %s names destination %s of its own region", f.Name, target)
		target = dest.String("targetArn")
	}
	for _, s := range inv.OfType(firehoseStream) {
		if strings.HasSuffix(target, ":deliverystream/"+s.String("name")) {
			return s
		}
	}
	t.Fatalf("filter %s: no stream %s", f.Name, target)
	return nil
}

// filterOn is the central-logs filter on a log group of a region.
func filterOn(inv *plan.Inventory, region, group string) *plan.Resource {
	for _, f := range inv.OfType(subFilter) {
		if f.Region == region && f.String("logGroup") == group && f.String("name") == centrallog.FilterName {
			return f
		}
	}
	return nil
}

// Every region's container logs and the edge's WAF logs reach the master
// region's streams, each under its own source and region; every region's
// load balancer logs are replicated into the master's bucket under the
// region's prefix; everything is encrypted with the master's logs key.
func TestEveryRegionsLogsReachTheMaster(t *testing.T) {
	cases := map[string]*stackRun{"prod": planStack(t, "prod"), "dev": planStack(t, "dev"),
		// The edge (us-east-1) is then not the master: its WAF logs cross
		// regions through a destination.
		"prod, master eu-west-1": planChanged(t, "prod", setMaster("eu-west-1"))}
	for name, run := range cases {
		t.Run(name, func(t *testing.T) {
			inv, cfg := run.inv, run.cfg
			master := cfg.MasterRegion
			logsKey := run.key(master, keys.Logs)
			require.NotEmpty(t, logsKey)

			central := inv.Find("aws:s3/bucketV2:BucketV2", "central-logs")
			require.NotNil(t, central)
			assert.Equal(t, master, central.Region)
			// The plan holds inputs: the bucket's ARN is what the streams
			// write to.
			centralArn := inv.Find(firehoseStream, "central-logs-containers-"+master).String("extendedS3Configuration.bucketArn")
			require.Contains(t, centralArn, "arn:aws:s3:::ecommerce-"+cfg.Environment+"-logs-")
			sse := inv.Find("aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "central-logs")
			assert.Equal(t, logsKey, sse.String("rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId"), "the master's logs key")
			lc := inv.Find("aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "central-logs")
			assert.EqualValues(t, cfg.CentralLogs.RetentionDays, lc.Get("rules.0.expiration.days"))

			for _, s := range inv.OfType(firehoseStream) {
				assert.Equal(t, master, s.Region, s.Name)
				assert.Equal(t, logsKey, s.String("serverSideEncryption.keyArn"), s.Name)
				assert.Equal(t, logsKey, s.String("extendedS3Configuration.kmsKeyArn"), s.Name)
				assert.Equal(t, centralArn, s.String("extendedS3Configuration.bucketArn"), s.Name)
			}

			for _, rc := range cfg.Regions {
				cluster := cfg.DisplayName("ecommerce", rc.Name)
				for source, kind := range map[string]string{centrallog.Containers: "application", centrallog.Dataplane: "dataplane"} {
					f := filterOn(inv, rc.Name, observe.ContainerInsightsGroup(cluster, kind))
					require.NotNil(t, f, "%s %s logs are forwarded", rc.Name, kind)
					s := streamBehind(t, inv, f)
					assert.Equal(t, source+"/"+rc.Name+"/!{timestamp:yyyy/MM/dd}/", s.String("extendedS3Configuration.prefix"))
					if rc.Name == master {
						assert.NotEmpty(t, f.String("roleArn"), "straight to the stream, with the role")
					} else {
						assert.Contains(t, f.String("destinationArn"), ":logs:"+rc.Name+":", "through a destination of its own region")
					}
				}

				reps := inRegion(inv.OfType(s3Replication), rc.Name)
				require.Len(t, reps, 1, "%s replicates its access logs", rc.Name)
				rep := reps[0]
				assert.Equal(t, centralArn, rep.String("rules.0.destination.bucket"))
				assert.Equal(t, "alb/AWSLogs/"+cfg.AccountID+"/elasticloadbalancing/"+rc.Name+"/", rep.String("rules.0.filter.prefix"))
			}

			// The edge's WAF and CloudFront logs, from us-east-1.
			for source, group := range map[string]string{
				centrallog.WAF: "aws-waf-logs-" + cfg.StackName("ecommerce"),
				centrallog.CDN: "/aws/vendedlogs/cloudfront/" + cfg.StackName("ecommerce"),
			} {
				f := filterOn(inv, "us-east-1", group)
				require.NotNil(t, f, "the %s logs are forwarded from us-east-1", source)
				s := streamBehind(t, inv, f)
				assert.Equal(t, source+"/us-east-1/!{timestamp:yyyy/MM/dd}/", s.String("extendedS3Configuration.prefix"))
				if master != "us-east-1" {
					assert.Contains(t, f.String("destinationArn"), ":logs:us-east-1:")
				}
			}

			groups := map[string]int{}
			for _, f := range inv.OfType(subFilter) {
				groups[f.Region+" "+f.String("logGroup")]++
			}
			for g, n := range groups {
				assert.LessOrEqual(t, n, centrallog.MaxFiltersPerGroup, g)
			}
		})
	}
}

// The roles reach exactly the central store: the streams' role its bucket
// and key, each region's logs role its own region's streams, each
// replication role its own region's prefix.
func TestCentralLogRolesAreScopedToTheStore(t *testing.T) {
	run := planStack(t, "prod")
	inv := run.inv
	bucketArn := inv.Find(firehoseStream, "central-logs-containers-us-east-1").String("extendedS3Configuration.bucketArn")
	require.NotEmpty(t, bucketArn)
	scoped := map[string]int{}
	for _, p := range inv.OfType("aws:iam/rolePolicy:RolePolicy") {
		if !strings.HasPrefix(p.Name, "central-logs") {
			continue
		}
		scoped[p.Name[strings.LastIndex(p.Name, "-")+1:]]++
		var doc struct {
			Statement []struct {
				Action   any
				Resource any
			}
		}
		require.NoError(t, json.Unmarshal([]byte(p.String("policy")), &doc), p.Name)
		for _, s := range doc.Statement {
			resources := []string{}
			switch r := s.Resource.(type) {
			case string:
				resources = append(resources, r)
			case []any:
				for _, x := range r {
					resources = append(resources, x.(string))
				}
			}
			for _, r := range resources {
				assert.NotEqual(t, "*", r, p.Name)
				switch {
				case strings.HasSuffix(p.Name, "-firehose"):
					ok := strings.HasPrefix(r, bucketArn) || r == run.key("us-east-1", keys.Logs) || strings.Contains(r, ":log-group:/aws/kinesisfirehose/")
					assert.True(t, ok, "%s: %s", p.Name, r)
				case strings.HasSuffix(p.Name, "-logs"):
					region := strings.TrimSuffix(strings.TrimPrefix(p.Name, "central-logs-"), "-logs")
					assert.Regexp(t, `^arn:aws:firehose:us-east-1:\d{12}:deliverystream/ecommerce-prod-[a-z]+-`+region+`$`, r, p.Name)
				case strings.HasSuffix(p.Name, "-replication"):
					region := strings.TrimSuffix(strings.TrimPrefix(p.Name, "central-logs-"), "-replication")
					if strings.Contains(r, "/") { // objects; the other is the source bucket itself
						assert.Contains(t, r, "/alb/AWSLogs/"+run.cfg.AccountID+"/elasticloadbalancing/"+region+"/", p.Name)
					}
				}
			}
		}
	}
	// The streams' role, and per region a logs role (CloudWatch Logs
	// puts with it, into a stream or a destination) and a replication role.
	assert.Equal(t, map[string]int{"firehose": 1, "logs": 3, "replication": 3}, scoped)
}

// Every central stream has its delivery alarm beside it in the master
// region, named with the master's prefix (the only alarms the master's
// topic and key admit) and notifying the master's alarm topic, also when
// the master is not the edge's region.
func TestEveryCentralStreamHasItsDeliveryAlarmInTheMaster(t *testing.T) {
	cases := map[string]*stackRun{"prod": planStack(t, "prod"), "dev": planStack(t, "dev"),
		"prod, master eu-west-1": planChanged(t, "prod", setMaster("eu-west-1"))}
	for name, run := range cases {
		stack, _, _ := strings.Cut(name, ",")
		t.Run(name, func(t *testing.T) {
			inv, cfg := run.inv, run.cfg
			master := cfg.MasterRegion
			topicArn := "arn:aws:sns:" + master + ":" + cfg.AccountID + ":" + cfg.DisplayName("ecommerce", master) + "-alarms"
			alarms := map[string]*plan.Resource{}
			for _, a := range inv.OfType(metricAlarm) {
				alarms[a.String("name")] = a
			}
			streams := inv.OfType(firehoseStream)
			require.NotEmpty(t, streams)
			for _, s := range streams {
				source, region := s.String("tags.source"), s.String("tags.source-region")
				require.NotEmpty(t, source, s.Name)
				require.NotEmpty(t, region, s.Name)
				name := stack + "-" + master + "-" + observe.SubjectLogs + "-" + source + "-" + region + "-delivery"
				a := alarms[name]
				require.NotNil(t, a, "%s has its delivery alarm %s", s.String("name"), name)
				assert.Equal(t, master, a.Region, name)
				assert.Equal(t, []any{topicArn}, a.Get("alarmActions"), name)
				assert.Equal(t, []any{topicArn}, a.Get("okActions"), name)
				for i := 1; i <= 2; i++ {
					assert.Equal(t, s.String("name"), a.String(fmt.Sprintf("metricQueries.%d.metric.dimensions.DeliveryStreamName", i)), name)
				}
			}
			n := 0
			for alarm := range alarms {
				if strings.HasSuffix(alarm, "-delivery") {
					n++
				}
			}
			assert.Equal(t, len(streams), n, "one delivery alarm per stream, none left over")
		})
	}
}
