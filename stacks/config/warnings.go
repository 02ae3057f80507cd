package config

import (
	"fmt"
	"net/netip"
)

// DocumentationRanges are the address blocks reserved for examples (RFC
// 5737, RFC 3849): nothing real lives there.
var DocumentationRanges = []netip.Prefix{
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("2001:db8::/32"),
}

// Warnings are settings that are valid but almost certainly not what a
// deployment wants, such as example values left in a stack file. The
// offline plan prints them; the program logs them under the CLI.
func (c *Config) Warnings() []string {
	var out []string
	for i, s := range c.Cluster.PublicAccessCidrs {
		prefix, err := netip.ParsePrefix(s)
		if err != nil {
			continue
		}
		for _, doc := range DocumentationRanges {
			if doc.Overlaps(prefix) {
				out = append(out, fmt.Sprintf("config %s:%s[%d]: %s is a documentation range (%s): no operator or pipeline is there, so the clusters' API servers are reachable from nowhere outside their VPCs and the Kubernetes provider cannot deploy; set the egress CIDRs of your operators and of the runner of pulumi up",
					Namespace, KeyPublicAccessCidrs, i, s, doc))
				break
			}
		}
	}
	return out
}
