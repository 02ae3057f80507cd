package stacks_test

// Whole-stack tests of the data layer under the mock engine, from the real
// stack files: replicas, secrets, queues, topics, security groups and the
// runtime settings the services read.

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/appconfig"
	"github.com/example/ecommerce-platform/components/messaging"
	"github.com/example/ecommerce-platform/stacks"
	"github.com/example/ecommerce-platform/stacks/plan"
)

// dataRun is one stack planned through Build, with the values the
// assertions compare against.
type dataRun struct {
	inv *plan.Inventory
	cfg *stacks.Config
	// nodeSG and keyArn by region, as the components returned them.
	nodeSG, keyArn map[string]string
	// services is the "services" stack output; regionData each region's
	// "data" output.
	services   internals.UnsafeAwaitOutputResult
	regionData map[string]internals.UnsafeAwaitOutputResult
	// access are the services' access policies, by "<region>/<service>".
	access map[string]string
}

var (
	dataRunsMu sync.Mutex
	dataRuns   = map[string]*dataRun{}
)

// planData runs a stack (optionally with changed raw config) and caches the
// unchanged runs: they are deterministic and tests only read them.
func planData(t *testing.T, stack string, change func(cfg map[string]string)) *dataRun {
	t.Helper()
	dataRunsMu.Lock()
	defer dataRunsMu.Unlock()
	if run, ok := dataRuns[stack]; ok && change == nil {
		return run
	}
	proj, err := plan.LoadProject("..")
	require.NoError(t, err)
	raw, err := proj.Config("..", stack)
	require.NoError(t, err)
	if change != nil {
		change(raw)
	}
	run := &dataRun{nodeSG: map[string]string{}, keyArn: map[string]string{}, access: map[string]string{},
		regionData: map[string]internals.UnsafeAwaitOutputResult{}}
	var mu sync.Mutex
	capture := func(into map[string]string, key string) func(string) string {
		return func(s string) string {
			mu.Lock()
			defer mu.Unlock()
			into[key] = s
			return s
		}
	}
	run.inv, err = plan.Run(proj.Name, stack, raw, func(ctx *pulumi.Context) error {
		cfg, err := stacks.Load(ctx)
		if err != nil {
			return err
		}
		run.cfg = cfg
		p, err := stacks.Build(ctx, cfg)
		if err != nil {
			return err
		}
		for _, r := range p.Regions {
			r.Cluster.NodeSecurityGroupID.ApplyT(capture(run.nodeSG, r.Name))
			r.Key.Arn.ApplyT(capture(run.keyArn, r.Name))
			for svc, doc := range r.Data.AccessPolicies {
				doc.ApplyT(capture(run.access, r.Name+"/"+svc))
			}
			res, err := internals.UnsafeAwaitOutput(ctx.Context(), stacks.RegionData(r).ToMapOutput())
			if err != nil {
				return err
			}
			run.regionData[r.Name] = res
		}
		run.services, err = internals.UnsafeAwaitOutput(ctx.Context(), p.ServiceEndpoints().ToMapOutput())
		return err
	})
	require.NoError(t, err)
	if change == nil {
		dataRuns[stack] = run
	}
	return run
}

// plain unwraps a property to its value and tells whether it was secret.
func plain(v resource.PropertyValue) (resource.PropertyValue, bool) {
	secret := false
	for {
		switch {
		case v.IsSecret():
			secret = true
			v = v.SecretValue().Element
		case v.IsOutput():
			secret = secret || v.OutputValue().Secret
			v = v.OutputValue().Element
		default:
			return v, secret
		}
	}
}

// secretInput returns the plain value of a secret input and fails the test
// if the input is missing or not marked secret.
func secretInput(t *testing.T, r *plan.Resource, key string) string {
	t.Helper()
	v, ok := r.Inputs[resource.PropertyKey(key)]
	require.True(t, ok, "%s %s has %s", r.Type, r.Name, key)
	val, secret := plain(v)
	require.True(t, secret, "%s %s: %s is marked secret", r.Type, r.Name, key)
	require.True(t, val.IsString(), "%s %s: %s is known in the plan", r.Type, r.Name, key)
	return val.StringValue()
}

