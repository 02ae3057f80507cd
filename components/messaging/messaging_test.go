package messaging_test

import (
	"encoding/json"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/messaging"
	"github.com/example/ecommerce-platform/stacks/plan"
)

// Regional consumers run everywhere; the others only in the master region.
func TestTopologyForRegion(t *testing.T) {
	topo, err := messaging.Plan([]messaging.Event{
		{Name: "product.updated", Publishers: []string{"product"}, RegionalConsumers: []string{"product"}},
		{Name: "order.placed", Publishers: []string{"order"}, Consumers: []string{"product"}},
		{Name: "user.registered", Publishers: []string{"auth"}, Consumers: []string{"user"}},
	})
	require.NoError(t, err)
	master := topo.ForRegion(true)
	assert.Equal(t, []string{"product", "user"}, master.Consumers)
	assert.Equal(t, []string{"order.placed", "product.updated"}, master.Handlers("product"))
	assert.Equal(t, []string{"user.registered"}, master.Handlers("user"))
	other := topo.ForRegion(false)
	assert.Equal(t, []string{"product"}, other.Consumers)
	assert.Equal(t, []messaging.Route{{Publisher: "product", Consumer: "product", Events: []string{"product.updated"}}}, other.Routes)
	assert.Equal(t, []string{"product.updated"}, other.Handlers("product"))
	assert.Empty(t, other.Handlers("user"))
	assert.Equal(t, master.Publishers, other.Publishers, "topics live in the master region either way")

	_, err = messaging.Plan([]messaging.Event{{Name: "order.placed", Publishers: []string{"order"}, Consumers: []string{"product"}, RegionalConsumers: []string{"product"}}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "order.placed lists product both as a consumer and as a regional consumer")
}

func TestTopologyPlan(t *testing.T) {
	cases := []struct {
		name    string
		events  []messaging.Event
		routes  []messaging.Route
		pubs    []string
		cons    []string
		wantErr string
	}{
		{
			name: "one topic per publisher, routes merge its events",
			events: []messaging.Event{
				{Name: "product.updated", Publishers: []string{"product"}, Consumers: []string{"order"}},
				{Name: "order.cancelled", Publishers: []string{"product"}, Consumers: []string{"order"}},
				{Name: "order.placed", Publishers: []string{"order"}, Consumers: []string{"product", "user"}},
			},
			pubs: []string{"order", "product"},
			cons: []string{"order", "product", "user"},
			routes: []messaging.Route{
				{Publisher: "product", Consumer: "order", Events: []string{"order.cancelled", "product.updated"}},
				{Publisher: "order", Consumer: "product", Events: []string{"order.placed"}},
				{Publisher: "order", Consumer: "user", Events: []string{"order.placed"}},
			},
		},
		{
			name: "an event with two publishers reaches its consumer from both topics",
			events: []messaging.Event{
				{Name: "order.cancelled", Publishers: []string{"order", "product"}, Consumers: []string{"user"}},
			},
			pubs: []string{"order", "product"},
			cons: []string{"user"},
			routes: []messaging.Route{
				{Publisher: "order", Consumer: "user", Events: []string{"order.cancelled"}},
				{Publisher: "product", Consumer: "user", Events: []string{"order.cancelled"}},
			},
		},
		{
			name:   "an event nobody consumes still gets its publisher's topic",
			events: []messaging.Event{{Name: "user.deleted", Publishers: []string{"user"}}},
			pubs:   []string{"user"},
		},
		{
			name:    "a consumer without a producer",
			events:  []messaging.Event{{Name: "order.placed", Consumers: []string{"product"}}},
			wantErr: "order.placed has consumers [product] but no publisher",
		},
		{
			name:    "an unnamed event",
			events:  []messaging.Event{{Publishers: []string{"order"}}},
			wantErr: "has no name",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			topo, err := messaging.Plan(tc.events)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.pubs, topo.Publishers)
			assert.Equal(t, tc.cons, topo.Consumers)
			assert.Equal(t, tc.routes, topo.Routes)
		})
	}
}

func TestFilterPolicyMatchesTheEventTypeAttribute(t *testing.T) {
	r := messaging.Route{Events: []string{"order.cancelled", "product.updated"}}
	assert.JSONEq(t, `{"event_type":["order.cancelled","product.updated"]}`, r.FilterPolicy())
}

func TestQueuePolicyDocument(t *testing.T) {
	doc, err := messaging.QueuePolicy("arn:aws:sqs:eu-west-1:1:q", []string{"arn:aws:sns:us-east-1:1:t"})
	require.NoError(t, err)
	var p map[string]any
	require.NoError(t, json.Unmarshal([]byte(doc), &p))
	assert.Equal(t, "2012-10-17", p["Version"])
	assert.NotContains(t, doc, `"Principal":{"AWS":"*"}`)
	assert.Contains(t, doc, `"aws:SourceArn":["arn:aws:sns:us-east-1:1:t"]`)
	assert.Contains(t, doc, `"aws:SecureTransport":"false"`, "plain transport is refused")
}

