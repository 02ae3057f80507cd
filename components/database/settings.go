package database

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/example/ecommerce-platform/components/check"
)

// Port is the PostgreSQL port every instance listens on.
const Port = 5432

// Username is the master user of every database; RDS refuses reserved
// words (such as "user") as a master user name. It owns the schema: only
// the migrations connect as it, never a serving process.
const Username = "app"

// AppUser is the login role a service serves with: read and write on its
// own tables, nothing else. Its migrations create it (with the password
// the stack generates) and grant it exactly that.
func AppUser(service string) string { return service + "_app" }

// ReaderUser is a service's read-only login role: SELECT on its tables and
// nothing else. The migrations create it on the primary; the replicas
// carry it, and regions other than the master serve with it.
func ReaderUser(service string) string { return service + "_reader" }

// CABundlePath is where the service images carry the RDS certificate
// authorities (Amazon's global bundle), so clients verify the server and
// its name (sslmode=verify-full).
const CABundlePath = "/etc/ssl/certs/rds-global-bundle.pem"

// Timing windows (UTC), chosen to not overlap: backups, then maintenance.
const (
	BackupWindow      = "03:00-04:00" //nolint:gosec // a time window, not a credential
	MaintenanceWindow = "sun:04:30-sun:05:30"
)

// Limits RDS enforces at apply time; checked here first.
var (
	// PostgresMajorVersions are the majors RDS supports; the minor is left
	// to RDS (auto minor upgrades) so the program never fights it.
	PostgresMajorVersions = []string{"14", "15", "16", "17"}
	// InstanceFamilies are the RDS for PostgreSQL instance families.
	InstanceFamilies = []string{"t3", "t4g", "m5", "m6g", "m6gd", "m6i", "m7g", "m7i", "r5", "r6g", "r6gd", "r6i", "r7g", "r7i", "x2g"}
	// MonitoringIntervals are the enhanced monitoring intervals RDS
	// accepts; 0 (off) is not offered: monitoring is always on.
	MonitoringIntervals = []int{1, 5, 10, 15, 30, 60}
)

// Storage limits of gp3 and backup retention limits of RDS.
const (
	MinStorageGiB      = 20
	MaxStorageGiB      = 65536
	MaxBackupDays      = 35
	MaxSlowStatementMs = 3_600_000
)

var classPattern = regexp.MustCompile(`^db\.([a-z0-9]+)\.([a-z0-9]+)$`)

// Sizing is what a service may size differently from the others.
type Sizing struct {
	// InstanceClass, e.g. db.r6g.large.
	InstanceClass string `json:"instanceClass,omitempty"`
	// AllocatedStorageGiB is the initial gp3 size; MaxAllocatedStorageGiB
	// the storage-autoscaling ceiling.
	AllocatedStorageGiB    int `json:"allocatedStorageGiB,omitempty"`
	MaxAllocatedStorageGiB int `json:"maxAllocatedStorageGiB,omitempty"`
}

// Over returns s with o's non-zero fields put over it.
func (s Sizing) Over(o Sizing) Sizing {
	if o.InstanceClass != "" {
		s.InstanceClass = o.InstanceClass
	}
	if o.AllocatedStorageGiB != 0 {
		s.AllocatedStorageGiB = o.AllocatedStorageGiB
	}
	if o.MaxAllocatedStorageGiB != 0 {
		s.MaxAllocatedStorageGiB = o.MaxAllocatedStorageGiB
	}
	return s
}

// Check returns what RDS would refuse in a complete sizing.
func (s Sizing) Check() []check.Problem {
	p := check.New("")
	if m := classPattern.FindStringSubmatch(s.InstanceClass); m == nil {
		p.Add("instanceClass", "%q is not an RDS instance class such as db.r6g.large", s.InstanceClass)
	} else if !slices.Contains(InstanceFamilies, m[1]) {
		p.Add("instanceClass", "%q has unknown family %q; allowed families: %s", s.InstanceClass, m[1], strings.Join(InstanceFamilies, ", "))
	}
	if s.AllocatedStorageGiB < MinStorageGiB || s.AllocatedStorageGiB > MaxStorageGiB {
		p.Add("allocatedStorageGiB", "%d is out of range; allowed: %d to %d (gp3)", s.AllocatedStorageGiB, MinStorageGiB, MaxStorageGiB)
	}
	// RDS requires the autoscaling ceiling at least 10% above the start.
	if s.MaxAllocatedStorageGiB > MaxStorageGiB || s.MaxAllocatedStorageGiB*10 < s.AllocatedStorageGiB*11 {
		p.Add("maxAllocatedStorageGiB", "%d must be at least 10%% above allocatedStorageGiB (%d) and at most %d", s.MaxAllocatedStorageGiB, s.AllocatedStorageGiB, MaxStorageGiB)
	}
	return p.List()
}

