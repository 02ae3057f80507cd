package stackedit

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	d3 = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
)

// A stack file with the shapes a person writes: comments above and beside
// values, plain and quoted scalars, a service with sizing keys after its
// image, no newline at the end.
const sample = `# staging
config:
  ecommerce:environment: staging   # keep
  ecommerce:services:
    # auth signs the tokens
    auth:
      image: "` + d1 + `" # pinned by the pipeline
      minReplicas: 3
    order:
      image: 1.4.2
      canary:
        image: '1.5.0-rc1'
        weight: 10   # first step
    product:
      image: ` + d2 + `
      cpu: {request: 250m, limit: "1"}
  ecommerce:registry:
    keepReleases: 30`

// diffLines returns the lines of a that b lacks and those b has that a
// lacks, in order: what a reviewer sees in the pull request.
func diffLines(a, b string) (removed, added []string) {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	count := map[string]int{}
	for _, l := range bl {
		count[l]++
	}
	for _, l := range al {
		if count[l] > 0 {
			count[l]--
			continue
		}
		removed = append(removed, l)
	}
	count = map[string]int{}
	for _, l := range al {
		count[l]++
	}
	for _, l := range bl {
		if count[l] > 0 {
			count[l]--
			continue
		}
		added = append(added, l)
	}
	return removed, added
}

func TestEditsChangeOnlyTheirLines(t *testing.T) {
	cases := []struct {
		name           string
		edit           func(*File) error
		removed, added []string
		image          string
		canary         *Canary
		service        string
	}{
		{
			name:    "release keeps the quotes' place and the comment beside it",
			service: "auth",
			edit:    func(f *File) error { return f.SetImage("auth", d3) },
			removed: []string{`      image: "` + d1 + `" # pinned by the pipeline`},
			added:   []string{`      image: "` + d3 + `" # pinned by the pipeline`},
			image:   d3,
		},
		{
			name:    "release of a plain scalar",
			service: "product",
			edit:    func(f *File) error { return f.SetImage("product", "2.0.0") },
			removed: []string{`      image: ` + d2},
			added:   []string{`      image: "2.0.0"`},
			image:   "2.0.0",
		},
		{
			name:    "a new canary goes after the service's last line, at its keys' indentation",
			service: "product",
			edit:    func(f *File) error { return f.StartCanary("product", d3, 5) },
			added:   []string{`      canary:`, `        image: "` + d3 + `"`, `        weight: 5`},
			image:   d2,
			canary:  &Canary{Image: d3, Weight: 5},
		},
		{
			name:    "a weight step changes the weight's value only",
			service: "order",
			edit:    func(f *File) error { return f.SetCanaryWeight("order", 25) },
			removed: []string{`        weight: 10   # first step`},
			added:   []string{`        weight: 25   # first step`},
			image:   "1.4.2",
			canary:  &Canary{Image: "1.5.0-rc1", Weight: 25},
		},
		{
			name:    "rollback is weight 0",
			service: "order",
			edit:    func(f *File) error { return f.SetCanaryWeight("order", 0) },
			removed: []string{`        weight: 10   # first step`},
			added:   []string{`        weight: 0   # first step`},
			image:   "1.4.2",
			canary:  &Canary{Image: "1.5.0-rc1", Weight: 0},
		},
		{
			name:    "promotion moves the canary's image and removes the canary's lines",
			service: "order",
			edit:    func(f *File) error { return f.PromoteCanary("order") },
			removed: []string{`      image: 1.4.2`, `      canary:`, `        image: '1.5.0-rc1'`, `        weight: 10   # first step`},
			added:   []string{`      image: "1.5.0-rc1"`},
			image:   "1.5.0-rc1",
		},
		{
			name:    "removing the canary",
			service: "order",
			edit:    func(f *File) error { return f.RemoveCanary("order") },
			removed: []string{`      canary:`, `        image: '1.5.0-rc1'`, `        weight: 10   # first step`},
			image:   "1.4.2",
		},
		{
			name:    "a new canary replaces a running one in place",
			service: "order",
			edit:    func(f *File) error { return f.StartCanary("order", d3, 5) },
			removed: []string{`        image: '1.5.0-rc1'`, `        weight: 10   # first step`},
			added:   []string{`        image: "` + d3 + `"`, `        weight: 5   # first step`},
			image:   "1.4.2",
			canary:  &Canary{Image: d3, Weight: 5},
		},
		{
			name:    "the largest weight",
			service: "product",
			edit: func(f *File) error {
				return f.StartCanary("product", "2.1.0", 50)
			},
			added:  []string{`      canary:`, `        image: "2.1.0"`, `        weight: 50`},
			image:  d2,
			canary: &Canary{Image: "2.1.0", Weight: 50},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse([]byte(sample))
			require.NoError(t, err)
			require.NoError(t, c.edit(f))
			removed, added := diffLines(sample, string(f.Bytes()))
			assert.Equal(t, c.removed, removed)
			assert.Equal(t, c.added, added)
			r, err := f.Release(c.service)
			require.NoError(t, err)
			assert.Equal(t, Release{Image: c.image, Canary: c.canary}, r)
			// The rest of the file still parses to the same values.
			again, err := Parse(f.Bytes())
			require.NoError(t, err)
			env, _ := again.Get("config", "ecommerce:environment")
			assert.Equal(t, "staging", env)
		})
	}
}

