package stacks

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Services are the bundled services. Each owns one database, one runtime
// secret per region and, when it consumes events, one queue per region.
var Services = []string{"auth", "user", "product", "order"}

// TokenIssuer is the service that signs access tokens (the others verify
// them through its JWKS); it alone gets the signing key.
const TokenIssuer = "auth"

// DataConfig holds the database, cache and messaging settings.
type DataConfig struct {
	Database  DatabaseConfig
	Cache     CacheConfig
	Messaging MessagingConfig
	// Events maps each domain event ("order.placed") to who publishes and
	// who consumes it: the single declaration topics, queues, filter
	// policies and runtime settings are derived from.
	Events map[string]EventConfig
}

// DatabaseConfig sizes every service's PostgreSQL instance (primary and
// replicas alike).
type DatabaseConfig struct {
	EngineVersion                    string `json:"engineVersion"`
	InstanceClass                    string `json:"instanceClass"`
	AllocatedStorageGiB              int    `json:"allocatedStorageGiB"`
	MaxAllocatedStorageGiB           int    `json:"maxAllocatedStorageGiB"`
	MultiAZ                          bool   `json:"multiAz"`
	BackupRetentionDays              int    `json:"backupRetentionDays"`
	MonitoringIntervalSeconds        int    `json:"monitoringIntervalSeconds"`
	PerformanceInsightsRetentionDays int    `json:"performanceInsightsRetentionDays"`
	SlowStatementMs                  int    `json:"slowStatementMs"`
	// PerService overrides the sizing of some services' instances (and
	// their replicas); a zero field keeps the shared value.
	PerService map[string]DatabaseSizing `json:"perService,omitempty"`
}

// DatabaseSizing is the part of the database settings a service may
// override.
type DatabaseSizing struct {
	InstanceClass          string `json:"instanceClass,omitempty"`
	AllocatedStorageGiB    int    `json:"allocatedStorageGiB,omitempty"`
	MaxAllocatedStorageGiB int    `json:"maxAllocatedStorageGiB,omitempty"`
}

// SizingFor returns a service's sizing: its override over the shared one.
func (d DatabaseConfig) SizingFor(service string) DatabaseSizing {
	out := DatabaseSizing{d.InstanceClass, d.AllocatedStorageGiB, d.MaxAllocatedStorageGiB}
	o := d.PerService[service]
	if o.InstanceClass != "" {
		out.InstanceClass = o.InstanceClass
	}
	if o.AllocatedStorageGiB != 0 {
		out.AllocatedStorageGiB = o.AllocatedStorageGiB
	}
	if o.MaxAllocatedStorageGiB != 0 {
		out.MaxAllocatedStorageGiB = o.MaxAllocatedStorageGiB
	}
	return out
}

// CacheConfig sizes the Redis replication group of every region.
type CacheConfig struct {
	EngineVersion         string `json:"engineVersion"`
	NodeType              string `json:"nodeType"`
	Replicas              int    `json:"replicas"`
	SnapshotRetentionDays int    `json:"snapshotRetentionDays"`
	SnapshotWindow        string `json:"snapshotWindow"`
	MaintenanceWindow     string `json:"maintenanceWindow"`
}

// MessagingConfig tunes the consumer queues.
type MessagingConfig struct {
	MaxReceiveCount          int `json:"maxReceiveCount"`
	VisibilityTimeoutSeconds int `json:"visibilityTimeoutSeconds"`
	MessageRetentionSeconds  int `json:"messageRetentionSeconds"`
}

// EventConfig is one entry of the event map.
type EventConfig struct {
	Publishers []string `json:"publishers"`
	Consumers  []string `json:"consumers"`
}

// Data key names.
const (
	KeyDatabase  = "database"
	KeyCache     = "cache"
	KeyMessaging = "messaging"
	KeyEvents    = "events"
)

