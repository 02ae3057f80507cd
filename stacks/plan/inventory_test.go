package plan_test

import (
	"encoding/json"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/stacks/plan"
)

// The JSON inventory must never carry a secret: generated passwords and
// values marked secret, even nested in objects, become "[secret]".
func TestInventoryRedactsSecrets(t *testing.T) {
	var password string
	inv, err := plan.Run("ecommerce", "test", nil, func(ctx *pulumi.Context) error {
		p, err := aws.NewProvider(ctx, "aws-us-east-1", &aws.ProviderArgs{Region: pulumi.String("us-east-1")})
		if err != nil {
			return err
		}
		pw, err := random.NewRandomPassword(ctx, "pw", &random.RandomPasswordArgs{Length: pulumi.Int(40), Special: pulumi.Bool(false)})
		if err != nil {
			return err
		}
		pw.Result.ApplyT(func(s string) string { password = s; return s })
		secret, err := secretsmanager.NewSecret(ctx, "s", &secretsmanager.SecretArgs{}, pulumi.Provider(p))
		if err != nil {
			return err
		}
		_, err = secretsmanager.NewSecretVersion(ctx, "v", &secretsmanager.SecretVersionArgs{
			SecretId:     secret.ID(),
			SecretString: pulumi.Sprintf(`{"password":%q}`, pw.Result),
		}, pulumi.Provider(p))
		if err != nil {
			return err
		}
		_, err = secretsmanager.NewSecret(ctx, "tagged", &secretsmanager.SecretArgs{
			Tags: pulumi.StringMap{"hint": pulumi.ToSecret(pulumi.String("tag-value-that-is-secret")).(pulumi.StringOutput)},
		}, pulumi.Provider(p))
		return err
	})
	require.NoError(t, err)
	require.Len(t, password, 40)

	b, err := json.Marshal(inv)
	require.NoError(t, err)
	assert.NotContains(t, string(b), password)
	assert.NotContains(t, string(b), "tag-value-that-is-secret")

	v := inv.Find("aws:secretsmanager/secretVersion:SecretVersion", "v")
	require.NotNil(t, v)
	assert.Equal(t, plan.Secret, v.Get("secretString"))
	assert.True(t, v.Inputs["secretString"].ContainsSecrets(), "the engine sees the input as secret")
	assert.Equal(t, plan.Secret, inv.Find("aws:secretsmanager/secret:Secret", "tagged").Get("tags.hint"))
}
