package stacks

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/cluster"
	"github.com/example/ecommerce-platform/components/region"
)

// Program is the Pulumi program: load and validate config, then build every
// region, master first, and export a per-region summary.
func Program(ctx *pulumi.Context) error {
	cfg, err := Load(ctx)
	if err != nil {
		return err
	}
	_, err = Build(ctx, cfg)
	return err
}

// Platform is what Build created.
type Platform struct {
	Config  *Config
	Regions []*region.Region
}

// DisplayName is the name prefix of one region's resources.
func (c *Config) DisplayName(project, regionName string) string {
	return fmt.Sprintf("%s-%s-%s", project, c.Environment, regionName)
}

// DefaultTags are put on every taggable AWS resource through the provider.
func (c *Config) DefaultTags(project, regionName string) map[string]string {
	return map[string]string{
		"project":     project,
		"environment": c.Environment,
		"region":      regionName,
		"managed-by":  "pulumi",
	}
}

// NewProvider returns the AWS provider of one region. It pins the account,
// so a stack can never deploy into an account it was not written for, and
// it makes no lookup of its own beyond that check.
func NewProvider(ctx *pulumi.Context, cfg *Config, regionName string) (*aws.Provider, error) {
	return aws.NewProvider(ctx, "aws-"+regionName, &aws.ProviderArgs{
		Region:            pulumi.String(regionName),
		AllowedAccountIds: pulumi.StringArray{pulumi.String(cfg.AccountID)},
		DefaultTags: aws.ProviderDefaultTagsArgs{
			Tags: pulumi.ToStringMap(cfg.DefaultTags(ctx.Project(), regionName)),
		},
	})
}

// Build creates the platform from a validated config.
func Build(ctx *pulumi.Context, cfg *Config) (*Platform, error) {
	p := &Platform{Config: cfg}
	summary := pulumi.Map{}
	topology, err := cfg.Data.Topology()
	if err != nil {
		return nil, err
	}
	var master *region.Region
	for _, rc := range cfg.Ordered() {
		provider, err := NewProvider(ctx, cfg, rc.Name)
		if err != nil {
			return nil, err
		}
		r, err := region.New(ctx, rc.Name, &region.Args{
			Region:      rc.Name,
			Master:      rc.Name == cfg.MasterRegion,
			DisplayName: cfg.DisplayName(ctx.Project(), rc.Name),
			AccountID:   cfg.AccountID,
			Network: region.NetworkArgs{
				VpcCidr:          rc.VpcCidr,
				Zones:            rc.AvailabilityZones,
				NatGateways:      cfg.NatGateways,
				LogRetentionDays: cfg.LogRetentionDays,
			},
			Cluster: region.ClusterArgs{
				Version:           cfg.Cluster.KubernetesVersion,
				PublicAccessCidrs: cfg.Cluster.PublicAccessCidrs,
				AdminRoleArn:      cfg.Cluster.AdminRoleArn,
				SystemNodes:       nodeGroup(cfg.Cluster.SystemNodes),
				WorkloadNodes:     nodeGroup(cfg.Cluster.WorkloadNodes),
			},
			Data: dataArgs(ctx, cfg, topology, master, rc.Name),
		}, pulumi.Provider(provider))
		if err != nil {
			return nil, fmt.Errorf("region %s: %w", rc.Name, err)
		}
		p.Regions = append(p.Regions, r)
		if r.Master {
			master = r
		}
		summary[rc.Name] = pulumi.Map{
			"master":            pulumi.Bool(r.Master),
			"vpcId":             r.Network.VpcID,
			"privateSubnetIds":  r.Network.PrivateSubnetIDs,
			"databaseSubnetIds": r.Network.DatabaseSubnetIDs,
			"clusterName":       r.Cluster.Name,
			"clusterEndpoint":   r.Cluster.Endpoint,
			"oidcProviderArn":   r.Cluster.OidcProviderArn,
			"kmsKeyArn":         r.Key.Arn,
			"data":              RegionData(r),
		}
	}
	if err := subscribe(ctx, cfg, topology, master, p.Regions); err != nil {
		return nil, err
	}
	ctx.Export("services", p.ServiceEndpoints())
	ctx.Export("environment", pulumi.String(cfg.Environment))
	ctx.Export("masterRegion", pulumi.String(cfg.MasterRegion))
	ctx.Export("regions", summary)
	return p, nil
}

func nodeGroup(g NodeGroupConfig) cluster.NodeGroupArgs {
	return cluster.NodeGroupArgs{
		InstanceTypes: g.InstanceTypes,
		MinSize:       g.MinSize,
		DesiredSize:   g.DesiredSize,
		MaxSize:       g.MaxSize,
		DiskSizeGiB:   g.DiskSizeGiB,
	}
}
