package rules

import (
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strings"
)

var cloudFrontFunctionName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// walkStrings calls fn for every known string input, with its dotted path.
func walkStrings(v Value, path string, fn func(path, s string)) {
	if s, ok := v.Str(); ok {
		fn(path, s)
		return
	}
	sep := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	if v.IsArray() {
		for i, it := range v.Items() {
			walkStrings(it, sep(fmt.Sprint(i)), fn)
		}
		return
	}
	if v.IsObject() {
		keys := v.Keys()
		sort.Strings(keys)
		for _, k := range keys {
			if strings.HasPrefix(k, "__") {
				continue
			}
			walkStrings(v.Field(k), sep(k), fn)
		}
	}
}

// crossRegionKeyTypes may name KMS keys of other regions by design.
var crossRegionKeyTypes = map[string]bool{
	"aws:kms/replicaKey:ReplicaKey":                          true,
	"aws:kms/replicaExternalKey:ReplicaExternalKey":          true,
	"aws:s3/bucketReplicationConfig:BucketReplicationConfig": true, // destination keys
	"aws:dynamodb/globalTable:GlobalTable":                   true,
}

// parentPath drops the last segment of a dotted path.
func parentPath(path string) string {
	if i := strings.LastIndex(path, "."); i >= 0 {
		return path[:i]
	}
	return ""
}

var (
	regionRE = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$`)
	// A zone is its region plus a letter, or a Local Zone (-bos-1a).
	zoneSuffixRE = regexp.MustCompile(`^([a-z]|-[a-z]+-[0-9]+[a-z])$`)
	accountRE    = regexp.MustCompile(`^[0-9]{12}$`)
)

// originGroupIDs returns the origin ids that are origin groups.
func originGroupIDs(r *Resource) map[string]bool {
	out := map[string]bool{}
	for _, g := range r.Get("originGroups").Items() {
		if id, ok := g.Field("originId").Str(); ok {
			out[id] = true
		}
	}
	return out
}

var readMethods = map[string]bool{"GET": true, "HEAD": true, "OPTIONS": true}

// piRetention tells whether RDS accepts a Performance Insights retention.
func piRetention(days float64) bool {
	d := int(days)
	if float64(d) != days {
		return false
	}
	return d == 7 || d == 731 || (d%31 == 0 && d >= 31 && d <= 713)
}

// logRetentions are the retentionInDays values CloudWatch Logs accepts.
var logRetentions = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

var lbNameRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$`)

// nameRule is one AWS naming constraint.
type nameRule struct {
	path    string
	max     int
	re      *regexp.Regexp
	allowed string
}

var (
	dbIdentRE   = regexp.MustCompile(`^[A-Za-z](?:[A-Za-z0-9]|-[A-Za-z0-9])*$`)
	eksNameRE   = regexp.MustCompile(`^[0-9A-Za-z][A-Za-z0-9_-]*$`)
	iamNameRE   = regexp.MustCompile(`^[\w+=,.@-]+$`)
	queueNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.fifo)?$`)
	logGroupRE  = regexp.MustCompile(`^[.\-_/#A-Za-z0-9]+$`)
	secretRE    = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]+$`)
	aliasRE     = regexp.MustCompile(`^alias/[A-Za-z0-9:/_-]+$`)
	ecrRepoRE   = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)
	ltNameRE    = regexp.MustCompile(`^[A-Za-z0-9().\-/_]+$`)
	wafNameRE   = regexp.MustCompile(`^[\w-]+$`)
	lowerDashRE = regexp.MustCompile(`^[a-z0-9-]+$`)
	subnetGrpRE = regexp.MustCompile(`^[a-z0-9._ -]+$`)
	bucketRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*[a-z0-9]$`)
)

var nameRules = map[string][]nameRule{
	tRdsInstance:                      {{"identifier", 63, dbIdentRE, "letters, digits and single hyphens, starting with a letter"}},
	tRdsCluster:                       {{"clusterIdentifier", 63, dbIdentRE, "letters, digits and single hyphens, starting with a letter"}},
	tRdsParamGroup:                    {{"name", 255, dbIdentRE, "letters, digits and single hyphens, starting with a letter"}},
	"aws:rds/subnetGroup:SubnetGroup": {{"name", 255, subnetGrpRE, "lowercase letters, digits, periods, underscores, spaces and hyphens"}},
	tCacheGroup:                       {{"replicationGroupId", 40, dbIdentRE, "letters, digits and single hyphens, starting with a letter"}},
	"aws:elasticache/subnetGroup:SubnetGroup": {{"name", 255, lowerDashRE, "lowercase letters, digits and hyphens"}},
	tSqsQueue:                  {{"name", 80, queueNameRE, "letters, digits, hyphens and underscores (plus .fifo)"}},
	tSnsTopic:                  {{"name", 256, queueNameRE, "letters, digits, hyphens and underscores (plus .fifo)"}},
	tEksCluster:                {{"name", 100, eksNameRE, "letters, digits, hyphens and underscores, starting with a letter or digit"}},
	tEksNodeGroup:              {{"nodeGroupName", 63, eksNameRE, "letters, digits, hyphens and underscores, starting with a letter or digit"}},
	tIamRole:                   {{"name", 64, iamNameRE, "letters, digits and +=,.@_-"}, {"namePrefix", 38, iamNameRE, "letters, digits and +=,.@_-"}},
	tIamPolicy:                 {{"name", 128, iamNameRE, "letters, digits and +=,.@_-"}},
	tLogGroup:                  {{"name", 512, logGroupRE, "letters, digits and ._-/#"}},
	tSecret:                    {{"name", 512, secretRE, "letters, digits and /_+=.@-"}},
	"aws:kms/alias:Alias":      {{"name", 256, aliasRE, "alias/ then letters, digits and :/_-"}},
	tEcrRepo:                   {{"name", 256, ecrRepoRE, "lowercase path components of letters and digits separated by . _ - or /"}},
	tLaunchTemplate:            {{"name", 128, ltNameRE, "letters, digits and ().-/_"}},
	tWafAcl:                    {{"name", 128, wafNameRE, "letters, digits, hyphens and underscores"}},
	"aws:s3/bucket:Bucket":     {{"bucket", 63, bucketRE, "lowercase letters, digits, dots and hyphens"}},
	"aws:s3/bucketV2:BucketV2": {{"bucket", 63, bucketRE, "lowercase letters, digits, dots and hyphens"}},
}

func nameRuleTypes() []string {
	var out []string
	for t := range nameRules {
		out = append(out, t)
	}
	return sortedStrings(out)
}

// documentationRanges are reserved for examples (RFC 5737, RFC 3849): no
// real client ever comes from them.
var documentationRanges = []string{"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"}

func inDocumentationRange(s string) (string, bool) {
	var ip net.IP
	if strings.Contains(s, "/") {
		i, _, err := net.ParseCIDR(s)
		if err != nil {
			return "", false
		}
		ip = i
	} else {
		ip = net.ParseIP(s)
	}
	if ip == nil {
		return "", false
	}
	for _, r := range documentationRanges {
		_, n, _ := net.ParseCIDR(r)
		if n.Contains(ip) {
			return r, true
		}
	}
	return "", false
}

