package stacks_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/appconfig"
	"github.com/example/ecommerce-platform/components/global"
	"github.com/example/ecommerce-platform/components/keys"
	"github.com/example/ecommerce-platform/stacks/plan"
)

// Every store is encrypted with its own region's key of the right class.
func TestEncryptionEverywhere(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			run := planStack(t, stack)
			inv := run.inv
			for _, c := range inv.OfType("aws:eks/cluster:Cluster") {
				assert.Equal(t, run.key(c.Region, keys.Cluster), c.String("encryptionConfig.provider.keyArn"), "cluster in %s: Kubernetes secrets under its cluster key", c.Region)
				assert.Equal(t, []any{"secrets"}, c.Get("encryptionConfig.resources"))
			}
			for _, g := range inv.OfType("aws:cloudwatch/logGroup:LogGroup") {
				if parent := inv.Lookup(g.Parent); parent != nil && parent.Type == "ecommerce:edge:Edge" {
					// The edge's logs live in us-east-1 whatever the
					// regions, under the edge's own logs key.
					key := inv.Find("aws:kms/key:Key", "waf-logs")
					require.NotNil(t, key)
					assert.Equal(t, key.Region, g.Region)
					assert.True(t, inv.WaitsFor(g, key), "log group %s is encrypted with the edge's logs key", g.Name)
					continue
				}
				assert.Equal(t, run.key(g.Region, keys.Logs), g.String("kmsKeyId"), "log group %s is encrypted with its region's logs key", g.Name)
			}
			for _, lt := range inv.OfType("aws:ec2/launchTemplate:LaunchTemplate") {
				assert.Equal(t, "true", lt.String("blockDeviceMappings.0.ebs.encrypted"), lt.Name)
				assert.Equal(t, run.key(lt.Region, keys.Cluster), lt.String("blockDeviceMappings.0.ebs.kmsKeyId"), lt.Name)
			}
			for _, rc := range run.cfg.Regions {
				for _, class := range keys.Classes {
					assert.True(t, strings.HasPrefix(run.key(rc.Name, class), fmt.Sprintf("arn:aws:kms:%s:", rc.Name)), "%s %s key lives in its region", rc.Name, class)
				}
			}
		})
	}
}

// Database and cache security groups accept traffic from the node security
// group only, on their own port, and open nothing outbound.
func TestDataSecurityGroupsAdmitOnlyTheNodes(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			run := planStack(t, stack)
			ports := map[string]float64{"ecommerce:database:Databases": 5432, "ecommerce:cache:Cache": 6379}
			checked := 0
			for _, sg := range run.inv.OfType("aws:ec2/securityGroup:SecurityGroup") {
				parent := run.inv.Lookup(sg.Parent)
				port, ok := ports[parent.Type]
				if !ok {
					continue
				}
				checked++
				assert.Nil(t, sg.Get("ingress"), "%s: its one rule is a resource of its own", sg.Name)
				assert.Nil(t, sg.Get("egress"), "%s opens nothing outbound", sg.Name)
				var rules []*plan.Resource
				for _, r := range run.inv.Children(parent) {
					if r.Type == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule" {
						rules = append(rules, r)
					}
				}
				require.Len(t, rules, 1, sg.Name)
				rule := rules[0]
				assert.True(t, run.inv.WaitsFor(rule, sg), "%s: the rule is the group's", rule.Name)
				assert.Equal(t, run.nodeSG[sg.Region], rule.String("referencedSecurityGroupId"), "%s admits the node SG of its region", sg.Name)
				assert.Equal(t, port, rule.Get("fromPort"), sg.Name)
				assert.Equal(t, port, rule.Get("toPort"), sg.Name)
				assert.Nil(t, rule.Get("cidrIpv4"), sg.Name)
			}
			assert.Equal(t, 2*len(run.cfg.Regions), checked)
		})
	}
}

