// Package keys creates the customer-managed KMS keys of one region, one per
// class of data, so a key's policy admits only the AWS services that class
// needs and a grant on one class reveals nothing of the others:
//
//   - data: databases (storage, Performance Insights, backup copies), the
//     cache, the runtime secrets;
//   - messaging: queues and topics (the event topics and the alarm
//     topic); SNS may use it, only for this stack's topics, and CloudWatch,
//     only for this stack's alarms in this region, which publish to the
//     encrypted alarm topic;
//   - logs: every CloudWatch log group and the metrics workspace;
//     CloudWatch Logs may use it, only for this account's groups in this
//     region, and Amazon Managed Service for Prometheus, only for callers
//     of this account through the service in this region;
//   - cluster: Kubernetes secrets, node volumes and container images; EBS
//     and ECR may use it through EC2 and ECR, for callers of this account
//     only.
//
// Every key rotates yearly and keeps the account's root as administrator,
// so IAM policies decide who uses it and nobody is ever locked out.
package keys

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/check"
	"github.com/example/ecommerce-platform/components/iamdoc"
)

// Classes of data, one key each.
const (
	Data      = "data"
	Messaging = "messaging"
	Logs      = "logs"
	Cluster   = "cluster"
)

// Classes lists them in creation order.
var Classes = []string{Data, Messaging, Logs, Cluster}

// Args configures the keys of one region.
type Args struct {
	// AccountID owns the keys; its root principal administers them.
	AccountID string
	// Region is where the keys live.
	Region string
	// Alias prefixes the key aliases ("alias/<Alias>-<class>").
	Alias string
	// TopicPrefix is the name prefix of the stack's SNS topics (e.g.
	// "ecommerce-prod"): SNS may use the messaging key only on their
	// behalf, to deliver to this region's encrypted queues.
	TopicPrefix string
	// AlarmPrefix is the name prefix of this region's CloudWatch alarms
	// (e.g. "prod-us-east-1-"): CloudWatch may use the messaging key only
	// on their behalf, to publish to the encrypted alarm topic.
	AlarmPrefix string
}

// Key is one customer-managed key.
type Key struct {
	// Arn is the key ARN, for encryption settings that take an ARN.
	Arn pulumi.StringOutput
	// KeyID is the key id.
	KeyID pulumi.StringOutput
}

// Keys are the region's keys, one per class.
type Keys struct {
	pulumi.ResourceState

	// Data, Messaging, Logs and Cluster are the keys of each class.
	Data, Messaging, Logs, Cluster *Key
	// Arns are the key ARNs by class.
	Arns pulumi.StringMapOutput `pulumi:"arns"`
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
	p.Require("TopicPrefix", a.TopicPrefix != "")
	p.Require("AlarmPrefix", a.AlarmPrefix != "")
	return p.Err()
}

