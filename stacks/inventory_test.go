package stacks_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
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
			inv, _ := planStack(t, stack)
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
