package messaging

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// DeadLetterRetentionSeconds keeps failed messages 14 days, the SQS maximum,
// so a broken consumer can be fixed and its messages redriven.
const DeadLetterRetentionSeconds = 14 * 24 * 3600

// KmsDataKeyReuseSeconds trades a little key freshness for far fewer KMS
// calls (and cost) on busy queues.
const KmsDataKeyReuseSeconds = 300

// TopicName is the SNS topic name of a publisher's events.
func TopicName(displayPrefix, publisher string) string {
	return fmt.Sprintf("%s-%s-events", displayPrefix, publisher)
}

// ---------------------------------------------------------------- topics

// TopicsArgs configures the topics (master region only).
type TopicsArgs struct {
	// NamePrefix names the topics, e.g. "ecommerce-prod".
	NamePrefix string
	Topology   *Topology
	// KmsKeyArn encrypts messages at rest.
	KmsKeyArn pulumi.StringInput
	// AccountID is the only account whose identities (through their IAM
	// policies) may use the topics.
	AccountID string
}

// TopicPolicy replaces SNS's default policy: this account's identities,
// as their IAM policies allow, and never without TLS.
func TopicPolicy(topicArn, accountID string) (string, error) {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{
			{
				"Sid":       "AccountUses",
				"Effect":    "Allow",
				"Principal": map[string]any{"AWS": fmt.Sprintf("arn:aws:iam::%s:root", accountID)},
				"Action":    []string{"sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic"},
				"Resource":  topicArn,
			},
			denyPlainTransport("sns:Publish", topicArn),
		},
	}
	b, err := json.Marshal(doc)
	return string(b), err
}

// Topics are the event topics, one per publishing service.
type Topics struct {
	pulumi.ResourceState

	// Arns are the topic ARNs by publishing service.
	Arns pulumi.StringMapOutput `pulumi:"arns"`

	// ByPublisher are the same ARNs as typed outputs.
	ByPublisher map[string]pulumi.StringOutput
}

// NewTopics creates one encrypted topic per publisher.
func NewTopics(ctx *pulumi.Context, name string, args *TopicsArgs, opts ...pulumi.ResourceOption) (*Topics, error) {
	if args == nil || args.Topology == nil || args.NamePrefix == "" || args.KmsKeyArn == nil || args.AccountID == "" {
		return nil, errors.New("messaging: topics need NamePrefix, Topology, KmsKeyArn and AccountID")
	}
	t := &Topics{ByPublisher: map[string]pulumi.StringOutput{}}
	if err := ctx.RegisterComponentResource("ecommerce:messaging:Topics", name, t, opts...); err != nil {
		return nil, err
	}
	arns := pulumi.StringMap{}
	for _, pub := range args.Topology.Publishers {
		topic, err := sns.NewTopic(ctx, name+"-"+pub, &sns.TopicArgs{
			Name:           pulumi.String(TopicName(args.NamePrefix, pub)),
			KmsMasterKeyId: args.KmsKeyArn,
			Tags: pulumi.StringMap{
				"Name":      pulumi.String(TopicName(args.NamePrefix, pub)),
				"publisher": pulumi.String(pub),
			},
		}, pulumi.Parent(t))
		if err != nil {
			return nil, err
		}
		if _, err := sns.NewTopicPolicy(ctx, name+"-"+pub, &sns.TopicPolicyArgs{
			Arn: topic.Arn,
			Policy: topic.Arn.ApplyT(func(arn string) (string, error) {
				return TopicPolicy(arn, args.AccountID)
			}).(pulumi.StringOutput),
		}, pulumi.Parent(t)); err != nil {
			return nil, err
		}
		t.ByPublisher[pub] = topic.Arn
		arns[pub] = topic.Arn
	}
	t.Arns = arns.ToStringMapOutput()
	return t, ctx.RegisterResourceOutputs(t, pulumi.Map{"arns": t.Arns})
}

// ---------------------------------------------------------------- queues

// QueueSettings tune every consumer queue.
type QueueSettings struct {
	MaxReceiveCount          int
	VisibilityTimeoutSeconds int
	MessageRetentionSeconds  int
}

// QueuesArgs configures one region's consumer queues.
type QueuesArgs struct {
	// DisplayName names the queues, e.g. "ecommerce-prod-eu-west-1".
	DisplayName string
	Topology    *Topology
	Settings    QueueSettings
	// TopicArns are the master region's topics by publisher; each queue's
	// policy admits exactly the topics it subscribes to.
	TopicArns map[string]pulumi.StringOutput
	// KmsKeyArn is this region's key; its policy lets SNS use it.
	KmsKeyArn pulumi.StringInput
}

// Queue is one consumer's queue and its dead-letter queue.
type Queue struct {
	Arn    pulumi.StringOutput
	URL    pulumi.StringOutput
	DlqArn pulumi.StringOutput
}

