package observe

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/check"
)

// Dashboard limits PutDashboard enforces at apply time; checked here and
// by the policy pack's enforce-cloudwatch-dashboard-limits over any plan.
const (
	MaxDashboardNameLength = 255
	MaxWidgets             = 500
	MaxMetricsPerWidget    = 500
	MaxMetricsPerDashboard = 2500
	// MaxAlarmsPerWidget is the most alarms one alarm-status widget lists.
	MaxAlarmsPerWidget = 100
	// GridWidth is the dashboard's width in grid units.
	GridWidth = 24
)

// DashboardNamePattern is what PutDashboard accepts as a name. Dashboards
// are per account, not per region: every name carries its region or
// "global".
var DashboardNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

// Widget is one widget of a dashboard body.
type Widget struct {
	Type       string         `json:"type"`
	X          int            `json:"x"`
	Y          int            `json:"y"`
	Width      int            `json:"width"`
	Height     int            `json:"height"`
	Properties map[string]any `json:"properties"`
}

// Body is a dashboard body as PutDashboard takes it.
type Body struct {
	Widgets []Widget `json:"widgets"`
}

// Metrics counts the body's metric lines (expressions included), as the
// per-dashboard quota does.
func (b Body) Metrics() int {
	n := 0
	for _, w := range b.Widgets {
		m, _ := w.Properties["metrics"].([]any)
		n += len(m)
	}
	return n
}

// CheckDashboard returns what PutDashboard would refuse of a name and body.
func CheckDashboard(name string, b Body) []check.Problem {
	p := check.New("")
	if !DashboardNamePattern.MatchString(name) {
		p.Add("dashboard", "name %q: allowed 1 to %d of A-Z, a-z, 0-9, - and _", name, MaxDashboardNameLength)
	}
	if len(b.Widgets) > MaxWidgets {
		p.Add("dashboard", "%s has %d widgets; CloudWatch allows %d", name, len(b.Widgets), MaxWidgets)
	}
	if n := b.Metrics(); n > MaxMetricsPerDashboard {
		p.Add("dashboard", "%s has %d metrics; CloudWatch allows %d", name, n, MaxMetricsPerDashboard)
	}
	for i, w := range b.Widgets {
		if m, _ := w.Properties["metrics"].([]any); len(m) > MaxMetricsPerWidget {
			p.Add("dashboard", "%s widget %d has %d metrics; CloudWatch allows %d", name, i, len(m), MaxMetricsPerWidget)
		}
		if a, _ := w.Properties["alarms"].([]any); len(a) > MaxAlarmsPerWidget {
			p.Add("dashboard", "%s widget %d lists %d alarms; CloudWatch allows %d", name, i, len(a), MaxAlarmsPerWidget)
		}
		if w.Width < 1 || w.X < 0 || w.X+w.Width > GridWidth {
			p.Add("dashboard", "%s widget %d spans columns %d to %d; the grid is %d wide", name, i, w.X, w.X+w.Width, GridWidth)
		}
	}
	return p.List()
}

// Placeholders are the ids a Spec's dimension placeholders stand for
// (CacheNode, LoadBalancer, TargetGroup(svc), CanaryTargetGroup(svc)),
// known only at apply.
func (a *Args) placeholders() pulumi.StringMap {
	m := pulumi.StringMap{}
	if a.CacheGroupID != nil {
		m[CacheNode] = a.CacheGroupID
	}
	if lb := a.LoadBalancer; lb != nil {
		if lb.ArnSuffix != nil {
			m[LoadBalancer] = lb.ArnSuffix
		}
		for svc, tg := range lb.TargetGroups {
			m[TargetGroup(svc)] = tg
		}
		for svc, tg := range lb.CanaryTargetGroups {
			m[CanaryTargetGroup(svc)] = tg
		}
	}
	return m
}

// placeholder returns the placeholder a dimension value starts with
// (CacheNode is followed by the node's suffix; the others stand alone).
func placeholder(v string) (string, bool) {
	switch {
	case strings.HasPrefix(v, CacheNode):
		return CacheNode, true
	case strings.HasPrefix(v, "{"):
		return v, true
	}
	return "", false
}

// resolve is a dimension value with its placeholder replaced by the id.
func resolve(v string, ids map[string]string) string {
	key, ok := placeholder(v)
	if !ok {
		return v
	}
	return ids[key] + strings.TrimPrefix(v, key)
}

