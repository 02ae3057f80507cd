package rules

import (
	"encoding/json"
	"net/url"
	"sort"
	"strings"
)

func sortedStrings(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// wafRule is the part of a web ACL rule the WAF policies read.
type wafRule struct {
	managed   string // managed rule group name, "" for other rules
	countOnly bool   // overridden to count: matches nothing is blocked
	rateLimit float64
	blocks    bool // the rule's action stops the request
}

// wafRules reads a web ACL's rules from `rules` or, when the program
// gives them as JSON, `ruleJson` (PascalCase, as the WAF API spells it).
// ok is false when they are unknown.
func wafRules(r *Resource) ([]wafRule, bool) {
	if js := r.Get("ruleJson"); !js.Missing() {
		s, ok := js.Str()
		if !ok {
			return nil, false
		}
		var raw []map[string]any
		if err := json.Unmarshal([]byte(s), &raw); err != nil {
			return nil, false
		}
		var out []wafRule
		for _, m := range raw {
			out = append(out, wafRuleOf(m, "Statement", "ManagedRuleGroupStatement", "Name", "OverrideAction", "Count",
				"RateBasedStatement", "Limit", "Action", []string{"Block", "Captcha", "Challenge"}))
		}
		return out, true
	}
	v := r.Get("rules")
	if v.Unknown() {
		return nil, false
	}
	var out []wafRule
	for _, it := range v.Items() {
		m, _ := plain(it.v).(map[string]any)
		out = append(out, wafRuleOf(m, "statement", "managedRuleGroupStatement", "name", "overrideAction", "count",
			"rateBasedStatement", "limit", "action", []string{"block", "captcha", "challenge"}))
	}
	return out, true
}

func wafRuleOf(m map[string]any, stmtK, managedK, nameK, overrideK, countK, rateK, limitK, actionK string, blocking []string) wafRule {
	var w wafRule
	stmt, _ := m[stmtK].(map[string]any)
	if mg, ok := stmt[managedK].(map[string]any); ok {
		w.managed, _ = mg[nameK].(string)
		if ov, ok := m[overrideK].(map[string]any); ok {
			_, w.countOnly = ov[countK]
		}
	}
	if rb, ok := stmt[rateK].(map[string]any); ok {
		switch l := rb[limitK].(type) {
		case float64:
			w.rateLimit = l
		case json.Number:
			w.rateLimit, _ = l.Float64()
		}
	}
	if act, ok := m[actionK].(map[string]any); ok {
		for _, b := range blocking {
			if _, ok := act[b]; ok {
				w.blocks = true
			}
		}
	}
	return w
}

// databaseURLs returns the PostgreSQL URLs in a runtime secret (a JSON
// object of environment variables), by key. It returns nothing when the
// value is not visible (unknown, or redacted in a plan file).
func databaseURLs(v Value) map[string]*url.URL {
	s, ok := v.Str()
	if !ok {
		return nil
	}
	var env map[string]any
	if err := json.Unmarshal([]byte(s), &env); err != nil {
		return nil
	}
	out := map[string]*url.URL{}
	for k, x := range env {
		str, ok := x.(string)
		if !ok || (!strings.HasPrefix(str, "postgres://") && !strings.HasPrefix(str, "postgresql://")) {
			continue
		}
		u, err := url.Parse(str)
		if err != nil {
			continue
		}
		out[k] = u
	}
	return out
}

// sortedKeys returns a map's keys in order, so findings come out stable.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
