package rules

import (
	"encoding/json"
	"strings"
)

func isReplica(r *Resource) bool { return !r.Get("replicateSourceDb").Missing() }

// redrive is a queue's redrive policy.
type redrive struct {
	Target   string  `json:"deadLetterTargetArn"`
	MaxCount float64 `json:"maxReceiveCount"`
}

// redriveOf reads a queue's redrivePolicy (a JSON string, or an object).
// present is false when the queue has none; ok false when unknown.
func redriveOf(q *Resource) (rd redrive, present, ok bool) {
	v := q.Get("redrivePolicy")
	if v.Missing() {
		return rd, false, true
	}
	s, isStr := v.Str()
	if !isStr {
		doc, known := v.JSON()
		if !known {
			return rd, true, false
		}
		b, _ := json.Marshal(doc)
		s = string(b)
	}
	if s == "" {
		return rd, false, true
	}
	if err := json.Unmarshal([]byte(s), &rd); err != nil {
		return rd, true, false
	}
	return rd, true, true
}

// queueName returns the physical name of a queue when the program sets it.
func queueName(q *Resource) (string, bool) {
	return q.Get("name").Str()
}

func arnName(arn string) string { return arn[strings.LastIndex(arn, ":")+1:] }

// routingPolicies are the Route 53 record inputs that make it a routed
// (non-simple) record.
var routingPolicies = []string{"latencyRoutingPolicies", "failoverRoutingPolicies", "weightedRoutingPolicies",
	"geolocationRoutingPolicies", "geoproximityRoutingPolicy", "cidrRoutingPolicy"}

func routingPolicyOf(r *Resource) (string, bool) {
	for _, p := range routingPolicies {
		v := r.Get(p)
		if v.Unknown() {
			return "", false
		}
		if v.IsArray() && len(v.Items()) == 0 {
			continue
		}
		if !v.Missing() {
			return p, true
		}
	}
	if b, ok := r.Get("multivalueAnswerRoutingPolicy").Bool(); ok && b {
		return "multivalueAnswerRoutingPolicy", true
	}
	return "", true
}

