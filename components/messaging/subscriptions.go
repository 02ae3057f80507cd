package messaging

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/check"
)

// SubscriptionsArgs wires every region's queues to the master topics.
type SubscriptionsArgs struct {
	Topology  *Topology
	TopicArns map[string]pulumi.StringOutput
	// Queues are the consumer queues of each region, by region name.
	Queues map[string]*Queues
	// Regions lists the keys of Queues in a stable order.
	Regions []string
	// MasterRegion receives every route; the others only the regional
	// consumers' (Topology.ForRegion).
	MasterRegion string
}

func (a *SubscriptionsArgs) check() error {
	p := check.New("messaging subscriptions")
	if a == nil {
		p.Require("Args", false)
		return p.Err()
	}
	p.Require("Topology", a.Topology != nil)
	p.Require("Regions", len(a.Regions) > 0)
	if a.Topology == nil {
		return p.Err()
	}
	if !slices.Contains(a.Regions, a.MasterRegion) {
		p.Add("MasterRegion", "%q is not one of the regions %v", a.MasterRegion, a.Regions)
	}
	for _, region := range a.Regions {
		q := a.Queues[region]
		if q == nil {
			p.Add("Queues."+region, "no queues for region %s", region)
			continue
		}
		for _, c := range a.Topology.ForRegion(region == a.MasterRegion).Consumers {
			if q.ByConsumer[c] == nil {
				p.Add("Queues."+region, "region %s has no queue for %s", region, c)
			}
		}
	}
	for _, r := range a.Topology.Routes {
		if _, ok := a.TopicArns[r.Publisher]; !ok {
			p.Add("TopicArns."+r.Publisher, "no topic ARN for publisher %q", r.Publisher)
		}
	}
	return p.Err()
}

// Subscriptions are the SNS to SQS subscriptions of every region's queues.
type Subscriptions struct {
	pulumi.ResourceState

	// Count is the number of subscriptions created.
	Count int
}

// NewSubscriptions subscribes each region's queues to the topics: the
// master region's to every event routed to them, the others' to the
// regional consumers' events only. SNS
// requires the subscription to be made in the topic's region, so pass the
// master region's provider (the master Region component as parent does).
// SNS retries delivery to an unreachable queue for days, so a region that
// is down gets its events once it is back.
func NewSubscriptions(ctx *pulumi.Context, name string, args *SubscriptionsArgs, opts ...pulumi.ResourceOption) (*Subscriptions, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	s := &Subscriptions{}
	if err := ctx.RegisterComponentResource("ecommerce:messaging:Subscriptions", name, s, opts...); err != nil {
		return nil, err
	}
	for _, region := range args.Regions {
		for _, r := range args.Topology.ForRegion(region == args.MasterRegion).Routes {
			sub := &sns.TopicSubscriptionArgs{
				Topic:    args.TopicArns[r.Publisher],
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
