package stacks_test

import (
	"encoding/json"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/keys"
	"github.com/example/ecommerce-platform/stacks/config"
	"github.com/example/ecommerce-platform/stacks/plan"
)

const (
	metricAlarm    = "aws:cloudwatch/metricAlarm:MetricAlarm"
	compositeAlarm = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
)

// alarmNames are the names of every metric and composite alarm of a plan,
// by region.
func alarmNames(inv *plan.Inventory) map[string][]string {
	out := map[string][]string{}
	for _, a := range inv.OfType(metricAlarm) {
		out[a.Region] = append(out[a.Region], a.String("name"))
	}
	for _, a := range inv.OfType(compositeAlarm) {
		out[a.Region] = append(out[a.Region], a.String("alarmName"))
	}
	return out
}

// The canary workflow rolls a service back when any alarm named
// "<stack>-<region>-<service>-" is in ALARM, and holds it when a region has
// none: every service has alarms in every region under that prefix, and
// the workflow asks CloudWatch for exactly that prefix.
func TestEveryServiceHasAlarmsTheCanaryReads(t *testing.T) {
	workflow, err := os.ReadFile("../.github/workflows/canary-step.yml")
	require.NoError(t, err)
	assert.Contains(t, string(workflow), `--alarm-name-prefix "$STACK-$region-$SERVICE-"`,
		"the canary reads a service's alarms by <stack>-<region>-<service>-")
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			run := planStack(t, stack)
			names := alarmNames(run.inv)
			for _, rc := range run.cfg.Regions {
				for _, svc := range config.Services {
					prefix := stack + "-" + rc.Name + "-" + svc + "-"
					var mine []string
					for _, n := range names[rc.Name] {
						if strings.HasPrefix(n, prefix) {
							mine = append(mine, n)
						}
					}
					assert.Contains(t, mine, prefix+"pods-running", "%s in %s", svc, rc.Name)
					assert.Contains(t, mine, prefix+"db-cpu", "%s in %s", svc, rc.Name)
				}
			}
		})
	}
}

// Every alarm names its stack and region, notifies its own region's
// encrypted alarm topic, and the messaging key lets CloudWatch publish
// there for exactly those names.
func TestAlarmsNotifyTheirRegionsEncryptedTopic(t *testing.T) {
	name := regexp.MustCompile(`^[a-z]+-[a-z]+-[a-z]+-[0-9]-[a-z0-9-]+$`)
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			run := planStack(t, stack)
			inv := run.inv
			for _, rc := range run.cfg.Regions {
				topicArn := "arn:aws:sns:" + rc.Name + ":" + run.cfg.AccountID + ":" + run.cfg.DisplayName("ecommerce", rc.Name) + "-alarms"
				topics := inRegion(inv.Where(snsTopic, "name", run.cfg.DisplayName("ecommerce", rc.Name)+"-alarms"), rc.Name)
				require.Len(t, topics, 1, rc.Name)
				topic := topics[0]
				assert.Equal(t, run.key(rc.Name, keys.Messaging), topic.String("kmsMasterKeyId"), "the alarm topic under %s's messaging key", rc.Name)
				alarms := append(inRegion(inv.OfType(metricAlarm), rc.Name), inRegion(inv.OfType(compositeAlarm), rc.Name)...)
				require.NotEmpty(t, alarms, rc.Name)
				for _, a := range alarms {
					n := a.String("name") + a.String("alarmName")
					assert.True(t, strings.HasPrefix(n, stack+"-"+rc.Name+"-"), "%s names its stack and region", n)
					assert.Regexp(t, name, n)
					assert.LessOrEqual(t, len(n), 255)
					assert.Equal(t, []any{topicArn}, a.Get("alarmActions"), n)
				}
			}
			for _, k := range inv.OfType("aws:kms/key:Key") {
				if !strings.HasSuffix(k.Name, "-"+keys.Messaging) {
					continue
				}
				assert.Contains(t, k.String("policy"), `"aws:SourceArn":"arn:aws:cloudwatch:`+k.Region+`:`+run.cfg.AccountID+`:alarm:`+stack+`-`+k.Region+`-*"`,
					"CloudWatch may use %s only for the region's alarms", k.Name)
			}
		})
	}
}

