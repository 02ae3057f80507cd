// Package global builds what the whole stack shares and no region owns.
// Today that is the generated credentials: the token issuer's signing seed
// and every service's database master password. They are named without a
// region and parented to no region, so a failover (a new masterRegion)
// keeps each of them: tokens issued before it stay valid everywhere, and a
// promoted replica keeps the password it replicated.
//
// The traffic path's global half (zone, certificates, origin secret, web
// ACL) is components/edge's, built in the same phase.
package global

import (
	"fmt"
	"slices"
	"sort"

	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/check"
)

// Args configures the global phase.
type Args struct {
	// Services each get a database master password.
	Services []string
	// TokenIssuer gets the signing seed; "" for none.
	TokenIssuer string
	// AdoptFromRegion is the master region of a stack deployed before the
	// global phase existed, when these secrets lived under that region: the
	// resources carry aliases to their old names, so such a stack adopts
	// them instead of generating new ones. Harmless on a new stack.
	AdoptFromRegion string
}

// Global is the stack-wide part of the platform.
type Global struct {
	pulumi.ResourceState

	// SigningSeed is the token issuer's Ed25519 seed, base64 (secret).
	SigningSeed pulumi.StringOutput
	// DatabasePasswords are the master passwords by service (secret): the
	// migrations connect with them.
	DatabasePasswords map[string]pulumi.StringOutput
	// AppPasswords are the passwords of the services' own login roles by
	// service (secret): the services serve with them.
	AppPasswords map[string]pulumi.StringOutput
	// ReaderPasswords are the passwords of the services' read-only login
	// roles by service (secret): regions other than the master serve reads
	// with them and hold no credential that could write.
	ReaderPasswords map[string]pulumi.StringOutput
}

func (a *Args) check() error {
	p := check.New("global")
	if a == nil {
		p.Require("Args", false)
		return p.Err()
	}
	p.Require("Services", len(a.Services) > 0)
	if a.TokenIssuer != "" && !slices.Contains(a.Services, a.TokenIssuer) {
		p.Add("TokenIssuer", "%q is not one of the services %v", a.TokenIssuer, a.Services)
	}
	return p.Err()
}

// PasswordLength of the database master passwords: letters and digits
// only (the password goes into a URL and RDS refuses some punctuation);
// 40 of them are about 238 bits.
const PasswordLength = 40

// New creates the stack-wide resources. Pass the random provider in opts
// (pulumi.Providers): the stacks disable default providers.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Global, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	g := &Global{
		DatabasePasswords: map[string]pulumi.StringOutput{},
		AppPasswords:      map[string]pulumi.StringOutput{},
		ReaderPasswords:   map[string]pulumi.StringOutput{},
	}
	if err := ctx.RegisterComponentResource("ecommerce:global:Global", name, g, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(g)
	if args.TokenIssuer != "" {
		seed, err := random.NewRandomBytes(ctx, "jwt-signing-seed", &random.RandomBytesArgs{
			Length: pulumi.Int(32), // an Ed25519 seed
		}, parent, adopt(ctx, args, "ecommerce:region:Region$random:index/randomBytes:RandomBytes", "%s-jwt-signing-seed"))
		if err != nil {
			return nil, err
		}
		g.SigningSeed = pulumi.ToSecret(seed.Base64).(pulumi.StringOutput)
	}
	services := append([]string(nil), args.Services...)
	sort.Strings(services)
	for _, svc := range services {
		pw, err := random.NewRandomPassword(ctx, "db-"+svc, &random.RandomPasswordArgs{
			Length:  pulumi.Int(PasswordLength),
			Special: pulumi.Bool(false),
		}, parent, adopt(ctx, args, "ecommerce:region:Region$ecommerce:database:Databases$random:index/randomPassword:RandomPassword", "%s-db-"+svc))
		if err != nil {
			return nil, err
		}
		g.DatabasePasswords[svc] = pulumi.ToSecret(pw.Result).(pulumi.StringOutput)
		app, err := random.NewRandomPassword(ctx, "db-"+svc+"-app", &random.RandomPasswordArgs{
			Length:  pulumi.Int(PasswordLength),
			Special: pulumi.Bool(false),
		}, parent)
		if err != nil {
			return nil, err
		}
		g.AppPasswords[svc] = pulumi.ToSecret(app.Result).(pulumi.StringOutput)
		reader, err := random.NewRandomPassword(ctx, "db-"+svc+"-reader", &random.RandomPasswordArgs{
			Length:  pulumi.Int(PasswordLength),
			Special: pulumi.Bool(false),
		}, parent)
		if err != nil {
			return nil, err
		}
		g.ReaderPasswords[svc] = pulumi.ToSecret(reader.Result).(pulumi.StringOutput)
	}
	return g, ctx.RegisterResourceOutputs(g, pulumi.Map{})
}

// adopt aliases a resource to the URN it had under the region component.
func adopt(ctx *pulumi.Context, args *Args, oldType, oldName string) pulumi.ResourceOption {
	if args.AdoptFromRegion == "" {
		return pulumi.Aliases(nil)
	}
	urn := fmt.Sprintf("urn:pulumi:%s::%s::%s::%s", ctx.Stack(), ctx.Project(), oldType, fmt.Sprintf(oldName, args.AdoptFromRegion))
	return pulumi.Aliases([]pulumi.Alias{{URN: pulumi.URN(urn)}})
}
