package cluster

import (
	"fmt"
	"regexp"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/check"
)

// NodeGroupArgs sizes one managed node group. The stack configuration
// decodes straight into it (systemNodeGroup, workloadNodeGroup).
type NodeGroupArgs struct {
	// InstanceTypes, e.g. ["m6i.large"]; several let EKS pick what the
	// zone has.
	InstanceTypes []string `json:"instanceTypes"`
	MinSize       int      `json:"minSize"`
	// DesiredSize applies at creation; the autoscaler owns it after.
	DesiredSize int `json:"desiredSize"`
	MaxSize     int `json:"maxSize"`
	// DiskSizeGiB of each node's encrypted gp3 root volume.
	DiskSizeGiB int `json:"diskSizeGiB"`
}

// NodeGroupLabel tells the nodes of the two groups apart: the services run
// on WorkloadNodeGroup, the cluster's own add-ons on SystemNodeGroup.
const (
	NodeGroupLabel    = "platform/node-group"
	SystemNodeGroup   = "system"
	WorkloadNodeGroup = "workload"
)

// MetadataHopLimit keeps instance metadata on the node itself.
const MetadataHopLimit = 1

// Root volume limits of gp3.
const (
	MinDiskGiB = 20
	MaxDiskGiB = 16384
)

var instanceTypePattern = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)

// Check returns the group's problems, fields named as in the config.
func (g NodeGroupArgs) Check() []check.Problem {
	p := check.New("")
	if len(g.InstanceTypes) == 0 {
		p.Add("instanceTypes", "must list at least one EC2 instance type such as m6i.large")
	}
	for i, t := range g.InstanceTypes {
		if !instanceTypePattern.MatchString(t) {
			p.Add(fmt.Sprintf("instanceTypes[%d]", i), "%q is not an EC2 instance type such as m6i.large", t)
		}
	}
	if g.MinSize < 0 {
		p.Add("minSize", "%d must not be negative", g.MinSize)
	}
	if g.MaxSize < 1 {
		p.Add("maxSize", "%d must be at least 1", g.MaxSize)
	}
	if g.MinSize > g.DesiredSize || g.DesiredSize > g.MaxSize {
		p.Add("desiredSize", "sizes must satisfy minSize <= desiredSize <= maxSize, got %d <= %d <= %d", g.MinSize, g.DesiredSize, g.MaxSize)
	}
	if g.DiskSizeGiB < MinDiskGiB || g.DiskSizeGiB > MaxDiskGiB {
		p.Add("diskSizeGiB", "%d is out of range; allowed: %d to %d", g.DiskSizeGiB, MinDiskGiB, MaxDiskGiB)
	}
	return p.List()
}

// newNodeGroups creates the node role (without the CNI policy: the vpc-cni
// add-on gets its own IRSA role), an encrypted IMDSv2-only launch template,
// and the system and workload groups across every private subnet.
func newNodeGroups(ctx *pulumi.Context, name string, args *Args, cluster *eks.Cluster, nodeAddons []pulumi.Resource, tags pulumi.StringMap, parent pulumi.ResourceOption) ([]pulumi.Resource, error) {
	nodeTrust, err := trust("ec2.amazonaws.com")
	if err != nil {
		return nil, err
	}
	role, err := iam.NewRole(ctx, name+"-nodes", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(nodeTrust),
		Description:      pulumi.Sprintf("EKS managed nodes of %s", args.ClusterName),
		Tags:             tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	attachments, err := attach(ctx, name+"-nodes", role, []string{
		"arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
		"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
	}, parent)
	if err != nil {
		return nil, err
	}

	var groups []pulumi.Resource
	for _, g := range []struct {
		kind string
		args NodeGroupArgs
	}{{SystemNodeGroup, args.SystemNodes}, {WorkloadNodeGroup, args.WorkloadNodes}} {
		lt, err := ec2.NewLaunchTemplate(ctx, fmt.Sprintf("%s-%s", name, g.kind), &ec2.LaunchTemplateArgs{
			Description: pulumi.Sprintf("%s nodes of %s", g.kind, args.ClusterName),
			BlockDeviceMappings: ec2.LaunchTemplateBlockDeviceMappingArray{ec2.LaunchTemplateBlockDeviceMappingArgs{
				DeviceName: pulumi.String("/dev/xvda"),
				Ebs: ec2.LaunchTemplateBlockDeviceMappingEbsArgs{
					VolumeSize:          pulumi.Int(g.args.DiskSizeGiB),
					VolumeType:          pulumi.String("gp3"),
					Encrypted:           pulumi.String("true"),
					KmsKeyId:            args.KmsKeyArn,
					DeleteOnTermination: pulumi.String("true"),
				},
			}},
			// IMDSv2 only, and one hop: the node's own agents (kubelet,
			// the host-network CNI) reach it, pods do not, so no pod can
			// take the node role's credentials around IRSA. What runs in
			// pods and needs a region or VPC gets it explicitly.
			MetadataOptions: ec2.LaunchTemplateMetadataOptionsArgs{
				HttpEndpoint:            pulumi.String("enabled"),
				HttpTokens:              pulumi.String("required"),
				HttpPutResponseHopLimit: pulumi.Int(MetadataHopLimit),
			},
			TagSpecifications: ec2.LaunchTemplateTagSpecificationArray{ec2.LaunchTemplateTagSpecificationArgs{
				ResourceType: pulumi.String("instance"),
				Tags:         pulumi.StringMap{"Name": pulumi.Sprintf("%s-%s", args.ClusterName, g.kind)},
			}},
			Tags: tags,
		}, parent)
		if err != nil {
			return nil, err
		}
		ng, err := eks.NewNodeGroup(ctx, fmt.Sprintf("%s-%s", name, g.kind), &eks.NodeGroupArgs{
			ClusterName:   cluster.Name,
			NodeRoleArn:   role.Arn,
			SubnetIds:     args.SubnetIDs,
			InstanceTypes: pulumi.ToStringArray(g.args.InstanceTypes),
			AmiType:       pulumi.String("AL2023_x86_64_STANDARD"),
			CapacityType:  pulumi.String("ON_DEMAND"),
			ScalingConfig: eks.NodeGroupScalingConfigArgs{
				MinSize:     pulumi.Int(g.args.MinSize),
				DesiredSize: pulumi.Int(g.args.DesiredSize),
				MaxSize:     pulumi.Int(g.args.MaxSize),
			},
			UpdateConfig: eks.NodeGroupUpdateConfigArgs{MaxUnavailable: pulumi.Int(1)},
			LaunchTemplate: eks.NodeGroupLaunchTemplateArgs{
				Id:      lt.ID(),
				Version: lt.LatestVersion.ApplyT(func(v int) string { return fmt.Sprint(v) }).(pulumi.StringOutput),
			},
			Labels: pulumi.StringMap{NodeGroupLabel: pulumi.String(g.kind)},
			Tags:   tags,
		}, parent, pulumi.DependsOn(append(append([]pulumi.Resource{}, attachments...), nodeAddons...)),
			// The cluster autoscaler owns the desired size after creation.
			pulumi.IgnoreChanges([]string{"scalingConfig.desiredSize"}))
		if err != nil {
			return nil, err
		}
		groups = append(groups, ng)
	}
	return groups, nil
}
