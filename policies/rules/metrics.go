package rules

import (
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

const (
	tPrometheusWorkspace = "aws:amp/workspace:Workspace"
	tAmpScraper          = "aws:amp/scraper:Scraper"
)

var ampScraperAlias = regexp.MustCompile(`^[0-9A-Za-z][-.0-9A-Z_a-z]*$`)

// metricsPolicies are the apply-time limits of Amazon Managed Service for
// Prometheus workspaces and managed collectors.
func metricsPolicies() []*Policy {
	return []*Policy{
		{
			Name:  "enforce-amp-workspace-alias-length",
			Group: Preflight, Level: Mandatory,
			Description: "A Prometheus workspace alias is at most 100 characters (CreateWorkspace rejects longer).",
			Types:       []string{tPrometheusWorkspace},
			Resource: func(c *ResourceCheck) {
				if a, ok := c.Get("alias").Str(); ok && (len(strings.TrimSpace(a)) == 0 || len(a) > 100) {
					c.Fail("alias %q has %d characters; allowed 1 to 100", a, len(a))
				}
			},
		},
		{
			Name:  "enforce-amp-scraper-alias",
			Group: Preflight, Level: Mandatory,
			Description: "A managed collector's alias is 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit (CreateScraper rejects others).",
			Types:       []string{tAmpScraper},
			Resource: func(c *ResourceCheck) {
				if a, ok := c.Get("alias").Str(); ok && (len(a) > 100 || !ampScraperAlias.MatchString(a)) {
					c.Fail("alias %q: allowed 1 to 100 of [-.0-9A-Z_a-z], starting with a letter or digit", a)
				}
			},
		},
		{
			Name:  "enforce-amp-scraper-subnet-count",
			Group: Preflight, Level: Mandatory,
			Description: "A managed collector is given 2 to 5 subnets (in distinct zones: one network interface each); two subnets are the least the inputs can show.",
			Types:       []string{tAmpScraper},
			Resource: func(c *ResourceCheck) {
				s := c.Get("source.eks.subnetIds")
				if !s.IsArray() {
					return
				}
				if n := len(s.Items()); n < 2 || n > 5 {
					c.Fail("source.eks.subnetIds lists %d subnet(s); a managed collector takes 2 to 5, in distinct zones", n)
				}
			},
		},
		{
			Name:  "enforce-amp-scrape-interval",
			Group: Preflight, Level: Mandatory,
			Description: "A managed collector's configuration scrapes no more often than every 30 s, and uses only Kubernetes service discovery (the collector refuses a shorter interval and other *_sd_configs).",
			Types:       []string{tAmpScraper},
			Resource:    checkScrapeConfig,
		},
		{
			Name:  "disallow-access-entry-for-amp-scraper",
			Group: Preflight, Level: Mandatory,
			Description: "No access entry is created for a managed collector's role: on a cluster in API authentication mode, creating the scraper makes its access entry, and a second for the same principal fails (ResourceInUseException).",
			Types:       []string{tEksAccessEntry},
			Resource: func(c *ResourceCheck) {
				if p, ok := c.Get("principalArn").Str(); ok && strings.Contains(p, "AWSServiceRoleForAmazonPrometheusScraper") {
					c.Fail("principalArn %s is a managed collector's role: its access entry is made by Amazon Managed Service for Prometheus", p)
				}
			},
		},
	}
}

func checkScrapeConfig(c *ResourceCheck) {
	text, ok := c.Get("scrapeConfiguration").Str()
	if !ok {
		return
	}
	var doc struct {
		Global struct {
			Interval string `yaml:"scrape_interval"`
		} `yaml:"global"`
		Jobs []map[string]any `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		c.Fail("scrapeConfiguration is not YAML: %v", err)
		return
	}
	tooShort := func(where, s string) {
		if s == "" {
			return
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			c.Fail("%s scrape_interval %q is not a duration", where, s)
		} else if d < 30*time.Second {
			c.Fail("%s scrape_interval %s is under the managed collector's 30s minimum", where, s)
		}
	}
	// Prometheus's own default is 1m: an absent interval is fine.
	tooShort("global", doc.Global.Interval)
	for _, j := range doc.Jobs {
		name, _ := j["job_name"].(string)
		if s, ok := j["scrape_interval"].(string); ok {
			tooShort("job "+name, s)
		}
		for k := range j {
			if strings.HasSuffix(k, "_sd_configs") && k != "kubernetes_sd_configs" {
				c.Fail("job %s uses %s; a managed collector supports only kubernetes_sd_configs", name, k)
			}
		}
	}
}
