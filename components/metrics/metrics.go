// Package metrics scrapes the services' own Prometheus metrics in one
// region: an Amazon Managed Service for Prometheus workspace, encrypted
// with the region's key, and an AWS managed collector (a scraper) that
// discovers the services' pods on the region's cluster and writes what
// their GET /metrics answers into that workspace.
//
// Why a managed collector rather than the observability add-on's
// Prometheus scraping: nothing more runs, scales or is patched on the
// cluster; the samples stay in the region; and PromQL over the services'
// own histograms gives true p95 latencies, which CloudWatch metrics built
// from the same series cannot (docs/operations.md, "Service metrics").
//
// What AWS does itself, and this package therefore does not: when the
// cluster authenticates through access entries (API mode, as
// components/cluster sets it), creating a scraper makes the scraper's
// access entry with the collector's read-only access policy. An access
// entry of ours for the same role would fail (ResourceInUseException), so
// none is created here, and the policy pack refuses one.
package metrics

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/amp"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"

	"github.com/example/ecommerce-platform/components/check"
	"github.com/example/ecommerce-platform/components/iamdoc"
	"github.com/example/ecommerce-platform/components/workload"
)

// Limits AWS enforces at apply time (the Amazon Managed Service for
// Prometheus API reference and user guide).
const (
	// MinScrapeIntervalSeconds: a managed collector refuses a shorter
	// scrape interval.
	MinScrapeIntervalSeconds = 30
	// DefaultScrapeIntervalSeconds is the interval every stack uses: the
	// shortest allowed, so a rate over a few minutes (PromQL's rate() over
	// the services' counters and histograms) has several samples.
	DefaultScrapeIntervalSeconds = 30
	// ScrapeTimeoutSeconds bounds one scrape; a /metrics answer is a few
	// kilobytes.
	ScrapeTimeoutSeconds = 10
	// MaxAliasLength bounds workspace and scraper aliases.
	MaxAliasLength = 100
	// MinSubnets and MaxSubnets bound a scraper's subnets (in distinct
	// zones: the collector puts one network interface in each).
	MinSubnets, MaxSubnets = 2, 5
)

// ScraperAliasPattern is what CreateScraper accepts as an alias.
var ScraperAliasPattern = regexp.MustCompile(`^[0-9A-Za-z][-.0-9A-Z_a-z]*$`)

// Target is one service whose pods are scraped.
type Target struct {
	// Service is the service's name (its pods' AppLabel).
	Service string
	// Namespace holds its pods.
	Namespace string
}

// Args configures one region's workspace and scraper. Pass the region's
// AWS provider in opts.
type Args struct {
	// Alias names the workspace and the scraper (e.g.
	// "ecommerce-prod-us-east-1"): 1-100 letters, digits, '.', '_', '-',
	// starting with a letter or digit.
	Alias     string
	Region    string
	AccountID string
	// KmsKeyArn encrypts the workspace (the region's logs key, whose
	// policy admits Amazon Managed Service for Prometheus).
	KmsKeyArn pulumi.StringInput
	// ClusterName is the EKS cluster scraped.
	ClusterName pulumi.StringInput
	// ClusterSecurityGroupID is the cluster security group: the nodes (and
	// so the pods) and the API server's interfaces are in it.
	ClusterSecurityGroupID pulumi.StringInput
	VpcID                  pulumi.StringInput
	// SubnetIDs get the collector's network interfaces, one per zone: the
	// subnets the pods' network policies admit to their HTTP port (the
	// load balancer's, see docs/operations.md).
	SubnetIDs pulumi.StringArrayInput
	// Zones are the subnets' zones, one per subnet.
	Zones []string
	// Targets are the services scraped.
	Targets []Target
	// ScrapeIntervalSeconds is the scrape interval; 0 takes the default.
	ScrapeIntervalSeconds int
}

// Metrics is a region's workspace and its scraper.
type Metrics struct {
	pulumi.ResourceState

	// WorkspaceArn and WorkspaceID name the workspace.
	WorkspaceArn pulumi.StringOutput `pulumi:"workspaceArn"`
	WorkspaceID  pulumi.StringOutput `pulumi:"workspaceId"`
	// QueryEndpoint is the workspace's Prometheus-compatible endpoint
	// (".../api/v1/query" is under it), signed with SigV4 for service "aps".
	QueryEndpoint pulumi.StringOutput `pulumi:"queryEndpoint"`
	// ScraperArn and ScraperRoleArn name the collector and the role AWS
	// gave it (the role its access entry is for).
	ScraperArn     pulumi.StringOutput `pulumi:"scraperArn"`
	ScraperRoleArn pulumi.StringOutput `pulumi:"scraperRoleArn"`
}

