// Package pack wraps the platform's rules (policies/rules) as a Pulumi
// policy pack with policyx, for `pulumi preview --policy-pack policies`.
package pack

import (
	"context"
	"fmt"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/example/ecommerce-platform/policies/rules"
)

// Name and Version identify the pack in the engine's output.
const (
	Name    = "ecommerce-platform"
	Version = "1.0.0"
)

// level maps a rule's level to the analyzer's.
func level(l rules.Level) policyx.EnforcementLevel {
	switch l {
	case rules.Mandatory:
		return policyx.EnforcementLevelMandatory
	case rules.Disabled:
		return policyx.EnforcementLevelDisabled
	default:
		return policyx.EnforcementLevelAdvisory
	}
}

// New builds the pack for one stack. The stack's environment is the
// "environment" default tag of a resource's AWS provider when it has one,
// else the stack's ecommerce:environment config, else the stack name.
func New(ctx *pulumi.Context) (policyx.PolicyPack, error) {
	fallback := ""
	if ctx != nil {
		fallback, _ = ctx.GetConfig("ecommerce:environment")
		if fallback == "" {
			fallback = rules.EnvironmentOf(nil, ctx.Stack())
		}
	}
	var policies []policyx.Policy
	for _, p := range rules.All() {
		policies = append(policies, Wrap(p, fallback))
	}
	// The pack-level enforcement level is not applied by policyx: every
	// policy carries its own.
	return policyx.NewPolicyPack(Name, semver.MustParse(Version), policyx.EnforcementLevelAdvisory, policies)
}

// Wrap turns one rule into a policyx policy.
func Wrap(p *rules.Policy, fallbackEnv string) policyx.Policy {
	var schema *policyx.ConfigSchema
	if s := p.Schema(); s != nil {
		schema = &policyx.ConfigSchema{Properties: s}
	}
	if p.Stack != nil {
		return policyx.NewStackValidationPolicy(p.Name, policyx.StackValidationPolicyArgs{
			Description:      p.Description,
			EnforcementLevel: level(p.Level),
			ConfigSchema:     schema,
			ValidateStack: func(_ context.Context, args policyx.StackValidationArgs) error {
				s := &rules.Stack{}
				for _, ar := range args.Resources {
					r := FromAnalyzer(ar)
					r.Dependencies, r.DependenciesKnown = ar.Dependencies, true
					s.Resources = append(s.Resources, r)
				}
				for _, f := range p.CheckStack(s) {
					args.Manager.ReportViolation(fmt.Sprintf("%s %q: %s", f.Resource.Type, f.Resource.Name, f.Message), f.Resource.URN)
				}
				return nil
			},
		})
	}
	return policyx.NewResourceValidationPolicy(p.Name, policyx.ResourceValidationPolicyArgs{
		Description:      p.Description,
		EnforcementLevel: level(p.Level),
		ConfigSchema:     schema,
		ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
			if !p.Applies(args.Resource.Type) {
				return nil
			}
			settings, err := p.Resolve(args.Config)
			if err != nil {
				return fmt.Errorf("policy config: %w", err)
			}
			r := FromAnalyzer(args.Resource)
			env := fallbackEnv
			tagged := providerInputs(args.Resource)
			if r.Type == "pulumi:providers:aws" {
				tagged = r
			}
			if e, ok := tagged.Get("defaultTags.tags.environment").Str(); ok && e != "" {
				env = e
			}
			for _, msg := range p.CheckResource(r, env, settings) {
				args.Manager.ReportViolation(fmt.Sprintf("%s %q: %s", r.Type, r.Name, msg), args.Resource.URN)
			}
			return nil
		},
	})
}

// providerInputs returns the inputs of a resource's provider as a rules
// resource, so they are read as defensively as any input.
func providerInputs(ar policyx.AnalyzerResource) *rules.Resource {
	return &rules.Resource{Type: ar.Provider.Type, Inputs: resource.ToResourcePropertyMap(ar.Provider.Properties)}
}

// FromAnalyzer converts what the engine sends into the rules' resource.
// The region is the resource's provider's (an AWS provider's region
// input), or a provider's own.
func FromAnalyzer(ar policyx.AnalyzerResource) *rules.Resource {
	r := &rules.Resource{
		URN: ar.URN, Type: ar.Type, Name: ar.Name, Parent: ar.Parent,
		Inputs:        resource.ToResourcePropertyMap(ar.Properties),
		IgnoreChanges: ar.Options.IgnoreChanges, IgnoreChangesKnown: true,
	}
	if r.Type == "pulumi:providers:aws" {
		r.Region, _ = r.Get("region").Str()
	} else if ar.Provider.Type == "pulumi:providers:aws" {
		r.Region, _ = providerInputs(ar).Get("region").Str()
	}
	return r
}
