package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
)

// Setting is one tunable of a policy. Its JSON type is its default's: a
// list of strings, an integer, or an object keyed by environment.
type Setting struct {
	Name        string
	Description string
	Default     any
}

// Settings are a policy's resolved settings: defaults with the configured
// values over them.
type Settings map[string]any

// Strings returns a list setting.
func (s Settings) Strings(name string) []string {
	v, _ := s[name].([]string)
	return v
}

// Int returns an integer setting.
func (s Settings) Int(name string) int {
	v, _ := s[name].(int)
	return v
}

// EnvStrings returns the list for the environment from a setting keyed by
// environment; "*" is the fallback, and an unknown environment reads prod.
func (s Settings) EnvStrings(name, env string) []string {
	m, _ := s[name].(map[string][]string)
	if env == "" {
		env = "prod"
	}
	if v, ok := m[env]; ok {
		return v
	}
	return m["*"]
}

// EnvInt returns the integer for the environment, like EnvStrings.
func (s Settings) EnvInt(name, env string) (int, bool) {
	m, _ := s[name].(map[string]int)
	if env == "" {
		env = "prod"
	}
	if v, ok := m[env]; ok {
		return v, true
	}
	v, ok := m["*"]
	return v, ok
}

// PolicyConfig is one policy's configuration, as in a
// --policy-pack-config file.
type PolicyConfig struct {
	Level      Level
	Properties map[string]any
}

// Config maps policy names (or "all", for the level only) to their
// configuration.
type Config map[string]PolicyConfig

// ParseConfig reads a policy pack config file in the format `pulumi
// preview --policy-pack-config` takes: each key a policy name (or "all")
// whose value is an enforcement level string or an object with an optional
// "enforcementLevel" and the policy's settings. Unknown policies and
// settings, and values of the wrong type, are errors naming the key.
func ParseConfig(b []byte) (Config, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return Config{}, nil
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("policy config: not a JSON object: %w", err)
	}
	// The versioned file format nests the policies under "policies".
	if v, ok := raw["policies"].(map[string]any); ok {
		raw = v
	}
	out := Config{}
	var problems []string
	names := make([]string, 0, len(raw))
	for k := range raw {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		pc := PolicyConfig{}
		switch v := raw[name].(type) {
		case string:
			pc.Level = Level(v)
		case map[string]any:
			props := map[string]any{}
			for k, x := range v {
				if k == "enforcementLevel" {
					s, _ := x.(string)
					pc.Level = Level(s)
					continue
				}
				props[k] = x
			}
			pc.Properties = props
		default:
			problems = append(problems, fmt.Sprintf("%s: must be an enforcement level or an object", name))
			continue
		}
		if pc.Level != "" && pc.Level != Mandatory && pc.Level != Advisory && pc.Level != Disabled {
			problems = append(problems, fmt.Sprintf("%s.enforcementLevel: %q is not one of mandatory, advisory, disabled", name, pc.Level))
		}
		if name == "all" {
			if len(pc.Properties) > 0 {
				problems = append(problems, "all: takes only an enforcement level")
			}
			out[name] = pc
			continue
		}
		p := Find(name)
		if p == nil {
			problems = append(problems, fmt.Sprintf("%s: no such policy", name))
			continue
		}
		if _, err := p.Resolve(pc.Properties); err != nil {
			problems = append(problems, err.Error())
		}
		out[name] = pc
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("policy config: %s", strings.Join(problems, "; "))
	}
	return out, nil
}

// LevelOf returns the level a policy runs at under this config.
func (c Config) LevelOf(p *Policy) Level {
	if pc, ok := c[p.Name]; ok && pc.Level != "" {
		return pc.Level
	}
	if all, ok := c["all"]; ok && all.Level != "" {
		return all.Level
	}
	return p.Level
}

// Resolve returns the policy's settings: defaults, then props over them.
// A property the policy does not have, or of the wrong type, is an error
// naming the policy and the property.
func (p *Policy) Resolve(props map[string]any) (Settings, error) {
	out := Settings{}
	known := map[string]bool{}
	for _, s := range p.Settings {
		known[s.Name] = true
		out[s.Name] = s.Default
		v, ok := props[s.Name]
		if !ok || v == nil {
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", p.Name, s.Name, err)
		}
		typed := reflect.New(reflect.TypeOf(s.Default))
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(typed.Interface()); err != nil {
			return nil, fmt.Errorf("%s.%s: must be %s like %s", p.Name, s.Name, kindOf(s.Default), mustJSON(s.Default))
		}
		out[s.Name] = typed.Elem().Interface()
	}
	for k := range props {
		if !known[k] {
			var names []string
			for _, s := range p.Settings {
				names = append(names, s.Name)
			}
			allowed := "it has no settings"
			if len(names) > 0 {
				allowed = "its settings are " + strings.Join(names, ", ")
			}
			return nil, fmt.Errorf("%s.%s: no such setting (%s)", p.Name, k, allowed)
		}
	}
	return out, nil
}

func kindOf(v any) string {
	switch v.(type) {
	case []string:
		return "a list of strings"
	case int:
		return "an integer"
	case map[string][]string:
		return "an object of string lists keyed by environment"
	case map[string]int:
		return "an object of integers keyed by environment"
	}
	return fmt.Sprintf("%T", v)
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Schema returns the JSON schema of the policy's settings for the
// analyzer (nil when it has none), each with its default, so the engine
// fills in and validates the configuration.
func (p *Policy) Schema() map[string]map[string]any {
	if len(p.Settings) == 0 {
		return nil
	}
	out := map[string]map[string]any{}
	for _, s := range p.Settings {
		var def any
		// Plain JSON values only: the schema travels as a protobuf Struct.
		_ = json.Unmarshal([]byte(mustJSON(s.Default)), &def)
		prop := map[string]any{"description": s.Description, "default": def}
		switch s.Default.(type) {
		case []string:
			prop["type"] = "array"
			prop["items"] = map[string]any{"type": "string"}
		case int:
			prop["type"] = "integer"
		case map[string][]string:
			prop["type"] = "object"
			prop["additionalProperties"] = map[string]any{"type": "array", "items": map[string]any{"type": "string"}}
		case map[string]int:
			prop["type"] = "object"
			prop["additionalProperties"] = map[string]any{"type": "integer"}
		}
		out[s.Name] = prop
	}
	return out
}

// LoadConfig reads a policy config file; no file means the defaults.
func LoadConfig(path string) (Config, error) {
	if path == "" {
		return Config{}, nil
	}
	b, err := os.ReadFile(path) //nolint:gosec // reading the file the user named is the point
	if err != nil {
		return nil, fmt.Errorf("policy config: %w", err)
	}
	cfg, err := ParseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}
