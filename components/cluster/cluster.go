// Package cluster builds the EKS cluster of one region: the control plane
// with encrypted secrets and logs, IRSA and access entries (this file),
// managed node groups (nodegroups.go), core add-ons (addons.go), and a
// Kubernetes provider for the workloads (kubeconfig.go).
package cluster

import (
	"fmt"
	"regexp"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/check"
	"github.com/example/ecommerce-platform/components/iamdoc"
	"github.com/example/ecommerce-platform/components/logs"
)

// ControlPlaneLogTypes are always enabled: the audit and authenticator logs
// are what an incident review needs first.
var ControlPlaneLogTypes = []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}

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
	// KmsKeyArn encrypts Kubernetes secrets and node volumes (the region's
	// cluster key); LogsKmsKeyArn the control-plane logs.
	KmsKeyArn, LogsKmsKeyArn pulumi.StringInput
	// PublicAccessCidrs may reach the API server from the internet; empty
	// means the endpoint is private only.
	PublicAccessCidrs []string
	// DeployerArn is the IAM role (or user) that runs `pulumi up`: the
	// Kubernetes provider deploys as it. It gets cluster-admin through an
	// explicit access entry, since EKS grants the creator nothing here.
	DeployerArn string
	// AdminRoleArn, when set and not the deployer, gets cluster-admin
	// through an access entry of its own.
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
	// NodeGroups are the managed node groups: add-ons installed from
	// outside the cluster component (the observability add-on) wait for
	// them, as the pod add-ons here do.
	NodeGroups []pulumi.Resource
}

func (a *Args) check() error {
	p := check.New("cluster")
	if a == nil {
		p.Require("Args", false)
		return p.Err()
	}
	p.Require("ClusterName", a.ClusterName != "")
	p.Require("Region", a.Region != "")
	p.Require("Version", a.Version != "")
	if _, ok := AutoscalerImages[a.Version]; a.Version != "" && !ok {
		p.Add("Version", "%q has no matching cluster autoscaler; known: %v", a.Version, AutoscalerImages)
	}
	if !principalPattern.MatchString(a.DeployerArn) {
		p.Add("DeployerArn", "%q is not an IAM role or user ARN; the Kubernetes provider deploys as it, so it needs an access entry", a.DeployerArn)
	}
	if a.AdminRoleArn != "" && !principalPattern.MatchString(a.AdminRoleArn) {
		p.Add("AdminRoleArn", "%q is not an IAM role ARN", a.AdminRoleArn)
	}
	p.Require("SubnetIDs", a.SubnetIDs != nil)
	if a.KmsKeyArn == nil {
		p.Add("KmsKeyArn", "is required: secrets are always encrypted")
	}
	if a.LogsKmsKeyArn == nil {
		p.Add("LogsKmsKeyArn", "is required: control-plane logs are always encrypted")
	}
	if !logs.ValidRetention(a.LogRetentionDays) {
		p.Add("LogRetentionDays", "%d is not a CloudWatch Logs retention; allowed: %v", a.LogRetentionDays, logs.RetentionDays)
	}
	p.Merge("SystemNodes", a.SystemNodes.Check())
	p.Merge("WorkloadNodes", a.WorkloadNodes.Check())
	return p.Err()
}

var principalPattern = regexp.MustCompile(`^arn:aws:iam::[0-9]{12}:(role|user)/[A-Za-z0-9+=,.@_/-]{1,512}$`)

// AdminEntry is one explicit cluster-admin access entry.
type AdminEntry struct {
	// Purpose names the entry ("deployer", "admin").
	Purpose      string
	PrincipalArn string
}

// AdminEntries are the cluster-admin entries: the deployer's, and the
// admin role's unless it is the deployer (one principal, one entry: EKS
// refuses a second).
func AdminEntries(deployer, admin string) []AdminEntry {
	out := []AdminEntry{{Purpose: "deployer", PrincipalArn: deployer}}
	if admin != "" && admin != deployer {
		out = append(out, AdminEntry{Purpose: "admin", PrincipalArn: admin})
	}
	return out
}

