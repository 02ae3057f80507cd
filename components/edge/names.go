package edge

import (
	"fmt"
	"regexp"
	"strings"
)

// The deployment models: where traffic goes and what fails over.
const (
	// SingleRegion: one region, no cross-region anything; the global
	// origin name is a plain alias to its load balancer.
	SingleRegion = "single-region"
	// PrimaryStandby: every request goes to the master region; the others
	// answer only while the master fails its health check (failover
	// records, PRIMARY = master).
	PrimaryStandby = "primary-standby"
	// ActiveActive: every healthy region serves its nearest viewers
	// (latency records); writes go to the master at the edge (edgefn).
	ActiveActive = "active-active"
)

// Models lists the deployment models.
var Models = []string{SingleRegion, PrimaryStandby, ActiveActive}

// RegionsAllowed tells whether a model runs on n regions: single-region on
// exactly one, the others on two or more (one region has nothing to fail
// over to or balance across).
func RegionsAllowed(model string, n int) bool {
	if model == SingleRegion {
		return n == 1
	}
	return n >= 2
}

// Price classes CloudFront accepts.
const (
	PriceClass100 = "PriceClass_100"
	PriceClass200 = "PriceClass_200"
	PriceClassAll = "PriceClass_All"
)

// PriceClasses lists them, cheapest first.
var PriceClasses = []string{PriceClass100, PriceClass200, PriceClassAll}

// WAF rate-based rule limits (requests per client per 5-minute window):
// AWS refuses less than 10; the ceiling is far above any per-client rate a
// storefront could want, and keeps a typo (an extra zero or three) out.
const (
	MinRateLimit = 10
	MaxRateLimit = 2_000_000
)

// MaxCommonNameLength is the most ACM accepts in a certificate's first
// domain name (the X.509 common name is at most 64 octets); SANs may be
// longer, up to a full DNS name.
const MaxCommonNameLength = 64

// MaxNameLength is the longest DNS name (RFC 1035, without the root dot).
const MaxNameLength = 253

var hostname = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

// ValidHostname reports whether s is a lowercase DNS host name with at
// least two labels and a letter-only top-level label.
func ValidHostname(s string) bool { return len(s) <= MaxNameLength && hostname.MatchString(s) }

var zoneID = regexp.MustCompile(`^Z[0-9A-Z]{1,31}$`)

// ValidZoneID reports whether s looks like a Route 53 hosted zone id
// ("Z" then uppercase letters and digits; without the "/hostedzone/"
// prefix).
func ValidZoneID(s string) bool { return zoneID.MatchString(s) }

// Within reports whether host is domain or a name under it.
func Within(host, domain string) bool {
	return host == domain || strings.HasSuffix(host, "."+domain)
}

// RegionalHost is one region's origin name, api.<region>.<domain>: an
// alias to that region's load balancer, the name its certificate is
// issued for, and where the edge sends writes when that region is the
// master.
func RegionalHost(region, domain string) string { return fmt.Sprintf("api.%s.%s", region, domain) }

// OriginHost is the global origin name CloudFront connects to,
// origin.<apiHost>: answered per model (latency, failover or a plain
// alias). CloudFront sends it as Host, so every regional certificate
// carries it.
func OriginHost(apiHost string) string { return "origin." + apiHost }

// DefaultAPIHost is the public API host when the config leaves it empty.
func DefaultAPIHost(domain string) string { return "api." + domain }
