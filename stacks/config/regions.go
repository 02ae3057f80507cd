package config

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/example/ecommerce-platform/components/check"
	"github.com/example/ecommerce-platform/components/network"
)

// Keys of the regions section.
const (
	KeyMasterRegion = "masterRegion"
	KeyRegions      = "regions"
	KeyNatGateways  = "natGateways"
)

// Region is one entry of the `regions` key.
type Region struct {
	Name              string   `json:"name"`
	VpcCidr           string   `json:"vpcCidr"`
	AvailabilityZones []string `json:"availabilityZones"`
}

// AWSRegions are the commercial regions the platform may deploy to. A fixed
// list (rather than a lookup) keeps the program runnable offline and turns a
// typo such as "us-east1" into an error before anything is created.
var AWSRegions = []string{
	"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
	"ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ca-central-1", "ca-west-1",
	"eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1",
	"eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1", "mx-central-1",
	"sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
}

// NatGatewayModes are the allowed values of natGateways.
var NatGatewayModes = []string{network.NatPerAz, network.NatSingle}

var regionsSection = section{
	keys: []key{
		{KeyMasterRegion, "string", "us-east-1", func(c *Config) any { return &c.MasterRegion }},
		{KeyRegions, "array", []Region{{Name: "us-east-1", VpcCidr: "10.10.0.0/16", AvailabilityZones: []string{"us-east-1a", "us-east-1b", "us-east-1c"}}},
			func(c *Config) any { return &c.Regions }},
		{KeyNatGateways, "string", network.NatPerAz, func(c *Config) any { return &c.NatGateways }},
	},
	validate: validateRegions,
}

func validateRegions(c *Config, p *check.Problems) {
	if !slices.Contains(NatGatewayModes, c.NatGateways) {
		p.Add(KeyNatGateways, "%q is not allowed; allowed: %s", c.NatGateways, quoteAll(NatGatewayModes))
	}
	if c.Environment == "prod" && c.NatGateways != network.NatPerAz {
		p.Add(KeyNatGateways, "prod must use %q so losing one zone does not cut the others off the internet", network.NatPerAz)
	}
	if len(c.Regions) == 0 {
		p.Add(KeyRegions, "must list at least one region")
		return
	}
	seen := map[string]int{}
	type cidr struct {
		key    string
		prefix netip.Prefix
	}
	var cidrs []cidr
	for i, r := range c.Regions {
		base := fmt.Sprintf("%s[%d]", KeyRegions, i)
		if !slices.Contains(AWSRegions, r.Name) {
			p.Add(base+".name", "%q is not a known AWS region; allowed: %s", r.Name, strings.Join(AWSRegions, ", "))
		}
		if j, dup := seen[r.Name]; dup {
			p.Add(base+".name", "%q is already listed at %s[%d]; each region may appear once", r.Name, KeyRegions, j)
		}
		seen[r.Name] = i

		prefix, err := netip.ParsePrefix(r.VpcCidr)
		switch {
		case err != nil:
			p.Add(base+".vpcCidr", "%q is not a CIDR block such as 10.0.0.0/16", r.VpcCidr)
		case !prefix.Addr().Is4():
			p.Add(base+".vpcCidr", "%q must be IPv4", r.VpcCidr)
		case prefix.Masked() != prefix:
			p.Add(base+".vpcCidr", "%q has host bits set; did you mean %s?", r.VpcCidr, prefix.Masked())
		case prefix.Bits() < network.MinVpcPrefix || prefix.Bits() > network.MaxVpcPrefix:
			p.Add(base+".vpcCidr", "%q must have a prefix between /%d and /%d so the subnet plan fits", r.VpcCidr, network.MinVpcPrefix, network.MaxVpcPrefix)
		default:
			for _, other := range cidrs {
				if other.prefix.Overlaps(prefix) {
					p.Add(base+".vpcCidr", "%q overlaps %s (%s); region VPCs must not overlap so they can be peered", r.VpcCidr, other.key, other.prefix)
				}
			}
			cidrs = append(cidrs, cidr{key: base + ".vpcCidr", prefix: prefix})
		}

		azs := r.AvailabilityZones
		if len(azs) < 2 || len(azs) > network.MaxZones {
			p.Add(base+".availabilityZones", "lists %d zones; allowed: 2 or %d", len(azs), network.MaxZones)
		}
		azSeen := map[string]bool{}
		for j, az := range azs {
			if !isZoneOf(az, r.Name) {
				p.Add(fmt.Sprintf("%s.availabilityZones[%d]", base, j), "%q is not a zone of %s; allowed: %s followed by one letter, such as %sa", az, r.Name, r.Name, r.Name)
			}
			if azSeen[az] {
				p.Add(fmt.Sprintf("%s.availabilityZones[%d]", base, j), "%q is listed twice", az)
			}
			azSeen[az] = true
		}
	}
	if _, ok := seen[c.MasterRegion]; !ok {
		names := make([]string, 0, len(seen))
		for n := range seen {
			names = append(names, n)
		}
		sort.Strings(names)
		p.Add(KeyMasterRegion, "%q is not one of the configured regions; allowed: %s", c.MasterRegion, quoteAll(names))
	}
}

func isZoneOf(az, region string) bool {
	rest, ok := strings.CutPrefix(az, region)
	return ok && len(rest) == 1 && rest[0] >= 'a' && rest[0] <= 'z'
}

// Ordered returns the regions with the master region first, then the others
// in configured order: the master's resources (primaries, topics) exist
// before the regions that refer to them.
func (c *Config) Ordered() []Region {
	out := make([]Region, 0, len(c.Regions))
	for _, r := range c.Regions {
		if r.Name == c.MasterRegion {
			out = append(out, r)
		}
	}
	for _, r := range c.Regions {
		if r.Name != c.MasterRegion {
			out = append(out, r)
		}
	}
	return out
}

// BackupRegion is where the master's automated backups are copied: the
// first configured region after the master, "" with a single region.
func (c *Config) BackupRegion() string {
	if ordered := c.Ordered(); len(ordered) > 1 {
		return ordered[1].Name
	}
	return ""
}
