package edge

import (
	"fmt"
	"maps"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudfront"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/check"
	"github.com/example/ecommerce-platform/components/edgefn"
)

// CloudFront's managed policies the default behaviour uses (their ids are
// the same in every account).
const (
	// CachingDisabledPolicy: nothing cached, nothing in a cache key.
	CachingDisabledPolicy = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
	// AllViewerExceptHostPolicy forwards every viewer header (Authorization
	// and Idempotency-Key among them), cookie and query string, but not
	// Host: CloudFront sends the origin's name, which the load balancer's
	// certificate carries. An origin request policy of our own could not
	// list Authorization (CloudFront refuses it outside a cache key).
	AllViewerExceptHostPolicy = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
)

// CloudFrontZoneID is the hosted zone of every CloudFront distribution,
// for alias records.
const CloudFrontZoneID = "Z2FDTNDATAQYW2"

// The products behaviour: public catalogue reads, cached briefly.
const (
	ProductsPath = "/v1/products*"
	// ProductsDefaultTTL applies when the product service sends no
	// Cache-Control; ProductsMaxTTL caps what it may ask for. Everyone
	// but a recent writer may see a catalogue change this late (plus the
	// replica's lag): docs/traffic.md.
	ProductsDefaultTTL = 10
	ProductsMaxTTL     = 60
)

