// Package registry builds the services' image repositories of one region,
// and the replication that copies every push from the registry region to
// the others. Each region pulls from its own repositories: a region whose
// neighbours are down still starts pods.
//
// Every region's repositories are created here rather than left for
// replication to create: a repository ECR creates on replication takes
// the registry's defaults (mutable tags, AWS-managed encryption), while
// these are immutable, scanned on push, encrypted with the region's own
// key and expire what no release needs.
package registry

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecr"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/check"
)

// Args configures one region's repositories.
type Args struct {
	// Prefix names the repositories "<Prefix>/<service>", e.g.
	// "ecommerce-prod"; replication selects them by it.
	Prefix string
	// Services get one repository each.
	Services []string
	// KmsKeyArn encrypts the images (the region's cluster key).
	KmsKeyArn pulumi.StringInput
	// KeepReleases is how many tagged images each repository keeps.
	KeepReleases int
}

// Registry is one region's repositories.
type Registry struct {
	pulumi.ResourceState

	// URLs are the repository URLs by service
	// (<account>.dkr.ecr.<region>.amazonaws.com/<prefix>/<service>).
	URLs pulumi.StringMapOutput `pulumi:"urls"`
	// ByService are the same URLs as typed outputs.
	ByService map[string]pulumi.StringOutput
}

func (a *Args) check() error {
	p := check.New("registry")
	if a == nil {
		p.Require("Args", false)
		return p.Err()
	}
	p.Require("Prefix", a.Prefix != "")
	p.Require("Services", len(a.Services) > 0)
	if a.KmsKeyArn == nil {
		p.Add("KmsKeyArn", "is required: images are always encrypted with the region's key")
	}
	if a.KeepReleases < 1 || a.KeepReleases > 1000 {
		p.Add("KeepReleases", "%d: allowed 1 to 1000", a.KeepReleases)
	}
	return p.Err()
}

// RepositoryName is a service's repository.
func RepositoryName(prefix, service string) string { return prefix + "/" + service }

// LifecyclePolicy expires untagged images after a day (failed or
// superseded pushes) and keeps the newest keep images of all others.
func LifecyclePolicy(keep int) (string, error) {
	type selection struct {
		TagStatus   string `json:"tagStatus"`
		CountType   string `json:"countType"`
		CountUnit   string `json:"countUnit,omitempty"`
		CountNumber int    `json:"countNumber"`
	}
	type rule struct {
		RulePriority int               `json:"rulePriority"`
		Description  string            `json:"description"`
		Selection    selection         `json:"selection"`
		Action       map[string]string `json:"action"`
	}
	expire := map[string]string{"type": "expire"}
	b, err := json.Marshal(map[string]any{"rules": []rule{
		{1, "untagged images expire after a day", selection{TagStatus: "untagged", CountType: "sinceImagePushed", CountUnit: "days", CountNumber: 1}, expire},
		// "any" must come last (highest priority number) in ECR's rules.
		{2, fmt.Sprintf("keep the newest %d images", keep), selection{TagStatus: "any", CountType: "imageCountMoreThan", CountNumber: keep}, expire},
	}})
	return string(b), err
}

