package rules

import (
	"fmt"
	"net"
	"regexp"
	"strings"
)

// isCustomerKey tells whether a KMS key reference names a customer-managed
// key: a key id, key ARN or alias that is not one of AWS's own
// (alias/aws/...). Empty is not.
func isCustomerKey(s string) bool {
	return s != "" && !strings.HasPrefix(s, "alias/aws/") && !strings.Contains(s, ":alias/aws/")
}

// requireKey fails unless the input at path is unknown or a customer key.
func requireKey(c *ResourceCheck, path, what string) {
	v := c.Get(path)
	if v.Unknown() {
		return
	}
	s, ok := v.Str()
	if v.Missing() || (ok && !isCustomerKey(s)) {
		shown := "not set, so AWS's own key is used"
		if ok {
			shown = fmt.Sprintf("%q, an AWS-managed key", s)
		}
		c.Fail("%s: %s is %s; set it to the region's customer-managed KMS key", what, path, shown)
	}
}

// requireTrue fails unless the boolean at path is true (def when missing).
func requireTrue(c *ResourceCheck, path string, def bool, why string) bool {
	b, ok := c.Get(path).BoolOr(def)
	if ok && !b {
		state := "false"
		if c.Get(path).Missing() {
			state = "not set (default false)"
		}
		c.Fail("%s is %s; %s", path, state, why)
		return false
	}
	return true
}

