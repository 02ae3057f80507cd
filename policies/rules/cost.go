package rules

// allowedFor fails unless every value matches one of the environment's
// allowed patterns.
func allowedFor(c *ResourceCheck, setting, path string, values []string) {
	allowed := c.Settings.EnvStrings(setting, c.Env)
	for _, v := range values {
		ok := false
		for _, p := range allowed {
			if wildcardMatch(p, v) {
				ok = true
			}
		}
		if !ok {
			c.Fail("%s %q is not allowed in %s (allowed: %v)", path, v, envName(c.Env), allowed)
		}
	}
}

func costPolicies() []*Policy {
	return []*Policy{
		{
			Name:  "disallow-unapproved-instance-types",
			Group: Cost, Level: Mandatory,
			Description: "EKS node groups, launch templates and instances use the instance types allowed in their environment.",
			Types:       []string{tEksNodeGroup, tLaunchTemplate, tEc2Instance},
			Settings: []Setting{{
				Name:        "allowedInstanceTypes",
				Description: "Instance type patterns by environment (\"*\" for any other).",
				Default: map[string][]string{
					"dev":     {"t3.*", "t3a.*", "t4g.*"},
					"staging": {"t3.*", "t3a.*", "t4g.*", "m6i.large", "m6i.xlarge", "m6a.large", "m6a.xlarge", "m7i.large", "m7g.large"},
					"prod":    {"m6i.*", "m6a.*", "m7i.*", "m7a.*", "m7g.*", "c6i.*", "c7i.*", "r6i.*", "r7i.*"},
					"*":       {"m6i.*", "m6a.*", "m7i.*", "m7a.*", "m7g.*", "c6i.*", "c7i.*", "r6i.*", "r7i.*"},
				},
			}},
			Resource: func(c *ResourceCheck) {
				switch c.Type {
				case tEksNodeGroup:
					v := c.Get("instanceTypes")
					if v.Unknown() {
						return
					}
					types, _ := v.Strings()
					if v.Missing() {
						types = []string{"t3.medium"}
					}
					allowedFor(c, "allowedInstanceTypes", "instanceTypes", types)
				default:
					if t, ok := c.Get("instanceType").Str(); ok {
						allowedFor(c, "allowedInstanceTypes", "instanceType", []string{t})
					}
				}
			},
		},
		{
			Name:  "disallow-unapproved-db-instance-classes",
			Group: Cost, Level: Mandatory,
			Description: "Database instances use the classes allowed in their environment.",
			Types:       []string{tRdsInstance},
			Settings: []Setting{{
				Name:        "allowedInstanceClasses",
				Description: "DB instance class patterns by environment (\"*\" for any other).",
				Default: map[string][]string{
					"dev":     {"db.t4g.micro", "db.t4g.small", "db.t4g.medium", "db.t3.micro", "db.t3.small", "db.t3.medium"},
					"staging": {"db.t4g.*", "db.t3.*", "db.m6g.large", "db.m6g.xlarge", "db.m7g.large", "db.m7g.xlarge"},
					"prod":    {"db.m6g.*", "db.m7g.*", "db.r6g.*", "db.r7g.*", "db.m6i.*", "db.r6i.*"},
					"*":       {"db.m6g.*", "db.m7g.*", "db.r6g.*", "db.r7g.*", "db.m6i.*", "db.r6i.*"},
				},
			}},
			Resource: func(c *ResourceCheck) {
				if cl, ok := c.Get("instanceClass").Str(); ok {
					allowedFor(c, "allowedInstanceClasses", "instanceClass", []string{cl})
				}
			},
		},
		{
			Name:  "disallow-unapproved-cache-node-types",
			Group: Cost, Level: Mandatory,
			Description: "Cache replication groups use the node types allowed in their environment.",
			Types:       []string{tCacheGroup},
			Settings: []Setting{{
				Name:        "allowedNodeTypes",
				Description: "Cache node type patterns by environment (\"*\" for any other).",
				Default: map[string][]string{
					"dev":     {"cache.t4g.micro", "cache.t4g.small", "cache.t3.micro", "cache.t3.small"},
					"staging": {"cache.t4g.*", "cache.t3.*", "cache.m7g.large", "cache.r7g.large"},
					"prod":    {"cache.m6g.*", "cache.m7g.*", "cache.r6g.*", "cache.r7g.*"},
					"*":       {"cache.m6g.*", "cache.m7g.*", "cache.r6g.*", "cache.r7g.*"},
				},
			}},
			Resource: func(c *ResourceCheck) {
				if nt, ok := c.Get("nodeType").Str(); ok {
					allowedFor(c, "allowedNodeTypes", "nodeType", []string{nt})
				}
			},
		},
		{
			Name:  "missing-log-retention",
			Group: Cost, Level: Mandatory,
			Description: "Log groups expire their events (retentionInDays set, within the maximum), so logs are not kept and billed forever.",
			Types:       []string{tLogGroup},
			Settings: []Setting{{
				Name: "maximumDays", Description: "Longest retention allowed.", Default: 731,
			}},
			Resource: func(c *ResourceCheck) {
				days, ok := c.Get("retentionInDays").NumOr(0)
				if !ok {
					return
				}
				if days == 0 {
					c.Fail("retentionInDays is not set (events never expire); set it")
				} else if int(days) > c.Settings.Int("maximumDays") {
					c.Fail("retentionInDays is %v; keep at most %d days", days, c.Settings.Int("maximumDays"))
				}
			},
		},
		{
			Name:  "enforce-cloudfront-price-class",
			Group: Cost, Level: Advisory,
			Description: "Non-production CloudFront distributions use the cheapest price class.",
			Types:       []string{tCloudFront},
			Settings: []Setting{
				{Name: "environments", Description: "Environments held to the allowed price classes.", Default: []string{"dev", "staging"}},
				{Name: "allowedPriceClasses", Description: "Price classes allowed there.", Default: []string{"PriceClass_100"}},
			},
			Resource: func(c *ResourceCheck) {
				if c.Env == "" || !c.EnvIn("environments") {
					return
				}
				pc, ok := c.Get("priceClass").StrOr("PriceClass_All")
				if ok && !contains(c.Settings.Strings("allowedPriceClasses"), pc) {
					c.Fail("priceClass is %q in %s; use one of %v", pc, c.Env, c.Settings.Strings("allowedPriceClasses"))
				}
			},
		},
		{
			Name:  "enforce-capped-storage-autoscaling",
			Group: Cost, Level: Mandatory,
			Description: "Database storage autoscales, with a cap: maxAllocatedStorage set, at most a factor of the allocated storage and an absolute maximum.",
			Types:       []string{tRdsInstance},
			Settings: []Setting{
				{Name: "maximumGrowthFactor", Description: "maxAllocatedStorage may be at most this many times allocatedStorage.", Default: 10},
				{Name: "maximumGiB", Description: "Highest maxAllocatedStorage allowed.", Default: 4000},
			},
			Resource: func(c *ResourceCheck) {
				if isReplica(c.Resource) && c.Get("maxAllocatedStorage").Missing() {
					return
				}
				alloc, ok1 := c.Get("allocatedStorage").Num()
				v := c.Get("maxAllocatedStorage")
				if v.Unknown() {
					return
				}
				max, ok2 := v.NumOr(0)
				if !ok2 {
					return
				}
				if max == 0 {
					c.Fail("maxAllocatedStorage is not set, so storage does not autoscale and a full disk stops the database; set a cap")
					return
				}
				if ok1 && max > alloc*float64(c.Settings.Int("maximumGrowthFactor")) {
					c.Fail("maxAllocatedStorage %v is more than %d times allocatedStorage %v", max, c.Settings.Int("maximumGrowthFactor"), alloc)
				}
				if max > float64(c.Settings.Int("maximumGiB")) {
					c.Fail("maxAllocatedStorage %v is above the cap of %d GiB", max, c.Settings.Int("maximumGiB"))
				}
			},
		},
		{
			Name:  "enforce-gp3-storage",
			Group: Cost, Level: Advisory,
			Description: "Database and node volumes use gp3, cheaper than gp2 per GiB with baseline IOPS included.",
			Types:       []string{tRdsInstance, tLaunchTemplate, tEbsVolume},
			Resource: func(c *ResourceCheck) {
				switch c.Type {
				case tRdsInstance:
					if isReplica(c.Resource) && c.Get("storageType").Missing() {
						return
					}
					def := "gp2"
					if !c.Get("iops").Missing() {
						def = "io1"
					}
					if t, ok := c.Get("storageType").StrOr(def); ok && t == "gp2" {
						c.Fail("storageType is gp2 (the default); use gp3")
					}
				case tEbsVolume:
					if t, ok := c.Get("type").StrOr("gp2"); ok && t == "gp2" {
						c.Fail("type is gp2 (the default); use gp3")
					}
				case tLaunchTemplate:
					for i, m := range c.Get("blockDeviceMappings").Items() {
						if t, ok := m.Field("ebs").Field("volumeType").Str(); ok && t == "gp2" {
							c.Fail("blockDeviceMappings.%d.ebs.volumeType is gp2; use gp3", i)
						}
					}
				}
			},
		},
		{
			Name:  "missing-cost-allocation-tags",
			Group: Cost, Level: Mandatory,
			Description: "Every AWS provider tags what it creates with the cost-allocation tags (default tags), so the bill splits by project and environment.",
			Types:       []string{tAwsProvider},
			Settings: []Setting{{
				Name: "requiredTags", Description: "Default tags every AWS provider must set.", Default: []string{"project", "environment"},
			}},
			Resource: func(c *ResourceCheck) {
				tags := c.Get("defaultTags.tags")
				if tags.Unknown() {
					return
				}
				for _, k := range c.Settings.Strings("requiredTags") {
					if v, _ := tags.Field(k).Str(); v == "" {
						c.Fail("defaultTags.tags.%s is not set", k)
					}
				}
			},
		},
		{
			Name:  "missing-ecr-lifecycle-policy",
			Group: Cost, Level: Mandatory,
			Description: "Every ECR repository has a lifecycle policy expiring old images.",
			Types:       []string{tEcrRepo, tEcrLifecycle},
			Stack: func(c *StackCheck) {
				covered := map[string]bool{}
				var lifecycles []*Resource
				for _, l := range c.OfType(tEcrLifecycle) {
					lifecycles = append(lifecycles, l)
					if n, ok := l.Get("repository").Str(); ok {
						covered[n] = true
					}
				}
				for _, r := range c.OfType(tEcrRepo) {
					if n, ok := r.Get("name").Str(); ok && covered[n] {
						continue
					}
					dependent := false
					for _, l := range lifecycles {
						if l.DependsOn(r.URN) {
							dependent = true
						}
					}
					if !dependent {
						c.Fail(r, "no aws.ecr.LifecyclePolicy names this repository; expire untagged and old images")
					}
				}
			},
		},
	}
}
