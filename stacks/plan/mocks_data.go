package plan

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// typeOutputs adds what AWS (or the random provider) computes for data,
// messaging and secret resources.
func typeOutputs(r *Resource, region, acct, h, physical string) map[string]any {
	str := func(k string) string {
		if v := r.Inputs[keyOf(k)]; v.IsString() {
			return v.StringValue()
		}
		return ""
	}
	switch r.Type {
	case "aws:rds/instance:Instance":
		ident := str("identifier")
		if ident == "" {
			ident = physical
		}
		addr := fmt.Sprintf("%s.c%s.%s.rds.amazonaws.com", ident, h[:12], region)
		return map[string]any{
			"identifier": ident,
			"arn":        fmt.Sprintf("arn:aws:rds:%s:%s:db:%s", region, acct, ident),
			"address":    addr,
			"endpoint":   addr + ":5432",
			"port":       5432,
			"resourceId": "db-" + strings.ToUpper(h[:26]),
		}
	case "aws:rds/subnetGroup:SubnetGroup", "aws:rds/parameterGroup:ParameterGroup":
		return map[string]any{"name": strings.ToLower(physical)}
	case "aws:elasticache/replicationGroup:ReplicationGroup":
		ident := str("replicationGroupId")
		if ident == "" {
			ident = physical
		}
		return map[string]any{
			"arn":                    fmt.Sprintf("arn:aws:elasticache:%s:%s:replicationgroup:%s", region, acct, ident),
			"primaryEndpointAddress": fmt.Sprintf("master.%s.%s.%s.cache.amazonaws.com", ident, h[:6], shortRegion(region)),
			"readerEndpointAddress":  fmt.Sprintf("replica.%s.%s.%s.cache.amazonaws.com", ident, h[:6], shortRegion(region)),
			"port":                   6379,
		}
	case "aws:elasticache/subnetGroup:SubnetGroup":
		return map[string]any{"name": strings.ToLower(physical)}
	case "aws:sqs/queue:Queue":
		name := str("name")
		if name == "" {
			name = physical
		}
		return map[string]any{
			"name": name,
			"arn":  fmt.Sprintf("arn:aws:sqs:%s:%s:%s", region, acct, name),
			"url":  fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", region, acct, name),
		}
	case "aws:sns/topic:Topic":
		name := str("name")
		if name == "" {
			name = physical
		}
		return map[string]any{"name": name, "arn": fmt.Sprintf("arn:aws:sns:%s:%s:%s", region, acct, name)}
	case "aws:sns/topicSubscription:TopicSubscription":
		return map[string]any{"arn": fmt.Sprintf("%s:%s-%s-%s-%s-%s", str("topic"), h[:8], h[8:12], h[12:16], h[16:20], h[20:32])}
	case "aws:secretsmanager/secret:Secret":
		name := str("name")
		if name == "" {
			name = physical
		}
		return map[string]any{"name": name, "arn": fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", region, acct, name, h[:6])}
	case "aws:ecr/repository:Repository":
		name := str("name")
		if name == "" {
			name = physical
		}
		return map[string]any{
			"name":          name,
			"arn":           fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s", region, acct, name),
			"registryId":    acct,
			"repositoryUrl": fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s", acct, region, name),
		}
	case "aws:lb/loadBalancer:LoadBalancer":
		suffix := fmt.Sprintf("app/%s/%s", physical, h[:16])
		digits := ""
		for _, c := range h[:10] {
			digits += fmt.Sprint(int(c) % 10)
		}
		return map[string]any{
			"name":      physical,
			"arn":       fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:loadbalancer/%s", region, acct, suffix),
			"arnSuffix": suffix,
			"dnsName":   fmt.Sprintf("%s-%s.%s.elb.amazonaws.com", physical, digits, region),
			"zoneId":    albZoneID(region, h),
		}
	case "aws:lb/targetGroup:TargetGroup":
		suffix := fmt.Sprintf("targetgroup/%s/%s", physical, h[:16])
		return map[string]any{
			"name":      physical,
			"arn":       fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:%s", region, acct, suffix),
			"arnSuffix": suffix,
		}
	case "aws:lb/listener:Listener":
		return map[string]any{"arn": fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:listener/app/%s/%s", region, acct, h[:16], h[16:32])}
	case "aws:lb/listenerRule:ListenerRule":
		return map[string]any{"arn": fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:listener-rule/app/%s/%s", region, acct, h[:16], h[16:32])}
	case "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream":
		return map[string]any{"name": physical, "arn": fmt.Sprintf("arn:aws:firehose:%s:%s:deliverystream/%s", region, acct, physical)}
	case "aws:cloudwatch/logDestination:LogDestination":
		return map[string]any{"name": physical, "arn": fmt.Sprintf("arn:aws:logs:%s:%s:destination:%s", region, acct, physical)}
	case "aws:s3/bucketV2:BucketV2":
		name := str("bucket")
		if p := str("bucketPrefix"); name == "" && p != "" {
			name = p + h[:12]
		}
		if name == "" {
			name = strings.ToLower(physical)
		}
		return map[string]any{"bucket": name, "arn": "arn:aws:s3:::" + name}
	case "random:index/randomBytes:RandomBytes":
		n := 32
		if v := r.Inputs["length"]; v.IsNumber() {
			n = int(v.NumberValue())
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = h[i%len(h)]
		}
		return map[string]any{"base64": base64.StdEncoding.EncodeToString(b), "hex": hex.EncodeToString(b)}
	case "random:index/randomPassword:RandomPassword":
		n := 32
		if v := r.Inputs["length"]; v.IsNumber() {
			n = int(v.NumberValue())
		}
		// Only letters and digits, so the mock value is valid wherever a
		// restricted character set is asked for.
		pw := strings.Repeat(h, n/len(h)+1)[:n]
		return map[string]any{"result": pw}
	}
	return nil
}

// albZoneIDs are the canonical hosted zones of application load balancers
// by region (what a Route 53 alias to one names); other regions get a
// made-up id of the same shape.
var albZoneIDs = map[string]string{
	"us-east-1":  "Z35SXDOTRQ7X7K",
	"us-east-2":  "Z3AADJGX6KTTL2",
	"us-west-2":  "Z1H1FL5HABSF5",
	"eu-west-1":  "Z32O12XQLNTSW2",
	"ap-south-1": "ZP97RAFLXTNZK",
}

func albZoneID(region, h string) string {
	if z, ok := albZoneIDs[region]; ok {
		return z
	}
	return "Z" + strings.ToUpper(h[:13])
}

func shortRegion(region string) string {
	r := strings.NewReplacer("north", "n", "south", "s", "east", "e", "west", "w", "central", "c", "-", "")
	return r.Replace(region)
}
