// Package network builds the VPC of one region: public, private (workload)
// and database subnets across the configured zones, NAT, routing, flow logs
// and the VPC endpoints a private EKS cluster needs.
package network

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/check"
	"github.com/example/ecommerce-platform/components/iamdoc"
	"github.com/example/ecommerce-platform/components/logs"
)

// NAT gateway modes.
const (
	NatPerAz  = "perAz"
	NatSingle = "single"
)

// InterfaceEndpoints are the AWS services reached through interface
// endpoints, so nodes pull images, get tokens, ship logs and talk to the
// event bus and secrets without crossing the internet.
var InterfaceEndpoints = []string{"ecr.api", "ecr.dkr", "sts", "logs", "sqs", "sns", "secretsmanager"}

// Args configures the network of one region.
type Args struct {
	// DisplayName prefixes the Name tags (e.g. "ecommerce-prod-us-east-1").
	DisplayName string
	// Region is the AWS region, used for endpoint service names.
	Region string
	// AccountID scopes the flow-log role's trust to this account.
	AccountID string
	// VpcCidr is the VPC block, /16 to /20.
	VpcCidr string
	// Zones are the availability zones, 2 or 3.
	Zones []string
	// NatGateways is NatPerAz or NatSingle.
	NatGateways string
	// ClusterName tags the subnets for the AWS Load Balancer Controller.
	ClusterName string
	// KmsKeyArn encrypts the flow-log group (the region's logs key).
	KmsKeyArn pulumi.StringInput
	// LogRetentionDays is the flow-log retention.
	LogRetentionDays int
}

// Network is the VPC of one region.
type Network struct {
	pulumi.ResourceState

	// VpcID is the VPC id.
	VpcID pulumi.StringOutput `pulumi:"vpcId"`
	// VpcCidr is the VPC CIDR block.
	VpcCidr pulumi.StringOutput `pulumi:"vpcCidr"`
	// PublicSubnetIDs hold load balancers and NAT gateways, one per zone.
	PublicSubnetIDs pulumi.StringArrayOutput `pulumi:"publicSubnetIds"`
	// PrivateSubnetIDs hold nodes and pods, one per zone.
	PrivateSubnetIDs pulumi.StringArrayOutput `pulumi:"privateSubnetIds"`
	// DatabaseSubnetIDs hold databases and caches; they have no internet route.
	DatabaseSubnetIDs pulumi.StringArrayOutput `pulumi:"databaseSubnetIds"`
	// EndpointSecurityGroupID guards the interface endpoints.
	EndpointSecurityGroupID pulumi.StringOutput `pulumi:"endpointSecurityGroupId"`
	// FlowLogGroupName is the CloudWatch log group of the VPC flow logs.
	FlowLogGroupName pulumi.StringOutput `pulumi:"flowLogGroupName"`

	// Plan is the subnet layout the network was built from.
	Plan []SubnetPlan
}

func (a *Args) check() error {
	p := check.New("network")
	if a == nil {
		p.Require("Args", false)
		return p.Err()
	}
	p.Require("DisplayName", a.DisplayName != "")
	p.Require("Region", a.Region != "")
	p.Require("AccountID", a.AccountID != "")
	p.Require("ClusterName", a.ClusterName != "")
	if a.KmsKeyArn == nil {
		p.Add("KmsKeyArn", "is required: flow logs are always encrypted")
	}
	if a.NatGateways != NatPerAz && a.NatGateways != NatSingle {
		p.Add("NatGateways", "%q: allowed %q or %q", a.NatGateways, NatPerAz, NatSingle)
	}
	if !logs.ValidRetention(a.LogRetentionDays) {
		p.Add("LogRetentionDays", "%d is not a CloudWatch Logs retention; allowed: %v", a.LogRetentionDays, logs.RetentionDays)
	}
	if len(a.Zones) < 2 {
		p.Add("Zones", "%d given; at least 2 are needed for the database subnet group", len(a.Zones))
	}
	if _, err := PlanSubnets(a.VpcCidr, a.Zones); err != nil {
		p.Add("VpcCidr", "no subnet plan: %v", err)
	}
	return p.Err()
}

// zoneSuffix keeps logical names short and stable: "us-east-1a" -> "a".
func zoneSuffix(region, zone string) string {
	if s, ok := strings.CutPrefix(zone, region); ok && s != "" {
		return s
	}
	return zone
}

