// Package ingress is the regional half of the traffic path: an
// application load balancer in the region's public subnets that admits
// only CloudFront and only requests carrying the origin secret, one IP
// target group per Kubernetes Service (stable and canary) with path rules
// and canary weights, its access logs in a bucket of the region, and the
// AWS Load Balancer Controller with a TargetGroupBinding per Service, which
// keeps each target group's targets equal to the Service's ready pods.
//
// The load balancer is Pulumi's, not an Ingress's: its DNS name and zone
// are outputs the global DNS records and the CDN origin read in the same
// program.
package ingress

import (
	"fmt"
	"net"
	"regexp"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/check"
	"github.com/example/ecommerce-platform/components/cluster"
	"github.com/example/ecommerce-platform/components/workload"
)

// CloudFrontPrefixList is the AWS-managed prefix list of the addresses
// CloudFront reaches origins from.
const CloudFrontPrefixList = "com.amazonaws.global.cloudfront.origin-facing"

// Listener settings.
const (
	// SSLPolicy negotiates TLS 1.2 or 1.3 with forward-secret ciphers only.
	SSLPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"
	// DesyncMitigationMode: strictest refuses every request that is not
	// RFC 7230 compliant. The only client is CloudFront, which sends
	// compliant requests, so nothing legitimate is lost, and no ambiguous
	// request reaches the services.
	DesyncMitigationMode = "strictest"
	// HealthCheckPath is the services' readiness endpoint: a pod whose
	// database or cache is out of reach stops receiving traffic.
	HealthCheckPath = "/readyz"
	// DeregistrationDelaySeconds is how long the load balancer lets a
	// removed pod finish its requests: the pod's whole shutdown, see
	// workload.DeregistrationDelaySeconds.
	DeregistrationDelaySeconds = workload.DeregistrationDelaySeconds
)

// Backend is one service's workloads in the region, as the traffic path
// binds them.
type Backend struct {
	// Service is the bundled service ("auth"); it picks the paths.
	Service string
	// Namespace, ServiceName and CanaryServiceName ("" without a canary)
	// are the Kubernetes Services to bind.
	Namespace         string
	ServiceName       string
	CanaryServiceName string
	// CanaryWeight is the canary's percentage of the service's requests.
	CanaryWeight int
	// Workload creates the namespace and Services; the bindings wait for it.
	Workload pulumi.Resource
}

// ClusterArgs are the region's cluster, where the controller runs.
type ClusterArgs struct {
	Name            pulumi.StringInput
	OidcProviderArn pulumi.StringInput
	OidcIssuerURL   pulumi.StringInput
	// NodeSecurityGroupID is the group of the nodes, and so of the pods
	// (the VPC CNI gives pods their node's groups): it admits the load
	// balancer on the pods' port.
	NodeSecurityGroupID pulumi.StringInput
	// Provider deploys into the cluster.
	Provider pulumi.ProviderResource
	// NodeSelector places the controller (the system node group).
	NodeSelector map[string]string
	// Ready are what the controller's pods need first (node groups,
	// add-ons).
	Ready []pulumi.Resource
}

// Args configures one region's ingress. The region's AWS provider comes in
// opts (from the Region component).
type Args struct {
	Region    string
	AccountID string
	// DisplayName names things and tags, e.g. "ecommerce-prod-us-east-1".
	DisplayName string
	VpcID       pulumi.StringInput
	// VpcCidr bounds the load balancer's egress (the pods' addresses).
	VpcCidr string
	// PublicSubnetIDs place the load balancer, one per zone.
	PublicSubnetIDs pulumi.StringArrayInput
	// CertificateArn is the region's validated ACM certificate.
	CertificateArn pulumi.StringInput
	// OriginSecret is the value CloudFront sends in OriginHeader; it is
	// kept secret in state.
	OriginSecret pulumi.StringInput
	// DeletionProtection keeps the load balancer (and the logs' bucket)
	// from being deleted by accident; on outside dev.
	DeletionProtection bool
	// AccessLogRetentionDays expires access logs.
	AccessLogRetentionDays int
	// Backends are the services to route to, in rule order.
	Backends []Backend
	Cluster  ClusterArgs
}

