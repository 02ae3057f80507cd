// Package region composes everything one region runs: its KMS key, network
// and cluster, with seams for data, messaging, ingress and workloads.
package region

import (
	"errors"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/cluster"
	"github.com/example/ecommerce-platform/components/keys"
	"github.com/example/ecommerce-platform/components/network"
)

// Args configures one region. The region's AWS provider comes in opts
// (pulumi.Provider) and reaches every child through parenting.
type Args struct {
	// Region is the AWS region name.
	Region string
	// Master is true for the master region (primaries, topics, global resources).
	Master bool
	// DisplayName prefixes names and Name tags, e.g. "ecommerce-prod-us-east-1".
	DisplayName string
	AccountID   string
	Network     NetworkArgs
	Cluster     ClusterArgs
	// Data adds databases, cache, queues and runtime secrets (topics too in
	// the master region); nil builds none of them.
	Data *DataArgs
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
	AdminRoleArn      string
	SystemNodes       cluster.NodeGroupArgs
	WorkloadNodes     cluster.NodeGroupArgs
}

// Region is the whole platform footprint in one AWS region.
type Region struct {
	pulumi.ResourceState

	Name    string
	Master  bool
	Key     *keys.Key
	Network *network.Network
	Cluster *cluster.Cluster
	// Data is the region's data layer; nil when Args.Data was nil.
	Data *Data
}

func (a *Args) check() error {
	if a == nil {
		return errors.New("region: args are required")
	}
	if a.Region == "" || a.DisplayName == "" || a.AccountID == "" {
		return errors.New("region: Region, DisplayName and AccountID are required")
	}
	return a.Data.check(a.Master)
}

// New builds the region: key -> network -> cluster.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Region, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	r := &Region{Name: args.Region, Master: args.Master}
	if err := ctx.RegisterComponentResource("ecommerce:region:Region", name, r, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(r)

	key, err := keys.New(ctx, name, &keys.Args{
		AccountID: args.AccountID,
		Region:    args.Region,
		Alias:     args.DisplayName,
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
		KmsKeyArn:        key.Arn,
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
		KmsKeyArn:         key.Arn,
		PublicAccessCidrs: args.Cluster.PublicAccessCidrs,
		AdminRoleArn:      args.Cluster.AdminRoleArn,
		LogRetentionDays:  args.Network.LogRetentionDays,
		SystemNodes:       args.Cluster.SystemNodes,
		WorkloadNodes:     args.Cluster.WorkloadNodes,
	}, parent)
	if err != nil {
		return nil, err
	}
	r.Key, r.Network, r.Cluster = key, net, cl

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
		outputs["runtimeSecretArns"] = data.Settings.SecretArns
	}

	// Seams: ingress and workloads plug in here, each taking the network,
	// cluster, key and data.

	return r, ctx.RegisterResourceOutputs(r, outputs)
}
