package stacks

// TEMPORARY SHIM (ingress branch only): stands in for the edge helper's
// global phase (package components/edge, p.Edge) until it lands on main,
// so the regional ingress can be built and tested. Replace every use of
// edgeShim with p.Edge.OriginSecret and p.Edge.RegionalCertificates[region]
// and delete this file.

import (
	"fmt"

	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

type edgeShim struct {
	OriginSecret         pulumi.StringOutput
	RegionalCertificates map[string]pulumi.StringOutput
}

// newEdgeShim creates a generated origin secret under the global
// component and, per region, a certificate ARN that names no certificate
// (TODO(edge): the validated certificate from components/edge). A real
// `pulumi up` fails at the HTTPS listener until then: nothing is served
// with a made-up certificate.
func (p *Platform) newEdgeShim(ctx *pulumi.Context) (*edgeShim, error) {
	secret, err := random.NewRandomPassword(ctx, "origin-secret-shim", &random.RandomPasswordArgs{
		Length:  pulumi.Int(48),
		Special: pulumi.Bool(false),
	}, pulumi.Parent(p.Global), pulumi.Provider(p.Random))
	if err != nil {
		return nil, err
	}
	out := &edgeShim{OriginSecret: secret.Result, RegionalCertificates: map[string]pulumi.StringOutput{}}
	for _, rc := range p.Config.Ordered() {
		arn := fmt.Sprintf("arn:aws:acm:%s:%s:certificate/00000000-0000-0000-0000-edge-pending", rc.Name, p.Config.AccountID)
		out.RegionalCertificates[rc.Name] = pulumi.String(arn).ToStringOutput()
	}
	return out, nil
}
