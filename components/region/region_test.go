package region_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/messaging"
	"github.com/example/ecommerce-platform/components/region"
	"github.com/example/ecommerce-platform/stacks/plan"
)

// A region refuses inconsistent arguments, every problem named, before it
// creates anything (its key, network and cluster come first otherwise).
func TestRegionChecksArgsFirst(t *testing.T) {
	notMaster := &region.Region{Name: "ap-south-1"}
	cases := map[string]struct {
		args   *region.Args
		fields []string
	}{
		"nil args": {nil, []string{"Args"}},
		"primary that is not the master": {&region.Args{
			Region: "eu-west-1", DisplayName: "x", AccountID: plan.TestAccount, Primary: notMaster,
		}, []string{"Primary"}},
		"data without the stack's secrets": {&region.Args{
			Region: "us-east-1", DisplayName: "x", AccountID: plan.TestAccount,
			Data: &region.DataArgs{Services: []string{"auth"}, TokenIssuer: "auth", Topology: &messaging.Topology{}},
		}, []string{"StackName", "Data.DatabasePasswords.auth", "Data.SigningSeed"}},
		"a replica region without a master data layer": {&region.Args{
			Region: "eu-west-1", DisplayName: "x", AccountID: plan.TestAccount, Primary: &region.Region{Name: "us-east-1", Master: true},
			Data: &region.DataArgs{Services: []string{"user"}, Topology: &messaging.Topology{},
				DatabasePasswords: map[string]pulumi.StringOutput{"user": pulumi.String("pw").ToStringOutput()}},
		}, []string{"Primary"}},
		"ingress without workloads": {&region.Args{
			Region: "eu-west-1", DisplayName: "x", StackName: "s", AccountID: plan.TestAccount,
			Ingress: &region.IngressArgs{AccessLogRetentionDays: 90},
		}, []string{"Ingress"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			inv, err := plan.RunComponent("eu-west-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
				_, err := region.New(ctx, "r", tc.args, opts...)
				return err
			})
			require.Error(t, err)
			for _, f := range tc.fields {
				assert.Contains(t, err.Error(), f+":")
			}
			assert.True(t, inv.OnlyProviders(), "nothing is created")
		})
	}
}