// New creates one repository and its lifecycle policy per service.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Registry, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	lifecycle, err := LifecyclePolicy(args.KeepReleases)
	if err != nil {
		return nil, err
	}
	r := &Registry{ByService: map[string]pulumi.StringOutput{}}
	if err := ctx.RegisterComponentResource("ecommerce:registry:Registry", name, r, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(r)
	services := append([]string(nil), args.Services...)
	sort.Strings(services)
	urls := pulumi.StringMap{}
	for _, svc := range services {
		repo, err := ecr.NewRepository(ctx, name+"-"+svc, &ecr.RepositoryArgs{
			Name: pulumi.String(RepositoryName(args.Prefix, svc)),
			// A tag names one build forever: a release and its rollback
			// are what the tag says, in every region.
			ImageTagMutability:         pulumi.String("IMMUTABLE"),
			ImageScanningConfiguration: ecr.RepositoryImageScanningConfigurationArgs{ScanOnPush: pulumi.Bool(true)},
			EncryptionConfigurations: ecr.RepositoryEncryptionConfigurationArray{ecr.RepositoryEncryptionConfigurationArgs{
				EncryptionType: pulumi.String("KMS"),
				KmsKey:         args.KmsKeyArn,
			}},
			Tags: pulumi.StringMap{"service": pulumi.String(svc)},
		}, parent)
		if err != nil {
			return nil, err
		}
		if _, err := ecr.NewLifecyclePolicy(ctx, name+"-"+svc, &ecr.LifecyclePolicyArgs{
			Repository: repo.Name,
			Policy:     pulumi.String(lifecycle),
		}, parent); err != nil {
			return nil, err
		}
		r.ByService[svc] = repo.RepositoryUrl
		urls[svc] = repo.RepositoryUrl
	}
	r.URLs = urls.ToStringMapOutput()
	return r, ctx.RegisterResourceOutputs(r, pulumi.Map{"urls": r.URLs})
}

// ReplicationArgs configures the replication out of the registry region.
type ReplicationArgs struct {
	// AccountID owns every region's registry.
	AccountID string
	// Prefix selects the repositories to replicate.
	Prefix string
	// Destinations are the other regions.
	Destinations []string
	// DependsOn are the destination regions' repositories: they must exist
	// before the first image is replicated into them.
	DependsOn []pulumi.Resource
}

// Replication is the registry region's replication to the others.
type Replication struct {
	pulumi.ResourceState
}

// NewReplication configures the registry region's replication; pass that
// region's provider in opts. ECR keeps one replication configuration per
// account and region: a second stack pushing from the same account and
// region would replace this one.
func NewReplication(ctx *pulumi.Context, name string, args *ReplicationArgs, opts ...pulumi.ResourceOption) (*Replication, error) {
	p := check.New("registry replication")
	if args == nil {
		p.Require("Args", false)
		return nil, p.Err()
	}
	p.Require("AccountID", args.AccountID != "")
	p.Require("Prefix", args.Prefix != "")
	p.Require("Destinations", len(args.Destinations) > 0)
	if len(args.Destinations) > 25 {
		p.Add("Destinations", "%d regions: ECR replicates to at most 25 destinations", len(args.Destinations))
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	r := &Replication{}
	if err := ctx.RegisterComponentResource("ecommerce:registry:Replication", name, r, opts...); err != nil {
		return nil, err
	}
	dests := ecr.ReplicationConfigurationReplicationConfigurationRuleDestinationArray{}
	for _, region := range args.Destinations {
		dests = append(dests, ecr.ReplicationConfigurationReplicationConfigurationRuleDestinationArgs{
			Region:     pulumi.String(region),
			RegistryId: pulumi.String(args.AccountID),
		})
	}
	if _, err := ecr.NewReplicationConfiguration(ctx, name, &ecr.ReplicationConfigurationArgs{
		ReplicationConfiguration: ecr.ReplicationConfigurationReplicationConfigurationArgs{
			Rules: ecr.ReplicationConfigurationReplicationConfigurationRuleArray{ecr.ReplicationConfigurationReplicationConfigurationRuleArgs{
				Destinations: dests,
				RepositoryFilters: ecr.ReplicationConfigurationReplicationConfigurationRuleRepositoryFilterArray{
					ecr.ReplicationConfigurationReplicationConfigurationRuleRepositoryFilterArgs{
						Filter:     pulumi.String(args.Prefix + "/"),
						FilterType: pulumi.String("PREFIX_MATCH"),
					},
				},
			}},
		},
	}, pulumi.Parent(r), pulumi.DependsOn(args.DependsOn)); err != nil {
		return nil, err
	}
	return r, ctx.RegisterResourceOutputs(r, pulumi.Map{})
}
