package observe_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/observe"
	"github.com/example/ecommerce-platform/stacks/plan"
)

func inputs() observe.Inputs {
	return observe.Inputs{
		Names: observe.Names{Stack: "prod", Region: "eu-west-1"},
		Databases: map[string]observe.Database{
			"order": {Identifier: "ecommerce-prod-eu-west-1-order", Replica: true},
			"auth":  {Identifier: "ecommerce-prod-eu-west-1-auth", Replica: true},
		},
		CacheNodes:  2,
		Queues:      map[string]observe.Queue{"product": {Name: "q-product", DlqName: "q-product-dlq"}},
		ClusterName: "ecommerce-prod-eu-west-1",
		Services: map[string]observe.Service{
			"order": {Namespace: "order", ServiceName: "order", MinPods: 5, Routed: true},
			"auth":  {Namespace: "auth", ServiceName: "auth", MinPods: 3},
		},
	}
}

func validArgs() *observe.Args {
	in := inputs()
	return &observe.Args{
		Names: in.Names, DisplayName: "ecommerce-prod-eu-west-1", AccountID: plan.TestAccount,
		Settings:       observe.DefaultSettings(),
		TopicKmsKeyArn: pulumi.String("arn:aws:kms:eu-west-1:123456789012:key/messaging"),
		Alarms:         in,
		CacheGroupID:   pulumi.String("ecommerce-prod-eu-west-1-cache-abc"),
		Cluster: &observe.ClusterArgs{
			OidcProviderArn:  pulumi.String("arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/X"),
			OidcIssuerURL:    pulumi.String("https://oidc.eks.eu-west-1.amazonaws.com/id/X"),
			LogsKmsKeyArn:    pulumi.String("arn:aws:kms:eu-west-1:123456789012:key/logs"),
			LogRetentionDays: 30,
		},
		LoadBalancer: &observe.LoadBalancerArgs{
			ArnSuffix:    pulumi.String("app/ecommerce-prod-eu-west-1/0123456789abcdef"),
			TargetGroups: map[string]pulumi.StringInput{"order": pulumi.String("targetgroup/ecommerce-prod-eu-west-1-order/fedcba9876543210")},
		},
	}
}

func byName(specs []observe.Spec) map[string]observe.Spec {
	out := map[string]observe.Spec{}
	for _, s := range specs {
		out[s.Name] = s
	}
	return out
}

// Every alarm names its stack, region and subject first: the canary reads
// a service's alarms by "<stack>-<region>-<service>-".
func TestSpecsNameServiceAndRegion(t *testing.T) {
	specs := observe.Specs(inputs(), observe.DefaultSettings())
	names := byName(specs)
	for _, want := range []string{
		"prod-eu-west-1-order-db-cpu", "prod-eu-west-1-order-db-free-storage", "prod-eu-west-1-order-db-connections",
		"prod-eu-west-1-order-db-replica-lag", "prod-eu-west-1-auth-db-replica-lag",
		"prod-eu-west-1-cache-001-cpu", "prod-eu-west-1-cache-002-memory", "prod-eu-west-1-cache-001-evictions",
		"prod-eu-west-1-cache-002-replication-lag",
		"prod-eu-west-1-product-queue-oldest-message", "prod-eu-west-1-product-dlq-messages",
		"prod-eu-west-1-cluster-node-cpu", "prod-eu-west-1-cluster-node-memory", "prod-eu-west-1-cluster-failed-nodes",
		"prod-eu-west-1-order-pods-running", "prod-eu-west-1-auth-pods-running",
		"prod-eu-west-1-order-healthy-targets", "prod-eu-west-1-order-5xx-rate", "prod-eu-west-1-order-p95-latency",
	} {
		assert.Contains(t, names, want)
	}
	assert.Len(t, specs, 2*4+2*4+2+3+2+3, "request alarms only for the routed service")
	for _, s := range specs {
		assert.True(t, strings.HasPrefix(s.Name, "prod-eu-west-1-"+s.Subject+"-"), s.Name)
		assert.Contains(t, s.Description, s.Subject, "%s says what it is about", s.Name)
	}
	dlq := names["prod-eu-west-1-product-dlq-messages"]
	assert.Equal(t, "q-product-dlq", dlq.Dimensions["QueueName"])
	assert.Zero(t, dlq.Threshold, "one visible message in a DLQ fires")
	assert.Equal(t, observe.Above, dlq.Comparison)
	storage := names["prod-eu-west-1-order-db-free-storage"]
	assert.InDelta(t, 10*(1<<30), storage.Threshold, 0.5, "GiB in bytes")
	assert.Equal(t, observe.Below, storage.Comparison)
	pods := names["prod-eu-west-1-order-pods-running"]
	assert.EqualValues(t, 5, pods.Threshold)
	assert.Equal(t, observe.Breaching, pods.TreatMissing, "no pod reporting is as bad as none running")
	assert.Equal(t, map[string]string{"ClusterName": "ecommerce-prod-eu-west-1", "Namespace": "order", "Service": "order"}, pods.Dimensions)
	assert.Equal(t, observe.CacheNode+"-002", names["prod-eu-west-1-cache-002-cpu"].Dimensions["CacheClusterId"])
}

