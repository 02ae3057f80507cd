package network

import (
	"errors"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ServerSecurityGroupArgs describes the group of a server that answers on
// one TCP port to one source security group, such as a database that only
// the cluster nodes may reach.
type ServerSecurityGroupArgs struct {
	VpcID pulumi.StringInput
	// Server names what listens, for the descriptions ("PostgreSQL").
	Server string
	Port   int
	// SourceSecurityGroupID is the only group admitted.
	SourceSecurityGroupID pulumi.StringInput
	Tags                  pulumi.StringMap
}

// NewServerSecurityGroup creates the group with exactly one ingress rule and
// no egress rule: the server only answers, it never opens connections.
func NewServerSecurityGroup(ctx *pulumi.Context, name string, args *ServerSecurityGroupArgs, opts ...pulumi.ResourceOption) (*ec2.SecurityGroup, error) {
	if args == nil || args.VpcID == nil || args.SourceSecurityGroupID == nil || args.Server == "" || args.Port <= 0 {
		return nil, errors.New("network: a server security group needs VpcID, Server, Port and SourceSecurityGroupID")
	}
	return ec2.NewSecurityGroup(ctx, name, &ec2.SecurityGroupArgs{
		VpcId:       args.VpcID,
		Description: pulumi.Sprintf("%s from the cluster nodes only", args.Server),
		Ingress: ec2.SecurityGroupIngressArray{ec2.SecurityGroupIngressArgs{
			Description:    pulumi.Sprintf("%s from the EKS nodes", args.Server),
			Protocol:       pulumi.String("tcp"),
			FromPort:       pulumi.Int(args.Port),
			ToPort:         pulumi.Int(args.Port),
			SecurityGroups: pulumi.StringArray{args.SourceSecurityGroupID},
		}},
		RevokeRulesOnDelete: pulumi.Bool(true),
		Tags:                args.Tags,
	}, opts...)
}
