package stacks_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/keys"
	"github.com/example/ecommerce-platform/stacks/config"
	"github.com/example/ecommerce-platform/stacks/plan"
)

// Replicas point at the primaries' ARNs and are encrypted with their own
// region's key, with their own subnet group, parameter group and SG.
func TestReplicasFollowTheMasterPrimaries(t *testing.T) {
	for _, stack := range []string{"staging", "prod"} {
		t.Run(stack, func(t *testing.T) {
			run := planStack(t, stack)
			master := run.cfg.MasterRegion
			primaries := map[string]*plan.Resource{}
			for _, db := range inRegion(run.inv.OfType(rdsInstance), master) {
				primaries[db.String("tags.service")] = db
				assert.Nil(t, db.Get("replicateSourceDb"), db.Name)
				assert.Equal(t, "postgres", db.String("engine"), db.Name)
			}
			require.Len(t, primaries, len(config.Services))
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
					assert.Equal(t, run.key(rc.Name, keys.Data), db.String("kmsKeyId"), "%s uses its own region's data key", db.Name)
					assert.Equal(t, run.key(rc.Name, keys.Data), db.String("performanceInsightsKmsKeyId"), db.Name)
					for _, k := range []string{"engine", "dbName", "backupRetentionPeriod"} {
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
			assert.Equal(t, (len(run.cfg.Regions)-1)*len(config.Services), replicas)
		})
	}
}

// The databases carry the configured tuning (what is true of every
// database, such as gp3, TLS-only parameters or no public access, is the
// policy pack's: policies/rules).
func TestDatabaseTuningFollowsTheConfig(t *testing.T) {
	run := planStack(t, "prod")
	for _, db := range run.inv.OfType(rdsInstance) {
		assert.Equal(t, float64(run.cfg.Database.MonitoringIntervalSeconds), db.Get("monitoringInterval"), db.Name)
		assert.Contains(t, db.String("monitoringRoleArn"), ":role/", db.Name)
		assert.Equal(t, []any{"postgresql"}, db.Get("enabledCloudwatchLogsExports"), db.Name)
		if db.Get("replicateSourceDb") == nil {
			assert.Equal(t, db.String("identifier")+"-final", db.String("finalSnapshotIdentifier"), "prod keeps a final snapshot named after the instance")
		}
	}
	for _, pg := range run.inv.OfType("aws:rds/parameterGroup:ParameterGroup") {
		params := map[string]string{}
		for _, p := range pg.Get("parameters").([]any) {
			m := p.(map[string]any)
			params[m["name"].(string)] = m["value"].(string)
		}
		assert.Equal(t, fmt.Sprint(run.cfg.Database.SlowStatementMs), params["log_min_duration_statement"], pg.Name)
		assert.Equal(t, "postgres"+run.cfg.Database.EngineVersion, pg.String("family"))
	}
	for _, role := range run.inv.OfType("aws:iam/role:Role") {
		if strings.Contains(role.Name, "-db-monitoring") {
			assert.Contains(t, role.String("assumeRolePolicy"), "monitoring.rds.amazonaws.com")
			assert.Contains(t, role.String("assumeRolePolicy"), run.cfg.AccountID, "trust is scoped to the account")
		}
	}
	// dev takes the cheap choices the config asks for; prod's durability
	// is the pack's (enforce-rds-multi-az, enforce-rds-deletion-protection,
	// enforce-redis-failover, ...).
	dev := planStack(t, "dev")
	for _, db := range dev.inv.OfType(rdsInstance) {
		assert.Equal(t, false, db.Get("multiAz"), db.Name)
		assert.Equal(t, false, db.Get("deletionProtection"), db.Name)
		assert.Equal(t, true, db.Get("skipFinalSnapshot"), db.Name)
		assert.True(t, strings.HasPrefix(db.String("instanceClass"), "db.t4g."), "dev uses burstable classes")
	}
	for _, g := range dev.inv.OfType(redisGroup) {
		assert.Equal(t, float64(1), g.Get("numCacheClusters"), g.Name)
		assert.Equal(t, false, g.Get("automaticFailoverEnabled"), g.Name)
	}
	for _, s := range dev.inv.OfType("aws:secretsmanager/secret:Secret") {
		assert.Equal(t, float64(0), s.Get("recoveryWindowInDays"), "dev deletes at once: %s", s.Name)
	}
}

// Protected environments copy the primaries' automated backups into the
// first region after the master, encrypted with that region's key.
func TestBackupCopiesInTheFirstReplicaRegion(t *testing.T) {
	const token = "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
	prod := planStack(t, "prod")
	copies := prod.inv.OfType(token)
	require.Len(t, copies, len(config.Services))
	for _, c := range copies {
		assert.Equal(t, "eu-west-1", c.Region, "the first region after the master")
		assert.True(t, strings.HasPrefix(c.String("sourceDbInstanceArn"), fmt.Sprintf("arn:aws:rds:%s:%s:db:ecommerce-prod-%s-", prod.cfg.MasterRegion, prod.cfg.AccountID, prod.cfg.MasterRegion)), c.Name)
		assert.Equal(t, prod.key("eu-west-1", keys.Data), c.String("kmsKeyId"), c.Name)
		assert.Equal(t, float64(prod.cfg.Database.BackupRetentionDays), c.Get("retentionPeriod"), c.Name)
	}
	assert.Empty(t, planStack(t, "dev").inv.OfType(token), "dev has one region and no copies")
}

// changedResources lists the names of resources whose inputs differ
// between two plans of the same stack (matched by URN), and those only in
// one of them.
func changedResources(t *testing.T, before, after *plan.Inventory) []string {
	t.Helper()
	inputs := func(r *plan.Resource) string {
		b, err := json.Marshal(plan.Redact(r.Inputs))
		require.NoError(t, err)
		return string(b)
	}
	var diff []string
	for _, r := range after.Resources {
		old := before.Lookup(r.URN)
		if old == nil || inputs(old) != inputs(r) {
			diff = append(diff, r.Name)
		}
	}
	for _, r := range before.Resources {
		if after.Lookup(r.URN) == nil {
			diff = append(diff, r.Name)
		}
	}
	return diff
}

// A service's database can be sized on its own; the change touches that
// service's instances (primary and replicas) and nothing else.
func TestOneServiceSizingTouchesOnlyIt(t *testing.T) {
	base := planStack(t, "prod")
	for _, db := range base.inv.OfType(rdsInstance) {
		if db.String("tags.service") == "order" {
			assert.Equal(t, "db.r6g.2xlarge", db.String("instanceClass"), db.Name)
			assert.Equal(t, float64(500), db.Get("allocatedStorage"), db.Name)
		} else {
			assert.Equal(t, base.cfg.Database.InstanceClass, db.String("instanceClass"), db.Name)
		}
	}
	changed := planChanged(t, "prod", func(cfg map[string]string) {
		var d map[string]any
		require.NoError(t, json.Unmarshal([]byte(cfg["ecommerce:database"]), &d))
		d["perService"].(map[string]any)["order"].(map[string]any)["instanceClass"] = "db.r7g.2xlarge"
		b, err := json.Marshal(d)
		require.NoError(t, err)
		cfg["ecommerce:database"] = string(b)
	})
	assert.ElementsMatch(t, []string{"us-east-1-db-order", "eu-west-1-db-order", "ap-south-1-db-order"}, changedResources(t, base.inv, changed.inv))
}
