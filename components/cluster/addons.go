package cluster

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The EKS-managed add-ons every cluster gets, in two sets. With
// bootstrapSelfManagedAddons off the cluster starts without a network
// plugin: NodeAddons are DaemonSets the nodes need to become Ready ("cni
// plugin not initialized" otherwise), so the node groups wait for them.
// PodAddons are Deployments that need nodes to become healthy, so they
// wait for the node groups.
var (
	NodeAddons = []string{"vpc-cni", "kube-proxy"}
	// metrics-server feeds the pods' CPU use to their autoscalers.
	PodAddons = []string{"coredns", "aws-ebs-csi-driver", "metrics-server"}
	// Addons are both sets.
	Addons = append(append([]string{}, NodeAddons...), PodAddons...)
)

// addonConfig are the add-ons' configuration values (each add-on's own
// schema). The VPC CNI enforces Kubernetes NetworkPolicies only when asked:
// the services' policies would otherwise be ignored.
var addonConfig = map[string]string{
	"vpc-cni": `{"enableNetworkPolicy":"true"}`,
}

// newAddons installs add-ons after deps; vpc-cni and the EBS CSI driver get
// IRSA roles so nodes need neither permission.
func newAddons(ctx *pulumi.Context, name string, args *Args, cluster *eks.Cluster, oidcArn, issuer pulumi.StringOutput, addons []string, deps []pulumi.Resource, tags pulumi.StringMap, parent pulumi.ResourceOption) ([]pulumi.Resource, error) {
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
	var created []pulumi.Resource
	for _, addon := range addons {
		a := &eks.AddonArgs{
			ClusterName:              cluster.Name,
			AddonName:                pulumi.String(addon),
			ResolveConflictsOnCreate: pulumi.String("OVERWRITE"),
			ResolveConflictsOnUpdate: pulumi.String("PRESERVE"),
			Tags:                     tags,
		}
		if cfg, ok := addonConfig[addon]; ok {
			a.ConfigurationValues = pulumi.String(cfg)
		}
		if r, ok := irsa[addon]; ok {
			r.OidcProviderArn = oidcArn
			r.OidcIssuerURL = issuer
			role, err := NewIRSARole(ctx, fmt.Sprintf("%s-%s", name, addon), r, parent)
			if err != nil {
				return nil, err
			}
			a.ServiceAccountRoleArn = role.Arn
		}
		created1, err := eks.NewAddon(ctx, fmt.Sprintf("%s-%s", name, addon), a, parent, pulumi.DependsOn(deps))
		if err != nil {
			return nil, err
		}
		created = append(created, created1)
	}
	return created, nil
}
