package observe

import (
	"fmt"
	"maps"
	"net/mail"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/example/ecommerce-platform/components/check"
)

// Limits CloudWatch enforces at apply time; checked here first (and by the
// policy pack's enforce-cloudwatch-alarm-limits over any plan).
const (
	// MaxAlarmNameLength is the longest alarm name CloudWatch accepts.
	MaxAlarmNameLength = 255
	// MaxCompositeRuleLength is the longest composite alarm rule.
	MaxCompositeRuleLength = 10240
	// MaxDimensions is the most dimensions one metric may have.
	MaxDimensions = 30
	// MaxAlarmActions is the most actions per alarm state.
	MaxAlarmActions = 5
)

// Settings are the alarm topic's subscribers and the alarm thresholds. The
// stack configuration decodes its `alarms` key straight into them; the
// defaults there derive from the seed's targets (99.99% availability, p95
// under 200 ms): every threshold leaves room to act before users notice.
type Settings struct {
	// Emails and HTTPSEndpoints subscribe to every region's alarm topic.
	// An email subscription waits for its owner to confirm it.
	Emails         []string `json:"emails"`
	HTTPSEndpoints []string `json:"httpsEndpoints"`

	// DatabaseCPUPercent: average CPU of an instance over 15 minutes.
	DatabaseCPUPercent float64 `json:"databaseCpuPercent"`
	// DatabaseFreeStorageGiB: free storage below this (storage autoscaling
	// grows it, so the alarm means autoscaling hit its maximum or lags).
	DatabaseFreeStorageGiB float64 `json:"databaseFreeStorageGiB"`
	// DatabaseConnections: open connections of one instance.
	DatabaseConnections float64 `json:"databaseConnections"`
	// ReplicaLagSeconds: a replica behind its primary by more; also the
	// RPO of a failover to that replica (docs/dr.md).
	ReplicaLagSeconds float64 `json:"replicaLagSeconds"`
	// CacheCPUPercent: Redis engine CPU (Redis is single-threaded, so the
	// engine's thread, not the host's average).
	CacheCPUPercent float64 `json:"cacheCpuPercent"`
	// CacheMemoryPercent: used memory of maxmemory.
	CacheMemoryPercent float64 `json:"cacheMemoryPercent"`
	// CacheEvictions: keys evicted in 5 minutes.
	CacheEvictions float64 `json:"cacheEvictions"`
	// CacheReplicationLagSeconds: a cache replica behind its primary.
	CacheReplicationLagSeconds float64 `json:"cacheReplicationLagSeconds"`
	// QueueOldestMessageSeconds: the oldest message of a queue waiting
	// longer than this means its consumer is stuck or too slow.
	QueueOldestMessageSeconds float64 `json:"queueOldestMessageSeconds"`
	// NodeCPUPercent and NodeMemoryPercent: the cluster's nodes on average
	// (Container Insights); above them the autoscaler is at its maximum or
	// too slow.
	NodeCPUPercent    float64 `json:"nodeCpuPercent"`
	NodeMemoryPercent float64 `json:"nodeMemoryPercent"`
	// Target5xxPercent: the share of a service's requests its pods answer
	// with a 5xx, over 3 of 5 minutes (only once the service sees
	// MinRequestsForErrorRate a minute, so one failure at night does not
	// page).
	Target5xxPercent float64 `json:"target5xxPercent"`
	// LatencyP95Milliseconds: a service's p95 response time at the load
	// balancer, over 3 of 5 minutes; the seed promises under 200 ms.
	LatencyP95Milliseconds float64 `json:"latencyP95Milliseconds"`
}

// DefaultSettings are the thresholds when the stack does not say.
func DefaultSettings() Settings {
	return Settings{
		Emails:                     []string{},
		HTTPSEndpoints:             []string{},
		DatabaseCPUPercent:         80,
		DatabaseFreeStorageGiB:     10,
		DatabaseConnections:        400,
		ReplicaLagSeconds:          60,
		CacheCPUPercent:            80,
		CacheMemoryPercent:         85,
		CacheEvictions:             1000,
		CacheReplicationLagSeconds: 30,
		QueueOldestMessageSeconds:  600,
		NodeCPUPercent:             80,
		NodeMemoryPercent:          85,
		Target5xxPercent:           1,
		LatencyP95Milliseconds:     200,
	}
}

