package kubeapi

import (
	"encoding/json"
	"fmt"
)

// Object is one Kubernetes object as it would be sent to the API server.
type Object struct {
	// Manifest is the object: apiVersion, kind, metadata, spec, ...
	Manifest map[string]any
	// Origin is where it came from (a Pulumi URN), for messages.
	Origin string
	// DefaultNamespace is where a namespaced object without
	// metadata.namespace lands: its provider's namespace; empty is "default".
	DefaultNamespace string
}

func (o Object) str(key string) string {
	s, _ := o.Manifest[key].(string)
	return s
}

func (o Object) metadata() map[string]any {
	m, _ := o.Manifest["metadata"].(map[string]any)
	return m
}

func (o Object) meta(key string) string {
	s, _ := o.metadata()[key].(string)
	return s
}

// APIVersion is the object's apiVersion, e.g. apps/v1.
func (o Object) APIVersion() string { return o.str("apiVersion") }

// Kind is the object's kind, e.g. Deployment.
func (o Object) Kind() string { return o.str("kind") }

// Name is metadata.name.
func (o Object) Name() string { return o.meta("name") }

// GenerateName is metadata.generateName.
func (o Object) GenerateName() string { return o.meta("generateName") }

// Namespace is metadata.namespace as given (empty when not set).
func (o Object) Namespace() string { return o.meta("namespace") }

// deepCopy copies the manifest through JSON, as it will be sent.
func (o Object) deepCopy() (Object, error) {
	b, err := json.Marshal(o.Manifest)
	if err != nil {
		return o, fmt.Errorf("kubeapi: %s %s: %w", o.Kind(), o.Name(), err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return o, err
	}
	o.Manifest = m
	if o.metadata() == nil {
		m["metadata"] = map[string]any{}
	}
	return o, nil
}
