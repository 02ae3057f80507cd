package network_test

import (
	"fmt"
	"math/rand"
	"net/netip"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/network"
	"github.com/example/ecommerce-platform/stacks/plan"
)

func TestPlanSubnetsLayout(t *testing.T) {
	cases := []struct {
		vpc                        string
		zones                      int
		private, public, databases []string
	}{
		{
			vpc: "10.0.0.0/16", zones: 3,
			private:   []string{"10.0.0.0/18", "10.0.64.0/18", "10.0.128.0/18"},
			public:    []string{"10.0.192.0/21", "10.0.200.0/21", "10.0.208.0/21"},
			databases: []string{"10.0.224.0/21", "10.0.232.0/21", "10.0.240.0/21"},
		},
		{
			vpc: "10.1.0.0/20", zones: 3,
			private:   []string{"10.1.0.0/22", "10.1.4.0/22", "10.1.8.0/22"},
			public:    []string{"10.1.12.0/25", "10.1.12.128/25", "10.1.13.0/25"},
			databases: []string{"10.1.14.0/25", "10.1.14.128/25", "10.1.15.0/25"},
		},
		{
			vpc: "172.16.0.0/17", zones: 2,
			private:   []string{"172.16.0.0/19", "172.16.32.0/19"},
			public:    []string{"172.16.96.0/22", "172.16.100.0/22"},
			databases: []string{"172.16.112.0/22", "172.16.116.0/22"},
		},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s/%d", tc.vpc, tc.zones), func(t *testing.T) {
			zones := []string{"za", "zb", "zc"}[:tc.zones]
			plans, err := network.PlanSubnets(tc.vpc, zones)
			require.NoError(t, err)
			require.Len(t, plans, tc.zones)
			for i, p := range plans {
				assert.Equal(t, zones[i], p.Zone)
				assert.Equal(t, tc.private[i], p.Private.String())
				assert.Equal(t, tc.public[i], p.Public.String())
				assert.Equal(t, tc.databases[i], p.Database.String())
			}
		})
	}
}

func TestPlanSubnetsRejects(t *testing.T) {
	for _, tc := range []struct {
		vpc   string
		zones int
		want  string
	}{
		{"10.0.0.0/8", 3, "between /16 and /20"},
		{"10.0.0.0/21", 3, "between /16 and /20"},
		{"10.0.1.0/16", 3, "masked"},
		{"fd00::/56", 3, "IPv4"},
		{"nonsense", 3, "vpc cidr"},
		{"10.0.0.0/16", 4, "room for 1 to 3"},
		{"10.0.0.0/16", 0, "room for 1 to 3"},
	} {
		_, err := network.PlanSubnets(tc.vpc, make([]string, tc.zones))
		require.Error(t, err, tc.vpc)
		assert.Contains(t, err.Error(), tc.want)
	}
}

// Property: for any allowed VPC and zone count, every subnet lies inside the
// VPC, no two overlap, and a zone's subnets do not move when zones are added.
func TestPlanSubnetsProperties(t *testing.T) {
	rng := rand.New(rand.NewSource(42))
	for n := 0; n < 500; n++ {
		bits := network.MinVpcPrefix + rng.Intn(network.MaxVpcPrefix-network.MinVpcPrefix+1)
		addr := netip.AddrFrom4([4]byte{10, byte(rng.Intn(256)), byte(rng.Intn(256)), 0})
		vpc := netip.PrefixFrom(addr, bits).Masked()
		zones := 2 + rng.Intn(2)
		plans, err := network.PlanSubnets(vpc.String(), make([]string, zones))
		require.NoError(t, err, vpc)
		var all []netip.Prefix
		for _, p := range plans {
			all = append(all, p.Private, p.Public, p.Database)
		}
		for i, a := range all {
			require.True(t, vpc.Contains(a.Addr()) && a.Bits() > vpc.Bits(), "%s inside %s", a, vpc)
			for _, b := range all[i+1:] {
				require.False(t, a.Overlaps(b), "%s overlaps %s in %s", a, b, vpc)
			}
		}
		three, err := network.PlanSubnets(vpc.String(), make([]string, 3))
		require.NoError(t, err)
		for i := range plans {
			require.Equal(t, three[i].Private, plans[i].Private)
			require.Equal(t, three[i].Public, plans[i].Public)
			require.Equal(t, three[i].Database, plans[i].Database)
		}
	}
}

func validArgs() *network.Args {
	return &network.Args{
		DisplayName:      "ecommerce-test-us-east-1",
		Region:           "us-east-1",
		AccountID:        "123456789012",
		VpcCidr:          "10.0.0.0/16",
		Zones:            []string{"us-east-1a", "us-east-1b", "us-east-1c"},
		NatGateways:      network.NatPerAz,
		ClusterName:      "ecommerce-test-us-east-1",
		KmsKeyArn:        pulumi.String("arn:aws:kms:us-east-1:123456789012:key/test"),
		LogRetentionDays: 30,
	}
}

