package ingress

import (
	"slices"

	"github.com/example/ecommerce-platform/components/iamdoc"
)

// The AWS Load Balancer Controller's chart, pinned: a preview renders the
// same chart every time, and moving it is a reviewed change. Chart 1.13.0
// ships controller v2.13.0, whose TargetGroupBinding v1beta1 API is what
// the bindings use, on every Kubernetes minor the stacks allow.
const (
	ControllerChart        = "aws-load-balancer-controller"
	ControllerChartVersion = "1.13.0"
	ControllerChartRepo    = "https://aws.github.io/eks-charts"
	ControllerNamespace    = "kube-system"
	ControllerAccount      = "aws-load-balancer-controller"
)

// TargetGroupBinding's API.
const (
	BindingAPIVersion = "elbv2.k8s.aws/v1beta1"
	BindingKind       = "TargetGroupBinding"
)

// controllerReadActions are the read-only calls of the controller's
// published IAM policy that a TargetGroupBinding needs: finding the pods'
// network interfaces, subnets and security groups, and the target groups'
// health. AWS offers no resource-level scoping for them.
var controllerReadActions = []string{
	"ec2:DescribeAvailabilityZones",
	"ec2:DescribeInstances",
	"ec2:DescribeNetworkInterfaces",
	"ec2:DescribeSecurityGroups",
	"ec2:DescribeSubnets",
	"ec2:DescribeTags",
	"ec2:DescribeVpcs",
	"ec2:GetSecurityGroupsForVpc",
	"elasticloadbalancing:DescribeListeners",
	"elasticloadbalancing:DescribeLoadBalancerAttributes",
	"elasticloadbalancing:DescribeLoadBalancers",
	"elasticloadbalancing:DescribeRules",
	"elasticloadbalancing:DescribeTags",
	"elasticloadbalancing:DescribeTargetGroupAttributes",
	"elasticloadbalancing:DescribeTargetGroups",
	"elasticloadbalancing:DescribeTargetHealth",
}

// ControllerPolicy is the controller's identity policy. The published
// policy also lets it create and delete load balancers, target groups,
// listeners and security groups for Ingress objects and Services of type
// LoadBalancer; here it only binds pods to the target groups this program
// owns, so it may register and deregister targets in exactly those, and
// read. An Ingress or LoadBalancer Service created by hand is refused by
// AWS rather than served by a load balancer nobody reviewed.
func ControllerPolicy(targetGroupArns []string) (string, error) {
	arns := slices.Clone(targetGroupArns)
	slices.Sort(arns)
	return iamdoc.Document(
		iamdoc.Statement{
			Sid:      "Discover",
			Effect:   iamdoc.Allow,
			Action:   controllerReadActions,
			Resource: "*",
		},
		iamdoc.Statement{
			Sid:      "BindOwnTargetGroups",
			Effect:   iamdoc.Allow,
			Action:   []string{"elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"},
			Resource: arns,
		},
	)
}