func inRegion(rs []*plan.Resource, region string) []*plan.Resource {
	var out []*plan.Resource
	for _, r := range rs {
		if r.Region == region {
			out = append(out, r)
		}
	}
	return out
}

const (
	rdsInstance = "aws:rds/instance:Instance"
	sqsQueue    = "aws:sqs/queue:Queue"
	snsTopic    = "aws:sns/topic:Topic"
	snsSub      = "aws:sns/topicSubscription:TopicSubscription"
	secretVer   = "aws:secretsmanager/secretVersion:SecretVersion"
	redisGroup  = "aws:elasticache/replicationGroup:ReplicationGroup"
)

func TestDataInventoryPerRegion(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			run := planData(t, stack, nil)
			topo, err := run.cfg.Data.Topology()
			require.NoError(t, err)
			counts := run.inv.Counts()
			for _, rc := range run.cfg.Regions {
				c := counts[rc.Name]
				master := rc.Name == run.cfg.MasterRegion
				assert.Equal(t, len(stacks.Services), c[rdsInstance], rc.Name)
				assert.Equal(t, 1, c["aws:rds/subnetGroup:SubnetGroup"], rc.Name)
				assert.Equal(t, 1, c["aws:rds/parameterGroup:ParameterGroup"], rc.Name)
				assert.Equal(t, 1, c[redisGroup], rc.Name)
				assert.Equal(t, 2*len(topo.Consumers), c[sqsQueue], "a queue and a DLQ per consumer in %s", rc.Name)
				assert.Equal(t, len(stacks.Services), c["aws:secretsmanager/secret:Secret"], rc.Name)
				assert.Equal(t, 1, c["pulumi:providers:random"], rc.Name)
				if master {
					assert.Equal(t, len(topo.Publishers), c[snsTopic], rc.Name)
					assert.Equal(t, len(run.cfg.Regions)*len(topo.Routes), c[snsSub], "every region's queues subscribe in the topics' region")
					assert.Equal(t, len(stacks.Services)+1, c["random:index/randomPassword:RandomPassword"], "a password per primary and the cache token")
				} else {
					assert.Zero(t, c[snsTopic], "topics live in the master region only (%s)", rc.Name)
					assert.Zero(t, c[snsSub], rc.Name)
					assert.Equal(t, 1, c["random:index/randomPassword:RandomPassword"], "only the cache token: replicas have no password (%s)", rc.Name)
				}
			}
		})
	}
}

// Replicas point at the primaries' ARNs and are encrypted with their own
// region's key, with their own subnet group, parameter group and SG.
func TestReplicasFollowTheMasterPrimaries(t *testing.T) {
	for _, stack := range []string{"staging", "prod"} {
		t.Run(stack, func(t *testing.T) {
			run := planData(t, stack, nil)
			master := run.cfg.MasterRegion
			primaries := map[string]*plan.Resource{}
			for _, db := range inRegion(run.inv.OfType(rdsInstance), master) {
				primaries[db.String("tags.service")] = db
				assert.Nil(t, db.Get("replicateSourceDb"), db.Name)
				assert.Equal(t, "postgres", db.String("engine"), db.Name)
			}
			require.Len(t, primaries, len(stacks.Services))
			replicas := 0
			for _, rc := range run.cfg.Regions {
				if rc.Name == master {
					continue
				}
				for _, db := range inRegion(run.inv.OfType(rdsInstance), rc.Name) {
					p := primaries[db.String("tags.service")]
					require.NotNil(t, p, db.Name)
					want := fmt.Sprintf("arn:aws:rds:%s:%s:db:%s", master, run.cfg.AccountID, p.String("identifier"))
					assert.Equal(t, want, db.String("replicateSourceDb"), "%s replicates its service's primary", db.Name)
					assert.Equal(t, true, db.Get("storageEncrypted"), db.Name)
					assert.Equal(t, run.keyArn[rc.Name], db.String("kmsKeyId"), "%s uses its own region's key", db.Name)
					assert.Equal(t, run.keyArn[rc.Name], db.String("performanceInsightsKmsKeyId"), db.Name)
					assert.True(t, strings.HasPrefix(db.String("kmsKeyId"), "arn:aws:kms:"+rc.Name+":"), db.Name)
					for _, k := range []string{"password", "username", "engine", "dbName", "backupRetentionPeriod"} {
						assert.Nil(t, db.Get(k), "replica %s sets no %s of its own", db.Name, k)
					}
					for _, k := range []string{"dbSubnetGroupName", "parameterGroupName"} {
						assert.NotEqual(t, p.String(k), db.String(k), "%s has its own %s", db.Name, k)
						assert.True(t, strings.HasPrefix(db.String(k), rc.Name+"-db"), "%s %s is its region's", db.Name, k)
					}
					assert.NotEqual(t, p.Get("vpcSecurityGroupIds"), db.Get("vpcSecurityGroupIds"), db.Name)
					replicas++
				}
			}
			assert.Equal(t, (len(run.cfg.Regions)-1)*len(stacks.Services), replicas)
		})
	}
}