func reliabilityPolicies() []*Policy {
	envs := func(desc string, def ...string) Setting {
		return Setting{Name: "environments", Description: desc, Default: def}
	}
	return []*Policy{
		{
			Name:  "enforce-rds-multi-az",
			Group: Reliability, Level: Mandatory,
			Description: "Database instances are Multi-AZ in the listed environments.",
			Types:       []string{tRdsInstance},
			Settings:    []Setting{envs("Environments whose databases must be Multi-AZ.", "prod")},
			Resource: func(c *ResourceCheck) {
				if !c.EnvIn("environments") {
					return
				}
				requireTrue(c, "multiAz", false, "a standby in another zone takes over when a zone fails")
			},
		},
		{
			Name:  "enforce-rds-backup-retention",
			Group: Reliability, Level: Mandatory,
			Description: "Primary databases keep automated backups for at least the environment's minimum days.",
			Types:       []string{tRdsInstance, tRdsCluster},
			Settings: []Setting{{
				Name: "minimumDays", Description: "Minimum backupRetentionPeriod by environment (\"*\" for any other).",
				Default: map[string]int{"dev": 1, "staging": 3, "prod": 7, "*": 7},
			}},
			Resource: func(c *ResourceCheck) {
				if isReplica(c.Resource) {
					return // a replica's backups are its primary's
				}
				want, ok := c.Settings.EnvInt("minimumDays", c.Env)
				if !ok {
					return
				}
				def := 0.0
				if c.Type == tRdsCluster {
					def = 1
				}
				days, known := c.Get("backupRetentionPeriod").NumOr(def)
				if known && int(days) < want {
					c.Fail("backupRetentionPeriod is %v; %s keeps at least %d days", days, envName(c.Env), want)
				}
			},
		},
		{
			Name:  "enforce-deletion-protection",
			Group: Reliability, Level: Mandatory,
			Description: "Databases and their replicas cannot be deleted by accident in the listed environments.",
			Types:       []string{tRdsInstance, tRdsCluster},
			Settings:    []Setting{envs("Environments whose databases must have deletion protection.", "staging", "prod")},
			Resource: func(c *ResourceCheck) {
				if c.EnvIn("environments") {
					requireTrue(c, "deletionProtection", false, "a delete or replace must not drop the data")
				}
			},
		},
		{
			Name:  "enforce-final-snapshot",
			Group: Reliability, Level: Mandatory,
			Description: "Primary databases take a final snapshot when deleted in the listed environments.",
			Types:       []string{tRdsInstance, tRdsCluster},
			Settings:    []Setting{envs("Environments whose databases keep a final snapshot.", "staging", "prod")},
			Resource: func(c *ResourceCheck) {
				if !c.EnvIn("environments") || isReplica(c.Resource) {
					return
				}
				if skip, ok := c.Get("skipFinalSnapshot").BoolOr(false); ok && skip {
					c.Fail("skipFinalSnapshot is true; keep a final snapshot")
				}
			},
		},
		{
			Name:  "enforce-redis-failover",
			Group: Reliability, Level: Mandatory,
			Description: "Caches have a replica and automatic Multi-AZ failover in the listed environments.",
			Types:       []string{tCacheGroup},
			Settings:    []Setting{envs("Environments whose caches must fail over.", "staging", "prod")},
			Resource: func(c *ResourceCheck) {
				if !c.EnvIn("environments") {
					return
				}
				nodes, ok := cacheNodes(c.Resource)
				if ok && nodes < 2 {
					c.Fail("numCacheClusters is %v; run at least 2 nodes so a replica can take over", nodes)
				}
				requireTrue(c, "automaticFailoverEnabled", false, "a replica must be promoted when the primary fails")
				requireTrue(c, "multiAzEnabled", false, "the replica must sit in another zone")
			},
		},
		{
			Name:  "enforce-redis-snapshot-retention",
			Group: Reliability, Level: Mandatory,
			Description: "Caches keep daily snapshots in the listed environments.",
			Types:       []string{tCacheGroup},
			Settings: []Setting{
				envs("Environments whose caches keep snapshots.", "prod"),
				{Name: "minimumDays", Description: "Minimum snapshotRetentionLimit.", Default: 1},
			},
			Resource: func(c *ResourceCheck) {
				if !c.EnvIn("environments") {
					return
				}
				days, ok := c.Get("snapshotRetentionLimit").NumOr(0)
				if ok && int(days) < c.Settings.Int("minimumDays") {
					c.Fail("snapshotRetentionLimit is %v; keep at least %d", days, c.Settings.Int("minimumDays"))
				}
			},
		},
		{
			Name:  "enforce-secret-recovery-window",
			Group: Reliability, Level: Mandatory,
			Description: "Secrets can be recovered after deletion in the listed environments.",
			Types:       []string{tSecret},
			Settings: []Setting{
				envs("Environments whose secrets keep a recovery window.", "staging", "prod"),
				{Name: "minimumDays", Description: "Minimum recoveryWindowInDays.", Default: 7},
			},
			Resource: func(c *ResourceCheck) {
				if !c.EnvIn("environments") {
					return
				}
				days, ok := c.Get("recoveryWindowInDays").NumOr(30)
				if ok && int(days) < c.Settings.Int("minimumDays") {
					c.Fail("recoveryWindowInDays is %v; keep at least %d so a deleted secret can be restored", days, c.Settings.Int("minimumDays"))
				}
			},
		},
		{
			Name:  "missing-dead-letter-queue",
			Group: Reliability, Level: Mandatory,
			Description: "Every work queue has a dead-letter queue (a redrive policy); queues that are themselves dead-letter targets are exempt.",
			Types:       []string{tSqsQueue, tSqsRedriveAllow},
			Stack: func(c *StackCheck) {
				targets := map[string]bool{}
				for _, q := range c.OfType(tSqsQueue) {
					if rd, present, ok := redriveOf(q); present && ok {
						targets[arnName(rd.Target)] = true
					}
				}
				for _, q := range c.OfType(tSqsQueue) {
					_, present, ok := redriveOf(q)
					if present || !ok {
						continue
					}
					name, named := queueName(q)
					if named && targets[name] {
						continue
					}
					if !named && q.DependenciesKnown {
						// An auto-named queue is a DLQ when a redrive-allow
						// policy or a queue depends on it.
						isTarget := false
						for _, o := range c.OfType(tSqsQueue, tSqsRedriveAllow) {
							if o.DependsOn(q.URN) {
								isTarget = true
							}
						}
						if isTarget {
							continue
						}
					}
					c.Fail(q, "redrivePolicy is not set and no queue dead-letters into it; give it a dead-letter queue so poison messages stop cycling")
				}
			},
		},
		{
			Name:  "enforce-dlq-outlives-source",
			Group: Reliability, Level: Mandatory,
			Description: "A dead-letter queue retains messages longer than its source queue: SQS ages a message from its first enqueue, so a message dead-lettered late would expire on arrival.",
			Types:       []string{tSqsQueue},
			Stack: func(c *StackCheck) {
				byName := map[string]*Resource{}
				for _, q := range c.OfType(tSqsQueue) {
					if n, ok := queueName(q); ok {
						byName[n] = q
					}
				}
				for _, q := range c.OfType(tSqsQueue) {
					rd, present, ok := redriveOf(q)
					if !present || !ok {
						continue
					}
					dlq := byName[arnName(rd.Target)]
					if dlq == nil {
						continue
					}
					src, ok1 := q.Get("messageRetentionSeconds").NumOr(345600)
					dst, ok2 := dlq.Get("messageRetentionSeconds").NumOr(345600)
					if ok1 && ok2 && dst <= src {
						c.Fail(q, "messageRetentionSeconds is %v and its dead-letter queue %s keeps %v; the DLQ must keep messages longer than its source (lower the source's retention or raise the DLQ's, at most 1209600)", src, arnName(rd.Target), dst)
					}
				}
			},
		},
		{
			Name:  "missing-target-group-health-check",
			Group: Reliability, Level: Mandatory,
			Description: "Load balancer target groups health-check their targets on an explicit path.",
			Types:       targetGroupTypes,
			Resource: func(c *ResourceCheck) {
				if t, _ := c.Get("targetType").Str(); t == "lambda" {
					return
				}
				if on, ok := c.Get("healthCheck.enabled").BoolOr(true); ok && !on {
					c.Fail("healthCheck.enabled is false; unhealthy targets would keep receiving traffic")
					return
				}
				proto, _ := c.Get("protocol").StrOr("HTTP")
				hcProto, _ := c.Get("healthCheck.protocol").StrOr(proto)
				if strings.HasPrefix(strings.ToUpper(hcProto), "HTTP") && c.Get("healthCheck.path").Missing() {
					c.Fail("healthCheck.path is not set (default /); point it at the service's readiness endpoint")
				}
			},
		},
		{
			Name:  "missing-route53-health-check",
			Group: Reliability, Level: Mandatory,
			Description: "Every routed Route 53 record (latency, failover, weighted, geo, multivalue) is tied to a health check, or is an alias that evaluates its target's health.",
			Types:       []string{tRoute53Record},
			Resource: func(c *ResourceCheck) {
				policy, ok := routingPolicyOf(c.Resource)
				if !ok || policy == "" {
					return
				}
				if !c.Get("healthCheckId").Missing() {
					return
				}
				if eval, _ := c.Get("aliases.0.evaluateTargetHealth").Bool(); eval {
					return
				}
				c.Fail("%s is set but healthCheckId is not (and no alias evaluates target health); traffic would keep going to a failed endpoint", policy)
			},
		},
		{
			Name:  "enforce-node-group-autoscaler-desired-size",
			Group: Reliability, Level: Mandatory,
			Description: "EKS node groups leave their desired size to the cluster autoscaler (ignoreChanges scalingConfig.desiredSize), so an update never scales nodes back.",
			Types:       []string{tEksNodeGroup},
			Resource: func(c *ResourceCheck) {
				if !c.IgnoreChangesKnown {
					return
				}
				for _, p := range c.IgnoreChanges {
					if p == "scalingConfig.desiredSize" || p == "scalingConfig" {
						return
					}
				}
				c.Fail("scalingConfig.desiredSize is not in ignoreChanges; every update would reset the size the autoscaler chose")
			},
		},
		{
			Name:  "enforce-node-group-min-size",
			Group: Reliability, Level: Mandatory,
			Description: "EKS node groups keep a minimum number of nodes per environment.",
			Types:       []string{tEksNodeGroup},
			Settings: []Setting{{
				Name: "minimumSize", Description: "Minimum scalingConfig.minSize by environment (\"*\" for any other).",
				Default: map[string]int{"dev": 1, "staging": 2, "prod": 2, "*": 2},
			}},
			Resource: func(c *ResourceCheck) {
				want, ok := c.Settings.EnvInt("minimumSize", c.Env)
				n, known := c.Get("scalingConfig.minSize").Num()
				if ok && known && int(n) < want {
					c.Fail("scalingConfig.minSize is %v; %s keeps at least %d nodes", n, envName(c.Env), want)
				}
			},
		},
	}
}

// cacheNodes returns the number of nodes per shard of a replication group.
func cacheNodes(r *Resource) (float64, bool) {
	if rep := r.Get("replicasPerNodeGroup"); !rep.Missing() {
		n, ok := rep.Num()
		return n + 1, ok
	}
	return r.Get("numCacheClusters").NumOr(1)
}

func envName(env string) string {
	if env == "" {
		return "an unknown environment (held to prod's rules)"
	}
	return env
}
