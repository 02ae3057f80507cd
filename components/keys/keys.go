// Package keys creates the regional KMS key that encrypts the platform's data
// at rest in one region: logs, Kubernetes secrets, node volumes, databases,
// caches, queues, topics and secrets.
package keys

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/check"
	"github.com/example/ecommerce-platform/components/iamdoc"
)

// Args configures the regional key.
type Args struct {
	// AccountID owns the key; its root principal administers it through IAM.
	AccountID string
	// Region is where the key lives; services of that region may use it.
	Region string
	// Alias is the key alias without the "alias/" prefix.
	Alias string
}

// Key is a customer-managed, rotating KMS key for one region.
type Key struct {
	pulumi.ResourceState

	// Arn is the key ARN, for encryption settings that take an ARN.
	Arn pulumi.StringOutput `pulumi:"arn"`
	// KeyID is the key id.
	KeyID pulumi.StringOutput `pulumi:"keyId"`
}

func (a *Args) check() error {
	p := check.New("keys")
	if a == nil {
		p.Require("Args", false)
		return p.Err()
	}
	p.Require("AccountID", a.AccountID != "")
	p.Require("Region", a.Region != "")
	p.Require("Alias", a.Alias != "")
	return p.Err()
}

// Policy returns the key policy. The account root keeps administration (so
// IAM policies decide who uses the key and nobody is locked out); AWS
// services that encrypt on their own behalf, without an IAM identity of
// ours, are named explicitly: CloudWatch Logs for this account's log groups,
// the Auto Scaling service-linked role for EBS volumes of node groups, and
// SNS for delivering to encrypted queues.
func Policy(accountID, region string) (string, error) {
	root := fmt.Sprintf("arn:aws:iam::%s:root", accountID)
	return iamdoc.Document(
		iamdoc.Statement{
			Sid:       "AccountAdministers",
			Effect:    iamdoc.Allow,
			Principal: iamdoc.Principal{AWS: root},
			Action:    "kms:*",
			Resource:  "*",
		},
		iamdoc.Statement{
			Sid:       "CloudWatchLogsEncrypts",
			Effect:    iamdoc.Allow,
			Principal: iamdoc.Principal{Service: fmt.Sprintf("logs.%s.amazonaws.com", region)},
			Action:    []string{"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"},
			Resource:  "*",
			Condition: map[string]any{"ArnLike": map[string]any{
				"kms:EncryptionContext:aws:logs:arn": fmt.Sprintf("arn:aws:logs:%s:%s:*", region, accountID),
			}},
		},
		iamdoc.Statement{
			Sid:    "AutoScalingEncryptsNodeVolumes",
			Effect: iamdoc.Allow,
			Principal: iamdoc.Principal{AWS: fmt.Sprintf(
				"arn:aws:iam::%s:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling", accountID)},
			Action:   []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:CreateGrant"},
			Resource: "*",
		},
		iamdoc.Statement{
			Sid:       "SNSDeliversToEncryptedQueues",
			Effect:    iamdoc.Allow,
			Principal: iamdoc.Principal{Service: "sns.amazonaws.com"},
			Action:    []string{"kms:GenerateDataKey*", "kms:Decrypt"},
			Resource:  "*",
			Condition: iamdoc.Equals("aws:SourceAccount", accountID),
		},
	)
}

// New creates the key and its alias.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Key, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	policy, err := Policy(args.AccountID, args.Region)
	if err != nil {
		return nil, err
	}
	k := &Key{}
	if err := ctx.RegisterComponentResource("ecommerce:keys:RegionalKey", name, k, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(k)
	key, err := kms.NewKey(ctx, name, &kms.KeyArgs{
		Description:          pulumi.Sprintf("Platform data key for %s", args.Region),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(30),
		Policy:               pulumi.String(policy),
		Tags:                 pulumi.StringMap{"Name": pulumi.String(args.Alias)},
	}, parent)
	if err != nil {
		return nil, err
	}
	if _, err := kms.NewAlias(ctx, name, &kms.AliasArgs{
		Name:        pulumi.String("alias/" + args.Alias),
		TargetKeyId: key.KeyId,
	}, parent); err != nil {
		return nil, err
	}
	k.Arn = key.Arn
	k.KeyID = key.KeyId
	return k, ctx.RegisterResourceOutputs(k, pulumi.Map{"arn": key.Arn, "keyId": key.KeyId})
}