// Failover: pointing masterRegion at a replica region drops
// replicateSourceDb from the same resources (same URNs), which promotes
// them in place instead of replacing them.
func TestFailoverPromotesReplicasInPlace(t *testing.T) {
	before := planData(t, "staging", nil)
	after := planData(t, "staging", func(cfg map[string]string) { cfg["ecommerce:masterRegion"] = "eu-west-1" })
	for _, db := range inRegion(before.inv.OfType(rdsInstance), "eu-west-1") {
		require.NotEmpty(t, db.String("replicateSourceDb"))
		var promoted *plan.Resource
		for _, x := range after.inv.OfType(rdsInstance) {
			if x.URN == db.URN {
				promoted = x
			}
		}
		require.NotNil(t, promoted, "%s keeps its URN", db.Name)
		assert.Nil(t, promoted.Get("replicateSourceDb"), "%s is promoted", db.Name)
		assert.Equal(t, db.String("identifier"), promoted.String("identifier"))
	}
}

// No credential appears in plain text: the generated values are inputs
// marked secret, and neither the JSON inventory nor the stack outputs carry
// them.
func TestNoSecretInPlainText(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			run := planData(t, stack, nil)
			var secrets []string
			for _, db := range run.inv.OfType(rdsInstance) {
				if db.Get("replicateSourceDb") == nil {
					pw := secretInput(t, db, "password")
					assert.Len(t, pw, 40, db.Name)
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

func TestEveryQueueHasADeadLetterQueueAndEncryption(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			run := planData(t, stack, nil)
			byName := map[string]*plan.Resource{}
			for _, q := range run.inv.OfType(sqsQueue) {
				byName[q.String("name")] = q
			}
			main := 0
			for _, q := range run.inv.OfType(sqsQueue) {
				assert.Equal(t, run.keyArn[q.Region], q.String("kmsMasterKeyId"), "%s is encrypted with its region's key", q.Name)
				name := q.String("name")
				if strings.HasSuffix(name, "-dlq") {
					assert.Equal(t, float64(messaging.DeadLetterRetentionSeconds), q.Get("messageRetentionSeconds"), "%s keeps 14 days", name)
					assert.Nil(t, q.Get("redrivePolicy"), name)
					continue
				}
				main++
				var redrive struct {
					Target string `json:"deadLetterTargetArn"`
					Max    int    `json:"maxReceiveCount"`
				}
				require.NoError(t, json.Unmarshal([]byte(q.String("redrivePolicy")), &redrive), name)
				assert.Equal(t, fmt.Sprintf("arn:aws:sqs:%s:%s:%s-dlq", q.Region, run.cfg.AccountID, name), redrive.Target, name)
				assert.NotNil(t, byName[name+"-dlq"], "%s has its DLQ", name)
				assert.Equal(t, run.cfg.Data.Messaging.MaxReceiveCount, redrive.Max, name)
			}
			assert.Equal(t, len(run.inv.OfType(sqsQueue))/2, main)
		})
	}
}

