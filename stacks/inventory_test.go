package stacks_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/cluster"
	"github.com/example/ecommerce-platform/components/keys"
	"github.com/example/ecommerce-platform/stacks/config"
	"github.com/example/ecommerce-platform/stacks/offline"
)

var update = flag.Bool("update", false, "rewrite stacks/testdata/inventory/<stack>.json from the current plans")

// TestInventoryMatchesRecord compares what each shipped stack would create,
// by region, type and count, with the record committed beside the tests. A
// change that adds, removes or moves resources must rewrite the record
// (`go test ./stacks -run TestInventoryMatchesRecord -update`), so its diff
// shows a reviewer exactly what the change does to every stack.
func TestInventoryMatchesRecord(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			inv := planStack(t, stack).inv
			got := map[string]map[string]int{}
			for region, types := range inv.Counts() {
				if region == "" {
					region = "global"
				}
				got[region] = types
			}
			path := filepath.Join("testdata", "inventory", stack+".json")
			if *update {
				b, err := json.MarshalIndent(got, "", "  ")
				require.NoError(t, err)
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o750))
				require.NoError(t, os.WriteFile(path, append(b, '\n'), 0o600))
				return
			}
			b, err := os.ReadFile(path) //nolint:gosec // a fixed test record
			require.NoError(t, err, "no inventory record; run with -update to write it")
			var want map[string]map[string]int
			require.NoError(t, json.Unmarshal(b, &want))
			if diff := countDiff(want, got); len(diff) > 0 {
				t.Errorf("%s differs from its record %s (rerun with -update if intended):\n%s", stack, path, joinLines(diff))
			}
		})
	}
}

// countDiff lists "region type: record -> now" for every count that moved.
func countDiff(want, got map[string]map[string]int) []string {
	keys := map[[2]string]bool{}
	for r, types := range want {
		for ty := range types {
			keys[[2]string{r, ty}] = true
		}
	}
	for r, types := range got {
		for ty := range types {
			keys[[2]string{r, ty}] = true
		}
	}
	var out []string
	for k := range keys {
		if w, g := want[k[0]][k[1]], got[k[0]][k[1]]; w != g {
			out = append(out, fmt.Sprintf("  %s %s: %d -> %d", k[0], k[1], w, g))
		}
	}
	sort.Strings(out)
	return out
}

func joinLines(lines []string) string {
	s := ""
	for _, l := range lines {
		s += l + "\n"
	}
	return s
}

