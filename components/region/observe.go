package region

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/database"
	"github.com/example/ecommerce-platform/components/observe"
)

// ObserveArgs are the region's alarm settings.
type ObserveArgs struct {
	Settings observe.Settings
}

// newObserve builds the region's alarms over what the region runs: its
// databases, cache and queues (Data), the cluster's nodes, each service's
// pods (Workloads) and its requests at the load balancer (Ingress).
func newObserve(ctx *pulumi.Context, name string, args *Args, r *Region, parent pulumi.ResourceOption) (*observe.Observability, error) {
	d := r.Data
	in := observe.Inputs{
		Names:       observe.Names{Stack: args.Stack, Region: args.Region},
		Databases:   map[string]observe.Database{},
		CacheNodes:  d.Cache.Nodes,
		Queues:      map[string]observe.Queue{},
		ClusterName: args.DisplayName,
		Services:    map[string]observe.Service{},
	}
	for svc := range d.Databases.Instances {
		in.Databases[svc] = observe.Database{Identifier: database.Identifier(args.DisplayName, svc), Replica: d.Databases.Replica}
	}
	for consumer, q := range d.Queues.ByConsumer {
		in.Queues[consumer] = observe.Queue{Name: q.Name, DlqName: q.DlqName}
	}
	var lb *observe.LoadBalancerArgs
	if r.Ingress != nil {
		lb = &observe.LoadBalancerArgs{
			ArnSuffix: r.Ingress.ArnSuffix, TargetGroups: map[string]pulumi.StringInput{}, CanaryTargetGroups: map[string]pulumi.StringInput{},
		}
	}
	for svc, w := range r.Workloads {
		s := observe.Service{Namespace: w.Namespace, ServiceName: w.ServiceName, MinPods: args.Workloads.Releases[svc].MinReplicas}
		// The stable target group (not the canary's): the service's
		// health and its users' experience.
		if lb != nil {
			if tg, ok := r.Ingress.TargetGroups[svc]; ok {
				s.Routed = true
				lb.TargetGroups[svc] = tg.ArnSuffix
			}
			if tg, ok := r.Ingress.TargetGroups[w.CanaryServiceName]; ok && w.CanaryServiceName != "" {
				s.Canary = true
				lb.CanaryTargetGroups[svc] = tg.ArnSuffix
			}
		}
		in.Services[svc] = s
	}
	return observe.New(ctx, name+"-observe", &observe.Args{
		Names:          in.Names,
		DisplayName:    args.DisplayName,
		AccountID:      args.AccountID,
		Settings:       args.Observe.Settings,
		TopicKmsKeyArn: r.Keys.Messaging.Arn,
		Alarms:         in,
		CacheGroupID:   d.Cache.GroupID,
		LoadBalancer:   lb,
		Cluster: &observe.ClusterArgs{
			OidcProviderArn:  r.Cluster.OidcProviderArn,
			OidcIssuerURL:    r.Cluster.OidcIssuerURL,
			LogsKmsKeyArn:    r.Keys.Logs.Arn,
			LogRetentionDays: args.Network.LogRetentionDays,
			NodeGroups:       r.Cluster.NodeGroups,
		},
	}, parent)
}
