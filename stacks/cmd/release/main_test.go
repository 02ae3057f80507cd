package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/example/ecommerce-platform/stacks/stackedit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNextCanaryStep(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	quiet := func(regions ...string) map[string][]Alarm {
		m := map[string][]Alarm{}
		for _, r := range regions {
			m[r] = []Alarm{{AlarmName: "prod-" + r + "-order-5xx-rate", StateValue: "OK"}, {AlarmName: "prod-" + r + "-order-latency-p99", StateValue: "INSUFFICIENT_DATA"}}
		}
		return m
	}
	two := []string{"us-east-1", "eu-west-1"}
	cases := []struct {
		name   string
		canary *stackedit.Canary
		alarms map[string][]Alarm
		baked  time.Duration
		want   Decision
	}{
		{"no canary", nil, quiet(two...), time.Hour, Decision{Action: ActionNone, Reason: "no canary"}},
		{"held at 0 stays held", &stackedit.Canary{Image: "1.5", Weight: 0}, quiet(two...), time.Hour,
			Decision{Action: ActionNone, Reason: "the canary is held at weight 0 (rolled back or paused): start it again or remove it"}},
		{"too early", &stackedit.Canary{Image: "1.5", Weight: 5}, quiet(two...), 5 * time.Minute,
			Decision{Action: ActionHold, Weight: 5, Reason: "weight 5 for 5m0s of 20m0s; alarms quiet"}},
		{"baked: next step", &stackedit.Canary{Image: "1.5", Weight: 5}, quiet(two...), 20 * time.Minute,
			Decision{Action: ActionStep, Weight: 25, Reason: "weight 5 quiet for 20m0s: step to 25"}},
		{"a hand-set weight climbs to the next step above it", &stackedit.Canary{Image: "1.5", Weight: 10}, quiet(two...), time.Hour,
			Decision{Action: ActionStep, Weight: 25, Reason: "weight 10 quiet for 20m0s: step to 25"}},
		{"last step baked: promote", &stackedit.Canary{Image: "1.5", Weight: 50}, quiet(two...), time.Hour,
			Decision{Action: ActionPromote, Weight: 0, Reason: "weight 50 quiet for 20m0s: promote 1.5"}},
		{"an alarm in one region rolls back at once, even before the bake", &stackedit.Canary{Image: "1.5", Weight: 25},
			func() map[string][]Alarm {
				m := quiet(two...)
				m["eu-west-1"][0].StateValue = "ALARM"
				return m
			}(), time.Minute,
			Decision{Action: ActionRollback, Weight: 0, Reason: "in ALARM: prod-eu-west-1-order-5xx-rate (eu-west-1)"}},
		{"another service's alarm is not this canary's", &stackedit.Canary{Image: "1.5", Weight: 25},
			func() map[string][]Alarm {
				m := quiet(two...)
				m["us-east-1"] = append(m["us-east-1"], Alarm{AlarmName: "prod-us-east-1-product-5xx-rate", StateValue: "ALARM"})
				return m
			}(), time.Hour,
			Decision{Action: ActionStep, Weight: 50, Reason: "weight 25 quiet for 20m0s: step to 50"}},
		{"a region not read holds", &stackedit.Canary{Image: "1.5", Weight: 25}, quiet("us-east-1"), time.Hour,
			Decision{Action: ActionHold, Weight: 25, Reason: "alarms not read for eu-west-1"}},
		{"no alarms at all: not promoted blind", &stackedit.Canary{Image: "1.5", Weight: 50},
			map[string][]Alarm{"us-east-1": {}, "eu-west-1": quiet("eu-west-1")["eu-west-1"]}, time.Hour,
			Decision{Action: ActionHold, Weight: 50, Reason: "no alarm named prod-us-east-1-order-*: the canary cannot be judged, so it is not promoted"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := NextCanaryStep(CanaryInput{
				Stack: "prod", Service: "order", Canary: c.canary, Regions: two, Alarms: c.alarms,
				Since: t0, Now: t0.Add(c.baked), Bake: 20 * time.Minute, Steps: DefaultSteps,
			})
			assert.Equal(t, c.want, got)
		})
	}
}

func TestParseSteps(t *testing.T) {
	s, err := ParseSteps("5, 25,50")
	require.NoError(t, err)
	assert.Equal(t, []int{5, 25, 50}, s)
	for in, want := range map[string]string{"5,x": "not a number", "0,5": "each step is 1 to 50", "5,60": "each step is 1 to 50", "25,5": "must increase"} {
		_, err := ParseSteps(in)
		assert.ErrorContains(t, err, want, in)
	}
}

func TestParseAlarms(t *testing.T) {
	a, err := ParseAlarms([]byte(`{"MetricAlarms": [{"AlarmName": "prod-us-east-1-order-5xx", "StateValue": "ALARM", "Namespace": "x"}],
		"CompositeAlarms": [{"AlarmName": "prod-us-east-1-order-health", "StateValue": "OK"}]}`))
	require.NoError(t, err)
	assert.Equal(t, []Alarm{{"prod-us-east-1-order-5xx", "ALARM"}, {"prod-us-east-1-order-health", "OK"}}, a)
	_, err = ParseAlarms([]byte(`not json`))
	assert.Error(t, err)
}

