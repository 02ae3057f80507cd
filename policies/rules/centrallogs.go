package rules

import (
	"regexp"
	"strings"
)

// The central logs' apply-time constraints: Firehose streams and their S3
// prefixes, CloudWatch Logs subscription filters and destinations, S3
// replication.

const (
	tFirehose          = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
	tLogSubscription   = "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter"
	tLogDestination    = "aws:cloudwatch/logDestination:LogDestination"
	tS3Replication     = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
	tS3VersioningV2    = "aws:s3/bucketVersioningV2:BucketVersioningV2"
	tS3LifecycleV2     = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
	maxFiltersPerGroup = 2
	maxFirehosePrefix  = 512
)

var (
	firehoseNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)
	// Destination and subscription filter names: anything but ':' and '*'.
	logsNameRE = regexp.MustCompile(`^[^:*]+$`)
	// arnRegionRE reads an ARN's region.
	arnRegionRE = regexp.MustCompile(`^arn:aws[a-z-]*:[a-z0-9-]+:([a-z0-9-]*):`)
)

func init() {
	nameRules[tFirehose] = []nameRule{{"name", 64, firehoseNameRE, "letters, digits, underscores, hyphens and periods"}}
	nameRules[tLogDestination] = []nameRule{{"name", 512, logsNameRE, "any character but ':' and '*'"}}
	nameRules[tLogSubscription] = []nameRule{{"name", 512, logsNameRE, "any character but ':' and '*'"}}
}

func centralLogPolicies() []*Policy {
	return []*Policy{
		{
			Name:  "enforce-subscription-filters-per-log-group",
			Group: Preflight, Level: Mandatory,
			Description: "A log group has at most 2 subscription filters; CloudWatch Logs refuses a third (LimitExceededException).",
			Types:       []string{tLogSubscription},
			Stack:       checkFiltersPerGroup,
		},
		{
			Name:  "enforce-subscription-filter-destination-region",
			Group: Preflight, Level: Mandatory,
			Description: "A subscription filter's destination (stream, Firehose, function or CloudWatch Logs destination) is in the log group's region; a target in another region is reached through a CloudWatch Logs destination of the group's region.",
			Types:       []string{tLogSubscription},
			Resource: func(c *ResourceCheck) {
				arn, ok := c.Get("destinationArn").Str()
				if !ok || c.Region == "" {
					return
				}
				if m := arnRegionRE.FindStringSubmatch(arn); m != nil && m[1] != "" && m[1] != c.Region {
					c.Fail("destinationArn %s is in %s, not the log group's region %s; use a CloudWatch Logs destination in %s", arn, m[1], c.Region, c.Region)
				}
			},
		},
		{
			Name:  "enforce-firehose-s3-prefixes",
			Group: Preflight, Level: Mandatory,
			Description: "A Firehose stream's S3 prefixes follow Firehose's rules: a prefix with !{...} expressions needs an error output prefix, which holds !{firehose:error-output-type}; the prefix itself never does; each at most 512 characters.",
			Types:       []string{tFirehose},
			Resource: func(c *ResourceCheck) {
				for _, conf := range []string{"extendedS3Configuration", "s3Configuration"} {
					prefix, hasPrefix := c.Get(conf + ".prefix").Str()
					errPrefix, hasErr := c.Get(conf + ".errorOutputPrefix").Str()
					if hasPrefix && strings.Contains(prefix, "!{") && (c.Get(conf+".errorOutputPrefix").Missing() || (hasErr && errPrefix == "")) {
						c.Fail("%s.errorOutputPrefix is required: prefix %q has expressions", conf, prefix)
					}
					if hasPrefix && strings.Contains(prefix, "!{firehose:error-output-type}") {
						c.Fail("%s.prefix %q may not use !{firehose:error-output-type}; only the error output prefix may", conf, prefix)
					}
					if hasErr && strings.Contains(errPrefix, "!{") && !strings.Contains(errPrefix, "!{firehose:error-output-type}") {
						c.Fail("%s.errorOutputPrefix %q has expressions but no !{firehose:error-output-type}", conf, errPrefix)
					}
					for path, s := range map[string]string{conf + ".prefix": prefix, conf + ".errorOutputPrefix": errPrefix} {
						if len(s) > maxFirehosePrefix {
							c.Fail("%s is %d characters; at most %d", path, len(s), maxFirehosePrefix)
						}
					}
				}
			},
		},
		{
			Name:  "enforce-s3-lifecycle-expiration",
			Group: Preflight, Level: Mandatory,
			Description: "An S3 lifecycle expiration is one S3 accepts: days a positive integer, and expiredObjectDeleteMarker never next to days or date in the same expiration (a rule of its own removes the markers).",
			Types:       []string{tS3LifecycleV2},
			Resource: func(c *ResourceCheck) {
				for i, r := range c.Get("rules").Items() {
					e := r.Field("expiration")
					days, hasDays := e.Field("days").Num()
					if hasDays && (days < 1 || days != float64(int64(days))) {
						c.Fail("rules.%d.expiration.days is %v; S3 accepts a positive whole number of days", i, days)
					}
					_, hasDate := e.Field("date").Str()
					if m, ok := e.Field("expiredObjectDeleteMarker").Bool(); ok && m && (hasDays || hasDate) {
						c.Fail("rules.%d.expiration sets expiredObjectDeleteMarker with days or date; S3 refuses both in one expiration", i)
					}
				}
			},
		},
		{
			Name:  "missing-versioning-for-s3-replication",
			Group: Preflight, Level: Mandatory,
			Description: "An S3 replication configuration's source bucket, and its destination buckets the stack creates, have versioning enabled, and the configuration waits for the source's: S3 refuses replication otherwise.",
			Types:       []string{tS3Replication, tS3VersioningV2, tS3BucketV2},
			Stack:       checkReplicationVersioning,
		},
	}
}