// Queues are a region's consumer queues.
type Queues struct {
	pulumi.ResourceState

	// Urls are the queue URLs by consuming service.
	Urls pulumi.StringMapOutput `pulumi:"urls"`
	// Arns are the queue ARNs by consuming service.
	Arns pulumi.StringMapOutput `pulumi:"arns"`

	// ByConsumer are the queues by consuming service.
	ByConsumer map[string]*Queue
}

func (a *QueuesArgs) check() error {
	if a == nil || a.Topology == nil || a.DisplayName == "" || a.KmsKeyArn == nil {
		return errors.New("messaging: queues need DisplayName, Topology and KmsKeyArn")
	}
	s := a.Settings
	if s.MaxReceiveCount < 1 || s.MaxReceiveCount > 1000 {
		return fmt.Errorf("messaging: MaxReceiveCount %d: allowed 1 to 1000", s.MaxReceiveCount)
	}
	if s.VisibilityTimeoutSeconds < 0 || s.MessageRetentionSeconds < 60 {
		return errors.New("messaging: VisibilityTimeoutSeconds must be >= 0 and MessageRetentionSeconds >= 60")
	}
	for _, r := range a.Topology.Routes {
		if _, ok := a.TopicArns[r.Publisher]; !ok {
			return fmt.Errorf("messaging: no topic ARN for publisher %q", r.Publisher)
		}
	}
	return nil
}

// QueuePolicy lets exactly the given topics send to the queue, and refuses
// any request made without TLS.
func QueuePolicy(queueArn string, topicArns []string) (string, error) {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{
			{
				"Sid":       "SubscribedTopicsSend",
				"Effect":    "Allow",
				"Principal": map[string]any{"Service": "sns.amazonaws.com"},
				"Action":    "sqs:SendMessage",
				"Resource":  queueArn,
				"Condition": map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": topicArns}},
			},
			denyPlainTransport("sqs:*", queueArn),
		},
	}
	b, err := json.Marshal(doc)
	return string(b), err
}