// metricLine is a dashboard metric line: namespace, metric, dimension
// pairs in name order, then options.
func metricLine(namespace, metric string, dims map[string]string, ids map[string]string, opts map[string]any) []any {
	line := []any{namespace, metric}
	for _, k := range slices.Sorted(maps.Keys(dims)) {
		line = append(line, k, resolve(dims[k], ids))
	}
	return append(line, opts)
}

var termID = regexp.MustCompile(`\b[a-z][A-Za-z0-9_]*\b`)

// idSafe finds what a metric-math id may not contain (ids are letters,
// digits and underscores): a service named "gift-card" becomes gift_card.
var idSafe = regexp.MustCompile(`[^A-Za-z0-9_]`)

// specLines are the metric lines that draw a Spec: its metric, or its
// expression over hidden terms. suffix keeps ids apart when several
// specs share a widget (metric-math ids are unique per widget).
func specLines(s Spec, ids map[string]string, label, suffix string) []any {
	if s.Expression == "" {
		opts := map[string]any{"stat": s.Statistic, "label": label}
		return []any{metricLine(s.Namespace, s.Metric, s.Dimensions, ids, opts)}
	}
	terms := map[string]bool{}
	for _, t := range s.Terms {
		terms[t.ID] = true
	}
	expr := termID.ReplaceAllStringFunc(s.Expression, func(w string) string {
		if terms[w] {
			return w + suffix
		}
		return w
	})
	lines := []any{[]any{map[string]any{"expression": expr, "label": label, "id": "e" + suffix}}}
	for _, t := range s.Terms {
		lines = append(lines, metricLine(s.Namespace, t.Metric, s.Dimensions, ids, map[string]any{"stat": t.Statistic, "id": t.ID + suffix, "visible": false}))
	}
	return lines
}

// metricWidget draws lines of one region.
func metricWidget(title, region string, period int, lines []any, threshold *float64) map[string]any {
	props := map[string]any{
		"title": title, "region": region, "view": "timeSeries", "stacked": false,
		"period": period, "metrics": lines,
	}
	if threshold != nil {
		props["annotations"] = map[string]any{"horizontal": []any{map[string]any{"label": "alarm", "value": *threshold}}}
	}
	return props
}

// layout places widgets left to right, wrapping at the grid's width.
func layout(b *Body, y *int, width, height int, widgets []Widget) {
	x := 0
	for _, w := range widgets {
		if x+width > GridWidth {
			x, *y = 0, *y+height
		}
		w.X, w.Y, w.Width, w.Height = x, *y, width, height
		b.Widgets = append(b.Widgets, w)
		x += width
	}
	if len(widgets) > 0 {
		*y += height
	}
}

// RegionBody is a region's dashboard: the state of its alarms, then one
// graph per alarm with its threshold drawn, in the alarms' order (by
// subject: a service's database, queue, pods and requests together).
func RegionBody(region, accountID string, specs []Spec, composite string, ids map[string]string) Body {
	var b Body
	y := 0
	var arns []any
	for _, name := range append(specNames(specs), composite) {
		arns = append(arns, fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", region, accountID, name))
	}
	var status []Widget
	for start := 0; start < len(arns); start += MaxAlarmsPerWidget {
		end := min(start+MaxAlarmsPerWidget, len(arns))
		status = append(status, Widget{Type: "alarm", Properties: map[string]any{
			"title": fmt.Sprintf("%s alarms (runbook: docs/operations.md)", region), "alarms": arns[start:end], "sortBy": "stateUpdatedTimestamp",
		}})
	}
	layout(&b, &y, GridWidth, 4, status)
	graphs := make([]Widget, 0, len(specs))
	for _, s := range specs {
		threshold := s.Threshold
		graphs = append(graphs, Widget{Type: "metric", Properties: metricWidget(
			s.Subject+" "+s.What, region, s.Period, specLines(s, ids, s.What, ""), &threshold)})
	}
	layout(&b, &y, 8, 6, graphs)
	return b
}

func specNames(specs []Spec) []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.Name
	}
	return out
}

// RegionView is what the global dashboard draws of one region: its
// alarms' specs and the ids their placeholders stand for.
type RegionView struct {
	Region string
	Specs  []Spec
	IDs    pulumi.StringMapInput
}

// globalRow is one row of the global dashboard: the specs it draws of
// each region (by what they watch) and how.
type globalRow struct {
	title string
	what  string
	// line draws one spec; nil draws the spec itself.
	line func(s Spec, ids map[string]string) []any
}

