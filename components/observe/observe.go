// Package observe makes one region operable: an encrypted alarm topic with
// its subscribers, CloudWatch alarms on the region's databases, cache,
// queues, nodes and pods (Container Insights through the
// amazon-cloudwatch-observability EKS add-on) and the load balancer's
// targets, a composite "region unhealthy" alarm, and the region's
// dashboard (the global one is NewGlobalDashboard).
//
// Every alarm is named "<stack>-<region>-<subject>-<what>", the subject
// being a service or a platform part (cache, cluster, region): the canary
// workflow (.github/workflows/canary-step.yml) reads a service's alarms by
// that prefix, and docs/operations.md has a runbook line per <what>.
package observe

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/check"
	"github.com/example/ecommerce-platform/components/cluster"
	"github.com/example/ecommerce-platform/components/iamdoc"
	"github.com/example/ecommerce-platform/components/logs"
	"github.com/example/ecommerce-platform/components/messaging"
)

// AddonName is the EKS add-on behind Container Insights.
const AddonName = "amazon-cloudwatch-observability"

// The add-on's agent runs as this service account (its IRSA role's
// subject).
const (
	AgentNamespace      = "amazon-cloudwatch"
	AgentServiceAccount = "cloudwatch-agent"
)

// ContainerInsightsGroups are the log groups the add-on writes to, under
// /aws/containerinsights/<cluster>/: created first, encrypted and retained,
// so the agent never creates its own plain, never-expiring ones.
var ContainerInsightsGroups = []string{"application", "dataplane", "host", "performance"}

// ContainerInsightsGroup is one of those log groups' names.
func ContainerInsightsGroup(clusterName, kind string) string {
	return fmt.Sprintf("/aws/containerinsights/%s/%s", clusterName, kind)
}

// Args configures one region's observability.
type Args struct {
	// Names are the stack (the Pulumi stack name, as the canary workflow
	// knows it) and region of every alarm name.
	Names Names
	// DisplayName names the topic and the dashboard.
	DisplayName string
	AccountID   string
	Settings    Settings
	// TopicKmsKeyArn encrypts the alarm topic: the region's messaging key,
	// whose policy admits CloudWatch for this region's alarms.
	TopicKmsKeyArn pulumi.StringInput
	// Alarms says what the alarms are about (databases, cache nodes,
	// queues, the cluster's services).
	Alarms Inputs
	// CacheGroupID is the cache's replication group id (its nodes are the
	// alarms' CacheClusterId); required when Alarms.CacheNodes > 0.
	CacheGroupID pulumi.StringInput
	// Cluster installs Container Insights; nil installs nothing (and the
	// node and pod alarms would have no data, so Alarms.ClusterName must
	// be empty too).
	Cluster *ClusterArgs
	// LoadBalancer is the region's load balancer, required when a service
	// is Routed: its request and target alarms name it and the service's
	// target group.
	LoadBalancer *LoadBalancerArgs
}

// ClusterArgs are what the Container Insights add-on needs.
type ClusterArgs struct {
	// OidcProviderArn and OidcIssuerURL give the agent its IRSA role.
	OidcProviderArn, OidcIssuerURL pulumi.StringInput
	// LogsKmsKeyArn encrypts the Container Insights log groups.
	LogsKmsKeyArn    pulumi.StringInput
	LogRetentionDays int
	// NodeGroups: the add-on's pods need nodes to become healthy.
	NodeGroups []pulumi.Resource
}

// LoadBalancerArgs are the region's load balancer's ARN suffix and the
// target group ARN suffix of each Routed service, as CloudWatch's
// dimensions name them.
type LoadBalancerArgs struct {
	ArnSuffix    pulumi.StringInput
	TargetGroups map[string]pulumi.StringInput
	// CanaryTargetGroups are the canaries' target groups by service, for
	// services with a Canary.
	CanaryTargetGroups map[string]pulumi.StringInput
}

