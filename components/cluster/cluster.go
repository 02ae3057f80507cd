// Package cluster builds the EKS cluster of one region: control plane with
// encrypted secrets and logs, IRSA, access entries, managed node groups,
// core add-ons, and a Kubernetes provider for the workloads.
package cluster

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ControlPlaneLogTypes are always enabled: the audit and authenticator logs
// are what an incident review needs first.
var ControlPlaneLogTypes = []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}

// Addons are the EKS-managed add-ons every cluster gets.
var Addons = []string{"vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver"}

// NodeGroupArgs sizes one managed node group.
type NodeGroupArgs struct {
	InstanceTypes []string
	MinSize       int
	DesiredSize   int
	MaxSize       int
	DiskSizeGiB   int
}

// Args configures the cluster of one region.
type Args struct {
	// ClusterName is the EKS cluster name, unique in the account and region.
	ClusterName string
	// Region is used by the kubeconfig's token command.
	Region string
	// Version is the Kubernetes minor version, e.g. "1.33".
	Version string
	// SubnetIDs are the private subnets, one per zone, for nodes and the
	// control plane's network interfaces.
	SubnetIDs pulumi.StringArrayInput
	// KmsKeyArn encrypts Kubernetes secrets, control-plane logs and node volumes.
	KmsKeyArn pulumi.StringInput
	// PublicAccessCidrs may reach the API server from the internet; empty
	// means the endpoint is private only.
	PublicAccessCidrs []string
	// AdminRoleArn, when set, gets cluster-admin through an access entry.
	AdminRoleArn string
	// LogRetentionDays is the control-plane log retention.
	LogRetentionDays int
	// SystemNodes runs cluster add-ons; WorkloadNodes runs the services.
	SystemNodes   NodeGroupArgs
	WorkloadNodes NodeGroupArgs
}

// Cluster is an EKS cluster with its node groups and add-ons.
type Cluster struct {
	pulumi.ResourceState

	// Name is the EKS cluster name.
	Name pulumi.StringOutput `pulumi:"name"`
	// Endpoint is the API server URL.
	Endpoint pulumi.StringOutput `pulumi:"endpoint"`
	// NodeSecurityGroupID is the cluster security group the managed nodes
	// use; databases and caches admit traffic from it only.
	NodeSecurityGroupID pulumi.StringOutput `pulumi:"nodeSecurityGroupId"`
	// OidcProviderArn and OidcIssuerURL let workloads get IRSA roles.
	OidcProviderArn pulumi.StringOutput `pulumi:"oidcProviderArn"`
	OidcIssuerURL   pulumi.StringOutput `pulumi:"oidcIssuerUrl"`
	// Kubeconfig authenticates through `aws eks get-token`; it holds no credential.
	Kubeconfig pulumi.StringOutput `pulumi:"kubeconfig"`

	// Provider deploys Kubernetes objects into this cluster.
	Provider *kubernetes.Provider
}

func (a *Args) check() error {
	if a == nil {
		return errors.New("cluster: args are required")
	}
	var errs []error
	if a.ClusterName == "" || a.Region == "" || a.Version == "" {
		errs = append(errs, errors.New("cluster: ClusterName, Region and Version are required"))
	}
	if a.SubnetIDs == nil {
		errs = append(errs, errors.New("cluster: SubnetIDs are required"))
	}
	if a.KmsKeyArn == nil {
		errs = append(errs, errors.New("cluster: KmsKeyArn is required: secrets are always encrypted"))
	}
	if a.LogRetentionDays <= 0 {
		errs = append(errs, errors.New("cluster: LogRetentionDays must be positive"))
	}
	for name, g := range map[string]NodeGroupArgs{"SystemNodes": a.SystemNodes, "WorkloadNodes": a.WorkloadNodes} {
		if len(g.InstanceTypes) == 0 || g.MinSize > g.DesiredSize || g.DesiredSize > g.MaxSize || g.MaxSize < 1 {
			errs = append(errs, fmt.Errorf("cluster: %s needs instance types and min <= desired <= max (max >= 1)", name))
		}
	}
	return errors.Join(errs...)
}

