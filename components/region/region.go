// Package region composes everything one region runs: key -> network ->
// cluster -> data (databases, cache, topics in the master region, queues)
// -> per-service wiring (runtime secrets, access policies, IRSA roles).
// Ingress, workloads and observability plug in after the wiring, each
// reading the per-service values.
package region

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/backup"
	"github.com/example/ecommerce-platform/components/check"
	"github.com/example/ecommerce-platform/components/cluster"
	"github.com/example/ecommerce-platform/components/ingress"
	"github.com/example/ecommerce-platform/components/keys"
	"github.com/example/ecommerce-platform/components/metrics"
	"github.com/example/ecommerce-platform/components/network"
	"github.com/example/ecommerce-platform/components/observe"
	"github.com/example/ecommerce-platform/components/registry"
	"github.com/example/ecommerce-platform/components/workload"
)

// Args configures one region. The region's AWS provider and the stack's
// random provider come in opts (pulumi.Providers) and reach every child
// through parenting.
type Args struct {
	// Region is the AWS region name.
	Region string
	// Primary is the master region, already built; nil when this region is
	// the master. It is the one statement of which region is the master.
	Primary *Region
	// DisplayName prefixes names and Name tags, e.g. "ecommerce-prod-us-east-1".
	DisplayName string
	// StackName prefixes what is named for the stack rather than the
	// region, e.g. "ecommerce-prod": the topics.
	StackName string
	// Stack is the Pulumi stack name (e.g. "prod"): every alarm of the
	// region is named "<Stack>-<Region>-<subject>-<what>", the prefix the
	// canary workflow reads a service's alarms by.
	Stack     string
	AccountID string
	Network   NetworkArgs
	Cluster   ClusterArgs
	// Data adds databases, cache, queues and the per-service wiring
	// (topics too in the master region); nil builds none of them.
	Data *DataArgs
	// Workloads adds the image repositories and runs the services on the
	// cluster; it needs Data.
	Workloads *WorkloadsArgs
	// Ingress adds the region's load balancer in front of the services;
	// it needs Workloads. nil builds none.
	Ingress *IngressArgs
	// Vault adds the region's AWS Backup vault (the wiring phase's plan
	// backs the master's primaries up into the master's vault and copies
	// into another region's); nil creates none.
	Vault *VaultArgs
	// Observe adds the alarm topic, Container Insights and the alarms; it
	// needs Data (and reads the services' pods from Workloads when set).
	Observe *ObserveArgs
	// Metrics scrapes the services' Prometheus endpoints into the
	// region's workspace; it needs Workloads. nil scrapes nothing.
	Metrics *MetricsArgs
}

// IngressArgs are the region's share of the traffic path, from the global
// phase (certificate, origin secret) and the config.
type IngressArgs struct {
	// CertificateArn is the region's validated ACM certificate.
	CertificateArn pulumi.StringInput
	// OriginSecret is the value CloudFront sends in ingress.OriginHeader.
	OriginSecret pulumi.StringInput
	// DeletionProtection keeps the load balancer and its logs from a
	// mistaken delete (outside dev).
	DeletionProtection bool
	// AccessLogRetentionDays expires the load balancer's access logs.
	AccessLogRetentionDays int
}

// VaultArgs lock the region's vault when Lock is set (prod).
type VaultArgs struct {
	Lock *backup.Lock
}

// WorkloadsArgs are what the region runs.
type WorkloadsArgs struct {
	// Releases are the services' images and sizing, by service.
	Releases map[string]workload.Release
	// RegistryPrefix names the repositories ("<prefix>/<service>").
	RegistryPrefix string
	// KeepReleases is how many tagged images each repository keeps.
	KeepReleases int
}

// NetworkArgs are the region's network settings.
type NetworkArgs struct {
	VpcCidr          string
	Zones            []string
	NatGateways      string
	LogRetentionDays int
}

// ClusterArgs are the region's cluster settings.
type ClusterArgs struct {
	Version           string
	PublicAccessCidrs []string
	DeployerArn       string
	AdminRoleArn      string
	SystemNodes       cluster.NodeGroupArgs
	WorkloadNodes     cluster.NodeGroupArgs
}

// Region is the whole platform footprint in one AWS region.
type Region struct {
	pulumi.ResourceState

	// Name is the AWS region.
	Name string
	// Master is true for the region of the primaries and topics.
	Master bool
	// MasterRegion names the master region (Name when Master).
	MasterRegion string
	// Keys are the region's KMS keys, one per class of data.
	Keys    *keys.Keys
	Network *network.Network
	Cluster *cluster.Cluster
	// Data is the region's data layer and per-service wiring; nil when
	// Args.Data was nil.
	Data *Data
	// Registry and Workloads (by service) exist when Args.Workloads was
	// set.
	Registry  *registry.Registry
	Workloads map[string]*workload.Workload
	// Ingress is the region's load balancer; nil when Args.Ingress was.
	Ingress *ingress.Ingress
	// Vault is the region's backup vault; nil when Args.Vault was.
	Vault *backup.Vault
	// Observe is the region's alarms; nil when Args.Observe was.
	Observe *observe.Observability
	// Metrics is the region's workspace and scraper; nil when
	// Args.Metrics was.
	Metrics *metrics.Metrics
}