// forwardActions returns the forward target groups of a listener's or
// rule's actions, with their paths.
func forwardActions(r *Resource) map[string][]Value {
	key := "defaultActions"
	if r.Type == tLbListenerRule || r.Type == tAlbListenerRule {
		key = "actions"
	}
	out := map[string][]Value{}
	for i, a := range r.Get(key).Items() {
		tgs := a.Field("forward").Field("targetGroups")
		if tgs.IsArray() {
			out[fmt.Sprintf("%s.%d.forward.targetGroups", key, i)] = tgs.Items()
		}
	}
	return out
}

func preflightPolicies() []*Policy {
	return []*Policy{
		{
			Name:  "enforce-kms-key-same-region",
			Group: Preflight, Level: Mandatory,
			Description: "Every KMS key ARN a resource names is in the resource's own region: AWS rejects a key of another region (cross-region replicas and backup copies take their destination region's key).",
			Resource: func(c *ResourceCheck) {
				if c.Region == "" || crossRegionKeyTypes[c.Type] || strings.HasPrefix(c.Type, "pulumi:providers:") {
					return
				}
				walkStrings(c.Get(""), "", func(path, s string) {
					m := arnKeyRE.FindStringSubmatch(s)
					if m == nil || strings.ContainsAny(s, " {\"") {
						return
					}
					// A block that names its own region (a secret's or a
					// table's replica) takes that region's key.
					want, where := c.Region, "the resource is in"
					for _, k := range []string{"region", "regionName"} {
						if r, ok := c.Get(strings.TrimPrefix(parentPath(path)+"."+k, ".")).Str(); ok && r != "" && parentPath(path) != "" {
							want, where = r, "its block names region"
						}
					}
					if m[1] != want {
						c.Fail("%s names a KMS key in %s, but %s %s; use the key of that region", path, m[1], where, want)
					}
				})
			},
		},
		{
			Name:  "enforce-cloudfront-certificate-us-east-1",
			Group: Preflight, Level: Mandatory,
			Description: "CloudFront's ACM certificate is issued in us-east-1, the only region CloudFront reads certificates from.",
			Types:       []string{tCloudFront},
			Resource: func(c *ResourceCheck) {
				arn, ok := c.Get("viewerCertificate.acmCertificateArn").Str()
				if ok && arn != "" && !strings.HasPrefix(arn, "arn:aws:acm:us-east-1:") {
					c.Fail("viewerCertificate.acmCertificateArn %s is not in us-east-1; request the certificate there", arn)
				}
			},
		},
		{
			Name:  "enforce-cloudfront-function-limits",
			Group: Preflight, Level: Mandatory,
			Description: "A CloudFront Function's code is at most 10 KB, its runtime cloudfront-js-1.0 or 2.0 (2.0 when it imports the cloudfront module, whose origin helpers need it), and its name 1-64 letters, digits, hyphens or underscores.",
			Types:       []string{tCloudFrontFunction},
			Resource: func(c *ResourceCheck) {
				runtime, known := c.Get("runtime").Str()
				if known && runtime != "cloudfront-js-1.0" && runtime != "cloudfront-js-2.0" {
					c.Fail("runtime %q is not cloudfront-js-1.0 or cloudfront-js-2.0", runtime)
				}
				if code, ok := c.Get("code").Str(); ok {
					if len(code) > 10*1024 {
						c.Fail("code is %d bytes; CloudFront Functions allow 10240", len(code))
					}
					if known && strings.Contains(code, "from 'cloudfront'") && runtime != "cloudfront-js-2.0" {
						c.Fail("code imports the cloudfront module, which needs runtime cloudfront-js-2.0 (runtime is %q)", runtime)
					}
				}
				if name, ok := c.Get("name").Str(); ok && !cloudFrontFunctionName.MatchString(name) {
					c.Fail("name %q: CloudFront accepts 1-64 letters, digits, hyphens and underscores", name)
				}
			},
		},
		{
			Name:  "enforce-cloudfront-waf-scope",
			Group: Preflight, Level: Mandatory,
			Description: "CloudFront uses a CLOUDFRONT-scope web ACL, which exists only in us-east-1.",
			Types:       []string{tCloudFront, tWafAcl},
			Resource: func(c *ResourceCheck) {
				switch c.Type {
				case tCloudFront:
					id, ok := c.Get("webAclId").Str()
					if ok && strings.HasPrefix(id, "arn:") && (!strings.Contains(id, ":wafv2:us-east-1:") || !strings.Contains(id, ":global/webacl/")) {
						c.Fail("webAclId %s is not a CLOUDFRONT-scope (global, us-east-1) web ACL", id)
					}
				case tWafAcl:
					scope, _ := c.Get("scope").Str()
					if scope == "CLOUDFRONT" && c.Region != "" && c.Region != "us-east-1" {
						c.Fail("scope is CLOUDFRONT but the web ACL is created in %s; create it with a us-east-1 provider", c.Region)
					}
				}
			},
		},
		{
			Name:  "disallow-write-methods-on-origin-group-behaviors",
			Group: Preflight, Level: Mandatory,
			Description: "Cache behaviours that target an origin group allow only GET, HEAD and OPTIONS: CloudFront rejects write methods on origin failover.",
			Types:       []string{tCloudFront},
			Resource: func(c *ResourceCheck) {
				groups := originGroupIDs(c.Resource)
				check := func(path string) {
					target, _ := c.Get(path + ".targetOriginId").Str()
					if !groups[target] {
						return
					}
					methods, _ := c.Get(path + ".allowedMethods").Strings()
					for _, m := range methods {
						if !readMethods[strings.ToUpper(m)] {
							c.Fail("%s targets origin group %s but allowedMethods includes %s; route writes to a single origin", path, target, m)
							return
						}
					}
				}
				check("defaultCacheBehavior")
				for i := range c.Get("orderedCacheBehaviors").Items() {
					check(fmt.Sprintf("orderedCacheBehaviors.%d", i))
				}
			},
		},
		{
			Name:  "enforce-waf-log-destination-name",
			Group: Preflight, Level: Mandatory,
			Description: "WAF logs go to a log group, bucket or stream whose name starts with aws-waf-logs-, the only names WAF delivers to.",
			Types:       []string{tWafLogging},
			Resource: func(c *ResourceCheck) {
				dests, _ := c.Get("logDestinationConfigs").Strings()
				for i, d := range dests {
					name := d
					switch {
					case strings.Contains(d, ":log-group:"):
						name = strings.TrimSuffix(d[strings.Index(d, ":log-group:")+len(":log-group:"):], ":*")
					case strings.HasPrefix(d, "arn:aws:s3:::"):
						name = strings.TrimPrefix(d, "arn:aws:s3:::")
					case strings.Contains(d, ":deliverystream/"):
						name = d[strings.Index(d, ":deliverystream/")+len(":deliverystream/"):]
					}
					if !strings.HasPrefix(name, "aws-waf-logs-") {
						c.Fail("logDestinationConfigs.%d names %q, which does not start with aws-waf-logs-", i, name)
					}
				}
			},
		},
		{
			Name:  "enforce-elasticache-auth-token-transit-encryption",
			Group: Preflight, Level: Mandatory,
			Description: "An ElastiCache auth token is set only with transit encryption on (AWS rejects it otherwise).",
			Types:       []string{tCacheGroup},
			Resource: func(c *ResourceCheck) {
				if c.Get("authToken").Missing() {
					return
				}
				engine, _ := c.Get("engine").StrOr("redis")
				if on, ok := c.Get("transitEncryptionEnabled").BoolOr(engine == "valkey"); ok && !on {
					c.Fail("authToken is set but transitEncryptionEnabled is not true")
				}
			},
		},
		{
			Name:  "enforce-elasticache-multi-az-failover",
			Group: Preflight, Level: Mandatory,
			Description: "ElastiCache Multi-AZ is enabled only together with automatic failover (AWS rejects it otherwise).",
			Types:       []string{tCacheGroup},
			Resource: func(c *ResourceCheck) {
				multi, ok1 := c.Get("multiAzEnabled").BoolOr(false)
				fail, ok2 := c.Get("automaticFailoverEnabled").BoolOr(false)
				if ok1 && ok2 && multi && !fail {
					c.Fail("multiAzEnabled is true but automaticFailoverEnabled is not")
				}
			},
		},
		{
			Name:  "enforce-elasticache-failover-node-count",
			Group: Preflight, Level: Mandatory,
			Description: "ElastiCache automatic failover has at least two nodes to fail over between (AWS rejects it otherwise).",
			Types:       []string{tCacheGroup},
			Resource: func(c *ResourceCheck) {
				fail, ok := c.Get("automaticFailoverEnabled").BoolOr(false)
				nodes, ok2 := cacheNodes(c.Resource)
				if ok && ok2 && fail && nodes < 2 {
					c.Fail("automaticFailoverEnabled is true with %v node(s) (numCacheClusters); use at least 2", nodes)
				}
			},
		},
		{
			Name:  "disallow-password-on-rds-replica",
			Group: Preflight, Level: Mandatory,
			Description: "Read replicas set no master credentials of their own: a replica takes its primary's, and RDS rejects them.",
			Types:       []string{tRdsInstance},
			Resource: func(c *ResourceCheck) {
				if !isReplica(c.Resource) {
					return
				}
				for _, k := range []string{"password", "username", "manageMasterUserPassword"} {
					if !c.Get(k).Missing() {
						c.Fail("%s is set on a read replica (replicateSourceDb); remove it", k)
					}
				}
			},
		},
		{
			Name:  "enforce-rds-final-snapshot-identifier",
			Group: Preflight, Level: Mandatory,
			Description: "A database that takes a final snapshot names a valid finalSnapshotIdentifier, and a replica skips it (RDS rejects a final snapshot of a replica), or its deletion fails.",
			Types:       []string{tRdsInstance},
			Resource: func(c *ResourceCheck) {
				skip, ok := c.Get("skipFinalSnapshot").BoolOr(false)
				if !ok || skip {
					return
				}
				if isReplica(c.Resource) {
					c.Fail("skipFinalSnapshot is false on a read replica; RDS takes no final snapshot of a replica, so set it to true")
					return
				}
				v := c.Get("finalSnapshotIdentifier")
				if v.Unknown() {
					return
				}
				id, _ := v.Str()
				switch {
				case id == "":
					c.Fail("skipFinalSnapshot is false (the default) but finalSnapshotIdentifier is not set; the delete would fail")
				case len(id) > 255 || !dbIdentRE.MatchString(id):
					c.Fail("finalSnapshotIdentifier %q must be 1-255 letters, digits and single hyphens, starting with a letter and not ending with a hyphen", id)
				}
			},
		},
		{
			Name:  "enforce-rds-storage-limits",
			Group: Preflight, Level: Mandatory,
			Description: "RDS storage is within what RDS accepts: allocated storage 20-65536 GiB for gp2/gp3, and maxAllocatedStorage above allocatedStorage when set.",
			Types:       []string{tRdsInstance},
			Resource: func(c *ResourceCheck) {
				alloc, ok := c.Get("allocatedStorage").Num()
				if !ok {
					return
				}
				st, _ := c.Get("storageType").StrOr("gp2")
				if (st == "gp2" || st == "gp3") && !isReplica(c.Resource) && (alloc < 20 || alloc > 65536) {
					c.Fail("allocatedStorage %v is outside 20-65536 GiB for %s", alloc, st)
				}
				if max, ok := c.Get("maxAllocatedStorage").Num(); ok && max != 0 && max <= alloc {
					c.Fail("maxAllocatedStorage %v must be greater than allocatedStorage %v (or 0 to turn autoscaling off)", max, alloc)
				}
			},
		},
		{
			Name:  "enforce-performance-insights-retention-values",
			Group: Preflight, Level: Mandatory,
			Description: "Performance Insights retention is one RDS accepts: 7, a multiple of 31 up to 713, or 731 days.",
			Types:       []string{tRdsInstance, tRdsCluster},
			Resource: func(c *ResourceCheck) {
				d, ok := c.Get("performanceInsightsRetentionPeriod").Num()
				if ok && !piRetention(d) {
					c.Fail("performanceInsightsRetentionPeriod is %v; use 7, a multiple of 31 (31-713) or 731", d)
				}
			},
		},
		{
			Name:  "enforce-log-retention-values",
			Group: Preflight, Level: Mandatory,
			Description: "Log group retention is a value CloudWatch Logs accepts.",
			Types:       []string{tLogGroup},
			Resource: func(c *ResourceCheck) {
				d, ok := c.Get("retentionInDays").Num()
				if !ok || d == 0 {
					return
				}
				for _, v := range logRetentions {
					if float64(v) == d {
						return
					}
				}
				c.Fail("retentionInDays is %v; CloudWatch accepts only %v", d, logRetentions)
			},
		},
		{
			Name:  "enforce-sqs-limits",
			Group: Preflight, Level: Mandatory,
			Description: "SQS queue attributes are within SQS's limits (visibility up to 12 h, retention 60 s to 14 days, delay up to 15 min, message size 1-256 KiB, long polling up to 20 s) and a FIFO queue's name ends in .fifo.",
			Types:       []string{tSqsQueue},
			Resource: func(c *ResourceCheck) {
				limits := []struct {
					path     string
					min, max float64
				}{
					{"visibilityTimeoutSeconds", 0, 43200},
					{"messageRetentionSeconds", 60, 1209600},
					{"delaySeconds", 0, 900},
					{"maxMessageSize", 1024, 262144},
					{"receiveWaitTimeSeconds", 0, 20},
					{"kmsDataKeyReusePeriodSeconds", 60, 86400},
				}
				for _, l := range limits {
					if v, ok := c.Get(l.path).Num(); ok && (v < l.min || v > l.max) {
						c.Fail("%s is %v; SQS accepts %v to %v", l.path, v, l.min, l.max)
					}
				}
				fifo, _ := c.Get("fifoQueue").BoolOr(false)
				if name, ok := c.Get("name").Str(); ok && strings.HasSuffix(name, ".fifo") != fifo {
					c.Fail("name %q and fifoQueue %v disagree: a FIFO queue's name ends in .fifo and only a FIFO queue's does", name, fifo)
				}
			},
		},
		{
			Name:  "enforce-dlq-same-region-and-type",
			Group: Preflight, Level: Mandatory,
			Description: "A queue's dead-letter queue is in the same region and of the same type (FIFO or standard), and maxReceiveCount is 1-1000, as SQS requires.",
			Types:       []string{tSqsQueue},
			Resource: func(c *ResourceCheck) {
				rd, present, ok := redriveOf(c.Resource)
				if !present || !ok {
					return
				}
				parts := strings.Split(rd.Target, ":")
				if len(parts) == 6 && c.Region != "" && parts[3] != c.Region {
					c.Fail("redrivePolicy.deadLetterTargetArn is in %s but the queue is in %s", parts[3], c.Region)
				}
				fifo, _ := c.Get("fifoQueue").BoolOr(false)
				if rd.Target != "" && strings.HasSuffix(rd.Target, ".fifo") != fifo {
					c.Fail("redrivePolicy.deadLetterTargetArn %s is not of the queue's type (FIFO %v)", rd.Target, fifo)
				}
				if rd.MaxCount < 1 || rd.MaxCount > 1000 {
					c.Fail("redrivePolicy.maxReceiveCount is %v; SQS accepts 1 to 1000", rd.MaxCount)
				}
			},
		},
		{
			Name:  "enforce-load-balancer-names",
			Group: Preflight, Level: Mandatory,
			Description: "Load balancer and target group names are at most 32 letters, digits and hyphens, not starting or ending with a hyphen (name prefixes at most 6), and a load balancer's does not start with internal-.",
			Types:       join(lbTypes, targetGroupTypes),
			Resource: func(c *ResourceCheck) {
				if n, ok := c.Get("name").Str(); ok {
					if len(n) > 32 || !lbNameRE.MatchString(n) {
						c.Fail("name %q must be 1-32 letters, digits and hyphens, not starting or ending with a hyphen", n)
					}
					if (c.Type == tLb || c.Type == tAlb) && strings.HasPrefix(n, "internal-") {
						c.Fail("name %q must not start with internal-", n)
					}
				}
				if p, ok := c.Get("namePrefix").Str(); ok && len(p) > 6 {
					c.Fail("namePrefix %q is longer than 6 characters", p)
				}
			},
		},
		{
			Name:  "enforce-alb-subnet-count",
			Group: Preflight, Level: Mandatory,
			Description: "Application load balancers are given subnets in at least two zones (ELB rejects fewer); two subnets are the least the inputs can show.",
			Types:       lbTypes,
			Resource: func(c *ResourceCheck) {
				if t, ok := c.Get("loadBalancerType").StrOr("application"); !ok || t != "application" {
					return
				}
				subnets, mappings := c.Get("subnets"), c.Get("subnetMappings")
				if subnets.Unknown() || mappings.Unknown() {
					return
				}
				if n := len(subnets.Items()) + len(mappings.Items()); n < 2 {
					c.Fail("subnets lists %d subnet(s); an application load balancer needs subnets in at least 2 zones", n)
				}
			},
		},
		{
			Name:  "enforce-weighted-target-group-limits",
			Group: Preflight, Level: Mandatory,
			Description: "A forward action weighs at most 5 target groups, each with a weight of 0-999.",
			Types:       join(listenerTypes, listenerRuleType),
			Resource: func(c *ResourceCheck) {
				fa := forwardActions(c.Resource)
				for _, path := range sortedKeys(fa) {
					tgs := fa[path]
					if len(tgs) > 5 {
						c.Fail("%s has %d target groups; at most 5", path, len(tgs))
					}
					for i, tg := range tgs {
						if w, ok := tg.Field("weight").Num(); ok && (w < 0 || w > 999) {
							c.Fail("%s.%d.weight is %v; use 0 to 999", path, i, w)
						}
					}
				}
			},
		},
		{
			Name:  "enforce-listener-rule-limits",
			Group: Preflight, Level: Mandatory,
			Description: "Listener rules are ones ELB accepts: priority 1-50000, at most 5 condition values in all (path patterns, header values, ...), path patterns and header values at most 128 characters, header names at most 40.",
			Types:       listenerRuleType,
			Resource:    checkListenerRule,
		},
		{
			Name:  "disallow-duplicate-listener-rule-priorities",
			Group: Preflight, Level: Mandatory,
			Description: "The rules of one listener have distinct priorities: ELB rejects a second rule at a priority already taken (PriorityInUse).",
			Types:       join(listenerTypes, listenerRuleType),
			Stack:       checkRulePriorities,
		},
		{
			Name:  "enforce-alb-access-log-bucket",
			Group: Preflight, Level: Mandatory,
			Description: "A load balancer's access-log bucket is in its region, encrypted with S3-managed keys (ELB cannot deliver to an SSE-KMS bucket), and has a bucket policy the load balancer waits for (ELB checks it can write when logging is enabled, and refuses with Access Denied).",
			Types:       join(lbTypes, []string{tS3Bucket, tS3BucketV2, tS3SSE, tS3SSEV2, tS3BucketPolicy}),
			Stack:       checkAccessLogBuckets,
		},
		{
			Name:  "enforce-route53-set-identifier",
			Group: Preflight, Level: Mandatory,
			Description: "A Route 53 record has a setIdentifier exactly when it has a routing policy.",
			Types:       []string{tRoute53Record},
			Resource: func(c *ResourceCheck) {
				policy, ok := routingPolicyOf(c.Resource)
				if !ok || c.Get("setIdentifier").Unknown() {
					return
				}
				id, _ := c.Get("setIdentifier").Str()
				switch {
				case policy != "" && id == "":
					c.Fail("%s is set but setIdentifier is not", policy)
				case policy == "" && id != "":
					c.Fail("setIdentifier %q is set without a routing policy", id)
				}
			},
		},
		{
			Name:  "disallow-ttl-on-alias-records",
			Group: Preflight, Level: Mandatory,
			Description: "Alias records carry no TTL or records; other records carry both.",
			Types:       []string{tRoute53Record},
			Resource: func(c *ResourceCheck) {
				alias := len(c.Get("aliases").Items()) > 0
				if c.Get("aliases").Unknown() {
					return
				}
				if alias {
					if !c.Get("ttl").Missing() {
						c.Fail("ttl is set on an alias record; Route 53 uses the target's")
					}
					if len(c.Get("records").Items()) > 0 {
						c.Fail("records are set on an alias record")
					}
					return
				}
				if c.Get("ttl").Missing() {
					c.Fail("ttl is not set on a non-alias record")
				}
				if c.Get("records").Missing() {
					c.Fail("records are not set on a non-alias record")
				}
			},
		},
		{
			Name:  "enforce-subnet-zone-in-region",
			Group: Preflight, Level: Mandatory,
			Description: "A subnet's availability zone belongs to the region it is created in.",
			Types:       []string{tSubnet},
			Resource: func(c *ResourceCheck) {
				az, ok := c.Get("availabilityZone").Str()
				if !ok || c.Region == "" {
					return
				}
				rest := strings.TrimPrefix(az, c.Region)
				if rest == az || !zoneSuffixRE.MatchString(rest) {
					c.Fail("availabilityZone %s is not a zone of %s", az, c.Region)
				}
			},
		},
		{
			Name:  "enforce-subnet-cidr-within-vpc",
			Group: Preflight, Level: Mandatory,
			Description: "Subnets lie inside their VPC's CIDR and do not overlap each other.",
			Types:       []string{tSubnet, tVpc},
			Stack:       checkSubnets,
		},
		{
			Name:  "enforce-aws-name-constraints",
			Group: Preflight, Level: Mandatory,
			Description: "Names and identifiers are within the lengths and character sets AWS accepts (RDS, ElastiCache, SQS, SNS, EKS, IAM, log groups, secrets, KMS aliases, ECR, launch templates, WAF, S3, Firehose streams (64 of letters, digits, _.-), CloudWatch Logs destinations and subscription filters (512, no ':' or '*')).",
			Types:       nameRuleTypes(),
			Resource: func(c *ResourceCheck) {
				for _, nr := range nameRules[c.Type] {
					s, ok := c.Get(nr.path).Str()
					if !ok {
						continue
					}
					if len(s) > nr.max || !nr.re.MatchString(s) {
						c.Fail("%s %q must be at most %d characters of %s", nr.path, s, nr.max, nr.allowed)
					}
				}
				if c.Type == "aws:kms/alias:Alias" {
					if s, ok := c.Get("name").Str(); ok && strings.HasPrefix(s, "alias/aws/") {
						c.Fail("name %q uses the reserved alias/aws/ prefix", s)
					}
				}
			},
		},
		{
			Name:  "disallow-cluster-creator-admin-with-access-entries",
			Group: Preflight, Level: Mandatory,
			Description: "A cluster that bootstraps its creator as admin creates no STANDARD access entry for a principal from outside the stack: if that principal runs `pulumi up`, EKS already made its entry and the create fails (ResourceInUseException). Decide the access model before the first deploy (changing the flag replaces the cluster).",
			Types:       []string{tEksCluster, tEksAccessEntry},
			Stack:       checkCreatorAdmin,
		},
		{
			Name:  "disallow-duplicate-access-entries",
			Group: Preflight, Level: Mandatory,
			Description: "A cluster has at most one access entry per principal: EKS rejects the second (ResourceInUseException).",
			Types:       []string{tEksCluster, tEksAccessEntry},
			Stack: func(c *StackCheck) {
				for _, cl := range c.OfType(tEksCluster) {
					seen := map[string]*Resource{}
					for _, e := range c.OfType(tEksAccessEntry) {
						p, ok := e.Get("principalArn").Str()
						if !ok || !sameCluster(e, cl) {
							continue
						}
						if first := seen[p]; first != nil {
							c.Fail(e, "principalArn %s already has access entry %s on cluster %s; give each principal one entry with all its policies", p, first.Name, cl.Name)
							continue
						}
						seen[p] = e
					}
				}
			},
		},
		{
			Name:  "missing-log-delivery-resource-policy",
			Group: Preflight, Level: Mandatory,
			Description: "Vended logs delivered to CloudWatch Logs (ElastiCache, WAF) have a log resource policy in their region admitting delivery.logs.amazonaws.com to the log group, and the cache waits for it; AWS creates one implicitly only when the deployer may call logs:PutResourcePolicy.",
			Types:       []string{tCacheGroup, tWafLogging, tLogResourcePolicy},
			Stack:       checkLogDelivery,
		},
		{
			Name:  "enforce-cloudwatch-alarm-limits",
			Group: Preflight, Level: Mandatory,
			Description: "CloudWatch alarms are within what CloudWatch accepts: names of 1-255 characters, at most 30 dimensions, at most 5 actions per state, a composite rule of at most 10240 characters.",
			Types:       []string{tMetricAlarm, tCompositeAlarm},
			Resource:    checkAlarmLimits,
		},
		{
			Name:  "enforce-cloudwatch-dashboard-limits",
			Group: Preflight, Level: Mandatory,
			Description: "CloudWatch dashboards are ones PutDashboard accepts: a name of 1-255 of A-Z a-z 0-9 - _, a body that is JSON with at most 500 widgets and 2500 metrics, at most 500 metrics per widget, at most 100 alarms per alarm widget, every widget within the 24-column grid.",
			Types:       []string{tDashboard},
			Resource:    checkDashboardLimits,
		},
		{
			Name:  "missing-kms-key-grant-for-alarm-topic",
			Group: Preflight, Level: Mandatory,
			Description: "An alarm that notifies a KMS-encrypted SNS topic can use the topic's key: the key policy admits cloudwatch.amazonaws.com to kms:GenerateDataKey* and kms:Decrypt; otherwise every notification is dropped silently.",
			Types:       []string{tMetricAlarm, tCompositeAlarm, tSnsTopic, tKmsKey},
			Stack:       checkAlarmTopicKeys,
		},
		{
			Name:  "missing-kms-key-grant-for-service",
			Group: Preflight, Level: Mandatory,
			Description: "A customer-managed key admits the services that encrypt with it on the stack's behalf: CloudWatch Logs for log groups, SNS for queues subscribed to topics; otherwise creating the log group or delivering the message fails.",
			Types:       []string{tKmsKey, tLogGroup, tSqsQueue, tSnsSubscription},
			Stack:       checkKeyGrants,
		},
		{
			Name:  "enforce-node-groups-after-network-addons",
			Group: Preflight, Level: Mandatory,
			Description: "When a cluster does not bootstrap its self-managed add-ons, its node groups depend on the vpc-cni and kube-proxy add-ons, or nodes start without a network plugin (NodeCreationFailure).",
			Types:       []string{tEksCluster, tEksNodeGroup, tEksAddon},
			Stack:       checkNodeGroupOrder,
		},
		{
			Name:  "enforce-ecr-replication-destinations",
			Group: Preflight, Level: Mandatory,
			Description: "ECR replication rules are ones ECR accepts: at most 10 rules and 25 destinations, each a region name and a 12-digit registry, prefix filters only.",
			Types:       []string{tEcrReplication},
			Resource: func(c *ResourceCheck) {
				rules := c.Get("replicationConfiguration.rules").Items()
				if len(rules) > 10 {
					c.Fail("replicationConfiguration.rules has %d rules; at most 10", len(rules))
				}
				total := 0
				for i, r := range rules {
					for j, d := range r.Field("destinations").Items() {
						total++
						p := fmt.Sprintf("replicationConfiguration.rules.%d.destinations.%d", i, j)
						if reg, ok := d.Field("region").Str(); ok && !regionRE.MatchString(reg) {
							c.Fail("%s.region %q is not a region name", p, reg)
						}
						if id, ok := d.Field("registryId").Str(); ok && !accountRE.MatchString(id) {
							c.Fail("%s.registryId %q is not a 12-digit account", p, id)
						}
					}
					for j, f := range r.Field("repositoryFilters").Items() {
						if t, ok := f.Field("filterType").Str(); ok && t != "PREFIX_MATCH" {
							c.Fail("replicationConfiguration.rules.%d.repositoryFilters.%d.filterType is %q; ECR accepts PREFIX_MATCH", i, j, t)
						}
					}
				}
				if total > 25 {
					c.Fail("replicationConfiguration has %d destinations; at most 25", total)
				}
			},
		},
		{
			Name:  "enforce-route53-health-check-settings",
			Group: Preflight, Level: Mandatory,
			Description: "Route 53 health checks are ones Route 53 accepts: interval 10 or 30 s, failure threshold 1-10, an endpoint for endpoint checks, a path starting with /, search strings only on *_STR_MATCH checks.",
			Types:       []string{tRoute53HealthCheck},
			Resource: func(c *ResourceCheck) {
				t, _ := c.Get("type").Str()
				if i, ok := c.Get("requestInterval").Num(); ok && i != 10 && i != 30 {
					c.Fail("requestInterval is %v; use 10 or 30", i)
				}
				if f, ok := c.Get("failureThreshold").Num(); ok && (f < 1 || f > 10) {
					c.Fail("failureThreshold is %v; use 1 to 10", f)
				}
				switch t {
				case "HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP":
					if c.Get("fqdn").Missing() && c.Get("ipAddress").Missing() {
						c.Fail("type %s needs fqdn or ipAddress", t)
					}
				case "CALCULATED":
					if c.Get("childHealthchecks").Missing() {
						c.Fail("type CALCULATED needs childHealthchecks")
					}
				case "CLOUDWATCH_METRIC":
					if c.Get("cloudwatchAlarmName").Missing() || c.Get("cloudwatchAlarmRegion").Missing() {
						c.Fail("type CLOUDWATCH_METRIC needs cloudwatchAlarmName and cloudwatchAlarmRegion")
					}
				}
				if p, ok := c.Get("resourcePath").Str(); ok && !strings.HasPrefix(p, "/") {
					c.Fail("resourcePath %q must start with /", p)
				}
				if !c.Get("searchString").Missing() && !strings.HasSuffix(t, "_STR_MATCH") {
					c.Fail("searchString is set on a %s check; only HTTP_STR_MATCH and HTTPS_STR_MATCH take one", t)
				}
			},
		},
		{
			Name:  "disallow-documentation-cidrs",
			Group: Preflight, Level: Advisory,
			Description: "No input names an address in a documentation range (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32): they are placeholders, and no real client comes from them.",
			Resource: func(c *ResourceCheck) {
				if strings.HasPrefix(c.Type, "pulumi:providers:") {
					return
				}
				walkStrings(c.Get(""), "", func(path, s string) {
					if r, ok := inDocumentationRange(s); ok {
						c.Fail("%s is %s, inside the documentation range %s; set the real address", path, s, r)
					}
				})
			},
		},
	}
}