// project copies Pulumi.yaml and the shipped staging stack file into a
// temporary project.
func project(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "stacks"), 0o750))
	for _, f := range []string{"Pulumi.yaml", "stacks/Pulumi.staging.yaml"} {
		b, err := os.ReadFile(filepath.Join("../../..", f)) //nolint:gosec // the repository's own files
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o600))
	}
	return dir
}

func TestCommandWalksACanaryThroughTheStackFile(t *testing.T) {
	dir := project(t)
	file := filepath.Join(dir, "stacks/Pulumi.staging.yaml")
	original, err := os.ReadFile(file) //nolint:gosec // the test's copy
	require.NoError(t, err)
	const img = "sha256:9999999999999999999999999999999999999999999999999999999999999999"
	now := func() time.Time { return time.Unix(10_000, 0) }
	do := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		require.NoError(t, run(append(args, "-project", dir), &out, now))
		return out.String()
	}

	out := do("show", "-stack", "staging", "-service", "order")
	assert.Contains(t, out, "regions=us-east-1 eu-west-1\n")
	assert.Contains(t, out, "repository=222222222222.dkr.ecr.us-east-1.amazonaws.com/ecommerce-staging/order\n")
	assert.Contains(t, out, "canary_image=\n")

	out = do("canary-start", "-stack", "staging", "-service", "order", "-image", img)
	assert.Contains(t, out, "canary_image="+img+"\ncanary_weight=5\n")
	var list bytes.Buffer
	require.NoError(t, run([]string{"canaries", "-project", dir}, &list, now))
	assert.Equal(t, `{"include":[{"stack":"staging","service":"order"}]}`+"\n", list.String())

	alarms := filepath.Join(dir, "alarms.json")
	require.NoError(t, os.WriteFile(alarms, []byte(`{"MetricAlarms":[
		{"AlarmName":"staging-us-east-1-order-5xx-rate","StateValue":"OK"},
		{"AlarmName":"staging-eu-west-1-order-5xx-rate","StateValue":"OK"}]}`), 0o600))
	next := func() string {
		return do("canary-next", "-stack", "staging", "-service", "order", "-apply",
			"-alarms", "us-east-1="+alarms, "-alarms", "eu-west-1="+alarms, "-since", "1", "-bake", "1s")
	}
	assert.Contains(t, next(), "action=step\nweight=25\n")
	assert.Contains(t, next(), "action=step\nweight=50\n")
	assert.Contains(t, next(), "action=promote\n")
	out = do("show", "-stack", "staging", "-service", "order")
	assert.Contains(t, out, "image="+img+"\n")
	assert.Contains(t, out, "canary_image=\n")

	// The file after promotion differs from the original by the image line
	// alone: what a release PR of that digest would have changed.
	after, err := os.ReadFile(file) //nolint:gosec // the test's copy
	require.NoError(t, err)
	var changed []string
	a, b := strings.Split(string(original), "\n"), strings.Split(string(after), "\n")
	require.Len(t, b, len(a))
	for i := range a {
		if a[i] != b[i] {
			changed = append(changed, b[i])
		}
	}
	assert.Equal(t, []string{`      image: "` + img + `"`}, changed)

	// An alarm rolls a new canary back to 0, and it stays there.
	do("canary-start", "-stack", "staging", "-service", "auth", "-image", "2.0.0", "-weight", "25")
	require.NoError(t, os.WriteFile(alarms, []byte(`{"MetricAlarms":[{"AlarmName":"staging-us-east-1-auth-5xx-rate","StateValue":"ALARM"}]}`), 0o600))
	var roll bytes.Buffer
	require.NoError(t, run([]string{"canary-next", "-project", dir, "-stack", "staging", "-service", "auth", "-apply",
		"-alarms", "us-east-1=" + alarms, "-since", "9999"}, &roll, now))
	assert.Equal(t, "action=rollback\nweight=0\nreason=in ALARM: staging-us-east-1-auth-5xx-rate (us-east-1)\n", roll.String())
	assert.Contains(t, do("show", "-stack", "staging", "-service", "auth"), "canary_weight=0\n")
	list.Reset()
	require.NoError(t, run([]string{"canaries", "-project", dir}, &list, now))
	assert.Equal(t, `{"include":[]}`+"\n", list.String(), "a rolled-back canary is not stepped")
}

func TestCommandRefusesBadInput(t *testing.T) {
	dir := project(t)
	now := time.Now
	var out bytes.Buffer
	assert.ErrorContains(t, run(nil, &out, now), "a subcommand is required")
	assert.ErrorContains(t, run([]string{"image", "-project", dir, "-stack", "staging"}, &out, now), "-stack and -service are required")
	assert.ErrorContains(t, run([]string{"image", "-project", dir, "-stack", "qa", "-service", "order"}, &out, now), `stack "qa"`)
	assert.ErrorContains(t, run([]string{"image", "-project", dir, "-stack", "staging", "-service", "order", "-image", "latest"}, &out, now), "refused")
	assert.ErrorContains(t, run([]string{"canary-weight", "-project", dir, "-stack", "staging", "-service", "order"}, &out, now), "-weight is required")
	assert.ErrorContains(t, run([]string{"canary-next", "-project", dir, "-stack", "staging", "-service", "order"}, &out, now), "-since")
	assert.ErrorContains(t, run([]string{"canary-next", "-project", dir, "-stack", "staging", "-service", "order", "-alarms", "nofile"}, &out, now), "want <region>=")
}