// New creates the network. Every child is parented to the component, so the
// region provider passed in opts applies to all of them.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Network, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	plan, _ := PlanSubnets(args.VpcCidr, args.Zones) // checked above
	n := &Network{Plan: plan}
	if err := ctx.RegisterComponentResource("ecommerce:network:Network", name, n, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(n)
	tags := func(display string, extra map[string]string) pulumi.StringMap {
		m := pulumi.StringMap{"Name": pulumi.String(args.DisplayName + "-" + display)}
		for k, v := range extra {
			m[k] = pulumi.String(v)
		}
		return m
	}

	vpc, err := ec2.NewVpc(ctx, name, &ec2.VpcArgs{
		CidrBlock:          pulumi.String(args.VpcCidr),
		EnableDnsHostnames: pulumi.Bool(true), // private endpoints and EKS need both
		EnableDnsSupport:   pulumi.Bool(true),
		Tags:               tags("vpc", nil),
	}, parent)
	if err != nil {
		return nil, err
	}
	// The default security group allows all traffic between its members;
	// adopting it with no rules closes that door for anything that lands in it.
	if _, err := ec2.NewDefaultSecurityGroup(ctx, name+"-default", &ec2.DefaultSecurityGroupArgs{
		VpcId: vpc.ID(),
		Tags:  tags("default-closed", nil),
	}, parent); err != nil {
		return nil, err
	}
	igw, err := ec2.NewInternetGateway(ctx, name, &ec2.InternetGatewayArgs{
		VpcId: vpc.ID(),
		Tags:  tags("igw", nil),
	}, parent)
	if err != nil {
		return nil, err
	}

	clusterTag := "kubernetes.io/cluster/" + args.ClusterName
	publicRT, err := ec2.NewRouteTable(ctx, name+"-public", &ec2.RouteTableArgs{
		VpcId: vpc.ID(),
		Routes: ec2.RouteTableRouteArray{ec2.RouteTableRouteArgs{
			CidrBlock: pulumi.String("0.0.0.0/0"),
			GatewayId: igw.ID(),
		}},
		Tags: tags("public", nil),
	}, parent)
	if err != nil {
		return nil, err
	}
	// Database subnets share one route table with only the local route:
	// nothing in them can reach or be reached from the internet.
	databaseRT, err := ec2.NewRouteTable(ctx, name+"-database", &ec2.RouteTableArgs{
		VpcId: vpc.ID(),
		Tags:  tags("database", nil),
	}, parent)
	if err != nil {
		return nil, err
	}

	var publicIDs, privateIDs, databaseIDs pulumi.StringArray
	var natIDs []pulumi.IDOutput
	routeTableIDs := pulumi.StringArray{databaseRT.ID()}
	for i, zone := range plan {
		z := zoneSuffix(args.Region, zone.Zone)
		public, err := ec2.NewSubnet(ctx, fmt.Sprintf("%s-public-%s", name, z), &ec2.SubnetArgs{
			VpcId:            vpc.ID(),
			CidrBlock:        pulumi.String(zone.Public.String()),
			AvailabilityZone: pulumi.String(zone.Zone),
			// Nothing launched here needs a public address by default; load
			// balancers and NAT gateways bring their own.
			MapPublicIpOnLaunch: pulumi.Bool(false),
			Tags:                tags("public-"+zone.Zone, map[string]string{"kubernetes.io/role/elb": "1", clusterTag: "shared", "tier": "public"}),
		}, parent)
		if err != nil {
			return nil, err
		}
		private, err := ec2.NewSubnet(ctx, fmt.Sprintf("%s-private-%s", name, z), &ec2.SubnetArgs{
			VpcId:            vpc.ID(),
			CidrBlock:        pulumi.String(zone.Private.String()),
			AvailabilityZone: pulumi.String(zone.Zone),
			Tags:             tags("private-"+zone.Zone, map[string]string{"kubernetes.io/role/internal-elb": "1", clusterTag: "shared", "tier": "private"}),
		}, parent)
		if err != nil {
			return nil, err
		}
		database, err := ec2.NewSubnet(ctx, fmt.Sprintf("%s-database-%s", name, z), &ec2.SubnetArgs{
			VpcId:            vpc.ID(),
			CidrBlock:        pulumi.String(zone.Database.String()),
			AvailabilityZone: pulumi.String(zone.Zone),
			Tags:             tags("database-"+zone.Zone, map[string]string{"tier": "database"}),
		}, parent)
		if err != nil {
			return nil, err
		}
		publicIDs = append(publicIDs, public.ID())
		privateIDs = append(privateIDs, private.ID())
		databaseIDs = append(databaseIDs, database.ID())

		if _, err := ec2.NewRouteTableAssociation(ctx, fmt.Sprintf("%s-public-%s", name, z), &ec2.RouteTableAssociationArgs{
			SubnetId: public.ID(), RouteTableId: publicRT.ID(),
		}, parent); err != nil {
			return nil, err
		}
		if _, err := ec2.NewRouteTableAssociation(ctx, fmt.Sprintf("%s-database-%s", name, z), &ec2.RouteTableAssociationArgs{
			SubnetId: database.ID(), RouteTableId: databaseRT.ID(),
		}, parent); err != nil {
			return nil, err
		}

		if args.NatGateways == NatPerAz || i == 0 {
			eip, err := ec2.NewEip(ctx, fmt.Sprintf("%s-nat-%s", name, z), &ec2.EipArgs{
				Domain: pulumi.String("vpc"),
				Tags:   tags("nat-"+zone.Zone, nil),
			}, parent)
			if err != nil {
				return nil, err
			}
			nat, err := ec2.NewNatGateway(ctx, fmt.Sprintf("%s-%s", name, z), &ec2.NatGatewayArgs{
				AllocationId: eip.ID(),
				SubnetId:     public.ID(),
				Tags:         tags("nat-"+zone.Zone, nil),
			}, parent, pulumi.DependsOn([]pulumi.Resource{igw}))
			if err != nil {
				return nil, err
			}
			natIDs = append(natIDs, nat.ID())
		}
		// One private route table per zone even with a single NAT gateway, so
		// switching to perAz later changes routes, not associations.
		nat := natIDs[len(natIDs)-1]
		privateRT, err := ec2.NewRouteTable(ctx, fmt.Sprintf("%s-private-%s", name, z), &ec2.RouteTableArgs{
			VpcId: vpc.ID(),
			Routes: ec2.RouteTableRouteArray{ec2.RouteTableRouteArgs{
				CidrBlock:    pulumi.String("0.0.0.0/0"),
				NatGatewayId: nat,
			}},
			Tags: tags("private-"+zone.Zone, nil),
		}, parent)
		if err != nil {
			return nil, err
		}
		if _, err := ec2.NewRouteTableAssociation(ctx, fmt.Sprintf("%s-private-%s", name, z), &ec2.RouteTableAssociationArgs{
			SubnetId: private.ID(), RouteTableId: privateRT.ID(),
		}, parent); err != nil {
			return nil, err
		}
		routeTableIDs = append(routeTableIDs, privateRT.ID())
	}

	flowLogGroup, err := newFlowLogs(ctx, name, args, vpc, tags, parent)
	if err != nil {
		return nil, err
	}

	endpointSG, err := newEndpoints(ctx, name, args, vpc, privateIDs, routeTableIDs, tags, parent)
	if err != nil {
		return nil, err
	}

	n.VpcID = vpc.ID().ToStringOutput()
	n.VpcCidr = vpc.CidrBlock
	n.PublicSubnetIDs = publicIDs.ToStringArrayOutput()
	n.PrivateSubnetIDs = privateIDs.ToStringArrayOutput()
	n.DatabaseSubnetIDs = databaseIDs.ToStringArrayOutput()
	n.EndpointSecurityGroupID = endpointSG
	n.FlowLogGroupName = flowLogGroup
	return n, ctx.RegisterResourceOutputs(n, pulumi.Map{
		"vpcId":                   n.VpcID,
		"vpcCidr":                 n.VpcCidr,
		"publicSubnetIds":         n.PublicSubnetIDs,
		"privateSubnetIds":        n.PrivateSubnetIDs,
		"databaseSubnetIds":       n.DatabaseSubnetIDs,
		"endpointSecurityGroupId": n.EndpointSecurityGroupID,
		"flowLogGroupName":        n.FlowLogGroupName,
	})
}