// ReadMethods are what an origin group may serve (CloudFront refuses a
// behaviour allowing writes on one); AllMethods what an API behaviour
// allows.
var (
	ReadMethods = []string{"GET", "HEAD", "OPTIONS"}
	AllMethods  = []string{"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
)

// OriginID is the distribution's one origin: the global origin name.
const OriginID = "api"

// Origin is one region's load balancer as the traffic path needs it.
type Origin struct {
	// DNSName and ZoneID are what an alias record to it names.
	DNSName, ZoneID pulumi.StringInput
	// HealthAlarms are the names of the region's alarms on each service's
	// healthy targets (observe's "<svc>-healthy-targets"), by service: the
	// region serves only while none is in ALARM.
	HealthAlarms map[string]pulumi.StringInput
}

// RoutingArgs configures the cross-region half of the traffic path.
type RoutingArgs struct {
	// Name prefixes physical names, e.g. "ecommerce-prod".
	Name string
	// Model is one of Models.
	Model string
	// Domain, APIHost: as in GlobalArgs.
	Domain, APIHost string
	// ZoneID is the hosted zone (Global.ZoneID).
	ZoneID pulumi.StringInput
	// MasterRegion holds the primaries; Regions are every region, master
	// first.
	MasterRegion string
	Regions      []string
	// Origins are the regions' load balancers by region.
	Origins map[string]Origin
	// EdgeProvider (us-east-1) makes the records, health checks,
	// distribution and functions.
	EdgeProvider *aws.Provider
	// OriginHeader and OriginSecret: the header CloudFront adds to every
	// origin request and its value (ingress.OriginHeader,
	// Global.OriginSecret).
	OriginHeader string
	OriginSecret pulumi.StringInput
	// Certificate is the validated us-east-1 certificate of APIHost;
	// WebACLArn the CLOUDFRONT web ACL; LogGroupArn where CloudFront's
	// access logs go (Global's).
	Certificate, WebACLArn, LogGroupArn pulumi.StringInput
	// PriceClass is one of PriceClasses.
	PriceClass string
	// StickySeconds: how long a writer's reads follow it to the master
	// (active-active).
	StickySeconds int
}

// Routing is the traffic path's cross-region half: DNS per model, health
// checks, CloudFront and, in active-active, the write-routing functions.
type Routing struct {
	pulumi.ResourceState

	// DistributionDomain is CloudFront's name (the API host aliases it).
	DistributionDomain pulumi.StringOutput `pulumi:"distributionDomain"`
	// DistributionID is CloudFront's id (for invalidations).
	DistributionID pulumi.IDOutput `pulumi:"distributionId"`
	// HealthChecks are the regions' health checks by region
	// (multi-region models).
	HealthChecks map[string]pulumi.IDOutput
	// MasterOrigin is where the edge functions send writes
	// (active-active), "" otherwise.
	MasterOrigin string
}

func (a *RoutingArgs) check() error {
	p := check.New("edge routing")
	if a == nil {
		p.Require("RoutingArgs", false)
		return p.Err()
	}
	p.Require("Name", a.Name != "")
	if !slices.Contains(Models, a.Model) {
		p.Add("Model", "%q is not one of %v", a.Model, Models)
	} else if !RegionsAllowed(a.Model, len(a.Regions)) {
		p.Add("Model", "%q does not run on %d region(s)", a.Model, len(a.Regions))
	}
	if !ValidHostname(a.Domain) {
		p.Add("Domain", "%q is not a DNS name", a.Domain)
	}
	if !ValidHostname(a.APIHost) || !Within(a.APIHost, a.Domain) {
		p.Add("APIHost", "%q is not a DNS name in %q", a.APIHost, a.Domain)
	}
	p.Require("ZoneID", a.ZoneID != nil)
	if !slices.Contains(a.Regions, a.MasterRegion) {
		p.Add("MasterRegion", "%q is not one of the regions %v", a.MasterRegion, a.Regions)
	}
	multi := a.Model != SingleRegion
	for _, r := range a.Regions {
		o, ok := a.Origins[r]
		switch {
		case !ok:
			p.Add("Origins", "no origin for region %q", r)
		case o.DNSName == nil || o.ZoneID == nil:
			p.Add("Origins["+r+"]", "DNSName and ZoneID are required")
		case multi && len(o.HealthAlarms) == 0:
			p.Add("Origins["+r+"]", "HealthAlarms are required: a region's health follows its services' targets")
		}
	}
	p.Require("EdgeProvider", a.EdgeProvider != nil)
	p.Require("OriginHeader", a.OriginHeader != "")
	p.Require("OriginSecret", a.OriginSecret != nil)
	p.Require("Certificate", a.Certificate != nil)
	p.Require("WebACLArn", a.WebACLArn != nil)
	p.Require("LogGroupArn", a.LogGroupArn != nil)
	if !slices.Contains(PriceClasses, a.PriceClass) {
		p.Add("PriceClass", "%q is not one of %v", a.PriceClass, PriceClasses)
	}
	if a.Model == ActiveActive {
		fn := edgefn.Args{MasterOrigin: RegionalHost(a.MasterRegion, a.Domain), StickySeconds: a.StickySeconds}
		if err := fn.Check(); err != nil {
			p.Add("StickySeconds", "%v", err)
		}
	}
	return p.Err()
}

// NewRouting creates the records, health checks, distribution and edge
// functions. Every resource names its provider (Args), so the component
// belongs to no region.
func NewRouting(ctx *pulumi.Context, name string, args *RoutingArgs, opts ...pulumi.ResourceOption) (*Routing, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	plan, err := OriginRecords(args.Model, args.MasterRegion, args.Regions, args.APIHost)
	if err != nil {
		return nil, err
	}
	r := &Routing{HealthChecks: map[string]pulumi.IDOutput{}}
	if err := ctx.RegisterComponentResource("ecommerce:edge:Routing", name, r, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(r)
	onEdge := pulumi.Provider(args.EdgeProvider)

	// Each region's own origin name: where the edge sends writes when it
	// is the master, and what its certificate is issued for.
	for _, region := range args.Regions {
		o := args.Origins[region]
		if _, err := route53.NewRecord(ctx, "regional-"+region, &route53.RecordArgs{
			ZoneId: args.ZoneID,
			Name:   pulumi.String(RegionalHost(region, args.Domain)),
			Type:   pulumi.String("A"),
			Aliases: route53.RecordAliasArray{route53.RecordAliasArgs{
				Name: o.DNSName, ZoneId: o.ZoneID, EvaluateTargetHealth: pulumi.Bool(true),
			}},
		}, parent, onEdge); err != nil {
			return nil, err
		}
	}

	if args.Model != SingleRegion {
		for _, region := range args.Regions {
			id, err := r.regionHealth(ctx, args, region, parent, onEdge)
			if err != nil {
				return nil, err
			}
			r.HealthChecks[region] = id
		}
	}
	for _, rec := range plan {
		if err := r.originRecord(ctx, args, rec, parent, onEdge); err != nil {
			return nil, err
		}
	}

	dist, err := r.distribution(ctx, args, parent, onEdge)
	if err != nil {
		return nil, err
	}
	for _, rec := range []struct{ logical, typ string }{{"api", "A"}, {"api-ipv6", "AAAA"}} {
		if _, err := route53.NewRecord(ctx, rec.logical, &route53.RecordArgs{
			ZoneId: args.ZoneID,
			Name:   pulumi.String(args.APIHost),
			Type:   pulumi.String(rec.typ),
			Aliases: route53.RecordAliasArray{route53.RecordAliasArgs{
				Name: dist.DomainName, ZoneId: pulumi.String(CloudFrontZoneID), EvaluateTargetHealth: pulumi.Bool(false),
			}},
		}, parent, onEdge); err != nil {
			return nil, err
		}
	}
	if err := r.accessLogs(ctx, args, dist, parent, onEdge); err != nil {
		return nil, err
	}
	r.DistributionDomain, r.DistributionID = dist.DomainName, dist.ID()
	return r, ctx.RegisterResourceOutputs(r, pulumi.Map{
		"distributionDomain": r.DistributionDomain,
		"distributionId":     r.DistributionID,
	})
}

// regionHealth is one region's health: a Route 53 check on each of its
// services' healthy-targets alarms, and a calculated check healthy only
// while every service's is.
//
// Route 53's own checkers cannot probe the region: its load balancer
// admits only CloudFront's addresses and requests carrying the origin
// secret. Alarms see it from inside: no healthy target means the
// service's pods fail /readyz (their database or cache is out of reach)
// or are gone. Route 53 accepts alarms on one standard-resolution metric
// with a plain statistic, not metric math (observe builds them so), hence
// one alarm per service and the calculated check over them.
func (r *Routing) regionHealth(ctx *pulumi.Context, args *RoutingArgs, region string, parent, onEdge pulumi.ResourceOption) (pulumi.IDOutput, error) {
	o := args.Origins[region]
	var children pulumi.StringArray
	for _, svc := range slices.Sorted(maps.Keys(o.HealthAlarms)) {
		hc, err := route53.NewHealthCheck(ctx, fmt.Sprintf("health-%s-%s", region, svc), &route53.HealthCheckArgs{
			Type:                  pulumi.String("CLOUDWATCH_METRIC"),
			CloudwatchAlarmName:   o.HealthAlarms[svc],
			CloudwatchAlarmRegion: pulumi.String(region),
			// CloudWatch itself failing in the region is the region
			// failing.
			InsufficientDataHealthStatus: pulumi.String("Unhealthy"),
			ReferenceName:                pulumi.String(fmt.Sprintf("%s-%s", region, svc)),
			Tags:                         pulumi.StringMap{"Name": o.HealthAlarms[svc]},
		}, parent, onEdge)
		if err != nil {
			return pulumi.IDOutput{}, err
		}
		children = append(children, hc.ID().ToStringOutput())
	}
	calc, err := route53.NewHealthCheck(ctx, "health-"+region, &route53.HealthCheckArgs{
		Type:                 pulumi.String("CALCULATED"),
		ChildHealthchecks:    children,
		ChildHealthThreshold: pulumi.Int(len(children)),
		ReferenceName:        pulumi.String(region),
		Tags:                 pulumi.StringMap{"Name": pulumi.Sprintf("%s-%s-serves", args.Name, region)},
	}, parent, onEdge)
	if err != nil {
		return pulumi.IDOutput{}, err
	}
	return calc.ID(), nil
}

// originRecord creates one planned record of the global origin name.
func (r *Routing) originRecord(ctx *pulumi.Context, args *RoutingArgs, rec OriginRecord, parent, onEdge pulumi.ResourceOption) error {
	alias := route53.RecordAliasArgs{EvaluateTargetHealth: pulumi.Bool(rec.HealthCheck != "" || rec.AliasName != "")}
	if rec.Target != "" {
		alias.Name, alias.ZoneId = args.Origins[rec.Target].DNSName, args.Origins[rec.Target].ZoneID
	} else {
		alias.Name, alias.ZoneId = pulumi.String(rec.AliasName), args.ZoneID
	}
	ra := &route53.RecordArgs{
		ZoneId:  args.ZoneID,
		Name:    pulumi.String(rec.Name),
		Type:    pulumi.String("A"),
		Aliases: route53.RecordAliasArray{alias},
	}
	if rec.SetIdentifier != "" {
		ra.SetIdentifier = pulumi.String(rec.SetIdentifier)
	}
	if rec.Latency != "" {
		ra.LatencyRoutingPolicies = route53.RecordLatencyRoutingPolicyArray{route53.RecordLatencyRoutingPolicyArgs{Region: pulumi.String(rec.Latency)}}
	}
	if rec.Failover != "" {
		ra.FailoverRoutingPolicies = route53.RecordFailoverRoutingPolicyArray{route53.RecordFailoverRoutingPolicyArgs{Type: pulumi.String(rec.Failover)}}
	}
	if rec.HealthCheck != "" {
		ra.HealthCheckId = r.HealthChecks[rec.HealthCheck].ToStringOutput()
	}
	_, err := route53.NewRecord(ctx, rec.Logical, ra, parent, onEdge)
	return err
}

// distribution creates CloudFront: one origin (the global origin name,
// HTTPS only, with the origin secret), the products behaviour cached
// briefly, everything else passed through, and in active-active the
// write-routing functions on both.
func (r *Routing) distribution(ctx *pulumi.Context, args *RoutingArgs, parent, onEdge pulumi.ResourceOption) (*cloudfront.Distribution, error) {
	// The sticky cookie is in the products cache key: a recent writer's
	// reads carry it (a value of their own), so they miss the shared
	// cached copy and reach the master, where their write is; everyone
	// else, without it, shares one entry per query. Authorization is in
	// the key too: product writes need it forwarded, and only a cache key
	// forwards it, which also keeps any authorised answer to its caller.
	products, err := cloudfront.NewCachePolicy(ctx, "products", &cloudfront.CachePolicyArgs{
		Name:       pulumi.Sprintf("%s-products", args.Name),
		Comment:    pulumi.String("Catalogue reads: query string, Authorization and the read-your-writes cookie in the key"),
		MinTtl:     pulumi.Int(0),
		DefaultTtl: pulumi.Int(ProductsDefaultTTL),
		MaxTtl:     pulumi.Int(ProductsMaxTTL),
		ParametersInCacheKeyAndForwardedToOrigin: cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginArgs{
			QueryStringsConfig: cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfigArgs{
				QueryStringBehavior: pulumi.String("all"),
			},
			HeadersConfig: cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigArgs{
				HeaderBehavior: pulumi.String("whitelist"),
				Headers: cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigHeadersArgs{
					Items: pulumi.StringArray{pulumi.String("Authorization")},
				},
			},
			CookiesConfig: cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfigArgs{
				CookieBehavior: pulumi.String("whitelist"),
				Cookies: cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfigCookiesArgs{
					Items: pulumi.StringArray{pulumi.String(edgefn.StickyCookie)},
				},
			},
			EnableAcceptEncodingGzip:   pulumi.Bool(true),
			EnableAcceptEncodingBrotli: pulumi.Bool(true),
		},
	}, parent, onEdge)
	if err != nil {
		return nil, err
	}

	var defaultFns cloudfront.DistributionDefaultCacheBehaviorFunctionAssociationArray
	var productFns cloudfront.DistributionOrderedCacheBehaviorFunctionAssociationArray
	if args.Model == ActiveActive {
		r.MasterOrigin = RegionalHost(args.MasterRegion, args.Domain)
		fn := edgefn.Args{MasterOrigin: r.MasterOrigin, StickySeconds: args.StickySeconds}
		request, err := edgefn.ViewerRequest(fn)
		if err != nil {
			return nil, err
		}
		response, err := edgefn.ViewerResponse(fn)
		if err != nil {
			return nil, err
		}
		arns := map[string]pulumi.StringOutput{}
		for _, f := range []struct{ logical, event, code, comment string }{
			{"write-router", "viewer-request", request, "Sends writes, and a recent writer's reads, to the master region's origin"},
			{"read-your-writes", "viewer-response", response, "After a write, sets the cookie that keeps the writer's reads on the master region"},
		} {
			created, err := cloudfront.NewFunction(ctx, f.logical, &cloudfront.FunctionArgs{
				Name:    pulumi.Sprintf("%s-%s", args.Name, f.logical),
				Runtime: pulumi.String(edgefn.Runtime),
				Code:    pulumi.String(f.code),
				Comment: pulumi.String(f.comment),
				Publish: pulumi.Bool(true),
			}, parent, onEdge)
			if err != nil {
				return nil, err
			}
			arns[f.event] = created.Arn
		}
		for _, event := range []string{"viewer-request", "viewer-response"} {
			defaultFns = append(defaultFns, cloudfront.DistributionDefaultCacheBehaviorFunctionAssociationArgs{EventType: pulumi.String(event), FunctionArn: arns[event]})
			productFns = append(productFns, cloudfront.DistributionOrderedCacheBehaviorFunctionAssociationArgs{EventType: pulumi.String(event), FunctionArn: arns[event]})
		}
	}

	cached := pulumi.ToStringArray([]string{"GET", "HEAD"})
	return cloudfront.NewDistribution(ctx, "cdn", &cloudfront.DistributionArgs{
		Comment:     pulumi.Sprintf("%s: the public API", args.Name),
		Enabled:     pulumi.Bool(true),
		Aliases:     pulumi.StringArray{pulumi.String(args.APIHost)},
		HttpVersion: pulumi.String("http2and3"),
		// IPv6 viewers too: the API host has an AAAA alias.
		IsIpv6Enabled: pulumi.Bool(true),
		PriceClass:    pulumi.String(args.PriceClass),
		WebAclId:      args.WebACLArn,
		Origins: cloudfront.DistributionOriginArray{cloudfront.DistributionOriginArgs{
			OriginId:   pulumi.String(OriginID),
			DomainName: pulumi.String(OriginHost(args.APIHost)),
			CustomOriginConfig: cloudfront.DistributionOriginCustomOriginConfigArgs{
				HttpPort:             pulumi.Int(80),
				HttpsPort:            pulumi.Int(443),
				OriginProtocolPolicy: pulumi.String("https-only"),
				OriginSslProtocols:   pulumi.StringArray{pulumi.String("TLSv1.2")},
				OriginReadTimeout:    pulumi.Int(30),
				// Kept-alive connections to the origins are what makes
				// a write's one cross-region hop one round trip, not a
				// TLS handshake too (60 s is CloudFront's most without
				// a quota increase).
				OriginKeepaliveTimeout: pulumi.Int(60),
			},
			CustomHeaders: cloudfront.DistributionOriginCustomHeaderArray{cloudfront.DistributionOriginCustomHeaderArgs{
				Name:  pulumi.String(args.OriginHeader),
				Value: args.OriginSecret,
			}},
		}},
		DefaultCacheBehavior: cloudfront.DistributionDefaultCacheBehaviorArgs{
			TargetOriginId:        pulumi.String(OriginID),
			ViewerProtocolPolicy:  pulumi.String("https-only"),
			AllowedMethods:        pulumi.ToStringArray(AllMethods),
			CachedMethods:         cached,
			CachePolicyId:         pulumi.String(CachingDisabledPolicy),
			OriginRequestPolicyId: pulumi.String(AllViewerExceptHostPolicy),
			Compress:              pulumi.Bool(true),
			FunctionAssociations:  defaultFns,
		},
		OrderedCacheBehaviors: cloudfront.DistributionOrderedCacheBehaviorArray{cloudfront.DistributionOrderedCacheBehaviorArgs{
			PathPattern:          pulumi.String(ProductsPath),
			TargetOriginId:       pulumi.String(OriginID),
			ViewerProtocolPolicy: pulumi.String("https-only"),
			// Product writes share the path: every method is allowed,
			// only reads are cached.
			AllowedMethods:        pulumi.ToStringArray(AllMethods),
			CachedMethods:         cached,
			CachePolicyId:         products.ID(),
			OriginRequestPolicyId: pulumi.String(AllViewerExceptHostPolicy),
			Compress:              pulumi.Bool(true),
			FunctionAssociations:  productFns,
		}},
		ViewerCertificate: cloudfront.DistributionViewerCertificateArgs{
			AcmCertificateArn:      args.Certificate,
			SslSupportMethod:       pulumi.String("sni-only"),
			MinimumProtocolVersion: pulumi.String("TLSv1.2_2021"),
		},
		Restrictions: cloudfront.DistributionRestrictionsArgs{
			GeoRestriction: cloudfront.DistributionRestrictionsGeoRestrictionArgs{RestrictionType: pulumi.String("none")},
		},
	}, parent, onEdge)
}

// accessLogs delivers CloudFront's standard logs (v2) to the edge's
// encrypted, retained log group. The legacy standard logging would need
// an S3 bucket with ACLs enabled, which the account's buckets otherwise
// never need.
func (r *Routing) accessLogs(ctx *pulumi.Context, args *RoutingArgs, dist *cloudfront.Distribution, parent, onEdge pulumi.ResourceOption) error {
	source, err := cloudwatch.NewLogDeliverySource(ctx, "cdn-logs", &cloudwatch.LogDeliverySourceArgs{
		Name:        pulumi.Sprintf("%s-cdn", args.Name),
		LogType:     pulumi.String("ACCESS_LOGS"),
		ResourceArn: dist.Arn,
	}, parent, onEdge)
	if err != nil {
		return err
	}
	dest, err := cloudwatch.NewLogDeliveryDestination(ctx, "cdn-logs", &cloudwatch.LogDeliveryDestinationArgs{
		Name:         pulumi.Sprintf("%s-cdn-logs", args.Name),
		OutputFormat: pulumi.String("json"),
		DeliveryDestinationConfiguration: cloudwatch.LogDeliveryDestinationDeliveryDestinationConfigurationArgs{
			DestinationResourceArn: args.LogGroupArn,
		},
	}, parent, onEdge)
	if err != nil {
		return err
	}
	_, err = cloudwatch.NewLogDelivery(ctx, "cdn-logs", &cloudwatch.LogDeliveryArgs{
		DeliverySourceName:     source.Name,
		DeliveryDestinationArn: dest.Arn,
	}, parent, onEdge)
	return err
}
