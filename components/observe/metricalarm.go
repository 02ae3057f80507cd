package observe

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// NewMetricAlarm creates the metric alarm a Spec decides, notifying
// topicArn on ALARM and on OK, so an alarm of another component (the
// central logs') follows the same contract as the region's: its name,
// its runbook line in the description and its "subject" tag. dims are the
// Spec's dimensions resolved to values.
func NewMetricAlarm(ctx *pulumi.Context, name string, s Spec, dims pulumi.StringMap, topicArn pulumi.StringInput, opts ...pulumi.ResourceOption) (*cloudwatch.MetricAlarm, error) {
	args := &cloudwatch.MetricAlarmArgs{
		Name:               pulumi.String(s.Name),
		AlarmDescription:   pulumi.String(s.Description + " (runbook: docs/operations.md#" + s.Runbook() + ")"),
		EvaluationPeriods:  pulumi.Int(s.Evaluation),
		DatapointsToAlarm:  pulumi.Int(s.DatapointsToAlarm),
		Threshold:          pulumi.Float64(s.Threshold),
		ComparisonOperator: pulumi.String(s.Comparison),
		TreatMissingData:   pulumi.String(s.TreatMissing),
		AlarmActions:       pulumi.Array{topicArn},
		OkActions:          pulumi.Array{topicArn},
		Tags:               pulumi.StringMap{"subject": pulumi.String(s.Subject)},
	}
	switch {
	case s.Expression != "":
		queries := cloudwatch.MetricAlarmMetricQueryArray{cloudwatch.MetricAlarmMetricQueryArgs{
			Id: pulumi.String("e"), Expression: pulumi.String(s.Expression), ReturnData: pulumi.Bool(true),
			Label: pulumi.String(s.What),
		}}
		for _, t := range s.Terms {
			queries = append(queries, cloudwatch.MetricAlarmMetricQueryArgs{
				Id: pulumi.String(t.ID),
				Metric: cloudwatch.MetricAlarmMetricQueryMetricArgs{
					Namespace: pulumi.String(s.Namespace), MetricName: pulumi.String(t.Metric),
					Stat: pulumi.String(t.Statistic), Period: pulumi.Int(s.Period), Dimensions: dims,
				},
			})
		}
		args.MetricQueries = queries
	case IsPercentile(s.Statistic):
		args.Namespace, args.MetricName = pulumi.String(s.Namespace), pulumi.String(s.Metric)
		args.ExtendedStatistic, args.Period, args.Dimensions = pulumi.String(s.Statistic), pulumi.Int(s.Period), dims
	default:
		args.Namespace, args.MetricName = pulumi.String(s.Namespace), pulumi.String(s.Metric)
		args.Statistic, args.Period, args.Dimensions = pulumi.String(s.Statistic), pulumi.Int(s.Period), dims
	}
	return cloudwatch.NewMetricAlarm(ctx, name, args, opts...)
}