// Settings size and tune every instance. The stack configuration decodes
// its `database` key straight into them; Protect and LogRetentionDays come
// from the environment and the stack's log retention.
type Settings struct {
	// EngineVersion is the PostgreSQL major version, e.g. "16".
	EngineVersion string `json:"engineVersion"`
	// Sizing is every service's unless PerService says otherwise.
	Sizing
	// MultiAZ keeps a synchronous standby in another zone.
	MultiAZ bool `json:"multiAz"`
	// BackupRetentionDays of automated backups (primaries), 1 to 35.
	BackupRetentionDays int `json:"backupRetentionDays"`
	// MonitoringIntervalSeconds of enhanced monitoring.
	MonitoringIntervalSeconds int `json:"monitoringIntervalSeconds"`
	// PerformanceInsightsRetentionDays: 7 or a multiple of 31 up to 731.
	PerformanceInsightsRetentionDays int `json:"performanceInsightsRetentionDays"`
	// SlowStatementMs logs statements slower than this.
	SlowStatementMs int `json:"slowStatementMs"`
	// PerService overrides some services' sizing (primary and replicas
	// alike); a zero field keeps the shared value.
	PerService map[string]Sizing `json:"perService,omitempty"`

	// Protect turns on deletion protection and a final snapshot.
	Protect bool `json:"-"`
	// LogRetentionDays of the exported PostgreSQL logs.
	LogRetentionDays int `json:"-"`
}

// SizingFor resolves a service's sizing over the shared one.
func (s Settings) SizingFor(service string) Sizing { return s.Over(s.PerService[service]) } // the shared Sizing, overridden

// ValidPerformanceInsightsRetention reports whether RDS accepts days.
func ValidPerformanceInsightsRetention(days int) bool {
	return days == 7 || (days >= 31 && days <= 731 && days%31 == 0)
}

// Check returns what RDS would refuse, fields named as in the config. The
// sizing of every service in services is checked as it resolves.
func (s Settings) Check(services []string) []check.Problem {
	p := check.New("")
	if !slices.Contains(PostgresMajorVersions, s.EngineVersion) {
		p.Add("engineVersion", "%q is not supported; allowed: a PostgreSQL major version, %s", s.EngineVersion, quoted(PostgresMajorVersions))
	}
	p.Merge("", s.Sizing.Check())
	for _, svc := range sortedKeys(s.PerService) {
		field := "perService." + svc
		if !slices.Contains(services, svc) {
			p.Add(field, "%q is not a service; allowed: %s", svc, quoted(services))
			continue
		}
		p.Merge(field, s.SizingFor(svc).Check())
	}
	// Backups cannot be off: cross-region read replicas and point-in-time
	// recovery both need them.
	if s.BackupRetentionDays < 1 || s.BackupRetentionDays > MaxBackupDays {
		p.Add("backupRetentionDays", "%d is out of range; allowed: 1 to %d", s.BackupRetentionDays, MaxBackupDays)
	}
	if !slices.Contains(MonitoringIntervals, s.MonitoringIntervalSeconds) {
		p.Add("monitoringIntervalSeconds", "%d is not allowed; allowed: %v", s.MonitoringIntervalSeconds, MonitoringIntervals)
	}
	if !ValidPerformanceInsightsRetention(s.PerformanceInsightsRetentionDays) {
		p.Add("performanceInsightsRetentionDays", "%d is not allowed; allowed: 7, or a multiple of 31 up to 731", s.PerformanceInsightsRetentionDays)
	}
	if s.SlowStatementMs < 1 || s.SlowStatementMs > MaxSlowStatementMs {
		p.Add("slowStatementMs", "%d is out of range; allowed: 1 to %d milliseconds", s.SlowStatementMs, MaxSlowStatementMs)
	}
	return p.List()
}

// Identifier is the RDS identifier of a service's instance in a region. A
// replica keeps its identifier when promoted, so failover renames nothing.
func Identifier(displayName, service string) string {
	return displayName + "-" + service
}

// DBName is the database each service's instance holds. "user" and
// "order" are reserved words in PostgreSQL, hence the suffix.
func DBName(service string) string { return service + "db" }

// ParameterGroupFamily maps a major version ("16") to its family.
func ParameterGroupFamily(engineVersion string) (string, error) {
	if n, err := strconv.Atoi(engineVersion); err != nil || n < 10 {
		return "", fmt.Errorf("EngineVersion %q must be a PostgreSQL major version such as \"16\"", engineVersion)
	}
	return "postgres" + engineVersion, nil
}

// URL is a connection URL for a service's database as user. TLS with the
// server's certificate and host name verified against the RDS CAs: a
// client that only encrypts would talk to any server on the path.
func URL(address, user, password, service string) string {
	q := url.Values{"sslmode": {"verify-full"}, "sslrootcert": {CABundlePath}}
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(user, password),
		Host:     fmt.Sprintf("%s:%d", address, Port),
		Path:     "/" + DBName(service),
		RawQuery: q.Encode(),
	}
	return u.String()
}

// Endpoint is "host:5432", what the stack outputs name.
func Endpoint(address string) string { return fmt.Sprintf("%s:%d", address, Port) }

func quoted(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
