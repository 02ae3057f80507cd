package rules

import (
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

func subnet(name, cidr, az string) *Resource {
	return res(tSubnet, name, M{"cidrBlock": cidr, "availabilityZone": az, "vpcId": UnknownPlaceholder})
}

func logsKey(services ...string) *Resource {
	stmts := []M{{"Sid": "Root", "Effect": "Allow", "Principal": M{"AWS": "arn:aws:iam::111111111111:root"}, "Action": "kms:*", "Resource": "*"}}
	for _, s := range services {
		stmts = append(stmts, M{"Effect": "Allow", "Principal": M{"Service": s}, "Action": []any{"kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"}, "Resource": "*"})
	}
	return res(tKmsKey, "key", M{"enableKeyRotation": true, "policy": doc(stmts...)})
}

func slowLogCache() *Resource {
	return res(tCacheGroup, "cache", set(goodCache(), "logDeliveryConfigurations", []any{M{
		"destination": "/aws/elasticache/ecommerce-prod/slow-log", "destinationType": "cloudwatch-logs", "logFormat": "json", "logType": "slow-log"}}))
}

func deliveryPolicy(resource string) *Resource {
	return res(tLogResourcePolicy, "delivery", M{"policyName": "elasticache-delivery", "policyDocument": doc(M{
		"Effect": "Allow", "Principal": M{"Service": "delivery.logs.amazonaws.com"}, "Action": []any{"logs:CreateLogStream", "logs:PutLogEvents"},
		"Resource": resource, "Condition": M{"StringEquals": M{"aws:SourceAccount": "111111111111"}}})})
}

func cluster(bootstrapAdmin, bootstrapAddons bool) *Resource {
	m := goodEKS()
	set(m, "accessConfig.bootstrapClusterCreatorAdminPermissions", bootstrapAdmin)
	m["bootstrapSelfManagedAddons"] = bootstrapAddons
	return res(tEksCluster, "eks", m)
}

func addon(name string) *Resource {
	return res(tEksAddon, name, M{"clusterName": "ecommerce-prod-us-east-1", "addonName": name})
}

func nodeGroup() *Resource {
	return res(tEksNodeGroup, "nodes", M{"clusterName": "ecommerce-prod-us-east-1", "instanceTypes": []any{"m6i.large"}})
}

func preflightCases() []tc {
	adminEntry := func() *Resource {
		return res(tEksAccessEntry, "admin", M{"clusterName": "ecommerce-prod-us-east-1", "principalArn": "arn:aws:iam::111111111111:role/platform-admin"})
	}
	return []tc{
		pass("enforce-kms-key-same-region", "own region", res(tRdsInstance, "db", goodRDS())),
		pass("enforce-kms-key-same-region", "replica key in the replica's region", in("eu-west-1", res(tRdsInstance, "replica", goodReplica()))),
		pass("enforce-kms-key-same-region", "secret replica with its region's key", res(tSecret, "s", M{"kmsKeyId": keyArn, "replicas": []any{M{"region": "eu-west-1", "kmsKeyId": keyEU}}})),
		fail("enforce-kms-key-same-region", "secret replica with the primary's key", "replicas.0.kmsKeyId", res(tSecret, "s", M{"kmsKeyId": keyArn, "replicas": []any{M{"region": "eu-west-1", "kmsKeyId": keyArn}}})),
		fail("enforce-kms-key-same-region", "replica with the primary's key", "kmsKeyId", in("eu-west-1", res(tRdsInstance, "replica", set(goodReplica(), "kmsKeyId", keyArn)))),
		fail("enforce-kms-key-same-region", "nested key", "blockDeviceMappings.0.ebs.kmsKeyId", in("eu-west-1", res(tLaunchTemplate, "lt", goodLT()))),

		pass("enforce-cloudfront-certificate-us-east-1", "us-east-1", res(tCloudFront, "cdn", goodCloudFront())),
		pass("enforce-cloudfront-function-limits", "2.0 with the module", res(tCloudFrontFunction, "fn", M{"name": "prod-write-router", "runtime": "cloudfront-js-2.0", "code": "import cf from 'cloudfront';\nfunction handler(e) { return e.request; }"})),
		fail("enforce-cloudfront-function-limits", "module on 1.0", "runtime", res(tCloudFrontFunction, "fn", M{"name": "f", "runtime": "cloudfront-js-1.0", "code": "import cf from 'cloudfront';"})),
		fail("enforce-cloudfront-function-limits", "too big", "code", res(tCloudFrontFunction, "fn", M{"name": "f", "runtime": "cloudfront-js-2.0", "code": strings.Repeat("x", 10241)})),
		fail("enforce-cloudfront-function-limits", "bad name", "name", res(tCloudFrontFunction, "fn", M{"name": "prod.router", "runtime": "cloudfront-js-2.0", "code": "x"})),
		fail("enforce-cloudfront-certificate-us-east-1", "eu-west-1", "viewerCertificate.acmCertificateArn", res(tCloudFront, "cdn", set(goodCloudFront(), "viewerCertificate.acmCertificateArn", "arn:aws:acm:eu-west-1:111111111111:certificate/abc"))),

		pass("enforce-cloudfront-waf-scope", "global ACL", res(tCloudFront, "cdn", goodCloudFront()), res(tWafAcl, "acl", webACL())),
		fail("enforce-cloudfront-waf-scope", "regional ACL", "webAclId", res(tCloudFront, "cdn", set(goodCloudFront(), "webAclId", "arn:aws:wafv2:eu-west-1:111111111111:regional/webacl/edge/abc"))),
		fail("enforce-cloudfront-waf-scope", "CLOUDFRONT ACL made in eu-west-1", "scope", in("eu-west-1", res(tWafAcl, "acl", webACL()))),

		pass("disallow-write-methods-on-origin-group-behaviors", "reads on the group", res(tCloudFront, "cdn", goodCloudFront())),
		fail("disallow-write-methods-on-origin-group-behaviors", "POST on the group", "orderedCacheBehaviors.0", res(tCloudFront, "cdn", set(goodCloudFront(), "orderedCacheBehaviors.0.allowedMethods", []any{"GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"}))),

		pass("enforce-waf-log-destination-name", "prefixed", res(tWafLogging, "log", M{"resourceArn": "arn:acl", "logDestinationConfigs": []any{"arn:aws:logs:us-east-1:111111111111:log-group:aws-waf-logs-edge"}})),
		fail("enforce-waf-log-destination-name", "plain log group", "logDestinationConfigs.0", res(tWafLogging, "log", M{"resourceArn": "arn:acl", "logDestinationConfigs": []any{"arn:aws:logs:us-east-1:111111111111:log-group:/waf/edge:*"}})),

		pass("enforce-elasticache-auth-token-transit-encryption", "token with TLS", res(tCacheGroup, "c", goodCache())),
		fail("enforce-elasticache-auth-token-transit-encryption", "token without TLS", "transitEncryptionEnabled", res(tCacheGroup, "c", set(goodCache(), "transitEncryptionEnabled", nil))),

		pass("enforce-elasticache-multi-az-failover", "both", res(tCacheGroup, "c", goodCache())),
		fail("enforce-elasticache-multi-az-failover", "Multi-AZ alone", "automaticFailoverEnabled", res(tCacheGroup, "c", set(goodCache(), "automaticFailoverEnabled", nil))),

		pass("enforce-elasticache-failover-node-count", "two nodes", res(tCacheGroup, "c", goodCache())),
		pass("enforce-elasticache-failover-node-count", "cluster mode with replicas", res(tCacheGroup, "c", set(set(goodCache(), "numCacheClusters", nil), "replicasPerNodeGroup", 1))),
		fail("enforce-elasticache-failover-node-count", "one node", "numCacheClusters", res(tCacheGroup, "c", set(goodCache(), "numCacheClusters", 1))),

		pass("disallow-password-on-rds-replica", "replica", res(tRdsInstance, "r", goodReplica())),
		fail("disallow-password-on-rds-replica", "replica with a password", "password", res(tRdsInstance, "r", set(goodReplica(), "password", secret("x")))).presence(),

		pass("enforce-rds-final-snapshot-identifier", "named", res(tRdsInstance, "db", goodRDS())),
		pass("enforce-rds-final-snapshot-identifier", "skipped", res(tRdsInstance, "db", set(set(goodRDS(), "skipFinalSnapshot", true), "finalSnapshotIdentifier", nil))),
		fail("enforce-rds-final-snapshot-identifier", "default false without a name", "finalSnapshotIdentifier", res(tRdsInstance, "db", set(set(goodRDS(), "skipFinalSnapshot", nil), "finalSnapshotIdentifier", nil))),
		fail("enforce-rds-final-snapshot-identifier", "invalid name", "finalSnapshotIdentifier", res(tRdsInstance, "db", set(goodRDS(), "finalSnapshotIdentifier", "auth--final-"))),
		fail("enforce-rds-final-snapshot-identifier", "replica taking one", "skipFinalSnapshot", res(tRdsInstance, "r", set(goodReplica(), "skipFinalSnapshot", false))),

		pass("enforce-rds-storage-limits", "100 to 500", res(tRdsInstance, "db", goodRDS())),
		fail("enforce-rds-storage-limits", "max not above", "maxAllocatedStorage", res(tRdsInstance, "db", set(goodRDS(), "maxAllocatedStorage", 100))),
		fail("enforce-rds-storage-limits", "10 GiB of gp3", "allocatedStorage", res(tRdsInstance, "db", set(set(goodRDS(), "allocatedStorage", 10), "maxAllocatedStorage", 50))),

		pass("enforce-performance-insights-retention-values", "93", res(tRdsInstance, "db", set(goodRDS(), "performanceInsightsRetentionPeriod", 93))),
		fail("enforce-performance-insights-retention-values", "30", "performanceInsightsRetentionPeriod", res(tRdsInstance, "db", set(goodRDS(), "performanceInsightsRetentionPeriod", 30))),

		pass("enforce-log-retention-values", "365", res(tLogGroup, "lg", M{"retentionInDays": 365})),
		fail("enforce-log-retention-values", "100", "retentionInDays", res(tLogGroup, "lg", M{"retentionInDays": 100})),

		pass("enforce-sqs-limits", "within", queue("orders", 345600, "")),
		pass("enforce-sqs-limits", "fifo", res(tSqsQueue, "f", M{"name": "orders.fifo", "fifoQueue": true})),
		fail("enforce-sqs-limits", "visibility over 12 h", "visibilityTimeoutSeconds", res(tSqsQueue, "q", M{"visibilityTimeoutSeconds": 50000})),
		fail("enforce-sqs-limits", "retention over 14 days", "messageRetentionSeconds", res(tSqsQueue, "q", M{"messageRetentionSeconds": 1296000})),
		fail("enforce-sqs-limits", "fifo name on a standard queue", "fifoQueue", res(tSqsQueue, "q", M{"name": "orders.fifo"})),

		pass("enforce-dlq-same-region-and-type", "same region", queue("orders", 345600, "orders-dlq")),
		fail("enforce-dlq-same-region-and-type", "DLQ in another region", "redrivePolicy.deadLetterTargetArn", res(tSqsQueue, "q", M{"name": "q", "redrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:eu-west-1:1:q-dlq","maxReceiveCount":5}`})),
		fail("enforce-dlq-same-region-and-type", "standard DLQ for a FIFO queue", "redrivePolicy.deadLetterTargetArn", res(tSqsQueue, "q", M{"name": "q.fifo", "fifoQueue": true, "redrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:1:q-dlq","maxReceiveCount":5}`})),
		fail("enforce-dlq-same-region-and-type", "no receive count", "redrivePolicy.maxReceiveCount", res(tSqsQueue, "q", M{"name": "q", "redrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:1:q-dlq"}`})),

		pass("enforce-load-balancer-names", "short", res(tLb, "alb", M{"name": "ecommerce-prod-use1"}), res(tLbTargetGroup, "tg", M{"namePrefix": "prod-"})),
		fail("enforce-load-balancer-names", "too long", "name", res(tAlbTargetGroup, "tg", M{"name": "ecommerce-production-us-east-1-product"})),
		fail("enforce-load-balancer-names", "internal- prefix", "internal-", res(tLb, "alb", M{"name": "internal-api"})),
		fail("enforce-load-balancer-names", "long prefix", "namePrefix", res(tLbTargetGroup, "tg", M{"namePrefix": "product-"})),

		pass("enforce-alb-subnet-count", "two subnets", res(tLb, "alb", M{"subnets": []any{"subnet-a", "subnet-b"}})),
		pass("enforce-alb-subnet-count", "network LB in one", res(tLb, "nlb", M{"loadBalancerType": "network", "subnets": []any{"subnet-a"}})),
		fail("enforce-alb-subnet-count", "one subnet", "subnets", res(tLb, "alb", M{"subnets": []any{"subnet-a"}})),

		pass("enforce-listener-rule-limits", "paths and the origin header", rule(10, "/v1/orders", "/v1/orders/*")),
		fail("enforce-listener-rule-limits", "six values", "6 values", rule(10, "/a", "/b", "/c", "/d", "/e")),
		fail("enforce-listener-rule-limits", "priority 0", "priority", rule(0, "/a")),
		fail("enforce-listener-rule-limits", "long pattern", "conditions.0.pathPattern.values.0", rule(10, "/"+strings.Repeat("a", 128))),
		fail("enforce-listener-rule-limits", "long header name", "httpHeaderName", res(tLbListenerRule, "r", M{"priority": 1, "conditions": []any{M{"httpHeader": M{"httpHeaderName": strings.Repeat("X", 41), "values": []any{"v"}}}}})),

		pass("disallow-duplicate-listener-rule-priorities", "distinct", httpsListener(), dependsOn(rule(10, "/a"), httpsListener()), dependsOn(named(rule(20, "/b"), "r2"), httpsListener())),
		pass("disallow-duplicate-listener-rule-priorities", "same priority, other listeners", set2(rule(10, "/a"), "listenerArn", "arn:l1"), set2(named(rule(10, "/b"), "r2"), "listenerArn", "arn:l2")),
		fail("disallow-duplicate-listener-rule-priorities", "same priority by ARN", "priority 10 is also taken by rule r2", set2(rule(10, "/a"), "listenerArn", "arn:l1"), set2(named(rule(10, "/b"), "r2"), "listenerArn", "arn:l1")),
		fail("disallow-duplicate-listener-rule-priorities", "same priority, listener unknown", "also taken by rule r2", dependsOn(rule(10, "/a"), httpsListener()), dependsOn(named(rule(10, "/b"), "r2"), httpsListener()), httpsListener()),

		pass("enforce-alb-access-log-bucket", "SSE-S3, waits for the policy", dependsOn(loggingLB(), logBucket(), bucketPolicy()), logBucket(), bucketSSE("AES256"), bucketPolicy()),
		pass("enforce-alb-access-log-bucket", "no access logs", res(tLb, "alb", M{"loadBalancerType": "application"})),
		fail("enforce-alb-access-log-bucket", "SSE-KMS", "aws:kms", dependsOn(loggingLB(), logBucket(), bucketPolicy()), logBucket(), bucketSSE("aws:kms"), bucketPolicy()),
		fail("enforce-alb-access-log-bucket", "created before its policy", "does not wait", dependsOn(loggingLB(), logBucket()), logBucket(), bucketSSE("AES256"), bucketPolicy()),
		fail("enforce-alb-access-log-bucket", "no policy", "no bucket policy", dependsOn(loggingLB(), logBucket()), logBucket()),
		fail("enforce-alb-access-log-bucket", "bucket of another region", "is in eu-west-1", dependsOn(loggingLB(), logBucket(), bucketPolicy()), in("eu-west-1", logBucket()), bucketPolicy()),

		pass("enforce-weighted-target-group-limits", "two weighted", res(tLbListener, "l", M{"protocol": "HTTPS", "defaultActions": []any{M{"type": "forward", "forward": M{"targetGroups": []any{M{"arn": "a", "weight": 90}, M{"arn": "b", "weight": 10}}}}}})),
		fail("enforce-weighted-target-group-limits", "weight 1000", "actions.0.forward.targetGroups.0.weight", res(tLbListenerRule, "r", M{"actions": []any{M{"type": "forward", "forward": M{"targetGroups": []any{M{"arn": "a", "weight": 1000}}}}}})),
		fail("enforce-weighted-target-group-limits", "six groups", "defaultActions.0.forward.targetGroups", res(tLbListener, "l", M{"defaultActions": []any{M{"type": "forward", "forward": M{"targetGroups": []any{M{"arn": "1"}, M{"arn": "2"}, M{"arn": "3"}, M{"arn": "4"}, M{"arn": "5"}, M{"arn": "6"}}}}}})),

		pass("enforce-route53-set-identifier", "latency with id", record(M{"setIdentifier": "us", "latencyRoutingPolicies": []any{M{"region": "us-east-1"}}, "healthCheckId": "hc", "records": []any{"203.0.113.1"}, "ttl": 60})),
		fail("enforce-route53-set-identifier", "latency without id", "setIdentifier", record(M{"latencyRoutingPolicies": []any{M{"region": "us-east-1"}}, "healthCheckId": "hc", "records": []any{"203.0.113.1"}, "ttl": 60})),
		fail("enforce-route53-set-identifier", "id without policy", "setIdentifier", record(M{"setIdentifier": "us", "records": []any{"203.0.113.1"}, "ttl": 60})),

		pass("disallow-ttl-on-alias-records", "alias", record(M{"aliases": []any{M{"name": "d.cloudfront.net", "zoneId": "Z2FDTNDATAQYW2", "evaluateTargetHealth": false}}})),
		pass("disallow-ttl-on-alias-records", "plain record", record(M{"records": []any{"203.0.113.1"}, "ttl": 300})),
		fail("disallow-ttl-on-alias-records", "alias with TTL", "ttl", record(M{"ttl": 60, "aliases": []any{M{"name": "d.cloudfront.net", "zoneId": "Z2FDTNDATAQYW2", "evaluateTargetHealth": false}}})).presence(),
		fail("disallow-ttl-on-alias-records", "plain record without TTL", "ttl", record(M{"records": []any{"203.0.113.1"}})),

		pass("enforce-subnet-zone-in-region", "us-east-1a", subnet("a", "10.0.0.0/24", "us-east-1a")),
		pass("enforce-subnet-zone-in-region", "local zone", subnet("a", "10.0.0.0/24", "us-east-1-bos-1a")),
		fail("enforce-subnet-zone-in-region", "another region's zone", "availabilityZone", subnet("a", "10.0.0.0/24", "eu-west-1a")),

		pass("enforce-subnet-cidr-within-vpc", "inside and apart", res(tVpc, "vpc", M{"cidrBlock": "10.0.0.0/16"}), subnet("a", "10.0.0.0/24", "us-east-1a"), subnet("b", "10.0.1.0/24", "us-east-1b")),
		fail("enforce-subnet-cidr-within-vpc", "outside", "cidrBlock 10.1.0.0/24", subnet("a", "10.1.0.0/24", "us-east-1a"), res(tVpc, "vpc", M{"cidrBlock": "10.0.0.0/16"})),
		fail("enforce-subnet-cidr-within-vpc", "overlapping", "overlaps", subnet("a", "10.0.0.0/24", "us-east-1a"), res(tVpc, "vpc", M{"cidrBlock": "10.0.0.0/16"}), subnet("b", "10.0.0.128/25", "us-east-1b")).failing("b"),

		pass("enforce-aws-name-constraints", "valid names", res(tRdsInstance, "db", goodRDS()), res(tSqsQueue, "q", M{"name": "ecommerce-prod-us-east-1-order-dlq"}), res("aws:kms/alias:Alias", "a", M{"name": "alias/ecommerce-prod-us-east-1"})),
		fail("enforce-aws-name-constraints", "identifier with double hyphen", "identifier", res(tRdsInstance, "db", set(goodRDS(), "identifier", "ecommerce--auth"))),
		fail("enforce-aws-name-constraints", "cache id over 40", "replicationGroupId", res(tCacheGroup, "c", set(goodCache(), "replicationGroupId", "ecommerce-production-us-east-1-regional-cache"))),
		fail("enforce-aws-name-constraints", "queue with a dot", "name", res(tSqsQueue, "q", M{"name": "orders.v2"})),
		fail("enforce-aws-name-constraints", "reserved alias", "alias/aws/", res("aws:kms/alias:Alias", "a", M{"name": "alias/aws/mine"})),
		fail("enforce-aws-name-constraints", "uppercase ECR repository", "name", res(tEcrRepo, "r", M{"name": "Product"})),

		pass("disallow-cluster-creator-admin-with-access-entries", "explicit entries only", cluster(false, true), adminEntry()),
		pass("disallow-cluster-creator-admin-with-access-entries", "bootstrap without entries", cluster(true, true)),
		pass("disallow-cluster-creator-admin-with-access-entries", "entry for a role of the stack", cluster(true, true), res(tIamRole, "ci", M{}),
			dependsOn(res(tEksAccessEntry, "ci", M{"clusterName": "ecommerce-prod-us-east-1", "principalArn": "arn:aws:iam::111111111111:role/ci-deployer"}), res(tIamRole, "ci", M{}))),
		fail("disallow-cluster-creator-admin-with-access-entries", "bootstrap and an outside admin", "bootstrapClusterCreatorAdminPermissions", adminEntry(), cluster(true, true)),

		pass("disallow-duplicate-access-entries", "one entry each", cluster(false, true), adminEntry(),
			res(tEksAccessEntry, "deployer", M{"clusterName": "ecommerce-prod-us-east-1", "principalArn": "arn:aws:iam::111111111111:role/deployer"})),
		fail("disallow-duplicate-access-entries", "the admin twice", "principalArn arn:aws:iam::111111111111:role/platform-admin already has",
			adminEntry(), cluster(false, true),
			res(tEksAccessEntry, "admin-again", M{"clusterName": "ecommerce-prod-us-east-1", "principalArn": "arn:aws:iam::111111111111:role/platform-admin"})).failing("admin-again"),

		pass("missing-log-delivery-resource-policy", "policy admits delivery", dependsOn(slowLogCache(), deliveryPolicy("*")), deliveryPolicy("arn:aws:logs:us-east-1:111111111111:log-group:/aws/elasticache/*")),
		pass("missing-log-delivery-resource-policy", "waits through a component", dependsOn(slowLogCache(), res("ecommerce:logs:Delivery", "delivery-component", nil)),
			res("ecommerce:logs:Delivery", "delivery-component", nil),
			func() *Resource {
				p := deliveryPolicy("arn:aws:logs:us-east-1:111111111111:log-group:/aws/elasticache/*")
				p.Parent = "urn:pulumi:test::ecommerce::ecommerce:logs:Delivery::delivery-component"
				return p
			}()),
		fail("missing-log-delivery-resource-policy", "created before the policy", "does not wait", slowLogCache(), deliveryPolicy("arn:aws:logs:us-east-1:111111111111:log-group:/aws/elasticache/*")),
		fail("missing-log-delivery-resource-policy", "no policy", "delivery.logs.amazonaws.com", slowLogCache()),
		fail("missing-log-delivery-resource-policy", "policy for other groups", "logDeliveryConfigurations.0", slowLogCache(), deliveryPolicy("arn:aws:logs:us-east-1:111111111111:log-group:/aws/vendedlogs/*")),
		fail("missing-log-delivery-resource-policy", "policy in another region", "logDeliveryConfigurations.0", slowLogCache(), in("eu-west-1", deliveryPolicy("*"))),

		pass("missing-kms-key-grant-for-service", "key admits logs", dependsOn(res(tLogGroup, "lg", M{"kmsKeyId": keyArn, "retentionInDays": 30}), logsKey("logs.us-east-1.amazonaws.com")), logsKey("logs.us-east-1.amazonaws.com")),
		fail("missing-kms-key-grant-for-service", "key keeps logs out", "kmsKeyId", dependsOn(res(tLogGroup, "lg", M{"kmsKeyId": keyArn, "retentionInDays": 30}), logsKey()), logsKey()).presence(),
		fail("missing-kms-key-grant-for-service", "key keeps SNS out", "sns.amazonaws.com",
			dependsOn(queue("orders", 345600, ""), logsKey("logs.us-east-1.amazonaws.com")), logsKey("logs.us-east-1.amazonaws.com"),
			res(tSnsSubscription, "sub", M{"protocol": "sqs", "endpoint": "arn:aws:sqs:us-east-1:111111111111:orders", "topic": "arn:aws:sns:us-east-1:111111111111:events"})),

		pass("enforce-cloudwatch-dashboard-limits", "within", res(tDashboard, "d", M{"dashboardName": "ecommerce-prod-global",
			"dashboardBody": `{"widgets":[{"type":"metric","x":0,"y":0,"width":12,"height":6,"properties":{"metrics":[["AWS/SQS","ApproximateNumberOfMessagesVisible","QueueName","q"]]}}]}`})),
		pass("enforce-cloudwatch-dashboard-limits", "body unknown before apply", res(tDashboard, "d", M{"dashboardName": "d"})),
		fail("enforce-cloudwatch-dashboard-limits", "dot in the name", "dashboardName", res(tDashboard, "d", M{"dashboardName": "ecommerce.prod", "dashboardBody": `{"widgets":[]}`})),
		fail("enforce-cloudwatch-dashboard-limits", "not JSON", "not JSON", res(tDashboard, "d", M{"dashboardName": "d", "dashboardBody": `{widgets`})),
		fail("enforce-cloudwatch-dashboard-limits", "off the grid", "spans columns 18 to 26", res(tDashboard, "d", M{"dashboardName": "d",
			"dashboardBody": `{"widgets":[{"type":"text","x":18,"y":0,"width":8,"height":6,"properties":{"markdown":"x"}}]}`})),
		fail("enforce-cloudwatch-dashboard-limits", "101 alarms", "101 alarms", res(tDashboard, "d", M{"dashboardName": "d",
			"dashboardBody": `{"widgets":[{"type":"alarm","x":0,"y":0,"width":24,"height":4,"properties":{"alarms":[` + strings.Repeat(`"a",`, 100) + `"a"]}}]}`})),
		pass("enforce-cloudwatch-alarm-limits", "within", res(tMetricAlarm, "a", M{"name": "prod-us-east-1-order-db-cpu", "dimensions": M{"DBInstanceIdentifier": "db"}, "alarmActions": []any{"arn:aws:sns:us-east-1:111111111111:alarms"}})),
		fail("enforce-cloudwatch-alarm-limits", "name too long", "name", res(tMetricAlarm, "a", M{"name": strings.Repeat("n", 256)})),
		fail("enforce-cloudwatch-alarm-limits", "six actions", "alarmActions", res(tMetricAlarm, "a", M{"name": "a", "alarmActions": []any{"1", "2", "3", "4", "5", "6"}})),
		fail("enforce-cloudwatch-alarm-limits", "rule too long", "alarmRule", res(tCompositeAlarm, "c", M{"alarmName": "c", "alarmRule": strings.Repeat(`ALARM("x") OR `, 800) + `ALARM("x")`})),

		pass("missing-kms-key-grant-for-alarm-topic", "key admits CloudWatch", dependsOn(res(tMetricAlarm, "a", M{"name": "a"}), alarmTopic()), dependsOn(alarmTopic(), logsKey("cloudwatch.amazonaws.com")), logsKey("cloudwatch.amazonaws.com")),
		pass("missing-kms-key-grant-for-alarm-topic", "unencrypted topic is another policy's business", dependsOn(res(tMetricAlarm, "a", M{"name": "a"}), res(tSnsTopic, "alarms", M{"name": "alarms"})), res(tSnsTopic, "alarms", M{"name": "alarms"})),
		fail("missing-kms-key-grant-for-alarm-topic", "key keeps CloudWatch out", "cloudwatch.amazonaws.com", dependsOn(res(tMetricAlarm, "a", M{"name": "a"}), alarmTopic()), dependsOn(alarmTopic(), logsKey("sns.amazonaws.com")), logsKey("sns.amazonaws.com")),
		fail("missing-kms-key-grant-for-alarm-topic", "AWS managed key", "alias/aws/sns", dependsOn(res(tCompositeAlarm, "c", M{"alarmName": "c"}), res(tSnsTopic, "alarms", M{"name": "alarms", "kmsMasterKeyId": "alias/aws/sns"})),
			res(tSnsTopic, "alarms", M{"name": "alarms", "kmsMasterKeyId": "alias/aws/sns"})),

		pass("enforce-node-groups-after-network-addons", "ordered", cluster(false, false), addon("vpc-cni"), addon("kube-proxy"), dependsOn(nodeGroup(), addon("vpc-cni"), addon("kube-proxy"))),
		pass("enforce-node-groups-after-network-addons", "EKS bootstraps the add-ons", cluster(false, true), nodeGroup()),
		fail("enforce-node-groups-after-network-addons", "not ordered", "vpc-cni", nodeGroup(), cluster(false, false), addon("vpc-cni"), addon("kube-proxy")),
		fail("enforce-node-groups-after-network-addons", "no kube-proxy", "kube-proxy", dependsOn(nodeGroup(), addon("vpc-cni")), cluster(false, false), addon("vpc-cni")),

		pass("enforce-ecr-replication-destinations", "two regions", res(tEcrReplication, "rep", M{"replicationConfiguration": M{"rules": []any{M{"destinations": []any{M{"region": "eu-west-1", "registryId": "111111111111"}, M{"region": "ap-south-1", "registryId": "111111111111"}}}}}})),
		fail("enforce-ecr-replication-destinations", "bad registry", "registryId", res(tEcrReplication, "rep", M{"replicationConfiguration": M{"rules": []any{M{"destinations": []any{M{"region": "eu-west-1", "registryId": "1111"}}}}}})),
		fail("enforce-ecr-replication-destinations", "wildcard filter", "filterType", res(tEcrReplication, "rep", M{"replicationConfiguration": M{"rules": []any{M{"destinations": []any{M{"region": "eu-west-1", "registryId": "111111111111"}}, "repositoryFilters": []any{M{"filter": "prod", "filterType": "WILDCARD"}}}}}})),

		pass("enforce-route53-health-check-settings", "HTTPS check", res(tRoute53HealthCheck, "hc", M{"type": "HTTPS", "fqdn": "alb.example.com", "port": 443, "resourcePath": "/healthz", "requestInterval": 30, "failureThreshold": 3})),
		fail("enforce-route53-health-check-settings", "interval 15", "requestInterval", res(tRoute53HealthCheck, "hc", M{"type": "HTTPS", "fqdn": "alb.example.com", "requestInterval": 15})),
		fail("enforce-route53-health-check-settings", "no endpoint", "fqdn", res(tRoute53HealthCheck, "hc", M{"type": "HTTP", "resourcePath": "/healthz"})),

		pass("disallow-documentation-cidrs", "real CIDR", res(tEksCluster, "eks", set(set(goodEKS(), "vpcConfig.endpointPublicAccess", true), "vpcConfig.publicAccessCidrs", []any{"52.94.76.0/22"}))),
		fail("disallow-documentation-cidrs", "placeholder", "vpcConfig.publicAccessCidrs.0", res(tEksCluster, "eks", set(set(goodEKS(), "vpcConfig.endpointPublicAccess", true), "vpcConfig.publicAccessCidrs", []any{"198.51.100.0/24"}))),
	}
}

// rule is a listener rule forwarding paths, with the origin header.
func rule(priority int, paths ...string) *Resource {
	values := []any{}
	for _, p := range paths {
		values = append(values, p)
	}
	return res(tLbListenerRule, "r", M{"priority": priority, "conditions": []any{
		M{"pathPattern": M{"values": values}},
		M{"httpHeader": M{"httpHeaderName": "X-Origin-Secret", "values": []any{secret("s")}}},
	}, "actions": []any{M{"type": "forward", "forward": M{"targetGroups": []any{M{"arn": "a", "weight": 100}}}}}})
}

func named(r *Resource, name string) *Resource {
	r.Name = name
	r.URN = strings.TrimSuffix(r.URN, "::r") + "::" + name
	return r
}

func set2(r *Resource, key string, v string) *Resource {
	r.Inputs[resource.PropertyKey(key)] = resource.NewStringProperty(v)
	return r
}

func httpsListener() *Resource {
	return res(tLbListener, "https", M{"protocol": "HTTPS", "port": 443, "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06"})
}

func loggingLB() *Resource {
	return res(tLb, "alb", M{"loadBalancerType": "application", "dropInvalidHeaderFields": true, "subnets": []any{"a", "b"},
		"accessLogs": M{"bucket": UnknownPlaceholder, "enabled": true, "prefix": "alb"}})
}

func logBucket() *Resource { return res(tS3BucketV2, "logs", M{"forceDestroy": false}) }

func bucketSSE(alg string) *Resource {
	return dependsOn(res(tS3SSEV2, "logs-sse", M{"bucket": UnknownPlaceholder, "rules": []any{M{"applyServerSideEncryptionByDefault": M{"sseAlgorithm": alg}}}}), logBucket())
}

func bucketPolicy() *Resource {
	return dependsOn(res(tS3BucketPolicy, "logs-policy", M{"bucket": UnknownPlaceholder, "policy": doc(M{
		"Effect": "Allow", "Principal": M{"AWS": "arn:aws:iam::127311923021:root"}, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::logs/alb/*"})}), logBucket())
}

func alarmTopic() *Resource {
	return res(tSnsTopic, "alarms", M{"name": "alarms", "kmsMasterKeyId": keyArn})
}