func TestPrimariesHaveNoLagAlarmAndSingleCacheNoReplicationLag(t *testing.T) {
	in := inputs()
	in.Databases = map[string]observe.Database{"order": {Identifier: "db"}}
	in.CacheNodes = 1
	for _, s := range observe.Specs(in, observe.DefaultSettings()) {
		assert.NotEqual(t, "ReplicaLag", s.Metric, "a primary has no replica lag")
		assert.NotEqual(t, "ReplicationLag", s.Metric, "a single cache node has no replica")
	}
}

func TestSettingsCheck(t *testing.T) {
	s := observe.DefaultSettings()
	assert.Empty(t, s.Check())
	s.Emails = []string{"oncall@example.com", "Bob <bob@example.com>", "nobody"}
	s.HTTPSEndpoints = []string{"https://hooks.example.com/x", "http://hooks.example.com/x"}
	s.DatabaseCPUPercent = 100
	s.QueueOldestMessageSeconds = 2000000
	s.CacheEvictions = 0
	s.Target5xxPercent = 0
	s.LatencyP95Milliseconds = -5
	var fields []string
	for _, p := range s.Check() {
		fields = append(fields, p.Field)
	}
	assert.Equal(t, []string{"emails[1]", "emails[2]", "httpsEndpoints[1]", "databaseCpuPercent", "target5xxPercent",
		"cacheEvictions", "latencyP95Milliseconds", "queueOldestMessageSeconds"}, fields)
}

func TestCheckSpecsEnforcesCloudWatchLimits(t *testing.T) {
	long := observe.Spec{Name: strings.Repeat("a", 256)}
	dims := observe.Spec{Name: "d", Dimensions: map[string]string{}}
	for i := 0; i < 31; i++ {
		dims.Dimensions[string(rune('a'+i%26))+strings.Repeat("x", i)] = "v"
	}
	names := make([]string, 300)
	for i := range names {
		names[i] = strings.Repeat("n", 40)
	}
	problems := observe.CheckSpecs([]observe.Spec{long, dims, {Name: "d"}}, "c", observe.CompositeRule(names))
	var msgs []string
	for _, p := range problems {
		msgs = append(msgs, p.Msg)
	}
	joined := strings.Join(msgs, "\n")
	assert.Contains(t, joined, "256 characters; CloudWatch allows 255")
	assert.Contains(t, joined, "31 dimensions")
	assert.Contains(t, joined, `"d" is used twice`)
	assert.Contains(t, joined, "CloudWatch allows 10240")
}

