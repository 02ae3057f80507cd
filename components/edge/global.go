// Package edge builds the traffic path's global and cross-region parts:
// the DNS zone, the certificates (each region's load balancer's, and
// CloudFront's in us-east-1), the origin secret the load balancers check,
// the CLOUDFRONT-scope web ACL with its logs (Global, the global phase),
// and, once every region's load balancer exists, the per-model DNS
// records, health checks, the CloudFront distribution and the edge
// functions of the multi-region write path (Routing, the wiring phase).
//
// Everything here is named without the master region, so a failover (a
// new masterRegion) keeps it: only the records' roles and the edge
// functions' master origin change.
package edge

import (
	"fmt"
	"sort"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/acm"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/wafv2"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/check"
	"github.com/example/ecommerce-platform/components/keys"
	"github.com/example/ecommerce-platform/components/logs"
)

// Region is where CloudFront reads certificates from and where
// CLOUDFRONT-scope web ACLs (and their log groups) live.
const Region = "us-east-1"

// OriginSecretLength is the origin secret's length in letters and digits
// (about 285 bits): it travels as a header value, so no punctuation.
const OriginSecretLength = 48

// ManagedRuleGroups are the AWS managed rule groups the web ACL runs,
// blocking, in priority order after the IP reputation list: the OWASP-style
// common rules, known bad inputs (Log4j, ...) and SQL injection.
var ManagedRuleGroups = []string{
	"AWSManagedRulesAmazonIpReputationList",
	"AWSManagedRulesCommonRuleSet",
	"AWSManagedRulesKnownBadInputsRuleSet",
	"AWSManagedRulesSQLiRuleSet",
}

// RedactedHeaders are kept out of the WAF logs: bearer tokens and session
// cookies would otherwise be readable by anyone who reads the logs.
var RedactedHeaders = []string{"authorization", "cookie"}

// GlobalArgs configures the global half of the traffic path.
type GlobalArgs struct {
	// Name prefixes physical names, e.g. "ecommerce-prod".
	Name string
	// AccountID scopes the log key and the log delivery policy.
	AccountID string
	// Domain is the zone's name; HostedZoneID its existing id, "" to
	// create it.
	Domain, HostedZoneID string
	// APIHost is the public API host (in Domain).
	APIHost string
	// Regions are the regions with a load balancer, each getting its
	// certificate through RegionProviders[region].
	Regions         []string
	RegionProviders map[string]*aws.Provider
	// EdgeProvider is the us-east-1 provider: the zone, CloudFront's
	// certificate, the validation records and the web ACL are made with
	// it. It is passed here rather than on the component, so the
	// component, like the rest of the global phase, belongs to no region.
	EdgeProvider *aws.Provider
	// WafRateLimit is the per-IP limit per 5 minutes.
	WafRateLimit int
	// LogRetentionDays of the WAF log group.
	LogRetentionDays int
}

// Global is the traffic path's global half. Pass the random provider in
// opts (pulumi.Provider) for the origin secret; every AWS resource names
// its provider: EdgeProvider, or a region's for that region's
// certificate.
type Global struct {
	pulumi.ResourceState

	// ZoneID is the hosted zone's id.
	ZoneID pulumi.StringOutput `pulumi:"zoneId"`
	// NameServers of a zone the stack created (delegate to them from the
	// parent zone); empty for an existing zone.
	NameServers pulumi.StringArrayOutput `pulumi:"nameServers"`
	// OriginSecret is the value CloudFront sends in the origin header
	// (ingress.OriginHeader) and every load balancer requires (secret).
	OriginSecret pulumi.StringOutput
	// RegionalCertificates are the validated certificate ARNs by region,
	// for each region's load balancer: api.<region>.<domain> and the
	// global origin name.
	RegionalCertificates map[string]pulumi.StringOutput
	// EdgeCertificate is the validated us-east-1 certificate ARN of the
	// API host, for CloudFront.
	EdgeCertificate pulumi.StringOutput `pulumi:"edgeCertificate"`
	// WebACLArn is the CLOUDFRONT-scope web ACL's ARN.
	WebACLArn pulumi.StringOutput `pulumi:"webAclArn"`
	// WafLogGroup is the WAF log group's name (aws-waf-logs-...).
	WafLogGroup pulumi.StringOutput `pulumi:"wafLogGroup"`
	// CdnLogGroupArn is the log group CloudFront's access logs (standard
	// logging v2) are delivered to, in Region, encrypted and retained like
	// the WAF's; the distribution's delivery is made in the wiring phase.
	// CdnLogGroup is its name.
	CdnLogGroupArn pulumi.StringOutput `pulumi:"cdnLogGroupArn"`
	CdnLogGroup    pulumi.StringOutput `pulumi:"cdnLogGroup"`
}