// Allowed values of the data settings. Fixed lists keep the program offline
// and turn a typo into an error before anything is created.
var (
	// PostgresMajorVersions are the majors RDS supports; the minor is left
	// to RDS (auto minor upgrades) so the program never fights it.
	PostgresMajorVersions = []string{"14", "15", "16", "17"}
	// DBInstanceFamilies are the RDS for PostgreSQL instance families.
	DBInstanceFamilies = []string{"t3", "t4g", "m5", "m6g", "m6gd", "m6i", "m7g", "m7i", "r5", "r6g", "r6gd", "r6i", "r7g", "r7i", "x2g"}
	// RedisEngineVersions are the ElastiCache Redis OSS versions with
	// in-transit encryption, auth tokens and KMS at rest.
	RedisEngineVersions = []string{"6.2", "7.0", "7.1"}
	// CacheNodeFamilies are the ElastiCache node families.
	CacheNodeFamilies = []string{"t3", "t4g", "m5", "m6g", "m7g", "r5", "r6g", "r7g"}
	// MonitoringIntervals are the enhanced monitoring intervals RDS
	// accepts; 0 (off) is not offered: monitoring is always on.
	MonitoringIntervals = []int{1, 5, 10, 15, 30, 60}
)

const (
	// MaxCacheReplicas is the ElastiCache limit of replicas per primary.
	MaxCacheReplicas = 5
	// MinProdBackupDays keeps a week of point-in-time recovery in prod.
	MinProdBackupDays = 7
)