// Observability is one region's alarms and Container Insights.
type Observability struct {
	pulumi.ResourceState

	// TopicArn is the alarm topic every alarm notifies.
	TopicArn pulumi.StringOutput `pulumi:"topicArn"`
	// Specs are the metric alarms as decided, sorted by name.
	Specs []Spec
	// RegionUnhealthy is the composite alarm in ALARM when any health
	// alarm is (a service with fewer pods than its minimum or no healthy
	// target, a failed node): one alarm to page on for the region.
	RegionUnhealthy *cloudwatch.CompositeAlarm
	// RegionUnhealthyName is its name; HealthAlarms are the metric alarms
	// it combines, for health checks that accept metric alarms only.
	RegionUnhealthyName string
	HealthAlarms        []string
	// TargetHealth are the services' healthy-targets alarms by service:
	// the traffic path's Route 53 health checks read them.
	TargetHealth map[string]*cloudwatch.MetricAlarm
	// Dashboard is the region's dashboard (named DisplayName): the alarms'
	// state and a graph per alarm with its threshold.
	Dashboard *cloudwatch.Dashboard
	// IDs are what the alarms' dimension placeholders stand for, for
	// graphs drawn elsewhere (the global dashboard).
	IDs pulumi.StringMapOutput
	// LogGroups are the Container Insights log groups by kind
	// ("application", ...); empty without Cluster.
	LogGroups map[string]*cloudwatch.LogGroup
}

func (a *Args) check() ([]Spec, string, error) {
	p := check.New("observe")
	if a == nil {
		p.Require("Args", false)
		return nil, "", p.Err()
	}
	p.Require("Names.Stack", a.Names.Stack != "")
	p.Require("Names.Region", a.Names.Region != "")
	p.Require("DisplayName", a.DisplayName != "")
	p.Require("AccountID", a.AccountID != "")
	if a.TopicKmsKeyArn == nil {
		p.Add("TopicKmsKeyArn", "is required: the alarm topic is always encrypted")
	}
	p.Merge("Settings", a.Settings.Check())
	if a.Alarms.CacheNodes > 0 && a.CacheGroupID == nil {
		p.Add("CacheGroupID", "is required for the alarms of %d cache node(s)", a.Alarms.CacheNodes)
	}
	if a.Alarms.ClusterName != "" && a.Cluster == nil {
		p.Add("Cluster", "is required: the node and pod alarms read Container Insights, which the add-on publishes")
	}
	if c := a.Cluster; c != nil {
		p.Require("Alarms.ClusterName", a.Alarms.ClusterName != "")
		p.Require("Cluster.OidcProviderArn", c.OidcProviderArn != nil)
		p.Require("Cluster.OidcIssuerURL", c.OidcIssuerURL != nil)
		if c.LogsKmsKeyArn == nil {
			p.Add("Cluster.LogsKmsKeyArn", "is required: container logs are always encrypted")
		}
		if !logs.ValidRetention(c.LogRetentionDays) {
			p.Add("Cluster.LogRetentionDays", "%d is not a CloudWatch Logs retention; allowed: %v", c.LogRetentionDays, logs.RetentionDays)
		}
	}
	for _, svc := range slices.Sorted(maps.Keys(a.Alarms.Services)) {
		if !a.Alarms.Services[svc].Routed {
			continue
		}
		switch {
		case a.LoadBalancer == nil || a.LoadBalancer.ArnSuffix == nil:
			p.Add("LoadBalancer", "is required: service %q is Routed, its request alarms name the load balancer", svc)
		case a.LoadBalancer.TargetGroups[svc] == nil:
			p.Add("LoadBalancer.TargetGroups", "no target group for Routed service %q", svc)
		case a.Alarms.Services[svc].Canary && a.LoadBalancer.CanaryTargetGroups[svc] == nil:
			p.Add("LoadBalancer.CanaryTargetGroups", "no target group for the canary of %q", svc)
		}
	}
	for _, part := range []string{SubjectCache, SubjectCluster, SubjectRegion, SubjectLogs} {
		_, db := a.Alarms.Databases[part]
		_, queue := a.Alarms.Queues[part]
		_, svc := a.Alarms.Services[part]
		if db || queue || svc {
			p.Add("Alarms", "service %q has the name of a platform part's alarms", part)
		}
	}
	specs := Specs(a.Alarms, a.Settings)
	composite := a.Names.Name(SubjectRegion, "unhealthy")
	health := healthAlarms(specs)
	if len(health) == 0 {
		p.Add("Alarms", "no health alarm for the region-unhealthy alarm: give the cluster and its services")
	}
	p.Merge("", CheckSpecs(specs, composite, CompositeRule(health)))
	p.Merge("", CheckDashboard(a.DisplayName, RegionBody(a.Names.Region, a.AccountID, specs, composite, nil)))
	return specs, composite, p.Err()
}