func (a *GlobalArgs) check() error {
	p := check.New("edge")
	if a == nil {
		p.Require("GlobalArgs", false)
		return p.Err()
	}
	p.Require("Name", a.Name != "")
	p.Require("AccountID", a.AccountID != "")
	if !ValidHostname(a.Domain) {
		p.Add("Domain", "%q is not a DNS name", a.Domain)
	}
	if a.HostedZoneID != "" && !ValidZoneID(a.HostedZoneID) {
		p.Add("HostedZoneID", "%q is not a Route 53 hosted zone id", a.HostedZoneID)
	}
	switch {
	case !ValidHostname(a.APIHost):
		p.Add("APIHost", "%q is not a DNS name", a.APIHost)
	case !Within(a.APIHost, a.Domain):
		p.Add("APIHost", "%q is not in %q", a.APIHost, a.Domain)
	case len(a.APIHost) > MaxCommonNameLength:
		p.Add("APIHost", "%q is longer than the %d characters ACM accepts in a certificate's first name", a.APIHost, MaxCommonNameLength)
	}
	p.Require("EdgeProvider", a.EdgeProvider != nil)
	p.Require("Regions", len(a.Regions) > 0)
	seen := map[string]bool{}
	for _, r := range a.Regions {
		if seen[r] {
			p.Add("Regions", "%q is listed twice", r)
		}
		seen[r] = true
		if a.RegionProviders[r] == nil {
			p.Add("RegionProviders", "no provider for region %q", r)
		}
		if h := RegionalHost(r, a.Domain); len(h) > MaxCommonNameLength {
			p.Add("Domain", "%q is longer than the %d characters ACM accepts in a certificate's first name", h, MaxCommonNameLength)
		}
	}
	if a.WafRateLimit < MinRateLimit || a.WafRateLimit > MaxRateLimit {
		p.Add("WafRateLimit", "%d is out of range; allowed %d to %d", a.WafRateLimit, MinRateLimit, MaxRateLimit)
	}
	if !logs.ValidRetention(a.LogRetentionDays) {
		p.Add("LogRetentionDays", "%d is not a CloudWatch Logs retention; allowed: %v", a.LogRetentionDays, logs.RetentionDays)
	}
	return p.Err()
}

