package config

import (
	"slices"

	"github.com/example/ecommerce-platform/components/check"
	"github.com/example/ecommerce-platform/components/edge"
	"github.com/example/ecommerce-platform/components/edgefn"
)

// Keys of the traffic section: how requests reach the regions.
const (
	KeyDomain        = "domain"
	KeyHostedZoneID  = "hostedZoneId"
	KeyAPIHost       = "apiHost"
	KeyModel         = "model"
	KeyWafRateLimit  = "wafRateLimit"
	KeyPriceClass    = "cdnPriceClass"
	KeyStickySeconds = "stickySeconds"
)

// DefaultWafRateLimit is the per-client limit per 5 minutes when the
// stack does not set one: about 6.7 requests a second sustained, above
// what one shopper's browser sends, and the most the policy pack's
// missing-waf-rate-limit allows by default.
const DefaultWafRateLimit = 2000

// Traffic is the traffic section: the names, the model and the edge's
// settings.
type Traffic struct {
	// Domain is the zone every name lives in, e.g. shop.example.com.
	Domain string
	// HostedZoneID is the existing Route 53 zone of Domain; "" creates it
	// (its name servers must then be delegated to from the parent zone
	// before certificates can validate).
	HostedZoneID string
	// APIHost is the public API host as configured; "" means
	// api.<domain> (see Config.APIHost).
	APIHost string
	// Model is one of edge.Models.
	Model string
	// WafRateLimit is the per-IP limit of requests per 5 minutes.
	WafRateLimit int
	// PriceClass as configured; "" means the environment's (see
	// Config.PriceClass).
	PriceClass string
	// StickySeconds is how long a writer's reads follow its write to the
	// master region (active-active).
	StickySeconds int
}

var trafficSection = section{
	keys: []key{
		{KeyDomain, "string", nil, func(c *Config) any { return &c.Traffic.Domain }},
		{KeyHostedZoneID, "string", "", func(c *Config) any { return &c.Traffic.HostedZoneID }},
		{KeyAPIHost, "string", "", func(c *Config) any { return &c.Traffic.APIHost }},
		{KeyModel, "string", edge.SingleRegion, func(c *Config) any { return &c.Traffic.Model }},
		{KeyWafRateLimit, "integer", DefaultWafRateLimit, func(c *Config) any { return &c.Traffic.WafRateLimit }},
		{KeyPriceClass, "string", "", func(c *Config) any { return &c.Traffic.PriceClass }},
		{KeyStickySeconds, "integer", edgefn.DefaultStickySeconds, func(c *Config) any { return &c.Traffic.StickySeconds }},
	},
	validate: validateTraffic,
}

func validateTraffic(c *Config, p *check.Problems) {
	t := c.Traffic
	domainOK := edge.ValidHostname(t.Domain)
	if !domainOK {
		p.Add(KeyDomain, "%q is not a DNS name; allowed: lowercase labels of letters, digits and hyphens, such as shop.example.com", t.Domain)
	}
	if t.HostedZoneID != "" && !edge.ValidZoneID(t.HostedZoneID) {
		p.Add(KeyHostedZoneID, "%q is not a Route 53 hosted zone id; allowed: \"\" (create the zone) or an id such as Z0123456789ABCDEFGHIJ, without /hostedzone/", t.HostedZoneID)
	}
	if t.APIHost != "" {
		switch {
		case !edge.ValidHostname(t.APIHost):
			p.Add(KeyAPIHost, "%q is not a DNS name; allowed: \"\" (api.<domain>) or a lowercase host name in domain", t.APIHost)
		case domainOK && !edge.Within(t.APIHost, t.Domain):
			p.Add(KeyAPIHost, "%q is not in domain %q; the stack can only answer for names in its zone", t.APIHost, t.Domain)
		}
	}
	if !slices.Contains(edge.Models, t.Model) {
		p.Add(KeyModel, "%q is not allowed; allowed: %s", t.Model, quoteAll(edge.Models))
	} else if !edge.RegionsAllowed(t.Model, len(c.Regions)) {
		want := "at least 2 regions"
		if t.Model == edge.SingleRegion {
			want = "exactly 1 region"
		}
		p.Add(KeyModel, "%q needs %s; regions lists %d (use %s)", t.Model, want, len(c.Regions), quoteAll(modelsFor(len(c.Regions))))
	}
	if t.WafRateLimit < edge.MinRateLimit || t.WafRateLimit > edge.MaxRateLimit {
		p.Add(KeyWafRateLimit, "%d is out of range; allowed: %d to %d requests per client per 5 minutes", t.WafRateLimit, edge.MinRateLimit, edge.MaxRateLimit)
	}
	if t.PriceClass != "" && !slices.Contains(edge.PriceClasses, t.PriceClass) {
		p.Add(KeyPriceClass, "%q is not allowed; allowed: \"\" (by environment) or %s", t.PriceClass, quoteAll(edge.PriceClasses))
	}
	if t.StickySeconds < edgefn.MinStickySeconds || t.StickySeconds > edgefn.MaxStickySeconds {
		p.Add(KeyStickySeconds, "%d is out of range; allowed: %d to %d seconds", t.StickySeconds, edgefn.MinStickySeconds, edgefn.MaxStickySeconds)
	}
	if !domainOK {
		return
	}
	// ACM refuses a certificate whose first name is over 64 octets: the
	// CloudFront certificate's is the API host, each region's its
	// api.<region>.<domain>.
	if h := c.APIHost(); len(h) > edge.MaxCommonNameLength {
		key := KeyAPIHost
		if t.APIHost == "" {
			key = KeyDomain
		}
		p.Add(key, "the API host %q is %d characters; ACM accepts at most %d in a certificate's first name", h, len(h), edge.MaxCommonNameLength)
	}
	if o := edge.OriginHost(c.APIHost()); len(o) > edge.MaxNameLength {
		p.Add(KeyDomain, "the origin name %q is longer than %d characters", o, edge.MaxNameLength)
	}
	for _, r := range c.Regions {
		if h := edge.RegionalHost(r.Name, t.Domain); len(h) > edge.MaxCommonNameLength {
			p.Add(KeyDomain, "region %s's origin name %q is %d characters; ACM accepts at most %d in a certificate's first name, so use a shorter domain", r.Name, h, len(h), edge.MaxCommonNameLength)
		}
	}
}

// modelsFor lists the models a number of regions allows.
func modelsFor(n int) []string {
	var out []string
	for _, m := range edge.Models {
		if edge.RegionsAllowed(m, n) {
			out = append(out, m)
		}
	}
	return out
}

// APIHost is the public API host: apiHost, or api.<domain>.
func (c *Config) APIHost() string {
	if c.Traffic.APIHost != "" {
		return c.Traffic.APIHost
	}
	return edge.DefaultAPIHost(c.Traffic.Domain)
}

// PriceClass is CloudFront's price class: cdnPriceClass, or by
// environment: prod serves every edge location (its viewers are
// worldwide, and so are its regions); dev and staging the cheapest class
// (North America and Europe), which their testers are in.
func (c *Config) PriceClass() string {
	if c.Traffic.PriceClass != "" {
		return c.Traffic.PriceClass
	}
	if c.Environment == "prod" {
		return edge.PriceClassAll
	}
	return edge.PriceClass100
}
