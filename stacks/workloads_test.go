package stacks_test

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/workload"
	"github.com/example/ecommerce-platform/stacks/config"
	"github.com/example/ecommerce-platform/stacks/plan"
)

const deployment = "kubernetes:apps/v1:Deployment"

// Every region runs every service, from its own region's repository, on
// its own cluster's provider; migrations run only where the primaries are.
func TestEveryRegionRunsEveryService(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			run := planStack(t, stack)
			for _, rc := range run.cfg.Regions {
				deployments := inRegion(run.inv.OfType(deployment), rc.Name)
				require.Len(t, deployments, len(config.Services), rc.Name)
				for _, d := range deployments {
					svc := d.String("metadata.name")
					image := d.String("spec.template.spec.containers.0.image")
					want := fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s-%s/%s", run.cfg.AccountID, rc.Name, "ecommerce", stack, svc)
					assert.True(t, strings.HasPrefix(image, want), "%s pulls from its own region's repository: %s", d.Name, image)
					kube := run.inv.ProviderOf(d)
					require.NotNil(t, kube)
					assert.Equal(t, "pulumi:providers:kubernetes", kube.Type)
					assert.Equal(t, rc.Name, regionOf(run.inv, kube), "%s deploys to its region's cluster", d.Name)
				}
				jobs := inRegion(run.inv.OfType("kubernetes:batch/v1:Job"), rc.Name)
				if rc.Name == run.cfg.MasterRegion {
					assert.Len(t, jobs, len(config.Services), "a migration job per service where the primaries are")
				} else {
					assert.Empty(t, jobs, rc.Name)
				}
				assert.Len(t, inRegion(run.inv.OfType("aws:ecr/repository:Repository"), rc.Name), len(config.Services), rc.Name)
			}
			assert.Empty(t, run.inv.OfType("kubernetes:core/v1:Secret"), "no Kubernetes Secret holds a credential: there is none")
		})
	}
}

// Repositories are immutable, scanned, encrypted with the region's key and
// expire what no release needs; the registry region replicates to the
// others, which hold pre-created repositories.
func TestRegistriesAndReplication(t *testing.T) {
	run := planStack(t, "prod")
	for _, repo := range run.inv.OfType("aws:ecr/repository:Repository") {
		assert.Equal(t, "IMMUTABLE", repo.String("imageTagMutability"), repo.Name)
		assert.Equal(t, true, repo.Get("imageScanningConfiguration.scanOnPush"), repo.Name)
		assert.Equal(t, "KMS", repo.String("encryptionConfigurations.0.encryptionType"), repo.Name)
		assert.Equal(t, run.key(repo.Region, "cluster"), repo.String("encryptionConfigurations.0.kmsKey"), repo.Name)
	}
	assert.Len(t, run.inv.OfType("aws:ecr/lifecyclePolicy:LifecyclePolicy"), len(run.cfg.Regions)*len(config.Services))
	reps := run.inv.OfType("aws:ecr/replicationConfiguration:ReplicationConfiguration")
	require.Len(t, reps, 1)
	rep := reps[0]
	assert.Equal(t, run.cfg.RegistryRegion(), rep.Region)
	var dests []string
	for _, d := range rep.Get("replicationConfiguration.rules.0.destinations").([]any) {
		dests = append(dests, d.(map[string]any)["region"].(string))
	}
	sort.Strings(dests)
	assert.Equal(t, []string{"ap-south-1", "eu-west-1"}, dests)
	assert.Equal(t, "ecommerce-prod/", rep.String("replicationConfiguration.rules.0.repositoryFilters.0.filter"))
	for _, repo := range run.inv.OfType("aws:ecr/repository:Repository") {
		if repo.Region != rep.Region {
			assert.True(t, run.inv.WaitsFor(rep, repo), "%s exists before images replicate into it", repo.Name)
		}
	}
	assert.Empty(t, planStack(t, "dev").inv.OfType("aws:ecr/replicationConfiguration:ReplicationConfiguration"), "one region, nothing to replicate")
}

// setRelease changes one field of one service's release in the stack file.
func setRelease(svc, field string, value any) func(cfg map[string]string) {
	return func(cfg map[string]string) {
		var services map[string]map[string]any
		if err := json.Unmarshal([]byte(cfg["ecommerce:services"]), &services); err != nil {
			panic(err)
		}
		if value == nil {
			delete(services[svc], field)
		} else {
			services[svc][field] = value
		}
		b, err := json.Marshal(services)
		if err != nil {
			panic(err)
		}
		cfg["ecommerce:services"] = string(b)
	}
}

// each applies several config changes.
func each(changes ...func(cfg map[string]string)) func(cfg map[string]string) {
	return func(cfg map[string]string) {
		for _, c := range changes {
			c(cfg)
		}
	}
}

const newDigest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"

// The seed's promise: each service deploys independently. A new image of
// one service changes that service's Deployments, one per region, and its
// migration job, and nothing else in the whole stack.
func TestOneServiceReleaseTouchesOnlyIt(t *testing.T) {
	base := planStack(t, "prod")
	bumped := planChanged(t, "prod", setRelease("order", "image", newDigest))
	diff := changedResources(t, base.inv, bumped.inv)
	sort.Strings(diff)
	assert.Equal(t, []string{"ap-south-1-order", "eu-west-1-order", "us-east-1-order", "us-east-1-order-migrate"}, diff)
	for _, name := range []string{"ap-south-1-order", "eu-west-1-order", "us-east-1-order"} {
		assert.Equal(t, deployment, bumped.inv.Find(deployment, name).Type)
	}
}