// sameCluster tells whether a resource naming a cluster by clusterName
// belongs to the cluster resource.
func sameCluster(r, cluster *Resource) bool {
	if r.DependsOn(cluster.URN) {
		return true
	}
	want, ok1 := cluster.Get("name").Str()
	have, ok2 := r.Get("clusterName").Str()
	return ok1 && ok2 && want == have
}

func sameRegion(a, b *Resource) bool {
	return a.Region == "" || b.Region == "" || a.Region == b.Region
}

func checkSubnets(c *StackCheck) {
	vpcs := c.OfType(tVpc)
	vpcOf := func(s *Resource) *Resource {
		for _, v := range vpcs {
			if s.DependsOn(v.URN) {
				return v
			}
		}
		var inRegion []*Resource
		for _, v := range vpcs {
			if sameRegion(s, v) {
				inRegion = append(inRegion, v)
			}
		}
		if len(inRegion) == 1 {
			return inRegion[0]
		}
		return nil
	}
	seen := map[*Resource][]*Resource{} // vpc -> subnets so far
	for _, s := range c.OfType(tSubnet) {
		cidr, ok := s.Get("cidrBlock").Str()
		v := vpcOf(s)
		if !ok || v == nil {
			continue
		}
		if vc, ok := v.Get("cidrBlock").Str(); ok {
			if in, valid := cidrIn(cidr, vc); valid && !in {
				c.Fail(s, "cidrBlock %s is not inside its VPC %s's %s", cidr, v.Name, vc)
			} else if !valid {
				c.Fail(s, "cidrBlock %q or the VPC's %q is not a CIDR", cidr, vc)
			}
		}
		for _, o := range seen[v] {
			oc, _ := o.Get("cidrBlock").Str()
			if overlaps(cidr, oc) {
				c.Fail(s, "cidrBlock %s overlaps subnet %s (%s)", cidr, o.Name, oc)
			}
		}
		seen[v] = append(seen[v], s)
	}
}