func (a *Args) interval() int {
	if a.ScrapeIntervalSeconds == 0 {
		return DefaultScrapeIntervalSeconds
	}
	return a.ScrapeIntervalSeconds
}

func (a *Args) check() error {
	p := check.New("metrics")
	if a == nil {
		p.Require("Args", false)
		return p.Err()
	}
	if len(a.Alias) == 0 || len(a.Alias) > MaxAliasLength || !ScraperAliasPattern.MatchString(a.Alias) {
		p.Add("Alias", "%q: allowed 1 to %d letters, digits, '.', '_' and '-', starting with a letter or digit", a.Alias, MaxAliasLength)
	}
	p.Require("Region", a.Region != "")
	p.Require("AccountID", a.AccountID != "")
	if a.KmsKeyArn == nil {
		p.Add("KmsKeyArn", "is required: the workspace is always encrypted with the region's key")
	}
	p.Require("ClusterName", a.ClusterName != nil)
	p.Require("ClusterSecurityGroupID", a.ClusterSecurityGroupID != nil)
	p.Require("VpcID", a.VpcID != nil)
	p.Require("SubnetIDs", a.SubnetIDs != nil)
	zones := map[string]bool{}
	for _, z := range a.Zones {
		zones[z] = true
	}
	if len(a.Zones) < MinSubnets || len(a.Zones) > MaxSubnets || len(zones) != len(a.Zones) {
		p.Add("Zones", "%v: the scraper needs %d to %d subnets in distinct zones", a.Zones, MinSubnets, MaxSubnets)
	}
	if n := a.interval(); n < MinScrapeIntervalSeconds {
		p.Add("ScrapeIntervalSeconds", "%d: a managed collector scrapes at most every %d s", n, MinScrapeIntervalSeconds)
	}
	if len(a.Targets) == 0 {
		p.Add("Targets", "is empty: nothing to scrape")
	}
	seen := map[string]bool{}
	for i, t := range a.Targets {
		if t.Service == "" || t.Namespace == "" {
			p.Add(fmt.Sprintf("Targets.%d", i), "needs both Service and Namespace")
		}
		if seen[t.Namespace] {
			p.Add(fmt.Sprintf("Targets.%d", i), "namespace %q is listed twice", t.Namespace)
		}
		seen[t.Namespace] = true
	}
	return p.Err()
}

// ScrapeConfig is the collector's Prometheus configuration: every pod of
// the targets' namespaces that carries the services' name label and an
// "http" container port is scraped at GET /metrics on that port, labelled
// with its namespace, pod, service and track (stable or canary).
func ScrapeConfig(targets []Target, intervalSeconds int, region, cluster string) (string, error) {
	namespaces := make([]string, 0, len(targets))
	for _, t := range targets {
		namespaces = append(namespaces, t.Namespace)
	}
	slices.Sort(namespaces)
	type relabel struct {
		SourceLabels []string `yaml:"source_labels,omitempty,flow"`
		Regex        string   `yaml:"regex,omitempty"`
		Action       string   `yaml:"action,omitempty"`
		TargetLabel  string   `yaml:"target_label,omitempty"`
	}
	label := func(k string) string { return "__meta_kubernetes_pod_label_" + sanitize(k) }
	doc := map[string]any{
		"global": map[string]any{
			"scrape_interval": fmt.Sprintf("%ds", intervalSeconds),
			"scrape_timeout":  fmt.Sprintf("%ds", ScrapeTimeoutSeconds),
			"external_labels": map[string]string{"region": region, "cluster": cluster},
		},
		"scrape_configs": []map[string]any{{
			"job_name":     "services",
			"metrics_path": "/metrics",
			"scheme":       "http",
			"kubernetes_sd_configs": []map[string]any{{
				"role":       "pod",
				"namespaces": map[string]any{"names": namespaces},
			}},
			"relabel_configs": []relabel{
				{SourceLabels: []string{label(workload.AppLabel)}, Regex: ".+", Action: "keep"},
				// One target per pod: the HTTP port, where /metrics is.
				{SourceLabels: []string{"__meta_kubernetes_pod_container_port_name"}, Regex: "http", Action: "keep"},
				{SourceLabels: []string{"__meta_kubernetes_namespace"}, TargetLabel: "namespace"},
				{SourceLabels: []string{"__meta_kubernetes_pod_name"}, TargetLabel: "pod"},
				{SourceLabels: []string{label(workload.AppLabel)}, TargetLabel: "service"},
				{SourceLabels: []string{label(workload.TrackLabel)}, TargetLabel: "track"},
			},
		}},
	}
	b, err := yaml.Marshal(doc)
	return string(b), err
}

