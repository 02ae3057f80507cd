// Package appconfig stores each service's runtime settings of one region in
// a Secrets Manager secret, encrypted with the regional key: a JSON object
// of the environment variables the service reads (services/internal/config).
// The workloads map it into the pods' environment.
package appconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Environment variable names, as the services read them.
const (
	EnvServiceName     = "SERVICE_NAME"
	EnvRegion          = "AWS_REGION"
	EnvDatabaseURL     = "DATABASE_URL"
	EnvDatabaseReadURL = "DATABASE_READ_URL"
	EnvRedisURL        = "REDIS_URL"
	EnvRedisAuthToken  = "REDIS_AUTH_TOKEN" //nolint:gosec // a variable name, not a credential
	EnvQueueURL        = "QUEUE_URL"
	EnvTopicARN        = "TOPIC_ARN"
	EnvJWTSigningKey   = "JWT_SIGNING_KEY"
)

// Service is what one service needs to connect. Optional fields left nil
// are left out of its environment.
type Service struct {
	// DatabaseURL points at the primary in the master region; it embeds
	// the password and must be a secret.
	DatabaseURL pulumi.StringInput
	// DatabaseReadURL points at this region's replica (the primary in the
	// master region); secret as well.
	DatabaseReadURL pulumi.StringInput
	// RedisURL is this region's cache, without credentials.
	RedisURL pulumi.StringInput
	// RedisAuthToken is the cache's AUTH token, a secret.
	RedisAuthToken pulumi.StringInput
	// QueueURL is set when the service consumes events.
	QueueURL pulumi.StringInput
	// TopicARN is set when the service publishes events.
	TopicARN pulumi.StringInput
	// JWTSigningKey is set for the service that issues tokens: a base64
	// Ed25519 seed, a secret.
	JWTSigningKey pulumi.StringInput
}

// Args configures the runtime secrets of one region.
type Args struct {
	// DisplayName prefixes the secret names.
	DisplayName string
	// Region is written as AWS_REGION.
	Region string
	// KmsKeyArn encrypts the secrets.
	KmsKeyArn pulumi.StringInput
	// RecoveryWindowDays before a deleted secret is gone: 0 (at once) or
	// 7 to 30.
	RecoveryWindowDays int
	// Services by name.
	Services map[string]Service
}

// Settings are the runtime secrets of one region.
type Settings struct {
	pulumi.ResourceState

	// SecretArns are the secret ARNs by service (an ARN is not a secret).
	SecretArns pulumi.StringMapOutput `pulumi:"secretArns"`
}

func (a *Args) check() error {
	if a == nil {
		return errors.New("appconfig: args are required")
	}
	var errs []error
	if a.DisplayName == "" || a.Region == "" || a.KmsKeyArn == nil {
		errs = append(errs, errors.New("appconfig: DisplayName, Region and KmsKeyArn are required"))
	}
	if w := a.RecoveryWindowDays; w != 0 && (w < 7 || w > 30) {
		errs = append(errs, fmt.Errorf("appconfig: RecoveryWindowDays %d: allowed 0 or 7 to 30", w))
	}
	if len(a.Services) == 0 {
		errs = append(errs, errors.New("appconfig: at least one service is required"))
	}
	for name, s := range a.Services {
		if s.DatabaseURL == nil || s.DatabaseReadURL == nil || s.RedisURL == nil || s.RedisAuthToken == nil {
			errs = append(errs, fmt.Errorf("appconfig: %s needs database URLs, Redis URL and token", name))
		}
	}
	return errors.Join(errs...)
}

// SecretName is the name of a service's runtime secret in a region.
func SecretName(displayName, service string) string {
	return fmt.Sprintf("%s/%s/runtime", displayName, service)
}

// Render encodes the environment as the secret's JSON, keys sorted.
func Render(env map[string]string) (string, error) {
	b, err := json.Marshal(env) // encoding/json sorts map keys
	return string(b), err
}

// New creates one secret and its current value per service.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Settings, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	s := &Settings{}
	if err := ctx.RegisterComponentResource("ecommerce:appconfig:Settings", name, s, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(s)
	services := make([]string, 0, len(args.Services))
	for svc := range args.Services {
		services = append(services, svc)
	}
	sort.Strings(services)
	arns := pulumi.StringMap{}
	for _, svc := range services {
		in := args.Services[svc]
		secret, err := secretsmanager.NewSecret(ctx, name+"-"+svc, &secretsmanager.SecretArgs{
			Name:                 pulumi.String(SecretName(args.DisplayName, svc)),
			Description:          pulumi.Sprintf("Runtime settings of the %s service in %s (environment variables as JSON)", svc, args.Region),
			KmsKeyId:             args.KmsKeyArn,
			RecoveryWindowInDays: pulumi.Int(args.RecoveryWindowDays),
			Tags:                 pulumi.StringMap{"service": pulumi.String(svc)},
		}, parent)
		if err != nil {
			return nil, err
		}
		keys := []string{EnvDatabaseURL, EnvDatabaseReadURL, EnvRedisURL, EnvRedisAuthToken}
		values := []any{in.DatabaseURL, in.DatabaseReadURL, in.RedisURL, in.RedisAuthToken}
		if in.QueueURL != nil {
			keys, values = append(keys, EnvQueueURL), append(values, in.QueueURL)
		}
		if in.TopicARN != nil {
			keys, values = append(keys, EnvTopicARN), append(values, in.TopicARN)
		}
		if in.JWTSigningKey != nil {
			keys, values = append(keys, EnvJWTSigningKey), append(values, in.JWTSigningKey)
		}
		region, service := args.Region, svc
		doc := pulumi.All(values...).ApplyT(func(v []any) (string, error) {
			env := map[string]string{EnvServiceName: service, EnvRegion: region}
			for i, k := range keys {
				env[k] = v[i].(string)
			}
			return Render(env)
		}).(pulumi.StringOutput)
		if _, err := secretsmanager.NewSecretVersion(ctx, name+"-"+svc, &secretsmanager.SecretVersionArgs{
			SecretId: secret.ID(),
			// The whole document is secret: it holds the passwords.
			SecretString: pulumi.ToSecret(doc).(pulumi.StringOutput),
		}, parent); err != nil {
			return nil, err
		}
		arns[svc] = secret.Arn
	}
	s.SecretArns = arns.ToStringMapOutput()
	return s, ctx.RegisterResourceOutputs(s, pulumi.Map{"secretArns": s.SecretArns})
}