func overlaps(a, b string) bool {
	_, na, err1 := net.ParseCIDR(a)
	_, nb, err2 := net.ParseCIDR(b)
	return err1 == nil && err2 == nil && (na.Contains(nb.IP) || nb.Contains(na.IP))
}

func checkCreatorAdmin(c *StackCheck) {
	roles := c.OfType(tIamRole)
	for _, cl := range c.OfType(tEksCluster) {
		// The provider's default for the flag is false.
		boot, ok := cl.Get("accessConfig.bootstrapClusterCreatorAdminPermissions").BoolOr(false)
		if !ok || !boot {
			continue
		}
		for _, e := range c.OfType(tEksAccessEntry) {
			if !sameCluster(e, cl) {
				continue
			}
			if t, _ := e.Get("type").StrOr("STANDARD"); t != "STANDARD" {
				continue
			}
			principal := e.Get("principalArn")
			p, known := principal.Str()
			if !known {
				continue // derived from a resource of the stack, so not the deployer
			}
			fromStack := false
			for _, r := range roles {
				if e.DependsOn(r.URN) {
					fromStack = true
				}
			}
			if fromStack {
				continue
			}
			c.Fail(e, "principalArn %s is not created by this stack and may be who runs `pulumi up`, while cluster %s sets accessConfig.bootstrapClusterCreatorAdminPermissions true: EKS then already has that principal's entry and creating this one fails (ResourceInUseException); set the flag false and create every entry explicitly, the deployer's included", p, cl.Name)
		}
	}
}