// Check returns what is wrong, fields named as in the config.
func (s Settings) Check() []check.Problem {
	p := check.New("")
	for i, e := range s.Emails {
		if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
			p.Add(fmt.Sprintf("emails[%d]", i), "%q is not an email address (a bare address, e.g. oncall@example.com)", e)
		}
	}
	for i, e := range s.HTTPSEndpoints {
		u, err := url.Parse(e)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			p.Add(fmt.Sprintf("httpsEndpoints[%d]", i), "%q is not an https:// URL; SNS delivers alarms only over TLS here", e)
		}
	}
	// Percentages must be crossable (below 100), every threshold above 0.
	bounded := []struct {
		field   string
		v       float64
		percent bool
	}{
		{"databaseCpuPercent", s.DatabaseCPUPercent, true}, {"cacheCpuPercent", s.CacheCPUPercent, true},
		{"cacheMemoryPercent", s.CacheMemoryPercent, true}, {"nodeCpuPercent", s.NodeCPUPercent, true},
		{"nodeMemoryPercent", s.NodeMemoryPercent, true}, {"target5xxPercent", s.Target5xxPercent, true},
		{"databaseFreeStorageGiB", s.DatabaseFreeStorageGiB, false}, {"databaseConnections", s.DatabaseConnections, false},
		{"replicaLagSeconds", s.ReplicaLagSeconds, false}, {"cacheEvictions", s.CacheEvictions, false},
		{"cacheReplicationLagSeconds", s.CacheReplicationLagSeconds, false}, {"latencyP95Milliseconds", s.LatencyP95Milliseconds, false},
	}
	for _, c := range bounded {
		switch {
		case c.percent && (c.v <= 0 || c.v >= 100):
			p.Add(c.field, "%v: allowed above 0 and below 100 (a percentage that can be crossed)", c.v)
		case !c.percent && c.v <= 0:
			p.Add(c.field, "%v: allowed above 0", c.v)
		}
	}
	// SQS keeps a message at most 14 days: an age threshold beyond can
	// never be crossed.
	if s.QueueOldestMessageSeconds < 60 || s.QueueOldestMessageSeconds > 1209600 {
		p.Add("queueOldestMessageSeconds", "%v: allowed 60 to 1209600 (SQS keeps a message at most 14 days)", s.QueueOldestMessageSeconds)
	}
	return p.List()
}

// Comparison operators.
const (
	Above = "GreaterThanThreshold"
	Below = "LessThanThreshold"
)

// Missing data treatments.
const (
	Missing      = "missing"
	NotBreaching = "notBreaching"
	Breaching    = "breaching"
)

// Subjects that are not services: alarm names start with
// "<stack>-<region>-<subject>-", and the canary workflow reads every alarm
// whose subject is its service, so a platform part must never share a
// service's name.
const (
	SubjectCache   = "cache"
	SubjectCluster = "cluster"
	SubjectRegion  = "region"
	SubjectLogs    = "logs"
)

// Spec is one metric alarm, fully decided before anything is created.
type Spec struct {
	// Name is "<stack>-<region>-<subject>-<what>".
	Name string
	// Subject is the service the alarm is about, or a platform part
	// (cache, cluster). What is the condition, e.g. "db-cpu".
	Subject, What string
	// Description says what fired and where to look (the runbook line).
	Description string
	Namespace   string
	Metric      string
	// Statistic is a plain one ("Average") or a percentile ("p95").
	Statistic string
	// Dimensions by name; a value is a placeholder (CacheNode,
	// LoadBalancer, TargetGroup(svc): ids known only at apply) or a
	// literal.
	Dimensions map[string]string
	// Expression, when set, makes the alarm metric math over Terms (each
	// a metric of Namespace and Dimensions); Metric and Statistic are
	// then unused.
	Expression string
	Terms      []Term
	Period     int
	// Evaluation periods, of which DatapointsToAlarm must breach.
	Evaluation, DatapointsToAlarm int
	Threshold                     float64
	Comparison                    string
	TreatMissing                  string
	// Health marks the alarms whose state says the region cannot serve:
	// they make up the region-unhealthy composite alarm.
	Health bool
}