// No credential appears in plain text: the generated values are inputs
// marked secret, and neither the JSON inventory nor the stack outputs carry
// them.
func TestNoSecretInPlainText(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			run := planStack(t, stack)
			var secrets []string
			for _, db := range run.inv.OfType(rdsInstance) {
				if db.Get("replicateSourceDb") == nil {
					pw := secretInput(t, db, "password")
					assert.Len(t, pw, global.PasswordLength, db.Name)
					secrets = append(secrets, pw)
				}
				assert.Nil(t, db.Get("manageMasterUserPassword"), "one password scheme: generated, kept secret")
			}
			for _, g := range run.inv.OfType(redisGroup) {
				secrets = append(secrets, secretInput(t, g, "authToken"))
			}
			for _, v := range run.inv.OfType(secretVer) {
				doc := secretInput(t, v, "secretString")
				var env map[string]string
				require.NoError(t, json.Unmarshal([]byte(doc), &env), v.Name)
				if strings.HasSuffix(v.Name, "-migrate") {
					secrets = append(secrets, env[appconfig.EnvDatabaseURL], env[appconfig.EnvAppDBPassword])
					continue
				}
				secrets = append(secrets, env[appconfig.EnvDatabaseURL], env[appconfig.EnvRedisAuthToken])
			}
			require.NotEmpty(t, secrets)

			b, err := json.Marshal(run.inv)
			require.NoError(t, err)
			for _, s := range secrets {
				require.NotEmpty(t, s)
				assert.NotContains(t, string(b), s, "the JSON inventory carries no secret")
			}

			require.True(t, run.services.Known)
			assert.False(t, run.services.Secret, "the services output is not secret, so it holds no secret")
			out, err := json.Marshal(run.services.Value)
			require.NoError(t, err)
			for region, res := range run.regionData {
				assert.False(t, res.Secret, "the data output of %s holds no secret", region)
				b, err := json.Marshal(res.Value)
				require.NoError(t, err)
				out = append(out, b...)
			}
			for _, s := range secrets {
				assert.NotContains(t, string(out), s, "the stack outputs carry no secret")
			}
			assert.NotContains(t, string(out), "postgres://", "no connection URL (with its password) is exported")
		})
	}
}

func TestCacheEncryptionAndToken(t *testing.T) {
	run := planStack(t, "staging")
	for _, g := range run.inv.OfType(redisGroup) {
		assert.Equal(t, run.key(g.Region, keys.Data), g.String("kmsKeyId"), g.Name)
		token := secretInput(t, g, "authToken")
		assert.GreaterOrEqual(t, len(token), 16)
		assert.LessOrEqual(t, len(token), 128)
		assert.NotEmpty(t, g.String("maintenanceWindow"))
		assert.NotEmpty(t, g.String("snapshotWindow"))
	}
	for _, pw := range run.inv.OfType("random:index/randomPassword:RandomPassword") {
		if !strings.HasSuffix(pw.Name, "-cache-auth") {
			continue
		}
		for _, c := range pw.String("overrideSpecial") {
			assert.Contains(t, "!&#$^<>-", string(c), "ElastiCache accepts only these punctuation characters")
		}
		n := pw.Get("length").(float64)
		assert.True(t, n >= 16 && n <= 128)
	}
}

func TestCacheSlowLogIsDelivered(t *testing.T) {
	run := planStack(t, "prod")
	for _, g := range run.inv.OfType(redisGroup) {
		cfg, _ := g.Get("logDeliveryConfigurations").([]any)
		require.Len(t, cfg, 1, g.Name)
		d := cfg[0].(map[string]any)
		assert.Equal(t, "slow-log", d["logType"])
		assert.Equal(t, "cloudwatch-logs", d["destinationType"])
		assert.Equal(t, fmt.Sprintf("/aws/elasticache/ecommerce-prod-%s/slow-log", g.Region), d["destination"])
		// Delivery works only where a log resource policy admits it, and
		// the group must not be created before the policy.
		var policy *plan.Resource
		for _, p := range inRegion(run.inv.OfType("aws:cloudwatch/logResourcePolicy:LogResourcePolicy"), g.Region) {
			if strings.Contains(p.String("policyDocument"), fmt.Sprintf("log-group:/aws/elasticache/ecommerce-prod-%s/slow-log:", g.Region)) {
				policy = p
			}
		}
		require.NotNil(t, policy, "%s: a resource policy admits the slow-log delivery", g.Region)
		assert.True(t, run.inv.WaitsFor(g, policy), g.Name)
	}
}
