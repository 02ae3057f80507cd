package edge

import "fmt"

// Failover roles of Route 53 failover records.
const (
	Primary   = "PRIMARY"
	Secondary = "SECONDARY"
)

// OriginRecord is one record of the global origin name (or of the
// standby name behind it), as the model decides. Pure data, so each
// model's answer is table-tested without the engine.
type OriginRecord struct {
	// Logical is the record's logical name: stable across a failover
	// (roles, not regions, name the failover records), so a new master
	// updates records in place.
	Logical string
	// Name is the DNS name it answers.
	Name string
	// SetIdentifier is set on routed records ("" for a plain alias).
	SetIdentifier string
	// Latency is the region of a latency record.
	Latency string
	// Failover is Primary or Secondary on failover records.
	Failover string
	// Target is the region whose load balancer the record aliases; ""
	// when it aliases AliasName (the standby set) instead.
	Target string
	// AliasName is the record in the same zone the record aliases when
	// Target is "".
	AliasName string
	// HealthCheck is the region whose health check the record carries;
	// "" for none (a plain alias, or an alias that evaluates its target's
	// health: the standby set's).
	HealthCheck string
}

// StandbyHost is the name the secondary failover record points at when
// more than one region stands by: latency records across the standbys.
func StandbyHost(apiHost string) string { return "standby." + OriginHost(apiHost) }

// OriginRecords plans the global origin name's records for a model:
//
//   - single-region: one plain alias to the master's load balancer;
//   - active-active: a latency record per region, each tied to its
//     region's health check;
//   - primary-standby: a PRIMARY record to the master, tied to its health
//     check, and a SECONDARY record to the one standby (tied to its
//     check), or, with several standbys, to latency records across them
//     (each tied to its check; the SECONDARY evaluates their health).
//
// regions are every region, in any order; master is one of them.
func OriginRecords(model, master string, regions []string, apiHost string) ([]OriginRecord, error) {
	origin := OriginHost(apiHost)
	found := false
	var standbys []string
	for _, r := range regions {
		if r == master {
			found = true
			continue
		}
		standbys = append(standbys, r)
	}
	if !found {
		return nil, fmt.Errorf("edge: master region %q is not one of %v", master, regions)
	}
	if !RegionsAllowed(model, len(regions)) {
		return nil, fmt.Errorf("edge: model %q does not run on %d region(s)", model, len(regions))
	}
	switch model {
	case SingleRegion:
		return []OriginRecord{{Logical: "origin", Name: origin, Target: master}}, nil
	case ActiveActive:
		out := make([]OriginRecord, 0, len(regions))
		for _, r := range regions {
			out = append(out, OriginRecord{Logical: "origin-" + r, Name: origin, SetIdentifier: r, Latency: r, Target: r, HealthCheck: r})
		}
		return out, nil
	case PrimaryStandby:
		out := []OriginRecord{{Logical: "origin-primary", Name: origin, SetIdentifier: "primary", Failover: Primary, Target: master, HealthCheck: master}}
		if len(standbys) == 1 {
			return append(out, OriginRecord{Logical: "origin-secondary", Name: origin, SetIdentifier: "secondary", Failover: Secondary, Target: standbys[0], HealthCheck: standbys[0]}), nil
		}
		standby := StandbyHost(apiHost)
		out = append(out, OriginRecord{Logical: "origin-secondary", Name: origin, SetIdentifier: "secondary", Failover: Secondary, AliasName: standby})
		for _, r := range standbys {
			out = append(out, OriginRecord{Logical: "standby-" + r, Name: standby, SetIdentifier: r, Latency: r, Target: r, HealthCheck: r})
		}
		return out, nil
	}
	return nil, fmt.Errorf("edge: unknown model %q; allowed: %v", model, Models)
}
