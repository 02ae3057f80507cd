package config_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/stacks/config"
	"github.com/example/ecommerce-platform/stacks/plan"
)

// loadUnderMocks runs config.Load inside a program with the given config
// (full keys) and secret keys.
func loadUnderMocks(t *testing.T, cfg map[string]string, secretKeys []string) (*config.Config, error) {
	t.Helper()
	var out *config.Config
	withConfig := func(info *pulumi.RunInfo) {
		info.Config = cfg
		info.ConfigSecretKeys = secretKeys
	}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		c, err := config.Load(ctx)
		out = c
		return err
	}, pulumi.WithMocks("ecommerce", "test", plan.NewMocks("ecommerce", "test")), withConfig)
	return out, err
}
