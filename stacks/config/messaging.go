package config

import (
	"fmt"
	"regexp"
	"slices"
	"sort"

	"github.com/example/ecommerce-platform/components/check"
	"github.com/example/ecommerce-platform/components/messaging"
)

// Keys of the messaging section.
const (
	KeyMessaging = "messaging"
	KeyEvents    = "events"
)

var eventNamePattern = regexp.MustCompile(`^[a-z][a-z0-9]*(\.[a-z][a-z0-9_]*)+$`)

var messagingSection = section{
	keys: []key{
		{KeyMessaging, "object", messaging.QueueSettings{MaxReceiveCount: 5, VisibilityTimeoutSeconds: 30, MessageRetentionSeconds: 345600},
			func(c *Config) any { return &c.Messaging }},
		{KeyEvents, "object", map[string]messaging.Event{
			"user.registered": {Publishers: []string{"auth"}, Consumers: []string{"user"}},
			// Every region's product service drops its cached copy; no
			// service changes its database on it.
			"product.updated": {Publishers: []string{"product"}, RegionalConsumers: []string{"product"}},
			"order.placed":    {Publishers: []string{"order"}, Consumers: []string{"product"}},
			// Product cancels an order it cannot reserve stock for; order
			// cancels one nobody confirmed in time, and product then gives
			// back what it reserved. Each ignores its own.
			"order.cancelled": {Publishers: []string{"product", "order"}, Consumers: []string{"order", "product"}},
			"stock.reserved":  {Publishers: []string{"product"}, Consumers: []string{"order"}},
		}, func(c *Config) any { return &c.Events }},
	},
	validate: func(c *Config, p *check.Problems) {
		p.Merge(KeyMessaging, c.Messaging.Check())
		validateEvents(c, p)
	},
}

func validateEvents(c *Config, p *check.Problems) {
	if len(c.Events) == 0 {
		p.Add(KeyEvents, "must declare at least one event")
		return
	}
	for _, name := range c.EventNames() {
		ev := c.Events[name]
		base := fmt.Sprintf("%s.%s", KeyEvents, name)
		if !eventNamePattern.MatchString(name) {
			p.Add(base, "%q is not an event name such as order.placed (lower case, dot-separated)", name)
		}
		// A consumer without a producer would wait on a topic nobody
		// writes to; an event nobody consumes is allowed (audit, future).
		if len(ev.Publishers) == 0 {
			p.Add(base+".publishers", "must name the service that publishes %s; allowed: %s", name, quoteAll(Services))
		}
		checkServices := func(field string, list []string) {
			seen := map[string]bool{}
			for i, s := range list {
				k := fmt.Sprintf("%s.%s[%d]", base, field, i)
				if !slices.Contains(Services, s) {
					p.Add(k, "%q is not a service; allowed: %s", s, quoteAll(Services))
				}
				if seen[s] {
					p.Add(k, "%q is listed twice", s)
				}
				seen[s] = true
			}
		}
		checkServices("publishers", ev.Publishers)
		checkServices("consumers", ev.Consumers)
		checkServices("regionalConsumers", ev.RegionalConsumers)
		for i, svc := range ev.RegionalConsumers {
			if slices.Contains(ev.Consumers, svc) {
				p.Add(fmt.Sprintf("%s.regionalConsumers[%d]", base, i),
					"%q is also a consumer of %s: a service handles an event either where the primaries are (consumers) or in every region (regionalConsumers), not both", svc, name)
			}
		}
	}
}

// EventNames returns the declared events in a stable order.
func (c *Config) EventNames() []string {
	names := make([]string, 0, len(c.Events))
	for n := range c.Events {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Topology derives topics, queues and subscriptions from the event map.
func (c *Config) Topology() (*messaging.Topology, error) {
	events := make([]messaging.Event, 0, len(c.Events))
	for _, name := range c.EventNames() {
		ev := c.Events[name]
		ev.Name = name
		events = append(events, ev)
	}
	return messaging.Plan(events)
}
