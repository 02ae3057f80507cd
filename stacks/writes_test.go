package stacks_test

// The multi-region write path (issue #14): every region serves from its own
// database; only the master region holds write credentials, writing
// consumers and topics; a failover moves all of it.

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/appconfig"
	"github.com/example/ecommerce-platform/components/database"
	"github.com/example/ecommerce-platform/stacks/config"
)

// Outside the master region no service holds a credential that could
// write: its secret names the local replica as the read-only role, and
// neither the read-write role's nor the schema owner's password appears in
// any secret of that region.
func TestOnlyTheMasterRegionHoldsWriteCredentials(t *testing.T) {
	for _, master := range []string{"us-east-1", "eu-west-1"} {
		run := planChanged(t, "prod", setMaster(master))
		writePasswords := map[string]bool{}
		for _, v := range run.inv.OfType(secretVer) {
			if !strings.HasSuffix(v.Name, "-migrate") {
				continue
			}
			var env map[string]string
			require.NoError(t, json.Unmarshal([]byte(secretInput(t, v, "secretString")), &env), v.Name)
			owner, err := url.Parse(env[appconfig.EnvDatabaseURL])
			require.NoError(t, err)
			pw, _ := owner.User.Password()
			writePasswords[pw] = true
			writePasswords[env[appconfig.EnvAppDBPassword]] = true
		}
		require.Len(t, writePasswords, 2*len(config.Services))
		for _, v := range run.inv.OfType(secretVer) {
			if v.Region == master {
				continue
			}
			doc := secretInput(t, v, "secretString")
			for pw := range writePasswords {
				assert.NotContains(t, doc, pw, "%s (%s) holds a credential that can write", v.Name, v.Region)
			}
			var env map[string]string
			require.NoError(t, json.Unmarshal([]byte(doc), &env), v.Name)
			u, err := url.Parse(env[appconfig.EnvDatabaseURL])
			require.NoError(t, err)
			svc := env[appconfig.EnvServiceName]
			assert.Equal(t, database.ReaderUser(svc), u.User.Username(), v.Name)
			assert.True(t, strings.HasPrefix(u.Host, "ecommerce-prod-"+v.Region+"-"+svc+"."), "%s reads its own region's replica: %s", v.Name, u.Host)
			assert.NotContains(t, env, appconfig.EnvTopicARN, "%s: only the master region publishes", v.Name)
		}
		for key, env := range run.env {
			region, _, _ := strings.Cut(key, "/")
			want := appconfig.RoleReplica
			if region == master {
				want = appconfig.RolePrimary
			}
			assert.Equal(t, want, env[appconfig.EnvDatabaseRole], "%s with master %s", key, master)
		}
	}
}

// No path to the primaries: a region's databases admit only its own nodes
// (no CIDR, no other region's group), and nothing in a region other than
// the master takes anything from the master's databases but its replicas
// (everything else there reads the local replica).
func TestNoRegionNeedsAnotherRegionsPrimary(t *testing.T) {
	run := planStack(t, "prod")
	inv := run.inv
	for _, rule := range inv.OfType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
		if rule.Get("fromPort") != float64(database.Port) {
			continue
		}
		assert.Nil(t, rule.Get("cidrIpv4"), "%s admits no CIDR", rule.Name)
		assert.Nil(t, rule.Get("prefixListId"), "%s admits no prefix list", rule.Name)
		assert.Equal(t, run.nodeSG[rule.Region], rule.String("referencedSecurityGroupId"), "%s admits only %s's nodes", rule.Name, rule.Region)
	}
	var primaries []string
	for _, db := range inv.OfType(rdsInstance) {
		if db.Region == run.cfg.MasterRegion {
			primaries = append(primaries, db.URN)
		}
	}
	require.Len(t, primaries, len(config.Services))
	for _, r := range inv.Resources {
		if !r.Custom || r.Region == "" || r.Region == run.cfg.MasterRegion || r.Type == rdsInstance ||
			r.Type == "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication" {
			continue
		}
		for _, urn := range primaries {
			if slices.Contains(r.DependsOn, urn) {
				t.Errorf("%s %s (%s) depends on the master primary %s", r.Type, r.Name, r.Region, urn)
			}
		}
	}
}

// Each event's database effect happens once: the consumers that change a
// database handle it in the master region only, the regional consumers in
// every region. EVENT_HANDLERS says so to each service, and the queues and
// subscriptions deliver exactly that; a failover moves the writing
// consumers with the primaries.
func TestEachEventsEffectHappensOnce(t *testing.T) {
	for _, master := range []string{"us-east-1", "eu-west-1"} {
		run := planChanged(t, "prod", setMaster(master))
		handlers := map[string][]string{} // "<region>/<svc>" -> events
		for key, env := range run.env {
			if h := env[appconfig.EnvEventHandlers]; h != "" {
				handlers[key] = strings.Split(h, ",")
			}
		}
		for _, name := range run.cfg.EventNames() {
			ev := run.cfg.Events[name]
			for _, rc := range run.cfg.Regions {
				for _, svc := range config.Services {
					got := slices.Contains(handlers[rc.Name+"/"+svc], name)
					switch {
					case slices.Contains(ev.RegionalConsumers, svc):
						assert.True(t, got, "%s handles %s in %s (regional)", svc, name, rc.Name)
					case slices.Contains(ev.Consumers, svc):
						assert.Equal(t, rc.Name == master, got, "%s handles %s only in the master region %s, not %s", svc, name, master, rc.Name)
					default:
						assert.False(t, got, "%s does not handle %s", svc, name)
					}
				}
			}
		}
		// The shipped event map, spelled out.
		other := "us-east-1"
		if master == other {
			other = "eu-west-1"
		}
		assert.Equal(t, []string{"order.cancelled", "order.placed", "product.updated"}, handlers[master+"/product"])
		assert.Equal(t, []string{"order.cancelled", "stock.reserved"}, handlers[master+"/order"])
		assert.Equal(t, []string{"user.registered"}, handlers[master+"/user"])
		assert.Equal(t, []string{"product.updated"}, handlers[other+"/product"])
		assert.Empty(t, handlers[other+"/order"])
		assert.Empty(t, handlers[other+"/user"])

		// Every subscription delivers to a queue of a service that handles
		// each filtered event in that queue's region.
		for _, s := range run.inv.OfType(snsSub) {
			endpoint := s.String("endpoint") // arn:aws:sqs:<region>:<acct>:<stack>-<region>-<svc>
			parts := strings.Split(endpoint, ":")
			region, queue := parts[3], parts[5]
			svc := queue[strings.LastIndex(queue, "-")+1:]
			var filter map[string][]string
			require.NoError(t, json.Unmarshal([]byte(s.String("filterPolicy")), &filter), s.Name)
			for _, ev := range filter["event_type"] {
				assert.Contains(t, handlers[region+"/"+svc], ev, "%s delivers %s to %s in %s", s.Name, ev, svc, region)
			}
		}
	}
}
