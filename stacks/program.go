// Package stacks composes the platform from the components, in three
// phases, from a validated configuration (package stacks/config):
//
//   - global: what the whole stack shares, named without a region (the
//     generated credentials; the DNS zone, the certificates, the origin
//     secret and the web ACL of the traffic path), with a random provider
//     and a us-east-1 provider whatever the master region is;
//   - regions: one Region component each, master first;
//   - wiring: what crosses regions (the event subscriptions, the image
//     replication, the central logs in the master region, the DNS records
//     per deployment model, the regions' health checks and CloudFront).
package stacks

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/centrallog"
	"github.com/example/ecommerce-platform/components/edge"
	"github.com/example/ecommerce-platform/components/global"
	"github.com/example/ecommerce-platform/components/observe"
	"github.com/example/ecommerce-platform/components/region"
	"github.com/example/ecommerce-platform/stacks/config"
)

// Program is the Pulumi program: load and validate config, then build.
func Program(ctx *pulumi.Context) error {
	cfg, err := config.Load(ctx)
	if err != nil {
		return err
	}
	for _, w := range cfg.Warnings() {
		if err := ctx.Log.Warn(w, nil); err != nil {
			return err
		}
	}
	_, err = Build(ctx, cfg)
	return err
}

// EdgeRegion is where CloudFront certificates and CLOUDFRONT-scope web
// ACLs must live, whatever the master region is.
const EdgeRegion = edge.Region

// Platform is what Build created.
type Platform struct {
	Config *config.Config
	// Providers are the AWS providers by region: every configured region,
	// and EdgeRegion.
	Providers map[string]*aws.Provider
	// Random is the stack's one random provider (no region).
	Random *random.Provider
	Global *global.Global
	// Edge is the traffic path's global half: zone, certificates (each
	// region's and CloudFront's), origin secret, web ACL.
	Edge *edge.Global
	// Routing is the traffic path across regions (wiring phase): DNS per
	// model, health checks, CloudFront, the edge functions.
	Routing *edge.Routing
	// Dashboard is the global dashboard in the master region: every
	// region side by side.
	Dashboard *observe.GlobalDashboard
	// Regions in build order, master first.
	Regions []*region.Region
	// Master is the master region (also Regions[0]).
	Master *region.Region
	// CentralLogs is the master region's store of every region's logs
	// (wiring phase).
	CentralLogs *centrallog.Central
}

// Build creates the platform from a validated config: providers, then the
// global, regions and wiring phases, then the stack outputs.
func Build(ctx *pulumi.Context, cfg *config.Config) (*Platform, error) {
	p := &Platform{Config: cfg}
	if err := p.providers(ctx); err != nil {
		return nil, err
	}
	phases := []struct {
		name string
		run  func(*pulumi.Context) error
	}{
		{"global", p.global},
		{"regions", p.regions},
		{"wiring", p.wiring},
	}
	for _, phase := range phases {
		if err := phase.run(ctx); err != nil {
			return nil, fmt.Errorf("%s phase: %w", phase.name, err)
		}
	}
	p.export(ctx)
	return p, nil
}

// providers creates one AWS provider per region (and for EdgeRegion) and
// the random provider. Each AWS provider pins the account, so a stack can
// never deploy into an account it was not written for, and makes no lookup
// of its own beyond that check.
func (p *Platform) providers(ctx *pulumi.Context) error {
	cfg := p.Config
	p.Providers = map[string]*aws.Provider{}
	names := []string{}
	for _, r := range cfg.Ordered() {
		names = append(names, r.Name)
	}
	if !slices.Contains(names, EdgeRegion) {
		names = append(names, EdgeRegion)
	}
	for _, name := range names {
		prov, err := aws.NewProvider(ctx, "aws-"+name, &aws.ProviderArgs{
			Region:            pulumi.String(name),
			AllowedAccountIds: pulumi.StringArray{pulumi.String(cfg.AccountID)},
			DefaultTags: aws.ProviderDefaultTagsArgs{
				Tags: pulumi.ToStringMap(cfg.DefaultTags(ctx.Project(), name)),
			},
		})
		if err != nil {
			return err
		}
		p.Providers[name] = prov
	}
	var err error
	// Explicit: the stacks disable default providers.
	p.Random, err = random.NewProvider(ctx, "random", &random.ProviderArgs{})
	return err
}
