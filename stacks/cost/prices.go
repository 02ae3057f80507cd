package cost

// The price table. Every figure is AWS's public on-demand list price in USD
// (Linux, no reservation, savings plan or free tier) from the page named in
// Sources for its service.
//
// How far to trust it: the figures were written down on PricesDate from the
// author's knowledge of those pages, without fetching them (the machine this
// repository is built on has no internet). The us-east-1 figures and the
// prices that are the same in every region are the long-standing list
// prices; the eu-west-1 and ap-south-1 figures for RDS, ElastiCache, load
// balancers, log ingestion and Firehose ingestion are the least certain and may be a few percent
// off. Refresh a figure from its page (or the AWS Price List API) before a
// budget depends on it, and move PricesDate with it.

// PricesDate is when the table was last written.
const PricesDate = "2026-11-28"

// PricesNote is printed with every estimate.
const PricesNote = "written from the AWS pricing pages below without fetching them (no internet here); " +
	"eu-west-1 and ap-south-1 RDS, ElastiCache, load balancer, log and Firehose figures may be a few percent off: refresh before budgeting"

// Sources are the pricing pages, by service.
var Sources = map[string]string{ //nolint:gosec // addresses of public price pages, not credentials
	"ec2":         "https://aws.amazon.com/ec2/pricing/on-demand/",
	"ebs":         "https://aws.amazon.com/ebs/pricing/",
	"rds":         "https://aws.amazon.com/rds/postgresql/pricing/",
	"elasticache": "https://aws.amazon.com/elasticache/pricing/",
	"vpc":         "https://aws.amazon.com/vpc/pricing/",
	"privatelink": "https://aws.amazon.com/privatelink/pricing/",
	"elb":         "https://aws.amazon.com/elasticloadbalancing/pricing/",
	"cloudwatch":  "https://aws.amazon.com/cloudwatch/pricing/",
	"eks":         "https://aws.amazon.com/eks/pricing/",
	"kms":         "https://aws.amazon.com/kms/pricing/",
	"secrets":     "https://aws.amazon.com/secrets-manager/pricing/",
	"ecr":         "https://aws.amazon.com/ecr/pricing/",
	"waf":         "https://aws.amazon.com/waf/pricing/",
	"cloudfront":  "https://aws.amazon.com/cloudfront/pricing/",
	"route53":     "https://aws.amazon.com/route53/pricing/",
	"amp":         "https://aws.amazon.com/prometheus/pricing/",
	"firehose":    "https://aws.amazon.com/firehose/pricing/",
}

// Regional are the prices that differ by region.
type Regional struct {
	// EC2 is USD per instance-hour (Linux).
	EC2 map[string]float64
	// EBSGp3 is USD per GB-month of gp3 (node root volumes; the
	// included 3,000 IOPS and 125 MB/s are what the launch templates use).
	EBSGp3 float64
	// RDSPostgres is USD per instance-hour of a single-AZ RDS for
	// PostgreSQL instance; a Multi-AZ instance (one standby) is twice it.
	RDSPostgres map[string]float64
	// RDSGp3 is USD per GB-month of single-AZ gp3 storage (Multi-AZ twice).
	RDSGp3 float64
	// ElastiCacheRedis is USD per node-hour (Redis OSS engine).
	ElastiCacheRedis map[string]float64
	// NATHour and NATGB: per NAT gateway-hour and per GB processed.
	NATHour, NATGB float64
	// EndpointHour is per interface endpoint per AZ per hour; EndpointGB per
	// GB processed.
	EndpointHour, EndpointGB float64
	// ALBHour and ALBLCUHour: per application load balancer-hour and per
	// LCU-hour.
	ALBHour, ALBLCUHour float64
	// LogsIngestGB is CloudWatch Logs ingestion per GB (standard class;
	// VPC flow logs, vended, cost the same for the first 10 TB a month).
	LogsIngestGB float64
	// FirehoseIngestGB is Firehose Direct PUT ingestion per GB (first
	// 500 TB a month; each record is billed in 5 KB increments, which
	// CloudWatch Logs' batched records exceed).
	FirehoseIngestGB float64
}