// Policy returns the key policy of one class. No statement names a
// principal that may not exist yet (KMS refuses a policy with an unknown
// principal): services are admitted by service principal or through
// kms:ViaService and kms:CallerAccount, never by a service-linked role that
// appears only after the account first uses the service.
//
// The scope comes from Args: AccountID, Region, TopicPrefix and
// AlarmPrefix (the region's alarms publish to an alarm topic encrypted
// with the messaging key; "" where no alarm does).
func (a *Args) Policy(class string) (string, error) {
	accountID, region, topicPrefix, alarmPrefix := a.AccountID, a.Region, a.TopicPrefix, a.AlarmPrefix
	statements := []iamdoc.Statement{{
		Sid:       "AccountAdministers",
		Effect:    iamdoc.Allow,
		Principal: iamdoc.Principal{AWS: fmt.Sprintf("arn:aws:iam::%s:root", accountID)},
		Action:    "kms:*",
		Resource:  "*",
	}}
	switch class {
	case Data:
		// RDS, ElastiCache, Secrets Manager and AWS Backup use the key with
		// the identity that configures them (through grants): IAM decides.
	case Messaging:
		statements = append(statements, iamdoc.Statement{
			Sid:       "SNSDeliversToEncryptedQueues",
			Effect:    iamdoc.Allow,
			Principal: iamdoc.Principal{Service: "sns.amazonaws.com"},
			Action:    []string{"kms:GenerateDataKey*", "kms:Decrypt"},
			Resource:  "*",
			Condition: map[string]any{
				"StringEquals": map[string]any{"aws:SourceAccount": accountID},
				"ArnLike":      map[string]any{"aws:SourceArn": fmt.Sprintf("arn:aws:sns:*:%s:%s-*", accountID, topicPrefix)},
			},
		}, iamdoc.Statement{
			// An alarm publishing to a KMS-encrypted topic needs the key;
			// without this statement the notification is dropped silently.
			Sid:       "CloudWatchAlarmsPublishToEncryptedTopic",
			Effect:    iamdoc.Allow,
			Principal: iamdoc.Principal{Service: "cloudwatch.amazonaws.com"},
			Action:    []string{"kms:GenerateDataKey*", "kms:Decrypt"},
			Resource:  "*",
			Condition: map[string]any{
				"StringEquals": map[string]any{"aws:SourceAccount": accountID},
				"ArnLike":      map[string]any{"aws:SourceArn": fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s*", region, accountID, alarmPrefix)},
			},
		})
	case Logs:
		statements = append(statements, iamdoc.Statement{
			Sid:       "CloudWatchLogsEncrypts",
			Effect:    iamdoc.Allow,
			Principal: iamdoc.Principal{Service: fmt.Sprintf("logs.%s.amazonaws.com", region)},
			Action:    []string{"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"},
			Resource:  "*",
			Condition: map[string]any{"ArnLike": map[string]any{
				"kms:EncryptionContext:aws:logs:arn": fmt.Sprintf("arn:aws:logs:%s:%s:*", region, accountID),
			}},
		}, prometheusStatement(accountID, region))
	case Cluster:
		// Image repositories are encrypted with the cluster key; ECR
		// decrypts for pulls and writes replicated images through it.
		statements = append(statements, iamdoc.Statement{
			Sid:       "ECREncryptsImages",
			Effect:    iamdoc.Allow,
			Principal: iamdoc.Principal{AWS: "*"},
			Action:    []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:RetireGrant", "kms:DescribeKey"},
			Resource:  "*",
			Condition: map[string]any{"StringEquals": map[string]any{"kms:CallerAccount": accountID, "kms:ViaService": fmt.Sprintf("ecr.%s.amazonaws.com", region)}},
		})
		// Managed node groups launch through the Auto Scaling
		// service-linked role, which exists only after the account's first
		// Auto Scaling group; admitting whoever calls through EC2 in this
		// account covers it without naming it.
		via := map[string]any{"kms:CallerAccount": accountID, "kms:ViaService": fmt.Sprintf("ec2.%s.amazonaws.com", region)}
		statements = append(statements,
			iamdoc.Statement{
				Sid:       "EBSEncryptsNodeVolumes",
				Effect:    iamdoc.Allow,
				Principal: iamdoc.Principal{AWS: "*"},
				Action:    []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"},
				Resource:  "*",
				Condition: map[string]any{"StringEquals": via},
			},
			iamdoc.Statement{
				Sid:       "EBSGrantsForAttachedVolumes",
				Effect:    iamdoc.Allow,
				Principal: iamdoc.Principal{AWS: "*"},
				Action:    "kms:CreateGrant",
				Resource:  "*",
				Condition: map[string]any{
					"StringEquals": via,
					"Bool":         map[string]any{"kms:GrantIsForAWSResource": "true"},
				},
			})
	default:
		return "", fmt.Errorf("keys: unknown class %q; allowed: %v", class, Classes)
	}
	return iamdoc.Document(statements...)
}

// prometheusStatement admits Amazon Managed Service for Prometheus to the
// logs key, which encrypts the region's metrics workspace too (operational
// telemetry, like the logs): callers of this account, only through the
// service in this region, which keeps grants for the workspace's life.
func prometheusStatement(accountID, region string) iamdoc.Statement {
	return iamdoc.Statement{
		Sid:       "PrometheusEncryptsWorkspaces",
		Effect:    iamdoc.Allow,
		Principal: iamdoc.Principal{AWS: "*"},
		Action:    []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"},
		Resource:  "*",
		Condition: map[string]any{"StringEquals": map[string]any{"kms:CallerAccount": accountID, "kms:ViaService": fmt.Sprintf("aps.%s.amazonaws.com", region)}},
	}
}

// New creates one key and alias per class.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Keys, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	policies := map[string]string{}
	for _, class := range Classes {
		doc, err := args.Policy(class)
		if err != nil {
			return nil, err
		}
		policies[class] = doc
	}
	k := &Keys{}
	// Before keys were split by class, one key per region was the
	// component "RegionalKey" and its key was named after the region; the
	// aliases keep that key as the data key, whose databases and caches
	// could not change keys without being replaced.
	opts = append(opts, pulumi.Aliases([]pulumi.Alias{{Type: pulumi.String("ecommerce:keys:RegionalKey")}}))
	if err := ctx.RegisterComponentResource("ecommerce:keys:RegionalKeys", name, k, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(k)
	arns := pulumi.StringMap{}
	made := map[string]*Key{}
	for _, class := range Classes {
		keyOpts := []pulumi.ResourceOption{parent}
		if class == Data {
			// The old URN: this component's, under its old type, then the
			// key under the region's name.
			old := k.URN().ApplyT(func(u pulumi.URN) pulumi.URN {
				parentChain := strings.Replace(string(u), "ecommerce:keys:RegionalKeys::", "ecommerce:keys:RegionalKey::", 1)
				stem, _, _ := strings.Cut(parentChain, "::"+name)
				return pulumi.URN(stem + "$aws:kms/key:Key::" + name)
			}).(pulumi.URNOutput)
			keyOpts = append(keyOpts, pulumi.Aliases([]pulumi.Alias{{URN: old}}))
		}
		key, err := kms.NewKey(ctx, name+"-"+class, &kms.KeyArgs{
			Description:          pulumi.Sprintf("Platform %s key for %s", class, args.Region),
			EnableKeyRotation:    pulumi.Bool(true),
			DeletionWindowInDays: pulumi.Int(30),
			Policy:               pulumi.String(policies[class]),
			Tags:                 pulumi.StringMap{"Name": pulumi.Sprintf("%s-%s", args.Alias, class), "class": pulumi.String(class)},
		}, keyOpts...)
		if err != nil {
			return nil, err
		}
		if _, err := kms.NewAlias(ctx, name+"-"+class, &kms.AliasArgs{
			Name:        pulumi.Sprintf("alias/%s-%s", args.Alias, class),
			TargetKeyId: key.KeyId,
		}, parent); err != nil {
			return nil, err
		}
		made[class] = &Key{Arn: key.Arn, KeyID: key.KeyId}
		arns[class] = key.Arn
	}
	k.Data, k.Messaging, k.Logs, k.Cluster = made[Data], made[Messaging], made[Logs], made[Cluster]
	k.Arns = arns.ToStringMapOutput()
	return k, ctx.RegisterResourceOutputs(k, pulumi.Map{"arns": k.Arns})
}