func checkAtRestEncryption(c *ResourceCheck) {
	switch c.Type {
	case tRdsInstance:
		if src := c.Get("replicateSourceDb"); !src.Missing() {
			// A replica in its primary's region inherits the primary's
			// encryption; one in another region needs its region's key.
			arn, _ := src.Str()
			if parts := strings.Split(arn, ":"); len(parts) > 3 && parts[3] != c.Region && c.Region != "" {
				requireKey(c, "kmsKeyId", "the cross-region replica's storage")
			}
		} else {
			requireTrue(c, "storageEncrypted", false, "the database must be encrypted at rest")
			requireKey(c, "kmsKeyId", "storage")
		}
		if on, ok := c.Get("performanceInsightsEnabled").BoolOr(false); ok && on {
			requireKey(c, "performanceInsightsKmsKeyId", "Performance Insights")
		}
	case tRdsCluster:
		requireTrue(c, "storageEncrypted", false, "the cluster must be encrypted at rest")
		requireKey(c, "kmsKeyId", "storage")
	case tCacheGroup:
		engine, _ := c.Get("engine").StrOr("redis")
		requireTrue(c, "atRestEncryptionEnabled", engine == "valkey", "the cache must be encrypted at rest")
		requireKey(c, "kmsKeyId", "at-rest encryption")
	case tSqsQueue, tSnsTopic:
		requireKey(c, "kmsMasterKeyId", "server-side encryption")
	case tSecret:
		requireKey(c, "kmsKeyId", "the secret")
	case tLogGroup:
		requireKey(c, "kmsKeyId", "log data")
	case tEbsVolume:
		requireTrue(c, "encrypted", false, "the volume must be encrypted")
		requireKey(c, "kmsKeyId", "the volume")
	case tLaunchTemplate:
		for i, m := range c.Get("blockDeviceMappings").Items() {
			ebs := m.Field("ebs")
			if ebs.Missing() {
				continue
			}
			p := fmt.Sprintf("blockDeviceMappings.%d.ebs", i)
			requireTrue(c, p+".encrypted", false, "node volumes must be encrypted")
			requireKey(c, p+".kmsKeyId", "the node volume")
		}
	case tEcrRepo:
		typ, ok := c.Get("encryptionConfigurations.0.encryptionType").StrOr("AES256")
		if ok && typ != "KMS" {
			c.Fail("images: encryptionConfigurations.0.encryptionType is %q; set KMS with kmsKey the region's customer-managed key", typ)
			return
		}
		requireKey(c, "encryptionConfigurations.0.kmsKey", "images")
	case tEksCluster:
		requireKey(c, "encryptionConfig.provider.keyArn", "Kubernetes secrets")
		res, ok := c.Get("encryptionConfig.resources").Strings()
		if ok && !contains(res, "secrets") && !c.Get("encryptionConfig").Missing() {
			c.Fail("encryptionConfig.resources is %v; it must include \"secrets\"", res)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// tlsDenied tells whether a policy document denies requests without TLS.
func tlsDenied(stmts []statement) bool {
	for _, s := range stmts {
		if s.allows() {
			continue
		}
		if v, ok := s.conditionOp("Bool", "aws:SecureTransport"); ok && contains(v, "false") {
			return true
		}
	}
	return false
}

// restrictingConditionKeys limit an Allow to one account, organisation,
// source resource or network path, so a "*" principal is not everyone.
var restrictingConditionKeys = []string{
	"aws:SourceArn", "aws:SourceAccount", "aws:SourceOwner", "aws:PrincipalOrgID",
	"aws:PrincipalAccount", "aws:PrincipalArn", "aws:SourceVpce", "aws:SourceVpc",
	"kms:CallerAccount", "aws:SourceOrgID",
}

// resourcePolicyPath is where each resource type keeps its resource-based
// policy document.
var resourcePolicyPath = map[string]string{
	tKmsKey:            "policy",
	tSqsQueue:          "policy",
	tSqsQueuePolicy:    "policy",
	tSnsTopic:          "policy",
	tSnsTopicPolicy:    "policy",
	tSecret:            "policy",
	tSecretPolicy:      "policy",
	tEcrRepoPolicy:     "policy",
	tS3BucketPolicy:    "policy",
	tLogResourcePolicy: "policyDocument",
	tIamRole:           "assumeRolePolicy",
}

func resourcePolicyTypes() []string {
	var out []string
	for t := range resourcePolicyPath {
		out = append(out, t)
	}
	return sortedStrings(out)
}

// worldCIDR tells whether a CIDR is the whole IPv4 or IPv6 internet.
func worldCIDR(s string) bool {
	s = strings.TrimSpace(s)
	return s == "0.0.0.0/0" || s == "::/0"
}

// ingressRules returns the ingress rules of a security group resource as
// (path, rule) pairs; standalone rule resources are one rule at "".
func ingressRules(r *Resource) []struct {
	path string
	rule Value
} {
	type pr = struct {
		path string
		rule Value
	}
	var out []pr
	switch r.Type {
	case tSecurityGroup, tDefaultSG:
		for i, it := range r.Get("ingress").Items() {
			out = append(out, pr{fmt.Sprintf("ingress.%d", i), it})
		}
	case tSGRule:
		if t, _ := r.Get("type").Str(); t == "ingress" {
			out = append(out, pr{"", r.Get("")})
		}
	case tSGIngressRule:
		out = append(out, pr{"", r.Get("")})
	}
	return out
}

var arnKeyRE = regexp.MustCompile(`^arn:aws[a-z-]*:kms:([a-z0-9-]+):`)

// oidcIssuerOf returns the issuer host/path of an IRSA federated
// principal ARN (arn:aws:iam::<acct>:oidc-provider/<issuer>).
func oidcIssuerOf(arn string) (string, bool) {
	_, after, ok := strings.Cut(arn, ":oidc-provider/")
	return after, ok && after != ""
}

func securityPolicies() []*Policy {
	return []*Policy{
		{
			Name:  "missing-customer-managed-key-encryption",
			Group: Security, Level: Mandatory,
			Description: "Data at rest is encrypted with a customer-managed KMS key: RDS (and Performance Insights), ElastiCache, SQS, SNS, Secrets Manager, launch-template and EBS volumes, log groups, ECR and EKS secrets.",
			Types:       []string{tRdsInstance, tRdsCluster, tCacheGroup, tSqsQueue, tSnsTopic, tSecret, tLogGroup, tEbsVolume, tLaunchTemplate, tEcrRepo, tEksCluster},
			Resource:    checkAtRestEncryption,
		},
		{
			Name:  "enable-redis-transit-encryption",
			Group: Security, Level: Mandatory,
			Description: "ElastiCache replication groups encrypt client traffic (TLS).",
			Types:       []string{tCacheGroup},
			Resource: func(c *ResourceCheck) {
				engine, _ := c.Get("engine").StrOr("redis")
				requireTrue(c, "transitEncryptionEnabled", engine == "valkey", "clients must connect over TLS")
			},
		},
		{
			Name:  "enable-rds-force-ssl",
			Group: Security, Level: Mandatory,
			Description: "PostgreSQL parameter groups refuse unencrypted connections (rds.force_ssl=1; PostgreSQL 15 and later default to 1).",
			Types:       []string{tRdsParamGroup, tRdsClusterParams},
			Resource: func(c *ResourceCheck) {
				family, ok := c.Get("family").Str()
				if !ok || !strings.Contains(family, "postgres") {
					return
				}
				// RDS for PostgreSQL 15+ defaults rds.force_ssl to 1;
				// Aurora's parameter groups are held to an explicit 1.
				major := 0
				if strings.HasPrefix(family, "postgres") {
					_, _ = fmt.Sscanf(strings.TrimPrefix(family, "postgres"), "%d", &major)
				}
				value, set, known := "", false, true
				for _, p := range c.Get("parameters").Items() {
					if n, _ := p.Field("name").Str(); n == "rds.force_ssl" {
						set = true
						value, known = p.Field("value").Str()
					}
				}
				if !known || c.Get("parameters").Unknown() {
					return
				}
				switch {
				case set && strings.TrimSpace(value) != "1":
					c.Fail("parameters: rds.force_ssl is %q; set it to \"1\" so the server refuses plain-text connections", value)
				case !set && major < 15:
					c.Fail("parameters: rds.force_ssl is not set and %s defaults to 0; set it to \"1\"", family)
				}
			},
		},
		{
			Name:  "enforce-tls-only-resource-policies",
			Group: Security, Level: Mandatory,
			Description: "SNS topic and SQS queue policies deny requests made without TLS (aws:SecureTransport false).",
			Types:       []string{tSnsTopicPolicy, tSqsQueuePolicy},
			Resource: func(c *ResourceCheck) {
				v := c.Get("policy")
				stmts, ok := policyDoc(v)
				if !ok {
					return
				}
				if !tlsDenied(stmts) {
					c.Fail("policy has no Deny statement with Condition Bool aws:SecureTransport \"false\"; add one so plain HTTP requests are refused")
				}
			},
		},
		{
			Name:  "enforce-https-listeners",
			Group: Security, Level: Mandatory,
			Description: "Load balancer listeners serve HTTPS (or TLS) with a modern security policy; a plain HTTP listener may only redirect to HTTPS.",
			Types:       listenerTypes,
			Settings: []Setting{{
				Name:        "allowedSslPolicies",
				Description: "Security policies a listener may use (TLS 1.2+ with forward secrecy).",
				Default: []string{
					"ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
					"ELBSecurityPolicy-TLS13-1-3-2021-06", "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
					"ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
				},
			}},
			Resource: func(c *ResourceCheck) {
				proto, ok := c.Get("protocol").StrOr("HTTP")
				if !ok {
					return
				}
				switch strings.ToUpper(proto) {
				case "HTTPS", "TLS":
					policy, ok := c.Get("sslPolicy").StrOr("ELBSecurityPolicy-2016-08")
					if ok && !contains(c.Settings.Strings("allowedSslPolicies"), policy) {
						c.Fail("sslPolicy is %q; use one of %v", policy, c.Settings.Strings("allowedSslPolicies"))
					}
				case "HTTP":
					actions := c.Get("defaultActions").Items()
					if c.Get("defaultActions").Unknown() {
						return
					}
					for i, a := range actions {
						t, _ := a.Field("type").Str()
						rp, _ := a.Path("redirect.protocol").Str()
						if t != "redirect" || rp != "HTTPS" {
							c.Fail("protocol is HTTP and defaultActions.%d is %q, not a redirect to HTTPS; serve HTTPS or redirect", i, t)
						}
					}
					if len(actions) == 0 {
						c.Fail("protocol is HTTP with no defaultActions; serve HTTPS or redirect to it")
					}
				case "TCP", "UDP", "TCP_UDP":
					c.Fail("protocol is %s; terminate TLS at the listener (TLS) so traffic is encrypted", proto)
				}
			},
		},
		{
			Name:  "enforce-cloudfront-viewer-https",
			Group: Security, Level: Mandatory,
			Description: "CloudFront serves viewers over HTTPS only (every cache behaviour redirects or requires HTTPS) with TLS 1.2 or later.",
			Types:       []string{tCloudFront},
			Settings: []Setting{{
				Name:        "allowedMinimumProtocolVersions",
				Description: "viewerCertificate.minimumProtocolVersion values allowed.",
				Default:     []string{"TLSv1.2_2021", "TLSv1.2_2019", "TLSv1.2_2018"},
			}},
			Resource: func(c *ResourceCheck) {
				check := func(path string) {
					p, ok := c.Get(path + ".viewerProtocolPolicy").Str()
					if ok && p != "redirect-to-https" && p != "https-only" {
						c.Fail("%s.viewerProtocolPolicy is %q; use redirect-to-https or https-only", path, p)
					}
				}
				check("defaultCacheBehavior")
				for i := range c.Get("orderedCacheBehaviors").Items() {
					check(fmt.Sprintf("orderedCacheBehaviors.%d", i))
				}
				if def, ok := c.Get("viewerCertificate.cloudfrontDefaultCertificate").Bool(); ok && def {
					return // the default certificate always negotiates TLS 1.x; a custom domain needs its own
				}
				v, ok := c.Get("viewerCertificate.minimumProtocolVersion").StrOr("TLSv1")
				if ok && !contains(c.Settings.Strings("allowedMinimumProtocolVersions"), v) {
					c.Fail("viewerCertificate.minimumProtocolVersion is %q; use one of %v", v, c.Settings.Strings("allowedMinimumProtocolVersions"))
				}
			},
		},
		{
			Name:  "enforce-cloudfront-origin-https",
			Group: Security, Level: Mandatory,
			Description: "CloudFront reaches custom origins over HTTPS only, with TLS 1.2.",
			Types:       []string{tCloudFront},
			Resource: func(c *ResourceCheck) {
				for i, o := range c.Get("origins").Items() {
					cfg := o.Field("customOriginConfig")
					if cfg.Missing() || cfg.Unknown() {
						continue
					}
					p := fmt.Sprintf("origins.%d.customOriginConfig", i)
					if pol, ok := cfg.Field("originProtocolPolicy").Str(); ok && pol != "https-only" {
						c.Fail("%s.originProtocolPolicy is %q; use https-only", p, pol)
					}
					protos, ok := cfg.Field("originSslProtocols").Strings()
					if ok {
						for _, pr := range protos {
							if pr != "TLSv1.2" && pr != "TLSv1.3" {
								c.Fail("%s.originSslProtocols includes %q; allow only TLSv1.2", p, pr)
							}
						}
					}
				}
			},
		},
		{
			Name:  "disallow-public-rds",
			Group: Security, Level: Mandatory,
			Description: "Database instances are not publicly accessible.",
			Types:       []string{tRdsInstance},
			Resource: func(c *ResourceCheck) {
				if pub, ok := c.Get("publiclyAccessible").BoolOr(false); ok && pub {
					c.Fail("publiclyAccessible is true; databases are reached only from inside the VPC")
				}
			},
		},
		{
			Name:  "disallow-public-eks-endpoint",
			Group: Security, Level: Mandatory,
			Description: "The EKS API endpoint is private, or public only to listed CIDRs, never 0.0.0.0/0.",
			Types:       []string{tEksCluster},
			Resource: func(c *ResourceCheck) {
				if priv, ok := c.Get("vpcConfig.endpointPrivateAccess").BoolOr(false); ok && !priv {
					c.Fail("vpcConfig.endpointPrivateAccess is false; nodes and operators inside the VPC must reach the API privately")
				}
				pub, ok := c.Get("vpcConfig.endpointPublicAccess").BoolOr(true)
				if !ok || !pub {
					return
				}
				cidrs := c.Get("vpcConfig.publicAccessCidrs")
				if cidrs.Unknown() {
					return
				}
				list, _ := cidrs.Strings()
				if len(list) == 0 {
					c.Fail("vpcConfig.endpointPublicAccess is true with no publicAccessCidrs, which AWS reads as 0.0.0.0/0; list the CIDRs that may reach the API or make it private")
				}
				for _, cidr := range list {
					if worldCIDR(cidr) {
						c.Fail("vpcConfig.publicAccessCidrs includes %s; list the CIDRs that may reach the API", cidr)
					}
				}
			},
		},
		{
			Name:  "disallow-world-ingress",
			Group: Security, Level: Mandatory,
			Description: "No security group admits the whole internet (0.0.0.0/0 or ::/0); the load balancer admits CloudFront through its managed prefix list instead.",
			Types:       []string{tSecurityGroup, tDefaultSG, tSGRule, tSGIngressRule},
			Settings: []Setting{{
				Name:        "allowedPorts",
				Description: "Ports that may be open to the internet (none by default: CloudFront reaches the load balancer through its prefix list).",
				Default:     []string{},
			}},
			Resource: func(c *ResourceCheck) {
				for _, ir := range ingressRules(c.Resource) {
					var cidrs []string
					for _, k := range []string{"cidrBlocks", "ipv6CidrBlocks", "cidrIpv4", "cidrIpv6"} {
						l, _ := ir.rule.Field(k).Strings()
						cidrs = append(cidrs, l...)
					}
					from, _ := ir.rule.Field("fromPort").Num()
					to, _ := ir.rule.Field("toPort").Num()
					for _, cidr := range cidrs {
						if !worldCIDR(cidr) {
							continue
						}
						if from == to && contains(c.Settings.Strings("allowedPorts"), fmt.Sprint(from)) {
							continue
						}
						path := strings.TrimPrefix(ir.path+".", ".")
						c.Fail("%sadmits %s on ports %v-%v; admit known sources (a security group or prefix list) instead", path, cidr, from, to)
					}
				}
			},
		},
		{
			Name:  "enforce-imdsv2",
			Group: Security, Level: Mandatory,
			Description: "Instances and launch templates require IMDSv2 session tokens (metadataOptions.httpTokens required).",
			Types:       []string{tLaunchTemplate, tEc2Instance},
			Resource: func(c *ResourceCheck) {
				if off, _ := c.Get("metadataOptions.httpEndpoint").Str(); off == "disabled" {
					return
				}
				tokens, ok := c.Get("metadataOptions.httpTokens").StrOr("optional")
				if ok && tokens != "required" {
					c.Fail("metadataOptions.httpTokens is %q; set \"required\" so only IMDSv2 answers", tokens)
				}
			},
		},
		{
			Name:  "enforce-imds-hop-limit-one",
			Group: Security, Level: Mandatory,
			Description: "Launch templates set the metadata hop limit to 1, so pods cannot reach instance metadata and take the node role (IRSA gives pods their own roles); AL2023 AMIs default to 2, so it must be set.",
			Types:       []string{tLaunchTemplate},
			Resource: func(c *ResourceCheck) {
				if off, _ := c.Get("metadataOptions.httpEndpoint").Str(); off == "disabled" {
					return
				}
				v := c.Get("metadataOptions.httpPutResponseHopLimit")
				if v.Unknown() {
					return
				}
				n, ok := v.Num()
				switch {
				case v.Missing():
					c.Fail("metadataOptions.httpPutResponseHopLimit is not set, and EKS AMIs default to 2, which lets pods reach the node role; set it to 1")
				case ok && n != 1:
					c.Fail("metadataOptions.httpPutResponseHopLimit is %v; set it to 1 so pods cannot reach instance metadata and the node role", n)
				}
			},
		},
		{
			Name:  "enforce-irsa-trust-conditions",
			Group: Security, Level: Mandatory,
			Description: "Roles assumed with an EKS OIDC web identity pin both the service account (sub, exact) and the audience (aud = sts.amazonaws.com).",
			Types:       []string{tIamRole},
			Resource: func(c *ResourceCheck) {
				stmts, ok := policyDoc(c.Get("assumeRolePolicy"))
				if !ok {
					return
				}
				for i, s := range stmts {
					if !s.allows() || !s.actionMatches("sts:AssumeRoleWithWebIdentity") {
						continue
					}
					for _, fed := range s.Principals["Federated"] {
						issuer, ok := oidcIssuerOf(fed)
						if !ok {
							continue
						}
						sub, okSub := s.conditionOp("StringEquals", issuer+":sub")
						aud, okAud := s.conditionOp("StringEquals", issuer+":aud")
						if !okSub || len(sub) == 0 {
							c.Fail("assumeRolePolicy statement %d does not pin %s:sub with StringEquals; any service account of the cluster could assume the role", i, issuer)
						}
						for _, v := range sub {
							if strings.ContainsAny(v, "*?") || !strings.HasPrefix(v, "system:serviceaccount:") {
								c.Fail("assumeRolePolicy statement %d: %s:sub is %q; name one service account exactly", i, issuer, v)
							}
						}
						if !okAud || len(aud) != 1 || aud[0] != "sts.amazonaws.com" {
							c.Fail("assumeRolePolicy statement %d does not pin %s:aud to sts.amazonaws.com", i, issuer)
						}
					}
				}
			},
		},
		{
			Name:  "disallow-wildcard-principal",
			Group: Security, Level: Mandatory,
			Description: "Resource policies (KMS, SQS, SNS, Secrets Manager, ECR, S3, CloudWatch Logs, IAM trust) never allow \"*\" without a condition limiting it to an account, organisation or source.",
			Types:       resourcePolicyTypes(),
			Resource: func(c *ResourceCheck) {
				path := resourcePolicyPath[c.Type]
				stmts, ok := policyDoc(c.Get(path))
				if !ok {
					return
				}
				for i, s := range stmts {
					if !s.allows() || !s.everyone() {
						continue
					}
					limited := false
					for _, k := range restrictingConditionKeys {
						if len(s.conditionKey(k)) > 0 {
							limited = true
						}
					}
					if !limited {
						c.Fail("%s statement %d (%s) allows Principal \"*\" with no condition on the source account, organisation or resource", path, i, s.Sid)
					}
				}
			},
		},
		{
			Name:  "enable-kms-key-rotation",
			Group: Security, Level: Mandatory,
			Description: "Symmetric customer-managed KMS keys rotate automatically, at least yearly.",
			Types:       []string{tKmsKey},
			Settings: []Setting{{
				Name: "maximumRotationDays", Description: "Longest rotation period allowed (rotationPeriodInDays).", Default: 365,
			}},
			Resource: func(c *ResourceCheck) {
				spec, _ := c.Get("customerMasterKeySpec").StrOr("SYMMETRIC_DEFAULT")
				if spec != "SYMMETRIC_DEFAULT" {
					return // asymmetric and HMAC keys cannot rotate automatically
				}
				if !requireTrue(c, "enableKeyRotation", false, "set it to true so key material rotates") {
					return
				}
				if d, ok := c.Get("rotationPeriodInDays").Num(); ok && int(d) > c.Settings.Int("maximumRotationDays") {
					c.Fail("rotationPeriodInDays is %v; rotate at least every %d days", d, c.Settings.Int("maximumRotationDays"))
				}
			},
		},
		{
			Name:  "enforce-ecr-immutable-tags",
			Group: Security, Level: Mandatory,
			Description: "ECR repositories have immutable tags, so a deployed tag always means the same image.",
			Types:       []string{tEcrRepo},
			Resource: func(c *ResourceCheck) {
				m, ok := c.Get("imageTagMutability").StrOr("MUTABLE")
				if ok && !strings.HasPrefix(m, "IMMUTABLE") {
					c.Fail("imageTagMutability is %q; set IMMUTABLE", m)
				}
			},
		},
		{
			Name:  "enable-ecr-scan-on-push",
			Group: Security, Level: Mandatory,
			Description: "ECR repositories scan every pushed image.",
			Types:       []string{tEcrRepo},
			Resource: func(c *ResourceCheck) {
				requireTrue(c, "imageScanningConfiguration.scanOnPush", false, "images must be scanned when pushed")
			},
		},
		{
			Name:  "missing-cloudfront-waf",
			Group: Security, Level: Mandatory,
			Description: "Every CloudFront distribution is protected by a WAF web ACL.",
			Types:       []string{tCloudFront},
			Resource: func(c *ResourceCheck) {
				v := c.Get("webAclId")
				if s, ok := v.Str(); v.Missing() || (ok && s == "") {
					c.Fail("webAclId is not set; attach the CLOUDFRONT-scope web ACL")
				}
			},
		},
		{
			Name:  "missing-waf-managed-rules",
			Group: Security, Level: Mandatory,
			Description: "Web ACLs run the required AWS managed rule groups, blocking (not overridden to count).",
			Types:       []string{tWafAcl},
			Settings: []Setting{{
				Name:        "requiredRuleGroups",
				Description: "AWS managed rule groups every web ACL must include.",
				Default:     []string{"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"},
			}},
			Resource: func(c *ResourceCheck) {
				rules, ok := wafRules(c.Resource)
				if !ok {
					return
				}
				have := map[string]bool{}
				for _, r := range rules {
					if r.managed != "" && !r.countOnly {
						have[r.managed] = true
					}
				}
				for _, g := range c.Settings.Strings("requiredRuleGroups") {
					if !have[g] {
						c.Fail("rules do not include the managed rule group %s (blocking); add it", g)
					}
				}
			},
		},
		{
			Name:  "missing-waf-rate-limit",
			Group: Security, Level: Mandatory,
			Description: "Web ACLs rate-limit each client with a blocking rate-based rule.",
			Types:       []string{tWafAcl},
			Settings: []Setting{{
				Name: "maximumLimit", Description: "Highest requests per client per 5 minutes a rate rule may allow.", Default: 2000,
			}},
			Resource: func(c *ResourceCheck) {
				rules, ok := wafRules(c.Resource)
				if !ok {
					return
				}
				for _, r := range rules {
					if r.rateLimit > 0 && r.blocks && r.rateLimit <= float64(c.Settings.Int("maximumLimit")) {
						return
					}
				}
				c.Fail("rules have no blocking rateBasedStatement with a limit of at most %d requests per 5 minutes", c.Settings.Int("maximumLimit"))
			},
		},
		{
			Name:  "disallow-plaintext-credentials",
			Group: Security, Level: Mandatory,
			Description: "Passwords, auth tokens and secret strings are marked secret, so they are encrypted in state and never printed.",
			Types:       []string{tRdsInstance, tRdsCluster, tCacheGroup, tSecretVersion, tK8sSecret},
			Resource: func(c *ResourceCheck) {
				paths := map[string][]string{
					tRdsInstance:   {"password"},
					tRdsCluster:    {"masterPassword"},
					tCacheGroup:    {"authToken"},
					tSecretVersion: {"secretString", "secretBinary"},
					tK8sSecret:     {"data", "stringData"},
				}[c.Type]
				for _, p := range paths {
					v := c.Get(p)
					if v.Known() && !v.Secret() {
						c.Fail("%s is a plain value; wrap it with pulumi.ToSecret (or generate it as a secret) so it never lands in state or logs in clear text", p)
					}
				}
			},
		},
		{
			Name:  "disallow-node-group-remote-access",
			Group: Security, Level: Mandatory,
			Description: "EKS node groups open no SSH access; use SSM Session Manager.",
			Types:       []string{tEksNodeGroup},
			Resource: func(c *ResourceCheck) {
				if v := c.Get("remoteAccess"); v.Known() {
					c.Fail("remoteAccess is set, opening SSH to the nodes; remove it")
				}
			},
		},
		{
			Name:  "enable-eks-control-plane-logging",
			Group: Security, Level: Mandatory,
			Description: "EKS clusters send the control-plane log types needed for incident review to CloudWatch.",
			Types:       []string{tEksCluster},
			Settings: []Setting{{
				Name: "requiredLogTypes", Description: "Control-plane log types that must be enabled.",
				Default: []string{"api", "audit", "authenticator"},
			}},
			Resource: func(c *ResourceCheck) {
				v := c.Get("enabledClusterLogTypes")
				if v.Unknown() {
					return
				}
				have, _ := v.Strings()
				for _, t := range c.Settings.Strings("requiredLogTypes") {
					if !contains(have, t) {
						c.Fail("enabledClusterLogTypes lacks %q", t)
					}
				}
			},
		},
		{
			Name:  "disallow-default-security-group-rules",
			Group: Security, Level: Mandatory,
			Description: "A VPC's default security group is adopted with no rules, so nothing lands in an open group by accident.",
			Types:       []string{tDefaultSG},
			Resource: func(c *ResourceCheck) {
				for _, k := range []string{"ingress", "egress"} {
					if len(c.Get(k).Items()) > 0 {
						c.Fail("%s has rules; the default security group must stay empty", k)
					}
				}
			},
		},
		{
			Name:  "disallow-wildcard-iam-actions",
			Group: Security, Level: Mandatory,
			Description: "Identity policies grant no \"*\" or \"service:*\" action on all resources (least privilege).",
			Types:       []string{tIamPolicy, tIamRolePolicy, tIamUserPolicy, tIamGroupPolicy},
			Resource: func(c *ResourceCheck) {
				stmts, ok := policyDoc(c.Get("policy"))
				if !ok {
					return
				}
				for i, s := range stmts {
					if !s.allows() {
						continue
					}
					if s.NotAction {
						c.Fail("policy statement %d (%s) allows NotAction, which grants every other action; list the actions", i, s.Sid)
						continue
					}
					allResources := contains(s.Resources, "*")
					for _, a := range s.Actions {
						if a == "*" || (allResources && strings.HasSuffix(a, ":*")) {
							c.Fail("policy statement %d (%s) allows %q on %v; list the actions the workload needs", i, s.Sid, a, s.Resources)
						}
					}
				}
			},
		},
		{
			Name:  "disallow-admin-managed-policy",
			Group: Security, Level: Mandatory,
			Description: "No role, user or group is attached an administrator-level AWS managed policy.",
			Types:       []string{tIamRoleAttach, tIamUserAttach, tIamGroupAttach, tIamPolicyAttach, tIamRole},
			Settings: []Setting{{
				Name: "deniedPolicies", Description: "Managed policy names that may not be attached.",
				Default: []string{"AdministratorAccess", "PowerUserAccess", "IAMFullAccess"},
			}},
			Resource: func(c *ResourceCheck) {
				path := "policyArn"
				if c.Type == tIamRole {
					path = "managedPolicyArns"
				}
				arns, _ := c.Get(path).Strings()
				for _, arn := range arns {
					name := arn[strings.LastIndex(arn, "/")+1:]
					if strings.Contains(arn, ":iam::aws:policy/") && contains(c.Settings.Strings("deniedPolicies"), name) {
						c.Fail("%s attaches %s; grant what is needed instead", path, arn)
					}
				}
			},
		},
		{
			Name:  "enforce-alb-drop-invalid-headers",
			Group: Security, Level: Mandatory,
			Description: "Application load balancers drop requests with invalid HTTP header fields (request smuggling).",
			Types:       lbTypes,
			Resource: func(c *ResourceCheck) {
				if t, ok := c.Get("loadBalancerType").StrOr("application"); !ok || t != "application" {
					return
				}
				requireTrue(c, "dropInvalidHeaderFields", false, "set it to true so malformed headers never reach the services")
			},
		},
		{
			Name:  "enforce-postgres-verify-full",
			Group: Security, Level: Mandatory,
			Description: "Database URLs in runtime secrets verify the server (sslmode=verify-full with the RDS CA bundle). Checked wherever the secret's value is visible: under the engine and the in-process plan, not in a plan file, where it is redacted.",
			Types:       []string{tSecretVersion},
			Resource: func(c *ResourceCheck) {
				urls := databaseURLs(c.Get("secretString"))
				for _, key := range sortedKeys(urls) {
					u := urls[key]
					mode := u.Query().Get("sslmode")
					if mode != "verify-full" {
						if mode == "" {
							mode = "not set (libpq's default prefer)"
						}
						c.Fail("secretString %s: sslmode is %s; use verify-full with the RDS CA bundle so a forged server is refused", key, mode)
					}
				}
			},
		},
		{
			Name:  "disallow-master-user-in-runtime-secret",
			Group: Security, Level: Mandatory,
			Description: "Runtime secrets do not log in as a database's master user; each service has its own least-privileged role. A migration secret (named .../migrate or tagged purpose=migration, read by the migration job alone) is the one place for the schema owner's credentials. Checked wherever the secret's value is visible (not in a plan file).",
			Types:       []string{tSecretVersion, tSecret, tRdsInstance},
			Stack: func(c *StackCheck) {
				masters := map[string]string{} // identifier -> master user
				for _, db := range c.OfType(tRdsInstance) {
					id, ok1 := db.Get("identifier").Str()
					user, ok2 := db.Get("username").Str()
					if ok1 && ok2 {
						masters[id] = user
					}
				}
				for _, sv := range c.OfType(tSecretVersion) {
					if isMigrationSecret(c, sv) {
						continue
					}
					urls := databaseURLs(sv.Get("secretString"))
					for _, key := range sortedKeys(urls) {
						u := urls[key]
						id := strings.SplitN(u.Hostname(), ".", 2)[0]
						master, ok := masters[id]
						if ok && u.User != nil && u.User.Username() == master {
							c.Fail(sv, "secretString %s logs in to %s as its master user %q; give the service its own least-privileged role", key, id, master)
						}
					}
				}
			},
		},
		{
			Name:  "disallow-service-linked-role-principal",
			Group: Preflight, Level: Mandatory,
			Description: "Resource policies (KMS key policies first) name a service-linked role only when the stack creates that role and orders the policy after it: KMS, IAM, SQS, SNS and S3 reject a policy whose principal does not exist yet (MalformedPolicyDocumentException, invalid principal), and a role such as AWSServiceRoleForAutoScaling exists only after the account's first use of the service.",
			Types:       append(resourcePolicyTypes(), tServiceLinkedRole),
			Stack:       checkServiceLinkedPrincipals,
		},
		{
			Name:  "disallow-shared-kms-key-across-data-classes",
			Group: Security, Level: Mandatory,
			Description: "A KMS key protects one class of data (data stores, messaging, logs, cluster: Kubernetes secrets, node volumes and images), so a grant for one class opens no other.",
			Types:       []string{tRdsInstance, tRdsCluster, tCacheGroup, tSecret, tSqsQueue, tSnsTopic, tLogGroup, tEksCluster, tLaunchTemplate, tEbsVolume, tEcrRepo, tRdsBackupCopy},
			Stack:       checkKeyClasses,
		},
	}
}

// isMigrationSecret tells whether a secret version belongs to a migration
// secret: its secret (the one it depends on, else the one of the same
// logical name) is named .../migrate or tagged purpose=migration.
func isMigrationSecret(c *StackCheck, sv *Resource) bool {
	for _, s := range c.OfType(tSecret) {
		if !sv.DependsOn(s.URN) && s.Name != sv.Name {
			continue
		}
		name, _ := s.Get("name").Str()
		purpose, _ := s.Get("tags.purpose").Str()
		if strings.HasSuffix(name, "/migrate") || purpose == "migration" {
			return true
		}
	}
	return false
}

// checkServiceLinkedPrincipals: every service-linked role a key policy
// names is created by the stack, and the key depends on it when the
// dependencies are known.
func checkServiceLinkedPrincipals(c *StackCheck) {
	created := map[string]*Resource{} // service name -> role resource
	for _, r := range c.OfType(tServiceLinkedRole) {
		if svc, ok := r.Get("awsServiceName").Str(); ok {
			created[svc] = r
		}
	}
	for _, k := range c.OfType(resourcePolicyTypes()...) {
		stmts, ok := policyDoc(k.Get(resourcePolicyPath[k.Type]))
		if !ok {
			continue
		}
		for i, s := range stmts {
			for _, p := range s.Principals["AWS"] {
				_, rest, found := strings.Cut(p, ":role/aws-service-role/")
				if !found {
					continue
				}
				svc := strings.SplitN(rest, "/", 2)[0]
				role := created[svc]
				switch {
				case role == nil:
					c.Fail(k, "%s statement %d (%s) names the service-linked role %s, which exists only after the account first uses %s, and the stack does not create it; create it (aws.iam.ServiceLinkedRole, imported where it exists) and order this resource after it, or grant through a kms:ViaService condition instead", resourcePolicyPath[k.Type], i, s.Sid, p, svc)
				case k.DependenciesKnown && !c.WaitsFor(k, role):
					c.Fail(k, "%s statement %d (%s) names %s, but the resource does not depend on the stack's service-linked role %s; add it to dependsOn so the role exists first", resourcePolicyPath[k.Type], i, s.Sid, p, role.Name)
				}
			}
		}
	}
}

// keyClass is the data class a resource's KMS key protects.
var keyClass = map[string]string{
	tRdsInstance: "data stores", tRdsCluster: "data stores", tCacheGroup: "data stores", tSecret: "data stores", tRdsBackupCopy: "data stores",
	tSqsQueue: "messaging", tSnsTopic: "messaging",
	tLogGroup: "logs",
	// Images run only on the clusters: they share the cluster class, whose
	// key admits ECR through kms:ViaService.
	tEksCluster: "cluster", tLaunchTemplate: "cluster", tEbsVolume: "cluster", tEcrRepo: "cluster",
}

func keyRefs(r *Resource) []string {
	var out []string
	add := func(p string) {
		if s, ok := r.Get(p).Str(); ok && strings.HasPrefix(s, "arn:") {
			out = append(out, s)
		}
	}
	switch r.Type {
	case tRdsInstance:
		add("kmsKeyId")
		add("performanceInsightsKmsKeyId")
	case tSqsQueue, tSnsTopic:
		add("kmsMasterKeyId")
	case tEksCluster:
		add("encryptionConfig.provider.keyArn")
	case tLaunchTemplate:
		for i := range r.Get("blockDeviceMappings").Items() {
			add(fmt.Sprintf("blockDeviceMappings.%d.ebs.kmsKeyId", i))
		}
	case tEcrRepo:
		add("encryptionConfigurations.0.kmsKey")
	default:
		add("kmsKeyId")
	}
	return out
}

func checkKeyClasses(c *StackCheck) {
	type use struct {
		classes map[string]bool
		first   map[string]*Resource
	}
	uses := map[string]*use{}
	var order []string
	for _, r := range c.Stack.Resources {
		class, ok := keyClass[r.Type]
		if !ok {
			continue
		}
		for _, k := range keyRefs(r) {
			u := uses[k]
			if u == nil {
				u = &use{classes: map[string]bool{}, first: map[string]*Resource{}}
				uses[k] = u
				order = append(order, k)
			}
			// The first by name, so the report is the same whatever the
			// order resources were registered in.
			if !u.classes[class] || r.Name < u.first[class].Name {
				u.classes[class] = true
				u.first[class] = r
			}
		}
	}
	for _, k := range order {
		u := uses[k]
		if len(u.classes) < 2 {
			continue
		}
		var classes []string
		for cl := range u.classes {
			classes = append(classes, cl)
		}
		classes = sortedStrings(classes)
		// Reported once per key, on the first resource of the second class.
		c.Fail(u.first[classes[1]], "KMS key %s encrypts %s; use one key per data class, with kms:ViaService conditions", k, strings.Join(classes, ", "))
	}
}

// cidrIn tells whether a CIDR lies within another (both IPv4 or IPv6).
func cidrIn(inner, outer string) (bool, bool) {
	_, in, err1 := net.ParseCIDR(inner)
	_, out, err2 := net.ParseCIDR(outer)
	if err1 != nil || err2 != nil {
		return false, false
	}
	inOnes, inBits := in.Mask.Size()
	outOnes, outBits := out.Mask.Size()
	if inBits != outBits {
		return false, true
	}
	return outOnes <= inOnes && out.Contains(in.IP), true
}
