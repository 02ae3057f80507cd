package cost

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// HoursPerMonth is AWS's convention for a month of an always-on resource
// (24 h x 365 d / 12).
const HoursPerMonth = 730

// Assumptions are the usage figures a plan cannot know. Every estimate
// prints them; `-assume name=value` changes one.
type Assumptions struct {
	// NATGBPerGateway is the data each NAT gateway processes in a month
	// (pulls from public registries, calls to AWS APIs of other regions).
	NATGBPerGateway float64
	// EndpointGBPerRegion is the data through a region's interface
	// endpoints in a month (image pulls, secrets, queues, topics, logs).
	EndpointGBPerRegion float64
	// FlowLogGBPerVPC, ControlPlaneLogGBPerCluster, DatabaseLogGBPerInstance
	// and OtherLogGBPerGroup are CloudWatch Logs ingestion per month, by kind
	// of log group.
	FlowLogGBPerVPC             float64
	ControlPlaneLogGBPerCluster float64
	DatabaseLogGBPerInstance    float64
	OtherLogGBPerGroup          float64
	// ContainerLogGBPerRegion and DataplaneLogGBPerRegion are a region's
	// Container Insights "application" (the pods' stdout/stderr) and
	// "dataplane" (kubelet, kube-proxy, container runtime) logs in a month:
	// ingested by their log groups, then again by the central logs'
	// Firehose streams. The application figure follows the request rate:
	// the services write an access-log line for 5% of requests
	// (ACCESS_LOG_SAMPLE_RATE) and for every failure, about 1 KB each with
	// the Kubernetes metadata the agent adds; prod's 20,000 requests/s over
	// three regions is ~330 lines/s, ~870 GB a month per region, plus the
	// system pods. The dataplane figure follows the nodes (~2-3 GB per node
	// a month).
	ContainerLogGBPerRegion float64
	DataplaneLogGBPerRegion float64
	// ImageMB is one service image's stored size; a repository keeps as
	// many images as its lifecycle policy allows.
	ImageMB float64
	// RequestsPerSecond is the stack's average request rate, for what is
	// priced per request (load balancer capacity units, WAF, CloudFront),
	// spread evenly over the regions with a load balancer.
	RequestsPerSecond float64
	// ResponseKB is the average response size (CloudFront data out, load
	// balancer processed bytes).
	ResponseKB float64
	// RequestsPerConnection is how many requests CloudFront sends over one
	// connection to a load balancer (new connections per second are a
	// load balancer capacity dimension).
	RequestsPerConnection float64
	// SeriesPerPod is how many series one service pod's /metrics exposes
	// (a dozen routes' latency histograms of 15 series each and their
	// status-coded counters, the outbox, consumer and pool series);
	// BytesPerSample is one stored sample's size in the workspace.
	SeriesPerPod   float64
	BytesPerSample float64
}

// DefaultAssumptions are the figures for an environment: dev is a few
// engineers, staging a test load, prod the seed's scale (100,000 requests/s
// at peak; the average is a fifth of it).
func DefaultAssumptions(environment string) Assumptions {
	switch environment {
	case "prod":
		return Assumptions{
			NATGBPerGateway: 500, EndpointGBPerRegion: 2000,
			FlowLogGBPerVPC: 300, ControlPlaneLogGBPerCluster: 100, DatabaseLogGBPerInstance: 10, OtherLogGBPerGroup: 1,
			ContainerLogGBPerRegion: 900, DataplaneLogGBPerRegion: 30,
			ImageMB: 20, RequestsPerSecond: 20000, ResponseKB: 8, RequestsPerConnection: 100,
			SeriesPerPod: 300, BytesPerSample: 2,
		}
	case "staging":
		return Assumptions{
			NATGBPerGateway: 50, EndpointGBPerRegion: 100,
			FlowLogGBPerVPC: 20, ControlPlaneLogGBPerCluster: 10, DatabaseLogGBPerInstance: 1, OtherLogGBPerGroup: 0.5,
			ContainerLogGBPerRegion: 10, DataplaneLogGBPerRegion: 5,
			ImageMB: 20, RequestsPerSecond: 50, ResponseKB: 8, RequestsPerConnection: 100,
			SeriesPerPod: 300, BytesPerSample: 2,
		}
	default:
		return Assumptions{
			NATGBPerGateway: 20, EndpointGBPerRegion: 20,
			FlowLogGBPerVPC: 5, ControlPlaneLogGBPerCluster: 5, DatabaseLogGBPerInstance: 0.5, OtherLogGBPerGroup: 0.1,
			ContainerLogGBPerRegion: 2, DataplaneLogGBPerRegion: 1,
			ImageMB: 20, RequestsPerSecond: 2, ResponseKB: 8, RequestsPerConnection: 100,
			SeriesPerPod: 300, BytesPerSample: 2,
		}
	}
}