// Replicas have a lag alarm, primaries none; every queue and DLQ of the
// region is watched.
func TestDataAlarmsFollowTheTopology(t *testing.T) {
	run := planStack(t, "prod")
	inv := run.inv
	topo, err := run.cfg.Topology()
	require.NoError(t, err)
	for _, rc := range run.cfg.Regions {
		master := rc.Name == run.cfg.MasterRegion
		names := map[string]bool{}
		for _, a := range inRegion(inv.OfType(metricAlarm), rc.Name) {
			names[a.String("name")] = true
		}
		for _, svc := range config.Services {
			assert.Equal(t, !master, names["prod-"+rc.Name+"-"+svc+"-db-replica-lag"], "%s in %s: a lag alarm on replicas only", svc, rc.Name)
		}
		for _, consumer := range topo.ForRegion(master).Consumers {
			assert.True(t, names["prod-"+rc.Name+"-"+consumer+"-dlq-messages"], "%s's DLQ in %s", consumer, rc.Name)
			assert.True(t, names["prod-"+rc.Name+"-"+consumer+"-queue-oldest-message"], "%s's queue in %s", consumer, rc.Name)
		}
		for i := 1; i <= 1+run.cfg.Cache.Replicas; i++ {
			assert.True(t, names["prod-"+rc.Name+"-cache-00"+string(rune('0'+i))+"-replication-lag"], "cache node %d in %s", i, rc.Name)
		}
	}
}

// Every region has a vault under its data key, locked in prod only; the
// plan backs up exactly the master's primaries into the master's vault and
// copies them to the backup region's.
func TestBackupsCopyTheMastersPrimariesToAnotherRegion(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			run := planStack(t, stack)
			inv, cfg := run.inv, run.cfg
			for _, rc := range cfg.Regions {
				vaults := inRegion(inv.OfType("aws:backup/vault:Vault"), rc.Name)
				require.Len(t, vaults, 1, rc.Name)
				assert.Equal(t, run.key(rc.Name, keys.Data), vaults[0].String("kmsKeyArn"), "%s's vault under its data key", rc.Name)
				locks := inRegion(inv.OfType("aws:backup/vaultLockConfiguration:VaultLockConfiguration"), rc.Name)
				if cfg.Environment == "prod" {
					require.Len(t, locks, 1, rc.Name)
					assert.EqualValues(t, cfg.Backup.LockMinRetentionDays, locks[0].Get("minRetentionDays"))
				} else {
					assert.Empty(t, locks, "%s locks no vault", stack)
				}
			}
			plans := inv.OfType("aws:backup/plan:Plan")
			require.Len(t, plans, 1)
			assert.Equal(t, cfg.MasterRegion, plans[0].Region)
			rules := plans[0].Get("rules").([]any)
			require.Len(t, rules, 2)
			for _, r := range rules {
				rule := r.(map[string]any)
				assert.Equal(t, cfg.DisplayName("ecommerce", cfg.MasterRegion), rule["targetVaultName"])
				copies, _ := rule["copyActions"].([]any)
				if copyRegion := cfg.BackupCopyRegion(); copyRegion != "" {
					require.Len(t, copies, 1)
					assert.Contains(t, copies[0].(map[string]any)["destinationVaultArn"], ":"+copyRegion+":", "copies survive the master region")
				} else {
					assert.Empty(t, copies, "a stack of one region has nowhere to copy to")
				}
			}
			var primaries []any
			for _, db := range inRegion(inv.OfType(rdsInstance), cfg.MasterRegion) {
				primaries = append(primaries, db.String("identifier"))
			}
			sel := inv.OfType("aws:backup/selection:Selection")
			require.Len(t, sel, 1)
			var selected []any
			for _, arn := range sel[0].Get("resources").([]any) {
				selected = append(selected, arn.(string)[strings.LastIndex(arn.(string), ":")+1:])
				assert.Contains(t, arn, "arn:aws:rds:"+cfg.MasterRegion+":")
			}
			assert.ElementsMatch(t, primaries, selected, "the plan covers exactly the primaries")
		})
	}
}