// Ingress is one region's load balancer and its bindings.
type Ingress struct {
	pulumi.ResourceState

	// DNSName and ZoneID are what a Route 53 alias to the load balancer
	// names (ZoneID is the load balancer's canonical hosted zone).
	DNSName pulumi.StringOutput `pulumi:"dnsName"`
	ZoneID  pulumi.StringOutput `pulumi:"zoneId"`
	// ArnSuffix names the load balancer in CloudWatch metrics.
	ArnSuffix pulumi.StringOutput `pulumi:"arnSuffix"`
	// SecurityGroupID is the load balancer's group.
	SecurityGroupID pulumi.StringOutput `pulumi:"securityGroupId"`
	// AccessLogBucket holds the access logs.
	AccessLogBucket pulumi.StringOutput `pulumi:"accessLogBucket"`
	// AccessLogVersioning versions the bucket: what a replication of the
	// access logs waits for.
	AccessLogVersioning pulumi.Resource
	// TargetGroups by Kubernetes Service name ("auth", "auth-canary").
	TargetGroups map[string]*lb.TargetGroup
	// Routes are the listener rules, in priority order.
	Routes []Route
}

var accountPattern = regexp.MustCompile(`^[0-9]{12}$`)

func (a *Args) check() error {
	p := check.New("ingress")
	if a == nil {
		p.Require("Args", false)
		return p.Err()
	}
	p.Require("Region", a.Region != "")
	if !accountPattern.MatchString(a.AccountID) {
		p.Add("AccountID", "%q is not a 12-digit account", a.AccountID)
	}
	p.Require("DisplayName", a.DisplayName != "")
	p.Require("VpcID", a.VpcID != nil)
	if _, _, err := net.ParseCIDR(a.VpcCidr); err != nil {
		p.Add("VpcCidr", "%q is not a CIDR", a.VpcCidr)
	}
	p.Require("PublicSubnetIDs", a.PublicSubnetIDs != nil)
	p.Require("CertificateArn", a.CertificateArn != nil)
	if a.OriginSecret == nil {
		p.Add("OriginSecret", "is required: without it the load balancer would serve anyone who finds its name")
	}
	if a.AccessLogRetentionDays < 1 {
		p.Add("AccessLogRetentionDays", "%d: allowed 1 or more", a.AccessLogRetentionDays)
	}
	if len(a.Backends) == 0 {
		p.Add("Backends", "is required: at least one service to route to")
	}
	seen := map[string]bool{}
	for i, b := range a.Backends {
		f := fmt.Sprintf("Backends[%d]", i)
		if _, ok := Paths[b.Service]; !ok {
			p.Add(f+".Service", "%q has no public paths; known: %v", b.Service, knownServices())
		}
		if seen[b.Service] {
			p.Add(f+".Service", "%q is listed twice", b.Service)
		}
		seen[b.Service] = true
		p.Require(f+".Namespace", b.Namespace != "")
		for _, n := range []string{b.ServiceName, b.CanaryServiceName} {
			if len(n) > MaxServiceNameLength {
				p.Add(f+".ServiceName", "%q is longer than %d characters, too long for its target group's name", n, MaxServiceNameLength)
			}
		}
		p.Require(f+".ServiceName", b.ServiceName != "")
		if b.CanaryWeight < 0 || b.CanaryWeight > 100 {
			p.Add(f+".CanaryWeight", "%d: allowed 0 to 100", b.CanaryWeight)
		}
		if b.CanaryWeight > 0 && b.CanaryServiceName == "" {
			p.Add(f+".CanaryWeight", "is %d without a CanaryServiceName", b.CanaryWeight)
		}
		p.Require(f+".Workload", b.Workload != nil)
	}
	c := a.Cluster
	p.Require("Cluster.Name", c.Name != nil)
	p.Require("Cluster.OidcProviderArn", c.OidcProviderArn != nil)
	p.Require("Cluster.OidcIssuerURL", c.OidcIssuerURL != nil)
	p.Require("Cluster.NodeSecurityGroupID", c.NodeSecurityGroupID != nil)
	p.Require("Cluster.Provider", c.Provider != nil)
	return p.Err()
}

