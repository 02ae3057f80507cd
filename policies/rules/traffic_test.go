package rules

import "strings"

func failoverRecord(name, role string) *Resource {
	return res(tRoute53Record, name, M{"zoneId": "Z0123456789ABC", "name": "origin.api.shop.example.com", "type": "A",
		"setIdentifier": strings.ToLower(role) + "-" + name, "failoverRoutingPolicies": []any{M{"type": role}},
		"healthCheckId": "hc", "aliases": []any{M{"name": "alb.example", "zoneId": "ZALB", "evaluateTargetHealth": true}}})
}

func alarm(m M) *Resource {
	base := M{"name": "prod-us-east-1-order-healthy-targets", "namespace": "AWS/ApplicationELB", "metricName": "HealthyHostCount",
		"statistic": "Minimum", "period": 60, "evaluationPeriods": 2, "comparisonOperator": "LessThanThreshold", "threshold": 1}
	for k, v := range m {
		base[k] = v
	}
	return res(tMetricAlarm, "alarm", base)
}

func alarmCheck() *Resource {
	return res(tRoute53HealthCheck, "hc", M{"type": "CLOUDWATCH_METRIC", "cloudwatchAlarmName": "prod-us-east-1-order-healthy-targets", "cloudwatchAlarmRegion": "us-east-1"})
}

func trafficCases() []tc {
	fn := func(publish bool) *Resource {
		return res(tCloudFrontFunction, "router", M{"name": "prod-write-router", "runtime": "cloudfront-js-2.0", "code": "x", "publish": publish})
	}
	return []tc{
		pass("enforce-acm-domain-name-length", "short names", res(tAcmCert, "cert", M{"domainName": "api.ap-southeast-1.shop.example.com", "subjectAlternativeNames": []any{"origin.api.shop.example.com"}})),
		fail("enforce-acm-domain-name-length", "long common name", "domainName", res(tAcmCert, "cert", M{"domainName": "api.ap-southeast-1." + strings.Repeat("s", 40) + ".example.com"})),
		fail("enforce-acm-domain-name-length", "long label", "label", res(tAcmCert, "cert", M{"domainName": "api.example.com", "subjectAlternativeNames": []any{strings.Repeat("x", 64) + ".example.com"}})),

		pass("enforce-route53-alarm-health-check-metric", "one metric, minimum", in("us-east-1", alarm(nil)), alarmCheck()),
		pass("enforce-route53-alarm-health-check-metric", "an alarm in another region is another alarm", in("eu-west-1", alarm(M{"extendedStatistic": "p99"})), alarmCheck()),
		fail("enforce-route53-alarm-health-check-metric", "metric math", "metricQueries", alarm(M{"metricQueries": []any{M{"id": "m", "expression": "MIN([a,b])"}}}), alarmCheck()),
		fail("enforce-route53-alarm-health-check-metric", "percentile", "extendedStatistic", alarm(M{"statistic": nil, "extendedStatistic": "p99"}), alarmCheck()).presence(),
		fail("enforce-route53-alarm-health-check-metric", "high resolution", "period 10", alarm(M{"period": 10}), alarmCheck()),

		pass("enforce-route53-failover-pair", "one of each", failoverRecord("primary", "PRIMARY"), failoverRecord("secondary", "SECONDARY")),
		fail("enforce-route53-failover-pair", "two secondaries", "SECONDARY", failoverRecord("secondary-b", "SECONDARY"), failoverRecord("primary", "PRIMARY"), failoverRecord("secondary", "SECONDARY")),

		pass("enforce-published-cloudfront-functions", "published", fn(true), dependsOn(res(tCloudFront, "cdn", goodCloudFront()), fn(true))),
		pass("enforce-published-cloudfront-functions", "unpublished but not run", fn(false), res(tCloudFront, "cdn", goodCloudFront())),
		fail("enforce-published-cloudfront-functions", "unpublished and run", "publish is false", fn(false), dependsOn(res(tCloudFront, "cdn", goodCloudFront()), fn(false))),
	}
}