// Resizing one service touches its Deployments or autoscalers only.
func TestOneServiceSizingChangeTouchesOnlyIt(t *testing.T) {
	base := planStack(t, "prod")
	resized := planChanged(t, "prod", each(
		setRelease("product", "maxReplicas", 60),
		setRelease("product", "memory", map[string]any{"request": "384Mi", "limit": "384Mi"}),
	))
	diff := changedResources(t, base.inv, resized.inv)
	for _, name := range diff {
		r := resized.inv.Lookup(findURN(resized.inv, name))
		require.NotNil(t, r, name)
		assert.True(t, strings.HasSuffix(name, "-product"), "%s %s changed", r.Type, name)
		assert.Contains(t, []string{deployment, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"}, r.Type)
	}
	assert.Len(t, diff, 2*len(resized.cfg.Regions), "a Deployment and an autoscaler per region")
}

func findURN(inv *plan.Inventory, name string) string {
	for _, r := range inv.Resources {
		if r.Name == name && (r.Type == deployment || strings.HasPrefix(r.Type, "kubernetes:autoscaling")) {
			return r.URN
		}
	}
	return ""
}

// Canary transitions: start one, change its weight, roll it back, promote
// it. The stable Deployment stays untouched while the canary moves.
func TestCanaryTransitions(t *testing.T) {
	base := planStack(t, "staging")
	stable := func(run *stackRun) map[string]string {
		out := map[string]string{}
		for _, d := range run.inv.OfType(deployment) {
			if d.String("metadata.name") == "order" {
				b, err := json.Marshal(plan.Redact(d.Inputs))
				require.NoError(t, err)
				out[d.Region] = string(b)
			}
		}
		return out
	}
	canaries := func(run *stackRun) []*plan.Resource {
		var out []*plan.Resource
		for _, r := range run.inv.Resources {
			if strings.HasPrefix(r.Type, "kubernetes:") && r.Type != targetGroupBinding && strings.HasSuffix(r.Name, "-order-canary") {
				out = append(out, r)
			}
		}
		return out
	}
	canary := func(weight int) func(cfg map[string]string) {
		return setRelease("order", "canary", map[string]any{"image": "1.5.0-rc1", "weight": weight})
	}

	started := planChanged(t, "staging", canary(10))
	assert.Equal(t, stable(base), stable(started), "starting a canary leaves the stable Deployments alone")
	assert.Len(t, canaries(started), 4*len(started.cfg.Regions), "a Deployment, Service, autoscaler and budget per region")
	for _, d := range canaries(started) {
		if d.Type == deployment {
			assert.True(t, strings.HasSuffix(d.String("spec.template.spec.containers.0.image"), ":1.5.0-rc1"), d.Name)
		}
	}

	// The canary is judged by its own requests: alarms on its target
	// group, under the service's alarm prefix the canary workflow reads.
	runbook, err := os.ReadFile("../docs/operations.md")
	require.NoError(t, err)
	for _, rc := range started.cfg.Regions {
		for _, what := range []string{"canary-5xx-rate", "canary-p95-latency"} {
			name := "staging-" + rc.Name + "-order-" + what
			alarms := inRegion(started.inv.Where(metricAlarm, "name", name), rc.Name)
			require.Len(t, alarms, 1, name)
			found := alarms[0]
			assert.Contains(t, string(runbook), "\n### "+what+"\n", "%s has a runbook line", name)
			assert.Contains(t, found.String("dimensions.TargetGroup")+found.String("metricQueries.1.metric.dimensions.TargetGroup"), "targetgroup/order-canary-", name)
			assert.Empty(t, base.inv.Where(metricAlarm, "name", name), "no canary, no canary alarm")
		}
	}

	heavier := planChanged(t, "staging", canary(40))
	diff := changedResources(t, started.inv, heavier.inv)
	sort.Strings(diff)
	assert.Equal(t, []string{"eu-west-1-ingress-order", "us-east-1-ingress-order"}, diff,
		"the weight is the traffic path's: the order rule of each region's listener, no workload")
	for _, name := range diff {
		assert.Equal(t, "aws:lb/listenerRule:ListenerRule", heavier.inv.Find("aws:lb/listenerRule:ListenerRule", name).Type)
	}

	rolledBack := planChanged(t, "staging", setRelease("order", "canary", nil))
	assert.Empty(t, changedResources(t, base.inv, rolledBack.inv), "removing the canary is back to where it started")

	promoted := planChanged(t, "staging", setRelease("order", "image", "1.5.0-rc1"))
	diff = changedResources(t, base.inv, promoted.inv)
	sort.Strings(diff)
	assert.Equal(t, []string{"eu-west-1-order", "us-east-1-order", "us-east-1-order-migrate"}, diff, "promotion moves the stable image")
	assert.Equal(t, workload.CanaryServiceName("order"), "order-canary")
}
