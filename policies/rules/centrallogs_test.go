package rules

func centralLogCases() []tc {
	const stream = "arn:aws:firehose:eu-west-1:111111111111:deliverystream/ecommerce-prod-containers-ap-south-1"
	filter := func(name, region, group, dest string) *Resource {
		return in(region, res(tLogSubscription, name, M{"name": "central-logs", "logGroup": group, "filterPattern": "", "destinationArn": dest}))
	}
	firehose := func(name string, s3 M) *Resource {
		return in("eu-west-1", res(tFirehose, name, M{"name": name, "destination": "extended_s3", "extendedS3Configuration": s3}))
	}
	good := M{"prefix": "containers/ap-south-1/!{timestamp:yyyy/MM/dd}/", "errorOutputPrefix": "errors/containers/ap-south-1/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/"}
	bucket := func(name string) *Resource { return in("eu-west-1", res(tS3BucketV2, name, M{"bucket": name})) }
	versioning := func(name, bucket string) *Resource {
		return in("eu-west-1", res(tS3VersioningV2, name, M{"bucket": bucket, "versioningConfiguration": M{"status": "Enabled"}}))
	}
	replication := func(src, dest string) *Resource {
		return in("eu-west-1", res(tS3Replication, "replication", M{"bucket": src, "role": "arn:aws:iam::111111111111:role/r",
			"rules": []any{M{"id": "central-logs", "status": "Enabled", "destination": M{"bucket": "arn:aws:s3:::" + dest}}}}))
	}
	srcV, centralV := versioning("src-versioning", "alb-logs"), versioning("central-versioning", "central")
	return []tc{
		pass("enforce-subscription-filters-per-log-group", "two filters on a group, one each on others",
			filter("a", "ap-south-1", "/g/application", "arn:aws:logs:ap-south-1:111111111111:destination:d"),
			filter("b", "ap-south-1", "/g/application", "arn:aws:lambda:ap-south-1:111111111111:function:f"),
			filter("c", "eu-west-1", "/g/application", stream)),
		fail("enforce-subscription-filters-per-log-group", "three filters on one group", "has 3 subscription filters",
			filter("c", "ap-south-1", "/g/application", "arn:aws:logs:ap-south-1:111111111111:destination:d3"),
			filter("a", "ap-south-1", "/g/application", "arn:aws:logs:ap-south-1:111111111111:destination:d1"),
			filter("b", "ap-south-1", "/g/application", "arn:aws:logs:ap-south-1:111111111111:destination:d2")).failing("b"),

		pass("enforce-subscription-filter-destination-region", "destination of the group's region",
			filter("f", "ap-south-1", "/g", "arn:aws:logs:ap-south-1:111111111111:destination:ecommerce-prod-containers")),
		pass("enforce-subscription-filter-destination-region", "stream of the group's region", filter("f", "eu-west-1", "/g", stream)),
		fail("enforce-subscription-filter-destination-region", "a stream of another region", "destinationArn",
			filter("f", "ap-south-1", "/g", stream)),

		pass("enforce-firehose-s3-prefixes", "expressions with an error prefix", firehose("s", good)),
		pass("enforce-firehose-s3-prefixes", "a plain prefix needs no error prefix", firehose("s", M{"prefix": "logs/"})),
		fail("enforce-firehose-s3-prefixes", "expressions without an error prefix", "errorOutputPrefix is required",
			firehose("s", M{"prefix": "logs/!{timestamp:yyyy}/"})),
		fail("enforce-firehose-s3-prefixes", "error prefix without the error type", "no !{firehose:error-output-type}",
			firehose("s", M{"prefix": "logs/!{timestamp:yyyy}/", "errorOutputPrefix": "errors/!{timestamp:yyyy}/"})),
		fail("enforce-firehose-s3-prefixes", "error type in the prefix", "may not use !{firehose:error-output-type}",
			firehose("s", M{"prefix": "logs/!{firehose:error-output-type}/", "errorOutputPrefix": "errors/!{firehose:error-output-type}/"})),

		pass("enforce-aws-name-constraints", "a Firehose stream of 38 characters", firehose("ecommerce-prod-containers-ap-south-1", good)),
		fail("enforce-aws-name-constraints", "a Firehose stream over 64 characters", "name",
			firehose("ecommerce-production-environment-containers-ap-southeast-2-extras", good)),
		fail("enforce-aws-name-constraints", "a log destination with a colon", "name",
			in("ap-south-1", res(tLogDestination, "d", M{"name": "ecommerce:containers", "targetArn": stream, "roleArn": "arn:aws:iam::111111111111:role/r"}))),

		pass("enforce-s3-lifecycle-expiration", "days, and markers in a rule of their own",
			in("eu-west-1", res(tS3LifecycleV2, "lc", M{"bucket": "b", "rules": []any{
				M{"id": "expire", "status": "Enabled", "expiration": M{"days": 365}},
				M{"id": "markers", "status": "Enabled", "expiration": M{"expiredObjectDeleteMarker": true}}}}))),
		fail("enforce-s3-lifecycle-expiration", "markers next to days", "rules.0.expiration sets expiredObjectDeleteMarker",
			in("eu-west-1", res(tS3LifecycleV2, "lc", M{"bucket": "b", "rules": []any{
				M{"id": "expire", "status": "Enabled", "expiration": M{"days": 365, "expiredObjectDeleteMarker": true}}}}))),
		fail("enforce-s3-lifecycle-expiration", "zero days", "rules.0.expiration.days is 0",
			in("eu-west-1", res(tS3LifecycleV2, "lc", M{"bucket": "b", "rules": []any{
				M{"id": "expire", "status": "Enabled", "expiration": M{"days": 0}}}}))),

		pass("missing-versioning-for-s3-replication", "both buckets versioned, waited for",
			dependsOn(replication("alb-logs", "central"), srcV, centralV), srcV, centralV, bucket("alb-logs"), bucket("central")),
		fail("missing-versioning-for-s3-replication", "unversioned source", "no enabled versioning",
			dependsOn(replication("alb-logs", "central"), centralV), centralV, bucket("alb-logs"), bucket("central")),
		fail("missing-versioning-for-s3-replication", "unversioned destination the stack creates", "rules.0.destination.bucket",
			dependsOn(replication("alb-logs", "central"), srcV), srcV, bucket("alb-logs"), bucket("central")),
		fail("missing-versioning-for-s3-replication", "not waiting for the source's versioning", "does not wait",
			dependsOn(replication("alb-logs", "central"), centralV), srcV, centralV, bucket("alb-logs"), bucket("central")),
	}
}
