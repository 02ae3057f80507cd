// Package stacks reads and validates the platform configuration of a stack
// and composes the platform from the components. It is the only package that
// reads Pulumi config.
package stacks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Namespace is the Pulumi project name and so the config namespace of every
// platform key (`ecommerce:regions`, ...).
const Namespace = "ecommerce"

// Config is the whole platform configuration of one stack, typed and
// validated. Components never see raw config: they get slices of this.
type Config struct {
	// Environment is dev, staging or prod; it selects safe defaults such as
	// deletion protection.
	Environment string
	// AccountID is the AWS account the stack deploys into. Providers refuse
	// any other account, and ARNs that need it are built without a lookup.
	AccountID string
	// MasterRegion holds the writable databases, the event topics and the
	// global resources. It is one of Regions.
	MasterRegion string
	// Regions lists every region the platform runs in, as configured.
	Regions []RegionConfig
	// NatGateways is "perAz" (one NAT gateway per availability zone) or
	// "single" (one for the VPC, cheaper, not zone-redundant).
	NatGateways string
	// LogRetentionDays applies to flow logs and control-plane logs.
	LogRetentionDays int
	// Cluster is the EKS configuration shared by every region.
	Cluster ClusterConfig
	// Data holds the database, cache and messaging settings.
	Data DataConfig
}

// RegionConfig is one entry of the `regions` key.
type RegionConfig struct {
	Name              string   `json:"name"`
	VpcCidr           string   `json:"vpcCidr"`
	AvailabilityZones []string `json:"availabilityZones"`
}

// ClusterConfig is the EKS part of the configuration.
type ClusterConfig struct {
	KubernetesVersion string
	PublicAccessCidrs []string
	AdminRoleArn      string
	SystemNodes       NodeGroupConfig
	WorkloadNodes     NodeGroupConfig
}

// NodeGroupConfig sizes one managed node group.
type NodeGroupConfig struct {
	InstanceTypes []string `json:"instanceTypes"`
	MinSize       int      `json:"minSize"`
	DesiredSize   int      `json:"desiredSize"`
	MaxSize       int      `json:"maxSize"`
	DiskSizeGiB   int      `json:"diskSizeGiB"`
}

// Ordered returns the regions with the master region first, then the others
// in configured order: the master's resources (primaries, topics) exist
// before the regions that refer to them.
func (c *Config) Ordered() []RegionConfig {
	out := make([]RegionConfig, 0, len(c.Regions))
	for _, r := range c.Regions {
		if r.Name == c.MasterRegion {
			out = append(out, r)
		}
	}
	for _, r := range c.Regions {
		if r.Name != c.MasterRegion {
			out = append(out, r)
		}
	}
	return out
}

// ConfigError names the config key at fault and what is allowed.
type ConfigError struct {
	Key string
	Msg string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("config %s:%s: %s", Namespace, e.Key, e.Msg)
}

// ValidationError gathers every problem found, so one run shows them all.
type ValidationError struct {
	Problems []*ConfigError
}

func (e *ValidationError) Error() string {
	lines := make([]string, 0, len(e.Problems)+1)
	lines = append(lines, fmt.Sprintf("invalid stack configuration (%d problem(s)):", len(e.Problems)))
	for _, p := range e.Problems {
		lines = append(lines, "  - "+p.Error())
	}
	return strings.Join(lines, "\n")
}

// Keys returns the config keys named by the problems, in order.
func (e *ValidationError) Keys() []string {
	keys := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		keys[i] = p.Key
	}
	return keys
}

// problems collects config errors while parsing and validating.
type problems struct{ list []*ConfigError }

