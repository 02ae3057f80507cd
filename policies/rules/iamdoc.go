package rules

import (
	"strings"
)

// statement is one IAM policy statement, normalised: single values become
// one-element lists.
type statement struct {
	Sid        string
	Effect     string
	Principals map[string][]string // "AWS", "Service", "Federated", "*" -> values
	Actions    []string
	NotAction  bool
	Resources  []string
	Condition  map[string]map[string][]string // operator -> key -> values
}

// policyDoc parses a policy document input (a JSON string or an object).
// ok is false when the document is unknown or not a policy.
func policyDoc(v Value) ([]statement, bool) {
	doc, ok := v.JSON()
	if !ok {
		return nil, false
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, false
	}
	var raw []any
	switch s := m["Statement"].(type) {
	case []any:
		raw = s
	case map[string]any:
		raw = []any{s}
	default:
		return nil, false
	}
	out := make([]statement, 0, len(raw))
	for _, r := range raw {
		sm, ok := r.(map[string]any)
		if !ok {
			continue
		}
		st := statement{Principals: map[string][]string{}, Condition: map[string]map[string][]string{}}
		st.Sid, _ = sm["Sid"].(string)
		st.Effect, _ = sm["Effect"].(string)
		switch p := sm["Principal"].(type) {
		case string:
			st.Principals["*"] = []string{p}
		case map[string]any:
			for k, v := range p {
				st.Principals[k] = stringList(v)
			}
		}
		if a, ok := sm["Action"]; ok {
			st.Actions = stringList(a)
		} else if a, ok := sm["NotAction"]; ok {
			st.Actions = stringList(a)
			st.NotAction = true
		}
		st.Resources = stringList(sm["Resource"])
		if c, ok := sm["Condition"].(map[string]any); ok {
			for op, kv := range c {
				km, ok := kv.(map[string]any)
				if !ok {
					continue
				}
				st.Condition[op] = map[string][]string{}
				for k, v := range km {
					st.Condition[op][k] = stringList(v)
				}
			}
		}
		out = append(out, st)
	}
	return out, true
}

func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case bool:
		if x {
			return []string{"true"}
		}
		return []string{"false"}
	}
	return nil
}

// allows tells whether the statement is an Allow.
func (s statement) allows() bool { return strings.EqualFold(s.Effect, "Allow") }

// everyone tells whether the statement's principal is anyone at all.
func (s statement) everyone() bool {
	for _, v := range s.Principals["*"] {
		if v == "*" {
			return true
		}
	}
	for _, v := range s.Principals["AWS"] {
		if v == "*" {
			return true
		}
	}
	return false
}

// conditionKey returns the values of a condition key under any operator
// (keys compare case-insensitively, as IAM does).
func (s statement) conditionKey(key string) []string {
	var out []string
	for _, kv := range s.Condition {
		for k, v := range kv {
			if strings.EqualFold(k, key) {
				out = append(out, v...)
			}
		}
	}
	return out
}

// conditionOp returns the values of key under one operator (case-
// insensitive operator and key).
func (s statement) conditionOp(op, key string) ([]string, bool) {
	for o, kv := range s.Condition {
		if !strings.EqualFold(o, op) {
			continue
		}
		for k, v := range kv {
			if strings.EqualFold(k, key) {
				return v, true
			}
		}
	}
	return nil, false
}

// hasAction tells whether the statement's actions include one matching
// the pattern's service and name, wildcards included.
func (s statement) actionMatches(action string) bool {
	if s.NotAction {
		return true
	}
	for _, a := range s.Actions {
		if wildcardMatch(strings.ToLower(a), strings.ToLower(action)) {
			return true
		}
	}
	return false
}

// wildcardMatch matches IAM-style patterns with * and ?.
func wildcardMatch(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if wildcardMatch(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && wildcardMatch(pattern[1:], s[1:])
	default:
		return s != "" && s[0] == pattern[0] && wildcardMatch(pattern[1:], s[1:])
	}
}
