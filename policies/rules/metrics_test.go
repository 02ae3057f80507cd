package rules

import "strings"

func scraper(m M) *Resource {
	base := M{"alias": "ecommerce-prod-us-east-1", "scrapeConfiguration": "global:\n  scrape_interval: 30s\nscrape_configs:\n  - job_name: services\n    kubernetes_sd_configs:\n      - role: pod\n",
		"source": M{"eks": M{"clusterArn": "arn:aws:eks:us-east-1:123456789012:cluster/c", "subnetIds": []any{"subnet-a", "subnet-b"}}}}
	for k, v := range m {
		base[k] = v
	}
	return res(tAmpScraper, "scraper", base)
}

func metricsCases() []tc {
	sub := func(n int) M {
		ids := []any{}
		for i := 0; i < n; i++ {
			ids = append(ids, "subnet-"+string(rune('a'+i)))
		}
		return M{"eks": M{"clusterArn": "arn", "subnetIds": ids}}
	}
	return []tc{
		pass("enforce-amp-workspace-alias-length", "short", res(tPrometheusWorkspace, "ws", M{"alias": "ecommerce-prod-us-east-1"})),
		pass("enforce-amp-workspace-alias-length", "no alias", res(tPrometheusWorkspace, "ws", M{})),
		fail("enforce-amp-workspace-alias-length", "too long", "alias", res(tPrometheusWorkspace, "ws", M{"alias": strings.Repeat("a", 101)})),

		pass("enforce-amp-scraper-alias", "stack and region", scraper(nil)),
		fail("enforce-amp-scraper-alias", "space", "alias", scraper(M{"alias": "prod metrics"})),
		fail("enforce-amp-scraper-alias", "leading dash", "alias", scraper(M{"alias": "-prod"})),
		fail("enforce-amp-scraper-alias", "too long", "alias", scraper(M{"alias": strings.Repeat("a", 101)})),

		pass("enforce-amp-scraper-subnet-count", "three zones", scraper(M{"source": sub(3)})),
		fail("enforce-amp-scraper-subnet-count", "one subnet", "subnetIds", scraper(M{"source": sub(1)})),
		fail("enforce-amp-scraper-subnet-count", "six subnets", "subnetIds", scraper(M{"source": sub(6)})),

		pass("enforce-amp-scrape-interval", "30s", scraper(nil)),
		pass("enforce-amp-scrape-interval", "default interval", scraper(M{"scrapeConfiguration": "scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs: [{role: pod}]\n"})),
		fail("enforce-amp-scrape-interval", "15s global", "30s minimum", scraper(M{"scrapeConfiguration": "global:\n  scrape_interval: 15s\n"})),
		fail("enforce-amp-scrape-interval", "10s job", "job fast", scraper(M{"scrapeConfiguration": "scrape_configs:\n  - job_name: fast\n    scrape_interval: 10s\n"})),
		fail("enforce-amp-scrape-interval", "dns discovery", "dns_sd_configs", scraper(M{"scrapeConfiguration": "scrape_configs:\n  - job_name: d\n    dns_sd_configs: [{names: [x]}]\n"})),

		pass("disallow-access-entry-for-amp-scraper", "a deployer", res(tEksAccessEntry, "deployer", M{"clusterName": "c", "principalArn": "arn:aws:iam::123456789012:role/deployer"})),
		fail("disallow-access-entry-for-amp-scraper", "the collector's role", "managed collector", res(tEksAccessEntry, "scraper", M{"clusterName": "c",
			"principalArn": "arn:aws:iam::123456789012:role/aws-service-role/scraper.aps.amazonaws.com/AWSServiceRoleForAmazonPrometheusScraper_1234abcd-56ef-7"})),
	}
}
