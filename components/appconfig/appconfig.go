// Package appconfig builds the per-service wiring of one region: for every
// service, the one value (Service) that holds what a running instance needs
// and may touch — database URLs, cache, queue, topic, its runtime secret
// (a Secrets Manager secret with the service's environment, encrypted with
// the regional key), its access policy and the IAM role its pods assume
// through IRSA. The runtime secrets, the access policies, the workloads and
// the stack outputs all read this value; nothing reaches into the data
// components for it.
package appconfig

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/ecommerce-platform/components/check"
	"github.com/example/ecommerce-platform/components/cluster"
)

// Inputs are what the data layer of the region provides one service.
// Optional parts left nil are left out of its environment and its access.
type Inputs struct {
	// WriteAddress is the host of the service's primary (master region);
	// ReadAddress its replica in this region (the primary in the master).
	WriteAddress, ReadAddress pulumi.StringOutput
	// DatabaseURL and DatabaseReadURL embed the password: secrets.
	DatabaseURL, DatabaseReadURL pulumi.StringOutput
	// RedisURL is this region's cache, without credentials; RedisAuthToken
	// its AUTH token, a secret.
	RedisURL, RedisAuthToken pulumi.StringOutput
	// QueueURL and QueueArn are set when the service consumes events.
	QueueURL, QueueArn pulumi.StringInput
	// TopicArn is set when the service publishes events (the topic lives in
	// the master region).
	TopicArn pulumi.StringInput
	// SigningKey is set for the token issuer: a base64 Ed25519 seed, a
	// secret.
	SigningKey pulumi.StringInput
	// Calls are the services it calls in this region; it gets their
	// in-cluster URLs.
	Calls []string
	// ReadOnly is set outside the master region: the service serves reads
	// from the local replica and refuses writes (the edge sends them to
	// the master region).
	ReadOnly bool
	// Handlers are the events it handles in this region (EVENT_HANDLERS):
	// all of its events in the master region, the regional ones elsewhere.
	Handlers []string
	// Migration is set where the service's primary is: what its schema
	// migrations need, kept apart from the serving credentials.
	Migration *Migration
}

// Migration is what a service's migrations connect with: the schema owner
// (the instance's master user) and the login role they create or update
// for the service. Only the migration job's role may read it.
type Migration struct {
	// DatabaseURL is the primary as the master user (secret).
	DatabaseURL pulumi.StringOutput
	// AppUser and AppPassword (secret) are the service's login role;
	// ReaderUser and ReaderPassword (secret) its read-only one.
	AppUser, ReaderUser         string
	AppPassword, ReaderPassword pulumi.StringOutput
}

// Args configures the wiring of one region.
type Args struct {
	// DisplayName prefixes the secret names.
	DisplayName string
	// Region is this region; MasterRegion holds the primaries and topics.
	Region, MasterRegion string
	// KmsKeyArn is this region's data key (the runtime secrets);
	// QueueKeyArn its messaging key (the queues); TopicKeyArn the master
	// region's messaging key (the topics).
	KmsKeyArn, QueueKeyArn, TopicKeyArn pulumi.StringInput
	// RecoveryWindowDays before a deleted secret is gone: 0 (at once) or
	// 7 to 30.
	RecoveryWindowDays int
	// OidcProviderArn and OidcIssuerURL are the cluster's, for IRSA.
	OidcProviderArn, OidcIssuerURL pulumi.StringInput
	// TokenIssuer is the service whose JWKS the others verify tokens with.
	TokenIssuer string
	// Services by name.
	Services map[string]Inputs
}

// Service is one service's wiring in one region.
type Service struct {
	// Name and Region say which service and where.
	Name, Region string
	// Master is true where the service's primary database is.
	Master bool
	// Namespace and ServiceAccount are where its pods run and who they
	// are; the IAM role trusts exactly that service account.
	Namespace, ServiceAccount string

	Inputs

	// SecretArn is its runtime secret (an ARN is not a secret).
	SecretArn pulumi.StringOutput
	// AccessPolicy is the IAM policy of its role: own secret, queue and
	// topic, KMS through those services only.
	AccessPolicy pulumi.StringOutput
	// RoleArn is the role its pods assume through IRSA.
	RoleArn pulumi.StringOutput
	// MigrationSecretArn and MigrationRoleArn are set where the primary
	// is: the secret with the schema owner's credentials, and the role of
	// the migration job's service account (MigrationServiceAccount), the
	// only one that may read it.
	MigrationSecretArn, MigrationRoleArn pulumi.StringOutput
	MigrationServiceAccount              string
	// Env are the non-secret settings its pods carry (in-cluster URLs of
	// the services it calls), by variable name.
	Env map[string]string
}

