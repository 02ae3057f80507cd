package config_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/workload"
	"github.com/example/ecommerce-platform/stacks/config"
)

// svcField sets one field of one service's release.
func svcField(svc, name string, value any) func(t *testing.T, raw map[string]string) {
	return func(t *testing.T, raw map[string]string) {
		edit(t, raw, "services", func(v any) any {
			v.(map[string]any)[svc].(map[string]any)[name] = value
			return v
		})
	}
}

func TestInvalidServicesSection(t *testing.T) {
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	runInvalid(t, []invalidCase{
		{"latest", "dev", svcField("auth", "image", "latest"), "services.auth.image"},
		{"no image", "dev", svcField("user", "image", ""), "services.user.image"},
		{"short digest", "dev", svcField("order", "image", "sha256:abc"), "services.order.image"},
		{"tag with a slash", "dev", svcField("order", "image", "team/1.0"), "services.order.image"},
		{"one replica", "dev", svcField("product", "minReplicas", 1), "services.product.minReplicas"},
		{"max under min", "prod", svcField("product", "maxReplicas", 5), "services.product.maxReplicas"},
		{"cpu not a quantity", "dev", svcField("auth", "cpu", map[string]any{"request": "a lot"}), "services.auth.cpu.request"},
		{"cpu limit under request", "dev", svcField("auth", "cpu", map[string]any{"request": "2", "limit": "500m"}), "services.auth.cpu.limit"},
		{"memory in bytes", "dev", svcField("auth", "memory", map[string]any{"request": "268435456"}), "services.auth.memory.request"},
		{"memory limit under request", "dev", svcField("auth", "memory", map[string]any{"request": "1Gi", "limit": "512Mi"}), "services.auth.memory.limit"},
		{"target out of range", "dev", svcField("auth", "targetCpuPercent", 99), "services.auth.targetCpuPercent"},
		{"canary above half", "dev", svcField("order", "canary", map[string]any{"image": "0.2.0", "weight": 60}), "services.order.canary.weight"},
		{"canary of the stable image", "dev", svcField("order", "canary", map[string]any{"image": "0.1.0", "weight": 10}), "services.order.canary.image"},
		{"canary of latest", "prod", svcField("order", "canary", map[string]any{"image": "latest", "weight": 10}), "services.order.canary.image"},
		{"unknown release field", "dev", svcField("order", "replicas", 3), "services"},
		{"unknown service", "dev", func(t *testing.T, raw map[string]string) {
			edit(t, raw, "services", func(v any) any { v.(map[string]any)["billing"] = map[string]any{"image": digest}; return v })
		}, "services.billing"},
		{"a service left out", "dev", func(t *testing.T, raw map[string]string) {
			edit(t, raw, "services", func(v any) any { delete(v.(map[string]any), "user"); return v })
		}, "services.user"},
		{"registry in no configured region", "dev", set("registry", "region", "eu-west-1"), "registry.region"},
		{"registry keeping nothing", "dev", set("registry", "keepReleases", 0), "registry.keepReleases"},
	})
}

func TestReleasesTakeTheEnvironmentsDefaults(t *testing.T) {
	prod, err := config.Parse(rawConfig(t, "prod"))
	require.NoError(t, err)
	for svc, want := range map[string]int{"auth": 3, "user": 5, "product": 10, "order": 5} {
		r := prod.Release(svc)
		assert.Equal(t, want, r.MinReplicas, "the seed's %s replicas in prod", svc)
		assert.True(t, workload.IsDigest(r.Image), "prod runs digests: %s", svc)
	}
	dev, err := config.Parse(rawConfig(t, "dev"))
	require.NoError(t, err)
	assert.Equal(t, 2, dev.Release("product").MinReplicas)
	assert.Equal(t, "us-east-1", dev.RegistryRegion(), "the first region when unset")

	raw := rawConfig(t, "dev")
	svcField("product", "minReplicas", 3)(t, raw)
	cfg, err := config.Parse(raw)
	require.NoError(t, err)
	assert.Equal(t, 3, cfg.Release("product").MinReplicas, "a stated field wins")
	assert.Equal(t, dev.Release("product").MaxReplicas, cfg.Release("product").MaxReplicas, "the rest keeps the default")
}
