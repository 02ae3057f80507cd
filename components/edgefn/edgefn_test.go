package edgefn_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/edgefn"
)

var args = edgefn.Args{MasterOrigin: "api.us-east-1.shop.example.com", StickySeconds: 5}

// The routing logic, run under Node with the cloudfront module stubbed:
// method, path, cookie and expiry cases (router_test.mjs).
func TestRoutingUnderNode(t *testing.T) {
	node, err := exec.LookPath("node")
	require.NoError(t, err, "Node.js runs the edge functions' tests; install it (Debian: nodejs)")
	dir := t.TempDir()
	req, err := edgefn.ViewerRequest(args)
	require.NoError(t, err)
	resp, err := edgefn.ViewerResponse(args)
	require.NoError(t, err)
	reqFile, respFile := filepath.Join(dir, "viewer_request.js"), filepath.Join(dir, "viewer_response.js")
	require.NoError(t, os.WriteFile(reqFile, []byte(req), 0o600))
	require.NoError(t, os.WriteFile(respFile, []byte(resp), 0o600))
	out, err := exec.Command(node, "router_test.mjs", reqFile, respFile).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "# fail 0")
	assert.NotContains(t, string(out), "# pass 0")
}

func TestRenderedCode(t *testing.T) {
	req, err := edgefn.ViewerRequest(args)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(req, "import cf from 'cloudfront';"), "the module import must be the first line")
	assert.Contains(t, req, "'api.us-east-1.shop.example.com'")
	assert.Less(t, len(req), edgefn.MaxCodeBytes)
	resp, err := edgefn.ViewerResponse(args)
	require.NoError(t, err)
	assert.Contains(t, resp, "var STICKY_SECONDS = 5;")
}

func TestArgsAreChecked(t *testing.T) {
	for _, a := range []edgefn.Args{
		{MasterOrigin: "", StickySeconds: 5},
		{MasterOrigin: "api.us-east-1.shop.example.com';evil()//", StickySeconds: 5},
		{MasterOrigin: "api.us-east-1.shop.example.com", StickySeconds: 0},
		{MasterOrigin: "api.us-east-1.shop.example.com", StickySeconds: 61},
	} {
		_, err := edgefn.ViewerRequest(a)
		require.Error(t, err, "%+v", a)
		assert.Regexp(t, "MasterOrigin|StickySeconds", err.Error())
	}
}
