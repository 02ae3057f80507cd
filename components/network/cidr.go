package network

import (
	"fmt"
	"net/netip"
)

// The subnet plan needs room for three zones; a /20 is the smallest VPC that
// still gives every private subnet 1,024 addresses for pods (the VPC CNI
// gives each pod a VPC address). /16 is the largest VPC AWS allows.
const (
	MinVpcPrefix = 16
	MaxVpcPrefix = 20
	// MaxZones is how many availability zones the plan has room for.
	MaxZones = 3
)

// SubnetPlan is the CIDR layout of one availability zone.
type SubnetPlan struct {
	Zone     string
	Public   netip.Prefix
	Private  netip.Prefix
	Database netip.Prefix
}

// PlanSubnets lays out the VPC: the first three quarters are the private
// (workload) subnets, one quarter per zone, because pods take most addresses;
// the last quarter is halved, public subnets in the first half and database
// subnets in the second, each a quarter of that half. The layout of zone i
// never depends on how many zones there are, so adding a third zone later
// does not move the first two.
func PlanSubnets(vpcCidr string, zones []string) ([]SubnetPlan, error) {
	vpc, err := netip.ParsePrefix(vpcCidr)
	if err != nil {
		return nil, fmt.Errorf("vpc cidr %q: %w", vpcCidr, err)
	}
	if !vpc.Addr().Is4() || vpc.Masked() != vpc {
		return nil, fmt.Errorf("vpc cidr %q: must be a masked IPv4 block", vpcCidr)
	}
	if vpc.Bits() < MinVpcPrefix || vpc.Bits() > MaxVpcPrefix {
		return nil, fmt.Errorf("vpc cidr %q: prefix must be between /%d and /%d", vpcCidr, MinVpcPrefix, MaxVpcPrefix)
	}
	if len(zones) == 0 || len(zones) > MaxZones {
		return nil, fmt.Errorf("zones: %d given, the plan has room for 1 to %d", len(zones), MaxZones)
	}
	bits := vpc.Bits()
	plans := make([]SubnetPlan, len(zones))
	for i, zone := range zones {
		plans[i] = SubnetPlan{
			Zone:    zone,
			Private: subnet(vpc, bits+2, i),
			// Index 3 of the quarters, halved (bits+3), in eighths (bits+5).
			Public:   subnet(vpc, bits+5, 3*8+i),
			Database: subnet(vpc, bits+5, 3*8+4+i),
		}
	}
	return plans, nil
}

// subnet returns the index-th block of the given prefix length inside vpc.
func subnet(vpc netip.Prefix, bits, index int) netip.Prefix {
	base := vpc.Addr().As4()
	n := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	// index < 32 and bits <= 32 come from PlanSubnets, so nothing overflows;
	// the byte conversions keep the low 8 bits on purpose.
	n += uint32(index) << (32 - bits)                                                     //nolint:gosec // bounded above
	addr := netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}) //nolint:gosec // byte split
	return netip.PrefixFrom(addr, bits)
}
