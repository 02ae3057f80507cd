package plan

import (
	"fmt"
	"strings"
)

// metricsOutputs adds what Amazon Managed Service for Prometheus computes:
// workspace and scraper ids, ARNs, the query endpoint and the collector's
// service-linked role.
func metricsOutputs(r *Resource, region, acct, h string) map[string]any {
	switch r.Type {
	case "aws:amp/workspace:Workspace":
		id := fmt.Sprintf("ws-%s-%s-%s-%s-%s", h[:8], h[8:12], h[12:16], h[16:20], h[20:32])
		return map[string]any{
			"id":                 id,
			"arn":                fmt.Sprintf("arn:aws:aps:%s:%s:workspace/%s", region, acct, id),
			"prometheusEndpoint": fmt.Sprintf("https://aps-workspaces.%s.amazonaws.com/workspaces/%s/", region, id),
		}
	case "aws:amp/scraper:Scraper":
		id := fmt.Sprintf("s-%s-%s-%s-%s-%s", h[:8], h[8:12], h[12:16], h[16:20], h[20:32])
		role := "AWSServiceRoleForAmazonPrometheusScraper_" + h[:8] + "-" + h[8:14]
		if _, ok := r.Inputs["roleConfiguration"]; ok {
			role = "AWSServiceRoleForAmazonPrometheusScraperInternal_" + h[:8] + "-" + strings.ToLower(h[8:9])
		}
		return map[string]any{
			"id":      id,
			"arn":     fmt.Sprintf("arn:aws:aps:%s:%s:scraper/%s", region, acct, id),
			"roleArn": fmt.Sprintf("arn:aws:iam::%s:role/aws-service-role/scraper.aps.amazonaws.com/%s", acct, role),
		}
	}
	return nil
}
