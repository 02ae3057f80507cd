package cluster

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Addons are the EKS-managed add-ons every cluster gets.
var Addons = []string{"vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver"}

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