// New creates the region's ingress.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Ingress, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	services := make([]string, len(args.Backends))
	for i, b := range args.Backends {
		services[i] = b.Service
	}
	routes, err := Routes(services)
	if err != nil {
		return nil, err
	}
	out := &Ingress{TargetGroups: map[string]*lb.TargetGroup{}, Routes: routes}
	if err := ctx.RegisterComponentResource("ecommerce:ingress:Ingress", name, out, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(out)
	tags := func(suffix string) pulumi.StringMap {
		return pulumi.StringMap{"Name": pulumi.String(args.DisplayName + suffix)}
	}

	sg, err := securityGroup(ctx, name, args, tags, out)
	if err != nil {
		return nil, err
	}
	logs, err := newAccessLogs(ctx, name+"-access-logs", args, tags("-alb-logs"), parent)
	if err != nil {
		return nil, err
	}

	alb, err := lb.NewLoadBalancer(ctx, name, &lb.LoadBalancerArgs{
		LoadBalancerType:         pulumi.String("application"),
		Internal:                 pulumi.Bool(false),
		Subnets:                  args.PublicSubnetIDs,
		SecurityGroups:           pulumi.StringArray{sg.ID()},
		DropInvalidHeaderFields:  pulumi.Bool(true),
		DesyncMitigationMode:     pulumi.String(DesyncMitigationMode),
		EnableDeletionProtection: pulumi.Bool(args.DeletionProtection),
		AccessLogs: lb.LoadBalancerAccessLogsArgs{
			Bucket:  logs.Bucket.Bucket,
			Prefix:  pulumi.String(AccessLogPrefix),
			Enabled: pulumi.Bool(true),
		},
		Tags: tags("-alb"),
	}, parent, pulumi.DependsOn([]pulumi.Resource{logs.Policy}))
	if err != nil {
		return nil, err
	}

	for _, b := range args.Backends {
		for _, svc := range []string{b.ServiceName, b.CanaryServiceName} {
			if svc == "" {
				continue
			}
			tg, err := targetGroup(ctx, name+"-"+svc, args, svc, tags("-"+svc), parent)
			if err != nil {
				return nil, err
			}
			out.TargetGroups[svc] = tg
		}
	}

	// The default answer is 403: only a request that matches a service's
	// paths and carries the origin secret reaches a pod.
	https, err := lb.NewListener(ctx, name+"-https", &lb.ListenerArgs{
		LoadBalancerArn: alb.Arn,
		Port:            pulumi.Int(443),
		Protocol:        pulumi.String("HTTPS"),
		SslPolicy:       pulumi.String(SSLPolicy),
		CertificateArn:  args.CertificateArn,
		DefaultActions: lb.ListenerDefaultActionArray{lb.ListenerDefaultActionArgs{
			Type: pulumi.String("fixed-response"),
			FixedResponse: lb.ListenerDefaultActionFixedResponseArgs{
				ContentType: pulumi.String("text/plain"),
				MessageBody: pulumi.String("Forbidden"),
				StatusCode:  pulumi.String("403"),
			},
		}},
		Tags: tags("-https"),
	}, parent)
	if err != nil {
		return nil, err
	}
	// Port 80 only ever redirects. The security group admits 443 alone,
	// so nothing reaches it today; if the group is ever widened, plain
	// HTTP still never reaches a service.
	if _, err := lb.NewListener(ctx, name+"-http", &lb.ListenerArgs{
		LoadBalancerArn: alb.Arn,
		Port:            pulumi.Int(80),
		Protocol:        pulumi.String("HTTP"),
		DefaultActions: lb.ListenerDefaultActionArray{lb.ListenerDefaultActionArgs{
			Type: pulumi.String("redirect"),
			Redirect: lb.ListenerDefaultActionRedirectArgs{
				Protocol:   pulumi.String("HTTPS"),
				Port:       pulumi.String("443"),
				StatusCode: pulumi.String("HTTP_301"),
			},
		}},
		Tags: tags("-http"),
	}, parent); err != nil {
		return nil, err
	}

	// The secret is marked secret whatever the caller passed, so the
	// rules' conditions are encrypted in state and never printed.
	secret := pulumi.ToSecret(args.OriginSecret.ToStringOutput()).(pulumi.StringOutput)
	for i, r := range routes {
		if err := rule(ctx, name, https, r, args.Backends[i], out.TargetGroups, secret, parent); err != nil {
			return nil, err
		}
	}

	if err := controller(ctx, name, args, out.TargetGroups, parent); err != nil {
		return nil, err
	}

	out.DNSName = alb.DnsName
	out.ZoneID = alb.ZoneId
	out.ArnSuffix = alb.ArnSuffix
	out.SecurityGroupID = sg.ID().ToStringOutput()
	out.AccessLogBucket = logs.Bucket.Bucket
	out.AccessLogVersioning = logs.Versioning
	arns := pulumi.StringMap{}
	for svc, tg := range out.TargetGroups {
		arns[svc] = tg.Arn
	}
	return out, ctx.RegisterResourceOutputs(out, pulumi.Map{
		"dnsName":         out.DNSName,
		"zoneId":          out.ZoneID,
		"arnSuffix":       out.ArnSuffix,
		"securityGroupId": out.SecurityGroupID,
		"accessLogBucket": out.AccessLogBucket,
		"targetGroupArns": arns,
	})
}

