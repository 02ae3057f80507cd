// Package plan runs the Pulumi program under Pulumi's mock engine, with no
// cloud account, CLI or network, and records what it would create: every
// resource with its type, region, parent and inputs.
package plan

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/stacks/plan/lookups"
)

// Resource is one registered resource as the program sent it.
type Resource struct {
	URN      string
	Type     string
	Name     string
	Parent   string
	Custom   bool
	Provider string // provider reference "urn::id", custom resources only
	Region   string // empty for resources that belong to no region
	Inputs   resource.PropertyMap
	// Aliases are the URNs the resource declared it was known by before.
	Aliases []string
	// DependsOn are the URNs of the resources it waits for: explicit
	// DependsOn options and the resources its inputs come from, sorted.
	DependsOn []string
	// IgnoreChanges are the input paths the resource leaves to others
	// (a node group's desired size, left to the autoscaler).
	IgnoreChanges []string
}

// Mocks answers the engine with realistic ids, ARNs and endpoints so that
// values derived from outputs (policies, kubeconfigs, endpoints) are shaped
// like real ones. It fails every invoke but the few package lookups lists:
// the program must not look anything up, or it could not run offline.
type Mocks struct {
	project, stack string

	mu        sync.Mutex
	resources []*Resource
	byURN     map[string]*Resource
	regions   map[string]string // provider id -> region
	accounts  map[string]string // provider id -> account
}

// NewMocks returns mocks for one run of a project's stack.
func NewMocks(project, stack string) *Mocks {
	return &Mocks{
		project:  project,
		stack:    stack,
		byURN:    map[string]*Resource{},
		regions:  map[string]string{},
		accounts: map[string]string{},
	}
}

// Resources returns the recorded resources in registration order.
func (m *Mocks) Resources() []*Resource {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Resource, len(m.resources))
	copy(out, m.resources)
	return out
}

// Call answers the lookups listed in package lookups, in the region of
// the provider the invoke went through, and rejects every other invoke.
func (m *Mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	m.mu.Lock()
	region := m.regions[providerID(args.Provider)]
	m.mu.Unlock()
	out, ok, err := lookups.Answer(args.Token, args.Args.Mappable(), region)
	if !ok {
		return nil, fmt.Errorf("invoke %s is not allowed: the program must run without a cloud account, so it may not look anything up (answered offline: %v)", args.Token, lookups.Tokens())
	}
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", args.Token, err)
	}
	return resource.NewPropertyMapFromMap(out), nil
}

