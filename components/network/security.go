package network

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/check"
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

// ServerSecurityGroup is the group and its one ingress rule.
type ServerSecurityGroup struct {
	Group *ec2.SecurityGroup
	// Ingress admits the source; it is a resource of its own so the group,
	// and the server placed in it, need not wait for the source to exist
	// (a database need not wait for the cluster whose nodes are its
	// clients: the two are built side by side).
	Ingress *vpc.SecurityGroupIngressRule
}

// NewServerSecurityGroup creates the group with exactly one ingress rule and
// no egress rule: the server only answers, it never opens connections.
func NewServerSecurityGroup(ctx *pulumi.Context, name string, args *ServerSecurityGroupArgs, opts ...pulumi.ResourceOption) (*ServerSecurityGroup, error) {
	p := check.New("server security group")
	if args == nil {
		p.Require("Args", false)
		return nil, p.Err()
	}
	p.Require("VpcID", args.VpcID != nil)
	p.Require("Server", args.Server != "")
	p.Require("SourceSecurityGroupID", args.SourceSecurityGroupID != nil)
	if args.Port <= 0 || args.Port > 65535 {
		p.Add("Port", "%d: allowed 1 to 65535", args.Port)
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	group, err := ec2.NewSecurityGroup(ctx, name, &ec2.SecurityGroupArgs{
		VpcId:               args.VpcID,
		Description:         pulumi.Sprintf("%s from the cluster nodes only", args.Server),
		RevokeRulesOnDelete: pulumi.Bool(true),
		Tags:                args.Tags,
	}, opts...)
	if err != nil {
		return nil, err
	}
	ingress, err := vpc.NewSecurityGroupIngressRule(ctx, name, &vpc.SecurityGroupIngressRuleArgs{
		SecurityGroupId:           group.ID(),
		Description:               pulumi.Sprintf("%s from the EKS nodes", args.Server),
		IpProtocol:                pulumi.String("tcp"),
		FromPort:                  pulumi.Int(args.Port),
		ToPort:                    pulumi.Int(args.Port),
		ReferencedSecurityGroupId: args.SourceSecurityGroupID,
		Tags:                      args.Tags,
	}, opts...)
	if err != nil {
		return nil, err
	}
	return &ServerSecurityGroup{Group: group, Ingress: ingress}, nil
}