// CacheNode stands for the cache node id in a dimension value, e.g.
// CacheNode+"-001": the replication group's id is known only at apply.
const CacheNode = "{cacheGroup}"

// LoadBalancer stands for the region's load balancer's ARN suffix in a
// dimension value ("app/<name>/<id>": the id is AWS's).
const LoadBalancer = "{loadBalancer}"

// TargetGroup stands for a service's target group's ARN suffix.
func TargetGroup(svc string) string { return "{targetGroup:" + svc + "}" }

// CanaryTargetGroup stands for a service's canary target group's ARN
// suffix.
func CanaryTargetGroup(svc string) string { return "{targetGroup:" + svc + "/canary}" }

// requestSpecs are the request alarms of one target group: its 5xx rate
// (metric math, a quiet minute has no data points: not an error) and its
// p95 response time. who names it in descriptions, prefix its alarms'
// <what>.
func requestSpecs(svc, who, prefix string, dims map[string]string, s Settings) []Spec {
	return []Spec{
		{Subject: svc, What: prefix + "5xx-rate", Namespace: "AWS/ApplicationELB", Dimensions: dims,
			Expression: fmt.Sprintf("IF(requests >= %d, 100 * FILL(errors, 0) / requests, 0)", MinRequestsForErrorRate),
			Terms:      []Term{{ID: "errors", Metric: "HTTPCode_Target_5XX_Count", Statistic: "Sum"}, {ID: "requests", Metric: "RequestCount", Statistic: "Sum"}},
			Period:     60, Evaluation: 5, DatapointsToAlarm: 3, Threshold: s.Target5xxPercent, Comparison: Above, TreatMissing: NotBreaching,
			Description: fmt.Sprintf("%s: more than %v%% of requests answered 5xx in 3 of 5 minutes", who, s.Target5xxPercent)},
		{Subject: svc, What: prefix + "p95-latency", Namespace: "AWS/ApplicationELB", Metric: "TargetResponseTime", Statistic: "p95",
			Dimensions: dims, Period: 60, Evaluation: 5, DatapointsToAlarm: 3, Threshold: s.LatencyP95Milliseconds / 1000, Comparison: Above, TreatMissing: NotBreaching,
			Description: fmt.Sprintf("%s: p95 response time above %v ms in 3 of 5 minutes", who, s.LatencyP95Milliseconds)},
	}
}

// Term is one metric of a metric-math alarm, named by ID in Expression.
type Term struct {
	ID, Metric, Statistic string
}

// IsPercentile reports whether a statistic is a percentile ("p95"),
// which CloudWatch takes as an extended statistic.
func IsPercentile(stat string) bool { return strings.HasPrefix(stat, "p") }

// The health of a service behind the load balancer: no healthy target
// for two consecutive minutes. Route 53 reads these alarms (the traffic
// path's failover), so they use one standard-resolution metric with a
// plain statistic, which is all it accepts.
const (
	TargetHealthPeriodSeconds     = 60
	TargetHealthEvaluationPeriods = 2
)

// MinRequestsForErrorRate: below this many requests a minute a service's
// 5xx rate is not judged (two failures of ten at night are not an
// outage).
const MinRequestsForErrorRate = 50

// Names builds alarm names for one stack and region.
type Names struct {
	Stack, Region string
}

// Prefix is what every alarm name of the region starts with.
func (n Names) Prefix() string { return n.Stack + "-" + n.Region + "-" }

// Name is one alarm's name.
func (n Names) Name(subject, what string) string { return n.Prefix() + subject + "-" + what }

// Database is one service's database in the region.
type Database struct {
	// Identifier is the RDS instance identifier (DBInstanceIdentifier).
	Identifier string
	// Replica is true for a cross-region read replica: it has a lag.
	Replica bool
}

// Queue is one consumer's queue and its dead-letter queue, by name.
type Queue struct {
	Name, DlqName string
}

