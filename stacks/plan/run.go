package plan

import (
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Run executes program as the given project and stack under the mocks, with
// config as the program's configuration, and returns what it registered.
// The inventory is returned even when the program fails, so a caller can
// check that nothing was created before the error.
func Run(project, stack string, config map[string]string, program pulumi.RunFunc) (*Inventory, error) {
	mocks := NewMocks(project, stack)
	withConfig := func(info *pulumi.RunInfo) {
		info.Config = config
		info.ConfigSecretKeys = nil
	}
	err := pulumi.RunErr(program, pulumi.WithMocks(project, stack, mocks), withConfig)
	return &Inventory{Stack: stack, Resources: mocks.Resources()}, err
}

// Stack loads the project in dir and the stack's config file, then runs
// program under the mocks.
func Stack(dir, stack string, program pulumi.RunFunc) (*Inventory, error) {
	proj, err := LoadProject(dir)
	if err != nil {
		return nil, err
	}
	cfg, err := proj.Config(dir, stack)
	if err != nil {
		return nil, err
	}
	return Run(proj.Name, stack, cfg, program)
}

// TestAccount is the account the component runs pin their provider to.
const TestAccount = "123456789012"

// RunComponent runs build in a bare program holding a provider of region
// (pinned to TestAccount) and a random provider, both passed to build as
// options for the component, as the stack passes them. The inventory is
// returned even when build fails, to show what existed before the failure.
func RunComponent(region string, build func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error) (*Inventory, error) {
	return Run("ecommerce", "test", nil, func(ctx *pulumi.Context) error {
		p, err := aws.NewProvider(ctx, "aws-"+region, &aws.ProviderArgs{
			Region:            pulumi.String(region),
			AllowedAccountIds: pulumi.StringArray{pulumi.String(TestAccount)},
		})
		if err != nil {
			return err
		}
		r, err := random.NewProvider(ctx, "random", &random.ProviderArgs{})
		if err != nil {
			return err
		}
		return build(ctx, pulumi.Providers(p, r))
	})
}

// OnlyProviders reports whether the inventory holds nothing but providers:
// what a component that refused its arguments must leave behind.
func (inv *Inventory) OnlyProviders() bool {
	for _, r := range inv.Resources {
		if !strings.HasPrefix(r.Type, "pulumi:providers:") {
			return false
		}
	}
	return true
}