// Same-everywhere prices (AWS publishes one figure for every commercial
// region).
const (
	EKSClusterHour          = 0.10  // standard support; extended support is 0.60
	KMSKeyMonth             = 1.00  // each of a key's first two yearly rotations adds 1.00
	SecretMonth             = 0.40  // plus 0.05 per 10,000 API calls
	ECRStorageGBMonth       = 0.10  // per GB-month stored
	PublicIPv4Hour          = 0.005 // every public IPv4 address, attached or not
	WAFWebACLMonth          = 5.00
	WAFRuleMonth            = 1.00 // a managed rule group counts as one rule
	WAFMillionRequests      = 0.60
	Route53ZoneMonth        = 0.50 // the first 25 zones
	Route53HealthCheckMonth = 0.50 // basic check of an AWS endpoint
	Route53CheckOptionMonth = 1.00 // each optional feature (HTTPS, string match, fast interval, latency) of an AWS endpoint
	AlarmMonth              = 0.10 // standard-resolution metric alarm
	CompositeAlarmMonth     = 0.50
	DashboardMonth          = 3.00
	// CloudFrontHTTPS10k is per 10,000 HTTPS requests at US, Canada and
	// Europe edge locations (other edges cost more).
	CloudFrontHTTPS10k = 0.0100
	// CloudFrontFunctionMillion is per million CloudFront Functions
	// invocations (every edge location).
	CloudFrontFunctionMillion = 0.10
)

// CloudFrontOut is data transfer out to the internet from US, Canada and
// Europe edge locations, per GB, by monthly tier.
var CloudFrontOut = []Tier{
	{UpToGB: 10 * 1024, USD: 0.085},
	{UpToGB: 50 * 1024, USD: 0.080},
	{UpToGB: 150 * 1024, USD: 0.060},
	{UpToGB: 500 * 1024, USD: 0.040},
	{UpToGB: 1024 * 1024, USD: 0.030},
	{UpToGB: 5 * 1024 * 1024, USD: 0.025},
	{UpToGB: 0, USD: 0.020}, // 0: no upper bound
}

// Tier is one step of a tiered price: USD per GB up to UpToGB in the month.
type Tier struct {
	UpToGB float64
	USD    float64
}

// Tiered prices gb against tiers.
func Tiered(gb float64, tiers []Tier) float64 {
	total, from := 0.0, 0.0
	for _, t := range tiers {
		if gb <= from {
			break
		}
		to := gb
		if t.UpToGB > 0 && t.UpToGB < gb {
			to = t.UpToGB
		}
		total += (to - from) * t.USD
		from = to
	}
	return total
}

// usEast are N. Virginia's prices; Ohio and Oregon list the same figures
// for every price here.
var usEast = Regional{
	EC2: map[string]float64{
		"t3.medium": 0.0416, "t3.large": 0.0832, "t3.xlarge": 0.1664, "t3.2xlarge": 0.3328,
		"m6i.large": 0.096, "m6i.xlarge": 0.192, "m6i.2xlarge": 0.384, "m6i.4xlarge": 0.768,
		"m6a.large": 0.0864, "m6a.xlarge": 0.1728, "m6a.2xlarge": 0.3456, "m6a.4xlarge": 0.6912,
		"m7i.large": 0.1008, "m7i.xlarge": 0.2016, "m7i.2xlarge": 0.4032,
		"m7g.large": 0.0816, "m7g.xlarge": 0.1632, "m7g.2xlarge": 0.3264,
		"c6i.large": 0.085, "c6i.xlarge": 0.17, "c6i.2xlarge": 0.34,
		"r6i.large": 0.126, "r6i.xlarge": 0.252, "r6i.2xlarge": 0.504,
	},
	EBSGp3: 0.08,
	RDSPostgres: map[string]float64{
		"db.t4g.micro": 0.016, "db.t4g.small": 0.032, "db.t4g.medium": 0.065, "db.t4g.large": 0.129,
		"db.m6g.large": 0.159, "db.m6g.xlarge": 0.318, "db.m6g.2xlarge": 0.636,
		"db.m6i.large": 0.178, "db.m6i.xlarge": 0.356, "db.m6i.2xlarge": 0.712,
		"db.r6g.large": 0.225, "db.r6g.xlarge": 0.45, "db.r6g.2xlarge": 0.90, "db.r6g.4xlarge": 1.80,
		"db.r6i.large": 0.25, "db.r6i.xlarge": 0.50, "db.r6i.2xlarge": 1.00,
	},
	RDSGp3: 0.115,
	ElastiCacheRedis: map[string]float64{
		"cache.t4g.micro": 0.016, "cache.t4g.small": 0.032, "cache.t4g.medium": 0.065,
		"cache.m6g.large": 0.149, "cache.m7g.large": 0.158,
		"cache.r6g.large": 0.206, "cache.r6g.xlarge": 0.411,
		"cache.r7g.large": 0.219, "cache.r7g.xlarge": 0.437,
	},
	NATHour: 0.045, NATGB: 0.045,
	EndpointHour: 0.01, EndpointGB: 0.01,
	ALBHour: 0.0225, ALBLCUHour: 0.008,
	LogsIngestGB:     0.50,
	FirehoseIngestGB: 0.029,
}