func TestObservabilityChecksArgsFirst(t *testing.T) {
	cases := map[string]struct {
		change func(a *observe.Args) *observe.Args
		field  string
	}{
		"nil args":      {func(*observe.Args) *observe.Args { return nil }, "Args"},
		"no stack":      {func(a *observe.Args) *observe.Args { a.Names.Stack = ""; return a }, "Names.Stack"},
		"no topic key":  {func(a *observe.Args) *observe.Args { a.TopicKmsKeyArn = nil; return a }, "TopicKmsKeyArn"},
		"bad email":     {func(a *observe.Args) *observe.Args { a.Settings.Emails = []string{"x"}; return a }, "Settings.emails[0]"},
		"cache no id":   {func(a *observe.Args) *observe.Args { a.CacheGroupID = nil; return a }, "CacheGroupID"},
		"no insights":   {func(a *observe.Args) *observe.Args { a.Cluster = nil; return a }, "Cluster"},
		"bad retention": {func(a *observe.Args) *observe.Args { a.Cluster.LogRetentionDays = 2; return a }, "Cluster.LogRetentionDays"},
		"service named like a platform part": {func(a *observe.Args) *observe.Args {
			a.Alarms.Queues["cache"] = observe.Queue{Name: "q", DlqName: "d"}
			return a
		}, "Alarms"},
		"routed without a load balancer": {func(a *observe.Args) *observe.Args { a.LoadBalancer = nil; return a }, "LoadBalancer"},
		"routed without a target group": {func(a *observe.Args) *observe.Args {
			a.LoadBalancer.TargetGroups = map[string]pulumi.StringInput{}
			return a
		}, "LoadBalancer.TargetGroups"},
		"name too long": {func(a *observe.Args) *observe.Args { a.Names.Stack = strings.Repeat("s", 240); return a }, "alarms"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			inv, err := plan.RunComponent("eu-west-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
				_, err := observe.New(ctx, "obs", tc.change(validArgs()), opts...)
				return err
			})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.field+":")
			assert.True(t, inv.OnlyProviders(), "nothing is created")
		})
	}
}

func TestAlarmsNotifyTheEncryptedTopic(t *testing.T) {
	args := validArgs()
	args.Settings.Emails = []string{"oncall@example.com"}
	args.Settings.HTTPSEndpoints = []string{"https://hooks.example.com/alarms"}
	var obs *observe.Observability
	inv, err := plan.RunComponent("eu-west-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		var err error
		obs, err = observe.New(ctx, "eu-west-1-observe", args, opts...)
		return err
	})
	require.NoError(t, err)
	comp := inv.Find("ecommerce:observe:Observability", "eu-west-1-observe")
	require.NotNil(t, comp)
	for _, r := range inv.Descendants(comp) {
		assert.Equal(t, "eu-west-1", r.Region, "%s %s stays in its region", r.Type, r.Name)
	}

	topic := inv.Find("aws:sns/topic:Topic", "eu-west-1-observe-alarms")
	require.NotNil(t, topic)
	assert.Equal(t, "arn:aws:kms:eu-west-1:123456789012:key/messaging", topic.String("kmsMasterKeyId"))
	topicArn := "arn:aws:sns:eu-west-1:123456789012:ecommerce-prod-eu-west-1-alarms"

	policy := inv.Find("aws:sns/topicPolicy:TopicPolicy", "eu-west-1-observe-alarms")
	require.NotNil(t, policy)
	var doc struct{ Statement []map[string]any }
	require.NoError(t, json.Unmarshal([]byte(policy.String("policy")), &doc))
	require.Len(t, doc.Statement, 3)
	cw := doc.Statement[1]
	assert.Equal(t, map[string]any{"Service": "cloudwatch.amazonaws.com"}, cw["Principal"])
	assert.Equal(t, "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:prod-eu-west-1-*",
		cw["Condition"].(map[string]any)["ArnLike"].(map[string]any)["aws:SourceArn"], "only this stack's alarms in the region")

	subs := inv.OfType("aws:sns/topicSubscription:TopicSubscription")
	require.Len(t, subs, 2)
	protocols := map[string]string{}
	for _, s := range subs {
		protocols[s.String("protocol")] = s.String("endpoint")
		assert.Equal(t, topicArn, s.String("topic"))
	}
	assert.Equal(t, map[string]string{"email": "oncall@example.com", "https": "https://hooks.example.com/alarms"}, protocols)

	alarms := inv.OfType("aws:cloudwatch/metricAlarm:MetricAlarm")
	require.Len(t, alarms, len(obs.Specs))
	addon := inv.Find("aws:eks/addon:Addon", "eu-west-1-observe-"+observe.AddonName)
	require.NotNil(t, addon)
	for _, a := range alarms {
		assert.Equal(t, []any{topicArn}, a.Get("alarmActions"), a.Name)
		assert.Equal(t, []any{topicArn}, a.Get("okActions"), a.Name)
		assert.Contains(t, a.String("alarmDescription"), "runbook: docs/operations.md#", a.Name)
		if a.String("namespace") == "ContainerInsights" {
			assert.True(t, inv.WaitsFor(a, addon), "%s waits for the agent that feeds it", a.Name)
		}
	}
	cpu := inv.Find("aws:cloudwatch/metricAlarm:MetricAlarm", "eu-west-1-observe-cache-002-cpu")
	require.NotNil(t, cpu)
	assert.Equal(t, "ecommerce-prod-eu-west-1-cache-abc-002", cpu.String("dimensions.CacheClusterId"), "the node id from the group's id")

	composite := inv.Find("aws:cloudwatch/compositeAlarm:CompositeAlarm", "eu-west-1-observe-region-unhealthy")
	require.NotNil(t, composite)
	assert.Equal(t, "prod-eu-west-1-region-unhealthy", composite.String("alarmName"))
	assert.Equal(t, `ALARM("prod-eu-west-1-auth-pods-running") OR ALARM("prod-eu-west-1-cluster-failed-nodes") OR `+
		`ALARM("prod-eu-west-1-order-healthy-targets") OR ALARM("prod-eu-west-1-order-pods-running")`,
		composite.String("alarmRule"))
	assert.Equal(t, []string{"prod-eu-west-1-auth-pods-running", "prod-eu-west-1-cluster-failed-nodes",
		"prod-eu-west-1-order-healthy-targets", "prod-eu-west-1-order-pods-running"}, obs.HealthAlarms)
	for _, name := range obs.HealthAlarms {
		child := inv.Find("aws:cloudwatch/metricAlarm:MetricAlarm", "eu-west-1-observe-"+strings.TrimPrefix(name, "prod-eu-west-1-"))
		require.NotNil(t, child, name)
		assert.True(t, inv.WaitsFor(composite, child), "CloudWatch refuses a rule naming an alarm that does not exist yet: %s", name)
	}

	// Container Insights: encrypted, retained groups first, then the
	// add-on with its own role (the nodes get no CloudWatch permission).
	for _, kind := range observe.ContainerInsightsGroups {
		g := inv.Find("aws:cloudwatch/logGroup:LogGroup", "eu-west-1-observe-insights-"+kind)
		require.NotNil(t, g, kind)
		assert.Equal(t, "/aws/containerinsights/ecommerce-prod-eu-west-1/"+kind, g.String("name"))
		assert.Equal(t, "arn:aws:kms:eu-west-1:123456789012:key/logs", g.String("kmsKeyId"))
		assert.EqualValues(t, 30, g.Get("retentionInDays"))
		assert.True(t, inv.WaitsFor(addon, g), "the add-on waits for %s", kind)
	}
	role := inv.Find("aws:iam/role:Role", "eu-west-1-observe-cloudwatch-agent")
	require.NotNil(t, role)
	assert.Contains(t, role.String("assumeRolePolicy"), "system:serviceaccount:amazon-cloudwatch:cloudwatch-agent")
	attach := inv.Find("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "eu-west-1-observe-cloudwatch-agent-0")
	require.NotNil(t, attach)
	assert.Equal(t, "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy", attach.String("policyArn"))
	assert.Contains(t, addon.String("serviceAccountRoleArn"), ":role/eu-west-1-observe-cloudwatch-agent-", "the agent runs as its own role")
}

