package rules

import (
	"fmt"
	"strings"
)

// The traffic path's apply-time rules (issue #10): what ACM, Route 53 and
// CloudFront refuse only when the change is applied, or accept and then
// never act on.

const tAcmCert = "aws:acm/certificate:Certificate"

// route53AlarmStatistics are the statistics Route 53 reads from an alarm.
var route53AlarmStatistics = map[string]bool{"Average": true, "Minimum": true, "Maximum": true, "Sum": true, "SampleCount": true}

func trafficPolicies() []*Policy {
	return []*Policy{
		{
			Name:  "enforce-acm-domain-name-length",
			Group: Preflight, Level: Mandatory,
			Description: "An ACM certificate's first name (its common name) is at most 64 characters and every name at most 253, with labels of at most 63: ACM refuses the request otherwise.",
			Types:       []string{tAcmCert},
			Resource: func(c *ResourceCheck) {
				if cn, ok := c.Get("domainName").Str(); ok && len(cn) > 64 {
					c.Fail("domainName %q is %d characters; the first name of a certificate is at most 64 (move the long name to subjectAlternativeNames)", cn, len(cn))
				}
				names, _ := c.Get("subjectAlternativeNames").Strings()
				if cn, ok := c.Get("domainName").Str(); ok {
					names = append([]string{cn}, names...)
				}
				for _, n := range names {
					if len(n) > 253 {
						c.Fail("%q is longer than 253 characters", n)
						continue
					}
					for _, label := range strings.Split(n, ".") {
						if len(label) > 63 {
							c.Fail("%q has a label longer than 63 characters", n)
							break
						}
					}
				}
			},
		},
		{
			Name:  "enforce-route53-alarm-health-check-metric",
			Group: Preflight, Level: Mandatory,
			Description: "A CLOUDWATCH_METRIC health check watches an alarm Route 53 can read: one standard-resolution metric (period of 60 s or more) with a plain statistic (Average, Minimum, Maximum, Sum, SampleCount), no metric math and no extended statistic; Route 53 refuses any other.",
			Types:       []string{tRoute53HealthCheck, tMetricAlarm},
			Stack:       checkAlarmHealthChecks,
		},
		{
			Name:  "enforce-route53-failover-pair",
			Group: Preflight, Level: Mandatory,
			Description: "A name's failover records in a zone are at most one PRIMARY and one SECONDARY per type (Route 53 refuses a second); more standbys go behind the SECONDARY as a record set of their own.",
			Types:       []string{tRoute53Record},
			Stack:       checkFailoverPairs,
		},
		{
			Name:  "enforce-published-cloudfront-functions",
			Group: Preflight, Level: Mandatory,
			Description: "A CloudFront Function a distribution runs is published (publish not false): behaviours run a function's LIVE stage, which an unpublished function does not have, so the association fails or runs stale code.",
			Types:       []string{tCloudFront, tCloudFrontFunction},
			Stack: func(c *StackCheck) {
				for _, f := range c.OfType(tCloudFrontFunction) {
					if pub, ok := f.Get("publish").BoolOr(true); !ok || pub {
						continue
					}
					for _, d := range c.OfType(tCloudFront) {
						if d.DependsOn(f.URN) {
							c.Fail(f, "publish is false but distribution %s runs it; set publish to true", d.Name)
							break
						}
					}
				}
			},
		},
	}
}

// checkAlarmHealthChecks finds each alarm health check's alarm in the plan
// (by name and region) and checks it is one Route 53 reads.
func checkAlarmHealthChecks(c *StackCheck) {
	alarms := c.OfType(tMetricAlarm)
	for _, hc := range c.OfType(tRoute53HealthCheck) {
		if t, _ := hc.Get("type").Str(); t != "CLOUDWATCH_METRIC" {
			continue
		}
		name, ok1 := hc.Get("cloudwatchAlarmName").Str()
		region, ok2 := hc.Get("cloudwatchAlarmRegion").Str()
		var alarm *Resource
		for _, a := range alarms {
			if a.Region != "" && ok2 && a.Region != region {
				continue
			}
			if n, ok := a.Get("name").Str(); (ok1 && ok && n == name) || hc.DependsOn(a.URN) {
				alarm = a
				break
			}
		}
		if alarm == nil {
			continue
		}
		var problems []string
		if q := alarm.Get("metricQueries"); q.Known() && len(q.Items()) > 0 {
			problems = append(problems, "metricQueries is set (metric math)")
		}
		if !alarm.Get("extendedStatistic").Missing() {
			problems = append(problems, "extendedStatistic is set")
		}
		if s, ok := alarm.Get("statistic").Str(); ok && !route53AlarmStatistics[s] {
			problems = append(problems, fmt.Sprintf("statistic %q is not one Route 53 reads", s))
		}
		if p, ok := alarm.Get("period").Num(); ok && p < 60 {
			problems = append(problems, fmt.Sprintf("period %v is high resolution", p))
		}
		for _, p := range problems {
			c.Fail(alarm, "%s, but health check %s watches this alarm; Route 53 reads one standard-resolution metric with Average, Minimum, Maximum, Sum or SampleCount", p, hc.Name)
		}
	}
}

// checkFailoverPairs counts failover roles per zone, name and type; every
// record of a role held twice is reported.
func checkFailoverPairs(c *StackCheck) {
	groups := map[string][]*Resource{}
	var keys []string
	for _, r := range c.OfType(tRoute53Record) {
		role, ok := r.Get("failoverRoutingPolicies.0.type").Str()
		if !ok {
			continue
		}
		zone, ok1 := r.Get("zoneId").Str()
		name, ok2 := r.Get("name").Str()
		typ, ok3 := r.Get("type").Str()
		if !ok1 || !ok2 || !ok3 {
			continue
		}
		key := strings.Join([]string{zone, strings.ToLower(strings.TrimSuffix(name, ".")), typ, role}, "|")
		if groups[key] == nil {
			keys = append(keys, key)
		}
		groups[key] = append(groups[key], r)
	}
	for _, key := range keys {
		rs := groups[key]
		if len(rs) < 2 {
			continue
		}
		names := make([]string, len(rs))
		for i, r := range rs {
			names[i] = r.Name
		}
		for _, r := range rs {
			role, _ := r.Get("failoverRoutingPolicies.0.type").Str()
			name, _ := r.Get("name").Str()
			c.Fail(r, "failoverRoutingPolicies.0.type is %s for %s in records %s; a name has one PRIMARY and one SECONDARY", role, name, strings.Join(names, ", "))
		}
	}
}
