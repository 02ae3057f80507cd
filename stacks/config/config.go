// Package config reads and validates the platform configuration of a stack.
// It is the only package that reads Pulumi config. Each section of the
// configuration lives in its own file (stack.go, regions.go, cluster.go,
// database.go, cache.go, messaging.go, services.go, traffic.go) with its
// keys, defaults, decoding and validation; the components' own types are
// decoded into directly where the config and the component mean the same
// thing.
package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/backup"
	"github.com/example/ecommerce-platform/components/cache"
	"github.com/example/ecommerce-platform/components/check"
	"github.com/example/ecommerce-platform/components/database"
	"github.com/example/ecommerce-platform/components/messaging"
	"github.com/example/ecommerce-platform/components/observe"
	"github.com/example/ecommerce-platform/components/workload"
)

// Namespace is the Pulumi project name and so the config namespace of every
// platform key (`ecommerce:regions`, ...).
const Namespace = "ecommerce"

// Config is the whole platform configuration of one stack, typed and
// validated. Components never see raw config: they get parts of this.
type Config struct {
	// Environment is dev, staging or prod; it selects safe defaults such as
	// deletion protection.
	Environment string
	// AccountID is the AWS account the stack deploys into. Providers refuse
	// any other account, and ARNs that need it are built without a lookup.
	AccountID string
	// LogRetentionDays applies to every log group the platform creates.
	LogRetentionDays int

	// MasterRegion holds the writable databases and the event topics. It
	// is one of Regions.
	MasterRegion string
	// Regions lists every region the platform runs in, as configured.
	Regions []Region
	// NatGateways is "perAz" or "single".
	NatGateways string

	// Cluster is the EKS configuration shared by every region.
	Cluster Cluster

	// Database sizes every service's PostgreSQL (primaries and replicas).
	Database database.Settings
	// Cache sizes every region's Redis.
	Cache cache.Settings
	// Messaging tunes the consumer queues.
	Messaging messaging.QueueSettings
	// Events maps each domain event to who publishes and who consumes it:
	// the single declaration topics, queues, filter policies and runtime
	// settings are derived from.
	Events map[string]messaging.Event

	// Releases are the services' images and sizing as configured; Release
	// resolves one over the environment's defaults.
	Releases map[string]workload.Release
	// Registry configures the image repositories.
	Registry Registry

	// Traffic is how requests reach the regions: the domain and zone, the
	// API host, the deployment model and the edge's settings.
	Traffic Traffic
	// Alarms are the alarm topics' subscribers and the alarm thresholds.
	Alarms observe.Settings
	// Backup is the AWS Backup plan's retention and the vaults' lock.
	Backup backup.Settings
	// CentralLogs is how long the master region's bucket keeps every
	// region's logs.
	CentralLogs CentralLogs
}

// key declares one config key: its name, its type as Pulumi.yaml declares
// it, its default (nil: the key is required) and where it decodes to.
type key struct {
	name string
	typ  string // string, integer, boolean, array or object
	def  any
	into func(c *Config) any
}

// section is one part of the configuration: its keys and the checks of
// their meaning, run after every key decoded.
type section struct {
	keys     []key
	validate func(c *Config, p *check.Problems)
}

// sections in the order their problems are reported.
var sections = []section{stackSection, regionsSection, clusterSection, databaseSection, cacheSection, messagingSection, servicesSection, trafficSection, observeSection, backupSection, centralLogsSection}

// Keys lists every key the platform reads; anything else in the namespace
// is a typo and is refused.
func Keys() []string {
	var out []string
	for _, s := range sections {
		for _, k := range s.keys {
			out = append(out, k.name)
		}
	}
	return out
}

// Declared is one key as Pulumi.yaml must declare it.
type Declared struct {
	Type string
	// Default is the value used when the stack file does not set the key;
	// nil for a required key.
	Default any
}

// Declarations returns every key's type and default, which Pulumi.yaml
// declares too (a test keeps the two equal).
func Declarations() map[string]Declared {
	out := map[string]Declared{}
	for _, s := range sections {
		for _, k := range s.keys {
			out[k.name] = Declared{Type: k.typ, Default: k.def}
		}
	}
	return out
}

// ValidationError is every problem found, each naming its key, so one run
// shows them all.
type ValidationError struct {
	Problems []check.Problem
}

func (e *ValidationError) Error() string {
	lines := make([]string, 0, len(e.Problems)+1)
	lines = append(lines, fmt.Sprintf("invalid stack configuration (%d problem(s)):", len(e.Problems)))
	for _, p := range e.Problems {
		lines = append(lines, fmt.Sprintf("  - config %s:%s: %s", Namespace, p.Field, p.Msg))
	}
	return strings.Join(lines, "\n")
}

