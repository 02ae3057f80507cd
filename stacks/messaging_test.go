package stacks_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/keys"
	"github.com/example/ecommerce-platform/components/messaging"
	"github.com/example/ecommerce-platform/stacks/plan"
)

func TestEveryQueueHasADeadLetterQueueAndEncryption(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			run := planStack(t, stack)
			byName := map[string]*plan.Resource{}
			for _, q := range run.inv.OfType(sqsQueue) {
				byName[q.String("name")] = q
			}
			main := 0
			for _, q := range run.inv.OfType(sqsQueue) {
				assert.Equal(t, run.key(q.Region, keys.Messaging), q.String("kmsMasterKeyId"), "%s is encrypted with its region's messaging key", q.Name)
				name := q.String("name")
				if strings.HasSuffix(name, "-dlq") {
					assert.Equal(t, float64(messaging.DeadLetterRetentionSeconds), q.Get("messageRetentionSeconds"), "%s keeps 14 days", name)
					assert.Nil(t, q.Get("redrivePolicy"), name)
					continue
				}
				main++
				var redrive struct {
					Target string `json:"deadLetterTargetArn"`
					Max    int    `json:"maxReceiveCount"`
				}
				require.NoError(t, json.Unmarshal([]byte(q.String("redrivePolicy")), &redrive), name)
				assert.Equal(t, fmt.Sprintf("arn:aws:sqs:%s:%s:%s-dlq", q.Region, run.cfg.AccountID, name), redrive.Target, name)
				dlq := byName[name+"-dlq"]
				require.NotNil(t, dlq, "%s has its DLQ", name)
				assert.Equal(t, run.cfg.Messaging.MaxReceiveCount, redrive.Max, name)
				// SQS keeps a message's first-enqueue time when it moves it to
				// the DLQ: the DLQ must outlive its source by a day, the
				// config's margin (the pack's enforce-dlq-outlives-source asks
				// for longer at all).
				assert.LessOrEqual(t, q.Get("messageRetentionSeconds").(float64)+24*3600, dlq.Get("messageRetentionSeconds").(float64),
					"%s: a message dead-lettered late still waits a day in its DLQ", name)
			}
			assert.Equal(t, len(run.inv.OfType(sqsQueue))/2, main)
		})
	}
}

// Each queue admits only the topics it subscribes to, and only over TLS.
func TestQueuePoliciesAdmitOnlySubscribedTopics(t *testing.T) {
	run := planStack(t, "prod")
	topo, err := run.cfg.Topology()
	require.NoError(t, err)
	topicArn := func(pub string) string {
		return fmt.Sprintf("arn:aws:sns:%s:%s:%s", run.cfg.MasterRegion, run.cfg.AccountID, messaging.TopicName("ecommerce-prod", pub))
	}
	policies := run.inv.OfType("aws:sqs/queuePolicy:QueuePolicy")
	require.Len(t, policies, len(topo.Consumers)+(len(run.cfg.Regions)-1)*len(topo.ForRegion(false).Consumers))
	for _, p := range policies {
		var doc struct {
			Statement []struct {
				Effect    string
				Principal any
				Action    any
				Condition map[string]map[string]any
			}
		}
		require.NoError(t, json.Unmarshal([]byte(p.String("policy")), &doc), p.Name)
		require.Len(t, doc.Statement, 2, p.Name)
		allow := doc.Statement[0]
		assert.Equal(t, "Allow", allow.Effect)
		assert.Equal(t, map[string]any{"Service": "sns.amazonaws.com"}, allow.Principal)
		assert.Equal(t, "sqs:SendMessage", allow.Action)
		consumer := p.Name[strings.LastIndex(p.Name, "-")+1:]
		var want []any
		for _, r := range topo.ForRegion(p.Region == run.cfg.MasterRegion).RoutesTo(consumer) {
			want = append(want, topicArn(r.Publisher))
		}
		assert.Equal(t, want, allow.Condition["ArnEquals"]["aws:SourceArn"], "%s admits exactly its topics", p.Name)
		assert.Equal(t, "Deny", doc.Statement[1].Effect)
		assert.Equal(t, "false", doc.Statement[1].Condition["Bool"]["aws:SecureTransport"])
	}
}

func TestTopicsAndSubscriptions(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			run := planStack(t, stack)
			topo, err := run.cfg.Topology()
			require.NoError(t, err)
			for _, topic := range eventParts(run.inv, snsTopic) {
				assert.Equal(t, run.cfg.MasterRegion, topic.Region)
				assert.Equal(t, run.key(run.cfg.MasterRegion, keys.Messaging), topic.String("kmsMasterKeyId"), "%s is encrypted", topic.Name)
			}
			policies := eventParts(run.inv, "aws:sns/topicPolicy:TopicPolicy")
			require.Len(t, policies, len(topo.Publishers))
			for _, p := range policies {
				doc := p.String("policy")
				assert.Contains(t, doc, fmt.Sprintf(`"AWS":"arn:aws:iam::%s:root"`, run.cfg.AccountID), "only this account")
				assert.Contains(t, doc, `"aws:SecureTransport":"false"`, "no publish without TLS")
				assert.NotContains(t, doc, `"AWS":"*"`)
			}
			subs := run.inv.OfType(snsSub)
			require.Len(t, subs, len(topo.Routes)+(len(run.cfg.Regions)-1)*len(topo.ForRegion(false).Routes))
			seen := map[string]bool{}
			for _, s := range subs {
				assert.Equal(t, "sqs", s.String("protocol"))
				assert.Equal(t, true, s.Get("rawMessageDelivery"), "services read the event itself")
				assert.True(t, strings.HasPrefix(s.String("topic"), "arn:aws:sns:"+run.cfg.MasterRegion+":"), s.Name)
				assert.Equal(t, "MessageAttributes", s.String("filterPolicyScope"))
				var filter map[string][]string
				require.NoError(t, json.Unmarshal([]byte(s.String("filterPolicy")), &filter), s.Name)
				queueRegion := strings.Split(s.String("endpoint"), ":")[3]
				seen[queueRegion] = true
				for _, ev := range filter[messaging.EventTypeAttribute] {
					assert.NotEmpty(t, run.cfg.Events[ev].Publishers, "%s filters on a declared event", s.Name)
				}
			}
			for _, rc := range run.cfg.Regions {
				assert.True(t, seen[rc.Name], "queues of %s are subscribed", rc.Name)
			}
		})
	}
}