// Inputs are what the alarms are about, all known before apply.
type Inputs struct {
	Names Names
	// Databases by service.
	Databases map[string]Database
	// CacheNodes is the number of cache nodes (primary and replicas).
	CacheNodes int
	// Queues by consuming service.
	Queues map[string]Queue
	// ClusterName is the EKS cluster.
	ClusterName string
	// Services run on the cluster, each in its namespace with a Kubernetes
	// Service of its name, and at least MinPods pods.
	Services map[string]Service
}

// Service is one service's pods on the cluster.
type Service struct {
	Namespace, ServiceName string
	MinPods                int
	// Routed: the region's load balancer sends the service requests
	// through a target group of its own (request and target alarms).
	Routed bool
	// Canary: a canary takes part of them through a target group of its
	// own (its own request alarms).
	Canary bool
}

// Specs are every metric alarm of a region, sorted by name.
func Specs(in Inputs, s Settings) []Spec {
	n := in.Names
	var out []Spec
	add := func(sp Spec) {
		sp.Name = n.Name(sp.Subject, sp.What)
		if sp.Period == 0 {
			sp.Period = 300
		}
		if sp.Evaluation == 0 {
			sp.Evaluation = 1
		}
		if sp.DatapointsToAlarm == 0 {
			sp.DatapointsToAlarm = sp.Evaluation
		}
		if sp.TreatMissing == "" {
			sp.TreatMissing = Missing
		}
		out = append(out, sp)
	}

	for _, svc := range slices.Sorted(maps.Keys(in.Databases)) {
		db := in.Databases[svc]
		dims := map[string]string{"DBInstanceIdentifier": db.Identifier}
		add(Spec{Subject: svc, What: "db-cpu", Namespace: "AWS/RDS", Metric: "CPUUtilization", Statistic: "Average",
			Dimensions: dims, Evaluation: 3, Threshold: s.DatabaseCPUPercent, Comparison: Above,
			Description: fmt.Sprintf("%s database %s: CPU above %v%% for 15 minutes", svc, db.Identifier, s.DatabaseCPUPercent)})
		add(Spec{Subject: svc, What: "db-free-storage", Namespace: "AWS/RDS", Metric: "FreeStorageSpace", Statistic: "Minimum",
			Dimensions: dims, Threshold: s.DatabaseFreeStorageGiB * (1 << 30), Comparison: Below,
			Description: fmt.Sprintf("%s database %s: free storage below %v GiB", svc, db.Identifier, s.DatabaseFreeStorageGiB)})
		add(Spec{Subject: svc, What: "db-connections", Namespace: "AWS/RDS", Metric: "DatabaseConnections", Statistic: "Maximum",
			Dimensions: dims, Evaluation: 3, Threshold: s.DatabaseConnections, Comparison: Above,
			Description: fmt.Sprintf("%s database %s: more than %v connections for 15 minutes", svc, db.Identifier, s.DatabaseConnections)})
		if db.Replica {
			add(Spec{Subject: svc, What: "db-replica-lag", Namespace: "AWS/RDS", Metric: "ReplicaLag", Statistic: "Maximum",
				Dimensions: dims, Period: 60, Evaluation: 5, Threshold: s.ReplicaLagSeconds, Comparison: Above,
				// A replica that stops replicating stops reporting.
				TreatMissing: Breaching,
				Description:  fmt.Sprintf("%s replica %s: more than %v s behind its primary for 5 minutes", svc, db.Identifier, s.ReplicaLagSeconds)})
		}
	}

	for i := 1; i <= in.CacheNodes; i++ {
		node := fmt.Sprintf("%03d", i)
		dims := map[string]string{"CacheClusterId": CacheNode + "-" + node}
		add(Spec{Subject: SubjectCache, What: node + "-cpu", Namespace: "AWS/ElastiCache", Metric: "EngineCPUUtilization", Statistic: "Average",
			Dimensions: dims, Evaluation: 3, Threshold: s.CacheCPUPercent, Comparison: Above,
			Description: fmt.Sprintf("cache node %s: Redis engine CPU above %v%% for 15 minutes", node, s.CacheCPUPercent)})
		add(Spec{Subject: SubjectCache, What: node + "-memory", Namespace: "AWS/ElastiCache", Metric: "DatabaseMemoryUsagePercentage", Statistic: "Average",
			Dimensions: dims, Evaluation: 3, Threshold: s.CacheMemoryPercent, Comparison: Above,
			Description: fmt.Sprintf("cache node %s: memory above %v%% of maxmemory for 15 minutes", node, s.CacheMemoryPercent)})
		add(Spec{Subject: SubjectCache, What: node + "-evictions", Namespace: "AWS/ElastiCache", Metric: "Evictions", Statistic: "Sum",
			Dimensions: dims, Threshold: s.CacheEvictions, Comparison: Above, TreatMissing: NotBreaching,
			Description: fmt.Sprintf("cache node %s: more than %v keys evicted in 5 minutes", node, s.CacheEvictions)})
		if in.CacheNodes > 1 {
			// Only the node that is a replica at the time reports a lag;
			// which one moves with failovers, so every node has the alarm.
			add(Spec{Subject: SubjectCache, What: node + "-replication-lag", Namespace: "AWS/ElastiCache", Metric: "ReplicationLag", Statistic: "Maximum",
				Dimensions: dims, Period: 60, Evaluation: 5, Threshold: s.CacheReplicationLagSeconds, Comparison: Above, TreatMissing: NotBreaching,
				Description: fmt.Sprintf("cache node %s: a replica more than %v s behind for 5 minutes", node, s.CacheReplicationLagSeconds)})
		}
	}

	for _, consumer := range slices.Sorted(maps.Keys(in.Queues)) {
		q := in.Queues[consumer]
		// SQS stops reporting an idle queue's metrics after 6 hours: no
		// data is a quiet queue.
		add(Spec{Subject: consumer, What: "queue-oldest-message", Namespace: "AWS/SQS", Metric: "ApproximateAgeOfOldestMessage", Statistic: "Maximum",
			Dimensions: map[string]string{"QueueName": q.Name}, Evaluation: 2, Threshold: s.QueueOldestMessageSeconds, Comparison: Above, TreatMissing: NotBreaching,
			Description: fmt.Sprintf("%s queue %s: a message waiting more than %v s", consumer, q.Name, s.QueueOldestMessageSeconds)})
		add(Spec{Subject: consumer, What: "dlq-messages", Namespace: "AWS/SQS", Metric: "ApproximateNumberOfMessagesVisible", Statistic: "Maximum",
			Dimensions: map[string]string{"QueueName": q.DlqName}, Threshold: 0, Comparison: Above, TreatMissing: NotBreaching,
			Description: fmt.Sprintf("%s dead-letter queue %s: a message failed every delivery", consumer, q.DlqName)})
	}

	if in.ClusterName != "" {
		dims := map[string]string{"ClusterName": in.ClusterName}
		add(Spec{Subject: SubjectCluster, What: "node-cpu", Namespace: "ContainerInsights", Metric: "node_cpu_utilization", Statistic: "Average",
			Dimensions: dims, Evaluation: 3, Threshold: s.NodeCPUPercent, Comparison: Above,
			Description: fmt.Sprintf("cluster %s: nodes above %v%% CPU on average for 15 minutes", in.ClusterName, s.NodeCPUPercent)})
		add(Spec{Subject: SubjectCluster, What: "node-memory", Namespace: "ContainerInsights", Metric: "node_memory_utilization", Statistic: "Average",
			Dimensions: dims, Evaluation: 3, Threshold: s.NodeMemoryPercent, Comparison: Above,
			Description: fmt.Sprintf("cluster %s: nodes above %v%% memory on average for 15 minutes", in.ClusterName, s.NodeMemoryPercent)})
		add(Spec{Subject: SubjectCluster, What: "failed-nodes", Namespace: "ContainerInsights", Metric: "cluster_failed_node_count", Statistic: "Maximum",
			Dimensions: dims, Period: 60, Evaluation: 5, Threshold: 0, Comparison: Above, Health: true,
			Description: fmt.Sprintf("cluster %s: a node failing for 5 minutes", in.ClusterName)})
		for _, svc := range slices.Sorted(maps.Keys(in.Services)) {
			sv := in.Services[svc]
			// No data means no pod reports: as bad as none running.
			add(Spec{Subject: svc, What: "pods-running", Namespace: "ContainerInsights", Metric: "service_number_of_running_pods", Statistic: "Minimum",
				Dimensions: map[string]string{"ClusterName": in.ClusterName, "Namespace": sv.Namespace, "Service": sv.ServiceName},
				Period:     60, Evaluation: 5, Threshold: float64(sv.MinPods), Comparison: Below, TreatMissing: Breaching, Health: true,
				Description: fmt.Sprintf("%s: fewer than %d pods running behind Service %s/%s for 5 minutes", svc, sv.MinPods, sv.Namespace, sv.ServiceName)})
		}
	}

	for _, svc := range slices.Sorted(maps.Keys(in.Services)) {
		sv := in.Services[svc]
		if !sv.Routed {
			continue
		}
		dims := map[string]string{"LoadBalancer": LoadBalancer, "TargetGroup": TargetGroup(svc)}
		// No data means the load balancer reports nothing: as bad as no
		// healthy target.
		add(Spec{Subject: svc, What: "healthy-targets", Namespace: "AWS/ApplicationELB", Metric: "HealthyHostCount", Statistic: "Minimum",
			Dimensions: dims, Period: TargetHealthPeriodSeconds, Evaluation: TargetHealthEvaluationPeriods, Threshold: 1, Comparison: Below,
			TreatMissing: Breaching, Health: true,
			Description: fmt.Sprintf("%s: no healthy target behind the load balancer for %d minutes (in a multi-region model Route 53 takes the region out of the API's answers)", svc, TargetHealthEvaluationPeriods)})
		for _, sp := range requestSpecs(svc, svc, "", dims, s) {
			add(sp)
		}
		if sv.Canary {
			// The canary's own requests, in its own target group: what
			// the canary workflow judges it by (it reads every alarm of
			// the service).
			cdims := map[string]string{"LoadBalancer": LoadBalancer, "TargetGroup": CanaryTargetGroup(svc)}
			for _, sp := range requestSpecs(svc, svc+" canary", "canary-", cdims, s) {
				add(sp)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// CompositeRule is the rule of the region-unhealthy alarm: any of the
// given alarms in ALARM.
func CompositeRule(names []string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("ALARM(%q)", n)
	}
	return strings.Join(parts, " OR ")
}

// CheckSpecs returns what CloudWatch would refuse: names too long or
// repeated, too many dimensions, a composite rule too long.
func CheckSpecs(specs []Spec, composite string, rule string) []check.Problem {
	p := check.New("")
	seen := map[string]bool{}
	for _, s := range append(specs, Spec{Name: composite}) {
		if len(s.Name) > MaxAlarmNameLength {
			p.Add("alarms", "name %q is %d characters; CloudWatch allows %d", s.Name, len(s.Name), MaxAlarmNameLength)
		}
		if seen[s.Name] {
			p.Add("alarms", "name %q is used twice", s.Name)
		}
		seen[s.Name] = true
		if len(s.Dimensions) > MaxDimensions {
			p.Add("alarms", "%s has %d dimensions; CloudWatch allows %d", s.Name, len(s.Dimensions), MaxDimensions)
		}
	}
	if len(rule) > MaxCompositeRuleLength {
		p.Add("alarms", "the rule of %s is %d characters; CloudWatch allows %d", composite, len(rule), MaxCompositeRuleLength)
	}
	return p.List()
}

// Runbook is the anchor of the alarm's line in docs/operations.md: one per
// kind of alarm (every cache node shares its kind's line).
func (s Spec) Runbook() string {
	switch s.Subject {
	case SubjectCache:
		_, kind, _ := strings.Cut(s.What, "-")
		return "cache-" + kind
	case SubjectCluster:
		return "cluster-" + s.What
	case SubjectLogs:
		// "<source>-<region>-<kind>": every stream shares its kind's line.
		return "logs-" + s.What[strings.LastIndex(s.What, "-")+1:]
	}
	return s.What
}
