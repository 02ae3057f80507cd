package region

import (
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/cluster"
	"github.com/example/ecommerce-platform/components/ingress"
	"github.com/example/ecommerce-platform/components/registry"
	"github.com/example/ecommerce-platform/components/workload"
)

// newWorkloads creates the region's repositories, then each service's
// workloads through the cluster's Kubernetes provider.
func newWorkloads(ctx *pulumi.Context, name string, args *Args, r *Region, parent pulumi.ResourceOption) error {
	w, d := args.Workloads, args.Data
	reg, err := registry.New(ctx, name+"-registry", &registry.Args{
		Prefix:       w.RegistryPrefix,
		Services:     d.Services,
		KmsKeyArn:    r.Keys.Cluster.Arn,
		KeepReleases: w.KeepReleases,
	}, parent)
	if err != nil {
		return err
	}
	r.Registry = reg
	var publicCidrs []string
	for _, z := range r.Network.Plan {
		publicCidrs = append(publicCidrs, z.Public.String())
	}
	r.Workloads = map[string]*workload.Workload{}
	for _, svc := range d.Services {
		// Its pods use this region's database (the primary in the master
		// region, a replica elsewhere: writes reach the master at the
		// edge) and this region's cache.
		needs := []pulumi.Resource{r.Data.Databases.Instances[svc].Resource, r.Data.Cache.Group}
		wl, err := workload.New(ctx, name+"-"+svc, &workload.Args{
			Wiring:            r.Data.Services[svc],
			Release:           w.Releases[svc],
			RepositoryURL:     reg.ByService[svc],
			VpcCidr:           args.Network.VpcCidr,
			LoadBalancerCidrs: publicCidrs,
			Callers:           callers(svc, d),
			Callees:           callees(svc, d),
			NodeSelector:      map[string]string{cluster.NodeGroupLabel: cluster.WorkloadNodeGroup},
			KubernetesVersion: args.Cluster.Version,
			Needs:             needs,
		}, parent, pulumi.Providers(r.Cluster.Provider))
		if err != nil {
			return err
		}
		r.Workloads[svc] = wl
	}
	return nil
}

// newIngress puts the region's load balancer in front of its services'
// Kubernetes Services, in the public subnets the pods' network policies
// admit (workload.Args.LoadBalancerCidrs: the same subnets' CIDRs).
func newIngress(ctx *pulumi.Context, name string, args *Args, r *Region, parent pulumi.ResourceOption) error {
	backends := make([]ingress.Backend, 0, len(args.Data.Services))
	for _, svc := range args.Data.Services {
		w := r.Workloads[svc]
		backends = append(backends, ingress.Backend{
			Service:           svc,
			Namespace:         w.Namespace,
			ServiceName:       w.ServiceName,
			CanaryServiceName: w.CanaryServiceName,
			CanaryWeight:      w.CanaryWeight,
			Workload:          w,
		})
	}
	in := args.Ingress
	ing, err := ingress.New(ctx, name+"-ingress", &ingress.Args{
		Region:                 args.Region,
		AccountID:              args.AccountID,
		DisplayName:            args.DisplayName,
		VpcID:                  r.Network.VpcID,
		VpcCidr:                args.Network.VpcCidr,
		PublicSubnetIDs:        r.Network.PublicSubnetIDs,
		CertificateArn:         in.CertificateArn,
		OriginSecret:           in.OriginSecret,
		DeletionProtection:     in.DeletionProtection,
		AccessLogRetentionDays: in.AccessLogRetentionDays,
		Backends:               backends,
		Cluster: ingress.ClusterArgs{
			Name:                r.Cluster.Name,
			OidcProviderArn:     r.Cluster.OidcProviderArn,
			OidcIssuerURL:       r.Cluster.OidcIssuerURL,
			NodeSecurityGroupID: r.Cluster.NodeSecurityGroupID,
			Provider:            r.Cluster.Provider,
			NodeSelector:        map[string]string{cluster.NodeGroupLabel: cluster.SystemNodeGroup},
		},
	}, parent)
	if err != nil {
		return err
	}
	r.Ingress = ing
	return nil
}

// callees are the services svc calls in the region: those the config
// says, and the token issuer's JWKS for every other service.
func callees(svc string, d *DataArgs) []string {
	out := append([]string(nil), d.Calls[svc]...)
	if d.TokenIssuer != "" && svc != d.TokenIssuer && !slices.Contains(out, d.TokenIssuer) {
		out = append(out, d.TokenIssuer)
	}
	slices.Sort(out)
	return out
}

// callers are the services that call svc.
func callers(svc string, d *DataArgs) []string {
	var out []string
	for _, other := range d.Services {
		if slices.Contains(callees(other, d), svc) {
			out = append(out, other)
		}
	}
	slices.Sort(out)
	return out
}