// A routed service's request alarms read its target group at the load
// balancer: no healthy target (in the shape Route 53 accepts, as the
// traffic path's health checks read it), the 5xx rate as metric math,
// and the p95 response time as a percentile.
func TestRequestAlarmsReadTheLoadBalancer(t *testing.T) {
	var obs *observe.Observability
	inv, err := plan.RunComponent("eu-west-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		var err error
		obs, err = observe.New(ctx, "obs", validArgs(), opts...)
		return err
	})
	require.NoError(t, err)
	const alarm = "aws:cloudwatch/metricAlarm:MetricAlarm"
	lb, tg := "app/ecommerce-prod-eu-west-1/0123456789abcdef", "targetgroup/ecommerce-prod-eu-west-1-order/fedcba9876543210"

	health := inv.Find(alarm, "obs-order-healthy-targets")
	require.NotNil(t, health)
	assert.Equal(t, "prod-eu-west-1-order-healthy-targets", health.String("name"))
	assert.Equal(t, "HealthyHostCount", health.String("metricName"))
	assert.Equal(t, "Minimum", health.String("statistic"))
	assert.Nil(t, health.Get("metricQueries"), "Route 53 refuses metric math")
	assert.Nil(t, health.Get("extendedStatistic"), "Route 53 refuses percentiles")
	assert.EqualValues(t, observe.TargetHealthPeriodSeconds, health.Get("period"), "standard resolution")
	assert.Equal(t, "breaching", health.String("treatMissingData"))
	assert.Equal(t, lb, health.String("dimensions.LoadBalancer"))
	assert.Equal(t, tg, health.String("dimensions.TargetGroup"))
	require.Contains(t, obs.TargetHealth, "order")
	assert.NotContains(t, obs.TargetHealth, "auth", "auth is not behind the load balancer here")
	assert.Nil(t, inv.Find(alarm, "obs-auth-5xx-rate"))

	rate := inv.Find(alarm, "obs-order-5xx-rate")
	require.NotNil(t, rate)
	assert.Nil(t, rate.Get("metricName"), "metric math names its metrics in the queries")
	queries, _ := rate.Get("metricQueries").([]any)
	require.Len(t, queries, 3)
	byID := map[string]map[string]any{}
	for _, q := range queries {
		m := q.(map[string]any)
		byID[m["id"].(string)] = m
	}
	assert.Equal(t, true, byID["e"]["returnData"], "only the expression decides")
	assert.Contains(t, byID["e"]["expression"], "100 * FILL(errors, 0) / requests")
	for id, metric := range map[string]string{"errors": "HTTPCode_Target_5XX_Count", "requests": "RequestCount"} {
		m := byID[id]["metric"].(map[string]any)
		assert.Equal(t, metric, m["metricName"])
		assert.Equal(t, "Sum", m["stat"])
		assert.Equal(t, map[string]any{"LoadBalancer": lb, "TargetGroup": tg}, m["dimensions"])
	}
	assert.EqualValues(t, 1, rate.Get("threshold"), "percent")

	p95 := inv.Find(alarm, "obs-order-p95-latency")
	require.NotNil(t, p95)
	assert.Equal(t, "p95", p95.String("extendedStatistic"))
	assert.Nil(t, p95.Get("statistic"))
	assert.Equal(t, "TargetResponseTime", p95.String("metricName"))
	assert.InDelta(t, 0.2, p95.Get("threshold"), 1e-9, "the seed's 200 ms, in seconds as the metric reports")
	assert.EqualValues(t, 3, p95.Get("datapointsToAlarm"))
}

