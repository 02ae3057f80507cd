package cluster

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/iamdoc"
)

// IRSATrustPolicy is the trust policy that lets exactly one Kubernetes
// service account (namespace/name) of one cluster assume a role through the
// cluster's OIDC provider. Both the audience and the subject are pinned: a
// subject alone would let a token minted for another audience through.
func IRSATrustPolicy(providerArn, issuerURL, namespace, serviceAccount string) (string, error) {
	if providerArn == "" || issuerURL == "" || namespace == "" || serviceAccount == "" {
		return "", errors.New("irsa: provider ARN, issuer URL, namespace and service account are required")
	}
	issuer := strings.TrimPrefix(issuerURL, "https://")
	return iamdoc.Document(iamdoc.Statement{
		Effect:    iamdoc.Allow,
		Principal: iamdoc.Principal{Federated: providerArn},
		Action:    "sts:AssumeRoleWithWebIdentity",
		Condition: map[string]any{"StringEquals": map[string]any{
			issuer + ":sub": fmt.Sprintf("system:serviceaccount:%s:%s", namespace, serviceAccount),
			issuer + ":aud": "sts.amazonaws.com",
		}},
	})
}

// IRSARoleArgs describes a role for one Kubernetes service account.
type IRSARoleArgs struct {
	OidcProviderArn pulumi.StringInput
	OidcIssuerURL   pulumi.StringInput
	Namespace       string
	ServiceAccount  string
	// ManagedPolicyArns are AWS-managed policies to attach.
	ManagedPolicyArns []string
	// InlinePolicy, when set, is a policy document attached to the role.
	InlinePolicy pulumi.StringInput
	Description  string
}

// NewIRSARole creates the role and its policy attachments, parented by opts.
func NewIRSARole(ctx *pulumi.Context, name string, args *IRSARoleArgs, opts ...pulumi.ResourceOption) (*iam.Role, error) {
	if args == nil || args.OidcProviderArn == nil || args.OidcIssuerURL == nil {
		return nil, errors.New("irsa: OIDC provider ARN and issuer URL are required")
	}
	trust := pulumi.All(args.OidcProviderArn, args.OidcIssuerURL).ApplyT(func(v []any) (string, error) {
		return IRSATrustPolicy(v[0].(string), v[1].(string), args.Namespace, args.ServiceAccount)
	}).(pulumi.StringOutput)
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		AssumeRolePolicy: trust,
		Description:      pulumi.String(args.Description),
	}, opts...)
	if err != nil {
		return nil, err
	}
	for i, arn := range args.ManagedPolicyArns {
		if _, err := iam.NewRolePolicyAttachment(ctx, fmt.Sprintf("%s-%d", name, i), &iam.RolePolicyAttachmentArgs{
			Role:      role.Name,
			PolicyArn: pulumi.String(arn),
		}, opts...); err != nil {
			return nil, err
		}
	}
	if args.InlinePolicy != nil {
		if _, err := iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{
			Role:   role.Name,
			Policy: args.InlinePolicy,
		}, opts...); err != nil {
			return nil, err
		}
	}
	return role, nil
}