// securityGroup is the load balancer's group: HTTPS in from CloudFront's
// origin-facing addresses only, out only to the pods' port in the VPC. The
// nodes' group (the pods') admits it on that port.
func securityGroup(ctx *pulumi.Context, name string, args *Args, tags func(string) pulumi.StringMap, owner pulumi.Resource) (*ec2.SecurityGroup, error) {
	parent := pulumi.Parent(owner)
	// The list's id differs by region: the invoke goes through the
	// region's provider, inherited from the component.
	cloudfront := ec2.LookupManagedPrefixListOutput(ctx, ec2.LookupManagedPrefixListOutputArgs{
		Name: pulumi.String(CloudFrontPrefixList),
	}, parent)
	sg, err := ec2.NewSecurityGroup(ctx, name, &ec2.SecurityGroupArgs{
		VpcId:               args.VpcID,
		Description:         pulumi.String("Load balancer: HTTPS from CloudFront only"),
		RevokeRulesOnDelete: pulumi.Bool(true),
		Tags:                tags("-alb"),
	}, parent)
	if err != nil {
		return nil, err
	}
	// One rule: a rule naming the prefix list counts as its maximum size
	// (55) against the group's 60 inbound rules, so a second (port 80)
	// would not fit.
	if _, err := vpc.NewSecurityGroupIngressRule(ctx, name+"-https-from-cloudfront", &vpc.SecurityGroupIngressRuleArgs{
		SecurityGroupId: sg.ID(),
		Description:     pulumi.String("HTTPS from CloudFront's origin-facing addresses"),
		IpProtocol:      pulumi.String("tcp"),
		FromPort:        pulumi.Int(443),
		ToPort:          pulumi.Int(443),
		PrefixListId:    cloudfront.Id(),
		Tags:            tags("-alb-https"),
	}, parent); err != nil {
		return nil, err
	}
	if _, err := vpc.NewSecurityGroupEgressRule(ctx, name+"-to-pods", &vpc.SecurityGroupEgressRuleArgs{
		SecurityGroupId: sg.ID(),
		Description:     pulumi.Sprintf("Requests and health checks to the pods' port %d", workload.HTTPPort),
		IpProtocol:      pulumi.String("tcp"),
		FromPort:        pulumi.Int(workload.HTTPPort),
		ToPort:          pulumi.Int(workload.HTTPPort),
		CidrIpv4:        pulumi.String(args.VpcCidr),
		Tags:            tags("-alb-pods"),
	}, parent); err != nil {
		return nil, err
	}
	if _, err := vpc.NewSecurityGroupIngressRule(ctx, name+"-pods-from-alb", &vpc.SecurityGroupIngressRuleArgs{
		SecurityGroupId:           args.Cluster.NodeSecurityGroupID,
		Description:               pulumi.Sprintf("The load balancer to the pods' port %d", workload.HTTPPort),
		IpProtocol:                pulumi.String("tcp"),
		FromPort:                  pulumi.Int(workload.HTTPPort),
		ToPort:                    pulumi.Int(workload.HTTPPort),
		ReferencedSecurityGroupId: sg.ID(),
		Tags:                      tags("-pods-from-alb"),
	}, parent); err != nil {
		return nil, err
	}
	return sg, nil
}

