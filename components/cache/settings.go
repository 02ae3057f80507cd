package cache

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/example/ecommerce-platform/components/check"
)

// Limits ElastiCache enforces at apply time; checked here first.
var (
	// EngineVersions are the Redis OSS versions with in-transit
	// encryption, auth tokens and KMS at rest.
	EngineVersions = []string{"6.2", "7.0", "7.1"}
	// NodeFamilies are the ElastiCache node families.
	NodeFamilies = []string{"t3", "t4g", "m5", "m6g", "m7g", "r5", "r6g", "r7g"}
)

const (
	// MaxReplicas is the ElastiCache limit of replicas per primary.
	MaxReplicas = 5
	// MaxSnapshotDays is the longest snapshot retention.
	MaxSnapshotDays = 35
)

var (
	nodePattern        = regexp.MustCompile(`^cache\.([a-z0-9]+)\.([a-z0-9]+)$`)
	weeklyPattern      = regexp.MustCompile(`^(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]-(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]$`)
	dailyWindowPattern = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$`)
)

// Settings size the replication group. The stack configuration decodes
// its `cache` key straight into them.
type Settings struct {
	// EngineVersion of Redis OSS, e.g. "7.1".
	EngineVersion string `json:"engineVersion"`
	// NodeType, e.g. cache.r7g.large.
	NodeType string `json:"nodeType"`
	// Replicas is the number of read replicas of the primary, 0 to 5. With
	// at least one, the group is Multi-AZ with automatic failover.
	Replicas int `json:"replicas"`
	// SnapshotRetentionDays of daily snapshots; 0 takes none.
	SnapshotRetentionDays int `json:"snapshotRetentionDays"`
	// SnapshotWindow ("03:00-04:00") and MaintenanceWindow
	// ("sun:05:00-sun:06:00") in UTC.
	SnapshotWindow    string `json:"snapshotWindow"`
	MaintenanceWindow string `json:"maintenanceWindow"`
}

// Check returns what ElastiCache would refuse, fields named as in the config.
func (s Settings) Check() []check.Problem {
	p := check.New("")
	if !slices.Contains(EngineVersions, s.EngineVersion) {
		p.Add("engineVersion", "%q is not supported; allowed: %s", s.EngineVersion, quoted(EngineVersions))
	}
	if m := nodePattern.FindStringSubmatch(s.NodeType); m == nil {
		p.Add("nodeType", "%q is not an ElastiCache node type such as cache.r7g.large", s.NodeType)
	} else if !slices.Contains(NodeFamilies, m[1]) {
		p.Add("nodeType", "%q has unknown family %q; allowed families: %s", s.NodeType, m[1], strings.Join(NodeFamilies, ", "))
	}
	if s.Replicas < 0 || s.Replicas > MaxReplicas {
		p.Add("replicas", "%d is out of range; allowed: 0 to %d", s.Replicas, MaxReplicas)
	}
	if s.SnapshotRetentionDays < 0 || s.SnapshotRetentionDays > MaxSnapshotDays {
		p.Add("snapshotRetentionDays", "%d is out of range; allowed: 0 to %d", s.SnapshotRetentionDays, MaxSnapshotDays)
	}
	snapOK := dailyWindowPattern.MatchString(s.SnapshotWindow)
	maintOK := weeklyPattern.MatchString(s.MaintenanceWindow)
	if !snapOK {
		p.Add("snapshotWindow", "%q is not a UTC window such as 03:00-04:00", s.SnapshotWindow)
	}
	if !maintOK {
		p.Add("maintenanceWindow", "%q is not a weekly UTC window such as sun:05:00-sun:06:00", s.MaintenanceWindow)
	}
	if !snapOK || !maintOK {
		return p.List()
	}
	// ElastiCache refuses these only at apply time; say so now.
	snap, maint := dailyWindow(s.SnapshotWindow), weeklyWindow(s.MaintenanceWindow)
	if n := countTrue(snap[:minutesPerDay]); n < 60 {
		p.Add("snapshotWindow", "%q lasts %d minutes; allowed: at least 60", s.SnapshotWindow, n)
	}
	if n := countTrue(maint[:]); n < 60 || n > 24*60 {
		p.Add("maintenanceWindow", "%q lasts %d minutes; allowed: 60 minutes to 24 hours", s.MaintenanceWindow, n)
	}
	for m := range snap {
		if snap[m] && maint[m] {
			p.Add("snapshotWindow", "%q overlaps maintenanceWindow %q; ElastiCache requires them apart", s.SnapshotWindow, s.MaintenanceWindow)
			break
		}
	}
	return p.List()
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

func quoted(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}