// Keys returns the config keys named by the problems, in order.
func (e *ValidationError) Keys() []string {
	keys := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		keys[i] = p.Field
	}
	return keys
}

func failed(p *check.Problems) error {
	if len(p.List()) == 0 {
		return nil
	}
	return &ValidationError{Problems: p.List()}
}

// Parse turns raw config values (as Pulumi hands them to a program: strings,
// with objects and arrays JSON-encoded; keys without the namespace) into a
// validated Config. A key left out takes its declared default. Nothing is
// created before this returns nil.
func Parse(raw map[string]string) (*Config, error) {
	p := check.New("config")
	known := map[string]bool{}
	for _, k := range Keys() {
		known[k] = true
	}
	var unknown []string
	for k := range raw {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		p.Add(k, "unknown key; allowed keys are %s", strings.Join(Keys(), ", "))
	}

	c := &Config{}
	for _, s := range sections {
		for _, k := range s.keys {
			decode(p, k, raw, c)
		}
	}
	if err := failed(p); err != nil {
		// Type errors make further checks noisy; report them alone.
		return nil, err
	}
	for _, s := range sections {
		s.validate(c, p)
	}
	if err := failed(p); err != nil {
		return nil, err
	}
	return c, nil
}

// decode reads one key, or its default, into the config.
func decode(p *check.Problems, k key, raw map[string]string, c *Config) {
	v, ok := raw[k.name]
	if !ok {
		if k.def == nil {
			p.Add(k.name, "missing; set it with `pulumi config set %s:%s <value>`", Namespace, k.name)
			return
		}
		d, err := encode(k.def)
		if err != nil {
			p.Add(k.name, "default cannot be encoded: %v", err)
			return
		}
		v = d
	}
	switch into := k.into(c).(type) {
	case *string:
		*into = v
	case *int:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			p.Add(k.name, "must be an integer, got %q", v)
		}
		*into = n
	default:
		// Strict: an unknown field is a typo the user must hear about, not
		// a setting silently left at its default.
		dec := json.NewDecoder(bytes.NewReader([]byte(v)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(into); err != nil {
			p.Add(k.name, "cannot be read as %s: %v", article(k.typ), err)
		}
	}
}

func article(typ string) string {
	if typ == "array" || typ == "object" || typ == "integer" {
		return "an " + typ
	}
	return "a " + typ
}

// encode renders a default the way Pulumi passes config to programs:
// strings as they are, everything else as JSON.
func encode(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// EnvConfig is where the Pulumi language host hands a program the whole
// stack configuration (JSON, full keys).
const EnvConfig = "PULUMI_CONFIG"

// Load reads every platform key from the program's config and parses it.
// Under the Pulumi CLI the engine hands the program every key of the stack
// (in PULUMI_CONFIG), so a misspelt key in the namespace is refused under
// `pulumi preview` and `pulumi up` as it is by the offline plan.
func Load(ctx *pulumi.Context) (*Config, error) {
	raw := map[string]string{}
	p := check.New("config")
	for _, k := range Keys() {
		full := Namespace + ":" + k
		if v, ok := ctx.GetConfig(full); ok {
			if ctx.IsConfigSecret(full) {
				// No platform key holds a secret: secrets are generated
				// (random) or managed by AWS, never typed into config.
				p.Add(k, "must not be a secret: the platform generates its own secrets")
			}
			raw[k] = v
		}
	}
	if err := failed(p); err != nil {
		return nil, err
	}
	all, err := namespaceKeys(os.Getenv(EnvConfig))
	if err != nil {
		return nil, err
	}
	for k, v := range all {
		if _, ok := raw[k]; !ok {
			raw[k] = v
		}
	}
	return Parse(raw)
}

// namespaceKeys returns the keys of our namespace in the engine's config
// document, without the namespace; none when there is no document.
func namespaceKeys(doc string) (map[string]string, error) {
	out := map[string]string{}
	if doc == "" {
		return out, nil
	}
	var all map[string]string
	if err := json.Unmarshal([]byte(doc), &all); err != nil {
		return nil, fmt.Errorf("config: %s is not the engine's config document: %w", EnvConfig, err)
	}
	for k, v := range all {
		if name, ok := strings.CutPrefix(k, Namespace+":"); ok {
			// Older engines wrote "<project>:config:<key>".
			name = strings.TrimPrefix(name, "config:")
			out[name] = v
		}
	}
	return out, nil
}
