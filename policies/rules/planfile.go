package rules

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// The placeholders a plan file holds instead of values it may not show.
const (
	SecretPlaceholder  = "[secret]"
	UnknownPlaceholder = "[unknown]"
	assetPlaceholder   = "[asset]"
)

type planFile struct {
	Stack     string `json:"stack"`
	Resources []struct {
		URN           string          `json:"urn"`
		Type          string          `json:"type"`
		Name          string          `json:"name"`
		Region        string          `json:"region"`
		Parent        string          `json:"parent"`
		DependsOn     *[]string       `json:"dependsOn"`
		IgnoreChanges *[]string       `json:"ignoreChanges"`
		Inputs        json.RawMessage `json:"inputs"`
	} `json:"resources"`
}

// ParsePlan reads the JSON inventory `make plan OUT=` writes. "[secret]"
// becomes a secret whose value is unknown and "[unknown]" an unknown value,
// so rules treat them as values they cannot see, not as violations. Files
// without urn, dependsOn or ignoreChanges (older plans, hand-written ones)
// are accepted: the rules that need them skip what they cannot check.
func ParsePlan(b []byte) (*Stack, error) {
	var f planFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("plan file: %w", err)
	}
	if len(f.Resources) == 0 {
		return nil, fmt.Errorf("plan file: no resources (want {\"stack\", \"resources\": [...]})")
	}
	s := &Stack{Name: f.Stack}
	for i, jr := range f.Resources {
		if jr.Type == "" || jr.Name == "" {
			return nil, fmt.Errorf("plan file: resources[%d]: type and name are required", i)
		}
		var inputs map[string]any
		if len(jr.Inputs) > 0 && string(jr.Inputs) != "null" {
			d := json.NewDecoder(bytes.NewReader(jr.Inputs))
			d.UseNumber()
			if err := d.Decode(&inputs); err != nil {
				return nil, fmt.Errorf("plan file: resources[%d] (%s %s): inputs: %w", i, jr.Type, jr.Name, err)
			}
		}
		urn := jr.URN
		if urn == "" {
			urn = jr.Type + "::" + jr.Name
		}
		r := &Resource{URN: urn, Type: jr.Type, Name: jr.Name, Parent: jr.Parent, Region: jr.Region, Inputs: fromPlain(inputs)}
		// A field the file leaves out is unknown, not empty: older and
		// hand-written files say nothing about ordering or ignoreChanges.
		if jr.DependsOn != nil {
			r.Dependencies, r.DependenciesKnown = *jr.DependsOn, true
		}
		if jr.IgnoreChanges != nil {
			r.IgnoreChanges, r.IgnoreChangesKnown = *jr.IgnoreChanges, true
		}
		s.Resources = append(s.Resources, r)
	}
	s.Environment = EnvironmentOf(s.Resources, s.Name)
	return s, nil
}

func fromPlain(m map[string]any) resource.PropertyMap {
	out := resource.PropertyMap{}
	for k, v := range m {
		out[resource.PropertyKey(k)] = fromPlainValue(v)
	}
	return out
}

func fromPlainValue(v any) resource.PropertyValue {
	switch x := v.(type) {
	case resource.PropertyValue:
		return x
	case nil:
		return resource.NewNullProperty()
	case int:
		return resource.NewNumberProperty(float64(x))
	case []string:
		arr := make([]resource.PropertyValue, len(x))
		for i, e := range x {
			arr[i] = resource.NewStringProperty(e)
		}
		return resource.NewArrayProperty(arr)
	case bool:
		return resource.NewBoolProperty(x)
	case json.Number:
		f, _ := x.Float64()
		return resource.NewNumberProperty(f)
	case float64:
		return resource.NewNumberProperty(x)
	case string:
		switch x {
		case SecretPlaceholder:
			return resource.MakeSecret(resource.MakeComputed(resource.NewStringProperty("")))
		case UnknownPlaceholder, assetPlaceholder:
			return resource.MakeComputed(resource.NewStringProperty(""))
		}
		return resource.NewStringProperty(x)
	case []any:
		arr := make([]resource.PropertyValue, len(x))
		for i, e := range x {
			arr[i] = fromPlainValue(e)
		}
		return resource.NewArrayProperty(arr)
	case map[string]any:
		return resource.NewObjectProperty(fromPlain(x))
	}
	return resource.MakeComputed(resource.NewStringProperty(""))
}

// EnvironmentOf finds the stack's environment: the "environment" default
// tag its AWS providers carry (the tag every resource is billed under),
// else the stack name when it is one of the shipped environments, else ""
// (unknown, held to prod's rules).
func EnvironmentOf(rs []*Resource, stack string) string {
	for _, r := range rs {
		if r.Type != "pulumi:providers:aws" {
			continue
		}
		if env, ok := r.Get("defaultTags.tags.environment").Str(); ok && env != "" {
			return env
		}
	}
	switch stack {
	case "dev", "staging", "prod":
		return stack
	}
	return ""
}