// NewGlobal creates the zone (or takes the existing one), the
// certificates with their DNS validation, the origin secret and the web
// ACL with its logging.
func NewGlobal(ctx *pulumi.Context, name string, args *GlobalArgs, opts ...pulumi.ResourceOption) (*Global, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	g := &Global{RegionalCertificates: map[string]pulumi.StringOutput{}}
	if err := ctx.RegisterComponentResource("ecommerce:edge:Edge", name, g, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(g)
	onEdge := pulumi.Provider(args.EdgeProvider)

	if args.HostedZoneID == "" {
		zone, err := route53.NewZone(ctx, "zone", &route53.ZoneArgs{
			Name:    pulumi.String(args.Domain),
			Comment: pulumi.Sprintf("%s: the API, its origins and their certificates' validation", args.Name),
		}, parent, onEdge)
		if err != nil {
			return nil, err
		}
		g.ZoneID, g.NameServers = zone.ZoneId, zone.NameServers
	} else {
		g.ZoneID = pulumi.String(args.HostedZoneID).ToStringOutput()
		g.NameServers = pulumi.StringArray{}.ToStringArrayOutput()
	}

	if err := g.certificates(ctx, args, parent, onEdge); err != nil {
		return nil, err
	}

	secret, err := random.NewRandomPassword(ctx, "origin-secret", &random.RandomPasswordArgs{
		Length:  pulumi.Int(OriginSecretLength),
		Special: pulumi.Bool(false),
	}, parent)
	if err != nil {
		return nil, err
	}
	g.OriginSecret = pulumi.ToSecret(secret.Result).(pulumi.StringOutput)

	if err := g.webACL(ctx, args, parent, onEdge); err != nil {
		return nil, err
	}
	return g, ctx.RegisterResourceOutputs(g, pulumi.Map{
		"zoneId":          g.ZoneID,
		"nameServers":     g.NameServers,
		"edgeCertificate": g.EdgeCertificate,
		"webAclArn":       g.WebACLArn,
		"wafLogGroup":     g.WafLogGroup,
		"cdnLogGroupArn":  g.CdnLogGroupArn,
		"cdnLogGroup":     g.CdnLogGroup,
	})
}

// certSpec is one certificate: its logical name, region, provider and
// names (the first is its common name).
type certSpec struct {
	name, region string
	provider     *aws.Provider
	domains      []string
}

// CertificateNames are the names each certificate carries, by region
// (Region's entry for CloudFront is under the key "edge"): a region's load
// balancer answers for its own origin name and, since CloudFront sends
// the global origin name as Host, for that too.
func CertificateNames(domain, apiHost string, regions []string) map[string][]string {
	out := map[string][]string{"edge": {apiHost}}
	for _, r := range regions {
		out[r] = []string{RegionalHost(r, domain), OriginHost(apiHost)}
	}
	return out
}

// certificates requests every certificate, creates one validation record
// per distinct name and waits for each certificate to be issued.
func (g *Global) certificates(ctx *pulumi.Context, args *GlobalArgs, parent, onEdge pulumi.ResourceOption) error {
	names := CertificateNames(args.Domain, args.APIHost, args.Regions)
	specs := []certSpec{{name: "cert-edge", region: Region, provider: args.EdgeProvider, domains: names["edge"]}}
	for _, r := range args.Regions {
		specs = append(specs, certSpec{name: "cert-" + r, region: r, provider: args.RegionProviders[r], domains: names[r]})
	}
	type issued struct {
		spec certSpec
		cert *acm.Certificate
	}
	var certs []issued
	// ACM gives a name the same validation record in every certificate
	// and region of an account, so each name gets one record, made from
	// the first certificate that carries it; a second record of the same
	// name would fail to create.
	recordFrom := map[string]*acm.Certificate{}
	var recordNames []string
	for _, s := range specs {
		cert, err := acm.NewCertificate(ctx, s.name, &acm.CertificateArgs{
			DomainName:              pulumi.String(s.domains[0]),
			SubjectAlternativeNames: pulumi.ToStringArray(s.domains[1:]),
			ValidationMethod:        pulumi.String("DNS"),
			Tags:                    pulumi.StringMap{"Name": pulumi.Sprintf("%s-%s", args.Name, s.name)},
		}, parent, pulumi.Provider(s.provider))
		if err != nil {
			return err
		}
		certs = append(certs, issued{s, cert})
		for _, d := range s.domains {
			if _, ok := recordFrom[d]; !ok {
				recordFrom[d] = cert
				recordNames = append(recordNames, d)
			}
		}
	}
	sort.Strings(recordNames)
	fqdns := map[string]pulumi.StringOutput{}
	for _, d := range recordNames {
		opt := validationOption(recordFrom[d], d)
		rec, err := route53.NewRecord(ctx, "validation-"+d, &route53.RecordArgs{
			ZoneId:  g.ZoneID,
			Name:    opt.ApplyT(func(o acm.CertificateDomainValidationOption) string { return deref(o.ResourceRecordName) }).(pulumi.StringOutput),
			Type:    pulumi.String("CNAME"), // the only type ACM's DNS validation uses
			Records: pulumi.StringArray{opt.ApplyT(func(o acm.CertificateDomainValidationOption) string { return deref(o.ResourceRecordValue) }).(pulumi.StringOutput)},
			Ttl:     pulumi.Int(300),
		}, parent, onEdge)
		if err != nil {
			return err
		}
		fqdns[d] = rec.Fqdn
	}
	for _, c := range certs {
		var recs pulumi.StringArray
		for _, d := range c.spec.domains {
			recs = append(recs, fqdns[d])
		}
		v, err := acm.NewCertificateValidation(ctx, c.spec.name, &acm.CertificateValidationArgs{
			CertificateArn:        c.cert.Arn,
			ValidationRecordFqdns: recs,
		}, parent, pulumi.Provider(c.spec.provider))
		if err != nil {
			return err
		}
		if c.spec.name == "cert-edge" {
			g.EdgeCertificate = v.CertificateArn
		} else {
			g.RegionalCertificates[c.spec.region] = v.CertificateArn
		}
	}
	return nil
}

// validationOption is the certificate's validation record for one name,
// found by name: the provider returns the options as a set, in no
// promised order.
func validationOption(cert *acm.Certificate, domain string) pulumi.Output {
	return cert.DomainValidationOptions.ApplyT(func(opts []acm.CertificateDomainValidationOption) (acm.CertificateDomainValidationOption, error) {
		for _, o := range opts {
			if deref(o.DomainName) == domain {
				return o, nil
			}
		}
		return acm.CertificateDomainValidationOption{}, fmt.Errorf("edge: certificate has no validation record for %s", domain)
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// webACL creates the log key, the WAF's and CloudFront's log groups and
// their delivery policy, the web ACL and its logging.
func (g *Global) webACL(ctx *pulumi.Context, args *GlobalArgs, parent, onEdge pulumi.ResourceOption) error {
	// The edge's logs (WAF, CloudFront) live in Region whatever the
	// regions, and a regional key would follow its region's life (and not
	// exist when us-east-1 is not one of the regions): the edge has a logs
	// key of its own, with the same policy as every region's.
	// No alarm publishes with a logs key: no alarm prefix.
	policy, err := (&keys.Args{AccountID: args.AccountID, Region: Region, TopicPrefix: args.Name}).Policy(keys.Logs)
	if err != nil {
		return err
	}
	key, err := kms.NewKey(ctx, "waf-logs", &kms.KeyArgs{
		Description:          pulumi.Sprintf("%s: the edge's logs (WAF, CloudFront)", args.Name),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(30),
		Policy:               pulumi.String(policy),
		Tags:                 pulumi.StringMap{"Name": pulumi.Sprintf("%s-edge-logs", args.Name), "class": pulumi.String(keys.Logs)},
	}, parent, onEdge)
	if err != nil {
		return err
	}
	if _, err := kms.NewAlias(ctx, "waf-logs", &kms.AliasArgs{
		Name:        pulumi.Sprintf("alias/%s-edge-logs", args.Name),
		TargetKeyId: key.KeyId,
	}, parent, onEdge); err != nil {
		return err
	}
	group, err := logs.NewGroup(ctx, "waf-logs", &logs.GroupArgs{
		// WAF delivers only to destinations named aws-waf-logs-*.
		Name:          pulumi.Sprintf("aws-waf-logs-%s", args.Name),
		RetentionDays: args.LogRetentionDays,
		KmsKeyArn:     key.Arn,
	}, parent, onEdge)
	if err != nil {
		return err
	}
	// The vendedlogs prefix keeps CloudWatch Logs from growing an
	// account-wide resource policy per group (its size is capped).
	cdn, err := logs.NewGroup(ctx, "cdn-logs", &logs.GroupArgs{
		Name:          pulumi.Sprintf("/aws/vendedlogs/cloudfront/%s", args.Name),
		RetentionDays: args.LogRetentionDays,
		KmsKeyArn:     key.Arn,
	}, parent, onEdge)
	if err != nil {
		return err
	}
	delivery, err := logs.NewDeliveryPolicy(ctx, "log-delivery", &logs.DeliveryPolicyArgs{
		PolicyName:   args.Name + "-edge-log-delivery",
		Region:       Region,
		AccountID:    args.AccountID,
		LogGroupArns: []pulumi.StringInput{group.Arn, cdn.Arn},
	}, parent, onEdge)
	if err != nil {
		return err
	}

	visibility := func(metric string) wafv2.WebAclRuleVisibilityConfigArgs {
		return wafv2.WebAclRuleVisibilityConfigArgs{
			CloudwatchMetricsEnabled: pulumi.Bool(true),
			MetricName:               pulumi.String(metric),
			SampledRequestsEnabled:   pulumi.Bool(true),
		}
	}
	rules := wafv2.WebAclRuleArray{}
	for i, groupName := range ManagedRuleGroups {
		priority := i
		if i > 0 {
			// The rate rule runs right after the reputation list: a
			// flood is cut before the costlier inspections.
			priority = i + 1
		}
		rules = append(rules, wafv2.WebAclRuleArgs{
			Name:           pulumi.String(groupName),
			Priority:       pulumi.Int(priority),
			OverrideAction: wafv2.WebAclRuleOverrideActionArgs{None: wafv2.WebAclRuleOverrideActionNoneArgs{}},
			Statement: wafv2.WebAclRuleStatementArgs{
				ManagedRuleGroupStatement: wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs{
					Name:       pulumi.String(groupName),
					VendorName: pulumi.String("AWS"),
				},
			},
			VisibilityConfig: visibility(groupName),
		})
	}
	rules = append(rules, wafv2.WebAclRuleArgs{
		Name:     pulumi.String("rate-per-ip"),
		Priority: pulumi.Int(1),
		Action:   wafv2.WebAclRuleActionArgs{Block: wafv2.WebAclRuleActionBlockArgs{}},
		Statement: wafv2.WebAclRuleStatementArgs{
			RateBasedStatement: wafv2.WebAclRuleStatementRateBasedStatementArgs{
				Limit:            pulumi.Int(args.WafRateLimit),
				AggregateKeyType: pulumi.String("IP"),
			},
		},
		VisibilityConfig: visibility("rate-per-ip"),
	})
	acl, err := wafv2.NewWebAcl(ctx, "waf", &wafv2.WebAclArgs{
		Name:          pulumi.Sprintf("%s-edge", args.Name),
		Description:   pulumi.Sprintf("%s: in front of CloudFront", args.Name),
		Scope:         pulumi.String("CLOUDFRONT"),
		DefaultAction: wafv2.WebAclDefaultActionArgs{Allow: wafv2.WebAclDefaultActionAllowArgs{}},
		Rules:         rules,
		VisibilityConfig: wafv2.WebAclVisibilityConfigArgs{
			CloudwatchMetricsEnabled: pulumi.Bool(true),
			MetricName:               pulumi.Sprintf("%s-edge", args.Name),
			SampledRequestsEnabled:   pulumi.Bool(true),
		},
	}, parent, onEdge)
	if err != nil {
		return err
	}
	redacted := wafv2.WebAclLoggingConfigurationRedactedFieldArray{}
	for _, h := range RedactedHeaders {
		redacted = append(redacted, wafv2.WebAclLoggingConfigurationRedactedFieldArgs{
			SingleHeader: wafv2.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs{Name: pulumi.String(h)},
		})
	}
	if _, err := wafv2.NewWebAclLoggingConfiguration(ctx, "waf-logging", &wafv2.WebAclLoggingConfigurationArgs{
		ResourceArn:           acl.Arn,
		LogDestinationConfigs: pulumi.StringArray{group.Arn},
		RedactedFields:        redacted,
	}, parent, onEdge, pulumi.DependsOn([]pulumi.Resource{delivery})); err != nil {
		return err
	}
	g.WebACLArn, g.WafLogGroup, g.CdnLogGroupArn, g.CdnLogGroup = acl.Arn, group.Name, cdn.Arn, cdn.Name
	return nil
}
