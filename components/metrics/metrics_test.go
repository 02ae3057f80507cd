package metrics_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/example/ecommerce-platform/components/metrics"
	"github.com/example/ecommerce-platform/stacks/plan"
)

const key = "arn:aws:kms:eu-west-1:123456789012:key/logs"

func args() *metrics.Args {
	return &metrics.Args{
		Alias: "ecommerce-prod-eu-west-1", Region: "eu-west-1", AccountID: plan.TestAccount,
		KmsKeyArn:              pulumi.String(key),
		ClusterName:            pulumi.String("ecommerce-prod-eu-west-1"),
		ClusterSecurityGroupID: pulumi.String("sg-cluster"),
		VpcID:                  pulumi.String("vpc-1"),
		SubnetIDs:              pulumi.ToStringArray([]string{"subnet-a", "subnet-b", "subnet-c"}),
		Zones:                  []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"},
		Targets:                []metrics.Target{{Service: "order", Namespace: "order"}, {Service: "auth", Namespace: "auth"}},
	}
}

func TestScrapeConfig(t *testing.T) {
	out, err := metrics.ScrapeConfig(args().Targets, 30, "eu-west-1", "c")
	require.NoError(t, err)
	var doc struct {
		Global struct {
			Interval string            `yaml:"scrape_interval"`
			Timeout  string            `yaml:"scrape_timeout"`
			Labels   map[string]string `yaml:"external_labels"`
		} `yaml:"global"`
		Jobs []struct {
			Path string `yaml:"metrics_path"`
			SD   []struct {
				Role       string `yaml:"role"`
				Namespaces struct {
					Names []string `yaml:"names"`
				} `yaml:"namespaces"`
			} `yaml:"kubernetes_sd_configs"`
			Relabel []map[string]any `yaml:"relabel_configs"`
		} `yaml:"scrape_configs"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(out), &doc))
	assert.Equal(t, "30s", doc.Global.Interval)
	assert.Equal(t, "10s", doc.Global.Timeout)
	assert.Equal(t, map[string]string{"region": "eu-west-1", "cluster": "c"}, doc.Global.Labels)
	require.Len(t, doc.Jobs, 1)
	assert.Equal(t, "/metrics", doc.Jobs[0].Path)
	require.Len(t, doc.Jobs[0].SD, 1)
	assert.Equal(t, "pod", doc.Jobs[0].SD[0].Role)
	assert.Equal(t, []string{"auth", "order"}, doc.Jobs[0].SD[0].Namespaces.Names, "every service's namespace, sorted")
	assert.Contains(t, out, "__meta_kubernetes_pod_label_app_kubernetes_io_name")
	assert.Contains(t, out, "__meta_kubernetes_pod_label_ecommerce_example_com_track")
	assert.NotContains(t, out, "static_configs", "targets are discovered, never listed")
}

func TestWorkspaceAndScraper(t *testing.T) {
	inv, err := plan.RunComponent("eu-west-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		_, err := metrics.New(ctx, "eu-west-1-metrics", args(), opts...)
		return err
	})
	require.NoError(t, err)
	ws := inv.Find("aws:amp/workspace:Workspace", "eu-west-1-metrics")
	require.NotNil(t, ws)
	assert.Equal(t, key, ws.String("kmsKeyArn"), "encrypted with the region's key")
	assert.Equal(t, "ecommerce-prod-eu-west-1", ws.String("alias"))

	sc := inv.Find("aws:amp/scraper:Scraper", "eu-west-1-metrics")
	require.NotNil(t, sc)
	assert.Equal(t, "eu-west-1", sc.Region)
	assert.True(t, strings.HasPrefix(sc.String("destination.amp.workspaceArn"), "arn:aws:aps:eu-west-1:123456789012:workspace/ws-"))
	assert.Equal(t, "arn:aws:eks:eu-west-1:123456789012:cluster/ecommerce-prod-eu-west-1", sc.String("source.eks.clusterArn"))
	assert.Equal(t, []any{"subnet-a", "subnet-b", "subnet-c"}, sc.Get("source.eks.subnetIds"))
	assert.Contains(t, sc.String("scrapeConfiguration"), "scrape_interval: 30s")
	assert.True(t, inv.WaitsFor(sc, ws))

	// A workspace with a customer managed key is written through a role
	// configuration: the source role trusts only the account's scrapers,
	// the target may only write to this workspace.
	source := inv.Find("aws:iam/role:Role", "eu-west-1-metrics-scraper-source")
	target := inv.Find("aws:iam/role:Role", "eu-west-1-metrics-scraper-target")
	require.NotNil(t, source)
	require.NotNil(t, target)
	assert.Contains(t, source.String("assumeRolePolicy"), `"Service":"scraper.aps.amazonaws.com"`)
	assert.Contains(t, source.String("assumeRolePolicy"), `"aws:SourceArn":"arn:aws:aps:eu-west-1:123456789012:scraper/*"`)
	assert.Contains(t, target.String("assumeRolePolicy"), source.String("id"))
	assert.NotEmpty(t, sc.String("roleConfiguration.sourceRoleArn"))
	assert.NotEmpty(t, sc.String("roleConfiguration.targetRoleArn"))
	write := inv.Find("aws:iam/rolePolicy:RolePolicy", "eu-west-1-metrics-scraper-target")
	require.NotNil(t, write)
	var doc struct {
		Statement []struct {
			Action   any
			Resource any
		}
	}
	require.NoError(t, json.Unmarshal([]byte(write.String("policy")), &doc))
	require.Len(t, doc.Statement, 2)
	assert.Equal(t, "aps:RemoteWrite", doc.Statement[0].Action)
	assert.Equal(t, sc.String("destination.amp.workspaceArn"), doc.Statement[0].Resource, "only its own workspace")
	assert.Equal(t, key, doc.Statement[1].Resource)

	// The collector reaches the pods' HTTP port and the API server and
	// nothing else; the cluster group admits exactly that from it.
	var ports []float64
	for _, r := range inv.OfType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule") {
		assert.Equal(t, "sg-cluster", r.String("referencedSecurityGroupId"))
		ports = append(ports, r.Get("fromPort").(float64))
	}
	assert.ElementsMatch(t, []float64{8080, 443}, ports)
	for _, r := range inv.OfType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
		assert.Equal(t, "sg-cluster", r.String("securityGroupId"))
	}
	// AWS makes the scraper's access entry itself (API authentication
	// mode); one of ours would collide with it.
	assert.Empty(t, inv.OfType("aws:eks/accessEntry:AccessEntry"))
	assert.Empty(t, inv.OfType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"))
	for _, r := range inv.Resources {
		if r.Custom && r.Type != "pulumi:providers:aws" && !strings.HasPrefix(r.Type, "pulumi:providers:") {
			assert.Equal(t, "eu-west-1", r.Region, "%s %s stays in its region", r.Type, r.Name)
		}
	}
}

func TestBadArgsCreateNothing(t *testing.T) {
	a := args()
	a.Alias = "-bad alias"
	a.KmsKeyArn = nil
	a.Zones = []string{"eu-west-1a"}
	a.ScrapeIntervalSeconds = 15
	a.Targets = append(a.Targets, metrics.Target{Service: "x", Namespace: "order"})
	inv, err := plan.RunComponent("eu-west-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		_, err := metrics.New(ctx, "m", a, opts...)
		return err
	})
	require.Error(t, err)
	for _, f := range []string{"Alias:", "KmsKeyArn:", "Zones:", "ScrapeIntervalSeconds:", "Targets.2:"} {
		assert.Contains(t, err.Error(), f)
	}
	assert.True(t, inv.OnlyProviders())
	_, err = plan.RunComponent("eu-west-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		_, err := metrics.New(ctx, "m", nil, opts...)
		return err
	})
	assert.ErrorContains(t, err, "Args:")
}
