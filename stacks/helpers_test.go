package stacks_test

// Whole-stack tests under the mock engine, from the real stack files. Each
// file holds one concern: inventory_test.go (what exists where),
// regions_test.go (providers, regions, tags, parenting), phases_test.go
// (global, regions, wiring; failover), databases_test.go, messaging_test.go,
// security_test.go and services_test.go (the per-service wiring and the
// contract with the services).

import (
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/keys"
	"github.com/example/ecommerce-platform/stacks"
	"github.com/example/ecommerce-platform/stacks/config"
	"github.com/example/ecommerce-platform/stacks/plan"
)

var shipped = []string{"dev", "staging", "prod"}

const (
	rdsInstance = "aws:rds/instance:Instance"
	sqsQueue    = "aws:sqs/queue:Queue"
	snsTopic    = "aws:sns/topic:Topic"
	snsSub      = "aws:sns/topicSubscription:TopicSubscription"
	secretVer   = "aws:secretsmanager/secretVersion:SecretVersion"
	redisGroup  = "aws:elasticache/replicationGroup:ReplicationGroup"
)

// stackRun is one stack planned through Build, with the values the
// assertions compare against.
type stackRun struct {
	inv *plan.Inventory
	cfg *config.Config
	// nodeSG by region, and the key ARNs by region and class
	// ("us-east-1/data"), as the components returned them.
	nodeSG, keys map[string]string
	// services is the "services" stack output; regionData each region's
	// "data" output.
	services   internals.UnsafeAwaitOutputResult
	regionData map[string]internals.UnsafeAwaitOutputResult
	// access are the services' access policies, by "<region>/<service>".
	access map[string]string
	// env are the services' pod settings, by "<region>/<service>".
	env map[string]map[string]string
	// secretKeys and migrationKeys are the variables of each service's
	// runtime and migration secrets.
	secretKeys, migrationKeys map[string][]string
}

var (
	runsMu sync.Mutex
	runs   = map[string]*stackRun{}
)

// planStack returns the cached plan of a shipped stack (the runs are
// deterministic and the tests only read them).
func planStack(t *testing.T, stack string) *stackRun {
	t.Helper()
	return planChanged(t, stack, nil)
}

// planChanged runs a stack with changed raw config (full keys); unchanged
// runs are cached.
func planChanged(t *testing.T, stack string, change func(cfg map[string]string)) *stackRun {
	t.Helper()
	runsMu.Lock()
	defer runsMu.Unlock()
	if run, ok := runs[stack]; ok && change == nil {
		return run
	}
	proj, err := plan.LoadProject("..")
	require.NoError(t, err)
	raw, err := proj.Config("..", stack)
	require.NoError(t, err)
	if change != nil {
		change(raw)
	}
	run := &stackRun{nodeSG: map[string]string{}, keys: map[string]string{}, access: map[string]string{},
		env: map[string]map[string]string{}, secretKeys: map[string][]string{}, migrationKeys: map[string][]string{},
		regionData: map[string]internals.UnsafeAwaitOutputResult{}}
	var mu sync.Mutex
	capture := func(into map[string]string, key string) func(string) string {
		return func(s string) string {
			mu.Lock()
			defer mu.Unlock()
			into[key] = s
			return s
		}
	}
	run.inv, err = plan.Run(proj.Name, stack, raw, func(ctx *pulumi.Context) error {
		cfg, err := config.Load(ctx)
		if err != nil {
			return err
		}
		run.cfg = cfg
		p, err := stacks.Build(ctx, cfg)
		if err != nil {
			return err
		}
		for _, r := range p.Regions {
			r.Cluster.NodeSecurityGroupID.ApplyT(capture(run.nodeSG, r.Name))
			for class, k := range map[string]*keys.Key{keys.Data: r.Keys.Data, keys.Messaging: r.Keys.Messaging, keys.Logs: r.Keys.Logs, keys.Cluster: r.Keys.Cluster} {
				k.Arn.ApplyT(capture(run.keys, r.Name+"/"+class))
			}
			for svc, w := range r.Data.Services {
				w.AccessPolicy.ApplyT(capture(run.access, r.Name+"/"+svc))
				run.env[r.Name+"/"+svc] = w.Env
				run.secretKeys[r.Name+"/"+svc] = w.SecretKeys()
				run.migrationKeys[r.Name+"/"+svc] = w.MigrationSecretKeys()
			}
			res, err := internals.UnsafeAwaitOutput(ctx.Context(), stacks.RegionData(r).ToMapOutput())
			if err != nil {
				return err
			}
			run.regionData[r.Name] = res
		}
		run.services, err = internals.UnsafeAwaitOutput(ctx.Context(), p.ServiceEndpoints().ToMapOutput())
		return err
	})
	require.NoError(t, err)
	if change == nil {
		runs[stack] = run
	}
	return run
}

// plain unwraps a property to its value and tells whether it was secret.
func plain(v resource.PropertyValue) (resource.PropertyValue, bool) {
	secret := false
	for {
		switch {
		case v.IsSecret():
			secret = true
			v = v.SecretValue().Element
		case v.IsOutput():
			secret = secret || v.OutputValue().Secret
			v = v.OutputValue().Element
		default:
			return v, secret
		}
	}
}

// secretInput returns the plain value of a secret input and fails the test
// if the input is missing or not marked secret.
func secretInput(t *testing.T, r *plan.Resource, key string) string {
	t.Helper()
	v, ok := r.Inputs[resource.PropertyKey(key)]
	require.True(t, ok, "%s %s has %s", r.Type, r.Name, key)
	val, secret := plain(v)
	require.True(t, secret, "%s %s: %s is marked secret", r.Type, r.Name, key)
	require.True(t, val.IsString(), "%s %s: %s is known in the plan", r.Type, r.Name, key)
	return val.StringValue()
}

func inRegion(rs []*plan.Resource, region string) []*plan.Resource {
	var out []*plan.Resource
	for _, r := range rs {
		if r.Region == region {
			out = append(out, r)
		}
	}
	return out
}

// regionOf walks up to the enclosing Region component; "" outside any.
func regionOf(inv *plan.Inventory, r *plan.Resource) string {
	for cur := r; cur != nil; cur = inv.Lookup(cur.Parent) {
		if cur.Type == "ecommerce:region:Region" {
			return cur.Name
		}
	}
	return ""
}

// setMaster is a config change that moves the master region.
func setMaster(region string) func(cfg map[string]string) {
	return func(cfg map[string]string) { cfg[config.Namespace+":masterRegion"] = region }
}

// key returns the ARN of a region's key of one class.
func (r *stackRun) key(region, class string) string { return r.keys[region+"/"+class] }

// eventParts are the resources of a type outside the observability
// components: the event bus's topics and policies, not the alarm topics.
func eventParts(inv *plan.Inventory, typ string) []*plan.Resource {
	var out []*plan.Resource
	for _, r := range inv.OfType(typ) {
		if p := inv.Lookup(r.Parent); p != nil && p.Type == "ecommerce:observe:Observability" {
			continue
		}
		out = append(out, r)
	}
	return out
}
