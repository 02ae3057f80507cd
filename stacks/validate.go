package stacks

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"

	"github.com/example/ecommerce-platform/components/network"
)

// Environments the platform knows; each selects its own safety defaults.
var Environments = []string{"dev", "staging", "prod"}

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

// KubernetesVersions are the EKS versions the platform is tested against.
var KubernetesVersions = []string{"1.31", "1.32", "1.33", "1.34", "1.35"}

// NatGatewayModes are the allowed values of natGateways.
var NatGatewayModes = []string{"perAz", "single"}

// LogRetentionDays are the retention periods CloudWatch Logs accepts.
var LogRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

var (
	accountIDPattern    = regexp.MustCompile(`^[0-9]{12}$`)
	roleArnPattern      = regexp.MustCompile(`^arn:aws:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$`)
	instanceTypePattern = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)
)

func oneOf[T comparable](v T, allowed []T) bool {
	for _, a := range allowed {
		if a == v {
			return true
		}
	}
	return false
}

func quoteAll(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// validate checks the meaning of a parsed config; parse errors came before.
func validate(c *Config, p *problems) {
	if !oneOf(c.Environment, Environments) {
		p.add(KeyEnvironment, "%q is not allowed; allowed: %s", c.Environment, quoteAll(Environments))
	}
	if !accountIDPattern.MatchString(c.AccountID) {
		p.add(KeyAccountID, "%q is not an AWS account id; allowed: exactly 12 digits", c.AccountID)
	}
	validateRegions(c, p)
	if !oneOf(c.NatGateways, NatGatewayModes) {
		p.add(KeyNatGateways, "%q is not allowed; allowed: %s", c.NatGateways, quoteAll(NatGatewayModes))
	}
	if c.Environment == "prod" && c.NatGateways != "perAz" {
		p.add(KeyNatGateways, "prod must use \"perAz\" so losing one zone does not cut the others off the internet")
	}
	if !oneOf(c.LogRetentionDays, LogRetentionDays) {
		p.add(KeyLogRetentionDays, "%d is not a CloudWatch Logs retention; allowed: %v", c.LogRetentionDays, LogRetentionDays)
	}
	validateCluster(c, p)
}

func validateRegions(c *Config, p *problems) {
	if len(c.Regions) == 0 {
		p.add(KeyRegions, "must list at least one region")
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
		if !oneOf(r.Name, AWSRegions) {
			p.add(base+".name", "%q is not a known AWS region; allowed: %s", r.Name, strings.Join(AWSRegions, ", "))
		}
		if j, dup := seen[r.Name]; dup {
			p.add(base+".name", "%q is already listed at %s[%d]; each region may appear once", r.Name, KeyRegions, j)
		}
		seen[r.Name] = i

		prefix, err := netip.ParsePrefix(r.VpcCidr)
		switch {
		case err != nil:
			p.add(base+".vpcCidr", "%q is not a CIDR block such as 10.0.0.0/16", r.VpcCidr)
		case !prefix.Addr().Is4():
			p.add(base+".vpcCidr", "%q must be IPv4", r.VpcCidr)
		case prefix.Masked() != prefix:
			p.add(base+".vpcCidr", "%q has host bits set; did you mean %s?", r.VpcCidr, prefix.Masked())
		case prefix.Bits() < network.MinVpcPrefix || prefix.Bits() > network.MaxVpcPrefix:
			p.add(base+".vpcCidr", "%q must have a prefix between /%d and /%d so the subnet plan fits", r.VpcCidr, network.MinVpcPrefix, network.MaxVpcPrefix)
		default:
			for _, other := range cidrs {
				if other.prefix.Overlaps(prefix) {
					p.add(base+".vpcCidr", "%q overlaps %s (%s); region VPCs must not overlap so they can be peered", r.VpcCidr, other.key, other.prefix)
				}
			}
			cidrs = append(cidrs, cidr{key: base + ".vpcCidr", prefix: prefix})
		}

		azs := r.AvailabilityZones
		if len(azs) < 2 || len(azs) > 3 {
			p.add(base+".availabilityZones", "lists %d zones; allowed: 2 or 3", len(azs))
		}
		azSeen := map[string]bool{}
		for j, az := range azs {
			if !isZoneOf(az, r.Name) {
				p.add(fmt.Sprintf("%s.availabilityZones[%d]", base, j), "%q is not a zone of %s; allowed: %s followed by one letter, such as %sa", az, r.Name, r.Name, r.Name)
			}
			if azSeen[az] {
				p.add(fmt.Sprintf("%s.availabilityZones[%d]", base, j), "%q is listed twice", az)
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
		p.add(KeyMasterRegion, "%q is not one of the configured regions; allowed: %s", c.MasterRegion, quoteAll(names))
	}
}

func isZoneOf(az, region string) bool {
	rest, ok := strings.CutPrefix(az, region)
	return ok && len(rest) == 1 && rest[0] >= 'a' && rest[0] <= 'z'
}

func validateCluster(c *Config, p *problems) {
	k := c.Cluster
	if !oneOf(k.KubernetesVersion, KubernetesVersions) {
		p.add(KeyKubernetesVersion, "%q is not supported; allowed: %s", k.KubernetesVersion, quoteAll(KubernetesVersions))
	}
	for i, s := range k.PublicAccessCidrs {
		prefix, err := netip.ParsePrefix(s)
		key := fmt.Sprintf("%s[%d]", KeyPublicAccessCidrs, i)
		switch {
		case err != nil:
			p.add(key, "%q is not a CIDR block", s)
		case prefix.Bits() == 0:
			p.add(key, "%q opens the API server to the whole internet; list your operators' networks instead, or none for a private-only endpoint", s)
		}
	}
	if k.AdminRoleArn != "" {
		if !roleArnPattern.MatchString(k.AdminRoleArn) {
			p.add(KeyAdminRoleArn, "%q is not an IAM role ARN such as arn:aws:iam::123456789012:role/platform-admin", k.AdminRoleArn)
		} else if !strings.HasPrefix(k.AdminRoleArn, "arn:aws:iam::"+c.AccountID+":") && accountIDPattern.MatchString(c.AccountID) {
			p.add(KeyAdminRoleArn, "%q belongs to another account than accountId %s", k.AdminRoleArn, c.AccountID)
		}
	}
	validateNodeGroup(KeySystemNodeGroup, k.SystemNodes, p)
	validateNodeGroup(KeyWorkloadNodeGroup, k.WorkloadNodes, p)
}

func validateNodeGroup(key string, g NodeGroupConfig, p *problems) {
	if len(g.InstanceTypes) == 0 {
		p.add(key+".instanceTypes", "must list at least one EC2 instance type such as m6i.large")
	}
	for i, t := range g.InstanceTypes {
		if !instanceTypePattern.MatchString(t) {
			p.add(fmt.Sprintf("%s.instanceTypes[%d]", key, i), "%q is not an EC2 instance type such as m6i.large", t)
		}
	}
	if g.MinSize < 0 {
		p.add(key+".minSize", "%d must not be negative", g.MinSize)
	}
	if g.MaxSize < 1 {
		p.add(key+".maxSize", "%d must be at least 1", g.MaxSize)
	}
	if g.MinSize > g.DesiredSize || g.DesiredSize > g.MaxSize {
		p.add(key, "sizes must satisfy minSize <= desiredSize <= maxSize, got %d <= %d <= %d", g.MinSize, g.DesiredSize, g.MaxSize)
	}
	if g.DiskSizeGiB < 20 || g.DiskSizeGiB > 16384 {
		p.add(key+".diskSizeGiB", "%d is out of range; allowed: 20 to 16384", g.DiskSizeGiB)
	}
}
