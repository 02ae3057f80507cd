package messaging

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/check"
	"github.com/example/ecommerce-platform/components/iamdoc"
)

// DeadLetterRetentionSeconds keeps failed messages 14 days, the SQS maximum,
// so a broken consumer can be fixed and its messages redriven.
const DeadLetterRetentionSeconds = 14 * 24 * 3600

// KmsDataKeyReuseSeconds trades a little key freshness for far fewer KMS
// calls (and cost) on busy queues.
const KmsDataKeyReuseSeconds = 300

// QueueSettings tune every consumer queue. The stack configuration decodes
// its `messaging` key straight into them.
type QueueSettings struct {
	// MaxReceiveCount is how many deliveries a message gets before it goes
	// to the dead-letter queue.
	MaxReceiveCount int `json:"maxReceiveCount"`
	// VisibilityTimeoutSeconds hides a received message from other
	// consumers while one handles it.
	VisibilityTimeoutSeconds int `json:"visibilityTimeoutSeconds"`
	// MessageRetentionSeconds is how long an unconsumed message is kept.
	MessageRetentionSeconds int `json:"messageRetentionSeconds"`
}

// SQS limits, refused at apply time otherwise.
const (
	MaxReceiveCount      = 1000
	MaxVisibilityTimeout = 43200
	MinRetentionSeconds  = 60
	// MaxRetentionSeconds is a day under the dead-letter queues' 14: SQS
	// ages a message from its first enqueue, not from when it was
	// dead-lettered, so a DLQ that keeps messages no longer than its
	// source would drop a late failure at once. A day leaves time for the
	// DLQ alarm to be seen.
	MaxRetentionSeconds = DeadLetterRetentionSeconds - 24*3600
)

// Check returns what SQS would refuse, fields named as in the config.
func (s QueueSettings) Check() []check.Problem {
	p := check.New("")
	if s.MaxReceiveCount < 1 || s.MaxReceiveCount > MaxReceiveCount {
		p.Add("maxReceiveCount", "%d is out of range; allowed: 1 to %d", s.MaxReceiveCount, MaxReceiveCount)
	}
	if s.VisibilityTimeoutSeconds < 0 || s.VisibilityTimeoutSeconds > MaxVisibilityTimeout {
		p.Add("visibilityTimeoutSeconds", "%d is out of range; allowed: 0 to %d", s.VisibilityTimeoutSeconds, MaxVisibilityTimeout)
	}
	if s.MessageRetentionSeconds < MinRetentionSeconds || s.MessageRetentionSeconds > MaxRetentionSeconds {
		p.Add("messageRetentionSeconds", "%d is out of range; allowed: %d to %d (13 days): the dead-letter queues keep messages 14 days, counted from the first enqueue, so a queue must keep them at least a day less",
			s.MessageRetentionSeconds, MinRetentionSeconds, MaxRetentionSeconds)
	}
	return p.List()
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
	// KmsKeyArn is this region's messaging key; its policy lets SNS use it
	// for the stack's topics.
	KmsKeyArn pulumi.StringInput
}

// Queue is one consumer's queue and its dead-letter queue.
type Queue struct {
	// Name and DlqName are the queues' names (the alarms' QueueName).
	Name, DlqName string
	Arn           pulumi.StringOutput
	URL           pulumi.StringOutput
	DlqArn        pulumi.StringOutput
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
	p := check.New("messaging queues")
	if a == nil {
		p.Require("Args", false)
		return p.Err()
	}
	p.Require("DisplayName", a.DisplayName != "")
	p.Require("Topology", a.Topology != nil)
	p.Require("KmsKeyArn", a.KmsKeyArn != nil)
	p.Merge("Settings", a.Settings.Check())
	if a.Topology != nil {
		for _, r := range a.Topology.Routes {
			if _, ok := a.TopicArns[r.Publisher]; !ok {
				p.Add("TopicArns."+r.Publisher, "no topic ARN for publisher %q", r.Publisher)
			}
		}
	}
	return p.Err()
}

// QueuePolicy lets exactly the given topics send to the queue, and refuses
// any request made without TLS.
func QueuePolicy(queueArn string, topicArns []string) (string, error) {
	return iamdoc.Document(
		iamdoc.Statement{
			Sid:       "SubscribedTopicsSend",
			Effect:    iamdoc.Allow,
			Principal: iamdoc.Principal{Service: "sns.amazonaws.com"},
			Action:    "sqs:SendMessage",
			Resource:  queueArn,
			Condition: map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": topicArns}},
		},
		iamdoc.DenyPlainTransport("sqs:*", queueArn),
	)
}

// RedrivePolicy sends a message to the DLQ after maxReceiveCount receives.
func RedrivePolicy(dlqArn string, maxReceiveCount int) (string, error) {
	b, err := json.Marshal(map[string]any{"deadLetterTargetArn": dlqArn, "maxReceiveCount": maxReceiveCount})
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
			return RedrivePolicy(arn, s.MaxReceiveCount)
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
		q.ByConsumer[consumer] = &Queue{Name: physical, DlqName: physical + "-dlq", Arn: queue.Arn, URL: queue.Url, DlqArn: dlq.Arn}
		urls[consumer] = queue.Url
		arns[consumer] = queue.Arn
	}
	q.Urls = urls.ToStringMapOutput()
	q.Arns = arns.ToStringMapOutput()
	return q, ctx.RegisterResourceOutputs(q, pulumi.Map{"urls": q.Urls, "arns": q.Arns})
}