// build runs network.New under the mocks with a us-east-1 provider.
func build(t *testing.T, args *network.Args) (*plan.Inventory, error) {
	t.Helper()
	return plan.Run("ecommerce", "test", nil, func(ctx *pulumi.Context) error {
		p, err := aws.NewProvider(ctx, "aws-us-east-1", &aws.ProviderArgs{Region: pulumi.String("us-east-1")})
		if err != nil {
			return err
		}
		_, err = network.New(ctx, "us-east-1", args, pulumi.Provider(p))
		return err
	})
}

func TestNetworkPerZone(t *testing.T) {
	inv, err := build(t, validArgs())
	require.NoError(t, err)

	subnets := inv.OfType("aws:ec2/subnet:Subnet")
	require.Len(t, subnets, 9)
	byTier := map[string][]*plan.Resource{}
	for _, s := range subnets {
		byTier[s.String("tags.tier")] = append(byTier[s.String("tags.tier")], s)
	}
	plans, err := network.PlanSubnets("10.0.0.0/16", validArgs().Zones)
	require.NoError(t, err)
	assert.Len(t, byTier["public"], 3)
	assert.Len(t, byTier["private"], 3)
	assert.Len(t, byTier["database"], 3)
	for i, zone := range validArgs().Zones {
		for tier, want := range map[string]netip.Prefix{"public": plans[i].Public, "private": plans[i].Private, "database": plans[i].Database} {
			s := inv.Find("aws:ec2/subnet:Subnet", "us-east-1-"+tier+"-"+zone[len(zone)-1:])
			require.NotNil(t, s, tier+zone)
			assert.Equal(t, tier, s.String("tags.tier"))
			assert.Equal(t, zone, s.String("availabilityZone"), tier)
			assert.Equal(t, want.String(), s.String("cidrBlock"), tier)
		}
	}
	for _, s := range byTier["public"] {
		assert.Equal(t, false, s.Get("mapPublicIpOnLaunch"), "no public IPs by default")
	}

	assert.Len(t, inv.OfType("aws:ec2/natGateway:NatGateway"), 3, "one NAT gateway per zone")
	assert.Len(t, inv.OfType("aws:ec2/eip:Eip"), 3)
	// public + database + one private table per zone
	assert.Len(t, inv.OfType("aws:ec2/routeTable:RouteTable"), 5)
	assert.Len(t, inv.OfType("aws:ec2/routeTableAssociation:RouteTableAssociation"), 9)

	// Each private route table sends internet traffic to its own zone's NAT.
	seen := map[string]bool{}
	for _, z := range []string{"a", "b", "c"} {
		rt := inv.Find("aws:ec2/routeTable:RouteTable", "us-east-1-private-"+z)
		require.NotNil(t, rt, z)
		assert.Equal(t, "0.0.0.0/0", rt.String("routes.0.cidrBlock"))
		nat := rt.String("routes.0.natGatewayId")
		assert.NotEmpty(t, nat)
		assert.False(t, seen[nat], "zone %s shares a NAT gateway", z)
		seen[nat] = true
	}
	db := inv.Find("aws:ec2/routeTable:RouteTable", "us-east-1-database")
	require.NotNil(t, db)
	assert.Empty(t, db.Get("routes"), "database subnets have no route out")
}

func TestNetworkSingleNat(t *testing.T) {
	args := validArgs()
	args.NatGateways = network.NatSingle
	inv, err := build(t, args)
	require.NoError(t, err)
	nats := inv.OfType("aws:ec2/natGateway:NatGateway")
	require.Len(t, nats, 1)
	var natIDs []string
	for _, z := range []string{"a", "b", "c"} {
		rt := inv.Find("aws:ec2/routeTable:RouteTable", "us-east-1-private-"+z)
		natIDs = append(natIDs, rt.String("routes.0.natGatewayId"))
	}
	assert.Equal(t, natIDs[0], natIDs[1])
	assert.Equal(t, natIDs[0], natIDs[2])
}

func TestNetworkSubnetTagsForLoadBalancers(t *testing.T) {
	inv, err := build(t, validArgs())
	require.NoError(t, err)
	for _, s := range inv.OfType("aws:ec2/subnet:Subnet") {
		tags, _ := s.Get("tags").(map[string]any)
		switch tags["tier"] {
		case "public":
			assert.Equal(t, "1", tags["kubernetes.io/role/elb"], s.Name)
			assert.Equal(t, "shared", tags["kubernetes.io/cluster/ecommerce-test-us-east-1"], s.Name)
		case "private":
			assert.Equal(t, "1", tags["kubernetes.io/role/internal-elb"], s.Name)
			assert.Equal(t, "shared", tags["kubernetes.io/cluster/ecommerce-test-us-east-1"], s.Name)
		case "database":
			assert.NotContains(t, tags, "kubernetes.io/role/elb", s.Name)
			assert.NotContains(t, tags, "kubernetes.io/role/internal-elb", s.Name)
		default:
			t.Errorf("subnet %s has no tier tag", s.Name)
		}
		assert.NotEmpty(t, tags["Name"], s.Name)
	}
}

