package stacks

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/database"
	"github.com/example/ecommerce-platform/components/edge"
	"github.com/example/ecommerce-platform/components/region"
	"github.com/example/ecommerce-platform/stacks/config"
)

// export writes the stack outputs: per region a summary, per service its
// endpoints. Never a secret.
func (p *Platform) export(ctx *pulumi.Context) {
	summary := pulumi.Map{}
	for _, r := range p.Regions {
		summary[r.Name] = pulumi.Map{
			"master":            pulumi.Bool(r.Master),
			"vpcId":             r.Network.VpcID,
			"privateSubnetIds":  r.Network.PrivateSubnetIDs,
			"databaseSubnetIds": r.Network.DatabaseSubnetIDs,
			"clusterName":       r.Cluster.Name,
			"clusterEndpoint":   r.Cluster.Endpoint,
			"oidcProviderArn":   r.Cluster.OidcProviderArn,
			"kmsKeyArns":        r.Keys.Arns,
			"data":              RegionData(r),
		}
	}
	ctx.Export("services", p.ServiceEndpoints())
	ctx.Export("environment", pulumi.String(p.Config.Environment))
	ctx.Export("masterRegion", pulumi.String(p.Config.MasterRegion))
	ctx.Export("regions", summary)
	ctx.Export("traffic", p.TrafficOutputs())
	if p.Dashboard != nil {
		ctx.Export("globalDashboard", p.Dashboard.Name)
	}
	if c := p.CentralLogs; c != nil {
		// Where every region's logs are (docs/operations.md, Central logs).
		ctx.Export("centralLogs", pulumi.Map{"bucketName": c.BucketName, "region": pulumi.String(p.Master.Name)})
	}
}

// TrafficOutputs is the "traffic" stack output: the public API host, the
// model, the zone and, for a zone the stack created, the name servers to
// delegate to from the parent zone.
func (p *Platform) TrafficOutputs() pulumi.Map {
	cfg := p.Config
	out := pulumi.Map{
		"apiHost":      pulumi.String(cfg.APIHost()),
		"originHost":   pulumi.String(edge.OriginHost(cfg.APIHost())),
		"model":        pulumi.String(cfg.Traffic.Model),
		"masterOrigin": pulumi.String(edge.RegionalHost(cfg.MasterRegion, cfg.Traffic.Domain)),
	}
	if p.Edge != nil {
		out["zoneId"] = p.Edge.ZoneID
		out["nameServers"] = p.Edge.NameServers
		out["webAclArn"] = p.Edge.WebACLArn
	}
	if p.Routing != nil {
		out["distributionDomain"] = p.Routing.DistributionDomain
	}
	return out
}

// RegionData is what the stack exports of one region's data layer: its
// endpoints, never a secret (the runtime secrets are exported by ARN only).
func RegionData(r *region.Region) pulumi.Map {
	if r.Data == nil {
		return pulumi.Map{}
	}
	m := pulumi.Map{
		"databaseAddresses":  r.Data.Databases.Addresses,
		"databaseReplicas":   pulumi.Bool(r.Data.Databases.Replica),
		"cacheAddress":       r.Data.Cache.Address,
		"cacheReaderAddress": r.Data.Cache.ReaderAddress,
		"queueUrls":          r.Data.Queues.Urls,
		"runtimeSecretArns":  r.Data.Wiring.SecretArns,
		"serviceRoleArns":    r.Data.Wiring.RoleArns,
	}
	if r.Data.Topics != nil {
		m["topicArns"] = r.Data.Topics.Arns
	}
	return m
}

// ServiceEndpoints is the "services" stack output: per service and region,
// where it writes, reads, consumes and finds its runtime secret, and the
// topic it publishes to; all read from the per-service wiring.
func (p *Platform) ServiceEndpoints() pulumi.Map {
	out := pulumi.Map{}
	for _, svc := range config.Services {
		perRegion := pulumi.Map{}
		s := pulumi.Map{"regions": perRegion}
		for _, r := range p.Regions {
			w := r.Data.Services[svc]
			e := pulumi.Map{
				"writeEndpoint":    w.WriteAddress.ApplyT(database.Endpoint),
				"readEndpoint":     w.ReadAddress.ApplyT(database.Endpoint),
				"runtimeSecretArn": w.SecretArn,
				"roleArn":          w.RoleArn,
			}
			if w.Consumes() {
				e["queueUrl"] = w.QueueURL
			}
			if w.Publishes() {
				s["topicArn"] = w.TopicArn
			}
			perRegion[r.Name] = e
		}
		out[svc] = s
	}
	return out
}
