package appconfig_test

import (
	"encoding/json"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/appconfig"
	"github.com/example/ecommerce-platform/stacks/plan"
)

func TestRuntimeSecretRendering(t *testing.T) {
	doc, err := appconfig.Render(map[string]string{"QUEUE_URL": "q", "AWS_REGION": "r"})
	require.NoError(t, err)
	assert.Equal(t, `{"AWS_REGION":"r","QUEUE_URL":"q"}`, doc, "stable key order, so an unchanged setting is no diff")
	assert.Equal(t, "ecommerce-prod-us-east-1/order/runtime", appconfig.SecretName("ecommerce-prod-us-east-1", "order"))
}

func TestAccessPolicyNeedsItsParts(t *testing.T) {
	_, err := appconfig.AccessPolicy(appconfig.Access{Region: "eu-west-1", SecretArn: "s"})
	assert.Error(t, err, "no key")
	_, err = appconfig.AccessPolicy(appconfig.Access{Region: "eu-west-1", SecretArn: "s", KeyArn: "k", TopicArn: "t"})
	assert.Error(t, err, "a publisher without the topic's key")
	doc, err := appconfig.AccessPolicy(appconfig.Access{Region: "eu-west-1", SecretArn: "s", KeyArn: "k"})
	require.NoError(t, err)
	assert.NotContains(t, doc, "sqs:")
	assert.NotContains(t, doc, "sns:")
}

func TestInClusterAddresses(t *testing.T) {
	assert.Equal(t, "http://product.product.svc.cluster.local", appconfig.InClusterURL("product"))
	assert.Equal(t, "PRODUCT_API_URL", appconfig.APIURLVariable("product"))
}

func out(s string) pulumi.StringOutput { return pulumi.String(s).ToStringOutput() }

func inputs() map[string]appconfig.Inputs {
	base := func(svc string) appconfig.Inputs {
		return appconfig.Inputs{
			WriteAddress: out(svc + ".primary"), ReadAddress: out(svc + ".replica"),
			DatabaseURL: out("postgres://w"), DatabaseReadURL: out("postgres://r"),
			RedisURL: out("rediss://c:6379"), RedisAuthToken: out("token"),
		}
	}
	auth, order := base("auth"), base("order")
	auth.TopicArn = pulumi.String("arn:aws:sns:us-east-1:123456789012:auth-events")
	auth.SigningKey = pulumi.String("seed")
	order.QueueURL = pulumi.String("https://sqs.eu-west-1.amazonaws.com/123456789012/q")
	order.QueueArn = pulumi.String("arn:aws:sqs:eu-west-1:123456789012:q")
	order.Calls = []string{"auth"}
	return map[string]appconfig.Inputs{"auth": auth, "order": order}
}

func validArgs() *appconfig.Args {
	return &appconfig.Args{
		DisplayName: "ecommerce-test-eu-west-1", Region: "eu-west-1", MasterRegion: "us-east-1",
		KmsKeyArn: pulumi.String("arn:aws:kms:eu-west-1:123456789012:key/local"), QueueKeyArn: pulumi.String("arn:aws:kms:eu-west-1:123456789012:key/local-messaging"),
		TopicKeyArn:     pulumi.String("arn:aws:kms:us-east-1:123456789012:key/master"),
		OidcProviderArn: pulumi.String("arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/X"),
		OidcIssuerURL:   pulumi.String("https://oidc.eks.eu-west-1.amazonaws.com/id/X"),
		TokenIssuer:     "auth",
		Services:        inputs(),
	}
}