// Each queue admits only the topics it subscribes to, and only over TLS.
func TestQueuePoliciesAdmitOnlySubscribedTopics(t *testing.T) {
	run := planData(t, "prod", nil)
	topo, err := run.cfg.Data.Topology()
	require.NoError(t, err)
	topicArn := func(pub string) string {
		return fmt.Sprintf("arn:aws:sns:%s:%s:%s", run.cfg.MasterRegion, run.cfg.AccountID, messaging.TopicName("ecommerce-prod", pub))
	}
	policies := run.inv.OfType("aws:sqs/queuePolicy:QueuePolicy")
	require.Len(t, policies, len(run.cfg.Regions)*len(topo.Consumers))
	for _, p := range policies {
		var doc struct {
			Statement []struct {
				Effect    string
				Principal any
				Action    any
				Condition map[string]map[string]any
			}
		}
		require.NoError(t, json.Unmarshal([]byte(p.String("policy")), &doc), p.Name)
		require.Len(t, doc.Statement, 2, p.Name)
		allow := doc.Statement[0]
		assert.Equal(t, "Allow", allow.Effect)
		assert.Equal(t, map[string]any{"Service": "sns.amazonaws.com"}, allow.Principal)
		assert.Equal(t, "sqs:SendMessage", allow.Action)
		consumer := p.Name[strings.LastIndex(p.Name, "-")+1:]
		var want []any
		for _, r := range topo.RoutesTo(consumer) {
			want = append(want, topicArn(r.Publisher))
		}
		assert.Equal(t, want, allow.Condition["ArnEquals"]["aws:SourceArn"], "%s admits exactly its topics", p.Name)
		assert.Equal(t, "Deny", doc.Statement[1].Effect)
		assert.Equal(t, "false", doc.Statement[1].Condition["Bool"]["aws:SecureTransport"])
	}
}

func TestTopicsAndSubscriptions(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			run := planData(t, stack, nil)
			topo, err := run.cfg.Data.Topology()
			require.NoError(t, err)
			for _, topic := range run.inv.OfType(snsTopic) {
				assert.Equal(t, run.cfg.MasterRegion, topic.Region)
				assert.Equal(t, run.keyArn[run.cfg.MasterRegion], topic.String("kmsMasterKeyId"), "%s is encrypted", topic.Name)
			}
			policies := run.inv.OfType("aws:sns/topicPolicy:TopicPolicy")
			require.Len(t, policies, len(topo.Publishers))
			for _, p := range policies {
				doc := p.String("policy")
				assert.Contains(t, doc, fmt.Sprintf(`"AWS":"arn:aws:iam::%s:root"`, run.cfg.AccountID), "only this account")
				assert.Contains(t, doc, `"aws:SecureTransport":"false"`, "no publish without TLS")
				assert.NotContains(t, doc, `"AWS":"*"`)
			}
			subs := run.inv.OfType(snsSub)
			require.Len(t, subs, len(run.cfg.Regions)*len(topo.Routes))
			seen := map[string]bool{}
			for _, s := range subs {
				assert.Equal(t, "sqs", s.String("protocol"))
				assert.Equal(t, true, s.Get("rawMessageDelivery"), "services read the event itself")
				assert.True(t, strings.HasPrefix(s.String("topic"), "arn:aws:sns:"+run.cfg.MasterRegion+":"), s.Name)
				assert.Equal(t, "MessageAttributes", s.String("filterPolicyScope"))
				var filter map[string][]string
				require.NoError(t, json.Unmarshal([]byte(s.String("filterPolicy")), &filter), s.Name)
				endpoint := s.String("endpoint")
				queueRegion := strings.Split(endpoint, ":")[3]
				seen[queueRegion] = true
				for _, ev := range filter[messaging.EventTypeAttribute] {
					pubs := run.cfg.Data.Events[ev].Publishers
					assert.NotEmpty(t, pubs, "%s filters on a declared event", s.Name)
				}
			}
			for _, rc := range run.cfg.Regions {
				assert.True(t, seen[rc.Name], "queues of %s are subscribed", rc.Name)
			}
		})
	}
}

