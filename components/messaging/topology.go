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
//
// Consumers change their own database: they run only in the master
// region, where the primaries are, so each event's effect happens once.
// RegionalConsumers do work that every region needs on its own (dropping
// cached copies): they run in every region and must not write to a
// database.
type Event struct {
	// Name is the event type ("order.placed"); in the config it is the
	// key of the event map.
	Name              string   `json:"-"`
	Publishers        []string `json:"publishers"`
	Consumers         []string `json:"consumers,omitempty"`
	RegionalConsumers []string `json:"regionalConsumers,omitempty"`
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

// Topology is what the event map implies for the master region: every
// consumer's queue and route. ForRegion gives the other regions' part.
type Topology struct {
	// Publishers get a topic each; Consumers a queue each (sorted).
	Publishers []string
	Consumers  []string
	// TopicEvents are the events each publisher's topic carries (sorted).
	TopicEvents map[string][]string
	// Routes sorted by consumer, then publisher.
	Routes []Route

	// regional is what a region other than the master receives: the
	// regional consumers' routes only.
	regional *Topology
}

type pair struct{ pub, con string }

// Plan derives the topology from the event map. It fails on an event
// consumed with nobody publishing it, and on a service that is both a
// consumer and a regional consumer of one event (it would handle the
// event twice in the master region).
func Plan(events []Event) (*Topology, error) {
	t := &Topology{TopicEvents: map[string][]string{}}
	r := &Topology{TopicEvents: t.TopicEvents}
	all, regional := map[pair][]string{}, map[pair][]string{}
	var errs []error
	for _, ev := range events {
		if ev.Name == "" {
			errs = append(errs, errors.New("messaging: an event has no name"))
			continue
		}
		if len(ev.Publishers) == 0 && len(ev.Consumers)+len(ev.RegionalConsumers) > 0 {
			errs = append(errs, fmt.Errorf("messaging: %s has consumers %v but no publisher", ev.Name, append(append([]string(nil), ev.Consumers...), ev.RegionalConsumers...)))
			continue
		}
		for _, c := range ev.RegionalConsumers {
			if contains(ev.Consumers, c) {
				errs = append(errs, fmt.Errorf("messaging: %s lists %s both as a consumer and as a regional consumer", ev.Name, c))
			}
		}
		for _, p := range ev.Publishers {
			t.TopicEvents[p] = appendUnique(t.TopicEvents[p], ev.Name)
			for _, c := range ev.Consumers {
				all[pair{p, c}] = appendUnique(all[pair{p, c}], ev.Name)
			}
			for _, c := range ev.RegionalConsumers {
				all[pair{p, c}] = appendUnique(all[pair{p, c}], ev.Name)
				regional[pair{p, c}] = appendUnique(regional[pair{p, c}], ev.Name)
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
	sort.Strings(t.Publishers)
	r.Publishers = t.Publishers
	t.Consumers, t.Routes = routesOf(all)
	r.Consumers, r.Routes = routesOf(regional)
	t.regional = r
	r.regional = r
	return t, nil
}

// routesOf sorts the routes and lists their consumers.
func routesOf(m map[pair][]string) (consumers []string, routes []Route) {
	seen := map[string]bool{}
	for k, evs := range m {
		sort.Strings(evs)
		routes = append(routes, Route{Publisher: k.pub, Consumer: k.con, Events: evs})
		if !seen[k.con] {
			seen[k.con] = true
			consumers = append(consumers, k.con)
		}
	}
	sort.Strings(consumers)
	sort.Slice(routes, func(i, j int) bool {
		a, b := routes[i], routes[j]
		if a.Consumer != b.Consumer {
			return a.Consumer < b.Consumer
		}
		return a.Publisher < b.Publisher
	})
	return consumers, routes
}

// ForRegion is the part of the topology a region receives: all of it in
// the master region, only the regional consumers' routes elsewhere. A
// topology built by hand (no Plan) is the same everywhere.
func (t *Topology) ForRegion(master bool) *Topology {
	if master || t.regional == nil {
		return t
	}
	return t.regional
}

// Handlers are the events a service handles where this topology applies
// (sorted): what its EVENT_HANDLERS variable lists.
func (t *Topology) Handlers(svc string) []string {
	var out []string
	for _, r := range t.RoutesTo(svc) {
		for _, e := range r.Events {
			out = appendUnique(out, e)
		}
	}
	sort.Strings(out)
	return out
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
