package stacks_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/keys"
	"github.com/example/ecommerce-platform/stacks/config"
)

// Every region scrapes its own cluster's services into its own workspace,
// under its own logs key: no region's metrics depend on another region.
func TestEachRegionScrapesIntoItsOwnWorkspace(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			run := planStack(t, stack)
			for _, rc := range run.cfg.Regions {
				workspaces := inRegion(run.inv.OfType("aws:amp/workspace:Workspace"), rc.Name)
				scrapers := inRegion(run.inv.OfType("aws:amp/scraper:Scraper"), rc.Name)
				require.Len(t, workspaces, 1, rc.Name)
				require.Len(t, scrapers, 1, rc.Name)
				ws, sc := workspaces[0], scrapers[0]
				assert.Equal(t, run.key(rc.Name, keys.Logs), ws.String("kmsKeyArn"), "%s's workspace under its logs key", rc.Name)
				assert.True(t, strings.HasPrefix(sc.String("destination.amp.workspaceArn"), "arn:aws:aps:"+rc.Name+":"),
					"%s writes to a workspace of its region: %s", rc.Name, sc.String("destination.amp.workspaceArn"))
				assert.True(t, run.inv.WaitsFor(sc, ws), "%s's scraper writes to its region's workspace", rc.Name)
				assert.True(t, strings.HasSuffix(sc.String("source.eks.clusterArn"), ":cluster/"+run.cfg.DisplayName("ecommerce", rc.Name)),
					"%s scrapes its own cluster", rc.Name)
				scrape := sc.String("scrapeConfiguration")
				for _, svc := range config.Services {
					assert.Contains(t, scrape, "- "+svc+"\n", "%s scrapes %s's namespace", rc.Name, svc)
				}
			}
		})
	}
}