// NewQueues creates, per consumer: a dead-letter queue, the queue that
// redrives to it, the queue policy, and the DLQ's redrive-allow policy.
func NewQueues(ctx *pulumi.Context, name string, args *QueuesArgs, opts ...pulumi.ResourceOption) (*Queues, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	q := &Queues{ByConsumer: map[string]*Queue{}}
	if err := ctx.RegisterComponentResource("ecommerce:messaging:Queues", name, q, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(q)
	s := args.Settings
	urls, arns := pulumi.StringMap{}, pulumi.StringMap{}
	for _, consumer := range args.Topology.Consumers {
		base := fmt.Sprintf("%s-%s", name, consumer)
		physical := fmt.Sprintf("%s-%s", args.DisplayName, consumer)
		tags := pulumi.StringMap{"Name": pulumi.String(physical), "consumer": pulumi.String(consumer)}

		dlq, err := sqs.NewQueue(ctx, base+"-dlq", &sqs.QueueArgs{
			Name:                         pulumi.String(physical + "-dlq"),
			MessageRetentionSeconds:      pulumi.Int(DeadLetterRetentionSeconds),
			KmsMasterKeyId:               args.KmsKeyArn,
			KmsDataKeyReusePeriodSeconds: pulumi.Int(KmsDataKeyReuseSeconds),
			Tags:                         tags,
		}, parent)
		if err != nil {
			return nil, err
		}
		redrive := dlq.Arn.ApplyT(func(arn string) (string, error) {
			b, err := json.Marshal(map[string]any{"deadLetterTargetArn": arn, "maxReceiveCount": s.MaxReceiveCount})
			return string(b), err
		}).(pulumi.StringOutput)
		queue, err := sqs.NewQueue(ctx, base, &sqs.QueueArgs{
			Name:                         pulumi.String(physical),
			VisibilityTimeoutSeconds:     pulumi.Int(s.VisibilityTimeoutSeconds),
			MessageRetentionSeconds:      pulumi.Int(s.MessageRetentionSeconds),
			ReceiveWaitTimeSeconds:       pulumi.Int(20), // long polling: fewer empty receives
			RedrivePolicy:                redrive,
			KmsMasterKeyId:               args.KmsKeyArn,
			KmsDataKeyReusePeriodSeconds: pulumi.Int(KmsDataKeyReuseSeconds),
			Tags:                         tags,
		}, parent)
		if err != nil {
			return nil, err
		}
		// Only this queue may use the DLQ as its dead-letter target.
		if _, err := sqs.NewRedriveAllowPolicy(ctx, base+"-dlq", &sqs.RedriveAllowPolicyArgs{
			QueueUrl: dlq.Url,
			RedriveAllowPolicy: queue.Arn.ApplyT(func(arn string) (string, error) {
				b, err := json.Marshal(map[string]any{"redrivePermission": "byQueue", "sourceQueueArns": []string{arn}})
				return string(b), err
			}).(pulumi.StringOutput),
		}, parent); err != nil {
			return nil, err
		}

		inputs := []any{queue.Arn}
		for _, r := range args.Topology.RoutesTo(consumer) {
			inputs = append(inputs, args.TopicArns[r.Publisher])
		}
		policy := pulumi.All(inputs...).ApplyT(func(v []any) (string, error) {
			topics := make([]string, 0, len(v)-1)
			for _, t := range v[1:] {
				topics = append(topics, t.(string))
			}
			return QueuePolicy(v[0].(string), topics)
		}).(pulumi.StringOutput)
		if _, err := sqs.NewQueuePolicy(ctx, base, &sqs.QueuePolicyArgs{
			QueueUrl: queue.Url,
			Policy:   policy,
		}, parent); err != nil {
			return nil, err
		}
		q.ByConsumer[consumer] = &Queue{Arn: queue.Arn, URL: queue.Url, DlqArn: dlq.Arn}
		urls[consumer] = queue.Url
		arns[consumer] = queue.Arn
	}
	q.Urls = urls.ToStringMapOutput()
	q.Arns = arns.ToStringMapOutput()
	return q, ctx.RegisterResourceOutputs(q, pulumi.Map{"urls": q.Urls, "arns": q.Arns})
}

// ---------------------------------------------------------- subscriptions

// SubscriptionsArgs wires every region's queues to the master topics.
type SubscriptionsArgs struct {
	Topology  *Topology
	TopicArns map[string]pulumi.StringOutput
	// Queues are the consumer queues of each region, by region name.
	Queues map[string]*Queues
	// Regions lists the keys of Queues in a stable order.
	Regions []string
}

// Subscriptions are the SNS to SQS subscriptions of every region's queues.
type Subscriptions struct {
	pulumi.ResourceState

	// Count is the number of subscriptions created.
	Count int
}

// NewSubscriptions subscribes each region's queues to the topics. SNS
// requires the subscription to be made in the topic's region, so pass the
// master region's provider (the master Region component as parent does).
// SNS retries delivery to an unreachable queue for days, so a region that
// is down gets its events once it is back.
func NewSubscriptions(ctx *pulumi.Context, name string, args *SubscriptionsArgs, opts ...pulumi.ResourceOption) (*Subscriptions, error) {
	if args == nil || args.Topology == nil || len(args.Regions) == 0 {
		return nil, errors.New("messaging: subscriptions need Topology, Queues and Regions")
	}
	for _, region := range args.Regions {
		q := args.Queues[region]
		if q == nil {
			return nil, fmt.Errorf("messaging: no queues for region %s", region)
		}
		for _, c := range args.Topology.Consumers {
			if q.ByConsumer[c] == nil {
				return nil, fmt.Errorf("messaging: region %s has no queue for %s", region, c)
			}
		}
	}
	s := &Subscriptions{}
	if err := ctx.RegisterComponentResource("ecommerce:messaging:Subscriptions", name, s, opts...); err != nil {
		return nil, err
	}
	for _, region := range args.Regions {
		for _, r := range args.Topology.Routes {
			topic, ok := args.TopicArns[r.Publisher]
			if !ok {
				return nil, fmt.Errorf("messaging: no topic ARN for publisher %q", r.Publisher)
			}
			sub := &sns.TopicSubscriptionArgs{
				Topic:    topic,
				Protocol: pulumi.String("sqs"),
				Endpoint: args.Queues[region].ByConsumer[r.Consumer].Arn,
				// The queue gets the event itself, not an SNS envelope.
				RawMessageDelivery: pulumi.Bool(true),
				FilterPolicy:       pulumi.String(r.FilterPolicy()),
				FilterPolicyScope:  pulumi.String("MessageAttributes"),
			}
			logical := fmt.Sprintf("%s-%s-%s-from-%s", name, region, r.Consumer, r.Publisher)
			if _, err := sns.NewTopicSubscription(ctx, logical, sub, pulumi.Parent(s)); err != nil {
				return nil, err
			}
			s.Count++
		}
	}
	return s, ctx.RegisterResourceOutputs(s, pulumi.Map{"count": pulumi.Int(s.Count)})
}

// denyPlainTransport is the policy statement that refuses a request made
// without TLS, whoever makes it.
func denyPlainTransport(action string, resource any) map[string]any {
	return map[string]any{
		"Sid":       "DenyPlainTransport",
		"Effect":    "Deny",
		"Principal": "*",
		"Action":    action,
		"Resource":  resource,
		"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
	}
}
