package plan

import (
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