// admits tells whether a policy statement list allows a service
// principal an action, on resourceArn when it is not "".
func admits(stmts []statement, service, action, resourceArn string) bool {
	for _, s := range stmts {
		if !s.allows() || !s.actionMatches(action) || !contains(s.Principals["Service"], service) {
			continue
		}
		if resourceArn == "" {
			return true
		}
		for _, r := range s.Resources {
			if wildcardMatch(r, resourceArn) {
				return true
			}
		}
	}
	return false
}

func checkLogDelivery(c *StackCheck) {
	policies := c.OfType(tLogResourcePolicy)
	// admitted returns whether a policy admits the delivery, and which.
	admitted := func(r *Resource, logGroup string) (bool, *Resource) {
		for _, p := range policies {
			if !sameRegion(r, p) {
				continue
			}
			stmts, ok := policyDoc(p.Get("policyDocument"))
			if !ok {
				return true, nil // unknown: cannot tell, so do not accuse
			}
			for _, s := range stmts {
				for _, res := range s.Resources {
					// Probe with the pattern's own account (and region,
					// when the resource's is unknown).
					parts := strings.SplitN(res, ":", 6)
					region, acct := r.Region, "*"
					if len(parts) == 6 {
						acct = parts[4]
						if region == "" {
							region = parts[3]
						}
					}
					probe := fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s:log-stream:probe", region, acct, logGroup)
					one := []statement{s}
					if admits(one, "delivery.logs.amazonaws.com", "logs:PutLogEvents", probe) &&
						admits(one, "delivery.logs.amazonaws.com", "logs:CreateLogStream", probe) {
						return true, p
					}
				}
			}
		}
		return false, nil
	}
	for _, g := range c.OfType(tCacheGroup) {
		for i, d := range g.Get("logDeliveryConfigurations").Items() {
			if t, _ := d.Field("destinationType").Str(); t != "cloudwatch-logs" {
				continue
			}
			lg, ok := d.Field("destination").Str()
			if !ok {
				continue
			}
			ok, p := admitted(g, lg)
			switch {
			case !ok:
				c.Fail(g, "logDeliveryConfigurations.%d delivers to log group %s, but no aws.cloudwatch.LogResourcePolicy in %s admits delivery.logs.amazonaws.com (logs:CreateLogStream, logs:PutLogEvents) to it; create one scoped to the group and account", i, lg, g.Region)
			case p != nil && g.DependenciesKnown && !c.WaitsFor(g, p):
				c.Fail(g, "logDeliveryConfigurations.%d delivers to log group %s, but the replication group does not wait for the log resource policy %s that admits it; add it to dependsOn", i, lg, p.Name)
			}
		}
	}
	for _, w := range c.OfType(tWafLogging) {
		dests, _ := w.Get("logDestinationConfigs").Strings()
		for i, d := range dests {
			_, after, found := strings.Cut(d, ":log-group:")
			if !found {
				continue
			}
			lg := strings.TrimSuffix(after, ":*")
			if ok, _ := admitted(w, lg); !ok {
				c.Fail(w, "logDestinationConfigs.%d delivers to log group %s, but no aws.cloudwatch.LogResourcePolicy admits delivery.logs.amazonaws.com to it", i, lg)
			}
		}
	}
}

