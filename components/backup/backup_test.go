package backup_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/backup"
	"github.com/example/ecommerce-platform/stacks/plan"
)

func settings() backup.Settings {
	return backup.Settings{DailyRetentionDays: 35, WeeklyRetentionDays: 90, LockMinRetentionDays: 7}
}

func TestSettingsCheck(t *testing.T) {
	assert.Empty(t, settings().Check())
	s := backup.Settings{DailyRetentionDays: 0, WeeklyRetentionDays: 5, LockMinRetentionDays: 10, LockChangeableForDays: 2}
	var fields []string
	for _, p := range s.Check() {
		fields = append(fields, p.Field)
	}
	assert.Equal(t, []string{"dailyRetentionDays", "weeklyRetentionDays", "lockMinRetentionDays", "lockChangeableForDays"}, fields)
}

func TestLockedVaultAndPlanWithCopies(t *testing.T) {
	inv, err := plan.RunComponent("us-east-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		v, err := backup.NewVault(ctx, "us-east-1-vault", &backup.VaultArgs{
			Name: "ecommerce-prod-us-east-1", KmsKeyArn: pulumi.String("arn:aws:kms:us-east-1:123456789012:key/data"),
			Lock: &backup.Lock{MinRetentionDays: 7},
		}, opts...)
		if err != nil {
			return err
		}
		_, err = backup.NewPlan(ctx, "backup", &backup.PlanArgs{
			Name: "ecommerce-prod", AccountID: plan.TestAccount, Settings: settings(), Vault: v,
			CopyVaultArn: pulumi.String("arn:aws:backup:eu-west-1:123456789012:backup-vault:ecommerce-prod-eu-west-1"),
			Resources:    []pulumi.StringInput{pulumi.String("arn:aws:rds:us-east-1:123456789012:db:a"), pulumi.String("arn:aws:rds:us-east-1:123456789012:db:b")},
		}, opts...)
		return err
	})
	require.NoError(t, err)
	vault := inv.Find("aws:backup/vault:Vault", "us-east-1-vault")
	require.NotNil(t, vault)
	assert.Equal(t, "arn:aws:kms:us-east-1:123456789012:key/data", vault.String("kmsKeyArn"))
	lock := inv.Find("aws:backup/vaultLockConfiguration:VaultLockConfiguration", "us-east-1-vault")
	require.NotNil(t, lock)
	assert.EqualValues(t, 7, lock.Get("minRetentionDays"))
	assert.Nil(t, lock.Get("changeableForDays"), "governance mode unless asked")

	p := inv.Find("aws:backup/plan:Plan", "backup")
	require.NotNil(t, p)
	rules := p.Get("rules").([]any)
	require.Len(t, rules, 2)
	for i, want := range []struct {
		name, schedule string
		days           float64
	}{{"daily", backup.DailySchedule, 35}, {"weekly", backup.WeeklySchedule, 90}} {
		r := rules[i].(map[string]any)
		assert.Equal(t, want.name, r["ruleName"])
		assert.Equal(t, want.schedule, r["schedule"])
		assert.Equal(t, "ecommerce-prod-us-east-1", r["targetVaultName"])
		assert.EqualValues(t, want.days, r["lifecycle"].(map[string]any)["deleteAfter"])
		copies := r["copyActions"].([]any)
		require.Len(t, copies, 1)
		c := copies[0].(map[string]any)
		assert.Equal(t, "arn:aws:backup:eu-west-1:123456789012:backup-vault:ecommerce-prod-eu-west-1", c["destinationVaultArn"])
		assert.EqualValues(t, want.days, c["lifecycle"].(map[string]any)["deleteAfter"], "a copy is kept as long as its original")
	}
	sel := inv.Find("aws:backup/selection:Selection", "backup")
	require.NotNil(t, sel)
	assert.Equal(t, []any{"arn:aws:rds:us-east-1:123456789012:db:a", "arn:aws:rds:us-east-1:123456789012:db:b"}, sel.Get("resources"))
	role := inv.Find("aws:iam/role:Role", "backup")
	require.NotNil(t, role)
	assert.Contains(t, role.String("assumeRolePolicy"), `"Service":"backup.amazonaws.com"`)
	assert.Contains(t, role.String("assumeRolePolicy"), `"aws:SourceAccount":"123456789012"`)
	for i, arn := range backup.ManagedPolicies {
		a := inv.Find("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "backup-"+string(rune('0'+i)))
		require.NotNil(t, a)
		assert.Equal(t, arn, a.String("policyArn"))
		assert.True(t, inv.WaitsFor(sel, a), "the selection waits for the role's permissions")
	}
}

func TestBadArgsCreateNothing(t *testing.T) {
	inv, err := plan.RunComponent("us-east-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		_, err := backup.NewVault(ctx, "v", &backup.VaultArgs{Name: "a b", Lock: &backup.Lock{}}, opts...)
		return err
	})
	require.Error(t, err)
	for _, f := range []string{"Name:", "KmsKeyArn:", "Lock.MinRetentionDays:"} {
		assert.Contains(t, err.Error(), f)
	}
	assert.True(t, inv.OnlyProviders())
	inv, err = plan.RunComponent("us-east-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		_, err := backup.NewPlan(ctx, "p", &backup.PlanArgs{Name: "x", AccountID: "1", Settings: backup.Settings{DailyRetentionDays: 1, WeeklyRetentionDays: 7}}, opts...)
		return err
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Vault:")
	assert.Contains(t, err.Error(), "Resources:")
	assert.True(t, inv.OnlyProviders())
}
