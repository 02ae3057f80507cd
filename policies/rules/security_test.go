package rules

import (
	"strconv"
	"strings"
)

const (
	keyArn  = "arn:aws:kms:us-east-1:111111111111:key/0f1e2d3c-aaaa-bbbb-cccc-111111111111"
	keyArn2 = "arn:aws:kms:us-east-1:111111111111:key/0f1e2d3c-aaaa-bbbb-cccc-222222222222"
	keyEU   = "arn:aws:kms:eu-west-1:111111111111:key/0f1e2d3c-aaaa-bbbb-cccc-333333333333"
	oidc    = "oidc.eks.us-east-1.amazonaws.com/id/ABCDEF0123456789"
)

// set writes v at a dotted path inside m (numeric parts index arrays) and
// returns m, so a test states only what differs from a good resource.
func set(m M, path string, v any) M {
	parts := strings.Split(path, ".")
	var cur any = m
	for i, p := range parts {
		last := i == len(parts)-1
		switch c := cur.(type) {
		case M:
			if last {
				if v == nil {
					delete(c, p)
				} else {
					c[p] = v
				}
				return m
			}
			if _, ok := c[p]; !ok {
				c[p] = M{}
			}
			cur = c[p]
		case []any:
			n, _ := strconv.Atoi(p)
			if last {
				c[n] = v
				return m
			}
			cur = c[n]
		}
	}
	return m
}

func goodRDS() M {
	return M{
		"identifier": "ecommerce-prod-us-east-1-auth", "engine": "postgres", "instanceClass": "db.r6g.large",
		"allocatedStorage": 100, "maxAllocatedStorage": 500, "storageType": "gp3",
		"storageEncrypted": true, "kmsKeyId": keyArn, "multiAz": true, "backupRetentionPeriod": 14,
		"deletionProtection": true, "skipFinalSnapshot": false, "finalSnapshotIdentifier": "ecommerce-prod-auth-final",
		"performanceInsightsEnabled": true, "performanceInsightsKmsKeyId": keyArn, "performanceInsightsRetentionPeriod": 7,
		"publiclyAccessible": false, "username": "app", "password": secret("generated"),
	}
}

func goodReplica() M {
	return M{
		"identifier": "ecommerce-prod-eu-west-1-auth", "instanceClass": "db.r6g.large", "replicateSourceDb": "arn:aws:rds:us-east-1:111111111111:db:ecommerce-prod-us-east-1-auth",
		"kmsKeyId": keyEU, "storageEncrypted": true, "multiAz": true, "deletionProtection": true, "skipFinalSnapshot": true,
		"allocatedStorage": 100, "maxAllocatedStorage": 500, "storageType": "gp3",
		"performanceInsightsEnabled": true, "performanceInsightsKmsKeyId": keyEU,
	}
}

func goodCache() M {
	return M{
		"replicationGroupId": "ecommerce-prod-cache", "engine": "redis", "nodeType": "cache.r7g.large", "numCacheClusters": 2,
		"automaticFailoverEnabled": true, "multiAzEnabled": true, "atRestEncryptionEnabled": true, "kmsKeyId": keyArn,
		"transitEncryptionEnabled": true, "authToken": secret("token-token-token"), "snapshotRetentionLimit": 7,
	}
}