// Database and cache security groups accept traffic from the node security
// group only, on their own port, and open nothing outbound.
func TestDataSecurityGroupsAdmitOnlyTheNodes(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			run := planData(t, stack, nil)
			ports := map[string]float64{"ecommerce:database:Databases": 5432, "ecommerce:cache:Cache": 6379}
			parents := map[string]string{}
			for _, r := range run.inv.Resources {
				parents[r.URN] = r.Type
			}
			checked := 0
			for _, sg := range run.inv.OfType("aws:ec2/securityGroup:SecurityGroup") {
				port, ok := ports[parents[sg.Parent]]
				if !ok {
					continue
				}
				checked++
				ingress, _ := sg.Get("ingress").([]any)
				require.Len(t, ingress, 1, sg.Name)
				rule := ingress[0].(map[string]any)
				assert.Equal(t, []any{run.nodeSG[sg.Region]}, rule["securityGroups"], "%s admits the node SG of its region", sg.Name)
				assert.Equal(t, port, rule["fromPort"], sg.Name)
				assert.Equal(t, port, rule["toPort"], sg.Name)
				assert.Nil(t, rule["cidrBlocks"], sg.Name)
				assert.Nil(t, sg.Get("egress"), "%s opens nothing outbound", sg.Name)
			}
			assert.Equal(t, 2*len(run.cfg.Regions), checked)
		})
	}
}

func TestDatabaseHardening(t *testing.T) {
	run := planData(t, "prod", nil)
	for _, db := range run.inv.OfType(rdsInstance) {
		assert.Equal(t, "gp3", db.String("storageType"), db.Name)
		assert.Greater(t, db.Get("maxAllocatedStorage"), db.Get("allocatedStorage"), db.Name)
		assert.Equal(t, true, db.Get("performanceInsightsEnabled"), db.Name)
		assert.Equal(t, run.keyArn[db.Region], db.String("performanceInsightsKmsKeyId"), db.Name)
		assert.Equal(t, float64(run.cfg.Data.Database.MonitoringIntervalSeconds), db.Get("monitoringInterval"), db.Name)
		assert.Contains(t, db.String("monitoringRoleArn"), ":role/", db.Name)
		assert.Equal(t, []any{"postgresql"}, db.Get("enabledCloudwatchLogsExports"), db.Name)
		assert.Equal(t, false, db.Get("publiclyAccessible"), db.Name)
	}
	for _, pg := range run.inv.OfType("aws:rds/parameterGroup:ParameterGroup") {
		params := map[string]string{}
		for _, p := range pg.Get("parameters").([]any) {
			m := p.(map[string]any)
			params[m["name"].(string)] = m["value"].(string)
		}
		assert.Equal(t, "1", params["rds.force_ssl"], pg.Name)
		assert.Equal(t, fmt.Sprint(run.cfg.Data.Database.SlowStatementMs), params["log_min_duration_statement"], pg.Name)
		assert.Equal(t, "postgres"+run.cfg.Data.Database.EngineVersion, pg.String("family"))
	}
	for _, role := range run.inv.OfType("aws:iam/role:Role") {
		if strings.Contains(role.Name, "-db-monitoring") {
			assert.Contains(t, role.String("assumeRolePolicy"), "monitoring.rds.amazonaws.com")
			assert.Contains(t, role.String("assumeRolePolicy"), run.cfg.AccountID, "trust is scoped to the account")
		}
	}
}

