package centrallog

import (
	"fmt"
	"slices"

	"github.com/example/ecommerce-platform/components/observe"
)

// What the delivery alarm of a stream watches. Firehose writes a buffer
// every BufferingInterval (300 s) at the latest, so a record normally
// reaches the bucket within 5 minutes; AWS's advice is an alarm when the
// freshness exceeds the buffering limit of 15 minutes.
const (
	// FreshnessThresholdSeconds: the oldest record not yet in the bucket
	// is older than this (three buffer intervals: S3 throttling or a
	// retry of a failed write may hold one buffer back, not three).
	FreshnessThresholdSeconds = 900
	// DeliveryPeriodSeconds and DeliveryEvaluationPeriods: the condition
	// holds in every 5-minute period of 15 minutes, so one retried write
	// does not page, while a key or bucket policy that refuses every
	// write pages within 15 minutes instead of waiting for the freshness
	// to pass the threshold first.
	DeliveryPeriodSeconds     = 300
	DeliveryEvaluationPeriods = 3
)

// DeliveryExpression is the delivery alarm's metric math: 1 when the
// stream is behind (freshness) or a write to S3 failed in the period
// (DeliveryToS3.Success is the ratio of successful puts to attempted
// ones, so its minimum below 1 means a failed put), else 0. Both metrics
// exist only while records flow: a period without them counts as fresh
// and successful (FILL), so a quiet stream is OK, not in alarm.
var DeliveryExpression = fmt.Sprintf("IF(FILL(freshness, 0) > %d OR FILL(success, 1) < 1, 1, 0)", FreshnessThresholdSeconds)

// DeliveryAlarm is the delivery alarm's <what> of a stream; its runbook
// line is "logs-delivery".
func DeliveryAlarm(s Stream) string { return s.Source + "-" + s.Region + "-delivery" }

// AlarmSpecs are the delivery alarms of the streams of a store named
// name, one per stream, named with names (the master region's: the
// streams and their metrics are there, and its alarm topic admits only
// its own region's alarms).
func AlarmSpecs(names observe.Names, name string, streams []Stream) []observe.Spec {
	out := make([]observe.Spec, 0, len(streams))
	for _, s := range streams {
		stream := StreamName(name, s.Source, s.Region)
		what := DeliveryAlarm(s)
		out = append(out, observe.Spec{
			Name: names.Name(observe.SubjectLogs, what), Subject: observe.SubjectLogs, What: what,
			Description: fmt.Sprintf("central logs: %s of %s not reaching the bucket (stream %s more than %d s behind, or failing to write to S3) for %d minutes",
				s.Source, s.Region, stream, FreshnessThresholdSeconds, DeliveryPeriodSeconds*DeliveryEvaluationPeriods/60),
			Namespace:  "AWS/Firehose",
			Dimensions: map[string]string{"DeliveryStreamName": stream},
			Expression: DeliveryExpression,
			Terms: []observe.Term{
				{ID: "freshness", Metric: "DeliveryToS3.DataFreshness", Statistic: "Maximum"},
				{ID: "success", Metric: "DeliveryToS3.Success", Statistic: "Minimum"},
			},
			Period: DeliveryPeriodSeconds, Evaluation: DeliveryEvaluationPeriods, DatapointsToAlarm: DeliveryEvaluationPeriods,
			Threshold: 0, Comparison: observe.Above,
			// Whatever FILL leaves missing (no data at all in the window) is a
			// quiet stream, not a failure: WAF logs stop when no request
			// reaches the edge. Logs that stop before the stream (a filter or
			// destination removed by hand) look the same; the runbook line
			// says how to tell.
			TreatMissing: observe.NotBreaching,
		})
	}
	return out
}

// AlwaysLogging are the sources that never go quiet while their region
// runs: every node's kubelet and container runtime log all the time. Their
// stream receiving nothing is logs stopping before Firehose (a
// subscription filter or destination removed, the Container Insights
// agent down), which the delivery alarm, quiet without records, cannot
// see.
var AlwaysLogging = []string{Dataplane}

// IncomingEvaluationPeriods: 30 minutes of 5-minute periods without a
// record, long enough for a node group's rolling replacement.
const IncomingEvaluationPeriods = 6

// IncomingAlarm is the incoming alarm's <what> of a stream; its runbook
// line is "logs-incoming".
func IncomingAlarm(s Stream) string { return s.Source + "-" + s.Region + "-incoming" }

// IncomingSpec is a stream's alarm on receiving nothing, for the sources
// that always log (false for the others).
func IncomingSpec(names observe.Names, name string, s Stream) (observe.Spec, bool) {
	if !slices.Contains(AlwaysLogging, s.Source) {
		return observe.Spec{}, false
	}
	stream := StreamName(name, s.Source, s.Region)
	what := IncomingAlarm(s)
	return observe.Spec{
		Name: names.Name(observe.SubjectLogs, what), Subject: observe.SubjectLogs, What: what,
		Description: fmt.Sprintf("central logs: no %s record of %s reached stream %s for %d minutes", s.Source, s.Region, stream,
			DeliveryPeriodSeconds*IncomingEvaluationPeriods/60),
		Namespace: "AWS/Firehose", Metric: "IncomingRecords", Statistic: "Sum",
		Dimensions: map[string]string{"DeliveryStreamName": stream},
		Period:     DeliveryPeriodSeconds, Evaluation: IncomingEvaluationPeriods, DatapointsToAlarm: IncomingEvaluationPeriods,
		Threshold: 1, Comparison: observe.Below,
		// Firehose reports no IncomingRecords for a period without
		// records: here that is the silence this alarm is for.
		TreatMissing: observe.Breaching,
	}, true
}