func assumeRolePolicy(service string) string {
	b, _ := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect":    "Allow",
			"Principal": map[string]any{"Service": service},
			"Action":    []string{"sts:AssumeRole", "sts:TagSession"},
		}},
	})
	return string(b)
}

func attach(ctx *pulumi.Context, name string, role *iam.Role, arns []string, opts ...pulumi.ResourceOption) ([]pulumi.Resource, error) {
	out := make([]pulumi.Resource, 0, len(arns))
	for i, arn := range arns {
		a, err := iam.NewRolePolicyAttachment(ctx, fmt.Sprintf("%s-%d", name, i), &iam.RolePolicyAttachmentArgs{
			Role: role.Name, PolicyArn: pulumi.String(arn),
		}, opts...)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// New creates the cluster. Pass the region's AWS provider in opts.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Cluster, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	c := &Cluster{}
	if err := ctx.RegisterComponentResource("ecommerce:cluster:Cluster", name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	tags := pulumi.StringMap{"Name": pulumi.String(args.ClusterName)}

	role, err := iam.NewRole(ctx, name+"-cluster", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(assumeRolePolicy("eks.amazonaws.com")),
		Description:      pulumi.Sprintf("EKS control plane of %s", args.ClusterName),
		Tags:             tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	roleAttachments, err := attach(ctx, name+"-cluster", role, []string{"arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"}, parent)
	if err != nil {
		return nil, err
	}

	// Created before the cluster, so EKS writes into an encrypted group with
	// a retention instead of creating an unencrypted, never-expiring one.
	logGroup, err := cloudwatch.NewLogGroup(ctx, name+"-control-plane", &cloudwatch.LogGroupArgs{
		Name:            pulumi.Sprintf("/aws/eks/%s/cluster", args.ClusterName),
		RetentionInDays: pulumi.Int(args.LogRetentionDays),
		KmsKeyId:        args.KmsKeyArn,
		Tags:            tags,
	}, parent)
	if err != nil {
		return nil, err
	}

	publicCidrs := pulumi.StringArray{}
	for _, cidr := range args.PublicAccessCidrs {
		publicCidrs = append(publicCidrs, pulumi.String(cidr))
	}
	deps := append([]pulumi.Resource{logGroup}, roleAttachments...)
	cluster, err := eks.NewCluster(ctx, name, &eks.ClusterArgs{
		Name:    pulumi.String(args.ClusterName),
		Version: pulumi.String(args.Version),
		RoleArn: role.Arn,
		VpcConfig: eks.ClusterVpcConfigArgs{
			SubnetIds:             args.SubnetIDs,
			EndpointPrivateAccess: pulumi.Bool(true),
			EndpointPublicAccess:  pulumi.Bool(len(args.PublicAccessCidrs) > 0),
			PublicAccessCidrs:     publicCidrs,
		},
		EncryptionConfig: eks.ClusterEncryptionConfigArgs{
			Provider:  eks.ClusterEncryptionConfigProviderArgs{KeyArn: args.KmsKeyArn},
			Resources: pulumi.StringArray{pulumi.String("secrets")},
		},
		EnabledClusterLogTypes: pulumi.ToStringArray(ControlPlaneLogTypes),
		AccessConfig: eks.ClusterAccessConfigArgs{
			// Access entries only: the aws-auth ConfigMap is not consulted.
			AuthenticationMode: pulumi.String("API"),
			// The identity running `pulumi up` deploys the workloads through
			// the Kubernetes provider below, so it keeps admin access.
			BootstrapClusterCreatorAdminPermissions: pulumi.Bool(true),
		},
		// Add-ons are managed below, with their own IAM roles.
		BootstrapSelfManagedAddons: pulumi.Bool(false),
		Tags:                       tags,
	}, parent, pulumi.DependsOn(deps))
	if err != nil {
		return nil, err
	}

	issuer := cluster.Identities.Index(pulumi.Int(0)).Oidcs().Index(pulumi.Int(0)).Issuer().Elem()
	oidc, err := iam.NewOpenIdConnectProvider(ctx, name, &iam.OpenIdConnectProviderArgs{
		Url:           issuer,
		ClientIdLists: pulumi.StringArray{pulumi.String("sts.amazonaws.com")},
		Tags:          tags,
	}, parent)
	if err != nil {
		return nil, err
	}

	if args.AdminRoleArn != "" {
		entry, err := eks.NewAccessEntry(ctx, name+"-admin", &eks.AccessEntryArgs{
			ClusterName:  cluster.Name,
			PrincipalArn: pulumi.String(args.AdminRoleArn),
			Type:         pulumi.String("STANDARD"),
			Tags:         tags,
		}, parent)
		if err != nil {
			return nil, err
		}
		if _, err := eks.NewAccessPolicyAssociation(ctx, name+"-admin", &eks.AccessPolicyAssociationArgs{
			ClusterName:  cluster.Name,
			PrincipalArn: entry.PrincipalArn,
			PolicyArn:    pulumi.String("arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"),
			AccessScope:  eks.AccessPolicyAssociationAccessScopeArgs{Type: pulumi.String("cluster")},
		}, parent); err != nil {
			return nil, err
		}
	}

	nodeGroups, err := newNodeGroups(ctx, name, args, cluster, tags, parent)
	if err != nil {
		return nil, err
	}
	if err := newAddons(ctx, name, args, cluster, oidc.Arn, issuer, nodeGroups, tags, parent); err != nil {
		return nil, err
	}

	kubeconfig := pulumi.All(cluster.Name, cluster.Endpoint, cluster.CertificateAuthority.Data().Elem()).ApplyT(
		func(v []any) (string, error) {
			return Kubeconfig(v[0].(string), v[1].(string), v[2].(string), args.Region)
		}).(pulumi.StringOutput)
	provider, err := kubernetes.NewProvider(ctx, name, &kubernetes.ProviderArgs{
		Kubeconfig:            kubeconfig,
		EnableServerSideApply: pulumi.Bool(true),
	}, parent, pulumi.DependsOn(nodeGroups))
	if err != nil {
		return nil, err
	}

	c.Name = cluster.Name
	c.Endpoint = cluster.Endpoint
	c.NodeSecurityGroupID = cluster.VpcConfig.ClusterSecurityGroupId().Elem()
	c.OidcProviderArn = oidc.Arn
	c.OidcIssuerURL = issuer
	c.Kubeconfig = kubeconfig
	c.Provider = provider
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"name":                c.Name,
		"endpoint":            c.Endpoint,
		"nodeSecurityGroupId": c.NodeSecurityGroupID,
		"oidcProviderArn":     c.OidcProviderArn,
		"oidcIssuerUrl":       c.OidcIssuerURL,
	})
}

// newNodeGroups creates the node role (without the CNI policy: the vpc-cni
// add-on gets its own IRSA role), an encrypted IMDSv2-only launch template,
// and the system and workload groups across every private subnet.
func newNodeGroups(ctx *pulumi.Context, name string, args *Args, cluster *eks.Cluster, tags pulumi.StringMap, parent pulumi.ResourceOption) ([]pulumi.Resource, error) {
	role, err := iam.NewRole(ctx, name+"-nodes", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(assumeRolePolicy("ec2.amazonaws.com")),
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
	}{{"system", args.SystemNodes}, {"workload", args.WorkloadNodes}} {
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
			// IMDSv2 only; hop limit 2 lets the node's own agents reach it.
			MetadataOptions: ec2.LaunchTemplateMetadataOptionsArgs{
				HttpEndpoint:            pulumi.String("enabled"),
				HttpTokens:              pulumi.String("required"),
				HttpPutResponseHopLimit: pulumi.Int(2),
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
			Labels: pulumi.StringMap{"platform/node-group": pulumi.String(g.kind)},
			Tags:   tags,
		}, parent, pulumi.DependsOn(attachments),
			// The cluster autoscaler owns the desired size after creation.
			pulumi.IgnoreChanges([]string{"scalingConfig.desiredSize"}))
		if err != nil {
			return nil, err
		}
		groups = append(groups, ng)
	}
	return groups, nil
}

