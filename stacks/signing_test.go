package stacks_test

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/appconfig"
	"github.com/example/ecommerce-platform/stacks"
)

// The token issuer's signing key is generated once, in the master region,
// and reaches the issuer's runtime secret in every region unchanged and
// secret; no other service gets it.
func TestSigningKeyOnlyForTheIssuerAndSameEverywhere(t *testing.T) {
	run := planData(t, "prod", nil)
	seeds := run.inv.OfType("random:index/randomBytes:RandomBytes")
	require.Len(t, seeds, 1, "one key for the whole platform")
	assert.Equal(t, run.cfg.MasterRegion, seeds[0].Region)
	assert.EqualValues(t, 32, seeds[0].Get("length"))

	keys := map[string]string{}
	for _, v := range run.inv.OfType(secretVer) {
		var env map[string]string
		require.NoError(t, json.Unmarshal([]byte(secretInput(t, v, "secretString")), &env), v.Name)
		key, has := env[appconfig.EnvJWTSigningKey]
		if env[appconfig.EnvServiceName] != stacks.TokenIssuer {
			assert.False(t, has, "%s must not hold the signing key", v.Name)
			continue
		}
		seed, err := base64.StdEncoding.DecodeString(key)
		require.NoError(t, err, v.Name)
		assert.Len(t, seed, 32, "an Ed25519 seed")
		keys[v.Region] = key
	}
	require.Len(t, keys, len(run.cfg.Regions), "the issuer gets the key in every region")
	for region, key := range keys {
		assert.Equal(t, keys[run.cfg.MasterRegion], key, "%s signs with the same key as the master region", region)
	}
}
