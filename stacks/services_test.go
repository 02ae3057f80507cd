package stacks_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/appconfig"
	"github.com/example/ecommerce-platform/components/database"
	"github.com/example/ecommerce-platform/components/keys"
	"github.com/example/ecommerce-platform/components/workload"
	"github.com/example/ecommerce-platform/stacks/config"
)

// The runtime secret of each service in each region holds what that
// service needs, shaped as the environment services/internal/config reads.
func TestRuntimeSettingsPerServiceAndRegion(t *testing.T) {
	run := planStack(t, "prod")
	topo, err := run.cfg.Topology()
	require.NoError(t, err)
	master := run.cfg.MasterRegion
	var masterPasswords []string
	for _, v := range run.inv.OfType(secretVer) {
		if strings.HasSuffix(v.Name, "-migrate") {
			continue
		}
		var env map[string]string
		require.NoError(t, json.Unmarshal([]byte(secretInput(t, v, "secretString")), &env), v.Name)
		svc := env[appconfig.EnvServiceName]
		require.Contains(t, config.Services, svc, v.Name)
		assert.Equal(t, v.Region, env[appconfig.EnvRegion], v.Name)

		write, err := url.Parse(env[appconfig.EnvDatabaseURL])
		require.NoError(t, err)
		read, err := url.Parse(env[appconfig.EnvDatabaseReadURL])
		require.NoError(t, err)
		assert.Equal(t, "postgres", write.Scheme)
		// Every region serves from its own database: the primary in the
		// master region, the local replica as the read-only role elsewhere
		// (writes reach the master at the edge).
		assert.True(t, strings.HasPrefix(write.Host, fmt.Sprintf("ecommerce-prod-%s-%s.", v.Region, svc)), "%s uses its own region's database: %s", v.Name, write.Host)
		assert.Equal(t, write.String(), read.String(), v.Name)
		assert.Equal(t, "/"+svc+"db", write.Path)
		assert.Equal(t, "verify-full", write.Query().Get("sslmode"), "%s verifies the server", v.Name)
		assert.Equal(t, database.CABundlePath, write.Query().Get("sslrootcert"), v.Name)
		role := database.AppUser(svc)
		if v.Region != master {
			role = database.ReaderUser(svc)
		}
		assert.Equal(t, role, write.User.Username(), "%s serves as its own login role, never the master user", v.Name)
		wpw, _ := write.User.Password()
		masterPasswords = append(masterPasswords, wpw)

		assert.True(t, strings.HasPrefix(env[appconfig.EnvRedisURL], "rediss://"), "TLS to Redis")
		assert.Contains(t, env[appconfig.EnvRedisURL], ".cache.amazonaws.com:6379")
		assert.NotEmpty(t, env[appconfig.EnvRedisAuthToken])

		if topo.ForRegion(v.Region == master).IsConsumer(svc) {
			assert.Equal(t, fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/ecommerce-prod-%s-%s", v.Region, run.cfg.AccountID, v.Region, svc), env[appconfig.EnvQueueURL], v.Name)
		} else {
			assert.NotContains(t, env, appconfig.EnvQueueURL, v.Name)
		}
		if topo.IsPublisher(svc) && v.Region == master {
			assert.Equal(t, fmt.Sprintf("arn:aws:sns:%s:%s:ecommerce-prod-%s-events", master, run.cfg.AccountID, svc), env[appconfig.EnvTopicARN], v.Name)
		} else {
			assert.NotContains(t, env, appconfig.EnvTopicARN, v.Name)
		}
	}
	for _, s := range run.inv.OfType("aws:secretsmanager/secret:Secret") {
		assert.Equal(t, run.key(s.Region, keys.Data), s.String("kmsKeyId"), "%s is encrypted with its region's data key", s.Name)
	}
	// The master users' passwords appear in no runtime secret.
	for _, db := range run.inv.OfType(rdsInstance) {
		if db.Get("replicateSourceDb") == nil {
			assert.NotContains(t, masterPasswords, secretInput(t, db, "password"), "%s: the master password is not a serving credential", db.Name)
		}
	}
}

// The schema owner's credentials live only in the migration secrets, in the
// master region, readable only by the migration job's role; a failover
// moves them with the primaries.
func TestMigrationSecretsOnlyWhereThePrimariesAre(t *testing.T) {
	for _, master := range []string{"us-east-1", "eu-west-1"} {
		run := planChanged(t, "prod", setMaster(master))
		migrations := 0
		for _, v := range run.inv.OfType(secretVer) {
			if !strings.HasSuffix(v.Name, "-migrate") {
				continue
			}
			migrations++
			assert.Equal(t, master, v.Region, v.Name)
			var env map[string]string
			require.NoError(t, json.Unmarshal([]byte(secretInput(t, v, "secretString")), &env), v.Name)
			svc := env[appconfig.EnvServiceName]
			owner, err := url.Parse(env[appconfig.EnvDatabaseURL])
			require.NoError(t, err)
			assert.Equal(t, database.Username, owner.User.Username(), "migrations own the schema")
			assert.True(t, strings.HasPrefix(owner.Host, fmt.Sprintf("ecommerce-prod-%s-%s.", master, svc)), owner.Host)
			assert.Equal(t, database.AppUser(svc), env[appconfig.EnvAppDBUser])
			assert.Len(t, env[appconfig.EnvAppDBPassword], 40)
			assert.Equal(t, database.ReaderUser(svc), env[appconfig.EnvReaderDBUser])
			assert.Len(t, env[appconfig.EnvReaderDBPassword], 40)
			assert.NotEqual(t, env[appconfig.EnvAppDBPassword], env[appconfig.EnvReaderDBPassword])
		}
		assert.Equal(t, len(config.Services), migrations, "one per service, in the master region")
		for _, r := range run.inv.OfType("aws:iam/role:Role") {
			if !strings.HasSuffix(r.Name, "-migrate") {
				continue
			}
			assert.Equal(t, master, r.Region, r.Name)
			svc := strings.TrimSuffix(strings.TrimPrefix(r.Name, master+"-settings-"), "-migrate")
			assert.Contains(t, r.String("assumeRolePolicy"), fmt.Sprintf("system:serviceaccount:%s:%s-migrate", svc, svc), r.Name)
			policy := run.inv.Find("aws:iam/rolePolicy:RolePolicy", r.Name)
			require.NotNil(t, policy, r.Name)
			assert.Contains(t, policy.String("policy"), fmt.Sprintf("ecommerce-prod-%s/%s/migrate", master, svc), "it reads its own migration secret")
			assert.NotContains(t, policy.String("policy"), "/runtime", "and nothing else")
		}
	}
}

// The token issuer's signing key is generated once for the stack and
// reaches the issuer's runtime secret in every region unchanged and
// secret; no other service gets it.
func TestSigningKeyOnlyForTheIssuerAndSameEverywhere(t *testing.T) {
	run := planStack(t, "prod")
	seeds := run.inv.OfType("random:index/randomBytes:RandomBytes")
	require.Len(t, seeds, 1, "one key for the whole platform")
	assert.Empty(t, seeds[0].Region, "it belongs to no region")
	assert.EqualValues(t, 32, seeds[0].Get("length"))

	keys := map[string]string{}
	for _, v := range run.inv.OfType(secretVer) {
		if strings.HasSuffix(v.Name, "-migrate") {
			assert.NotContains(t, secretInput(t, v, "secretString"), appconfig.EnvJWTSigningKey, v.Name)
			continue
		}
		var env map[string]string
		require.NoError(t, json.Unmarshal([]byte(secretInput(t, v, "secretString")), &env), v.Name)
		key, has := env[appconfig.EnvJWTSigningKey]
		if env[appconfig.EnvServiceName] != config.TokenIssuer {
			assert.False(t, has, "%s must not hold the signing key", v.Name)
			continue
		}
		seed, err := base64.StdEncoding.DecodeString(key)
		require.NoError(t, err, v.Name)
		assert.Len(t, seed, 32, "an Ed25519 seed")
		keys[v.Region] = key
	}
	require.Len(t, keys, len(run.cfg.Regions), "the issuer gets the key in every region")
	for region, key := range keys {
		assert.Equal(t, keys[run.cfg.MasterRegion], key, "%s signs with the same key as the master region", region)
	}
}

// The stack exports, per service and region, the endpoints.
func TestServiceEndpointsOutput(t *testing.T) {
	run := planStack(t, "staging")
	services := run.services.Value.(map[string]any)
	require.Len(t, services, len(config.Services))
	order := services["order"].(map[string]any)
	assert.Equal(t, "arn:aws:sns:us-east-1:222222222222:ecommerce-staging-order-events", order["topicArn"])
	regions := order["regions"].(map[string]any)
	require.Len(t, regions, 2)
	eu := regions["eu-west-1"].(map[string]any)
	assert.Contains(t, eu["writeEndpoint"], "ecommerce-staging-us-east-1-order.")
	assert.Contains(t, eu["readEndpoint"], "ecommerce-staging-eu-west-1-order.")
	assert.True(t, strings.HasSuffix(eu["readEndpoint"].(string), ":5432"))
	assert.NotContains(t, eu, "queueUrl", "order's events change its database: they are handled in the master region only")
	assert.Contains(t, services["product"].(map[string]any)["regions"].(map[string]any)["eu-west-1"].(map[string]any)["queueUrl"], "sqs.eu-west-1.amazonaws.com",
		"product drops its cached copies in every region")
	assert.Contains(t, eu["runtimeSecretArn"], "arn:aws:secretsmanager:eu-west-1:")
	assert.Contains(t, eu["roleArn"], "arn:aws:iam::222222222222:role/")
	assert.NotContains(t, services["auth"].(map[string]any)["regions"].(map[string]any)["eu-west-1"], "queueUrl", "auth consumes nothing")

	data := run.regionData["us-east-1"].Value.(map[string]any)
	assert.Len(t, data["topicArns"], 3)
	assert.Contains(t, data["cacheAddress"], ".cache.amazonaws.com")
	assert.Equal(t, true, run.regionData["eu-west-1"].Value.(map[string]any)["databaseReplicas"])
}

// Each service's role policy names its own secret, queue and topic, and
// uses KMS only through those services.
func TestServiceAccessPolicies(t *testing.T) {
	run := planStack(t, "prod")
	topo, err := run.cfg.Topology()
	require.NoError(t, err)
	require.Len(t, run.access, len(run.cfg.Regions)*len(config.Services))
	for key, doc := range run.access {
		region, svc, _ := strings.Cut(key, "/")
		var p struct {
			Statement []struct {
				Sid       string
				Resource  any
				Condition map[string]map[string]any
			}
		}
		require.NoError(t, json.Unmarshal([]byte(doc), &p), key)
		sids := map[string]string{}
		for _, st := range p.Statement {
			res, ok := st.Resource.(string)
			require.True(t, ok, "%s %s names one resource", key, st.Sid)
			assert.NotContains(t, res, "*", "%s %s", key, st.Sid)
			sids[st.Sid] = res
			if strings.HasPrefix(res, "arn:aws:kms:") {
				assert.NotEmpty(t, st.Condition["StringEquals"]["kms:ViaService"], "%s %s uses KMS only through a service", key, st.Sid)
			}
		}
		assert.Contains(t, sids["ReadRuntimeSettings"], fmt.Sprintf(":secret:ecommerce-prod-%s/%s/runtime", region, svc))
		assert.Equal(t, run.key(region, keys.Data), sids["DecryptRuntimeSettings"])
		here := topo.ForRegion(region == run.cfg.MasterRegion)
		if here.IsConsumer(svc) {
			assert.Equal(t, fmt.Sprintf("arn:aws:sqs:%s:%s:ecommerce-prod-%s-%s", region, run.cfg.AccountID, region, svc), sids["ConsumeOwnQueue"], key)
			assert.Equal(t, run.key(region, keys.Messaging), sids["DecryptOwnQueue"], key)
		} else {
			assert.NotContains(t, sids, "ConsumeOwnQueue", key)
		}
		if topo.IsPublisher(svc) && region == run.cfg.MasterRegion {
			assert.Equal(t, fmt.Sprintf("arn:aws:sns:%s:%s:ecommerce-prod-%s-events", run.cfg.MasterRegion, run.cfg.AccountID, svc), sids["PublishOwnTopic"], key)
			assert.Equal(t, run.key(run.cfg.MasterRegion, keys.Messaging), sids["EncryptForTopic"], key)
		} else {
			assert.NotContains(t, sids, "PublishOwnTopic", key)
		}
	}
	// The policy is the one the service's IRSA role carries.
	for _, rp := range run.inv.OfType("aws:iam/rolePolicy:RolePolicy") {
		region, svc, ok := strings.Cut(rp.Name, "-settings-")
		if !ok || strings.HasSuffix(svc, "-migrate") {
			continue
		}
		assert.Equal(t, run.access[region+"/"+svc], rp.String("policy"), rp.Name)
	}
}

// runtimeContract is services/runtime-contract.json: what the services
// read and require (their own tests keep it true).
type runtimeContract struct {
	Services map[string]struct {
		Required        []string `json:"required"`
		ReplicaRequired []string `json:"replicaRequired"`
	} `json:"services"`
	Migrate struct {
		Required []string `json:"required"`
	} `json:"migrate"`
	Platform struct {
		Variables []string `json:"variables"`
	} `json:"platform"`
	Optional []string `json:"optional"`
}

// TestInfrastructureMeetsTheServicesContract: what the infrastructure
// gives each service (its runtime secret and its pods' settings) covers
// every variable the service requires and holds none it does not read.
func TestInfrastructureMeetsTheServicesContract(t *testing.T) {
	b, err := os.ReadFile("../services/runtime-contract.json")
	require.NoError(t, err)
	var c runtimeContract
	require.NoError(t, json.Unmarshal(b, &c))
	for _, stack := range shipped {
		run := planStack(t, stack)
		for key, secretKeys := range run.secretKeys {
			_, svc, _ := strings.Cut(key, "/")
			spec, ok := c.Services[svc]
			require.True(t, ok, "the contract knows %s", svc)
			written := slices.Clone(secretKeys)
			written = append(written, workload.PodEnvNames()...)
			for k := range run.env[key] {
				assert.NotContains(t, secretKeys, k, "%s %s: %s is set once, by the secret or by the pod", stack, key, k)
				written = append(written, k)
			}
			required := spec.Required
			if run.env[key][appconfig.EnvDatabaseRole] == appconfig.RoleReplica {
				required = spec.ReplicaRequired
			}
			for _, k := range required {
				assert.Contains(t, written, k, "%s %s: the service requires %s", stack, key, k)
			}
			for _, k := range written {
				assert.True(t, slices.Contains(required, k) || slices.Contains(c.Optional, k) || slices.Contains(c.Platform.Variables, k),
					"%s %s: the infrastructure sets %s, which the service does not read", stack, key, k)
			}
			if migration := run.migrationKeys[key]; migration != nil {
				assert.ElementsMatch(t, c.Migrate.Required, migration, "%s %s: the migration secret holds what migrate mode requires", stack, key)
			}
		}
	}
}
