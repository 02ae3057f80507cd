// Package backup keeps recovery points of the stateful resources outside
// the resources themselves: an AWS Backup vault per region (the region's
// data key; locked in prod), and in the master region a plan with a daily
// and a weekly rule over the primaries, each copying to another region's
// vault.
//
// It complements the databases' own automated backups (point in time,
// replicated to the backup region by the database component): those give
// minutes of RPO but live and die with the instance's retention setting
// and its account's permissions; vault copies are snapshots kept for weeks
// under a lock nobody in the account can shorten (docs/dr.md).
package backup

import (
	"fmt"
	"regexp"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/backup"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/check"
	"github.com/example/ecommerce-platform/components/iamdoc"
)

// Settings are the plan's retention and the vault lock. The stack
// configuration decodes its `backup` key straight into them.
type Settings struct {
	// DailyRetentionDays and WeeklyRetentionDays keep each rule's recovery
	// points (and their copies) this long.
	DailyRetentionDays  int `json:"dailyRetentionDays"`
	WeeklyRetentionDays int `json:"weeklyRetentionDays"`
	// CopyRegion receives the copies; empty: the first region after the
	// master.
	CopyRegion string `json:"copyRegion"`
	// LockMinRetentionDays is the vault lock's retention floor (prod): no
	// one can delete a recovery point younger than this, nor save one
	// with a shorter retention.
	LockMinRetentionDays int `json:"lockMinRetentionDays"`
	// LockChangeableForDays: 0 keeps the lock in governance mode (users
	// with the right IAM permission may remove it); 3 or more turns it to
	// compliance mode after that many days, after which nobody can.
	LockChangeableForDays int `json:"lockChangeableForDays"`
}

// MaxRetentionDays keeps the settings sane (AWS Backup allows up to 100
// years; the platform has no reason to keep database snapshots beyond 10).
const MaxRetentionDays = 3650

// Check returns what AWS Backup would refuse, fields named as in the config.
func (s Settings) Check() []check.Problem {
	p := check.New("")
	if s.DailyRetentionDays < 1 || s.DailyRetentionDays > MaxRetentionDays {
		p.Add("dailyRetentionDays", "%d: allowed 1 to %d", s.DailyRetentionDays, MaxRetentionDays)
	}
	if s.WeeklyRetentionDays < 7 || s.WeeklyRetentionDays > MaxRetentionDays {
		p.Add("weeklyRetentionDays", "%d: allowed 7 to %d (a weekly point kept less than a week is a daily one)", s.WeeklyRetentionDays, MaxRetentionDays)
	}
	if s.LockMinRetentionDays < 0 {
		p.Add("lockMinRetentionDays", "%d: allowed 0 (no lock) or more", s.LockMinRetentionDays)
	}
	if s.LockMinRetentionDays > 0 && (s.LockMinRetentionDays > s.DailyRetentionDays || s.LockMinRetentionDays > s.WeeklyRetentionDays) {
		p.Add("lockMinRetentionDays", "%d is above a rule's retention (daily %d, weekly %d): a locked vault refuses recovery points kept less than its floor, so those backups would fail",
			s.LockMinRetentionDays, s.DailyRetentionDays, s.WeeklyRetentionDays)
	}
	if c := s.LockChangeableForDays; c != 0 && c < 3 {
		p.Add("lockChangeableForDays", "%d: allowed 0 (governance mode) or at least 3 (compliance mode after that grace period)", c)
	}
	return p.List()
}

// Schedules of the rules (UTC): after the databases' own backup window
// (03:00-04:00), before their maintenance window on Sundays (04:30).
const (
	DailySchedule  = "cron(0 5 ? * * *)"
	WeeklySchedule = "cron(0 6 ? * SUN *)"
)

var vaultNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{2,50}$`)

// VaultArgs configures one region's vault.
type VaultArgs struct {
	// Name is the vault's name (2-50 letters, digits, hyphens, underscores).
	Name string
	// KmsKeyArn encrypts the recovery points AWS Backup manages itself
	// (the region's data key); RDS snapshots keep their instance's key.
	KmsKeyArn pulumi.StringInput
	// Lock, when set, locks the vault.
	Lock *Lock
}

// Lock is a vault lock.
type Lock struct {
	MinRetentionDays, ChangeableForDays int
}

// Vault is one region's backup vault.
type Vault struct {
	pulumi.ResourceState

	// Name and Arn of the vault.
	Name pulumi.StringOutput `pulumi:"name"`
	Arn  pulumi.StringOutput `pulumi:"arn"`
}

// NewVault creates the vault (and its lock). Pass the region's provider.
func NewVault(ctx *pulumi.Context, name string, args *VaultArgs, opts ...pulumi.ResourceOption) (*Vault, error) {
	p := check.New("backup vault")
	if args == nil {
		p.Require("Args", false)
		return nil, p.Err()
	}
	if !vaultNamePattern.MatchString(args.Name) {
		p.Add("Name", "%q: allowed 2 to 50 letters, digits, hyphens and underscores", args.Name)
	}
	if args.KmsKeyArn == nil {
		p.Add("KmsKeyArn", "is required: recovery points are always encrypted with the region's key")
	}
	if l := args.Lock; l != nil {
		if l.MinRetentionDays < 1 {
			p.Add("Lock.MinRetentionDays", "%d: a lock needs a floor of at least 1 day", l.MinRetentionDays)
		}
		if l.ChangeableForDays != 0 && l.ChangeableForDays < 3 {
			p.Add("Lock.ChangeableForDays", "%d: allowed 0 or at least 3", l.ChangeableForDays)
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	v := &Vault{}
	if err := ctx.RegisterComponentResource("ecommerce:backup:Vault", name, v, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(v)
	vault, err := backup.NewVault(ctx, name, &backup.VaultArgs{
		Name:      pulumi.String(args.Name),
		KmsKeyArn: args.KmsKeyArn,
		Tags:      pulumi.StringMap{"Name": pulumi.String(args.Name)},
	}, parent)
	if err != nil {
		return nil, err
	}
	if l := args.Lock; l != nil {
		lock := &backup.VaultLockConfigurationArgs{
			BackupVaultName:  vault.Name,
			MinRetentionDays: pulumi.Int(l.MinRetentionDays),
		}
		if l.ChangeableForDays > 0 {
			lock.ChangeableForDays = pulumi.Int(l.ChangeableForDays)
		}
		if _, err := backup.NewVaultLockConfiguration(ctx, name, lock, parent); err != nil {
			return nil, err
		}
	}
	v.Name, v.Arn = vault.Name, vault.Arn
	return v, ctx.RegisterResourceOutputs(v, pulumi.Map{"name": v.Name, "arn": v.Arn})
}

// PlanArgs configures the plan over the master region's primaries.
type PlanArgs struct {
	// Name names the plan, its role and selection (stack-wide: the plan
	// follows the master region).
	Name      string
	AccountID string
	Settings  Settings
	// Vault is the master region's vault; CopyVaultArn another region's
	// (nil in a stack of one region: no copy, and docs/dr.md says what
	// that loses).
	Vault        *Vault
	CopyVaultArn pulumi.StringInput
	// Resources are the ARNs of what the plan backs up: the primaries.
	Resources []pulumi.StringInput
}

// Plan is the backup plan with its role and selection.
type Plan struct {
	pulumi.ResourceState

	// PlanID is the plan's id; RoleArn the role AWS Backup runs as.
	PlanID  pulumi.StringOutput `pulumi:"planId"`
	RoleArn pulumi.StringOutput `pulumi:"roleArn"`
}

// Trust lets AWS Backup, acting for this account only, assume the role.
func Trust(accountID string) (string, error) {
	return iamdoc.ServiceTrust("backup.amazonaws.com", []string{"sts:AssumeRole"}, iamdoc.Equals("aws:SourceAccount", accountID))
}

// ManagedPolicies are what AWS Backup needs to back up and restore the
// supported services; AWS keeps them current as services are added.
var ManagedPolicies = []string{
	"arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
	"arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
}

// NewPlan creates the role, the plan and its selection. Pass the master
// region's provider: a plan backs up resources of its own region.
func NewPlan(ctx *pulumi.Context, name string, args *PlanArgs, opts ...pulumi.ResourceOption) (*Plan, error) {
	p := check.New("backup plan")
	if args == nil {
		p.Require("Args", false)
		return nil, p.Err()
	}
	p.Require("Name", args.Name != "")
	p.Require("AccountID", args.AccountID != "")
	p.Require("Vault", args.Vault != nil)
	p.Require("Resources", len(args.Resources) > 0)
	p.Merge("Settings", args.Settings.Check())
	if err := p.Err(); err != nil {
		return nil, err
	}
	trust, err := Trust(args.AccountID)
	if err != nil {
		return nil, err
	}
	pl := &Plan{}
	if err := ctx.RegisterComponentResource("ecommerce:backup:Plan", name, pl, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(pl)
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(trust),
		Description:      pulumi.Sprintf("AWS Backup of %s", args.Name),
	}, parent)
	if err != nil {
		return nil, err
	}
	var attached []pulumi.Resource
	for i, arn := range ManagedPolicies {
		a, err := iam.NewRolePolicyAttachment(ctx, fmt.Sprintf("%s-%d", name, i), &iam.RolePolicyAttachmentArgs{
			Role: role.Name, PolicyArn: pulumi.String(arn),
		}, parent)
		if err != nil {
			return nil, err
		}
		attached = append(attached, a)
	}
	s := args.Settings
	rule := func(ruleName, schedule string, days int) backup.PlanRuleInput {
		r := backup.PlanRuleArgs{
			RuleName:        pulumi.String(ruleName),
			TargetVaultName: args.Vault.Name,
			Schedule:        pulumi.String(schedule),
			// Start within an hour, finish within a day: a snapshot of a
			// large instance takes hours, never a whole day.
			StartWindow:       pulumi.Int(60),
			CompletionWindow:  pulumi.Int(1440),
			Lifecycle:         backup.PlanRuleLifecycleArgs{DeleteAfter: pulumi.Int(days)},
			RecoveryPointTags: pulumi.StringMap{"rule": pulumi.String(ruleName)},
		}
		if args.CopyVaultArn != nil {
			r.CopyActions = backup.PlanRuleCopyActionArray{backup.PlanRuleCopyActionArgs{
				DestinationVaultArn: args.CopyVaultArn,
				Lifecycle:           backup.PlanRuleCopyActionLifecycleArgs{DeleteAfter: pulumi.Int(days)},
			}}
		}
		return r
	}
	plan, err := backup.NewPlan(ctx, name, &backup.PlanArgs{
		Name: pulumi.String(args.Name),
		Rules: backup.PlanRuleArray{
			rule("daily", DailySchedule, s.DailyRetentionDays),
			rule("weekly", WeeklySchedule, s.WeeklyRetentionDays),
		},
		Tags: pulumi.StringMap{"Name": pulumi.String(args.Name)},
	}, parent)
	if err != nil {
		return nil, err
	}
	resources := pulumi.StringArray{}
	for _, r := range args.Resources {
		resources = append(resources, r)
	}
	if _, err := backup.NewSelection(ctx, name, &backup.SelectionArgs{
		Name:       pulumi.String(args.Name + "-databases"),
		PlanId:     plan.ID(),
		IamRoleArn: role.Arn,
		Resources:  resources,
	}, parent, pulumi.DependsOn(attached)); err != nil {
		return nil, err
	}
	pl.PlanID = plan.ID().ToStringOutput()
	pl.RoleArn = role.Arn
	return pl, ctx.RegisterResourceOutputs(pl, pulumi.Map{"planId": pl.PlanID, "roleArn": pl.RoleArn})
}
