package config_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/edge"
	"github.com/example/ecommerce-platform/stacks/config"
)

func rawSet(key, value string) func(t *testing.T, raw map[string]string) {
	return func(t *testing.T, raw map[string]string) { raw[key] = value }
}

const oneRegion = `[{"name":"us-east-1","vpcCidr":"10.10.0.0/16","availabilityZones":["us-east-1a","us-east-1b"]}]`

func TestInvalidTrafficSection(t *testing.T) {
	runInvalid(t, []invalidCase{
		{"missing domain", "dev", func(t *testing.T, raw map[string]string) { delete(raw, "domain") }, "domain"},
		{"domain with a scheme", "dev", rawSet("domain", "https://shop.example.com"), "domain"},
		{"domain in capitals", "dev", rawSet("domain", "Shop.Example.com"), "domain"},
		{"domain with a trailing dot", "dev", rawSet("domain", "shop.example.com."), "domain"},
		{"single label domain", "dev", rawSet("domain", "localhost"), "domain"},
		{"zone id with its prefix", "dev", rawSet("hostedZoneId", "/hostedzone/Z0123456789ABC"), "hostedZoneId"},
		{"zone id in lowercase", "dev", rawSet("hostedZoneId", "z0123456789abc"), "hostedZoneId"},
		{"api host outside the domain", "dev", rawSet("apiHost", "api.other.example.org"), "apiHost"},
		{"api host a suffix but not a subdomain", "dev", rawSet("apiHost", "notdev.shop.example.com"), "apiHost"},
		{"api host not a name", "dev", rawSet("apiHost", "api_dev"), "apiHost"},
		{"api host too long for a certificate", "dev", rawSet("apiHost", strings.Repeat("a", 50)+".dev.shop.example.com"), "apiHost"},
		{"domain too long for a region's certificate", "prod", rawSet("domain", strings.Repeat("s", 40)+".example.com"), "domain"},
		{"unknown model", "dev", rawSet("model", "multi-master"), "model"},
		{"single-region on three regions", "prod", rawSet("model", edge.SingleRegion), "model"},
		{"primary-standby on one region", "dev", rawSet("model", edge.PrimaryStandby), "model"},
		{"active-active on one region", "dev", rawSet("model", edge.ActiveActive), "model"},
		{"regions cut to one under active-active", "prod", func(t *testing.T, raw map[string]string) { raw["regions"] = oneRegion }, "model"},
		{"rate limit below AWS's minimum", "dev", rawSet("wafRateLimit", "9"), "wafRateLimit"},
		{"rate limit above the ceiling", "dev", rawSet("wafRateLimit", "2000001"), "wafRateLimit"},
		{"rate limit not a number", "dev", rawSet("wafRateLimit", "lots"), "wafRateLimit"},
		{"unknown price class", "dev", rawSet("cdnPriceClass", "PriceClass_50"), "cdnPriceClass"},
		{"sticky for no time", "prod", rawSet("stickySeconds", "0"), "stickySeconds"},
		{"sticky past a minute", "prod", rawSet("stickySeconds", "61"), "stickySeconds"},
	})
}

// The shipped stacks use one model each, and the names follow the domain.
func TestShippedTrafficChoices(t *testing.T) {
	want := map[string]struct{ model, price, apiHost string }{
		"dev":     {edge.SingleRegion, edge.PriceClass100, "api.dev.shop.example.com"},
		"staging": {edge.PrimaryStandby, edge.PriceClass100, "api.staging.shop.example.com"},
		"prod":    {edge.ActiveActive, edge.PriceClassAll, "api.shop.example.com"},
	}
	for _, stack := range shipped {
		cfg, err := config.Parse(rawConfig(t, stack))
		require.NoError(t, err)
		w := want[stack]
		assert.Equal(t, w.model, cfg.Traffic.Model, stack)
		assert.Equal(t, w.price, cfg.PriceClass(), stack)
		assert.Equal(t, w.apiHost, cfg.APIHost(), stack)
		assert.Equal(t, config.DefaultWafRateLimit, cfg.Traffic.WafRateLimit, stack)
		assert.Equal(t, 5, cfg.Traffic.StickySeconds, stack)
	}
}

func TestTrafficSettingsOverride(t *testing.T) {
	raw := rawConfig(t, "dev")
	raw["apiHost"] = "shop-api.dev.shop.example.com"
	raw["cdnPriceClass"] = edge.PriceClass200
	raw["hostedZoneId"] = "Z0123456789ABCDEFGHIJ"
	cfg, err := config.Parse(raw)
	require.NoError(t, err)
	assert.Equal(t, "shop-api.dev.shop.example.com", cfg.APIHost())
	assert.Equal(t, edge.PriceClass200, cfg.PriceClass())
	assert.Equal(t, "Z0123456789ABCDEFGHIJ", cfg.Traffic.HostedZoneID)

	// The apex itself may be the API host (an alias record at the apex).
	raw["apiHost"] = "dev.shop.example.com"
	_, err = config.Parse(raw)
	require.NoError(t, err)
}