// checkFiltersPerGroup counts the filters of each log group by region.
func checkFiltersPerGroup(c *StackCheck) {
	seen := map[string][]*Resource{}
	for _, f := range c.OfType(tLogSubscription) {
		g, ok := f.Get("logGroup").Str()
		if !ok {
			continue
		}
		k := f.Region + "|" + g
		seen[k] = append(seen[k], f)
		if n := len(seen[k]); n > maxFiltersPerGroup {
			c.Fail(f, "logGroup %s in %s has %d subscription filters; CloudWatch Logs allows %d", g, f.Region, n, maxFiltersPerGroup)
		}
	}
}

// checkReplicationVersioning looks up the versioning of the source bucket
// (by name) and of every destination bucket the stack creates (by ARN).
func checkReplicationVersioning(c *StackCheck) {
	versioning := map[string]*Resource{}
	for _, v := range c.OfType(tS3VersioningV2) {
		if b, ok := v.Get("bucket").Str(); ok {
			if s, ok := v.Get("versioningConfiguration.status").Str(); ok && s == "Enabled" {
				versioning[b] = v
			}
		}
	}
	created := map[string]bool{}
	for _, b := range c.OfType(tS3BucketV2) {
		if name, ok := b.Get("bucket").Str(); ok {
			created[name] = true
		}
	}
	for _, r := range c.OfType(tS3Replication) {
		if src, ok := r.Get("bucket").Str(); ok {
			v := versioning[src]
			switch {
			case v == nil:
				c.Fail(r, "bucket %s has no enabled versioning (aws:s3/bucketVersioningV2) in the stack; S3 replicates only from a versioned bucket", src)
			case r.DependenciesKnown && !c.WaitsFor(r, v):
				c.Fail(r, "bucket %s: the replication does not wait for its versioning %s; S3 refuses it while versioning is being enabled", src, v.Name)
			}
		}
		for i, rule := range r.Get("rules").Items() {
			arn, ok := rule.Field("destination").Field("bucket").Str()
			if !ok {
				continue
			}
			name := strings.TrimPrefix(arn, "arn:aws:s3:::")
			if created[name] && versioning[name] == nil {
				c.Fail(r, "rules.%d.destination.bucket %s has no enabled versioning in the stack; S3 replicates only into a versioned bucket", i, name)
			}
		}
	}
}
