package region

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/metrics"
)

// MetricsArgs turn on the scraping of the services' own metrics into the
// region's workspace.
type MetricsArgs struct {
	// ScrapeIntervalSeconds: 0 takes metrics.DefaultScrapeIntervalSeconds.
	ScrapeIntervalSeconds int
}

// newMetrics scrapes every service's namespace on the region's cluster
// into the region's own workspace, encrypted with the region's logs key.
// The collector's interfaces go into the public subnets: the pods'
// network policies already admit those to the HTTP port (the load
// balancer's subnets), where the private subnets would admit every pod.
func newMetrics(ctx *pulumi.Context, name string, args *Args, r *Region, parent pulumi.ResourceOption) (*metrics.Metrics, error) {
	targets := make([]metrics.Target, 0, len(args.Data.Services))
	for _, svc := range args.Data.Services {
		targets = append(targets, metrics.Target{Service: svc, Namespace: r.Workloads[svc].Namespace})
	}
	return metrics.New(ctx, name+"-metrics", &metrics.Args{
		Alias:                  args.DisplayName,
		Region:                 args.Region,
		AccountID:              args.AccountID,
		KmsKeyArn:              r.Keys.Logs.Arn,
		ClusterName:            r.Cluster.Name,
		ClusterSecurityGroupID: r.Cluster.NodeSecurityGroupID,
		VpcID:                  r.Network.VpcID,
		SubnetIDs:              r.Network.PublicSubnetIDs,
		Zones:                  args.Network.Zones,
		Targets:                targets,
		ScrapeIntervalSeconds:  args.Metrics.ScrapeIntervalSeconds,
	}, parent)
}