// trust is the trust policy of a role an AWS service assumes for the
// cluster (the control plane, the nodes).
func trust(service string) (string, error) {
	return iamdoc.ServiceTrust(service, []string{"sts:AssumeRole", "sts:TagSession"}, nil)
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

	clusterTrust, err := trust("eks.amazonaws.com")
	if err != nil {
		return nil, err
	}
	role, err := iam.NewRole(ctx, name+"-cluster", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(clusterTrust),
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

	// Created before the cluster, which would otherwise make its own.
	logGroup, err := logs.NewGroup(ctx, name+"-control-plane", &logs.GroupArgs{
		Name:          pulumi.Sprintf("/aws/eks/%s/cluster", args.ClusterName),
		RetentionDays: args.LogRetentionDays,
		KmsKeyArn:     args.LogsKmsKeyArn,
		Tags:          tags,
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
			// Explicit entries only, the deployer's included. With the
			// bootstrap on, EKS makes the creator's entry itself, and an
			// entry of ours for the same principal fails with
			// ResourceInUseException; turning it off later replaces the
			// cluster, so it is decided before the first deploy.
			BootstrapClusterCreatorAdminPermissions: pulumi.Bool(false),
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

	var access []pulumi.Resource
	for _, a := range AdminEntries(args.DeployerArn, args.AdminRoleArn) {
		entry, err := eks.NewAccessEntry(ctx, name+"-"+a.Purpose, &eks.AccessEntryArgs{
			ClusterName:  cluster.Name,
			PrincipalArn: pulumi.String(a.PrincipalArn),
			Type:         pulumi.String("STANDARD"),
			Tags:         tags,
		}, parent)
		if err != nil {
			return nil, err
		}
		assoc, err := eks.NewAccessPolicyAssociation(ctx, name+"-"+a.Purpose, &eks.AccessPolicyAssociationArgs{
			ClusterName:  cluster.Name,
			PrincipalArn: entry.PrincipalArn,
			PolicyArn:    pulumi.String("arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"),
			AccessScope:  eks.AccessPolicyAssociationAccessScopeArgs{Type: pulumi.String("cluster")},
		}, parent)
		if err != nil {
			return nil, err
		}
		access = append(access, assoc)
	}

	nodeAddons, err := newAddons(ctx, name, args, cluster, oidc.Arn, issuer, NodeAddons, nil, tags, parent)
	if err != nil {
		return nil, err
	}
	nodeGroups, err := newNodeGroups(ctx, name, args, cluster, nodeAddons, tags, parent)
	if err != nil {
		return nil, err
	}
	podAddons, err := newAddons(ctx, name, args, cluster, oidc.Arn, issuer, PodAddons, nodeGroups, tags, parent)
	if err != nil {
		return nil, err
	}

	kubeconfig := pulumi.All(cluster.Name, cluster.Endpoint, cluster.CertificateAuthority.Data().Elem()).ApplyT(
		func(v []any) (string, error) {
			return Kubeconfig(v[0].(string), v[1].(string), v[2].(string), args.Region)
		}).(pulumi.StringOutput)
	provider, err := kubernetes.NewProvider(ctx, name, &kubernetes.ProviderArgs{
		Kubeconfig:            kubeconfig,
		EnableServerSideApply: pulumi.Bool(true),
	}, parent, pulumi.DependsOn(append(append([]pulumi.Resource{}, nodeGroups...), access...)))
	if err != nil {
		return nil, err
	}

	if err := newAutoscaler(ctx, name, args, oidc.Arn, issuer, provider, append(append([]pulumi.Resource{}, nodeGroups...), podAddons...), parent); err != nil {
		return nil, err
	}

	c.Name = cluster.Name
	c.Endpoint = cluster.Endpoint
	c.NodeSecurityGroupID = cluster.VpcConfig.ClusterSecurityGroupId().Elem()
	c.OidcProviderArn = oidc.Arn
	c.OidcIssuerURL = issuer
	c.Kubeconfig = kubeconfig
	c.Provider = provider
	c.NodeGroups = nodeGroups
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"name":                c.Name,
		"endpoint":            c.Endpoint,
		"nodeSecurityGroupId": c.NodeSecurityGroupID,
		"oidcProviderArn":     c.OidcProviderArn,
		"oidcIssuerUrl":       c.OidcIssuerURL,
	})
}
