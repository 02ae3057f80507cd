package cluster

import (
	"fmt"

	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/iamdoc"
)

// The cluster autoscaler's chart, pinned: a preview renders the same chart
// every time, and a change of it is a reviewed config change.
const (
	AutoscalerChart        = "cluster-autoscaler"
	AutoscalerChartVersion = "9.56.0"
	AutoscalerChartRepo    = "https://kubernetes.github.io/autoscaler"
	autoscalerNamespace    = "kube-system"
	autoscalerAccount      = "cluster-autoscaler"
)

// AutoscalerImages match the cluster autoscaler to the Kubernetes minor
// version it supports (the project releases one line per minor). Sources:
// the releases of kubernetes/autoscaler and registry.k8s.io's image list;
// v1.35.0 is the line's first release, to be raised as patches come.
var AutoscalerImages = map[string]string{
	"1.31": "v1.31.4",
	"1.32": "v1.32.7",
	"1.33": "v1.33.3",
	"1.34": "v1.34.2",
	"1.35": "v1.35.0",
}

// AutoscalerPolicy lets the autoscaler read every group and resize only
// the groups of its own cluster (EKS tags managed node groups'
// autoscaling groups k8s.io/cluster-autoscaler/<cluster>=owned).
func AutoscalerPolicy(clusterName string) (string, error) {
	return iamdoc.Document(
		iamdoc.Statement{
			Sid:    "DiscoverNodeGroups",
			Effect: iamdoc.Allow,
			Action: []string{
				"autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
				"autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities", "autoscaling:DescribeTags",
				"ec2:DescribeImages", "ec2:DescribeInstanceTypes", "ec2:DescribeLaunchTemplateVersions",
				"ec2:GetInstanceTypesFromInstanceRequirements", "eks:DescribeNodegroup",
			},
			Resource: "*",
		},
		iamdoc.Statement{
			Sid:       "ResizeOwnNodeGroups",
			Effect:    iamdoc.Allow,
			Action:    []string{"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"},
			Resource:  "*",
			Condition: iamdoc.Equals("aws:ResourceTag/k8s.io/cluster-autoscaler/"+clusterName, "owned"),
		},
	)
}

// newAutoscaler installs the cluster autoscaler with its own IRSA role.
// It finds the node groups by their tags, and is told its region: the
// nodes' metadata is out of its reach (hop limit 1).
func newAutoscaler(ctx *pulumi.Context, name string, args *Args, oidcArn, issuer pulumi.StringOutput, provider pulumi.ProviderResource, deps []pulumi.Resource, parent pulumi.ResourceOption) error {
	image, ok := AutoscalerImages[args.Version]
	if !ok {
		return fmt.Errorf("cluster: no cluster autoscaler for Kubernetes %s; known: %v", args.Version, AutoscalerImages)
	}
	policy, err := AutoscalerPolicy(args.ClusterName)
	if err != nil {
		return err
	}
	role, err := NewIRSARole(ctx, name+"-autoscaler", &IRSARoleArgs{
		OidcProviderArn: oidcArn,
		OidcIssuerURL:   issuer,
		Namespace:       autoscalerNamespace,
		ServiceAccount:  autoscalerAccount,
		InlinePolicy:    pulumi.String(policy),
		Description:     "cluster autoscaler of " + args.ClusterName,
	}, parent)
	if err != nil {
		return err
	}
	_, err = helmv3.NewRelease(ctx, name+"-autoscaler", &helmv3.ReleaseArgs{
		Name:           pulumi.String(autoscalerAccount),
		Chart:          pulumi.String(AutoscalerChart),
		Version:        pulumi.String(AutoscalerChartVersion),
		Namespace:      pulumi.String(autoscalerNamespace),
		RepositoryOpts: helmv3.RepositoryOptsArgs{Repo: pulumi.String(AutoscalerChartRepo)},
		Values: pulumi.Map{
			"cloudProvider": pulumi.String("aws"),
			"awsRegion":     pulumi.String(args.Region),
			"autoDiscovery": pulumi.Map{"clusterName": pulumi.String(args.ClusterName)},
			"image":         pulumi.Map{"tag": pulumi.String(image)},
			"rbac": pulumi.Map{"serviceAccount": pulumi.Map{
				"create":      pulumi.Bool(true),
				"name":        pulumi.String(autoscalerAccount),
				"annotations": pulumi.Map{"eks.amazonaws.com/role-arn": role.Arn},
			}},
			"extraArgs": pulumi.Map{
				"balance-similar-node-groups": pulumi.Bool(true),
				"expander":                    pulumi.String("least-waste"),
			},
			"nodeSelector":      pulumi.Map{NodeGroupLabel: pulumi.String(SystemNodeGroup)},
			"priorityClassName": pulumi.String("system-cluster-critical"),
		},
	}, parent, pulumi.Provider(provider), pulumi.DependsOn(deps))
	return err
}