// targetGroup is one Kubernetes Service's pods, by IP (the VPC CNI gives
// pods VPC addresses, so the load balancer skips the nodes' kube-proxy).
func targetGroup(ctx *pulumi.Context, logical string, args *Args, svc string, tags pulumi.StringMap, parent pulumi.ResourceOption) (*lb.TargetGroup, error) {
	return lb.NewTargetGroup(ctx, logical, &lb.TargetGroupArgs{
		Name:            pulumi.String(TargetGroupName(args.DisplayName, svc)),
		VpcId:           args.VpcID,
		TargetType:      pulumi.String("ip"),
		Protocol:        pulumi.String("HTTP"),
		ProtocolVersion: pulumi.String("HTTP1"),
		Port:            pulumi.Int(workload.HTTPPort),
		// A terminating pod fails /readyz and keeps serving for
		// workload.ShutdownDelaySeconds while the controller deregisters
		// it, then finishes in-flight requests for at most
		// workload.ShutdownTimeoutSeconds. The load balancer sends it
		// nothing new from deregistration on and keeps its open requests
		// for this long: as long as the pod may still be answering them,
		// and under the pod's grace period.
		DeregistrationDelay: pulumi.Int(DeregistrationDelaySeconds),
		HealthCheck: lb.TargetGroupHealthCheckArgs{
			Enabled:            pulumi.Bool(true),
			Protocol:           pulumi.String("HTTP"),
			Path:               pulumi.String(HealthCheckPath),
			Port:               pulumi.String("traffic-port"),
			Matcher:            pulumi.String("200"),
			Interval:           pulumi.Int(10),
			Timeout:            pulumi.Int(5),
			HealthyThreshold:   pulumi.Int(2),
			UnhealthyThreshold: pulumi.Int(2),
		},
		Tags: tags,
	}, parent)
}

// rule forwards one service's paths, when the origin header carries the
// secret, to its target group, or by weight to stable and canary.
func rule(ctx *pulumi.Context, name string, listener *lb.Listener, r Route, b Backend, tgs map[string]*lb.TargetGroup, secret pulumi.StringOutput, parent pulumi.ResourceOption) error {
	groups := lb.ListenerRuleActionForwardTargetGroupArray{}
	if b.CanaryServiceName == "" {
		groups = append(groups, lb.ListenerRuleActionForwardTargetGroupArgs{Arn: tgs[b.ServiceName].Arn, Weight: pulumi.Int(100)})
	} else {
		stable, canary := Weights(b.CanaryWeight)
		groups = append(groups,
			lb.ListenerRuleActionForwardTargetGroupArgs{Arn: tgs[b.ServiceName].Arn, Weight: pulumi.Int(stable)},
			lb.ListenerRuleActionForwardTargetGroupArgs{Arn: tgs[b.CanaryServiceName].Arn, Weight: pulumi.Int(canary)},
		)
	}
	_, err := lb.NewListenerRule(ctx, name+"-"+r.Service, &lb.ListenerRuleArgs{
		ListenerArn: listener.Arn,
		Priority:    pulumi.Int(r.Priority),
		Conditions: lb.ListenerRuleConditionArray{
			lb.ListenerRuleConditionArgs{PathPattern: lb.ListenerRuleConditionPathPatternArgs{Values: pulumi.ToStringArray(r.Patterns)}},
			lb.ListenerRuleConditionArgs{HttpHeader: lb.ListenerRuleConditionHttpHeaderArgs{
				HttpHeaderName: pulumi.String(OriginHeader),
				Values:         pulumi.StringArray{secret},
			}},
		},
		Actions: lb.ListenerRuleActionArray{lb.ListenerRuleActionArgs{
			Type:    pulumi.String("forward"),
			Forward: lb.ListenerRuleActionForwardArgs{TargetGroups: groups},
		}},
		Tags: pulumi.StringMap{"service": pulumi.String(r.Service)},
	}, parent)
	return err
}