// Every alarm the plan creates points at a runbook line that exists.
func TestEveryAlarmHasARunbookLine(t *testing.T) {
	doc, err := os.ReadFile("../docs/operations.md")
	require.NoError(t, err)
	anchor := regexp.MustCompile(`runbook: docs/operations\.md#([a-z0-9-]+)\)$`)
	for _, stack := range shipped {
		inv := planStack(t, stack).inv
		alarms := append(inv.OfType(metricAlarm), inv.OfType(compositeAlarm)...)
		require.NotEmpty(t, alarms)
		for _, a := range alarms {
			m := anchor.FindStringSubmatch(a.String("alarmDescription"))
			require.Len(t, m, 2, "%s %s names its runbook line", stack, a.Name)
			assert.Contains(t, string(doc), "\n### "+m[1]+"\n", "docs/operations.md has a line for %s (%s)", m[1], a.Name)
		}
	}
}

// The master-region failover as docs/dr.md describes it: databases
// promoted in place, vaults, alarm topics and alarm names kept, the backup
// plan moved to the new master over the promoted primaries, the lag alarms
// moved with the replicas.
func TestMasterFailoverAsTheRunbookSays(t *testing.T) {
	before := planStack(t, "prod")
	after := planChanged(t, "prod", func(cfg map[string]string) {
		setMaster("eu-west-1")(cfg)
		cfg[config.Namespace+":backup"] = `{"copyRegion":"ap-south-1"}`
	})
	for _, typ := range []string{rdsInstance, "aws:backup/vault:Vault", "aws:backup/vaultLockConfiguration:VaultLockConfiguration", "aws:kms/key:Key"} {
		assert.Equal(t, urnsOf(before.inv, typ), urnsOf(after.inv, typ), "%s stay", typ)
	}
	for _, v := range after.inv.OfType("aws:backup/vault:Vault") {
		b := before.inv.Lookup(v.URN)
		assert.Equal(t, b.Region, v.Region, "vault %s stays in its region", v.Name)
	}
	alarmTopics := func(run *stackRun) []string {
		var out []string
		for _, t := range run.inv.OfType(snsTopic) {
			if strings.HasSuffix(t.String("name"), "-alarms") {
				out = append(out, t.URN+"@"+t.Region)
			}
		}
		sort.Strings(out)
		return out
	}
	assert.Equal(t, alarmTopics(before), alarmTopics(after), "the alarm topics stay, in their regions")

	names := func(run *stackRun) map[string]bool {
		out := map[string]bool{}
		for region, ns := range alarmNames(run.inv) {
			for _, n := range ns {
				out[region+"/"+n] = true
			}
		}
		return out
	}
	b, a := names(before), names(after)
	moves := regexp.MustCompile(`-(db-replica-lag|queue-oldest-message|dlq-messages)$|-logs-[a-z0-9-]+-(delivery|incoming)$`)
	for n := range b {
		if !moves.MatchString(n) {
			assert.True(t, a[n], "%s stays", n)
		}
	}
	// The queues of the consumers that write (master only) move with the
	// master, and their alarms with them.
	topo, err := after.cfg.Topology()
	require.NoError(t, err)
	for _, consumer := range topo.ForRegion(true).Consumers {
		assert.True(t, a["eu-west-1/prod-eu-west-1-"+consumer+"-dlq-messages"], "%s's DLQ in the new master", consumer)
	}
	for _, svc := range config.Services {
		assert.True(t, b["eu-west-1/prod-eu-west-1-"+svc+"-db-replica-lag"])
		assert.False(t, a["eu-west-1/prod-eu-west-1-"+svc+"-db-replica-lag"], "the promoted %s has no lag", svc)
		assert.False(t, b["us-east-1/prod-us-east-1-"+svc+"-db-replica-lag"])
		assert.True(t, a["us-east-1/prod-us-east-1-"+svc+"-db-replica-lag"], "the old master's %s is a replica now", svc)
	}

	// The central logs' streams move to the new master, their delivery
	// alarms with them, under its name and onto its topic.
	assert.True(t, b["us-east-1/prod-us-east-1-logs-containers-ap-south-1-delivery"])
	assert.True(t, a["eu-west-1/prod-eu-west-1-logs-containers-ap-south-1-delivery"], "the logs alarms follow the master")
	assert.False(t, a["us-east-1/prod-us-east-1-logs-containers-ap-south-1-delivery"])

	plans := after.inv.OfType("aws:backup/plan:Plan")
	require.Len(t, plans, 1)
	assert.Equal(t, "eu-west-1", plans[0].Region, "the plan follows the master")
	assert.Equal(t, before.inv.OfType("aws:backup/plan:Plan")[0].URN, plans[0].URN, "same logical plan, in the new region")
	for _, r := range plans[0].Get("rules").([]any) {
		rule := r.(map[string]any)
		assert.Equal(t, "ecommerce-prod-eu-west-1", rule["targetVaultName"])
		assert.Contains(t, rule["copyActions"].([]any)[0].(map[string]any)["destinationVaultArn"], ":ap-south-1:", "copies to the region the runbook names, not the failed one")
	}
	for _, arn := range after.inv.OfType("aws:backup/selection:Selection")[0].Get("resources").([]any) {
		assert.Contains(t, arn, "arn:aws:rds:eu-west-1:", "the promoted primaries are backed up")
	}

	// Without step 3 the copies would go to the failed old master: the
	// runbook's reason for it.
	unset := planChanged(t, "prod", setMaster("eu-west-1"))
	rule := unset.inv.OfType("aws:backup/plan:Plan")[0].Get("rules").([]any)[0].(map[string]any)
	assert.Contains(t, rule["copyActions"].([]any)[0].(map[string]any)["destinationVaultArn"], ":us-east-1:")
}

