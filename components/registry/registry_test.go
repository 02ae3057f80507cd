package registry_test

import (
	"encoding/json"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/registry"
	"github.com/example/ecommerce-platform/stacks/plan"
)

func TestLifecyclePolicy(t *testing.T) {
	doc, err := registry.LifecyclePolicy(30)
	require.NoError(t, err)
	var p struct {
		Rules []struct {
			RulePriority int `json:"rulePriority"`
			Selection    struct {
				TagStatus   string `json:"tagStatus"`
				CountType   string `json:"countType"`
				CountNumber int    `json:"countNumber"`
			} `json:"selection"`
		} `json:"rules"`
	}
	require.NoError(t, json.Unmarshal([]byte(doc), &p))
	require.Len(t, p.Rules, 2)
	assert.Equal(t, "untagged", p.Rules[0].Selection.TagStatus)
	assert.Equal(t, "any", p.Rules[1].Selection.TagStatus)
	assert.Greater(t, p.Rules[1].RulePriority, p.Rules[0].RulePriority, `ECR requires the "any" rule last`)
	assert.Equal(t, 30, p.Rules[1].Selection.CountNumber)
}

func TestRepositoriesAreImmutableScannedAndEncrypted(t *testing.T) {
	inv, err := plan.RunComponent("eu-west-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		_, err := registry.New(ctx, "eu-west-1-registry", &registry.Args{
			Prefix: "ecommerce-test", Services: []string{"order", "auth"},
			KmsKeyArn: pulumi.String("arn:aws:kms:eu-west-1:123456789012:key/cluster"), KeepReleases: 10,
		}, opts...)
		return err
	})
	require.NoError(t, err)
	repos := inv.OfType("aws:ecr/repository:Repository")
	require.Len(t, repos, 2)
	for _, r := range repos {
		assert.Equal(t, "IMMUTABLE", r.String("imageTagMutability"))
		assert.Equal(t, true, r.Get("imageScanningConfiguration.scanOnPush"))
		assert.Equal(t, "arn:aws:kms:eu-west-1:123456789012:key/cluster", r.String("encryptionConfigurations.0.kmsKey"))
	}
	assert.Equal(t, "ecommerce-test/order", inv.Find("aws:ecr/repository:Repository", "eu-west-1-registry-order").String("name"))
	assert.Len(t, inv.OfType("aws:ecr/lifecyclePolicy:LifecyclePolicy"), 2)
}

func TestRegistryChecksArgsFirst(t *testing.T) {
	inv, err := plan.RunComponent("eu-west-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		_, err := registry.New(ctx, "r", &registry.Args{Prefix: "p", Services: []string{"a"}, KeepReleases: 0}, opts...)
		return err
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "KmsKeyArn:")
	assert.Contains(t, err.Error(), "KeepReleases:")
	assert.True(t, inv.OnlyProviders())

	inv, err = plan.RunComponent("eu-west-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		dests := make([]string, 26)
		for i := range dests {
			dests[i] = "r"
		}
		_, err := registry.NewReplication(ctx, "x", &registry.ReplicationArgs{AccountID: "1", Prefix: "p", Destinations: dests}, opts...)
		return err
	})
	assert.ErrorContains(t, err, "at most 25 destinations")
	assert.True(t, inv.OnlyProviders())
}
