package observe_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/example/ecommerce-platform/components/observe"
)

// The central logs' alarms are one per stream; they share one runbook
// line per kind, whatever the source and region.
func TestLogsAlarmsShareTheirKindsRunbookLine(t *testing.T) {
	for _, what := range []string{"containers-eu-west-1-delivery", "waf-us-east-1-delivery"} {
		assert.Equal(t, "logs-delivery", observe.Spec{Subject: observe.SubjectLogs, What: what}.Runbook(), what)
	}
	assert.Equal(t, "db-cpu", observe.Spec{Subject: "order", What: "db-cpu"}.Runbook())
}
