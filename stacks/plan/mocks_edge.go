package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// edgeOutputs adds what AWS computes for the traffic path's global
// resources: certificates and their validation records, the hosted zone,
// the web ACL, CloudFront and health checks.
func edgeOutputs(r *Resource, region, acct, h, physical string) map[string]any {
	str := func(k string) string {
		if v := r.Inputs[keyOf(k)]; v.IsString() {
			return v.StringValue()
		}
		return ""
	}
	uuid := fmt.Sprintf("%s-%s-%s-%s-%s", h[:8], h[8:12], h[12:16], h[16:20], h[20:32])
	switch r.Type {
	case "aws:acm/certificate:Certificate":
		names := []string{str("domainName")}
		if sans := r.Inputs["subjectAlternativeNames"]; sans.IsArray() {
			for _, s := range sans.ArrayValue() {
				if s.IsString() && s.StringValue() != names[0] {
					names = append(names, s.StringValue())
				}
			}
		}
		opts := make([]any, 0, len(names))
		for _, n := range names {
			// ACM gives one domain the same validation record in every
			// certificate and region of an account: the mock does too, so
			// a program that creates it twice is caught.
			d := digest(acct + "/" + n)
			opts = append(opts, map[string]any{
				"domainName":          n,
				"resourceRecordName":  "_" + d[:32] + "." + n + ".",
				"resourceRecordType":  "CNAME",
				"resourceRecordValue": "_" + d[32:64] + ".xlfgrmvvlj.acm-validations.aws.",
			})
		}
		return map[string]any{
			"arn":                     fmt.Sprintf("arn:aws:acm:%s:%s:certificate/%s", region, acct, uuid),
			"domainValidationOptions": opts,
			"status":                  "PENDING_VALIDATION",
		}
	case "aws:route53/zone:Zone":
		id := "Z" + strings.ToUpper(h[:20])
		return map[string]any{
			"zoneId": id,
			"arn":    "arn:aws:route53:::hostedzone/" + id,
			"nameServers": []any{
				"ns-" + fmt.Sprint(int(h[0])*7) + ".awsdns-01.com", "ns-" + fmt.Sprint(int(h[1])*7) + ".awsdns-02.net",
				"ns-" + fmt.Sprint(int(h[2])*7) + ".awsdns-03.org", "ns-" + fmt.Sprint(int(h[3])*7) + ".awsdns-04.co.uk",
			},
		}
	case "aws:route53/record:Record":
		return map[string]any{"fqdn": strings.TrimSuffix(str("name"), ".")}
	case "aws:route53/healthCheck:HealthCheck":
		return map[string]any{"arn": "arn:aws:route53:::healthcheck/" + uuid}
	case "aws:wafv2/webAcl:WebAcl":
		scope := "regional"
		if str("scope") == "CLOUDFRONT" {
			scope = "global"
		}
		return map[string]any{"arn": fmt.Sprintf("arn:aws:wafv2:%s:%s:%s/webacl/%s/%s", region, acct, scope, physical, uuid)}
	case "aws:cloudfront/distribution:Distribution":
		id := "E" + strings.ToUpper(h[:13])
		return map[string]any{
			"arn":          fmt.Sprintf("arn:aws:cloudfront::%s:distribution/%s", acct, id),
			"domainName":   "d" + h[:13] + ".cloudfront.net",
			"hostedZoneId": "Z2FDTNDATAQYW2", // CloudFront's, the same for every distribution
		}
	case "aws:cloudfront/function:Function":
		return map[string]any{"arn": fmt.Sprintf("arn:aws:cloudfront::%s:function/%s", acct, physical)}
	case "aws:cloudwatch/metricAlarm:MetricAlarm":
		return map[string]any{"arn": fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", region, acct, physical)}
	}
	return nil
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