// Prices are the regions priced so far; a region missing here gets its
// region-dependent items reported as not priced, never as zero.
var Prices = map[string]Regional{
	"us-east-1": usEast,
	"us-east-2": usEast,
	"us-west-2": usEast,
	"eu-west-1": {
		EC2: map[string]float64{
			"t3.medium": 0.0456, "t3.large": 0.0912, "t3.xlarge": 0.1824,
			"m6i.large": 0.107, "m6i.xlarge": 0.214, "m6i.2xlarge": 0.428,
			"m6a.large": 0.0963, "m6a.xlarge": 0.1926, "m6a.2xlarge": 0.3852,
		},
		EBSGp3: 0.088,
		RDSPostgres: map[string]float64{
			"db.t4g.micro": 0.018, "db.t4g.small": 0.036, "db.t4g.medium": 0.072,
			"db.m6g.large": 0.176, "db.m6g.xlarge": 0.352,
			"db.r6g.large": 0.252, "db.r6g.xlarge": 0.504, "db.r6g.2xlarge": 1.008,
		},
		RDSGp3: 0.127,
		ElastiCacheRedis: map[string]float64{
			"cache.t4g.micro": 0.018, "cache.t4g.small": 0.036, "cache.t4g.medium": 0.072,
			"cache.r6g.large": 0.229, "cache.r7g.large": 0.243,
		},
		NATHour: 0.048, NATGB: 0.048,
		EndpointHour: 0.011, EndpointGB: 0.01,
		ALBHour: 0.0252, ALBLCUHour: 0.008,
		LogsIngestGB:     0.57,
		FirehoseIngestGB: 0.031,
	},
	"ap-south-1": {
		EC2: map[string]float64{
			"t3.medium": 0.0448, "t3.large": 0.0896, "t3.xlarge": 0.1792,
			"m6i.large": 0.101, "m6i.xlarge": 0.202, "m6i.2xlarge": 0.404,
			"m6a.large": 0.0909, "m6a.xlarge": 0.1818, "m6a.2xlarge": 0.3636,
		},
		EBSGp3: 0.0912,
		RDSPostgres: map[string]float64{
			"db.t4g.micro": 0.018, "db.t4g.medium": 0.072,
			"db.m6g.large": 0.170,
			"db.r6g.large": 0.258, "db.r6g.xlarge": 0.516, "db.r6g.2xlarge": 1.032,
		},
		RDSGp3: 0.131,
		ElastiCacheRedis: map[string]float64{
			"cache.t4g.micro": 0.017, "cache.t4g.medium": 0.069,
			"cache.r7g.large": 0.240,
		},
		NATHour: 0.056, NATGB: 0.056,
		EndpointHour: 0.011, EndpointGB: 0.01,
		ALBHour: 0.0239, ALBLCUHour: 0.0076,
		LogsIngestGB:     0.67,
		FirehoseIngestGB: 0.034,
	},
}
