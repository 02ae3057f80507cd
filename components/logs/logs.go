// Package logs creates the platform's CloudWatch log groups: always
// encrypted with the region's key and always with a retention. Each group
// is created before the AWS service that writes to it, so the service never
// makes its own unencrypted, never-expiring one.
package logs

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/check"
	"github.com/example/ecommerce-platform/components/iamdoc"
)

// RetentionDays are the retention periods CloudWatch Logs accepts; any
// other value is refused at apply time.
var RetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// ValidRetention reports whether CloudWatch Logs accepts days.
func ValidRetention(days int) bool { return slices.Contains(RetentionDays, days) }

// GroupArgs describes one log group.
type GroupArgs struct {
	// Name is the group name; AWS services expect their own patterns
	// (/aws/eks/<cluster>/cluster, /aws/rds/instance/<id>/postgresql, ...).
	Name pulumi.StringInput
	// RetentionDays is one of RetentionDays.
	RetentionDays int
	// KmsKeyArn encrypts the group; the key policy must admit CloudWatch
	// Logs of this region.
	KmsKeyArn pulumi.StringInput
	Tags      pulumi.StringMapInput
}

// NewGroup creates the encrypted, retained log group.
func NewGroup(ctx *pulumi.Context, name string, args *GroupArgs, opts ...pulumi.ResourceOption) (*cloudwatch.LogGroup, error) {
	p := check.New("logs")
	if args == nil {
		p.Require("GroupArgs", false)
		return nil, p.Err()
	}
	p.Require("Name", args.Name != nil)
	p.Require("KmsKeyArn", args.KmsKeyArn != nil)
	if !ValidRetention(args.RetentionDays) {
		p.Add("RetentionDays", "%d is not a CloudWatch Logs retention; allowed: %v", args.RetentionDays, RetentionDays)
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return cloudwatch.NewLogGroup(ctx, name, &cloudwatch.LogGroupArgs{
		Name:            args.Name,
		RetentionInDays: pulumi.Int(args.RetentionDays),
		KmsKeyId:        args.KmsKeyArn,
		Tags:            args.Tags,
	}, opts...)
}

// DeliveryPolicyArgs describes the resource policy that lets AWS services
// deliver "vended" logs (ElastiCache slow logs, WAF logs, ...) into log
// groups of this account.
type DeliveryPolicyArgs struct {
	// PolicyName is unique per account and region.
	PolicyName string
	// Region and AccountID scope the source of the deliveries.
	Region, AccountID string
	// LogGroupArns are the groups deliveries may write to.
	LogGroupArns []pulumi.StringInput
}

// DeliveryPolicy is the policy document: delivery.logs.amazonaws.com may
// create streams and put events in exactly these groups, only for this
// account's resources in this region.
func DeliveryPolicy(region, accountID string, groupArns []string) (string, error) {
	streams := make([]string, len(groupArns))
	for i, g := range groupArns {
		streams[i] = g + ":log-stream:*"
	}
	return iamdoc.Document(iamdoc.Statement{
		Sid:       "VendedLogDelivery",
		Effect:    iamdoc.Allow,
		Principal: iamdoc.Principal{Service: "delivery.logs.amazonaws.com"},
		Action:    []string{"logs:CreateLogStream", "logs:PutLogEvents"},
		Resource:  streams,
		Condition: map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": accountID},
			"ArnLike":      map[string]any{"aws:SourceArn": fmt.Sprintf("arn:aws:logs:%s:%s:*", region, accountID)},
		},
	})
}

// NewDeliveryPolicy creates the resource policy. CloudWatch Logs creates
// one on its own only when the deployer may call logs:PutResourcePolicy,
// and then a broad one; an account holds at most 10 per region, so the
// platform makes one per delivering component and region, scoped to its
// groups. Deliveries configured before it exists fail: make them depend
// on it.
func NewDeliveryPolicy(ctx *pulumi.Context, name string, args *DeliveryPolicyArgs, opts ...pulumi.ResourceOption) (*cloudwatch.LogResourcePolicy, error) {
	p := check.New("logs delivery policy")
	if args == nil {
		p.Require("DeliveryPolicyArgs", false)
		return nil, p.Err()
	}
	p.Require("PolicyName", args.PolicyName != "")
	p.Require("Region", args.Region != "")
	p.Require("AccountID", args.AccountID != "")
	p.Require("LogGroupArns", len(args.LogGroupArns) > 0)
	if err := p.Err(); err != nil {
		return nil, err
	}
	arns := make([]any, len(args.LogGroupArns))
	for i, a := range args.LogGroupArns {
		arns[i] = a
	}
	doc := pulumi.All(arns...).ApplyT(func(v []any) (string, error) {
		groups := make([]string, len(v))
		for i, g := range v {
			groups[i] = g.(string)
		}
		return DeliveryPolicy(args.Region, args.AccountID, groups)
	}).(pulumi.StringOutput)
	return cloudwatch.NewLogResourcePolicy(ctx, name, &cloudwatch.LogResourcePolicyArgs{
		PolicyName:     pulumi.String(args.PolicyName),
		PolicyDocument: doc,
	}, opts...)
}
