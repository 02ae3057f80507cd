// Package logs creates the platform's CloudWatch log groups: always
// encrypted with the region's key and always with a retention. Each group
// is created before the AWS service that writes to it, so the service never
// makes its own unencrypted, never-expiring one.
package logs

import (
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/check"
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