// Consumes reports whether the service has a queue.
func (s *Service) Consumes() bool { return s.QueueURL != nil }

// Publishes reports whether the service has a topic.
func (s *Service) Publishes() bool { return s.TopicArn != nil }

// Migrates reports whether the service's migrations run in this region.
func (s *Service) Migrates() bool { return s.Migration != nil }

// Settings are the wiring of one region.
type Settings struct {
	pulumi.ResourceState

	// SecretArns are the secret ARNs by service.
	SecretArns pulumi.StringMapOutput `pulumi:"secretArns"`
	// RoleArns are the services' IRSA role ARNs by service.
	RoleArns pulumi.StringMapOutput `pulumi:"roleArns"`

	// Services by name.
	Services map[string]*Service
}

func (a *Args) check() error {
	p := check.New("appconfig")
	if a == nil {
		p.Require("Args", false)
		return p.Err()
	}
	p.Require("DisplayName", a.DisplayName != "")
	p.Require("Region", a.Region != "")
	p.Require("MasterRegion", a.MasterRegion != "")
	p.Require("KmsKeyArn", a.KmsKeyArn != nil)
	p.Require("OidcProviderArn", a.OidcProviderArn != nil)
	p.Require("OidcIssuerURL", a.OidcIssuerURL != nil)
	if w := a.RecoveryWindowDays; w != 0 && (w < 7 || w > 30) {
		p.Add("RecoveryWindowDays", "%d: allowed 0 or 7 to 30", w)
	}
	p.Require("Services", len(a.Services) > 0)
	if _, ok := a.Services[a.TokenIssuer]; a.TokenIssuer != "" && !ok {
		p.Add("TokenIssuer", "%q is not one of the services", a.TokenIssuer)
	}
	for _, name := range sortedNames(a.Services) {
		s := a.Services[name]
		if s.TopicArn != nil && a.TopicKeyArn == nil {
			p.Add("TopicKeyArn", "is required: %s publishes to a topic encrypted with the master region's key", name)
		}
		if (s.QueueURL == nil) != (s.QueueArn == nil) {
			p.Add("Services."+name+".QueueArn", "QueueURL and QueueArn go together")
		}
		if s.QueueArn != nil && a.QueueKeyArn == nil {
			p.Add("QueueKeyArn", "is required: %s consumes a queue encrypted with the region's messaging key", name)
		}
		for _, callee := range s.Calls {
			if _, ok := a.Services[callee]; !ok {
				p.Add("Services."+name+".Calls", "%q is not one of the services", callee)
			}
		}
	}
	return p.Err()
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// SecretName is the name of a service's runtime secret in a region.
func SecretName(displayName, service string) string {
	return fmt.Sprintf("%s/%s/runtime", displayName, service)
}

// MigrationSecretName is the name of a service's migration secret.
func MigrationSecretName(displayName, service string) string {
	return fmt.Sprintf("%s/%s/migrate", displayName, service)
}

// Render encodes the environment as the secret's JSON, keys sorted.
func Render(env map[string]string) (string, error) {
	b, err := json.Marshal(env) // encoding/json sorts map keys
	return string(b), err
}

// New creates, per service: its runtime secret and value, and its IRSA
// role with the access policy.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Settings, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	s := &Settings{Services: map[string]*Service{}}
	if err := ctx.RegisterComponentResource("ecommerce:appconfig:Settings", name, s, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(s)
	secretArns, roleArns := pulumi.StringMap{}, pulumi.StringMap{}
	for _, svc := range sortedNames(args.Services) {
		w := &Service{
			Name: svc, Region: args.Region, Master: args.Region == args.MasterRegion,
			Namespace: Namespace(svc), ServiceAccount: ServiceAccount(svc),
			Inputs: args.Services[svc], Env: podEnv(args.TokenIssuer, svc, args.Services[svc]),
		}
		secret, err := newRuntimeSecret(ctx, name+"-"+svc, args, w, parent)
		if err != nil {
			return nil, err
		}
		w.SecretArn = secret.arn
		w.AccessPolicy = accessPolicy(args, w)
		role, err := cluster.NewIRSARole(ctx, name+"-"+svc, &cluster.IRSARoleArgs{
			OidcProviderArn: args.OidcProviderArn,
			OidcIssuerURL:   args.OidcIssuerURL,
			Namespace:       w.Namespace,
			ServiceAccount:  w.ServiceAccount,
			InlinePolicy:    w.AccessPolicy,
			Description:     fmt.Sprintf("The %s service's pods in %s", svc, args.Region),
		}, parent)
		if err != nil {
			return nil, err
		}
		w.RoleArn = role.Arn
		if w.Migrates() {
			if err := newMigration(ctx, name+"-"+svc+"-migrate", args, w, parent); err != nil {
				return nil, err
			}
		}
		s.Services[svc] = w
		secretArns[svc] = w.SecretArn
		roleArns[svc] = w.RoleArn
	}
	s.SecretArns = secretArns.ToStringMapOutput()
	s.RoleArns = roleArns.ToStringMapOutput()
	return s, ctx.RegisterResourceOutputs(s, pulumi.Map{"secretArns": s.SecretArns, "roleArns": s.RoleArns})
}

// newMigration creates the migration secret and the IRSA role that alone
// reads it.
func newMigration(ctx *pulumi.Context, name string, args *Args, w *Service, parent pulumi.ResourceOption) error {
	m := w.Migration
	secret, err := newSecret(ctx, name, args, w.Name, MigrationSecretName(args.DisplayName, w.Name),
		fmt.Sprintf("Schema owner credentials of the %s service's migrations in %s", w.Name, args.Region),
		[]string{EnvDatabaseURL, EnvAppDBUser, EnvAppDBPassword, EnvReaderDBUser, EnvReaderDBPassword},
		[]any{m.DatabaseURL, pulumi.String(m.AppUser).ToStringOutput(), m.AppPassword,
			pulumi.String(m.ReaderUser).ToStringOutput(), m.ReaderPassword}, parent)
	if err != nil {
		return err
	}
	w.MigrationSecretArn = secret.arn
	w.MigrationServiceAccount = MigrationServiceAccount(w.Name)
	region := args.Region
	policy := pulumi.All(secret.arn, args.KmsKeyArn).ApplyT(func(v []any) (string, error) {
		return MigrationPolicy(region, v[0].(string), v[1].(string))
	}).(pulumi.StringOutput)
	role, err := cluster.NewIRSARole(ctx, name, &cluster.IRSARoleArgs{
		OidcProviderArn: args.OidcProviderArn,
		OidcIssuerURL:   args.OidcIssuerURL,
		Namespace:       w.Namespace,
		ServiceAccount:  w.MigrationServiceAccount,
		InlinePolicy:    policy,
		Description:     fmt.Sprintf("The %s service's migration job in %s", w.Name, args.Region),
	}, parent)
	if err != nil {
		return err
	}
	w.MigrationRoleArn = role.Arn
	return nil
}

// newRuntimeSecret creates the secret and its value: the service's
// environment, which holds its credentials.
func newRuntimeSecret(ctx *pulumi.Context, name string, args *Args, w *Service, parent pulumi.ResourceOption) (*storedSecret, error) {
	keys, values := secretEnv(w)
	return newSecret(ctx, name, args, w.Name, SecretName(args.DisplayName, w.Name),
		fmt.Sprintf("Runtime settings of the %s service in %s (environment variables as JSON)", w.Name, args.Region),
		keys, values, parent)
}

// storedSecret is a secret with its value: its ARN resolves only once the
// value is stored, so whatever reads the ARN (a pod that loads the secret
// at start) waits for the value, not just the empty secret.
type storedSecret struct{ arn pulumi.StringOutput }

// newSecret creates a secret holding an environment as JSON: the given
// variables, plus SERVICE_NAME and AWS_REGION.
func newSecret(ctx *pulumi.Context, name string, args *Args, service, secretName, description string, keys []string, values []any, parent pulumi.ResourceOption) (*storedSecret, error) {
	secret, err := secretsmanager.NewSecret(ctx, name, &secretsmanager.SecretArgs{
		Name:                 pulumi.String(secretName),
		Description:          pulumi.String(description),
		KmsKeyId:             args.KmsKeyArn,
		RecoveryWindowInDays: pulumi.Int(args.RecoveryWindowDays),
		Tags:                 pulumi.StringMap{"service": pulumi.String(service)},
	}, parent)
	if err != nil {
		return nil, err
	}
	region := args.Region
	doc := pulumi.All(values...).ApplyT(func(v []any) (string, error) {
		env := map[string]string{EnvServiceName: service, EnvRegion: region}
		for i, k := range keys {
			env[k] = v[i].(string)
		}
		return Render(env)
	}).(pulumi.StringOutput)
	version, err := secretsmanager.NewSecretVersion(ctx, name, &secretsmanager.SecretVersionArgs{
		SecretId: secret.ID(),
		// The whole document is secret: it holds the passwords.
		SecretString: pulumi.ToSecret(doc).(pulumi.StringOutput),
	}, parent)
	if err != nil {
		return nil, err
	}
	return &storedSecret{arn: pulumi.All(secret.Arn, version.ID()).ApplyT(func(v []any) string { return v[0].(string) }).(pulumi.StringOutput)}, nil
}