func (p *problems) add(key, format string, args ...any) {
	p.list = append(p.list, &ConfigError{Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &ValidationError{Problems: p.list}
}

// Key names, one per platform setting; Pulumi.yaml declares each of them.
const (
	KeyEnvironment       = "environment"
	KeyAccountID         = "accountId"
	KeyMasterRegion      = "masterRegion"
	KeyRegions           = "regions"
	KeyNatGateways       = "natGateways"
	KeyLogRetentionDays  = "logRetentionDays"
	KeyKubernetesVersion = "kubernetesVersion"
	KeyPublicAccessCidrs = "clusterPublicAccessCidrs"
	KeyAdminRoleArn      = "clusterAdminRoleArn"
	KeySystemNodeGroup   = "systemNodeGroup"
	KeyWorkloadNodeGroup = "workloadNodeGroup"
)

// AllKeys lists every key the platform reads; anything else in the
// namespace is a typo and is rejected.
func AllKeys() []string {
	keys := []string{
		KeyEnvironment, KeyAccountID, KeyMasterRegion, KeyRegions, KeyNatGateways,
		KeyLogRetentionDays, KeyKubernetesVersion, KeyPublicAccessCidrs, KeyAdminRoleArn,
		KeySystemNodeGroup, KeyWorkloadNodeGroup,
	}
	keys = append(keys, dataKeys()...)
	return keys
}

// Parse turns raw config values (as Pulumi hands them to a program: strings,
// with objects and arrays JSON-encoded) into a validated Config. Keys are
// given without the namespace. Nothing is created before this returns nil.
func Parse(raw map[string]string) (*Config, error) {
	var p problems
	known := map[string]bool{}
	for _, k := range AllKeys() {
		known[k] = true
	}
	unknown := make([]string, 0)
	for k := range raw {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		p.add(k, "unknown key; allowed keys are %s", strings.Join(AllKeys(), ", "))
	}

	r := reader{raw: raw, p: &p}
	c := &Config{
		Environment:      r.str(KeyEnvironment),
		AccountID:        r.str(KeyAccountID),
		MasterRegion:     r.str(KeyMasterRegion),
		NatGateways:      r.str(KeyNatGateways),
		LogRetentionDays: r.integer(KeyLogRetentionDays),
		Cluster: ClusterConfig{
			KubernetesVersion: r.str(KeyKubernetesVersion),
			AdminRoleArn:      r.str(KeyAdminRoleArn),
		},
	}
	r.object(KeyRegions, &c.Regions)
	r.object(KeyPublicAccessCidrs, &c.Cluster.PublicAccessCidrs)
	r.object(KeySystemNodeGroup, &c.Cluster.SystemNodes)
	r.object(KeyWorkloadNodeGroup, &c.Cluster.WorkloadNodes)
	parseData(&r, c)

	if err := p.err(); err != nil {
		// Type errors make further checks noisy; report them alone.
		return nil, err
	}
	validate(c, &p)
	parsedDataValidate(c, &p)
	if err := p.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// Load reads every platform key from the program's config and parses it.
func Load(ctx *pulumi.Context) (*Config, error) {
	raw := map[string]string{}
	for _, k := range AllKeys() {
		full := Namespace + ":" + k
		if v, ok := ctx.GetConfig(full); ok {
			if ctx.IsConfigSecret(full) {
				// No platform key holds a secret: secrets are generated
				// (random) or managed by AWS, never typed into config.
				return nil, &ValidationError{Problems: []*ConfigError{{Key: k, Msg: "must not be a secret: the platform generates its own secrets"}}}
			}
			raw[k] = v
		}
	}
	return Parse(raw)
}

// reader decodes raw values and records a problem per bad key.
type reader struct {
	raw map[string]string
	p   *problems
}

func (r *reader) get(key string) (string, bool) {
	v, ok := r.raw[key]
	if !ok {
		r.p.add(key, "missing; Pulumi.yaml declares its default, or set it with `pulumi config set %s:%s`", Namespace, key)
	}
	return v, ok
}

func (r *reader) str(key string) string {
	v, _ := r.get(key)
	return v
}

func (r *reader) integer(key string) int {
	v, ok := r.get(key)
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		r.p.add(key, "must be an integer, got %q", v)
	}
	return n
}

// object decodes a JSON value strictly: an unknown field is a typo the user
// must hear about, not a setting silently ignored.
func (r *reader) object(key string, into any) {
	v, ok := r.get(key)
	if !ok {
		return
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(v)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		r.p.add(key, "cannot be read: %v", err)
	}
}