// sanitize is how Prometheus turns a Kubernetes label into a meta label.
func sanitize(k string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, k)
}

// SourceTrust lets the collector, for scrapers of this account and region
// only, assume the source role. The scraper's ARN is not known before it
// exists, so the condition names the account's scrapers of the region.
func SourceTrust(region, accountID string) (string, error) {
	return iamdoc.ServiceTrust("scraper.aps.amazonaws.com", []string{"sts:AssumeRole"}, map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": accountID},
		"ArnLike":      map[string]any{"aws:SourceArn": ScraperArnPattern(region, accountID)},
	})
}

// ScraperArnPattern matches the account's scrapers in the region.
func ScraperArnPattern(region, accountID string) string {
	return fmt.Sprintf("arn:aws:aps:%s:%s:scraper/*", region, accountID)
}

// New creates the workspace, the roles the collector writes through (a
// workspace with a customer managed key is written only through a role
// configuration), the collector's security group and the scraper.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Metrics, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	sourceTrust, err := SourceTrust(args.Region, args.AccountID)
	if err != nil {
		return nil, err
	}
	m := &Metrics{}
	if err := ctx.RegisterComponentResource("ecommerce:metrics:Metrics", name, m, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(m)
	tags := pulumi.StringMap{"Name": pulumi.String(args.Alias)}

	ws, err := amp.NewWorkspace(ctx, name, &amp.WorkspaceArgs{
		Alias:     pulumi.String(args.Alias),
		KmsKeyArn: args.KmsKeyArn,
		Tags:      tags,
	}, parent)
	if err != nil {
		return nil, err
	}

	// The source role is the collector's; it may only assume the target
	// role, which may only write to this workspace.
	source, err := iam.NewRole(ctx, name+"-scraper-source", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(sourceTrust),
		Description:      pulumi.Sprintf("Managed Prometheus collector of %s", args.Alias),
		Tags:             tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	targetTrust := source.Arn.ApplyT(func(arn string) (string, error) {
		return iamdoc.Document(iamdoc.Statement{
			Effect:    iamdoc.Allow,
			Principal: iamdoc.Principal{AWS: arn},
			Action:    "sts:AssumeRole",
			Condition: map[string]any{"StringLike": map[string]any{"sts:ExternalId": ScraperArnPattern(args.Region, args.AccountID)}},
		})
	}).(pulumi.StringOutput)
	target, err := iam.NewRole(ctx, name+"-scraper-target", &iam.RoleArgs{
		AssumeRolePolicy: targetTrust,
		Description:      pulumi.Sprintf("Writes the collector's samples into the workspace of %s", args.Alias),
		Tags:             tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	writePolicy := pulumi.All(ws.Arn, args.KmsKeyArn).ApplyT(func(v []any) (string, error) {
		return WritePolicy(v[0].(string), v[1].(string), args.Region)
	}).(pulumi.StringOutput)
	write, err := iam.NewRolePolicy(ctx, name+"-scraper-target", &iam.RolePolicyArgs{
		Role:   target.Name,
		Policy: writePolicy,
	}, parent)
	if err != nil {
		return nil, err
	}
	assume, err := iam.NewRolePolicy(ctx, name+"-scraper-source", &iam.RolePolicyArgs{
		Role: source.Name,
		Policy: target.Arn.ApplyT(func(arn string) (string, error) {
			return iamdoc.Document(iamdoc.Statement{Effect: iamdoc.Allow, Action: "sts:AssumeRole", Resource: arn})
		}).(pulumi.StringOutput),
	}, parent)
	if err != nil {
		return nil, err
	}

	// The collector's interfaces reach the pods' HTTP port and the API
	// server (service discovery), nothing else; the cluster group admits
	// exactly that from them.
	sg, err := ec2.NewSecurityGroup(ctx, name+"-scraper", &ec2.SecurityGroupArgs{
		VpcId:               args.VpcID,
		Description:         pulumi.String("Managed Prometheus collector: pods' metrics and the API server"),
		RevokeRulesOnDelete: pulumi.Bool(true),
		Tags:                tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	var rules []pulumi.Resource
	for _, port := range []struct {
		name string
		port int
		what string
	}{{"metrics", workload.HTTPPort, "the services' /metrics"}, {"api", 443, "the Kubernetes API (pod discovery)"}} {
		eg, err := vpc.NewSecurityGroupEgressRule(ctx, name+"-scraper-"+port.name, &vpc.SecurityGroupEgressRuleArgs{
			SecurityGroupId:           sg.ID(),
			Description:               pulumi.String("to " + port.what),
			IpProtocol:                pulumi.String("tcp"),
			FromPort:                  pulumi.Int(port.port),
			ToPort:                    pulumi.Int(port.port),
			ReferencedSecurityGroupId: args.ClusterSecurityGroupID,
			Tags:                      tags,
		}, parent)
		if err != nil {
			return nil, err
		}
		in, err := vpc.NewSecurityGroupIngressRule(ctx, name+"-scraper-"+port.name, &vpc.SecurityGroupIngressRuleArgs{
			SecurityGroupId:           args.ClusterSecurityGroupID,
			Description:               pulumi.String("Managed Prometheus collector to " + port.what),
			IpProtocol:                pulumi.String("tcp"),
			FromPort:                  pulumi.Int(port.port),
			ToPort:                    pulumi.Int(port.port),
			ReferencedSecurityGroupId: sg.ID(),
			Tags:                      tags,
		}, parent)
		if err != nil {
			return nil, err
		}
		rules = append(rules, eg, in)
	}

	config := args.ClusterName.ToStringOutput().ApplyT(func(cluster string) (string, error) {
		return ScrapeConfig(args.Targets, args.interval(), args.Region, cluster)
	}).(pulumi.StringOutput)
	scraper, err := amp.NewScraper(ctx, name, &amp.ScraperArgs{
		Alias:               pulumi.String(args.Alias),
		ScrapeConfiguration: config,
		Source: amp.ScraperSourceArgs{Eks: amp.ScraperSourceEksArgs{
			ClusterArn:       pulumi.Sprintf("arn:aws:eks:%s:%s:cluster/%s", args.Region, args.AccountID, args.ClusterName),
			SubnetIds:        args.SubnetIDs,
			SecurityGroupIds: pulumi.StringArray{sg.ID()},
		}},
		Destination: amp.ScraperDestinationArgs{Amp: amp.ScraperDestinationAmpArgs{WorkspaceArn: ws.Arn}},
		RoleConfiguration: amp.ScraperRoleConfigurationArgs{
			SourceRoleArn: source.Arn,
			TargetRoleArn: target.Arn,
		},
		Tags: tags,
	}, parent, pulumi.DependsOn(append(rules, write, assume)))
	if err != nil {
		return nil, err
	}

	m.WorkspaceArn = ws.Arn
	m.WorkspaceID = ws.ID().ToStringOutput()
	m.QueryEndpoint = ws.PrometheusEndpoint
	m.ScraperArn = scraper.Arn
	m.ScraperRoleArn = scraper.RoleArn
	return m, ctx.RegisterResourceOutputs(m, pulumi.Map{
		"workspaceArn":   m.WorkspaceArn,
		"workspaceId":    m.WorkspaceID,
		"queryEndpoint":  m.QueryEndpoint,
		"scraperArn":     m.ScraperArn,
		"scraperRoleArn": m.ScraperRoleArn,
	})
}

// WritePolicy lets the target role write samples into one workspace, and
// use the workspace's key only through Amazon Managed Service for
// Prometheus in the region.
func WritePolicy(workspaceArn, keyArn, region string) (string, error) {
	return iamdoc.Document(
		iamdoc.Statement{Sid: "RemoteWrite", Effect: iamdoc.Allow, Action: "aps:RemoteWrite", Resource: workspaceArn},
		iamdoc.Statement{
			Sid:       "WorkspaceKey",
			Effect:    iamdoc.Allow,
			Action:    []string{"kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"},
			Resource:  keyArn,
			Condition: iamdoc.Equals("kms:ViaService", "aps."+region+".amazonaws.com"),
		},
	)
}