// newAddons installs the core add-ons; vpc-cni and the EBS CSI driver get
// IRSA roles so nodes need neither permission.
func newAddons(ctx *pulumi.Context, name string, args *Args, cluster *eks.Cluster, oidcArn, issuer pulumi.StringOutput, nodeGroups []pulumi.Resource, tags pulumi.StringMap, parent pulumi.ResourceOption) error {
	irsa := map[string]*IRSARoleArgs{
		"vpc-cni": {
			Namespace: "kube-system", ServiceAccount: "aws-node",
			ManagedPolicyArns: []string{"arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"},
			Description:       "vpc-cni add-on of " + args.ClusterName,
		},
		"aws-ebs-csi-driver": {
			Namespace: "kube-system", ServiceAccount: "ebs-csi-controller-sa",
			ManagedPolicyArns: []string{"arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"},
			Description:       "EBS CSI driver add-on of " + args.ClusterName,
		},
	}
	for _, addon := range Addons {
		a := &eks.AddonArgs{
			ClusterName:              cluster.Name,
			AddonName:                pulumi.String(addon),
			ResolveConflictsOnCreate: pulumi.String("OVERWRITE"),
			ResolveConflictsOnUpdate: pulumi.String("PRESERVE"),
			Tags:                     tags,
		}
		if r, ok := irsa[addon]; ok {
			r.OidcProviderArn = oidcArn
			r.OidcIssuerURL = issuer
			role, err := NewIRSARole(ctx, fmt.Sprintf("%s-%s", name, addon), r, parent)
			if err != nil {
				return err
			}
			a.ServiceAccountRoleArn = role.Arn
		}
		addonOpts := []pulumi.ResourceOption{parent}
		// coredns and the CSI controller are Deployments: they need nodes
		// to become healthy. vpc-cni and kube-proxy are DaemonSets that the
		// nodes themselves need, so they must not wait for the nodes.
		if addon == "coredns" || addon == "aws-ebs-csi-driver" {
			addonOpts = append(addonOpts, pulumi.DependsOn(nodeGroups))
		}
		if _, err := eks.NewAddon(ctx, fmt.Sprintf("%s-%s", name, addon), a, addonOpts...); err != nil {
			return err
		}
	}
	return nil
}

// Kubeconfig renders a kubeconfig that authenticates with `aws eks
// get-token`, so no token or key is ever stored in state.
func Kubeconfig(clusterName, endpoint, caData, region string) (string, error) {
	if _, err := base64.StdEncoding.DecodeString(caData); err != nil {
		return "", fmt.Errorf("kubeconfig: certificate authority of %s is not base64: %w", clusterName, err)
	}
	doc := map[string]any{
		"apiVersion":      "v1",
		"kind":            "Config",
		"current-context": clusterName,
		"clusters": []map[string]any{{
			"name":    clusterName,
			"cluster": map[string]any{"server": endpoint, "certificate-authority-data": caData},
		}},
		"contexts": []map[string]any{{
			"name":    clusterName,
			"context": map[string]any{"cluster": clusterName, "user": clusterName},
		}},
		"users": []map[string]any{{
			"name": clusterName,
			"user": map[string]any{"exec": map[string]any{
				"apiVersion": "client.authentication.k8s.io/v1beta1",
				"command":    "aws",
				"args":       []string{"eks", "get-token", "--cluster-name", clusterName, "--region", region, "--output", "json"},
			}},
		}},
	}
	b, err := json.Marshal(doc)
	return string(b), err
}
