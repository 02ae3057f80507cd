package global_test

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/global"
	"github.com/example/ecommerce-platform/stacks/plan"
)

func TestGlobalSecretsBelongToNoRegion(t *testing.T) {
	var g *global.Global
	inv, err := plan.RunComponent("us-east-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		var err error
		g, err = global.New(ctx, "global", &global.Args{Services: []string{"auth", "order"}, TokenIssuer: "auth"}, opts...)
		return err
	})
	require.NoError(t, err)
	comp := inv.Find("ecommerce:global:Global", "global")
	require.NotNil(t, comp)
	for _, name := range []string{"jwt-signing-seed", "db-auth", "db-order"} {
		var r *plan.Resource
		for _, c := range inv.Children(comp) {
			if c.Name == name {
				r = c
			}
		}
		require.NotNil(t, r, name)
		assert.NotContains(t, r.URN, "us-east-1", "%s is named without a region", name)
		assert.NotContains(t, r.URN, "ecommerce:region:Region", "%s is not under a region", name)
		assert.True(t, strings.HasPrefix(r.Type, "random:"), r.Type)
	}
	pw := inv.Find("random:index/randomPassword:RandomPassword", "db-order")
	assert.EqualValues(t, global.PasswordLength, pw.Get("length"))
	assert.Equal(t, false, pw.Get("special"), "letters and digits: the password goes into a URL")
	assert.Len(t, g.DatabasePasswords, 2)
}

func TestGlobalChecksArgsFirst(t *testing.T) {
	inv, err := plan.RunComponent("us-east-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		_, err := global.New(ctx, "global", &global.Args{Services: []string{"order"}, TokenIssuer: "auth"}, opts...)
		return err
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "TokenIssuer:")
	assert.True(t, inv.OnlyProviders())
}

// A stack deployed before the global phase kept these secrets under its
// master region; the aliases let it adopt them instead of regenerating
// every password and the signing key.
func TestGlobalAdoptsSecretsFromTheirRegionalNames(t *testing.T) {
	inv, err := plan.RunComponent("us-east-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		_, err := global.New(ctx, "global", &global.Args{Services: []string{"auth"}, TokenIssuer: "auth", AdoptFromRegion: "us-east-1"}, opts...)
		return err
	})
	require.NoError(t, err)
	seed := inv.Find("random:index/randomBytes:RandomBytes", "jwt-signing-seed")
	require.NotNil(t, seed)
	assert.Equal(t, []string{"urn:pulumi:test::ecommerce::ecommerce:region:Region$random:index/randomBytes:RandomBytes::us-east-1-jwt-signing-seed"}, seed.Aliases)
	pw := inv.Find("random:index/randomPassword:RandomPassword", "db-auth")
	require.NotNil(t, pw)
	assert.Equal(t, []string{"urn:pulumi:test::ecommerce::ecommerce:region:Region$ecommerce:database:Databases$random:index/randomPassword:RandomPassword::us-east-1-db-auth"}, pw.Aliases)
}
