package rules

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Value is one input value read defensively. Secrets and outputs are seen
// through when their value is known; a computed value is Unknown; a value
// of another type than asked for reads as not ok, never as a panic.
type Value struct {
	v       resource.PropertyValue
	present bool
	secret  bool
	unknown bool
}

// unwrap strips secret and output wrappers, noting what it saw.
func unwrap(v resource.PropertyValue) (resource.PropertyValue, bool, bool) {
	secret := false
	for {
		switch {
		case v.IsSecret():
			secret = true
			v = v.SecretValue().Element
		case v.IsOutput():
			o := v.OutputValue()
			secret = secret || o.Secret
			if !o.Known {
				return v, secret, true
			}
			v = o.Element
		case v.IsComputed():
			return v, secret, true
		default:
			return v, secret, false
		}
	}
}

func newValue(v resource.PropertyValue, present bool) Value {
	if !present {
		return Value{}
	}
	inner, secret, unknown := unwrap(v)
	return Value{v: inner, present: true, secret: secret, unknown: unknown}
}

// Missing tells whether the input is absent or null: the provider's
// default applies.
func (v Value) Missing() bool { return !v.present || (!v.unknown && v.v.IsNull()) }

// Unknown tells whether the value is not known before apply.
func (v Value) Unknown() bool { return v.present && v.unknown }

// Secret tells whether the value is marked secret.
func (v Value) Secret() bool { return v.present && v.secret }

// Known tells whether the value is present and known.
func (v Value) Known() bool { return !v.Missing() && !v.unknown }

// Str returns a known string.
func (v Value) Str() (string, bool) {
	if !v.Known() || !v.v.IsString() {
		return "", false
	}
	return v.v.StringValue(), true
}

// Bool returns a known boolean; the strings "true" and "false" count, as
// some provider inputs (launch template EBS flags) are typed as strings.
func (v Value) Bool() (bool, bool) {
	if !v.Known() {
		return false, false
	}
	if v.v.IsBool() {
		return v.v.BoolValue(), true
	}
	if v.v.IsString() {
		b, err := strconv.ParseBool(v.v.StringValue())
		return b, err == nil
	}
	return false, false
}

// Num returns a known number; numeric strings count.
func (v Value) Num() (float64, bool) {
	if !v.Known() {
		return 0, false
	}
	if v.v.IsNumber() {
		return v.v.NumberValue(), true
	}
	if v.v.IsString() {
		f, err := strconv.ParseFloat(strings.TrimSpace(v.v.StringValue()), 64)
		return f, err == nil
	}
	return 0, false
}

// Items returns the elements of a known array, nil otherwise.
func (v Value) Items() []Value {
	if !v.Known() || !v.v.IsArray() {
		return nil
	}
	arr := v.v.ArrayValue()
	out := make([]Value, len(arr))
	for i, e := range arr {
		out[i] = newValue(e, true)
		out[i].secret = out[i].secret || v.secret
	}
	return out
}

// IsArray tells whether the value is a known array.
func (v Value) IsArray() bool { return v.Known() && v.v.IsArray() }

// IsObject tells whether the value is a known object.
func (v Value) IsObject() bool { return v.Known() && v.v.IsObject() }

// Field returns a member of a known object.
func (v Value) Field(key string) Value {
	if !v.Known() || !v.v.IsObject() {
		if v.Unknown() {
			return Value{present: true, unknown: true, secret: v.secret}
		}
		return Value{}
	}
	e, ok := v.v.ObjectValue()[resource.PropertyKey(key)]
	out := newValue(e, ok)
	out.secret = out.secret || (ok && v.secret)
	return out
}

// Keys returns the keys of a known object.
func (v Value) Keys() []string {
	if !v.Known() || !v.v.IsObject() {
		return nil
	}
	var out []string
	for k := range v.v.ObjectValue() {
		out = append(out, string(k))
	}
	return out
}

// Path walks a dotted path; numeric parts index arrays. An unknown value
// on the way makes the result unknown; a missing one makes it missing.
func (v Value) Path(path string) Value {
	cur := v
	if path == "" {
		return cur
	}
	for _, part := range strings.Split(path, ".") {
		if cur.Unknown() {
			return cur
		}
		if cur.IsArray() {
			i, err := strconv.Atoi(part)
			items := cur.Items()
			if err != nil || i < 0 || i >= len(items) {
				return Value{}
			}
			cur = items[i]
			continue
		}
		cur = cur.Field(part)
	}
	return cur
}

// Strings returns the known strings of an array (or a single string as a
// one-element list) and whether every element was a known string.
func (v Value) Strings() ([]string, bool) {
	if s, ok := v.Str(); ok {
		return []string{s}, true
	}
	items := v.Items()
	if items == nil {
		return nil, v.IsArray()
	}
	out := make([]string, 0, len(items))
	all := true
	for _, it := range items {
		if s, ok := it.Str(); ok {
			out = append(out, s)
		} else {
			all = false
		}
	}
	return out, all
}

// BoolOr returns the boolean, def when missing; ok is false when the value
// is unknown or not a boolean.
func (v Value) BoolOr(def bool) (bool, bool) {
	if v.Missing() {
		return def, true
	}
	return v.Bool()
}

// NumOr returns the number, def when missing.
func (v Value) NumOr(def float64) (float64, bool) {
	if v.Missing() {
		return def, true
	}
	return v.Num()
}

// StrOr returns the string, def when missing.
func (v Value) StrOr(def string) (string, bool) {
	if v.Missing() {
		return def, true
	}
	return v.Str()
}

// JSON decodes a known string input holding JSON (policy documents) into
// plain Go values; objects given as objects are accepted too.
func (v Value) JSON() (any, bool) {
	if s, ok := v.Str(); ok {
		var out any
		if err := json.Unmarshal([]byte(s), &out); err != nil {
			return nil, false
		}
		return out, true
	}
	if v.Known() && (v.v.IsObject() || v.v.IsArray()) {
		return plain(v.v), true
	}
	return nil, false
}

// plain turns a known property value into plain Go values (unknowns become
// nil).
func plain(v resource.PropertyValue) any {
	inner, _, unknown := unwrap(v)
	if unknown {
		return nil
	}
	switch {
	case inner.IsNull():
		return nil
	case inner.IsBool():
		return inner.BoolValue()
	case inner.IsNumber():
		return inner.NumberValue()
	case inner.IsString():
		return inner.StringValue()
	case inner.IsArray():
		arr := inner.ArrayValue()
		out := make([]any, len(arr))
		for i, e := range arr {
			out[i] = plain(e)
		}
		return out
	case inner.IsObject():
		out := map[string]any{}
		for k, e := range inner.ObjectValue() {
			out[string(k)] = plain(e)
		}
		return out
	}
	return nil
}