// keyOf finds the key resource a resource encrypts with: the KMS key it
// depends on, else the only key of its region.
func keyOf(c *StackCheck, r *Resource) *Resource {
	keys := c.OfType(tKmsKey)
	for _, k := range keys {
		if r.DependsOn(k.URN) {
			return k
		}
	}
	if r.DependenciesKnown {
		return nil
	}
	var inRegion []*Resource
	for _, k := range keys {
		if sameRegion(r, k) {
			inRegion = append(inRegion, k)
		}
	}
	if len(inRegion) == 1 {
		return inRegion[0]
	}
	return nil
}

func checkKeyGrants(c *StackCheck) {
	docOf := func(k *Resource) ([]statement, bool) {
		if k.Get("policy").Missing() {
			return nil, true // the default key policy admits the account only
		}
		return policyDoc(k.Get("policy"))
	}
	for _, g := range c.OfType(tLogGroup) {
		if g.Get("kmsKeyId").Missing() || g.Region == "" {
			continue
		}
		k := keyOf(c, g)
		if k == nil {
			continue
		}
		stmts, ok := docOf(k)
		if !ok {
			continue
		}
		svc := "logs." + g.Region + ".amazonaws.com"
		if !admits(stmts, svc, "kms:GenerateDataKey", "") && !admits(stmts, "logs.amazonaws.com", "kms:GenerateDataKey", "") {
			c.Fail(g, "kmsKeyId is key %s, whose policy does not allow %s to use it; creating the log group fails with AccessDeniedException", k.Name, svc)
		}
	}
	subscribed := map[string]bool{} // queue name -> has an SNS subscription
	for _, s := range c.OfType(tSnsSubscription) {
		if p, _ := s.Get("protocol").Str(); p != "sqs" {
			continue
		}
		if e, ok := s.Get("endpoint").Str(); ok {
			subscribed[arnName(e)] = true
		}
	}
	for _, q := range c.OfType(tSqsQueue) {
		name, ok := queueName(q)
		if !ok || !subscribed[name] || q.Get("kmsMasterKeyId").Missing() {
			continue
		}
		k := keyOf(c, q)
		if k == nil {
			continue
		}
		stmts, ok := docOf(k)
		if !ok {
			continue
		}
		if !admits(stmts, "sns.amazonaws.com", "kms:GenerateDataKey", "") || !admits(stmts, "sns.amazonaws.com", "kms:Decrypt", "") {
			c.Fail(q, "the queue is subscribed to SNS and encrypted with key %s (kmsMasterKeyId), whose policy does not allow sns.amazonaws.com kms:GenerateDataKey* and kms:Decrypt; SNS cannot deliver", k.Name)
		}
	}
}