var globalRows = []globalRow{
	{title: "requests / min", what: "5xx-rate", line: func(s Spec, ids map[string]string) []any {
		return []any{metricLine(s.Namespace, "RequestCount", s.Dimensions, ids, map[string]any{"stat": "Sum", "label": s.Subject})}
	}},
	{title: "5xx %", what: "5xx-rate"},
	{title: "p95 response time (s)", what: "p95-latency"},
	{title: "healthy targets (what Route 53 fails over on)", what: "healthy-targets"},
	{title: "database replica lag (s)", what: "db-replica-lag"},
	{title: "queue depth", what: "queue-oldest-message", line: func(s Spec, ids map[string]string) []any {
		return []any{metricLine(s.Namespace, "ApproximateNumberOfMessagesVisible", s.Dimensions, ids, map[string]any{"stat": "Maximum", "label": s.Subject})}
	}},
}

// GlobalBody is the global dashboard: a row per measure (requests, 5xx
// rate, p95, healthy targets, replica lag, queue depth), a column per region, each graph
// reading its region's metrics from wherever the dashboard is opened.
func GlobalBody(regions []string, specs map[string][]Spec, ids map[string]map[string]string) Body {
	var b Body
	y := 0
	width := max(GridWidth/max(len(regions), 1), 6)
	for _, row := range globalRows {
		var ws []Widget
		for _, region := range regions {
			var lines []any
			for _, s := range specs[region] {
				if s.What != row.what {
					continue
				}
				if row.line != nil {
					lines = append(lines, row.line(s, ids[region])...)
				} else {
					lines = append(lines, specLines(s, ids[region], s.Subject, "_"+idSafe.ReplaceAllString(s.Subject, "_"))...)
				}
			}
			title := region + ": " + row.title
			if len(lines) == 0 {
				// A primary has no replica lag: say so rather than draw
				// an empty graph CloudWatch would refuse.
				ws = append(ws, Widget{Type: "text", Properties: map[string]any{"markdown": "### " + title + "\nnone in this region"}})
				continue
			}
			ws = append(ws, Widget{Type: "metric", Properties: metricWidget(title, region, 60, lines, nil)})
		}
		layout(&b, &y, width, 6, ws)
	}
	return b
}

// GlobalDashboardArgs are the regions the global dashboard shows side by
// side, master first.
type GlobalDashboardArgs struct {
	// Name is the dashboard's name (account-wide, e.g. "<project>-<env>-global").
	Name    string
	Regions []RegionView
}

// GlobalDashboard is the dashboard with every region side by side.
type GlobalDashboard struct {
	pulumi.ResourceState

	// Name is the dashboard's name.
	Name pulumi.StringOutput `pulumi:"name"`
}

// NewGlobalDashboard creates the global dashboard; pass the master
// region's provider (dashboards belong to the account; the master is
// where operators look first).
func NewGlobalDashboard(ctx *pulumi.Context, name string, args *GlobalDashboardArgs, opts ...pulumi.ResourceOption) (*GlobalDashboard, error) {
	p := check.New("global dashboard")
	if args == nil || len(args.Regions) == 0 {
		p.Add("Regions", "at least one region is required")
		return nil, p.Err()
	}
	regions := make([]string, len(args.Regions))
	specs := map[string][]Spec{}
	all := make([]any, 0, len(args.Regions))
	for i, r := range args.Regions {
		regions[i] = r.Region
		specs[r.Region] = r.Specs
		if r.IDs == nil {
			p.Add("Regions["+r.Region+"].IDs", "is required: the graphs name the region's load balancer and cache")
			continue
		}
		all = append(all, r.IDs)
	}
	// The body's shape is known before apply: check it with the ids
	// left as placeholders.
	p.Merge("", CheckDashboard(args.Name, GlobalBody(regions, specs, nil)))
	if err := p.Err(); err != nil {
		return nil, err
	}
	g := &GlobalDashboard{}
	if err := ctx.RegisterComponentResource("ecommerce:observe:GlobalDashboard", name, g, opts...); err != nil {
		return nil, err
	}
	body := pulumi.All(all...).ApplyT(func(vs []any) (string, error) {
		ids := map[string]map[string]string{}
		for i, v := range vs {
			ids[regions[i]] = v.(map[string]string)
		}
		out, err := json.Marshal(GlobalBody(regions, specs, ids))
		return string(out), err
	}).(pulumi.StringOutput)
	d, err := cloudwatch.NewDashboard(ctx, name, &cloudwatch.DashboardArgs{
		DashboardName: pulumi.String(args.Name),
		DashboardBody: body,
	}, pulumi.Parent(g))
	if err != nil {
		return nil, err
	}
	g.Name = d.DashboardName
	return g, ctx.RegisterResourceOutputs(g, pulumi.Map{"name": g.Name})
}