func TestStackInventoryPerRegion(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			run := planStack(t, stack)
			inv, cfg := run.inv, run.cfg
			counts := inv.Counts()
			assert.Len(t, inv.OfType("ecommerce:region:Region"), len(cfg.Regions))
			topo, err := cfg.Topology()
			require.NoError(t, err)
			for _, rc := range cfg.Regions {
				c := counts[rc.Name]
				zones := len(rc.AvailabilityZones)
				assert.Equal(t, 1, c["aws:ec2/vpc:Vpc"], rc.Name)
				assert.Equal(t, 3*zones, c["aws:ec2/subnet:Subnet"], rc.Name)
				nats := 1
				if cfg.NatGateways == "perAz" {
					nats = zones
				}
				assert.Equal(t, nats, c["aws:ec2/natGateway:NatGateway"], rc.Name)
				assert.Equal(t, 1, c["aws:eks/cluster:Cluster"], rc.Name)
				assert.Equal(t, 2, c["aws:eks/nodeGroup:NodeGroup"], rc.Name)
				assert.Equal(t, len(cluster.Addons)+1, c["aws:eks/addon:Addon"], "the cluster's add-ons and Container Insights' in %s", rc.Name)
				regional := 0
				for _, k := range inRegion(inv.OfType("aws:kms/key:Key"), rc.Name) {
					if regionOf(inv, k) == rc.Name {
						regional++
					}
				}
				assert.Equal(t, len(keys.Classes), regional, "a key per class of data in %s", rc.Name)
				assert.Equal(t, 1, c["aws:ec2/flowLog:FlowLog"], rc.Name)
				assert.Equal(t, 1, c["pulumi:providers:aws"], rc.Name)
				assert.Equal(t, 1, c["pulumi:providers:kubernetes"], rc.Name)

				services := len(config.Services)
				assert.Equal(t, services, c[rdsInstance], rc.Name)
				assert.Equal(t, 1, c["aws:rds/subnetGroup:SubnetGroup"], rc.Name)
				assert.Equal(t, 1, c["aws:rds/parameterGroup:ParameterGroup"], rc.Name)
				assert.Equal(t, 1, c[redisGroup], rc.Name)
				here := topo.ForRegion(rc.Name == cfg.MasterRegion)
				assert.Equal(t, 2*len(here.Consumers), c[sqsQueue], "a queue and a DLQ per consumer of %s", rc.Name)
				assert.Equal(t, 1, c["random:index/randomPassword:RandomPassword"], "only the cache token is regional (%s)", rc.Name)
				if rc.Name == cfg.MasterRegion {
					assert.Equal(t, 2*services, c["aws:secretsmanager/secret:Secret"], "a runtime and a migration secret per service in %s", rc.Name)
					assert.Equal(t, len(topo.Publishers)+1, c[snsTopic], "the event topics and the alarm topic in %s", rc.Name)
					assert.Equal(t, len(topo.Routes)+(len(cfg.Regions)-1)*len(topo.ForRegion(false).Routes), c[snsSub], "every region's queues subscribe in the topics' region")
				} else {
					assert.Equal(t, services, c["aws:secretsmanager/secret:Secret"], "a runtime secret per service in %s", rc.Name)
					assert.Equal(t, 1, c[snsTopic], "event topics live in the master region only; every region has its alarm topic (%s)", rc.Name)
					assert.Zero(t, c[snsSub], rc.Name)
				}
			}
			global := counts[""]
			assert.Equal(t, 1, global["pulumi:providers:random"], "one random provider for the stack")
			assert.Equal(t, 3*len(config.Services)+1, global["random:index/randomPassword:RandomPassword"], "a master, a login-role and a read-only-role password per service, and the origin secret, for the stack")
			assert.Equal(t, 1, global["random:index/randomBytes:RandomBytes"], "one signing seed")
		})
	}
}

// The JSON inventory is what reviewers and tools read: it has the
// documented shape and its region and parent fields are filled in.
func TestInventoryJSONShape(t *testing.T) {
	cfg := planStack(t, "staging").cfg
	inv, err := offline.PlanStack("..", "staging") // the path `make plan` takes
	require.NoError(t, err)
	b, err := json.Marshal(inv)
	require.NoError(t, err)
	var doc struct {
		Stack     string `json:"stack"`
		Resources []struct {
			URN       string         `json:"urn"`
			Type      string         `json:"type"`
			Name      string         `json:"name"`
			Region    string         `json:"region"`
			Parent    string         `json:"parent"`
			DependsOn []string       `json:"dependsOn"`
			Inputs    map[string]any `json:"inputs"`
		} `json:"resources"`
	}
	require.NoError(t, json.Unmarshal(b, &doc))
	assert.Equal(t, "staging", doc.Stack)
	assert.Len(t, doc.Resources, len(inv.Resources))
	regions := map[string]bool{}
	urns := map[string]bool{}
	for _, r := range doc.Resources {
		urns[r.URN] = true
	}
	waits := 0
	for _, r := range doc.Resources {
		assert.NotEmpty(t, r.Type)
		assert.NotEmpty(t, r.Name)
		assert.NotEmpty(t, r.Parent)
		assert.True(t, strings.HasSuffix(r.URN, "::"+r.Name), r.URN)
		assert.NotNil(t, r.DependsOn, "%s: dependsOn is a list, empty when it waits for nothing", r.Name)
		for _, d := range r.DependsOn {
			assert.True(t, urns[d], "%s waits for %s, which the inventory holds", r.Name, d)
		}
		waits += len(r.DependsOn)
		regions[r.Region] = true
	}
	assert.Greater(t, waits, len(doc.Resources), "the inventory records what each resource waits for")
	for _, rc := range cfg.Regions {
		assert.True(t, regions[rc.Name], rc.Name)
	}
}

// The deployed program links neither the mock engine nor the stack-file
// loader: they exist for `make plan` and the tests only.
func TestProgramDoesNotLinkTheMockEngine(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "..").Output()
	require.NoError(t, err)
	for _, pkg := range strings.Fields(string(out)) {
		assert.NotContains(t, []string{
			"github.com/example/ecommerce-platform/stacks/plan",
			"github.com/example/ecommerce-platform/stacks/offline",
		}, pkg)
	}
}