var (
	dbClassPattern      = regexp.MustCompile(`^db\.([a-z0-9]+)\.([a-z0-9]+)$`)
	cacheNodePattern    = regexp.MustCompile(`^cache\.([a-z0-9]+)\.([a-z0-9]+)$`)
	eventNamePattern    = regexp.MustCompile(`^[a-z][a-z0-9]*(\.[a-z][a-z0-9_]*)+$`)
	maintWindowPattern  = regexp.MustCompile(`^(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]-(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]$`)
	dailyWindowPattern  = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$`)
	validPIRetentionMsg = "7, or a multiple of 31 up to 731"
)

func dataKeys() []string { return []string{KeyDatabase, KeyCache, KeyMessaging, KeyEvents} }

func parseData(r *reader, c *Config) {
	r.object(KeyDatabase, &c.Data.Database)
	r.object(KeyCache, &c.Data.Cache)
	r.object(KeyMessaging, &c.Data.Messaging)
	r.object(KeyEvents, &c.Data.Events)
}

func parsedDataValidate(c *Config, p *problems) {
	validateDatabase(c, p)
	validateCache(c, p)
	validateMessaging(c, p)
	validateEvents(c, p)
}

func validateDatabase(c *Config, p *problems) {
	d := c.Data.Database
	key := func(f string) string { return KeyDatabase + "." + f }
	if !oneOf(d.EngineVersion, PostgresMajorVersions) {
		p.add(key("engineVersion"), "%q is not supported; allowed: a PostgreSQL major version, %s", d.EngineVersion, quoteAll(PostgresMajorVersions))
	}
	validateSizing(KeyDatabase, DatabaseSizing{d.InstanceClass, d.AllocatedStorageGiB, d.MaxAllocatedStorageGiB}, p)
	for _, svc := range sortedKeys(d.PerService) {
		base := fmt.Sprintf("%s.perService.%s", KeyDatabase, svc)
		if !oneOf(svc, Services) {
			p.add(base, "%q is not a service; allowed: %s", svc, quoteAll(Services))
			continue
		}
		validateSizing(base, d.SizingFor(svc), p)
	}
	// Backups cannot be off: cross-region read replicas and point-in-time
	// recovery both need them.
	if d.BackupRetentionDays < 1 || d.BackupRetentionDays > 35 {
		p.add(key("backupRetentionDays"), "%d is out of range; allowed: 1 to 35", d.BackupRetentionDays)
	} else if c.Environment == "prod" && d.BackupRetentionDays < MinProdBackupDays {
		p.add(key("backupRetentionDays"), "%d is too short for prod; allowed: %d to 35", d.BackupRetentionDays, MinProdBackupDays)
	}
	if c.Environment == "prod" && !d.MultiAZ {
		p.add(key("multiAz"), "must be true in prod so losing one zone does not take the databases down")
	}
	if !oneOf(d.MonitoringIntervalSeconds, MonitoringIntervals) {
		p.add(key("monitoringIntervalSeconds"), "%d is not allowed; allowed: %v", d.MonitoringIntervalSeconds, MonitoringIntervals)
	}
	if pi := d.PerformanceInsightsRetentionDays; pi != 7 && (pi < 31 || pi > 731 || pi%31 != 0) {
		p.add(key("performanceInsightsRetentionDays"), "%d is not allowed; allowed: %s", pi, validPIRetentionMsg)
	}
	if d.SlowStatementMs < 1 || d.SlowStatementMs > 3_600_000 {
		p.add(key("slowStatementMs"), "%d is out of range; allowed: 1 to 3600000 milliseconds", d.SlowStatementMs)
	}
}

func validateSizing(base string, z DatabaseSizing, p *problems) {
	key := func(f string) string { return base + "." + f }
	if m := dbClassPattern.FindStringSubmatch(z.InstanceClass); m == nil {
		p.add(key("instanceClass"), "%q is not an RDS instance class such as db.r6g.large", z.InstanceClass)
	} else if !oneOf(m[1], DBInstanceFamilies) {
		p.add(key("instanceClass"), "%q has unknown family %q; allowed families: %s", z.InstanceClass, m[1], strings.Join(DBInstanceFamilies, ", "))
	}
	if z.AllocatedStorageGiB < 20 || z.AllocatedStorageGiB > 65536 {
		p.add(key("allocatedStorageGiB"), "%d is out of range; allowed: 20 to 65536 (gp3)", z.AllocatedStorageGiB)
	}
	// RDS requires the autoscaling ceiling at least 10% above the start.
	if z.MaxAllocatedStorageGiB > 65536 || z.MaxAllocatedStorageGiB*10 < z.AllocatedStorageGiB*11 {
		p.add(key("maxAllocatedStorageGiB"), "%d must be at least 10%% above allocatedStorageGiB (%d) and at most 65536", z.MaxAllocatedStorageGiB, z.AllocatedStorageGiB)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func validateCache(c *Config, p *problems) {
	k := c.Data.Cache
	key := func(f string) string { return KeyCache + "." + f }
	if !oneOf(k.EngineVersion, RedisEngineVersions) {
		p.add(key("engineVersion"), "%q is not supported; allowed: %s", k.EngineVersion, quoteAll(RedisEngineVersions))
	}
	if m := cacheNodePattern.FindStringSubmatch(k.NodeType); m == nil {
		p.add(key("nodeType"), "%q is not an ElastiCache node type such as cache.r7g.large", k.NodeType)
	} else if !oneOf(m[1], CacheNodeFamilies) {
		p.add(key("nodeType"), "%q has unknown family %q; allowed families: %s", k.NodeType, m[1], strings.Join(CacheNodeFamilies, ", "))
	}
	if k.Replicas < 0 || k.Replicas > MaxCacheReplicas {
		p.add(key("replicas"), "%d is out of range; allowed: 0 to %d", k.Replicas, MaxCacheReplicas)
	} else if c.Environment == "prod" && k.Replicas < 1 {
		p.add(key("replicas"), "prod needs at least 1 replica, so the cache fails over to another zone")
	}
	if k.SnapshotRetentionDays < 0 || k.SnapshotRetentionDays > 35 {
		p.add(key("snapshotRetentionDays"), "%d is out of range; allowed: 0 to 35", k.SnapshotRetentionDays)
	} else if c.Environment == "prod" && k.SnapshotRetentionDays < 1 {
		p.add(key("snapshotRetentionDays"), "prod keeps at least 1 daily snapshot; allowed: 1 to 35")
	}
	snapOK := dailyWindowPattern.MatchString(k.SnapshotWindow)
	maintOK := maintWindowPattern.MatchString(k.MaintenanceWindow)
	if !snapOK {
		p.add(key("snapshotWindow"), "%q is not a UTC window such as 03:00-04:00", k.SnapshotWindow)
	}
	if !maintOK {
		p.add(key("maintenanceWindow"), "%q is not a weekly UTC window such as sun:05:00-sun:06:00", k.MaintenanceWindow)
	}
	if !snapOK || !maintOK {
		return
	}
	// ElastiCache refuses these only at apply time; say so now.
	snap, maint := dailyWindow(k.SnapshotWindow), weeklyWindow(k.MaintenanceWindow)
	if n := countTrue(snap[:minutesPerDay]); n < 60 {
		p.add(key("snapshotWindow"), "%q lasts %d minutes; allowed: at least 60", k.SnapshotWindow, n)
	}
	if n := countTrue(maint[:]); n < 60 || n > 24*60 {
		p.add(key("maintenanceWindow"), "%q lasts %d minutes; allowed: 60 minutes to 24 hours", k.MaintenanceWindow, n)
	}
	for m := range snap {
		if snap[m] && maint[m] {
			p.add(key("snapshotWindow"), "%q overlaps maintenanceWindow %q; ElastiCache requires them apart", k.SnapshotWindow, k.MaintenanceWindow)
			break
		}
	}
}

const (
	minutesPerDay  = 24 * 60
	minutesPerWeek = 7 * minutesPerDay
)

var weekdays = map[string]int{"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}

// clock reads "hh:mm" (already pattern-checked) as minutes after midnight.
func clock(s string) int {
	var h, m int
	_, _ = fmt.Sscanf(s, "%d:%d", &h, &m)
	return h*60 + m
}

// markRange marks [from, to) on a circular week of minutes.
func markRange(week *[minutesPerWeek]bool, from, to int) {
	for m := from; m != to; m = (m + 1) % minutesPerWeek {
		week[m] = true
	}
}

// dailyWindow marks "hh:mm-hh:mm" on every day of the week.
func dailyWindow(s string) *[minutesPerWeek]bool {
	var week [minutesPerWeek]bool
	from, to, _ := strings.Cut(s, "-")
	for d := 0; d < 7; d++ {
		markRange(&week, d*minutesPerDay+clock(from), (d*minutesPerDay+clock(to))%minutesPerWeek)
	}
	return &week
}

// weeklyWindow marks "ddd:hh:mm-ddd:hh:mm".
func weeklyWindow(s string) *[minutesPerWeek]bool {
	var week [minutesPerWeek]bool
	from, to, _ := strings.Cut(s, "-")
	at := func(x string) int { return weekdays[x[:3]]*minutesPerDay + clock(x[4:]) }
	markRange(&week, at(from), at(to))
	return &week
}

func countTrue(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

func validateMessaging(c *Config, p *problems) {
	m := c.Data.Messaging
	key := func(f string) string { return KeyMessaging + "." + f }
	if m.MaxReceiveCount < 1 || m.MaxReceiveCount > 1000 {
		p.add(key("maxReceiveCount"), "%d is out of range; allowed: 1 to 1000", m.MaxReceiveCount)
	}
	if m.VisibilityTimeoutSeconds < 0 || m.VisibilityTimeoutSeconds > 43200 {
		p.add(key("visibilityTimeoutSeconds"), "%d is out of range; allowed: 0 to 43200", m.VisibilityTimeoutSeconds)
	}
	if m.MessageRetentionSeconds < 60 || m.MessageRetentionSeconds > 1209600 {
		p.add(key("messageRetentionSeconds"), "%d is out of range; allowed: 60 to 1209600 (14 days)", m.MessageRetentionSeconds)
	}
}

func validateEvents(c *Config, p *problems) {
	if len(c.Data.Events) == 0 {
		p.add(KeyEvents, "must declare at least one event")
		return
	}
	for _, name := range c.Data.EventNames() {
		ev := c.Data.Events[name]
		base := fmt.Sprintf("%s.%s", KeyEvents, name)
		if !eventNamePattern.MatchString(name) {
			p.add(base, "%q is not an event name such as order.placed (lower case, dot-separated)", name)
		}
		// A consumer without a producer would wait on a topic nobody
		// writes to; an event nobody consumes is allowed (audit, future).
		if len(ev.Publishers) == 0 {
			p.add(base+".publishers", "must name the service that publishes %s; allowed: %s", name, quoteAll(Services))
		}
		checkServices := func(field string, list []string) {
			seen := map[string]bool{}
			for i, s := range list {
				k := fmt.Sprintf("%s.%s[%d]", base, field, i)
				if !oneOf(s, Services) {
					p.add(k, "%q is not a service; allowed: %s", s, quoteAll(Services))
				}
				if seen[s] {
					p.add(k, "%q is listed twice", s)
				}
				seen[s] = true
			}
		}
		checkServices("publishers", ev.Publishers)
		checkServices("consumers", ev.Consumers)
	}
}

// EventNames returns the declared events in a stable order.
func (d *DataConfig) EventNames() []string { return sortedKeys(d.Events) }