func TestQueueSettingsCheck(t *testing.T) {
	ok := messaging.QueueSettings{MaxReceiveCount: 5, VisibilityTimeoutSeconds: 30, MessageRetentionSeconds: 60}
	assert.Empty(t, ok.Check())
	bad := messaging.QueueSettings{MaxReceiveCount: 0, VisibilityTimeoutSeconds: 43201, MessageRetentionSeconds: messaging.DeadLetterRetentionSeconds}
	var fields []string
	for _, p := range bad.Check() {
		fields = append(fields, p.Field)
	}
	assert.Equal(t, []string{"maxReceiveCount", "visibilityTimeoutSeconds", "messageRetentionSeconds"}, fields)
}

func topology(t *testing.T) *messaging.Topology {
	t.Helper()
	topo, err := messaging.Plan([]messaging.Event{{Name: "a.b", Publishers: []string{"order"}, Consumers: []string{"user"}}})
	require.NoError(t, err)
	return topo
}

// Bad arguments fail before anything is created, each field named.
func TestMessagingComponentsCheckArgsFirst(t *testing.T) {
	topo := topology(t)
	cases := map[string]struct {
		build  func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error
		fields []string
	}{
		"queues without topic for a route": {func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
			_, err := messaging.NewQueues(ctx, "q", &messaging.QueuesArgs{
				DisplayName: "x", Topology: topo, KmsKeyArn: pulumi.String("k"),
				Settings: messaging.QueueSettings{MaxReceiveCount: 5, MessageRetentionSeconds: 60},
			}, opts...)
			return err
		}, []string{"TopicArns.order"}},
		"queues with settings SQS refuses": {func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
			_, err := messaging.NewQueues(ctx, "q", &messaging.QueuesArgs{
				DisplayName: "x", Topology: &messaging.Topology{}, KmsKeyArn: pulumi.String("k"),
				Settings: messaging.QueueSettings{MaxReceiveCount: 5, MessageRetentionSeconds: 10},
			}, opts...)
			return err
		}, []string{"Settings.messageRetentionSeconds"}},
		"topics without key and account": {func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
			_, err := messaging.NewTopics(ctx, "t", &messaging.TopicsArgs{NamePrefix: "x", Topology: &messaging.Topology{}}, opts...)
			return err
		}, []string{"KmsKeyArn", "AccountID"}},
		"subscriptions without a region's queues": {func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
			_, err := messaging.NewSubscriptions(ctx, "s", &messaging.SubscriptionsArgs{
				Topology: topo, Regions: []string{"eu-west-1"}, MasterRegion: "eu-west-1",
				TopicArns: map[string]pulumi.StringOutput{"order": pulumi.String("arn:aws:sns:us-east-1:1:t").ToStringOutput()},
			}, opts...)
			return err
		}, []string{"Queues.eu-west-1"}},
		"subscriptions with a master that is not a region": {func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
			_, err := messaging.NewSubscriptions(ctx, "s", &messaging.SubscriptionsArgs{
				Topology: topo, Regions: []string{"eu-west-1"}, MasterRegion: "us-east-1",
				TopicArns: map[string]pulumi.StringOutput{"order": pulumi.String("arn:aws:sns:us-east-1:1:t").ToStringOutput()},
			}, opts...)
			return err
		}, []string{"MasterRegion"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			inv, err := plan.RunComponent("eu-west-1", tc.build)
			require.Error(t, err)
			for _, f := range tc.fields {
				assert.Contains(t, err.Error(), f+":", "names the field")
			}
			assert.True(t, inv.OnlyProviders(), "nothing is created")
		})
	}
}

func TestQueuesHaveDeadLetterQueuesAndPolicies(t *testing.T) {
	topo := topology(t)
	inv, err := plan.RunComponent("eu-west-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		_, err := messaging.NewQueues(ctx, "eu-west-1-queues", &messaging.QueuesArgs{
			DisplayName: "ecommerce-test-eu-west-1", Topology: topo, KmsKeyArn: pulumi.String("arn:aws:kms:eu-west-1:1:key/k"),
			Settings:  messaging.QueueSettings{MaxReceiveCount: 5, VisibilityTimeoutSeconds: 30, MessageRetentionSeconds: 600},
			TopicArns: map[string]pulumi.StringOutput{"order": pulumi.String("arn:aws:sns:us-east-1:1:t").ToStringOutput()},
		}, opts...)
		return err
	})
	require.NoError(t, err)
	q := inv.Find("aws:sqs/queue:Queue", "eu-west-1-queues-user")
	dlq := inv.Find("aws:sqs/queue:Queue", "eu-west-1-queues-user-dlq")
	require.NotNil(t, q)
	require.NotNil(t, dlq)
	assert.Contains(t, q.String("redrivePolicy"), `"maxReceiveCount":5`)
	assert.Equal(t, "arn:aws:kms:eu-west-1:1:key/k", q.String("kmsMasterKeyId"))
	assert.NotNil(t, inv.Find("aws:sqs/queuePolicy:QueuePolicy", "eu-west-1-queues-user"))
	assert.NotNil(t, inv.Find("aws:sqs/redriveAllowPolicy:RedriveAllowPolicy", "eu-west-1-queues-user-dlq"))
}
