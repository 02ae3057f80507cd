package observe_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/observe"
	"github.com/example/ecommerce-platform/stacks/plan"
)

// widget is a dashboard widget as the tests read it back.
type widget struct {
	Type       string
	X, Width   int
	Properties struct {
		Title, Region, Markdown string
		Metrics                 [][]any
		Alarms                  []string
		Annotations             struct{ Horizontal []struct{ Value float64 } }
	}
}

func body(t *testing.T, raw string) []widget {
	t.Helper()
	var b struct{ Widgets []widget }
	require.NoError(t, json.Unmarshal([]byte(raw), &b), raw)
	return b.Widgets
}

// The region's dashboard shows every alarm's state and a graph of what
// each alarm watches with its threshold, on the real ids (no placeholder
// left for CloudWatch to find nothing under).
func TestRegionDashboardDrawsEveryAlarm(t *testing.T) {
	var obs *observe.Observability
	inv, err := plan.RunComponent("eu-west-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		var err error
		obs, err = observe.New(ctx, "obs", validArgs(), opts...)
		return err
	})
	require.NoError(t, err)
	d := inv.Find("aws:cloudwatch/dashboard:Dashboard", "obs-dashboard")
	require.NotNil(t, d)
	assert.Equal(t, "ecommerce-prod-eu-west-1", d.String("dashboardName"))
	raw := d.String("dashboardBody")
	assert.NotContains(t, raw, "{cacheGroup}")
	assert.NotContains(t, raw, "{loadBalancer}")
	assert.NotContains(t, raw, "{targetGroup:")
	ws := body(t, raw)

	var listed []string
	graphs := map[string]widget{}
	for _, w := range ws {
		switch w.Type {
		case "alarm":
			listed = append(listed, w.Properties.Alarms...)
		case "metric":
			graphs[w.Properties.Title] = w
			assert.Equal(t, "eu-west-1", w.Properties.Region)
		}
		assert.LessOrEqual(t, w.X+w.Width, observe.GridWidth)
	}
	assert.Len(t, listed, len(obs.Specs)+1, "every alarm and the composite")
	assert.Contains(t, listed, "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:prod-eu-west-1-region-unhealthy")
	require.Len(t, graphs, len(obs.Specs))
	for _, s := range obs.Specs {
		g, ok := graphs[s.Subject+" "+s.What]
		require.True(t, ok, s.Name)
		require.Len(t, g.Properties.Annotations.Horizontal, 1, s.Name)
		assert.InDelta(t, s.Threshold, g.Properties.Annotations.Horizontal[0].Value, 1e-6, "%s draws its threshold", s.Name)
	}
	cpu := graphs["cache 002-cpu"].Properties.Metrics[0]
	assert.Equal(t, []any{"AWS/ElastiCache", "EngineCPUUtilization", "CacheClusterId", "ecommerce-prod-eu-west-1-cache-abc-002"}, cpu[:4])
	rate := graphs["order 5xx-rate"].Properties.Metrics
	require.Len(t, rate, 3, "the expression and its two hidden terms")
	assert.Contains(t, rate[0][0].(map[string]any)["expression"], "100 * FILL(errors, 0) / requests")
	assert.Equal(t, []any{"AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", "app/ecommerce-prod-eu-west-1/0123456789abcdef",
		"TargetGroup", "targetgroup/ecommerce-prod-eu-west-1-order/fedcba9876543210"}, rate[1][:6])
	assert.Equal(t, false, rate[1][6].(map[string]any)["visible"])
}

// The global dashboard puts every region side by side: a row per measure,
// a column per region, each graph reading its own region; a region
// without a measure (the master has no replica lag) says so.
func TestGlobalDashboardPutsRegionsSideBySide(t *testing.T) {
	regions := []string{"us-east-1", "eu-west-1", "ap-south-1"}
	inv, err := plan.RunComponent("us-east-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		var views []observe.RegionView
		for i, r := range regions {
			in := inputs()
			in.Names.Region = r
			for svc, db := range in.Databases {
				db.Replica = i > 0
				in.Databases[svc] = db
			}
			views = append(views, observe.RegionView{Region: r, Specs: observe.Specs(in, observe.DefaultSettings()), IDs: pulumi.StringMap{
				observe.LoadBalancer:         pulumi.String("app/lb-" + r + "/1"),
				observe.TargetGroup("order"): pulumi.String("targetgroup/order-" + r + "/2"),
				observe.CacheNode:            pulumi.String("cache-" + r),
			}})
		}
		_, err := observe.NewGlobalDashboard(ctx, "global", &observe.GlobalDashboardArgs{Name: "ecommerce-prod-global", Regions: views}, opts...)
		return err
	})
	require.NoError(t, err)
	d := inv.Find("aws:cloudwatch/dashboard:Dashboard", "global")
	require.NotNil(t, d)
	assert.Equal(t, "ecommerce-prod-global", d.String("dashboardName"))
	ws := body(t, d.String("dashboardBody"))
	require.Len(t, ws, 6*len(regions), "requests, 5xx, p95, healthy targets, replica lag, queue depth for each region")
	for row := 0; row < 6; row++ {
		for col, r := range regions {
			w := ws[row*len(regions)+col]
			assert.Equal(t, col*8, w.X, "%s is column %d", r, col)
			if w.Type == "text" {
				assert.Equal(t, 4, row, "only replica lag can be absent")
				assert.Equal(t, "us-east-1", r, "the master has no replica")
				continue
			}
			assert.Equal(t, r, w.Properties.Region)
			assert.True(t, strings.HasPrefix(w.Properties.Title, r+": "), w.Properties.Title)
			for _, m := range w.Properties.Metrics {
				line := fmt.Sprint(m)
				assert.NotContains(t, line, "{", "placeholders resolved: %s", line)
				if strings.Contains(line, "LoadBalancer") {
					assert.Contains(t, line, "app/lb-"+r+"/1", "reads %s's load balancer", r)
				}
			}
		}
	}
	rate := ws[1*len(regions)+1].Properties.Metrics
	require.Len(t, rate, 3)
	assert.Equal(t, "e_order", rate[0][0].(map[string]any)["id"], "ids kept apart per service")
	assert.Contains(t, rate[0][0].(map[string]any)["expression"], "FILL(errors_order, 0) / requests_order")
}

func TestCheckDashboardRefusesWhatPutDashboardWould(t *testing.T) {
	assert.Empty(t, observe.CheckDashboard("ecommerce-prod-global", observe.Body{}))
	many := observe.Body{}
	for range observe.MaxWidgets + 1 {
		many.Widgets = append(many.Widgets, observe.Widget{Type: "text", Width: 6, Properties: map[string]any{}})
	}
	alarms := make([]any, observe.MaxAlarmsPerWidget+1)
	wide := observe.Body{Widgets: []observe.Widget{
		{Type: "text", X: 20, Width: 8},
		{Type: "alarm", Width: 24, Properties: map[string]any{"alarms": alarms}},
	}}
	var msgs []string
	for _, b := range []struct {
		name string
		body observe.Body
	}{{"ecommerce.prod", observe.Body{}}, {"d", many}, {"d", wide}} {
		for _, p := range observe.CheckDashboard(b.name, b.body) {
			msgs = append(msgs, p.Msg)
		}
	}
	require.Len(t, msgs, 4)
	assert.Contains(t, msgs[0], `"ecommerce.prod"`)
	assert.Contains(t, msgs[1], "501 widgets")
	assert.Contains(t, msgs[2], "columns 20 to 28")
	assert.Contains(t, msgs[3], "101 alarms")
}
