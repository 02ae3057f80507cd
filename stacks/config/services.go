package config

import (
	"slices"
	"sort"

	"github.com/example/ecommerce-platform/components/check"
	"github.com/example/ecommerce-platform/components/workload"
)

// Services are the bundled services. Each owns one database, one runtime
// secret, IAM role and access policy per region and, when it consumes
// events, one queue per region.
var Services = []string{"auth", "user", "product", "order"}

// TokenIssuer is the service that signs access tokens (the others verify
// them through its JWKS); it alone gets the signing key.
const TokenIssuer = "auth"

// Calls are the service-to-service calls inside a region: the caller gets
// the callee's in-cluster URL, and its network policy admits the caller.
var Calls = map[string][]string{"order": {"product"}}

// Keys of the services section.
const (
	KeyServices = "services"
	KeyRegistry = "registry"
)

// Registry configures the services' image repositories.
type Registry struct {
	// Region is where the pipelines push images; every other region
	// receives them by replication. Empty: the first of regions (not the
	// master region: a failover must not move the registry).
	Region string `json:"region"`
	// KeepReleases is how many tagged images each repository keeps.
	KeepReleases int `json:"keepReleases"`
}

var servicesSection = section{
	keys: []key{
		// No default: what each service runs must be stated per stack.
		{KeyServices, "object", nil, func(c *Config) any { return &c.Releases }},
		{KeyRegistry, "object", Registry{KeepReleases: 30}, func(c *Config) any { return &c.Registry }},
	},
	validate: validateServices,
}

// Release returns a service's release: the stack's settings over the
// environment's defaults.
func (c *Config) Release(service string) workload.Release {
	return DefaultRelease(c.Environment, service).Over(c.Releases[service])
}

// DefaultRelease is a service's sizing when the stack does not say: the
// seed's replica counts in prod (auth 3, user 5, product 10), two of each
// elsewhere, and requests that fit the services' measured footprint.
func DefaultRelease(environment, service string) workload.Release {
	r := workload.Release{
		MinReplicas:      2,
		MaxReplicas:      4,
		CPU:              workload.Resources{Request: "100m", Limit: "500m"},
		Memory:           workload.Resources{Request: "256Mi", Limit: "256Mi"},
		TargetCPUPercent: 70,
	}
	if environment != "prod" {
		return r
	}
	r.CPU = workload.Resources{Request: "500m", Limit: "1"}
	minimum := map[string]int{"auth": 3, "user": 5, "product": 10, "order": 5}[service]
	r.MinReplicas, r.MaxReplicas = minimum, 4*minimum
	return r
}

// RegistryRegion is the region the pipelines push to.
func (c *Config) RegistryRegion() string {
	if c.Registry.Region != "" {
		return c.Registry.Region
	}
	if len(c.Regions) == 0 {
		return ""
	}
	return c.Regions[0].Name
}

func validateServices(c *Config, p *check.Problems) {
	names := make([]string, 0, len(c.Releases))
	for name := range c.Releases {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !slices.Contains(Services, name) {
			p.Add(KeyServices+"."+name, "%q is not a service; allowed: %s", name, quoteAll(Services))
		}
	}
	for _, svc := range Services {
		if _, ok := c.Releases[svc]; !ok {
			p.Add(KeyServices+"."+svc, "missing: say which image %s runs ({image: <tag or sha256 digest>})", svc)
			continue
		}
		p.Merge(KeyServices+"."+svc, c.Release(svc).Check())
	}
	if r := c.Registry.Region; r != "" && !slices.ContainsFunc(c.Regions, func(x Region) bool { return x.Name == r }) {
		p.Add(KeyRegistry+".region", "%q is not one of the configured regions; the registry lives in one of them", r)
	}
	if n := c.Registry.KeepReleases; n < 1 || n > 1000 {
		p.Add(KeyRegistry+".keepReleases", "%d: allowed 1 to 1000", n)
	}
}
