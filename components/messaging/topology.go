// Package messaging builds the event bus: one KMS-encrypted SNS topic per
// publishing service in the master region, one encrypted SQS queue with a
// dead-letter queue per consuming service in every region, and the
// cross-region subscriptions between them.
//
// A topic per publisher (rather than per event) matches the services'
// transactional outbox: each service relays its outbox to one TOPIC_ARN and
// puts the event type in the "event_type" message attribute; subscriptions
// filter on it, so each queue receives exactly the events the map routes to it.
package messaging

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// EventTypeAttribute is the message attribute publishers set to the event
// type; filter policies match on it.
const EventTypeAttribute = "event_type"

// Event declares who publishes and who consumes one domain event.
type Event struct {
	// Name is the event type ("order.placed"); in the config it is the
	// key of the event map.
	Name       string   `json:"-"`
	Publishers []string `json:"publishers"`
	Consumers  []string `json:"consumers"`
}

// Route is one subscription: the consumer's queue receives the listed
// events from the publisher's topic.
type Route struct {
	Publisher string
	Consumer  string
	// Events the consumer takes from this topic, sorted. The subscription
	// filters on exactly these, even when the topic carries nothing else
	// today: a publisher adding an event must not flood consumers that
	// the event map does not name.
	Events []string
}

// Topology is what the event map implies.
type Topology struct {
	// Publishers get a topic each; Consumers a queue each (sorted).
	Publishers []string
	Consumers  []string
	// TopicEvents are the events each publisher's topic carries (sorted).
	TopicEvents map[string][]string
	// Routes sorted by consumer, then publisher.
	Routes []Route
}

// Plan derives the topology from the event map. It fails on an event
// consumed with nobody publishing it.
func Plan(events []Event) (*Topology, error) {
	t := &Topology{TopicEvents: map[string][]string{}}
	type pair struct{ pub, con string }
	routes := map[pair][]string{}
	consumers := map[string]bool{}
	var errs []error
	for _, ev := range events {
		if ev.Name == "" {
			errs = append(errs, errors.New("messaging: an event has no name"))
			continue
		}
		if len(ev.Publishers) == 0 && len(ev.Consumers) > 0 {
			errs = append(errs, fmt.Errorf("messaging: %s has consumers %v but no publisher", ev.Name, ev.Consumers))
			continue
		}
		for _, p := range ev.Publishers {
			t.TopicEvents[p] = appendUnique(t.TopicEvents[p], ev.Name)
			for _, c := range ev.Consumers {
				consumers[c] = true
				routes[pair{p, c}] = appendUnique(routes[pair{p, c}], ev.Name)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for p, evs := range t.TopicEvents {
		sort.Strings(evs)
		t.Publishers = append(t.Publishers, p)
	}
	for c := range consumers {
		t.Consumers = append(t.Consumers, c)
	}
	sort.Strings(t.Publishers)
	sort.Strings(t.Consumers)
	for k, evs := range routes {
		sort.Strings(evs)
		t.Routes = append(t.Routes, Route{Publisher: k.pub, Consumer: k.con, Events: evs})
	}
	sort.Slice(t.Routes, func(i, j int) bool {
		a, b := t.Routes[i], t.Routes[j]
		if a.Consumer != b.Consumer {
			return a.Consumer < b.Consumer
		}
		return a.Publisher < b.Publisher
	})
	return t, nil
}

// RoutesTo returns the routes into one consumer's queue.
func (t *Topology) RoutesTo(consumer string) []Route {
	var out []Route
	for _, r := range t.Routes {
		if r.Consumer == consumer {
			out = append(out, r)
		}
	}
	return out
}

// IsPublisher and IsConsumer tell whether a service has a topic or a queue.
func (t *Topology) IsPublisher(svc string) bool { return contains(t.Publishers, svc) }

// IsConsumer tells whether a service has a queue.
func (t *Topology) IsConsumer(svc string) bool { return contains(t.Consumers, svc) }

// FilterPolicy is the subscription filter policy of a route: deliver only
// the listed event types, matched on the message attribute.
func (r Route) FilterPolicy() string {
	b, _ := json.Marshal(map[string][]string{EventTypeAttribute: r.Events})
	return string(b)
}

func appendUnique(list []string, v string) []string {
	if contains(list, v) {
		return list
	}
	return append(list, v)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