func TestCanaryAtTheEndOfAFileWithoutANewline(t *testing.T) {
	f, err := Parse([]byte("config:\n  ecommerce:services:\n    auth:\n      image: \"1.0\""))
	require.NoError(t, err)
	require.NoError(t, f.StartCanary("auth", "1.1", 5))
	assert.Equal(t, "config:\n  ecommerce:services:\n    auth:\n      image: \"1.0\"\n      canary:\n        image: \"1.1\"\n        weight: 5\n", string(f.Bytes()))
}

func TestCanaryLifecycleEndsWhereAReleaseWould(t *testing.T) {
	f, err := Parse([]byte(sample))
	require.NoError(t, err)
	require.NoError(t, f.StartCanary("product", d3, 5))
	for _, w := range []int{25, 50} {
		require.NoError(t, f.SetCanaryWeight("product", w))
	}
	require.NoError(t, f.PromoteCanary("product"))

	released, err := Parse([]byte(sample))
	require.NoError(t, err)
	require.NoError(t, released.SetImage("product", d3))
	assert.Equal(t, string(released.Bytes()), string(f.Bytes()), "a promoted canary leaves the file a plain release would")
}

func TestEditsRefuseWhatTheConfigWouldRefuse(t *testing.T) {
	cases := []struct {
		name string
		edit func(*File) error
		want string
	}{
		{"unknown service", func(f *File) error { return f.SetImage("cart", d1) }, "ecommerce:services.cart: no such service in the stack file; it has auth, order, product"},
		{"latest", func(f *File) error { return f.SetImage("auth", "latest") }, `ecommerce:services.auth.image: image "latest" is refused`},
		{"short digest", func(f *File) error { return f.SetImage("auth", "sha256:abc") }, "is not a digest"},
		{"bad tag", func(f *File) error { return f.SetImage("auth", "1.0 beta") }, "neither a tag"},
		{"weight too high", func(f *File) error { return f.SetCanaryWeight("order", 60) }, "ecommerce:services.order.canary.weight: 60: allowed 0 to 50"},
		{"negative weight", func(f *File) error { return f.StartCanary("auth", d2, -1) }, "allowed 0 to 50"},
		{"canary of the stable image", func(f *File) error { return f.StartCanary("auth", d1, 5) }, "is the stable image"},
		{"weight without a canary", func(f *File) error { return f.SetCanaryWeight("auth", 5) }, "there is no canary to weigh"},
		{"promote without a canary", func(f *File) error { return f.PromoteCanary("auth") }, "there is no canary to promote"},
		{"release of the canary's image", func(f *File) error { return f.SetImage("order", "1.5.0-rc1") }, "promote the canary instead"},
		{"flow-style service", func(f *File) error {
			g, err := Parse([]byte("config:\n  ecommerce:services:\n    auth: {image: \"1.0\"}\n"))
			require.NoError(t, err)
			return g.SetImage("auth", "1.1")
		}, "write it as a block mapping"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse([]byte(sample))
			require.NoError(t, err)
			err = c.edit(f)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.Equal(t, sample, string(f.Bytes()), "a refused edit leaves the file alone")
		})
	}
}

// The shipped stack files: a release of one service changes exactly one
// line of each.
func TestShippedStackFilesTakeOneLineReleases(t *testing.T) {
	for _, stack := range []string{"dev", "staging", "prod"} {
		src, err := os.ReadFile("../Pulumi." + stack + ".yaml") //nolint:gosec // the repository's own files
		require.NoError(t, err)
		f, err := Parse(src)
		require.NoError(t, err, stack)
		assert.Equal(t, []string{"auth", "user", "product", "order"}, f.Services(), stack)
		require.NoError(t, f.SetImage("order", d3), stack)
		removed, added := diffLines(string(src), string(f.Bytes()))
		assert.Len(t, removed, 1, stack)
		require.Len(t, added, 1, stack)
		assert.Equal(t, `      image: "`+d3+`"`, added[0], stack)
	}
}