type assumption struct {
	name, unit, doc string
	field           func(a *Assumptions) *float64
}

var assumptionList = []assumption{
	{"nat-gb", "GB per NAT gateway per month", "data processed by each NAT gateway", func(a *Assumptions) *float64 { return &a.NATGBPerGateway }},
	{"endpoint-gb", "GB per region per month", "data through the interface endpoints", func(a *Assumptions) *float64 { return &a.EndpointGBPerRegion }},
	{"flow-log-gb", "GB per VPC per month", "VPC flow log ingestion", func(a *Assumptions) *float64 { return &a.FlowLogGBPerVPC }},
	{"control-plane-log-gb", "GB per cluster per month", "EKS control-plane log ingestion (audit dominates)", func(a *Assumptions) *float64 { return &a.ControlPlaneLogGBPerCluster }},
	{"database-log-gb", "GB per DB instance per month", "PostgreSQL log ingestion (slow statements, connections)", func(a *Assumptions) *float64 { return &a.DatabaseLogGBPerInstance }},
	{"container-log-gb", "GB per region per month", "the pods' logs (Container Insights application group; the central logs' containers stream ingests them again): 5% of requests access-logged at ~1 KB, plus the system pods", func(a *Assumptions) *float64 { return &a.ContainerLogGBPerRegion }},
	{"dataplane-log-gb", "GB per region per month", "the nodes' kubelet, kube-proxy and runtime logs (Container Insights dataplane group; again in the central logs' dataplane stream): ~2-3 GB per node", func(a *Assumptions) *float64 { return &a.DataplaneLogGBPerRegion }},
	{"other-log-gb", "GB per log group per month", "ingestion of every other log group (and the central logs' WAF stream)", func(a *Assumptions) *float64 { return &a.OtherLogGBPerGroup }},
	{"image-mb", "MB per image", "stored size of one service image", func(a *Assumptions) *float64 { return &a.ImageMB }},
	{"rps", "requests/s", "average request rate of the stack (the load balancer, WAF and CloudFront lines)", func(a *Assumptions) *float64 { return &a.RequestsPerSecond }},
	{"response-kb", "KB", "average response size", func(a *Assumptions) *float64 { return &a.ResponseKB }},
	{"requests-per-connection", "requests", "requests per CloudFront-to-load-balancer connection", func(a *Assumptions) *float64 { return &a.RequestsPerConnection }},
	{"series-per-pod", "series", "Prometheus series one service pod exposes (samples/s = series x minimum pods / 30 s)", func(a *Assumptions) *float64 { return &a.SeriesPerPod }},
	{"sample-bytes", "bytes", "stored size of one Prometheus sample", func(a *Assumptions) *float64 { return &a.BytesPerSample }},
}

// Set changes one assumption from "name=value".
func (a *Assumptions) Set(kv string) error {
	name, value, ok := strings.Cut(kv, "=")
	names := make([]string, 0, len(assumptionList))
	for _, x := range assumptionList {
		names = append(names, x.name)
	}
	sort.Strings(names)
	if !ok {
		return fmt.Errorf("-assume %q: want name=value; names: %s", kv, strings.Join(names, ", "))
	}
	for _, x := range assumptionList {
		if x.name != name {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil || v < 0 {
			return fmt.Errorf("-assume %s: %q is not a number >= 0", name, value)
		}
		*x.field(a) = v
		return nil
	}
	return fmt.Errorf("-assume %s: no such assumption; names: %s", name, strings.Join(names, ", "))
}

// Lines describes every assumption, one per line.
func (a Assumptions) Lines() []string {
	out := []string{fmt.Sprintf("hours per month: %d (every always-on resource runs the whole month)", HoursPerMonth)}
	for _, x := range assumptionList {
		out = append(out, fmt.Sprintf("%s = %s %s: %s", x.name, strconv.FormatFloat(*x.field(&a), 'f', -1, 64), x.unit, x.doc))
	}
	return out
}