func TestWiringChecksArgsFirst(t *testing.T) {
	cases := map[string]struct {
		change func(a *appconfig.Args) *appconfig.Args
		field  string
	}{
		"nil args":                        {func(*appconfig.Args) *appconfig.Args { return nil }, "Args"},
		"bad recovery window":             {func(a *appconfig.Args) *appconfig.Args { a.RecoveryWindowDays = 3; return a }, "RecoveryWindowDays"},
		"no OIDC provider":                {func(a *appconfig.Args) *appconfig.Args { a.OidcProviderArn = nil; return a }, "OidcProviderArn"},
		"publisher without the topic key": {func(a *appconfig.Args) *appconfig.Args { a.TopicKeyArn = nil; return a }, "TopicKeyArn"},
		"calls an unknown service": {func(a *appconfig.Args) *appconfig.Args {
			s := a.Services["order"]
			s.Calls = []string{"billing"}
			a.Services["order"] = s
			return a
		}, "Services.order.Calls"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			inv, err := plan.RunComponent("eu-west-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
				_, err := appconfig.New(ctx, "s", tc.change(validArgs()), opts...)
				return err
			})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.field+":")
			assert.True(t, inv.OnlyProviders(), "nothing is created")
		})
	}
}

// Each service gets one secret, one IRSA role pinned to its own service
// account, and a policy that reaches only its own secret, queue and topic.
func TestWiringPerService(t *testing.T) {
	var settings *appconfig.Settings
	policies := map[string]string{}
	inv, err := plan.RunComponent("eu-west-1", func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		var err error
		settings, err = appconfig.New(ctx, "eu-west-1-settings", validArgs(), opts...)
		if err != nil {
			return err
		}
		for svc, w := range settings.Services {
			svc := svc
			w.AccessPolicy.ApplyT(func(doc string) string { policies[svc] = doc; return doc })
		}
		return nil
	})
	require.NoError(t, err)
	require.Len(t, settings.Services, 2)

	order := settings.Services["order"]
	assert.False(t, order.Master)
	assert.True(t, order.Consumes())
	assert.False(t, order.Publishes())
	assert.Equal(t, map[string]string{
		"AUTH_JWKS_URL": "http://auth.auth.svc.cluster.local/v1/auth/jwks",
		"AUTH_API_URL":  "http://auth.auth.svc.cluster.local",
		"DATABASE_ROLE": "primary",
	}, order.Env, "pods carry in-cluster URLs and their database's role, no credential")
	assert.Equal(t, map[string]string{"DATABASE_ROLE": "primary"}, settings.Services["auth"].Env, "the issuer verifies with its own key")
	assert.Equal(t, []string{"AWS_REGION", "DATABASE_READ_URL", "DATABASE_URL", "JWT_SIGNING_KEY", "REDIS_AUTH_TOKEN", "REDIS_URL", "SERVICE_NAME", "TOPIC_ARN"},
		settings.Services["auth"].SecretKeys())

	role := inv.Find("aws:iam/role:Role", "eu-west-1-settings-order")
	require.NotNil(t, role)
	var trust struct {
		Statement []struct {
			Condition map[string]map[string]string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(role.String("assumeRolePolicy")), &trust))
	cond := trust.Statement[0].Condition["StringEquals"]
	assert.Equal(t, "system:serviceaccount:order:order", cond["oidc.eks.eu-west-1.amazonaws.com/id/X:sub"])
	assert.Equal(t, "sts.amazonaws.com", cond["oidc.eks.eu-west-1.amazonaws.com/id/X:aud"])
	rolePolicy := inv.Find("aws:iam/rolePolicy:RolePolicy", "eu-west-1-settings-order")
	require.NotNil(t, rolePolicy)
	assert.Equal(t, policies["order"], rolePolicy.String("policy"), "the role's policy is the service's access policy")
	assert.Contains(t, policies["order"], "arn:aws:sqs:eu-west-1:123456789012:q")
	assert.NotContains(t, policies["order"], "sns:Publish")
	assert.Contains(t, policies["auth"], "arn:aws:sns:us-east-1:123456789012:auth-events")
	assert.Contains(t, policies["auth"], "arn:aws:kms:us-east-1:123456789012:key/master", "the topic's key is the master region's")

	secret := inv.Find("aws:secretsmanager/secretVersion:SecretVersion", "eu-west-1-settings-order")
	require.NotNil(t, secret)
	assert.Equal(t, plan.Secret, secret.Get("secretString"))
}