// controller installs the AWS Load Balancer Controller with its own IRSA
// role, then binds each Kubernetes Service to its target group.
func controller(ctx *pulumi.Context, name string, args *Args, tgs map[string]*lb.TargetGroup, parent pulumi.ResourceOption) error {
	names := make([]string, 0, len(tgs))
	for svc := range tgs {
		names = append(names, svc)
	}
	slices.Sort(names)
	arns := make([]any, len(names))
	for i, svc := range names {
		arns[i] = tgs[svc].Arn
	}
	policy := pulumi.All(arns...).ApplyT(func(v []any) (string, error) {
		list := make([]string, len(v))
		for i, a := range v {
			list[i] = a.(string)
		}
		return ControllerPolicy(list)
	}).(pulumi.StringOutput)
	role, err := cluster.NewIRSARole(ctx, name+"-lb-controller", &cluster.IRSARoleArgs{
		OidcProviderArn: args.Cluster.OidcProviderArn,
		OidcIssuerURL:   args.Cluster.OidcIssuerURL,
		Namespace:       ControllerNamespace,
		ServiceAccount:  ControllerAccount,
		InlinePolicy:    policy,
		Description:     "AWS Load Balancer Controller of " + args.DisplayName,
	}, parent)
	if err != nil {
		return err
	}
	k8s := pulumi.Provider(args.Cluster.Provider)
	release, err := helmv3.NewRelease(ctx, name+"-lb-controller", &helmv3.ReleaseArgs{
		Name:           pulumi.String(ControllerAccount),
		Chart:          pulumi.String(ControllerChart),
		Version:        pulumi.String(ControllerChartVersion),
		Namespace:      pulumi.String(ControllerNamespace),
		RepositoryOpts: helmv3.RepositoryOptsArgs{Repo: pulumi.String(ControllerChartRepo)},
		Values: pulumi.Map{
			// Told its cluster, region and VPC, it never asks the
			// instance metadata (out of the pods' reach: hop limit 1).
			"clusterName":  args.Cluster.Name,
			"region":       pulumi.String(args.Region),
			"vpcId":        args.VpcID,
			"replicaCount": pulumi.Int(2),
			"serviceAccount": pulumi.Map{
				"create":      pulumi.Bool(true),
				"name":        pulumi.String(ControllerAccount),
				"annotations": pulumi.Map{"eks.amazonaws.com/role-arn": role.Arn},
			},
			// The webhook's certificate is generated by the chart at
			// install and kept from then on (keepTLSSecret reuses the
			// Secret), so a render does not change it, and no
			// cert-manager is needed.
			"enableCertManager": pulumi.Bool(false),
			"keepTLSSecret":     pulumi.Bool(true),
			// Bindings only: no IngressClass, and Services of type
			// LoadBalancer are not taken over (none are allowed).
			"createIngressClassResource":  pulumi.Bool(false),
			"enableServiceMutatorWebhook": pulumi.Bool(false),
			"nodeSelector":                pulumi.ToStringMap(args.Cluster.NodeSelector),
			"priorityClassName":           pulumi.String("system-cluster-critical"),
			"podDisruptionBudget":         pulumi.Map{"maxUnavailable": pulumi.Int(1)},
		},
	}, parent, k8s, pulumi.DependsOn(args.Cluster.Ready))
	if err != nil {
		return err
	}

	for _, b := range args.Backends {
		for _, svc := range []string{b.ServiceName, b.CanaryServiceName} {
			if svc == "" {
				continue
			}
			// After the controller (its webhook validates bindings) and the
			// workload (its namespace and Service).
			if _, err := apiextensions.NewCustomResource(ctx, name+"-"+svc, &apiextensions.CustomResourceArgs{
				ApiVersion: pulumi.String(BindingAPIVersion),
				Kind:       pulumi.String(BindingKind),
				Metadata: metav1.ObjectMetaArgs{
					Name:      pulumi.String(svc),
					Namespace: pulumi.String(b.Namespace),
					Labels: pulumi.StringMap{
						workload.AppLabel:           pulumi.String(b.Service),
						"app.kubernetes.io/part-of": pulumi.String("ecommerce"),
					},
				},
				OtherFields: kubernetes.UntypedArgs{
					"spec": pulumi.Map{
						"serviceRef":     pulumi.Map{"name": pulumi.String(svc), "port": pulumi.Int(workload.ServicePort)},
						"targetGroupARN": tgs[svc].Arn,
						"targetType":     pulumi.String("ip"),
					},
				},
			}, parent, k8s, pulumi.DependsOn([]pulumi.Resource{release, b.Workload})); err != nil {
				return err
			}
		}
	}
	return nil
}