func (a *Args) check() error {
	p := check.New("region")
	if a == nil {
		p.Require("Args", false)
		return p.Err()
	}
	p.Require("Region", a.Region != "")
	p.Require("DisplayName", a.DisplayName != "")
	p.Require("StackName", a.StackName != "")
	p.Require("Stack", a.Stack != "")
	p.Require("AccountID", a.AccountID != "")
	if a.Primary != nil && !a.Primary.Master {
		p.Add("Primary", "region %s is not the master region", a.Primary.Name)
	}
	if a.Primary != nil && a.Primary.Name == a.Region {
		p.Add("Primary", "is this region itself; leave it nil in the master region")
	}
	a.Data.check(a.Primary, p)
	if w := a.Workloads; w != nil {
		if a.Data == nil {
			p.Add("Workloads", "needs Data: the services run on their wiring")
		} else {
			for _, svc := range a.Data.Services {
				if _, ok := w.Releases[svc]; !ok {
					p.Add("Workloads.Releases."+svc, "no release for %s", svc)
				}
			}
		}
		p.Require("Workloads.RegistryPrefix", w.RegistryPrefix != "")
	}
	if a.Ingress != nil && a.Workloads == nil {
		p.Add("Ingress", "needs Workloads: the load balancer routes to the services' pods")
	}
	if a.Metrics != nil && a.Workloads == nil {
		p.Add("Metrics", "needs Workloads: the scraper reads the services' pods")
	}
	if a.Observe != nil && a.Data == nil {
		p.Add("Observe", "needs Data: the alarms watch the databases, cache and queues")
	}
	return p.Err()
}

// New builds the region: key -> network -> cluster -> data and wiring.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Region, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	r := &Region{Name: args.Region, Master: args.Primary == nil, MasterRegion: args.Region}
	if args.Primary != nil {
		r.MasterRegion = args.Primary.Name
	}
	if err := ctx.RegisterComponentResource("ecommerce:region:Region", name, r, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(r)

	key, err := keys.New(ctx, name, &keys.Args{
		AccountID:   args.AccountID,
		Region:      args.Region,
		Alias:       args.DisplayName,
		TopicPrefix: args.StackName,
		AlarmPrefix: observe.Names{Stack: args.Stack, Region: args.Region}.Prefix(),
	}, parent)
	if err != nil {
		return nil, err
	}
	net, err := network.New(ctx, name, &network.Args{
		DisplayName:      args.DisplayName,
		Region:           args.Region,
		AccountID:        args.AccountID,
		VpcCidr:          args.Network.VpcCidr,
		Zones:            args.Network.Zones,
		NatGateways:      args.Network.NatGateways,
		ClusterName:      args.DisplayName,
		KmsKeyArn:        key.Logs.Arn,
		LogRetentionDays: args.Network.LogRetentionDays,
	}, parent)
	if err != nil {
		return nil, err
	}
	cl, err := cluster.New(ctx, name, &cluster.Args{
		ClusterName:       args.DisplayName,
		Region:            args.Region,
		Version:           args.Cluster.Version,
		SubnetIDs:         net.PrivateSubnetIDs,
		KmsKeyArn:         key.Cluster.Arn,
		LogsKmsKeyArn:     key.Logs.Arn,
		PublicAccessCidrs: args.Cluster.PublicAccessCidrs,
		DeployerArn:       args.Cluster.DeployerArn,
		AdminRoleArn:      args.Cluster.AdminRoleArn,
		LogRetentionDays:  args.Network.LogRetentionDays,
		SystemNodes:       args.Cluster.SystemNodes,
		WorkloadNodes:     args.Cluster.WorkloadNodes,
	}, parent)
	if err != nil {
		return nil, err
	}
	r.Keys, r.Network, r.Cluster = key, net, cl

	outputs := pulumi.Map{
		"vpcId":       net.VpcID,
		"clusterName": cl.Name,
	}
	if args.Data != nil {
		data, err := newData(ctx, name, args, r, parent)
		if err != nil {
			return nil, err
		}
		r.Data = data
		outputs["databaseAddresses"] = data.Databases.Addresses
		outputs["cacheAddress"] = data.Cache.Address
		outputs["queueUrls"] = data.Queues.Urls
		outputs["runtimeSecretArns"] = data.Wiring.SecretArns
		outputs["serviceRoleArns"] = data.Wiring.RoleArns
	}

	if args.Workloads != nil {
		if err := newWorkloads(ctx, name, args, r, parent); err != nil {
			return nil, err
		}
		outputs["repositoryUrls"] = r.Registry.URLs
	}

	if args.Ingress != nil {
		if err := newIngress(ctx, name, args, r, parent); err != nil {
			return nil, err
		}
		outputs["loadBalancerDnsName"] = r.Ingress.DNSName
	}

	if args.Vault != nil {
		// Named after the region like every regional resource; it stays
		// when the master moves, with its recovery points.
		v, err := backup.NewVault(ctx, name+"-vault", &backup.VaultArgs{
			Name:      args.DisplayName,
			KmsKeyArn: key.Data.Arn,
			Lock:      args.Vault.Lock,
		}, parent)
		if err != nil {
			return nil, err
		}
		r.Vault = v
		outputs["backupVaultArn"] = v.Arn
	}

	if args.Observe != nil {
		obs, err := newObserve(ctx, name, args, r, parent)
		if err != nil {
			return nil, err
		}
		r.Observe = obs
		outputs["alarmTopicArn"] = obs.TopicArn
		outputs["regionUnhealthyAlarm"] = pulumi.String(obs.RegionUnhealthyName)
		outputs["dashboard"] = obs.Dashboard.DashboardName
	}

	if args.Metrics != nil {
		m, err := newMetrics(ctx, name, args, r, parent)
		if err != nil {
			return nil, err
		}
		r.Metrics = m
		outputs["metricsQueryEndpoint"] = m.QueryEndpoint
	}

	return r, ctx.RegisterResourceOutputs(r, outputs)
}
