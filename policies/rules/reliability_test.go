package rules

func queue(name string, retention int, dlq string) *Resource {
	m := M{"name": name, "kmsMasterKeyId": keyArn, "messageRetentionSeconds": retention, "visibilityTimeoutSeconds": 60}
	if dlq != "" {
		m["redrivePolicy"] = `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:111111111111:` + dlq + `","maxReceiveCount":5}`
	}
	return res(tSqsQueue, name, m)
}

func record(m M) *Resource {
	base := M{"zoneId": "Z1", "name": "api.example.com", "type": "A"}
	for k, v := range m {
		base[k] = v
	}
	return res(tRoute53Record, "api", base)
}

func reliabilityCases() []tc {
	return []tc{
		pass("enforce-rds-multi-az", "prod Multi-AZ", res(tRdsInstance, "db", goodRDS())),
		pass("enforce-rds-multi-az", "dev single zone", res(tRdsInstance, "db", set(goodRDS(), "multiAz", false))).inEnv("dev"),
		fail("enforce-rds-multi-az", "prod single zone", "multiAz", res(tRdsInstance, "db", set(goodRDS(), "multiAz", nil))),
		fail("enforce-rds-multi-az", "unknown environment held to prod", "multiAz", res(tRdsInstance, "db", set(goodRDS(), "multiAz", false))).inEnv("none"),

		pass("enforce-rds-backup-retention", "14 days in prod", res(tRdsInstance, "db", goodRDS())),
		pass("enforce-rds-backup-retention", "replica", res(tRdsInstance, "r", goodReplica())),
		pass("enforce-rds-backup-retention", "1 day in dev", res(tRdsInstance, "db", set(goodRDS(), "backupRetentionPeriod", 1))).inEnv("dev"),
		fail("enforce-rds-backup-retention", "default 0", "backupRetentionPeriod", res(tRdsInstance, "db", set(goodRDS(), "backupRetentionPeriod", nil))).inEnv("dev"),
		fail("enforce-rds-backup-retention", "config asks 30 in prod", "backupRetentionPeriod", res(tRdsInstance, "db", goodRDS())).with(M{"minimumDays": M{"prod": 30}}),

		pass("enforce-deletion-protection", "protected", res(tRdsInstance, "db", goodRDS())),
		pass("enforce-deletion-protection", "dev may delete", res(tRdsInstance, "db", set(goodRDS(), "deletionProtection", false))).inEnv("dev"),
		fail("enforce-deletion-protection", "staging unprotected", "deletionProtection", res(tRdsInstance, "db", set(goodRDS(), "deletionProtection", nil))).inEnv("staging"),

		pass("enforce-final-snapshot", "default takes one", res(tRdsInstance, "db", set(goodRDS(), "skipFinalSnapshot", nil))),
		pass("enforce-final-snapshot", "replica skips", res(tRdsInstance, "r", goodReplica())),
		fail("enforce-final-snapshot", "skipped in prod", "skipFinalSnapshot", res(tRdsInstance, "db", set(goodRDS(), "skipFinalSnapshot", true))),

		pass("enforce-redis-failover", "two nodes, failover", res(tCacheGroup, "c", goodCache())),
		pass("enforce-redis-failover", "dev single node", res(tCacheGroup, "c", set(set(set(goodCache(), "numCacheClusters", 1), "automaticFailoverEnabled", false), "multiAzEnabled", false))).inEnv("dev"),
		fail("enforce-redis-failover", "one node in staging", "numCacheClusters", res(tCacheGroup, "c", set(goodCache(), "numCacheClusters", nil))).inEnv("staging"),
		fail("enforce-redis-failover", "no failover", "automaticFailoverEnabled", res(tCacheGroup, "c", set(goodCache(), "automaticFailoverEnabled", false))),

		pass("enforce-redis-snapshot-retention", "7 days", res(tCacheGroup, "c", goodCache())),
		fail("enforce-redis-snapshot-retention", "off by default", "snapshotRetentionLimit", res(tCacheGroup, "c", set(goodCache(), "snapshotRetentionLimit", nil))),

		pass("enforce-secret-recovery-window", "default 30", res(tSecret, "s", M{"name": "x", "kmsKeyId": keyArn})),
		pass("enforce-secret-recovery-window", "dev deletes at once", res(tSecret, "s", M{"recoveryWindowInDays": 0})).inEnv("dev"),
		fail("enforce-secret-recovery-window", "prod deletes at once", "recoveryWindowInDays", res(tSecret, "s", M{"recoveryWindowInDays": 0})),

		pass("missing-dead-letter-queue", "queue and its DLQ", queue("orders", 345600, "orders-dlq"), queue("orders-dlq", 1209600, "")),
		pass("missing-dead-letter-queue", "auto-named DLQ found by dependency",
			res(tSqsQueue, "dlq", M{"messageRetentionSeconds": 1209600}),
			dependsOn(res(tSqsRedriveAllow, "allow", M{"redriveAllowPolicy": "{}"}), res(tSqsQueue, "dlq", nil))),
		fail("missing-dead-letter-queue", "no DLQ", "redrivePolicy", queue("orders", 345600, "")),

		pass("enforce-dlq-outlives-source", "4 days into 14", queue("orders", 345600, "orders-dlq"), queue("orders-dlq", 1209600, "")),
		fail("enforce-dlq-outlives-source", "14 days into 14", "messageRetentionSeconds is 1209600", queue("orders", 1209600, "orders-dlq"), queue("orders-dlq", 1209600, "")),
		fail("enforce-dlq-outlives-source", "default 4 days into 4", "messageRetentionSeconds", res(tSqsQueue, "orders", M{"name": "orders", "redrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:1:orders-dlq","maxReceiveCount":3}`}), res(tSqsQueue, "orders-dlq", M{"name": "orders-dlq"})),

		pass("missing-target-group-health-check", "readiness path", res(tLbTargetGroup, "tg", M{"port": 8080, "protocol": "HTTP", "targetType": "ip", "healthCheck": M{"path": "/readyz", "matcher": "200"}})),
		pass("missing-target-group-health-check", "TCP", res(tLbTargetGroup, "tg", M{"port": 6379, "protocol": "TCP", "healthCheck": M{"protocol": "TCP"}})),
		fail("missing-target-group-health-check", "default path", "healthCheck.path", res(tAlbTargetGroup, "tg", M{"port": 8080, "protocol": "HTTP"})),
		fail("missing-target-group-health-check", "disabled", "healthCheck.enabled", res(tLbTargetGroup, "tg", M{"port": 8080, "healthCheck": M{"enabled": false}})),

		pass("missing-route53-health-check", "latency record with a check", record(M{"setIdentifier": "us", "latencyRoutingPolicies": []any{M{"region": "us-east-1"}}, "healthCheckId": "hc-1", "records": []any{"203.0.113.1"}, "ttl": 60})),
		pass("missing-route53-health-check", "alias evaluating its target", record(M{"setIdentifier": "us", "failoverRoutingPolicies": []any{M{"type": "PRIMARY"}}, "aliases": []any{M{"name": "alb.example.com", "zoneId": "Z2", "evaluateTargetHealth": true}}})),
		pass("missing-route53-health-check", "simple record", record(M{"records": []any{"203.0.113.1"}, "ttl": 60})),
		fail("missing-route53-health-check", "weighted without a check", "weightedRoutingPolicies", record(M{"setIdentifier": "a", "weightedRoutingPolicies": []any{M{"weight": 10}}, "records": []any{"203.0.113.1"}, "ttl": 60})),

		pass("enforce-node-group-autoscaler-desired-size", "ignored", ignoring(res(tEksNodeGroup, "ng", M{"scalingConfig": M{"minSize": 2, "desiredSize": 2, "maxSize": 5}}), "scalingConfig.desiredSize")),
		pass("enforce-node-group-autoscaler-desired-size", "unknown options", func() *Resource {
			r := res(tEksNodeGroup, "ng", M{"scalingConfig": M{"minSize": 2, "desiredSize": 2, "maxSize": 5}})
			r.IgnoreChangesKnown = false
			return r
		}()),
		fail("enforce-node-group-autoscaler-desired-size", "pinned", "ignoreChanges", res(tEksNodeGroup, "ng", M{"scalingConfig": M{"minSize": 2, "desiredSize": 2, "maxSize": 5}})),

		pass("enforce-node-group-min-size", "2 in prod", res(tEksNodeGroup, "ng", M{"scalingConfig": M{"minSize": 2, "desiredSize": 2, "maxSize": 5}})),
		pass("enforce-node-group-min-size", "1 in dev", res(tEksNodeGroup, "ng", M{"scalingConfig": M{"minSize": 1, "desiredSize": 1, "maxSize": 3}})).inEnv("dev"),
		fail("enforce-node-group-min-size", "1 in prod", "scalingConfig.minSize", res(tEksNodeGroup, "ng", M{"scalingConfig": M{"minSize": 1, "desiredSize": 1, "maxSize": 3}})),
	}
}

func costCases() []tc {
	return []tc{
		pass("disallow-unapproved-instance-types", "prod m6i", res(tEksNodeGroup, "ng", M{"instanceTypes": []any{"m6i.2xlarge", "m6a.2xlarge"}})),
		pass("disallow-unapproved-instance-types", "dev t3", res(tEksNodeGroup, "ng", M{"instanceTypes": []any{"t3.large"}})).inEnv("dev"),
		pass("disallow-unapproved-instance-types", "config widens prod", res(tLaunchTemplate, "lt", M{"instanceType": "x2idn.32xlarge"})).with(M{"allowedInstanceTypes": M{"prod": []any{"x2idn.*"}}}),
		fail("disallow-unapproved-instance-types", "default t3.medium in prod", "instanceTypes", res(tEksNodeGroup, "ng", M{"clusterName": "c"})),
		fail("disallow-unapproved-instance-types", "big instance in dev", "instanceType", res(tEc2Instance, "vm", M{"instanceType": "m6i.8xlarge"})).inEnv("dev"),

		pass("disallow-unapproved-db-instance-classes", "prod r6g", res(tRdsInstance, "db", goodRDS())),
		fail("disallow-unapproved-db-instance-classes", "r6g in dev", "instanceClass", res(tRdsInstance, "db", goodRDS())).inEnv("dev"),

		pass("disallow-unapproved-cache-node-types", "prod r7g", res(tCacheGroup, "c", goodCache())),
		fail("disallow-unapproved-cache-node-types", "r7g in dev", "nodeType", res(tCacheGroup, "c", goodCache())).inEnv("dev"),

		pass("missing-log-retention", "90 days", res(tLogGroup, "lg", M{"retentionInDays": 90, "kmsKeyId": keyArn})),
		fail("missing-log-retention", "never expires", "retentionInDays", res(tLogGroup, "lg", M{"kmsKeyId": keyArn})),
		fail("missing-log-retention", "ten years", "retentionInDays", res(tLogGroup, "lg", M{"retentionInDays": 3653})),

		pass("enforce-cloudfront-price-class", "100 in staging", res(tCloudFront, "cdn", goodCloudFront())).inEnv("staging"),
		pass("enforce-cloudfront-price-class", "All in prod", res(tCloudFront, "cdn", set(goodCloudFront(), "priceClass", "PriceClass_All"))),
		fail("enforce-cloudfront-price-class", "All by default in dev", "priceClass", res(tCloudFront, "cdn", set(goodCloudFront(), "priceClass", nil))).inEnv("dev"),

		pass("enforce-capped-storage-autoscaling", "5x", res(tRdsInstance, "db", goodRDS())),
		fail("enforce-capped-storage-autoscaling", "no autoscaling", "maxAllocatedStorage", res(tRdsInstance, "db", set(goodRDS(), "maxAllocatedStorage", nil))),
		fail("enforce-capped-storage-autoscaling", "50x", "maxAllocatedStorage", res(tRdsInstance, "db", set(goodRDS(), "maxAllocatedStorage", 5000))),

		pass("enforce-gp3-storage", "gp3", res(tRdsInstance, "db", goodRDS()), res(tLaunchTemplate, "lt", goodLT())),
		fail("enforce-gp3-storage", "gp2 by default", "storageType", res(tRdsInstance, "db", set(goodRDS(), "storageType", nil))),
		fail("enforce-gp3-storage", "gp2 node volume", "blockDeviceMappings.0.ebs.volumeType", res(tLaunchTemplate, "lt", set(goodLT(), "blockDeviceMappings.0.ebs.volumeType", "gp2"))),

		pass("missing-cost-allocation-tags", "tagged", res(tAwsProvider, "aws", M{"region": "us-east-1", "defaultTags": M{"tags": M{"project": "ecommerce", "environment": "prod"}}})),
		fail("missing-cost-allocation-tags", "no environment", "defaultTags.tags.environment", res(tAwsProvider, "aws", M{"region": "us-east-1", "defaultTags": M{"tags": M{"project": "ecommerce"}}})),

		pass("missing-ecr-lifecycle-policy", "policy names the repository", res(tEcrRepo, "repo", M{"name": "product"}), res(tEcrLifecycle, "lc", M{"repository": "product", "policy": "{}"})),
		fail("missing-ecr-lifecycle-policy", "none", "LifecyclePolicy", res(tEcrRepo, "repo", M{"name": "product"}), res(tEcrLifecycle, "lc", M{"repository": "order", "policy": "{}"})),
	}
}
