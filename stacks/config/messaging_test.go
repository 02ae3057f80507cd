package config_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/stacks/config"
)

// event replaces (or, with nil, removes) one entry of the event map.
func event(name string, value any) func(t *testing.T, raw map[string]string) {
	return func(t *testing.T, raw map[string]string) {
		edit(t, raw, "events", func(v any) any {
			if value == nil {
				delete(v.(map[string]any), name)
			} else {
				v.(map[string]any)[name] = value
			}
			return v
		})
	}
}

func TestInvalidMessagingSection(t *testing.T) {
	m := func(name string, value any) func(t *testing.T, raw map[string]string) {
		return set("messaging", name, value)
	}
	runInvalid(t, []invalidCase{
		{"max receive count zero", "dev", m("maxReceiveCount", 0), "messaging.maxReceiveCount"},
		{"max receive count above 1000", "dev", m("maxReceiveCount", 1001), "messaging.maxReceiveCount"},
		{"retention above 14 days", "dev", m("messageRetentionSeconds", 1209601), "messaging.messageRetentionSeconds"},
		{"retention as long as the dead-letter queue's", "dev", m("messageRetentionSeconds", 1209600), "messaging.messageRetentionSeconds"},
		{"retention leaving a dead letter under a day", "dev", m("messageRetentionSeconds", 1123201), "messaging.messageRetentionSeconds"},
		{"retention under a minute", "dev", m("messageRetentionSeconds", 59), "messaging.messageRetentionSeconds"},
		{"visibility timeout above 12 hours", "dev", m("visibilityTimeoutSeconds", 43201), "messaging.visibilityTimeoutSeconds"},
		{"unknown messaging field", "dev", m("dlqRetention", 5), "messaging"},
		{"unknown publisher in the event map", "dev", event("order.placed", map[string]any{
			"publishers": []string{"billing"}, "consumers": []string{"product"},
		}), "events.order.placed.publishers[0]"},
		{"unknown consumer in the event map", "dev", event("user.registered", map[string]any{
			"publishers": []string{"auth"}, "consumers": []string{"user", "mailer"},
		}), "events.user.registered.consumers[1]"},
		{"consumer without a producer", "dev", event("order.placed", map[string]any{
			"publishers": []string{}, "consumers": []string{"product"},
		}), "events.order.placed.publishers"},
		{"consumer listed twice", "dev", event("order.placed", map[string]any{
			"publishers": []string{"order"}, "consumers": []string{"product", "product"},
		}), "events.order.placed.consumers[1]"},
		{"malformed event name", "dev", event("OrderPlaced", map[string]any{
			"publishers": []string{"order"}, "consumers": []string{},
		}), "events.OrderPlaced"},
		{"empty event map", "dev", func(t *testing.T, raw map[string]string) { raw["events"] = `{}` }, "events"},
		{"unknown event field", "dev", event("order.placed", map[string]any{
			"publisher": "order", "consumers": []string{"product"},
		}), "events"},
	})
}

// Every consumer in the shipped event map has a producer, and the map
// yields the topics and queues the services expect.
func TestShippedEventMap(t *testing.T) {
	for _, stack := range shipped {
		cfg, err := config.Parse(rawConfig(t, stack))
		require.NoError(t, err)
		for _, name := range cfg.EventNames() {
			ev := cfg.Events[name]
			if len(ev.Consumers) > 0 {
				assert.NotEmpty(t, ev.Publishers, "%s: %s is consumed, so someone publishes it", stack, name)
			}
		}
		for _, name := range []string{"user.registered", "product.updated", "order.placed", "order.cancelled", "stock.reserved"} {
			assert.Contains(t, cfg.Events, name, stack)
		}
		topo, err := cfg.Topology()
		require.NoError(t, err)
		assert.Equal(t, []string{"auth", "order", "product"}, topo.Publishers, stack)
		assert.Equal(t, []string{"order", "product", "user"}, topo.Consumers, stack)
	}
}