// A canary's own target group has its own request alarms, named for its
// service, so the canary workflow judges the canary by its own errors and
// latency; the stable alarms keep reading the stable target group.
func TestCanaryHasItsOwnRequestAlarms(t *testing.T) {
	args := validArgs()
	order := args.Alarms.Services["order"]
	order.Canary = true
	args.Alarms.Services["order"] = order
	const canaryTG = "targetgroup/ecommerce-prod-eu-west-1-order-c/0a0a0a0a0a0a0a0a"
	args.LoadBalancer.CanaryTargetGroups = map[string]pulumi.StringInput{"order": pulumi.String(canaryTG)}
	inv, err := plan.RunComponent("eu-west-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		_, err := observe.New(ctx, "obs", args, opts...)
		return err
	})
	require.NoError(t, err)
	const alarm = "aws:cloudwatch/metricAlarm:MetricAlarm"
	p95 := inv.Find(alarm, "obs-order-canary-p95-latency")
	require.NotNil(t, p95)
	assert.Equal(t, "prod-eu-west-1-order-canary-p95-latency", p95.String("name"), "under the service's prefix the canary workflow reads")
	assert.Equal(t, canaryTG, p95.String("dimensions.TargetGroup"))
	rate := inv.Find(alarm, "obs-order-canary-5xx-rate")
	require.NotNil(t, rate)
	assert.Contains(t, rate.String("metricQueries.1.metric.dimensions.TargetGroup")+rate.String("metricQueries.2.metric.dimensions.TargetGroup"), canaryTG)
	stable := inv.Find(alarm, "obs-order-p95-latency")
	require.NotNil(t, stable)
	assert.NotEqual(t, canaryTG, stable.String("dimensions.TargetGroup"))
	assert.Nil(t, inv.Find(alarm, "obs-order-canary-healthy-targets"), "a canary's health does not decide the region's")

	args.LoadBalancer.CanaryTargetGroups = nil
	_, err = plan.RunComponent("eu-west-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		_, err := observe.New(ctx, "obs", args, opts...)
		return err
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "LoadBalancer.CanaryTargetGroups:")
}