func checkNodeGroupOrder(c *StackCheck) {
	for _, cl := range c.OfType(tEksCluster) {
		bootstrap, ok := cl.Get("bootstrapSelfManagedAddons").BoolOr(true)
		if !ok || bootstrap {
			continue
		}
		addons := map[string]*Resource{}
		for _, a := range c.OfType(tEksAddon) {
			if sameCluster(a, cl) {
				if n, ok := a.Get("addonName").Str(); ok {
					addons[n] = a
				}
			}
		}
		for _, ng := range c.OfType(tEksNodeGroup) {
			if !sameCluster(ng, cl) {
				continue
			}
			for _, name := range []string{"vpc-cni", "kube-proxy"} {
				a := addons[name]
				switch {
				case a == nil:
					c.Fail(ng, "cluster %s sets bootstrapSelfManagedAddons false and the stack creates no %s add-on; nodes would never become Ready", cl.Name, name)
				case ng.DependenciesKnown && !c.WaitsFor(ng, a):
					c.Fail(ng, "the node group does not depend on the %s add-on (%s), and cluster %s sets bootstrapSelfManagedAddons false: nodes can start before the network plugin (NodeCreationFailure); add it to dependsOn", name, a.Name, cl.Name)
				}
			}
		}
	}
}

// conditionValueKeys are the listener rule conditions whose values count
// against the rule's limit of 5.
var conditionValueKeys = []string{"hostHeader", "httpHeader", "httpRequestMethod", "pathPattern", "sourceIp"}

func checkListenerRule(c *ResourceCheck) {
	if p, ok := c.Get("priority").Num(); ok && (p < 1 || p > 50000) {
		c.Fail("priority is %v; ELB accepts 1 to 50000", p)
	}
	total := 0
	for i, cond := range c.Get("conditions").Items() {
		for _, k := range conditionValueKeys {
			values := cond.Field(k).Field("values").Items()
			total += len(values)
			if k != "pathPattern" && k != "httpHeader" {
				continue
			}
			for j, v := range values {
				if s, ok := v.Str(); ok && len(s) > 128 {
					c.Fail("conditions.%d.%s.values.%d is %d characters; ELB accepts 128", i, k, j, len(s))
				}
			}
		}
		total += len(cond.Field("queryStrings").Items())
		if n, ok := cond.Path("httpHeader.httpHeaderName").Str(); ok && len(n) > 40 {
			c.Fail("conditions.%d.httpHeader.httpHeaderName %q is longer than 40 characters", i, n)
		}
	}
	if total > 5 {
		c.Fail("conditions hold %d values; ELB accepts at most 5 per rule (split the rule)", total)
	}
}

// listenerOf returns the listener a rule belongs to: by its ARN when known,
// else the listener it depends on.
func listenerOf(rule *Resource, listeners []*Resource) string {
	if arn, ok := rule.Get("listenerArn").Str(); ok {
		return arn
	}
	for _, l := range listeners {
		if rule.DependsOn(l.URN) {
			return l.URN
		}
	}
	return ""
}

func checkRulePriorities(c *StackCheck) {
	listeners := c.OfType(listenerTypes...)
	byKey := map[string][]*Resource{}
	var keys []string
	for _, r := range c.OfType(listenerRuleType...) {
		l := listenerOf(r, listeners)
		p, ok := r.Get("priority").Num()
		if l == "" || !ok {
			continue
		}
		key := fmt.Sprintf("%s#%v", l, p)
		if byKey[key] == nil {
			keys = append(keys, key)
		}
		byKey[key] = append(byKey[key], r)
	}
	for _, key := range keys {
		rules := byKey[key]
		if len(rules) < 2 {
			continue
		}
		for _, r := range rules {
			var others []string
			for _, o := range rules {
				if o != r {
					others = append(others, o.Name)
				}
			}
			p, _ := r.Get("priority").Num()
			c.Fail(r, "priority %v is also taken by rule %s on the same listener; give each rule its own", p, strings.Join(others, ", "))
		}
	}
}

