package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/example/ecommerce-platform/stacks/stackedit"
)

// The canary's next move.
const (
	ActionNone     = "none"     // no canary, or one held at weight 0
	ActionHold     = "hold"     // keep the weight: too early, or the alarms cannot be read
	ActionStep     = "step"     // raise the weight to the next step
	ActionPromote  = "promote"  // the canary's image becomes the stable one
	ActionRollback = "rollback" // weight 0 at once: an alarm fired
)

// DefaultSteps are the weights a canary climbs through before promotion.
var DefaultSteps = []int{5, 25, 50}

// Decision is what the canary workflow does next for one service of one
// stack.
type Decision struct {
	Action string
	// Weight is the canary's weight after the action (unchanged for hold
	// and none; 0 after a rollback; 0 and no canary after a promotion).
	Weight int
	Reason string
}

// Alarm is one CloudWatch alarm as `aws cloudwatch describe-alarms` prints
// it (metric and composite alarms alike).
type Alarm struct {
	AlarmName  string
	StateValue string
}

// alarmFile is the output of `aws cloudwatch describe-alarms --output json`.
type alarmFile struct {
	MetricAlarms    []Alarm
	CompositeAlarms []Alarm
}

// ParseAlarms reads the output of `aws cloudwatch describe-alarms`.
func ParseAlarms(b []byte) ([]Alarm, error) {
	var f alarmFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("describe-alarms output: %w", err)
	}
	return append(f.MetricAlarms, f.CompositeAlarms...), nil
}

// AlarmPrefix is the name prefix of a service's alarms in one region of a
// stack: "<stack>-<region>-<service>-", e.g. "prod-eu-west-1-order-". The
// canary watches every alarm whose name starts with it (the observability
// issue names its alarms so).
func AlarmPrefix(stack, region, service string) string {
	return stack + "-" + region + "-" + service + "-"
}

// CanaryInput is what the decision reads.
type CanaryInput struct {
	Stack, Service string
	// Canary is the file's canary, nil for none.
	Canary *stackedit.Canary
	// Regions are the stack's regions; Alarms has an entry for each
	// region whose alarms were read.
	Regions []string
	Alarms  map[string][]Alarm
	// Since is when the weight last changed; Now is now.
	Since, Now time.Time
	// Bake is how long each weight must run with quiet alarms before the
	// next step.
	Bake  time.Duration
	Steps []int
}

// NextCanaryStep decides the canary's next move. An alarm firing in any
// region rolls back at once, whatever the bake time; a region whose alarms
// were not read, or that has no alarm for the service, holds the canary
// (it cannot be judged, so it is not promoted blind).
func NextCanaryStep(in CanaryInput) Decision {
	c := in.Canary
	if c == nil {
		return Decision{Action: ActionNone, Reason: "no canary"}
	}
	if c.Weight == 0 {
		return Decision{Action: ActionNone, Reason: "the canary is held at weight 0 (rolled back or paused): start it again or remove it"}
	}
	regions := append([]string(nil), in.Regions...)
	sort.Strings(regions)
	var firing, unread, none []string
	for _, region := range regions {
		alarms, read := in.Alarms[region]
		if !read {
			unread = append(unread, region)
			continue
		}
		prefix := AlarmPrefix(in.Stack, region, in.Service)
		matched := 0
		for _, a := range alarms {
			if !strings.HasPrefix(a.AlarmName, prefix) {
				continue
			}
			matched++
			if a.StateValue == "ALARM" {
				firing = append(firing, a.AlarmName+" ("+region+")")
			}
		}
		if matched == 0 {
			none = append(none, prefix+"*")
		}
	}
	switch {
	case len(firing) > 0:
		return Decision{Action: ActionRollback, Weight: 0, Reason: "in ALARM: " + strings.Join(firing, ", ")}
	case len(unread) > 0:
		return Decision{Action: ActionHold, Weight: c.Weight, Reason: "alarms not read for " + strings.Join(unread, ", ")}
	case len(none) > 0:
		return Decision{Action: ActionHold, Weight: c.Weight, Reason: "no alarm named " + strings.Join(none, ", ") + ": the canary cannot be judged, so it is not promoted"}
	}
	if baked := in.Now.Sub(in.Since); baked < in.Bake {
		return Decision{Action: ActionHold, Weight: c.Weight,
			Reason: fmt.Sprintf("weight %d for %s of %s; alarms quiet", c.Weight, baked.Round(time.Second), in.Bake)}
	}
	steps := in.Steps
	if len(steps) == 0 {
		steps = DefaultSteps
	}
	for _, s := range steps {
		if s > c.Weight {
			return Decision{Action: ActionStep, Weight: s,
				Reason: fmt.Sprintf("weight %d quiet for %s: step to %d", c.Weight, in.Bake, s)}
		}
	}
	return Decision{Action: ActionPromote, Weight: 0,
		Reason: fmt.Sprintf("weight %d quiet for %s: promote %s", c.Weight, in.Bake, c.Image)}
}

// ParseSteps reads "5,25,50": increasing weights from 1 to the maximum.
func ParseSteps(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		var w int
		if _, err := fmt.Sscanf(strings.TrimSpace(part), "%d", &w); err != nil {
			return nil, fmt.Errorf("-steps %q: %q is not a number", s, part)
		}
		if w < 1 || w > stackedit.MaxCanaryWeight {
			return nil, fmt.Errorf("-steps %q: %d: each step is 1 to %d", s, w, stackedit.MaxCanaryWeight)
		}
		if len(out) > 0 && w <= out[len(out)-1] {
			return nil, fmt.Errorf("-steps %q: steps must increase", s)
		}
		out = append(out, w)
	}
	return out, nil
}