func goodLT() M {
	return M{
		"blockDeviceMappings": []any{M{"deviceName": "/dev/xvda", "ebs": M{"encrypted": "true", "kmsKeyId": keyArn, "volumeType": "gp3", "volumeSize": 50}}},
		"metadataOptions":     M{"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1},
	}
}

func goodEKS() M {
	return M{
		"name": "ecommerce-prod-us-east-1", "version": "1.34",
		"encryptionConfig":       M{"provider": M{"keyArn": keyArn}, "resources": []any{"secrets"}},
		"vpcConfig":              M{"endpointPrivateAccess": true, "endpointPublicAccess": false, "subnetIds": []any{"subnet-a", "subnet-b"}},
		"enabledClusterLogTypes": []any{"api", "audit", "authenticator", "controllerManager", "scheduler"},
		"accessConfig":           M{"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": false},
	}
}

func tlsDeny(resource string) M {
	return M{"Sid": "DenyPlainTransport", "Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": resource,
		"Condition": M{"Bool": M{"aws:SecureTransport": "false"}}}
}

func irsaTrust(cond M) string {
	return doc(M{"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
		"Principal": M{"Federated": "arn:aws:iam::111111111111:oidc-provider/" + oidc}, "Condition": cond})
}

func webACL(rules ...any) M {
	return M{"name": "edge", "scope": "CLOUDFRONT", "defaultAction": M{"allow": M{}}, "rules": rules}
}

func managedRule(name string, count bool) M {
	r := M{"name": name, "priority": 1, "statement": M{"managedRuleGroupStatement": M{"name": name, "vendorName": "AWS"}}}
	if count {
		r["overrideAction"] = M{"count": M{}}
	} else {
		r["overrideAction"] = M{"none": M{}}
	}
	return r
}

func rateRule(limit int, action string) M {
	return M{"name": "rate", "priority": 0, "action": M{action: M{}}, "statement": M{"rateBasedStatement": M{"limit": limit, "aggregateKeyType": "IP"}}}
}

func goodCloudFront() M {
	return M{
		"enabled": true, "webAclId": "arn:aws:wafv2:us-east-1:111111111111:global/webacl/edge/abc", "priceClass": "PriceClass_100",
		"origins": []any{
			M{"originId": "alb-us", "domainName": "alb.us.example.com", "customOriginConfig": M{"httpPort": 80, "httpsPort": 443, "originProtocolPolicy": "https-only", "originSslProtocols": []any{"TLSv1.2"}}},
			M{"originId": "alb-eu", "domainName": "alb.eu.example.com", "customOriginConfig": M{"httpPort": 80, "httpsPort": 443, "originProtocolPolicy": "https-only", "originSslProtocols": []any{"TLSv1.2"}}},
		},
		"originGroups":         []any{M{"originId": "failover", "members": []any{M{"originId": "alb-us"}, M{"originId": "alb-eu"}}, "failoverCriteria": M{"statusCodes": []any{500, 502}}}},
		"defaultCacheBehavior": M{"targetOriginId": "alb-us", "viewerProtocolPolicy": "redirect-to-https", "allowedMethods": []any{"GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"}, "cachedMethods": []any{"GET", "HEAD"}},
		"orderedCacheBehaviors": []any{M{"pathPattern": "/v1/products*", "targetOriginId": "failover", "viewerProtocolPolicy": "https-only",
			"allowedMethods": []any{"GET", "HEAD", "OPTIONS"}, "cachedMethods": []any{"GET", "HEAD"}}},
		"viewerCertificate": M{"acmCertificateArn": "arn:aws:acm:us-east-1:111111111111:certificate/abc", "minimumProtocolVersion": "TLSv1.2_2021", "sslSupportMethod": "sni-only"},
	}
}

func securityCases() []tc {
	const p1 = "missing-customer-managed-key-encryption"
	const lis = "enforce-https-listeners"
	const eks = "disallow-public-eks-endpoint"
	return []tc{
		pass(p1, "encrypted database", res(tRdsInstance, "db", goodRDS())),
		pass(p1, "replica with its region's key", in("eu-west-1", res(tRdsInstance, "replica", goodReplica()))),
		pass(p1, "same-region replica inherits the primary's key", res(tRdsInstance, "replica", M{"replicateSourceDb": "ecommerce-prod-us-east-1-auth", "instanceClass": "db.r6g.large"})),
		fail(p1, "cross-region replica without its region's key", "kmsKeyId", in("eu-west-1", res(tRdsInstance, "replica", set(goodReplica(), "kmsKeyId", nil)))),
		pass(p1, "queue with a key", res(tSqsQueue, "q", M{"kmsMasterKeyId": keyArn})),
		pass(p1, "launch template", res(tLaunchTemplate, "lt", goodLT())),
		pass(p1, "valkey defaults to at-rest encryption", res(tCacheGroup, "c", set(set(goodCache(), "engine", "valkey"), "atRestEncryptionEnabled", nil))),
		fail(p1, "database not encrypted", "storageEncrypted", res(tRdsInstance, "db", set(goodRDS(), "storageEncrypted", nil))),
		fail(p1, "Performance Insights on AWS's key", "performanceInsightsKmsKeyId", res(tRdsInstance, "db", set(goodRDS(), "performanceInsightsKmsKeyId", nil))),
		fail(p1, "queue on the AWS-managed key", "kmsMasterKeyId", res(tSqsQueue, "q", M{"kmsMasterKeyId": "alias/aws/sqs"})),
		fail(p1, "topic without a key", "kmsMasterKeyId", res(tSnsTopic, "t", M{"name": "events"})),
		fail(p1, "secret on aws/secretsmanager", "kmsKeyId", res(tSecret, "s", M{"name": "x"})),
		fail(p1, "log group without a key", "kmsKeyId", res(tLogGroup, "lg", M{"retentionInDays": 30})),
		fail(p1, "node volume without a key", "blockDeviceMappings.0.ebs.kmsKeyId", res(tLaunchTemplate, "lt", set(goodLT(), "blockDeviceMappings.0.ebs.kmsKeyId", nil))),
		fail(p1, "redis defaults to unencrypted", "atRestEncryptionEnabled", res(tCacheGroup, "c", set(goodCache(), "atRestEncryptionEnabled", nil))),
		fail(p1, "ECR with AES256", "encryptionConfigurations.0.encryptionType", res(tEcrRepo, "repo", M{"name": "product"})),
		fail(p1, "EKS secrets not envelope-encrypted", "encryptionConfig.provider.keyArn", res(tEksCluster, "eks", set(goodEKS(), "encryptionConfig", nil))),
		fail(p1, "EBS volume", "encrypted", res(tEbsVolume, "vol", M{"size": 10})),

		pass("enable-redis-transit-encryption", "TLS on", res(tCacheGroup, "c", goodCache())),
		pass("enable-redis-transit-encryption", "valkey defaults to TLS", res(tCacheGroup, "c", set(set(goodCache(), "engine", "valkey"), "transitEncryptionEnabled", nil))),
		fail("enable-redis-transit-encryption", "redis default", "transitEncryptionEnabled", res(tCacheGroup, "c", set(goodCache(), "transitEncryptionEnabled", nil))),

		pass("enable-rds-force-ssl", "postgres16 defaults to 1", res(tRdsParamGroup, "pg", M{"family": "postgres16", "parameters": []any{M{"name": "log_lock_waits", "value": "1"}}})),
		pass("enable-rds-force-ssl", "postgres14 with force_ssl", res(tRdsParamGroup, "pg", M{"family": "postgres14", "parameters": []any{M{"name": "rds.force_ssl", "value": "1"}}})),
		pass("enable-rds-force-ssl", "mysql is not read", res(tRdsParamGroup, "pg", M{"family": "mysql8.0"})),
		fail("enable-rds-force-ssl", "postgres14 default", "rds.force_ssl", res(tRdsParamGroup, "pg", M{"family": "postgres14"})),
		fail("enable-rds-force-ssl", "Aurora must say so", "rds.force_ssl", res(tRdsClusterParams, "cpg", M{"family": "aurora-postgresql16"})),
		fail("enable-rds-force-ssl", "turned off", "rds.force_ssl", res(tRdsParamGroup, "pg", M{"family": "postgres16", "parameters": []any{M{"name": "rds.force_ssl", "value": "0"}}})),

		pass("enforce-tls-only-resource-policies", "deny without TLS", res(tSqsQueuePolicy, "qp", M{"policy": doc(M{"Effect": "Allow", "Principal": M{"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": "arn:q"}, tlsDeny("arn:q"))})),
		fail("enforce-tls-only-resource-policies", "no TLS deny", "aws:SecureTransport", res(tSnsTopicPolicy, "tp", M{"policy": doc(M{"Effect": "Allow", "Principal": M{"AWS": "arn:aws:iam::111111111111:root"}, "Action": "sns:Publish", "Resource": "arn:t"})})),

		pass(lis, "HTTPS with TLS 1.3 policy", res(tLbListener, "https", M{"protocol": "HTTPS", "port": 443, "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06"})),
		pass(lis, "HTTP redirecting", res(tAlbListener, "http", M{"protocol": "HTTP", "port": 80, "defaultActions": []any{M{"type": "redirect", "redirect": M{"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}}})),
		pass(lis, "policy allowed by config", res(tLbListener, "https", M{"protocol": "HTTPS", "sslPolicy": "ELBSecurityPolicy-FS-1-2-Res-2020-10"})).with(M{"allowedSslPolicies": []any{"ELBSecurityPolicy-FS-1-2-Res-2020-10"}}),
		fail(lis, "HTTPS with the 2016 default", "sslPolicy", res(tLbListener, "https", M{"protocol": "HTTPS", "port": 443})),
		fail(lis, "HTTP forwarding", "defaultActions.0", res(tLbListener, "http", M{"port": 80, "defaultActions": []any{M{"type": "forward", "targetGroupArn": "arn:tg"}}})),

		pass("enforce-cloudfront-viewer-https", "https everywhere", res(tCloudFront, "cdn", goodCloudFront())),
		fail("enforce-cloudfront-viewer-https", "allow-all default behaviour", "defaultCacheBehavior.viewerProtocolPolicy", res(tCloudFront, "cdn", set(goodCloudFront(), "defaultCacheBehavior.viewerProtocolPolicy", "allow-all"))),
		fail("enforce-cloudfront-viewer-https", "old TLS", "viewerCertificate.minimumProtocolVersion", res(tCloudFront, "cdn", set(goodCloudFront(), "viewerCertificate.minimumProtocolVersion", "TLSv1"))),

		pass("enforce-cloudfront-origin-https", "https-only origins", res(tCloudFront, "cdn", goodCloudFront())),
		fail("enforce-cloudfront-origin-https", "http origin", "origins.1.customOriginConfig.originProtocolPolicy", res(tCloudFront, "cdn", set(goodCloudFront(), "origins.1.customOriginConfig.originProtocolPolicy", "match-viewer"))),
		fail("enforce-cloudfront-origin-https", "TLS 1.0 to origin", "originSslProtocols", res(tCloudFront, "cdn", set(goodCloudFront(), "origins.0.customOriginConfig.originSslProtocols", []any{"TLSv1", "TLSv1.2"}))),

		pass("disallow-public-rds", "private", res(tRdsInstance, "db", set(goodRDS(), "publiclyAccessible", nil))),
		fail("disallow-public-rds", "public", "publiclyAccessible", res(tRdsInstance, "db", set(goodRDS(), "publiclyAccessible", true))),

		pass(eks, "private only", res(tEksCluster, "eks", goodEKS())),
		pass(eks, "public to listed CIDRs", res(tEksCluster, "eks", set(set(goodEKS(), "vpcConfig.endpointPublicAccess", true), "vpcConfig.publicAccessCidrs", []any{"203.0.113.10/32"}))),
		fail(eks, "public by default to everyone", "vpcConfig.endpointPublicAccess", res(tEksCluster, "eks", set(goodEKS(), "vpcConfig.endpointPublicAccess", nil))),
		fail(eks, "public to 0.0.0.0/0", "vpcConfig.publicAccessCidrs", res(tEksCluster, "eks", set(set(goodEKS(), "vpcConfig.endpointPublicAccess", true), "vpcConfig.publicAccessCidrs", []any{"0.0.0.0/0"}))),
		fail(eks, "no private endpoint", "vpcConfig.endpointPrivateAccess", res(tEksCluster, "eks", set(goodEKS(), "vpcConfig.endpointPrivateAccess", nil))),

		pass("disallow-world-ingress", "VPC only", res(tSecurityGroup, "sg", M{"ingress": []any{M{"cidrBlocks": []any{"10.0.0.0/16"}, "fromPort": 443, "toPort": 443, "protocol": "tcp"}}})),
		pass("disallow-world-ingress", "prefix list", res(tSGRule, "r", M{"type": "ingress", "prefixListIds": []any{"pl-3b927c52"}, "fromPort": 443, "toPort": 443, "protocol": "tcp"})),
		pass("disallow-world-ingress", "port allowed by config", res(tSecurityGroup, "sg", M{"ingress": []any{M{"cidrBlocks": []any{"0.0.0.0/0"}, "fromPort": 443, "toPort": 443}}})).with(M{"allowedPorts": []any{"443"}}),
		fail("disallow-world-ingress", "world on 22", "ingress.0", res(tSecurityGroup, "sg", M{"ingress": []any{M{"cidrBlocks": []any{"0.0.0.0/0"}, "fromPort": 22, "toPort": 22, "protocol": "tcp"}}})),
		fail("disallow-world-ingress", "IPv6 world rule", "::/0", res(tSGIngressRule, "r", M{"cidrIpv6": "::/0", "fromPort": 443, "toPort": 443, "ipProtocol": "tcp"})),

		pass("enforce-imdsv2", "required", res(tLaunchTemplate, "lt", goodLT())),
		fail("enforce-imdsv2", "optional by default", "metadataOptions.httpTokens", res(tLaunchTemplate, "lt", set(goodLT(), "metadataOptions.httpTokens", nil))),
		fail("enforce-imdsv2", "instance", "metadataOptions.httpTokens", res(tEc2Instance, "vm", M{"instanceType": "t3.micro"})),

		pass("enforce-imds-hop-limit-one", "1", res(tLaunchTemplate, "lt", goodLT())),
		fail("enforce-imds-hop-limit-one", "2 lets pods in", "metadataOptions.httpPutResponseHopLimit", res(tLaunchTemplate, "lt", set(goodLT(), "metadataOptions.httpPutResponseHopLimit", 2))),
		fail("enforce-imds-hop-limit-one", "unset takes the AMI's 2", "metadataOptions.httpPutResponseHopLimit", res(tLaunchTemplate, "lt", set(goodLT(), "metadataOptions.httpPutResponseHopLimit", nil))),

		pass("enforce-irsa-trust-conditions", "sub and aud pinned", res(tIamRole, "irsa", M{"assumeRolePolicy": irsaTrust(M{"StringEquals": M{oidc + ":sub": "system:serviceaccount:product:product", oidc + ":aud": "sts.amazonaws.com"}})})),
		pass("enforce-irsa-trust-conditions", "a service role is not read", res(tIamRole, "svc", M{"assumeRolePolicy": doc(M{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": M{"Service": "ec2.amazonaws.com"}})})),
		fail("enforce-irsa-trust-conditions", "no aud", ":aud", res(tIamRole, "irsa", M{"assumeRolePolicy": irsaTrust(M{"StringEquals": M{oidc + ":sub": "system:serviceaccount:product:product"}})})),
		fail("enforce-irsa-trust-conditions", "wildcard sub", ":sub", res(tIamRole, "irsa", M{"assumeRolePolicy": irsaTrust(M{"StringLike": M{oidc + ":sub": "system:serviceaccount:*"}, "StringEquals": M{oidc + ":aud": "sts.amazonaws.com"}})})),

		pass("disallow-wildcard-principal", "deny * and account root", res(tSnsTopicPolicy, "tp", M{"policy": doc(M{"Effect": "Allow", "Principal": M{"AWS": "arn:aws:iam::111111111111:root"}, "Action": "sns:Publish", "Resource": "arn:t"}, tlsDeny("arn:t"))})),
		pass("disallow-wildcard-principal", "* limited to the account", res(tKmsKey, "k", M{"policy": doc(M{"Effect": "Allow", "Principal": M{"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": M{"StringEquals": M{"kms:CallerAccount": "111111111111"}}})})),
		fail("disallow-wildcard-principal", "anyone may send", "policy statement 0", res(tSqsQueuePolicy, "qp", M{"policy": doc(M{"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "arn:q"})})),
		fail("disallow-wildcard-principal", "anyone may assume", "assumeRolePolicy statement 0", res(tIamRole, "r", M{"assumeRolePolicy": doc(M{"Effect": "Allow", "Principal": M{"AWS": "*"}, "Action": "sts:AssumeRole"})})),

		pass("enable-kms-key-rotation", "rotating", res(tKmsKey, "k", M{"enableKeyRotation": true})),
		pass("enable-kms-key-rotation", "asymmetric keys cannot", res(tKmsKey, "k", M{"customerMasterKeySpec": "RSA_2048", "keyUsage": "SIGN_VERIFY"})),
		fail("enable-kms-key-rotation", "default off", "enableKeyRotation", res(tKmsKey, "k", M{"description": "x"})),
		fail("enable-kms-key-rotation", "every two years", "rotationPeriodInDays", res(tKmsKey, "k", M{"enableKeyRotation": true, "rotationPeriodInDays": 730})),

		pass("enforce-ecr-immutable-tags", "immutable", res(tEcrRepo, "repo", M{"imageTagMutability": "IMMUTABLE"})),
		fail("enforce-ecr-immutable-tags", "mutable by default", "imageTagMutability", res(tEcrRepo, "repo", M{"name": "product"})),

		pass("enable-ecr-scan-on-push", "scans", res(tEcrRepo, "repo", M{"imageScanningConfiguration": M{"scanOnPush": true}})),
		fail("enable-ecr-scan-on-push", "no scan", "imageScanningConfiguration.scanOnPush", res(tEcrRepo, "repo", M{"name": "product"})),

		pass("missing-cloudfront-waf", "attached", res(tCloudFront, "cdn", goodCloudFront())),
		fail("missing-cloudfront-waf", "none", "webAclId", res(tCloudFront, "cdn", set(goodCloudFront(), "webAclId", nil))),

		pass("missing-waf-managed-rules", "common and bad inputs", res(tWafAcl, "acl", webACL(managedRule("AWSManagedRulesCommonRuleSet", false), managedRule("AWSManagedRulesKnownBadInputsRuleSet", false)))),
		pass("missing-waf-managed-rules", "given as ruleJson", res(tWafAcl, "acl", M{"scope": "CLOUDFRONT", "ruleJson": `[{"Name":"c","Priority":1,"OverrideAction":{"None":{}},"Statement":{"ManagedRuleGroupStatement":{"Name":"AWSManagedRulesCommonRuleSet","VendorName":"AWS"}}},{"Name":"k","Priority":2,"OverrideAction":{"None":{}},"Statement":{"ManagedRuleGroupStatement":{"Name":"AWSManagedRulesKnownBadInputsRuleSet","VendorName":"AWS"}}}]`})),
		fail("missing-waf-managed-rules", "common rules only counted", "AWSManagedRulesCommonRuleSet", res(tWafAcl, "acl", webACL(managedRule("AWSManagedRulesCommonRuleSet", true), managedRule("AWSManagedRulesKnownBadInputsRuleSet", false)))),

		pass("missing-waf-rate-limit", "blocking rate rule", res(tWafAcl, "acl", webACL(rateRule(1000, "block")))),
		fail("missing-waf-rate-limit", "limit above the maximum", "rateBasedStatement", res(tWafAcl, "acl", webACL(rateRule(10000, "block")))),
		fail("missing-waf-rate-limit", "counting only", "rateBasedStatement", res(tWafAcl, "acl", webACL(rateRule(1000, "count")))),

		pass("disallow-plaintext-credentials", "secret password", res(tRdsInstance, "db", goodRDS())),
		pass("disallow-plaintext-credentials", "unknown token", res(tCacheGroup, "c", set(goodCache(), "authToken", UnknownPlaceholder))),
		fail("disallow-plaintext-credentials", "plain password", "password", res(tRdsInstance, "db", set(goodRDS(), "password", "hunter2hunter2"))),
		fail("disallow-plaintext-credentials", "plain secret string", "secretString", res(tSecretVersion, "sv", M{"secretId": "s", "secretString": `{"A":"b"}`})),

		pass("disallow-node-group-remote-access", "no SSH", res(tEksNodeGroup, "ng", M{"clusterName": "c"})),
		fail("disallow-node-group-remote-access", "SSH key", "remoteAccess", res(tEksNodeGroup, "ng", M{"remoteAccess": M{"ec2SshKey": "ops"}})),

		pass("enable-eks-control-plane-logging", "all types", res(tEksCluster, "eks", goodEKS())),
		fail("enable-eks-control-plane-logging", "no audit", "enabledClusterLogTypes", res(tEksCluster, "eks", set(goodEKS(), "enabledClusterLogTypes", []any{"api"}))),

		pass("disallow-default-security-group-rules", "adopted empty", res(tDefaultSG, "default", M{"vpcId": "vpc-1"})),
		fail("disallow-default-security-group-rules", "rules on it", "ingress", res(tDefaultSG, "default", M{"ingress": []any{M{"self": true, "fromPort": 0, "toPort": 0, "protocol": "-1"}}})),

		pass("disallow-wildcard-iam-actions", "listed actions", res(tIamRolePolicy, "rp", M{"policy": doc(M{"Effect": "Allow", "Action": []any{"logs:PutLogEvents"}, "Resource": "arn:aws:logs:us-east-1:1:log-group:x:*"})})),
		pass("disallow-wildcard-iam-actions", "service wildcard on one resource", res(tIamPolicy, "p", M{"policy": doc(M{"Effect": "Allow", "Action": "sqs:*", "Resource": "arn:aws:sqs:us-east-1:1:q"})})),
		fail("disallow-wildcard-iam-actions", "everything", "policy statement 0", res(tIamPolicy, "p", M{"policy": doc(M{"Effect": "Allow", "Action": "*", "Resource": "*"})})),
		fail("disallow-wildcard-iam-actions", "s3:* on all", "\"s3:*\"", res(tIamRolePolicy, "rp", M{"policy": doc(M{"Effect": "Allow", "Action": "s3:*", "Resource": "*"})})),

		pass("disallow-admin-managed-policy", "EKS worker policy", res(tIamRoleAttach, "a", M{"role": "nodes", "policyArn": "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"})),
		fail("disallow-admin-managed-policy", "administrator", "policyArn", res(tIamRoleAttach, "a", M{"role": "ci", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"})),
		fail("disallow-admin-managed-policy", "inline on the role", "managedPolicyArns", res(tIamRole, "r", M{"managedPolicyArns": []any{"arn:aws:iam::aws:policy/PowerUserAccess"}})),

		pass("enforce-alb-drop-invalid-headers", "drops", res(tLb, "alb", M{"dropInvalidHeaderFields": true, "subnets": []any{"a", "b"}})),
		pass("enforce-alb-drop-invalid-headers", "network LB is not read", res(tLb, "nlb", M{"loadBalancerType": "network", "subnets": []any{"a", "b"}})),
		fail("enforce-alb-drop-invalid-headers", "default", "dropInvalidHeaderFields", res(tAlb, "alb", M{"subnets": []any{"a", "b"}})),

		pass("enforce-postgres-verify-full", "verify-full", res(tSecretVersion, "sv", M{"secretString": secret(`{"DATABASE_URL":"postgres://auth_svc:pw@db.x.us-east-1.rds.amazonaws.com:5432/authdb?sslmode=verify-full&sslrootcert=/etc/ssl/rds.pem"}`)})),
		pass("enforce-postgres-verify-full", "redacted in a plan file", res(tSecretVersion, "sv", M{"secretString": SecretPlaceholder})),
		fail("enforce-postgres-verify-full", "require only", "sslmode", res(tSecretVersion, "sv", M{"secretString": secret(`{"DATABASE_URL":"postgres://app:pw@db.x.rds.amazonaws.com:5432/authdb?sslmode=require"}`)})),

		pass("disallow-master-user-in-runtime-secret", "own role",
			res(tSecretVersion, "sv", M{"secretString": secret(`{"DATABASE_URL":"postgres://auth_svc:pw@ecommerce-prod-auth.abc.us-east-1.rds.amazonaws.com:5432/authdb?sslmode=verify-full"}`)}),
			res(tRdsInstance, "db", set(goodRDS(), "identifier", "ecommerce-prod-auth"))),
		pass("disallow-master-user-in-runtime-secret", "the migration secret holds the schema owner",
			res(tSecretVersion, "migrate", M{"secretString": secret(`{"DATABASE_URL":"postgres://app:pw@ecommerce-prod-auth.abc.us-east-1.rds.amazonaws.com:5432/authdb?sslmode=verify-full"}`)}),
			res(tSecret, "migrate", M{"name": "ecommerce-prod-us-east-1/auth/migrate"}),
			res(tRdsInstance, "db", set(goodRDS(), "identifier", "ecommerce-prod-auth"))),
		fail("disallow-master-user-in-runtime-secret", "master user", "master user \"app\"",
			res(tSecretVersion, "sv", M{"secretString": secret(`{"DATABASE_URL":"postgres://app:pw@ecommerce-prod-auth.abc.us-east-1.rds.amazonaws.com:5432/authdb?sslmode=verify-full"}`)}),
			res(tRdsInstance, "db", set(goodRDS(), "identifier", "ecommerce-prod-auth"))),

		slrCase(false, false), slrCase(true, true), slrCase(true, false), viaServiceKeyCase(), slrQueuePolicyCase(),

		pass("disallow-shared-kms-key-across-data-classes", "one key per class",
			res(tRdsInstance, "db", goodRDS()), res(tSqsQueue, "q", M{"kmsMasterKeyId": keyArn2})),
		fail("disallow-shared-kms-key-across-data-classes", "data and messaging share", "data stores, messaging",
			res(tSqsQueue, "q", M{"kmsMasterKeyId": keyArn}), res(tRdsInstance, "db", goodRDS())),
	}
}

const slrArn = "arn:aws:iam::111111111111:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"

func slrKey() M {
	return M{"enableKeyRotation": true, "policy": doc(
		M{"Sid": "Root", "Effect": "Allow", "Principal": M{"AWS": "arn:aws:iam::111111111111:root"}, "Action": "kms:*", "Resource": "*"},
		M{"Sid": "AutoScaling", "Effect": "Allow", "Principal": M{"AWS": slrArn}, "Action": []any{"kms:Decrypt", "kms:CreateGrant"}, "Resource": "*"})}
}

func slrCase(created, ordered bool) tc {
	const p = "disallow-service-linked-role-principal"
	key := res(tKmsKey, "key", slrKey())
	if !created {
		return fail(p, "role not created", "AWSServiceRoleForAutoScaling", key)
	}
	role := res(tServiceLinkedRole, "asg-role", M{"awsServiceName": "autoscaling.amazonaws.com"})
	if ordered {
		return pass(p, "role created first", dependsOn(key, role), role)
	}
	return fail(p, "role created but not ordered", "dependsOn", key, role)
}

// A queue policy naming a service-linked role the stack does not create
// fails as a key policy does.
func slrQueuePolicyCase() tc {
	return fail("disallow-service-linked-role-principal", "queue policy names an absent role", "AWSServiceRoleForAutoScaling",
		res(tSqsQueuePolicy, "qp", M{"policy": doc(M{"Effect": "Allow", "Principal": M{"AWS": slrArn}, "Action": "sqs:SendMessage", "Resource": "arn:q"})}))
}

func viaServiceKeyCase() tc {
	return pass("disallow-service-linked-role-principal", "EBS through kms:ViaService", res(tKmsKey, "key", M{"policy": doc(
		M{"Sid": "EBS", "Effect": "Allow", "Principal": M{"AWS": "arn:aws:iam::111111111111:root"}, "Action": "kms:CreateGrant", "Resource": "*",
			"Condition": M{"StringEquals": M{"kms:ViaService": "ec2.us-east-1.amazonaws.com", "kms:CallerAccount": "111111111111"}}})}))
}