// sameBucket tells whether r (a bucket setting or policy) is about the
// bucket a load balancer logs to: by name when both are known, else by a
// bucket resource both depend on.
func sameBucket(c *StackCheck, lb, r *Resource, name string, known bool) bool {
	if b, ok := r.Get("bucket").Str(); ok && known {
		return b == name
	}
	for _, bk := range c.OfType(tS3Bucket, tS3BucketV2) {
		if lb.DependsOn(bk.URN) && (r.URN == bk.URN || r.DependsOn(bk.URN)) {
			return true
		}
	}
	return false
}

func checkAccessLogBuckets(c *StackCheck) {
	for _, lb := range c.OfType(lbTypes...) {
		if on, _ := lb.Get("accessLogs.enabled").BoolOr(true); !on || lb.Get("accessLogs.bucket").Missing() {
			continue
		}
		name, known := lb.Get("accessLogs.bucket").Str()
		label := name
		if !known {
			label = "(its bucket)"
		}
		for _, b := range c.OfType(tS3Bucket, tS3BucketV2) {
			if sameBucket(c, lb, b, name, known) && b.Region != "" && lb.Region != "" && b.Region != lb.Region {
				c.Fail(lb, "accessLogs.bucket %s is in %s; ELB delivers only to a bucket of its own region (%s)", label, b.Region, lb.Region)
			}
		}
		for _, sse := range c.OfType(tS3SSE, tS3SSEV2) {
			if !sameBucket(c, lb, sse, name, known) {
				continue
			}
			for _, rule := range sse.Get("rules").Items() {
				if alg, ok := rule.Path("applyServerSideEncryptionByDefault.sseAlgorithm").Str(); ok && strings.HasPrefix(alg, "aws:kms") {
					c.Fail(lb, "accessLogs.bucket %s is encrypted with %s; ELB delivers access logs only to buckets encrypted with S3-managed keys (AES256)", label, alg)
				}
			}
		}
		var policy *Resource
		for _, p := range c.OfType(tS3BucketPolicy) {
			if sameBucket(c, lb, p, name, known) {
				policy = p
			}
		}
		switch {
		case policy == nil:
			c.Fail(lb, "accessLogs.bucket %s has no bucket policy in the stack; ELB needs one admitting its log delivery", label)
		case !c.WaitsFor(lb, policy):
			c.Fail(lb, "does not wait for the bucket policy %s of accessLogs.bucket %s; ELB refuses to enable logging (Access Denied) until it exists", policy.Name, label)
		}
	}
}

func checkAlarmLimits(c *ResourceCheck) {
	name := "name"
	if c.Type == tCompositeAlarm {
		name = "alarmName"
	}
	if n, ok := c.Get(name).Str(); ok && (len(n) == 0 || len(n) > 255) {
		c.Fail("%s %q is %d characters; CloudWatch accepts 1 to 255", name, n, len(n))
	}
	if d := c.Get("dimensions"); d.IsObject() && len(d.Keys()) > 30 {
		c.Fail("dimensions has %d entries; CloudWatch accepts at most 30", len(d.Keys()))
	}
	for _, k := range []string{"alarmActions", "okActions", "insufficientDataActions"} {
		if a := c.Get(k); a.IsArray() && len(a.Items()) > 5 {
			c.Fail("%s has %d actions; CloudWatch accepts at most 5", k, len(a.Items()))
		}
	}
	if r, ok := c.Get("alarmRule").Str(); ok && len(r) > 10240 {
		c.Fail("alarmRule is %d characters; CloudWatch accepts at most 10240 (split the composite)", len(r))
	}
}

var dashboardName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

func checkDashboardLimits(c *ResourceCheck) {
	if n, ok := c.Get("dashboardName").Str(); ok && !dashboardName.MatchString(n) {
		c.Fail("dashboardName %q: PutDashboard accepts 1 to 255 of A-Z, a-z, 0-9, - and _", n)
	}
	raw, ok := c.Get("dashboardBody").Str()
	if !ok {
		return // unknown before apply
	}
	var body struct {
		Widgets []struct {
			X, Width   int
			Properties struct {
				Metrics []any
				Alarms  []any
			}
		}
	}
	if err := json.Unmarshal([]byte(raw), &body); err != nil {
		c.Fail("dashboardBody is not JSON: %v", err)
		return
	}
	if len(body.Widgets) > 500 {
		c.Fail("dashboardBody has %d widgets; at most 500", len(body.Widgets))
	}
	metrics := 0
	for i, w := range body.Widgets {
		metrics += len(w.Properties.Metrics)
		if len(w.Properties.Metrics) > 500 {
			c.Fail("dashboardBody widget %d has %d metrics; at most 500", i, len(w.Properties.Metrics))
		}
		if len(w.Properties.Alarms) > 100 {
			c.Fail("dashboardBody widget %d lists %d alarms; at most 100", i, len(w.Properties.Alarms))
		}
		if w.Width < 1 || w.X < 0 || w.X+w.Width > 24 {
			c.Fail("dashboardBody widget %d spans columns %d to %d; the grid is 24 wide", i, w.X, w.X+w.Width)
		}
	}
	if metrics > 2500 {
		c.Fail("dashboardBody has %d metrics; at most 2500", metrics)
	}
}

// checkAlarmTopicKeys follows each alarm to the topics it notifies (its
// dependencies) and each encrypted topic to its key.
func checkAlarmTopicKeys(c *StackCheck) {
	for _, kind := range []string{tMetricAlarm, tCompositeAlarm} {
		for _, a := range c.OfType(kind) {
			for _, topic := range c.OfType(tSnsTopic) {
				if !a.DependsOn(topic.URN) || topic.Get("kmsMasterKeyId").Missing() {
					continue
				}
				if id, ok := topic.Get("kmsMasterKeyId").Str(); ok && strings.HasPrefix(id, "alias/aws/") {
					c.Fail(a, "alarmActions name topic %s, encrypted with the AWS managed key %s, whose policy cannot admit CloudWatch; use a customer-managed key", topic.Name, id)
					continue
				}
				k := keyOf(c, topic)
				if k == nil {
					continue
				}
				if k.Get("policy").Missing() {
					c.Fail(a, "alarmActions name topic %s, encrypted with key %s, whose default policy does not admit cloudwatch.amazonaws.com; notifications would be dropped", topic.Name, k.Name)
					continue
				}
				stmts, ok := policyDoc(k.Get("policy"))
				if !ok {
					continue
				}
				if !admits(stmts, "cloudwatch.amazonaws.com", "kms:GenerateDataKey", "") || !admits(stmts, "cloudwatch.amazonaws.com", "kms:Decrypt", "") {
					c.Fail(a, "alarmActions name topic %s, encrypted with key %s, whose policy does not allow cloudwatch.amazonaws.com kms:GenerateDataKey* and kms:Decrypt; notifications would be dropped", topic.Name, k.Name)
				}
			}
		}
	}
}