func TestNetworkFlowLogsEncrypted(t *testing.T) {
	inv, err := build(t, validArgs())
	require.NoError(t, err)
	group := inv.Find("aws:cloudwatch/logGroup:LogGroup", "us-east-1-flow-logs")
	require.NotNil(t, group)
	assert.Equal(t, "arn:aws:kms:us-east-1:123456789012:key/test", group.String("kmsKeyId"))
	assert.EqualValues(t, 30, group.Get("retentionInDays"))

	flows := inv.OfType("aws:ec2/flowLog:FlowLog")
	require.Len(t, flows, 1)
	assert.Equal(t, "ALL", flows[0].String("trafficType"))
	assert.Contains(t, flows[0].String("logDestination"), "arn:aws:logs:us-east-1:")

	// The role may write only to its own group.
	policy := inv.Find("aws:iam/rolePolicy:RolePolicy", "us-east-1-flow-logs")
	require.NotNil(t, policy)
	assert.Contains(t, policy.String("policy"), group.String("name"))
	assert.NotContains(t, policy.String("policy"), `"Resource":"*"`)
}

func TestNetworkEndpoints(t *testing.T) {
	inv, err := build(t, validArgs())
	require.NoError(t, err)
	endpoints := inv.OfType("aws:ec2/vpcEndpoint:VpcEndpoint")
	services := map[string]string{}
	for _, e := range endpoints {
		services[e.String("serviceName")] = e.String("vpcEndpointType")
		if e.String("vpcEndpointType") == "Interface" {
			assert.Equal(t, true, e.Get("privateDnsEnabled"), e.Name)
			assert.Len(t, e.Get("subnetIds"), 3, "%s in every private subnet", e.Name)
		}
	}
	assert.Equal(t, "Gateway", services["com.amazonaws.us-east-1.s3"])
	for _, svc := range network.InterfaceEndpoints {
		assert.Equal(t, "Interface", services["com.amazonaws.us-east-1."+svc], svc)
	}
	sg := inv.Find("aws:ec2/securityGroup:SecurityGroup", "us-east-1-endpoints")
	require.NotNil(t, sg)
	ingress := sg.Get("ingress").([]any)
	require.Len(t, ingress, 1)
	rule := ingress[0].(map[string]any)
	assert.EqualValues(t, 443, rule["fromPort"])
	assert.EqualValues(t, 443, rule["toPort"])
	assert.Equal(t, []any{"10.0.0.0/16"}, rule["cidrBlocks"])
	assert.Empty(t, sg.Get("egress"))
}

func TestNetworkChildrenParentedAndRegional(t *testing.T) {
	inv, err := build(t, validArgs())
	require.NoError(t, err)
	comp := inv.Find("ecommerce:network:Network", "us-east-1")
	require.NotNil(t, comp)
	provider := inv.Find("pulumi:providers:aws", "aws-us-east-1")
	require.NotNil(t, provider)
	for _, r := range inv.Resources {
		if r == comp || r == provider {
			continue
		}
		assert.Equal(t, comp.URN, r.Parent, "%s %s is parented to the component", r.Type, r.Name)
		assert.Contains(t, r.Provider, provider.URN, "%s %s uses the region's provider", r.Type, r.Name)
		assert.Equal(t, "us-east-1", r.Region)
	}
}

func TestNetworkRejectsBadArgsBeforeCreating(t *testing.T) {
	for name, mutate := range map[string]func(a *network.Args) *network.Args{
		"nil args":      func(*network.Args) *network.Args { return nil },
		"one zone":      func(a *network.Args) *network.Args { a.Zones = a.Zones[:1]; return a },
		"bad nat mode":  func(a *network.Args) *network.Args { a.NatGateways = "some"; return a },
		"no kms key":    func(a *network.Args) *network.Args { a.KmsKeyArn = nil; return a },
		"vpc too small": func(a *network.Args) *network.Args { a.VpcCidr = "10.0.0.0/24"; return a },
		"no retention":  func(a *network.Args) *network.Args { a.LogRetentionDays = 0; return a },
	} {
		t.Run(name, func(t *testing.T) {
			inv, err := build(t, mutate(validArgs()))
			require.Error(t, err)
			for _, r := range inv.Resources {
				assert.Equal(t, "pulumi:providers:aws", r.Type, "nothing but the provider exists")
			}
		})
	}
}