type tagFunc func(display string, extra map[string]string) pulumi.StringMap

// newFlowLogs records all VPC traffic into an encrypted log group through a
// role that may write only to that group.
func newFlowLogs(ctx *pulumi.Context, name string, args *Args, vpc *ec2.Vpc, tags tagFunc, parent pulumi.ResourceOption) (pulumi.StringOutput, error) {
	group, err := logs.NewGroup(ctx, name+"-flow-logs", &logs.GroupArgs{
		Name:          pulumi.Sprintf("/vpc/%s/flow-logs", args.DisplayName),
		RetentionDays: args.LogRetentionDays,
		KmsKeyArn:     args.KmsKeyArn,
		Tags:          tags("flow-logs", nil),
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	trust, err := iamdoc.ServiceTrust("vpc-flow-logs.amazonaws.com", []string{"sts:AssumeRole"},
		iamdoc.Equals("aws:SourceAccount", args.AccountID))
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	role, err := iam.NewRole(ctx, name+"-flow-logs", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(trust),
		Description:      pulumi.Sprintf("VPC flow logs of %s", args.DisplayName),
		Tags:             tags("flow-logs", nil),
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	policy := group.Arn.ApplyT(func(arn string) (string, error) {
		return iamdoc.Document(iamdoc.Statement{
			Effect:   iamdoc.Allow,
			Action:   []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
			Resource: []string{arn, arn + ":*"},
		})
	}).(pulumi.StringOutput)
	if _, err := iam.NewRolePolicy(ctx, name+"-flow-logs", &iam.RolePolicyArgs{
		Role:   role.Name,
		Policy: policy,
	}, parent); err != nil {
		return pulumi.StringOutput{}, err
	}
	if _, err := ec2.NewFlowLog(ctx, name, &ec2.FlowLogArgs{
		VpcId:                  vpc.ID(),
		TrafficType:            pulumi.String("ALL"),
		LogDestinationType:     pulumi.String("cloud-watch-logs"),
		LogDestination:         group.Arn,
		IamRoleArn:             role.Arn,
		MaxAggregationInterval: pulumi.Int(60),
		Tags:                   tags("flow-logs", nil),
	}, parent); err != nil {
		return pulumi.StringOutput{}, err
	}
	return group.Name, nil
}

// newEndpoints adds the S3 gateway endpoint and the interface endpoints,
// reachable on 443 from inside the VPC only.
func newEndpoints(ctx *pulumi.Context, name string, args *Args, vpc *ec2.Vpc, subnets, routeTables pulumi.StringArray, tags tagFunc, parent pulumi.ResourceOption) (pulumi.StringOutput, error) {
	sg, err := ec2.NewSecurityGroup(ctx, name+"-endpoints", &ec2.SecurityGroupArgs{
		VpcId:       vpc.ID(),
		Description: pulumi.String("HTTPS from inside the VPC to AWS interface endpoints"),
		Ingress: ec2.SecurityGroupIngressArray{ec2.SecurityGroupIngressArgs{
			Description: pulumi.String("HTTPS from the VPC"),
			Protocol:    pulumi.String("tcp"),
			FromPort:    pulumi.Int(443),
			ToPort:      pulumi.Int(443),
			CidrBlocks:  pulumi.StringArray{pulumi.String(args.VpcCidr)},
		}},
		Tags: tags("endpoints", nil),
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	if _, err := ec2.NewVpcEndpoint(ctx, name+"-s3", &ec2.VpcEndpointArgs{
		VpcId:           vpc.ID(),
		ServiceName:     pulumi.Sprintf("com.amazonaws.%s.s3", args.Region),
		VpcEndpointType: pulumi.String("Gateway"),
		RouteTableIds:   routeTables,
		Tags:            tags("s3", nil),
	}, parent); err != nil {
		return pulumi.StringOutput{}, err
	}
	for _, svc := range InterfaceEndpoints {
		logical := strings.ReplaceAll(svc, ".", "-")
		if _, err := ec2.NewVpcEndpoint(ctx, name+"-"+logical, &ec2.VpcEndpointArgs{
			VpcId:             vpc.ID(),
			ServiceName:       pulumi.Sprintf("com.amazonaws.%s.%s", args.Region, svc),
			VpcEndpointType:   pulumi.String("Interface"),
			SubnetIds:         subnets,
			SecurityGroupIds:  pulumi.StringArray{sg.ID()},
			PrivateDnsEnabled: pulumi.Bool(true),
			Tags:              tags(logical, nil),
		}, parent); err != nil {
			return pulumi.StringOutput{}, err
		}
	}
	return sg.ID().ToStringOutput(), nil
}