// Each region has its own dashboard, and the master region the global
// one, whose graphs read every region, master first.
func TestDashboardsShowEveryRegion(t *testing.T) {
	for _, stack := range shipped {
		t.Run(stack, func(t *testing.T) {
			run := planStack(t, stack)
			boards := map[string]*plan.Resource{}
			for _, d := range run.inv.OfType("aws:cloudwatch/dashboard:Dashboard") {
				boards[d.String("dashboardName")] = d
			}
			require.Len(t, boards, len(run.cfg.Regions)+1)
			for _, rc := range run.cfg.Regions {
				d := boards[run.cfg.DisplayName("ecommerce", rc.Name)]
				require.NotNil(t, d, rc.Name)
				assert.Equal(t, rc.Name, d.Region)
				assert.Contains(t, d.String("dashboardBody"), `"region":"`+rc.Name+`"`)
			}
			global := boards[run.cfg.StackName("ecommerce")+"-global"]
			require.NotNil(t, global)
			assert.Equal(t, run.cfg.MasterRegion, global.Region)
			var body struct {
				Widgets []struct {
					Properties struct{ Region string }
				}
			}
			require.NoError(t, json.Unmarshal([]byte(global.String("dashboardBody")), &body))
			require.Len(t, body.Widgets, 6*len(run.cfg.Regions), "six measures a region")
			for i, rc := range run.cfg.Regions {
				// The first row, requests: every region serves, so every
				// column is a graph of its own region.
				assert.Equal(t, rc.Name, body.Widgets[i].Properties.Region, "column %d", i)
			}
			assert.Equal(t, run.cfg.MasterRegion, body.Widgets[0].Properties.Region, "master first")
		})
	}
}