// prod gets Multi-AZ, deletion protection, final snapshots and backups;
// dev the cheap choices.
func TestProdIsDurableDevIsCheap(t *testing.T) {
	prod := planData(t, "prod", nil)
	for _, db := range prod.inv.OfType(rdsInstance) {
		assert.Equal(t, true, db.Get("multiAz"), db.Name)
		assert.Equal(t, true, db.Get("deletionProtection"), db.Name)
		if db.Get("replicateSourceDb") == nil {
			assert.Equal(t, false, db.Get("skipFinalSnapshot"), db.Name)
			assert.Equal(t, db.String("identifier")+"-final", db.String("finalSnapshotIdentifier"))
			assert.GreaterOrEqual(t, db.Get("backupRetentionPeriod"), float64(stacks.MinProdBackupDays), db.Name)
			assert.Equal(t, false, db.Get("deleteAutomatedBackups"), db.Name)
		}
	}
	for _, g := range prod.inv.OfType(redisGroup) {
		assert.Equal(t, true, g.Get("multiAzEnabled"), g.Name)
		assert.Equal(t, true, g.Get("automaticFailoverEnabled"), g.Name)
		assert.GreaterOrEqual(t, g.Get("numCacheClusters"), float64(2), g.Name)
		assert.GreaterOrEqual(t, g.Get("snapshotRetentionLimit"), float64(1), g.Name)
	}
	for _, s := range prod.inv.OfType("aws:secretsmanager/secret:Secret") {
		assert.Equal(t, float64(30), s.Get("recoveryWindowInDays"), s.Name)
	}

	dev := planData(t, "dev", nil)
	for _, db := range dev.inv.OfType(rdsInstance) {
		assert.Equal(t, false, db.Get("multiAz"), db.Name)
		assert.Equal(t, false, db.Get("deletionProtection"), db.Name)
		assert.Equal(t, true, db.Get("skipFinalSnapshot"), db.Name)
		assert.Nil(t, db.Get("finalSnapshotIdentifier"), db.Name)
		assert.True(t, strings.HasPrefix(db.String("instanceClass"), "db.t4g."), "dev uses burstable classes")
	}
	for _, g := range dev.inv.OfType(redisGroup) {
		assert.Equal(t, float64(1), g.Get("numCacheClusters"), g.Name)
		assert.Equal(t, false, g.Get("automaticFailoverEnabled"), g.Name)
		assert.Equal(t, false, g.Get("multiAzEnabled"), g.Name)
	}
	for _, s := range dev.inv.OfType("aws:secretsmanager/secret:Secret") {
		assert.Equal(t, float64(0), s.Get("recoveryWindowInDays"), s.Name)
	}
}

