package appconfig

import (
	"fmt"
	"sort"
	"strings"
)

// Environment variable names, as the services read them
// (services/runtime-contract.json is the contract both sides test against).
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
	EnvAuthJWKSURL     = "AUTH_JWKS_URL"
	// The migration job's: the login role it creates for the service.
	EnvAppDBUser     = "APP_DB_USER"
	EnvAppDBPassword = "APP_DB_PASSWORD" //nolint:gosec // a variable name, not a credential
	// ...and the read-only role it creates for the other regions.
	EnvReaderDBUser     = "READER_DB_USER"
	EnvReaderDBPassword = "READER_DB_PASSWORD" //nolint:gosec // a variable name, not a credential
	// Pod settings that are no credential: whether this region's database
	// is the primary or a replica, and which events the pods handle here.
	EnvDatabaseRole  = "DATABASE_ROLE"
	EnvEventHandlers = "EVENT_HANDLERS"
)

// Database roles, as DATABASE_ROLE carries them.
const (
	RolePrimary = "primary"
	RoleReplica = "replica"
)

// JWKSPath is where the token issuer publishes its public keys.
const JWKSPath = "/v1/auth/jwks"

// Namespace is the Kubernetes namespace a service runs in: its own.
func Namespace(service string) string { return service }

// ServiceAccount is the Kubernetes service account of a service's pods.
func ServiceAccount(service string) string { return service }

// MigrationServiceAccount is the service account of a service's
// migration job.
func MigrationServiceAccount(service string) string { return service + "-migrate" }

// InClusterURL is how other pods of the region reach a service: its
// ClusterIP Service, port 80, in its own namespace.
func InClusterURL(service string) string {
	return fmt.Sprintf("http://%s.%s.svc.cluster.local", service, Namespace(service))
}

// APIURLVariable is the variable a caller reads a callee's URL from, e.g.
// PRODUCT_API_URL.
func APIURLVariable(callee string) string { return strings.ToUpper(callee) + "_API_URL" }

// SecretKeys returns the variables a service's runtime secret holds.
func (s *Service) SecretKeys() []string {
	keys, _ := secretEnv(s)
	keys = append(keys, EnvServiceName, EnvRegion)
	sort.Strings(keys)
	return keys
}

// MigrationSecretKeys returns the variables of the migration secret; none
// where the service's migrations do not run.
func (s *Service) MigrationSecretKeys() []string {
	if !s.Migrates() {
		return nil
	}
	return []string{EnvAppDBPassword, EnvAppDBUser, EnvRegion, EnvDatabaseURL, EnvReaderDBPassword, EnvReaderDBUser, EnvServiceName}
}

// secretEnv lists the credential-bearing and endpoint variables of the
// runtime secret with their values; SERVICE_NAME and AWS_REGION are added
// when it is rendered.
func secretEnv(s *Service) ([]string, []any) {
	keys := []string{EnvDatabaseURL, EnvDatabaseReadURL, EnvRedisURL, EnvRedisAuthToken}
	values := []any{s.DatabaseURL, s.DatabaseReadURL, s.RedisURL, s.RedisAuthToken}
	if s.QueueURL != nil {
		keys, values = append(keys, EnvQueueURL), append(values, s.QueueURL)
	}
	if s.TopicArn != nil {
		keys, values = append(keys, EnvTopicARN), append(values, s.TopicArn)
	}
	if s.SigningKey != nil {
		keys, values = append(keys, EnvJWTSigningKey), append(values, s.SigningKey)
	}
	return keys, values
}

// podEnv is what a service's pods carry besides the runtime secret: the
// in-cluster URLs of what it calls, its database's role and the events it
// handles in this region. Nothing in it is a credential.
func podEnv(issuer, service string, in Inputs) map[string]string {
	env := map[string]string{EnvDatabaseRole: RolePrimary}
	if in.ReadOnly {
		env[EnvDatabaseRole] = RoleReplica
	}
	if len(in.Handlers) > 0 {
		env[EnvEventHandlers] = strings.Join(in.Handlers, ",")
	}
	if issuer != "" && service != issuer {
		env[EnvAuthJWKSURL] = InClusterURL(issuer) + JWKSPath
	}
	for _, callee := range in.Calls {
		env[APIURLVariable(callee)] = InClusterURL(callee)
	}
	return env
}