// healthAlarms are the names of the alarms the region-unhealthy
// composite combines.
func healthAlarms(specs []Spec) []string {
	var out []string
	for _, s := range specs {
		if s.Health {
			out = append(out, s.Name)
		}
	}
	return out
}

// TopicPolicy is the messaging topics' policy (this account's identities,
// TLS only) with CloudWatch admitted to publish, only for this stack's
// alarms in this region. The TLS deny cannot drop CloudWatch's own
// publish: a Bool condition on a key absent from the request does not
// match.
func TopicPolicy(topicArn, accountID, region, alarmPrefix string) (string, error) {
	return messaging.TopicPolicy(topicArn, accountID, iamdoc.Statement{
		Sid:       "CloudWatchAlarmsPublish",
		Effect:    iamdoc.Allow,
		Principal: iamdoc.Principal{Service: "cloudwatch.amazonaws.com"},
		Action:    "sns:Publish",
		Resource:  topicArn,
		Condition: map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": accountID},
			"ArnLike":      map[string]any{"aws:SourceArn": fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s*", region, accountID, alarmPrefix)},
		},
	})
}

// New creates the region's alarm topic, Container Insights and alarms.
// Pass the region's AWS provider in opts.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Observability, error) {
	specs, composite, err := args.check()
	if err != nil {
		return nil, err
	}
	o := &Observability{
		Specs: specs, RegionUnhealthyName: composite, HealthAlarms: healthAlarms(specs),
		TargetHealth: map[string]*cloudwatch.MetricAlarm{}, LogGroups: map[string]*cloudwatch.LogGroup{},
	}
	if err := ctx.RegisterComponentResource("ecommerce:observe:Observability", name, o, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(o)
	tags := pulumi.StringMap{"Name": pulumi.String(args.DisplayName + "-alarms")}

	topic, err := sns.NewTopic(ctx, name+"-alarms", &sns.TopicArgs{
		Name:           pulumi.String(args.DisplayName + "-alarms"),
		KmsMasterKeyId: args.TopicKmsKeyArn,
		Tags:           tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	if _, err := sns.NewTopicPolicy(ctx, name+"-alarms", &sns.TopicPolicyArgs{
		Arn: topic.Arn,
		Policy: topic.Arn.ApplyT(func(arn string) (string, error) {
			return TopicPolicy(arn, args.AccountID, args.Names.Region, args.Names.Prefix())
		}).(pulumi.StringOutput),
	}, parent); err != nil {
		return nil, err
	}
	subs := map[string][]string{"email": args.Settings.Emails, "https": args.Settings.HTTPSEndpoints}
	for _, protocol := range []string{"email", "https"} {
		for i, endpoint := range subs[protocol] {
			if _, err := sns.NewTopicSubscription(ctx, fmt.Sprintf("%s-alarms-%s-%d", name, protocol, i), &sns.TopicSubscriptionArgs{
				Topic:    topic.Arn,
				Protocol: pulumi.String(protocol),
				Endpoint: pulumi.String(endpoint),
			}, parent); err != nil {
				return nil, err
			}
		}
	}

	var insights []pulumi.Resource
	if c := args.Cluster; c != nil {
		if insights, err = o.containerInsights(ctx, name, args, parent); err != nil {
			return nil, err
		}
	}

	ids := args.placeholders()
	o.IDs = ids.ToStringMapOutput()
	var children []pulumi.Resource
	for _, s := range specs {
		dims := dimensions(s, ids)
		alarmOpts := []pulumi.ResourceOption{parent}
		if s.Namespace == "ContainerInsights" {
			// No data until the agent publishes: created after it, so a
			// fresh region does not page for pods that cannot report yet.
			alarmOpts = append(alarmOpts, pulumi.DependsOn(insights))
		}
		alarm, err := NewMetricAlarm(ctx, name+"-"+s.Subject+"-"+s.What, s, dims, topic.Arn, alarmOpts...)
		if err != nil {
			return nil, err
		}
		if s.What == "healthy-targets" {
			o.TargetHealth[s.Subject] = alarm
		}
		if s.Health {
			children = append(children, alarm)
		}
	}
	// The composite names its children, which must exist first (CloudWatch
	// refuses a rule naming an unknown alarm); their names are fixed, so
	// the rule is known before apply.
	unhealthy, err := cloudwatch.NewCompositeAlarm(ctx, name+"-region-unhealthy", &cloudwatch.CompositeAlarmArgs{
		AlarmName:        pulumi.String(composite),
		AlarmDescription: pulumi.String(fmt.Sprintf("%s cannot serve: a service below its minimum pods or without a healthy target, or a failed node (runbook: docs/operations.md#region-unhealthy)", args.Names.Region)),
		AlarmRule:        pulumi.String(CompositeRule(o.HealthAlarms)),
		AlarmActions:     pulumi.StringArray{topic.Arn},
		OkActions:        pulumi.StringArray{topic.Arn},
		Tags:             pulumi.StringMap{"subject": pulumi.String(SubjectRegion)},
	}, parent, pulumi.DependsOn(children))
	if err != nil {
		return nil, err
	}
	o.RegionUnhealthy = unhealthy
	o.TopicArn = topic.Arn
	o.Dashboard, err = cloudwatch.NewDashboard(ctx, name+"-dashboard", &cloudwatch.DashboardArgs{
		DashboardName: pulumi.String(args.DisplayName),
		DashboardBody: o.IDs.ApplyT(func(ids map[string]string) (string, error) {
			body, err := json.Marshal(RegionBody(args.Names.Region, args.AccountID, specs, composite, ids))
			return string(body), err
		}).(pulumi.StringOutput),
	}, parent)
	if err != nil {
		return nil, err
	}
	return o, ctx.RegisterResourceOutputs(o, pulumi.Map{
		"topicArn":        o.TopicArn,
		"regionUnhealthy": unhealthy.Arn,
	})
}

// dimensions are a Spec's dimensions as the alarm takes them: literals as
// they are, a placeholder resolved (resolve, as the dashboards do) once
// the one id it stands for is known, so each alarm waits only for that.
func dimensions(s Spec, ids pulumi.StringMap) pulumi.StringMap {
	dims := pulumi.StringMap{}
	for k, v := range s.Dimensions {
		key, ok := placeholder(v)
		if !ok {
			dims[k] = pulumi.String(v)
			continue
		}
		dims[k] = ids[key].ToStringOutput().ApplyT(func(id string) string { return resolve(v, map[string]string{key: id}) }).(pulumi.StringOutput)
	}
	return dims
}

// containerInsights creates the encrypted log groups, the agent's IRSA
// role and the add-on; it returns what the node and pod alarms wait for.
func (o *Observability) containerInsights(ctx *pulumi.Context, name string, args *Args, parent pulumi.ResourceOption) ([]pulumi.Resource, error) {
	c := args.Cluster
	clusterName := args.Alarms.ClusterName
	var groups []pulumi.Resource
	for _, kind := range ContainerInsightsGroups {
		g, err := logs.NewGroup(ctx, name+"-insights-"+kind, &logs.GroupArgs{
			Name:          pulumi.String(ContainerInsightsGroup(clusterName, kind)),
			RetentionDays: c.LogRetentionDays,
			KmsKeyArn:     c.LogsKmsKeyArn,
		}, parent)
		if err != nil {
			return nil, err
		}
		o.LogGroups[kind] = g
		groups = append(groups, g)
	}
	role, err := cluster.NewIRSARole(ctx, name+"-cloudwatch-agent", &cluster.IRSARoleArgs{
		OidcProviderArn:   c.OidcProviderArn,
		OidcIssuerURL:     c.OidcIssuerURL,
		Namespace:         AgentNamespace,
		ServiceAccount:    AgentServiceAccount,
		ManagedPolicyArns: []string{"arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"},
		Description:       "Container Insights agent of " + clusterName,
	}, parent)
	if err != nil {
		return nil, err
	}
	deps := append(append([]pulumi.Resource{}, c.NodeGroups...), groups...)
	addon, err := eks.NewAddon(ctx, name+"-"+AddonName, &eks.AddonArgs{
		ClusterName:              pulumi.String(clusterName),
		AddonName:                pulumi.String(AddonName),
		ServiceAccountRoleArn:    role.Arn,
		ResolveConflictsOnCreate: pulumi.String("OVERWRITE"),
		ResolveConflictsOnUpdate: pulumi.String("PRESERVE"),
		Tags:                     pulumi.StringMap{"Name": pulumi.String(clusterName)},
	}, parent, pulumi.DependsOn(deps))
	if err != nil {
		return nil, err
	}
	return []pulumi.Resource{addon}, nil
}
