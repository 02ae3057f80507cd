package messaging

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/check"
	"github.com/example/ecommerce-platform/components/iamdoc"
)

// TopicName is the SNS topic name of a publisher's events.
func TopicName(displayPrefix, publisher string) string {
	return fmt.Sprintf("%s-%s-events", displayPrefix, publisher)
}

// TopicsArgs configures the topics (master region only).
type TopicsArgs struct {
	// NamePrefix names the topics, e.g. "ecommerce-prod".
	NamePrefix string
	Topology   *Topology
	// KmsKeyArn encrypts messages at rest (the master region's messaging
	// key).
	KmsKeyArn pulumi.StringInput
	// AccountID is the only account whose identities (through their IAM
	// policies) may use the topics.
	AccountID string
}

// TopicPolicy replaces SNS's default policy: this account's identities,
// as their IAM policies allow, whatever the extra statements admit (a
// service publishing), and never without TLS.
func TopicPolicy(topicArn, accountID string, extra ...iamdoc.Statement) (string, error) {
	statements := append([]iamdoc.Statement{{
		Sid:       "AccountUses",
		Effect:    iamdoc.Allow,
		Principal: iamdoc.Principal{AWS: fmt.Sprintf("arn:aws:iam::%s:root", accountID)},
		Action:    []string{"sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic"},
		Resource:  topicArn,
	}}, extra...)
	return iamdoc.Document(append(statements, iamdoc.DenyPlainTransport("sns:Publish", topicArn))...)
}

func (a *TopicsArgs) check() error {
	p := check.New("messaging topics")
	if a == nil {
		p.Require("Args", false)
		return p.Err()
	}
	p.Require("NamePrefix", a.NamePrefix != "")
	p.Require("Topology", a.Topology != nil)
	p.Require("KmsKeyArn", a.KmsKeyArn != nil)
	p.Require("AccountID", a.AccountID != "")
	return p.Err()
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
	if err := args.check(); err != nil {
		return nil, err
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