func TestCacheEncryptionAndToken(t *testing.T) {
	run := planData(t, "staging", nil)
	for _, g := range run.inv.OfType(redisGroup) {
		assert.Equal(t, true, g.Get("transitEncryptionEnabled"), g.Name)
		assert.Equal(t, true, g.Get("atRestEncryptionEnabled"), g.Name)
		assert.Equal(t, run.keyArn[g.Region], g.String("kmsKeyId"), g.Name)
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

// The runtime secret of each service in each region holds what that
// service needs, shaped as the environment services/internal/config reads.
func TestRuntimeSettingsPerServiceAndRegion(t *testing.T) {
	run := planData(t, "prod", nil)
	topo, err := run.cfg.Data.Topology()
	require.NoError(t, err)
	master := run.cfg.MasterRegion
	for _, v := range run.inv.OfType(secretVer) {
		var env map[string]string
		require.NoError(t, json.Unmarshal([]byte(secretInput(t, v, "secretString")), &env), v.Name)
		svc := env[appconfig.EnvServiceName]
		require.Contains(t, stacks.Services, svc, v.Name)
		assert.Equal(t, v.Region, env[appconfig.EnvRegion], v.Name)

		write, err := url.Parse(env[appconfig.EnvDatabaseURL])
		require.NoError(t, err)
		read, err := url.Parse(env[appconfig.EnvDatabaseReadURL])
		require.NoError(t, err)
		assert.Equal(t, "postgres", write.Scheme)
		assert.True(t, strings.HasPrefix(write.Host, fmt.Sprintf("ecommerce-prod-%s-%s.", master, svc)), "%s writes to the master primary: %s", v.Name, write.Host)
		assert.True(t, strings.HasPrefix(read.Host, fmt.Sprintf("ecommerce-prod-%s-%s.", v.Region, svc)), "%s reads in its own region: %s", v.Name, read.Host)
		assert.Equal(t, "/"+svc+"db", write.Path)
		assert.Equal(t, "require", write.Query().Get("sslmode"))
		wpw, _ := write.User.Password()
		rpw, _ := read.User.Password()
		assert.Equal(t, wpw, rpw, "replicas share the primary's credentials")

		assert.True(t, strings.HasPrefix(env[appconfig.EnvRedisURL], "rediss://"), "TLS to Redis")
		assert.Contains(t, env[appconfig.EnvRedisURL], ".cache.amazonaws.com:6379")
		assert.NotEmpty(t, env[appconfig.EnvRedisAuthToken])

		if topo.IsConsumer(svc) {
			assert.Equal(t, fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/ecommerce-prod-%s-%s", v.Region, run.cfg.AccountID, v.Region, svc), env[appconfig.EnvQueueURL], v.Name)
		} else {
			assert.NotContains(t, env, appconfig.EnvQueueURL, v.Name)
		}
		if topo.IsPublisher(svc) {
			assert.Equal(t, fmt.Sprintf("arn:aws:sns:%s:%s:ecommerce-prod-%s-events", master, run.cfg.AccountID, svc), env[appconfig.EnvTopicARN], v.Name)
		} else {
			assert.NotContains(t, env, appconfig.EnvTopicARN, v.Name)
		}
	}
	for _, s := range run.inv.OfType("aws:secretsmanager/secret:Secret") {
		assert.Equal(t, run.keyArn[s.Region], s.String("kmsKeyId"), "%s is encrypted with its region's key", s.Name)
	}
	// What the services require of each (services/internal/config).
	needs := map[string][]string{
		"auth":    {appconfig.EnvTopicARN},
		"user":    {appconfig.EnvQueueURL},
		"product": {appconfig.EnvRedisURL, appconfig.EnvQueueURL, appconfig.EnvTopicARN},
		"order":   {appconfig.EnvQueueURL, appconfig.EnvTopicARN},
	}
	for svc, keys := range needs {
		for _, k := range keys {
			switch k {
			case appconfig.EnvQueueURL:
				assert.True(t, topo.IsConsumer(svc), "%s gets %s", svc, k)
			case appconfig.EnvTopicARN:
				assert.True(t, topo.IsPublisher(svc), "%s gets %s", svc, k)
			}
		}
	}
}

// The stack exports, per service and region, the endpoints.
func TestServiceEndpointsOutput(t *testing.T) {
	run := planData(t, "staging", nil)
	services := run.services.Value.(map[string]any)
	require.Len(t, services, len(stacks.Services))
	order := services["order"].(map[string]any)
	assert.Equal(t, "arn:aws:sns:us-east-1:222222222222:ecommerce-staging-order-events", order["topicArn"])
	regions := order["regions"].(map[string]any)
	require.Len(t, regions, 2)
	eu := regions["eu-west-1"].(map[string]any)
	assert.Contains(t, eu["writeEndpoint"], "ecommerce-staging-us-east-1-order.")
	assert.Contains(t, eu["readEndpoint"], "ecommerce-staging-eu-west-1-order.")
	assert.True(t, strings.HasSuffix(eu["readEndpoint"].(string), ":5432"))
	assert.Contains(t, eu["queueUrl"], "sqs.eu-west-1.amazonaws.com")
	assert.Contains(t, eu["runtimeSecretArn"], "arn:aws:secretsmanager:eu-west-1:")
	assert.NotContains(t, services["auth"].(map[string]any)["regions"].(map[string]any)["eu-west-1"], "queueUrl", "auth consumes nothing")

	data := run.regionData["us-east-1"].Value.(map[string]any)
	assert.Len(t, data["topicArns"], 3)
	assert.Contains(t, data["cacheAddress"], ".cache.amazonaws.com")
	assert.Equal(t, true, run.regionData["eu-west-1"].Value.(map[string]any)["databaseReplicas"])
}

// Protected environments copy the primaries' automated backups into the
// first region after the master, encrypted with that region's key.
func TestBackupCopiesInTheFirstReplicaRegion(t *testing.T) {
	const token = "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
	prod := planData(t, "prod", nil)
	copies := prod.inv.OfType(token)
	require.Len(t, copies, len(stacks.Services))
	for _, c := range copies {
		assert.Equal(t, "eu-west-1", c.Region, "the first region after the master")
		assert.True(t, strings.HasPrefix(c.String("sourceDbInstanceArn"), fmt.Sprintf("arn:aws:rds:%s:%s:db:ecommerce-prod-%s-", prod.cfg.MasterRegion, prod.cfg.AccountID, prod.cfg.MasterRegion)), c.Name)
		assert.Equal(t, prod.keyArn["eu-west-1"], c.String("kmsKeyId"), c.Name)
		assert.Equal(t, float64(prod.cfg.Data.Database.BackupRetentionDays), c.Get("retentionPeriod"), c.Name)
	}
	assert.Empty(t, planData(t, "dev", nil).inv.OfType(token), "dev has one region and no copies")
}

func TestCacheSlowLogIsDelivered(t *testing.T) {
	run := planData(t, "prod", nil)
	for _, g := range run.inv.OfType(redisGroup) {
		cfg, _ := g.Get("logDeliveryConfigurations").([]any)
		require.Len(t, cfg, 1, g.Name)
		d := cfg[0].(map[string]any)
		assert.Equal(t, "slow-log", d["logType"])
		assert.Equal(t, "cloudwatch-logs", d["destinationType"])
		assert.Equal(t, fmt.Sprintf("/aws/elasticache/ecommerce-prod-%s/slow-log", g.Region), d["destination"])
	}
}

// A service's database can be sized on its own; the change touches that
// service's instances (primary and replicas) and nothing else.
func TestOneServiceSizingTouchesOnlyIt(t *testing.T) {
	base := planData(t, "prod", nil)
	for _, db := range base.inv.OfType(rdsInstance) {
		if db.String("tags.service") == "order" {
			assert.Equal(t, "db.r6g.2xlarge", db.String("instanceClass"), db.Name)
			assert.Equal(t, float64(500), db.Get("allocatedStorage"), db.Name)
		} else {
			assert.Equal(t, base.cfg.Data.Database.InstanceClass, db.String("instanceClass"), db.Name)
		}
	}
	changed := planData(t, "prod", func(cfg map[string]string) {
		var d map[string]any
		require.NoError(t, json.Unmarshal([]byte(cfg["ecommerce:database"]), &d))
		d["perService"].(map[string]any)["order"].(map[string]any)["instanceClass"] = "db.r7g.2xlarge"
		b, err := json.Marshal(d)
		require.NoError(t, err)
		cfg["ecommerce:database"] = string(b)
	})
	before := map[string]string{}
	for _, r := range base.inv.Resources {
		b, err := json.Marshal(plan.Redact(r.Inputs))
		require.NoError(t, err)
		before[r.URN] = string(b)
	}
	var diff []string
	for _, r := range changed.inv.Resources {
		b, err := json.Marshal(plan.Redact(r.Inputs))
		require.NoError(t, err)
		if before[r.URN] != string(b) {
			diff = append(diff, r.Name)
		}
	}
	assert.ElementsMatch(t, []string{"us-east-1-db-order", "eu-west-1-db-order", "ap-south-1-db-order"}, diff)
}

// Each service's workload policy names its own secret, queue and topic,
// and uses KMS only through those services.
func TestServiceAccessPolicies(t *testing.T) {
	run := planData(t, "prod", nil)
	topo, err := run.cfg.Data.Topology()
	require.NoError(t, err)
	require.Len(t, run.access, len(run.cfg.Regions)*len(stacks.Services))
	for key, doc := range run.access {
		region, svc, _ := strings.Cut(key, "/")
		var p struct {
			Statement []struct {
				Sid       string
				Action    any
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
		assert.Equal(t, run.keyArn[region], sids["DecryptRegionalData"])
		if topo.IsConsumer(svc) {
			assert.Equal(t, fmt.Sprintf("arn:aws:sqs:%s:%s:ecommerce-prod-%s-%s", region, run.cfg.AccountID, region, svc), sids["ConsumeOwnQueue"], key)
		} else {
			assert.NotContains(t, sids, "ConsumeOwnQueue", key)
		}
		if topo.IsPublisher(svc) {
			assert.Equal(t, fmt.Sprintf("arn:aws:sns:%s:%s:ecommerce-prod-%s-events", run.cfg.MasterRegion, run.cfg.AccountID, svc), sids["PublishOwnTopic"], key)
			assert.Equal(t, run.keyArn[run.cfg.MasterRegion], sids["EncryptForTopic"], key)
		} else {
			assert.NotContains(t, sids, "PublishOwnTopic", key)
		}
	}
}