// urnOf computes the URN exactly as the mock monitor does.
func (m *Mocks) urnOf(parent, typ, name string) string {
	parentType := tokens.Type("")
	if p := resource.URN(parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	return string(resource.NewURN(tokens.QName(m.stack), tokens.PackageName(m.project), parentType, tokens.Type(typ), name))
}

func providerID(ref string) string {
	if i := strings.LastIndex(ref, "::"); i >= 0 {
		return ref[i+2:]
	}
	return ref
}

// NewResource records the resource and returns its id and state.
func (m *Mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	parent := ""
	var providers map[string]string
	var aliases, ignore []string
	deps := map[string]bool{}
	if rpc := args.RegisterRPC; rpc != nil {
		parent = rpc.GetParent()
		providers = rpc.GetProviders()
		ignore = rpc.GetIgnoreChanges()
		for _, d := range rpc.GetDependencies() {
			deps[d] = true
		}
		for _, pd := range rpc.GetPropertyDependencies() {
			for _, d := range pd.GetUrns() {
				deps[d] = true
			}
		}
		aliases = append(aliases, rpc.GetAliasURNs()...)
		for _, a := range rpc.GetAliases() {
			if u := a.GetUrn(); u != "" {
				aliases = append(aliases, u)
			}
		}
	}
	urn := m.urnOf(parent, args.TypeToken, args.Name)

	m.mu.Lock()
	defer m.mu.Unlock()

	r := &Resource{
		URN: urn, Type: args.TypeToken, Name: args.Name, Parent: parent,
		Custom: args.Custom, Provider: args.Provider, Inputs: args.Inputs, Aliases: aliases,
		DependsOn: sortedKeys(deps), IgnoreChanges: ignore,
	}
	isProvider := strings.HasPrefix(args.TypeToken, "pulumi:providers:")
	switch {
	case isProvider:
		// An AWS provider belongs to the region it targets; any other
		// provider (Kubernetes) to the region of the component holding it.
		if region := args.Inputs["region"]; region.IsString() {
			r.Region = region.StringValue()
		} else if p, ok := m.byURN[parent]; ok {
			r.Region = p.Region
		}
	case args.Custom && args.Provider != "":
		r.Region = m.regions[providerID(args.Provider)]
	case providers["aws"] != "":
		r.Region = m.regions[providerID(providers["aws"])]
	}
	if r.Region == "" && !isProvider {
		// A resource of a region-less provider (random) belongs to the
		// region of the component holding it.
		if p, ok := m.byURN[parent]; ok {
			r.Region = p.Region
		}
	}
	m.resources = append(m.resources, r)
	m.byURN[urn] = r

	id, state := m.outputs(r)
	if isProvider {
		// Resources of a region-less provider (random, kubernetes) belong
		// to the region of the component holding the provider.
		m.regions[id] = r.Region
		if ids := args.Inputs["allowedAccountIds"]; ids.IsArray() && len(ids.ArrayValue()) > 0 {
			m.accounts[id] = ids.ArrayValue()[0].StringValue()
		}
	}
	return id, state, nil
}

// hash gives stable pseudo-random digits per URN, so two plans of the same
// program produce the same ids and the inventory diffs cleanly.
func hash(urn string, n int) string {
	sum := sha256.Sum256([]byte(urn))
	return hex.EncodeToString(sum[:])[:n]
}

func (m *Mocks) account(r *Resource) string {
	if a := m.accounts[providerID(r.Provider)]; a != "" {
		return a
	}
	return "123456789012"
}

// idPrefixes are the physical id shapes of EC2 resources.
var idPrefixes = map[string]string{
	"aws:ec2/vpc:Vpc":                                     "vpc-",
	"aws:ec2/subnet:Subnet":                               "subnet-",
	"aws:ec2/routeTable:RouteTable":                       "rtb-",
	"aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc-",
	"aws:ec2/internetGateway:InternetGateway":             "igw-",
	"aws:ec2/natGateway:NatGateway":                       "nat-",
	"aws:ec2/eip:Eip":                                     "eipalloc-",
	"aws:ec2/securityGroup:SecurityGroup":                 "sg-",
	"aws:ec2/defaultSecurityGroup:DefaultSecurityGroup":   "sg-",
	"aws:ec2/vpcEndpoint:VpcEndpoint":                     "vpce-",
	"aws:ec2/flowLog:FlowLog":                             "fl-",
	"aws:ec2/launchTemplate:LaunchTemplate":               "lt-",
}

// outputs builds the id and the output state: the inputs, plus what AWS
// would compute for that type.
func (m *Mocks) outputs(r *Resource) (string, resource.PropertyMap) {
	state := resource.PropertyMap{}
	for k, v := range r.Inputs {
		state[k] = v
	}
	if !r.Custom {
		return "", state
	}
	h := hash(r.URN, 32)
	id := r.Name + "-" + h[:8]
	if p, ok := idPrefixes[r.Type]; ok {
		id = p + h[:17]
	}
	if strings.HasPrefix(r.Type, "pulumi:providers:") {
		id = r.Name + "-" + h[:12]
		return id, state
	}
	region, acct := r.Region, m.account(r)
	set := func(k string, v any) { state[resource.PropertyKey(k)] = resource.NewPropertyValue(v) }
	setDefault := func(k string, v any) {
		if _, ok := state[resource.PropertyKey(k)]; !ok {
			set(k, v)
		}
	}
	str := func(k string) string {
		if v := r.Inputs[resource.PropertyKey(k)]; v.IsString() {
			return v.StringValue()
		}
		return ""
	}
	physical := str("name")
	if physical == "" {
		// Pulumi auto-names resources: logical name plus a random suffix.
		physical = r.Name + "-" + h[:7]
	}

	// Generic ARN from the type token, e.g. aws:ec2/subnet:Subnet ->
	// arn:aws:ec2:<region>:<account>:subnet/<id>.
	module, kind := typeParts(r.Type)
	setDefault("arn", fmt.Sprintf("arn:aws:%s:%s:%s:%s/%s", module, region, acct, strings.ToLower(kind), id))

	switch r.Type {
	case "aws:kms/key:Key":
		id = fmt.Sprintf("%s-%s-%s-%s-%s", h[:8], h[8:12], h[12:16], h[16:20], h[20:32])
		set("keyId", id)
		set("arn", fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", region, acct, id))
	case "aws:kms/alias:Alias":
		id = str("name")
		set("arn", fmt.Sprintf("arn:aws:kms:%s:%s:%s", region, acct, id))
	case "aws:iam/role:Role":
		id = physical
		set("name", physical)
		set("arn", fmt.Sprintf("arn:aws:iam::%s:role/%s", acct, physical))
		set("uniqueId", "AROA"+strings.ToUpper(h[:17]))
	case "aws:iam/policy:Policy":
		set("name", physical)
		set("arn", fmt.Sprintf("arn:aws:iam::%s:policy/%s", acct, physical))
	case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
		set("arn", fmt.Sprintf("arn:aws:iam::%s:oidc-provider/%s", acct, strings.TrimPrefix(str("url"), "https://")))
	case "aws:cloudwatch/logGroup:LogGroup":
		id = physical
		set("name", physical)
		set("arn", fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", region, acct, physical))
	case "aws:ec2/vpc:Vpc":
		set("defaultSecurityGroupId", "sg-"+h[17:32])
		set("mainRouteTableId", "rtb-"+h[15:32])
	case "aws:ec2/eip:Eip":
		set("publicIp", fmt.Sprintf("203.0.113.%d", int(h[0])%250+1))
	case "aws:ec2/launchTemplate:LaunchTemplate":
		set("latestVersion", 1)
	case "aws:eks/cluster:Cluster":
		id = str("name")
		upper := strings.ToUpper(h)
		set("arn", fmt.Sprintf("arn:aws:eks:%s:%s:cluster/%s", region, acct, id))
		set("endpoint", fmt.Sprintf("https://%s.gr7.%s.eks.amazonaws.com", upper, region))
		set("certificateAuthority", map[string]any{
			"data": base64.StdEncoding.EncodeToString([]byte("-----BEGIN CERTIFICATE-----\nmock " + id + "\n-----END CERTIFICATE-----\n")),
		})
		set("identities", []any{map[string]any{"oidcs": []any{map[string]any{
			"issuer": fmt.Sprintf("https://oidc.eks.%s.amazonaws.com/id/%s", region, upper),
		}}}})
		vpc := map[string]any{}
		if v := r.Inputs["vpcConfig"]; v.IsObject() {
			vpc = v.ObjectValue().Mappable()
		}
		vpc["clusterSecurityGroupId"] = "sg-" + h[:17]
		vpc["vpcId"] = "vpc-" + h[5:22]
		set("vpcConfig", vpc)
	case "aws:eks/nodeGroup:NodeGroup":
		set("arn", fmt.Sprintf("arn:aws:eks:%s:%s:nodegroup/%s/%s/%s", region, acct, str("clusterName"), physical, h[:8]))
	}
	for k, v := range typeOutputs(r, region, acct, h, physical) {
		state[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
	}
	for k, v := range edgeOutputs(r, region, acct, h, physical) {
		state[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
	}
	for k, v := range metricsOutputs(r, region, acct, h) {
		state[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
	}
	if v, ok := state["id"]; ok && v.IsString() && strings.HasPrefix(r.Type, "aws:amp/") {
		id = v.StringValue()
	}
	set("id", id)
	return id, state
}

// typeParts splits "aws:ec2/subnet:Subnet" into "ec2" and "Subnet".
func typeParts(token string) (string, string) {
	parts := strings.Split(token, ":")
	if len(parts) != 3 {
		return token, token
	}
	module := parts[1]
	if i := strings.Index(module, "/"); i >= 0 {
		module = module[:i]
	}
	return module, parts[2]
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
