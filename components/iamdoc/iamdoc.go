// Package iamdoc builds IAM policy documents (identity, resource, trust and
// key policies) from typed statements, so every policy in the platform is
// written the same way and a marshalling error is never dropped.
package iamdoc

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Version is the policy language version every document uses.
const Version = "2012-10-17"

// Statement is one policy statement. Action and Resource take a string or
// a []string; Principal a Principal, or "*" where a statement must apply
// to everyone (a Deny on plain transport).
type Statement struct {
	Sid       string         `json:"Sid,omitempty"`
	Effect    string         `json:"Effect"`
	Principal any            `json:"Principal,omitempty"`
	Action    any            `json:"Action"`
	Resource  any            `json:"Resource,omitempty"`
	Condition map[string]any `json:"Condition,omitempty"`
}

// Principal names who a resource or trust policy is about.
type Principal struct {
	AWS       any `json:"AWS,omitempty"`
	Service   any `json:"Service,omitempty"`
	Federated any `json:"Federated,omitempty"`
}

// Effects.
const (
	Allow = "Allow"
	Deny  = "Deny"
)

// Document renders the statements as a policy document.
func Document(statements ...Statement) (string, error) {
	if len(statements) == 0 {
		return "", errors.New("iamdoc: a policy needs at least one statement")
	}
	for i, s := range statements {
		if s.Effect != Allow && s.Effect != Deny {
			return "", fmt.Errorf("iamdoc: statement %d (%s): Effect %q: allowed Allow or Deny", i, s.Sid, s.Effect)
		}
		if s.Action == nil {
			return "", fmt.Errorf("iamdoc: statement %d (%s): Action is required", i, s.Sid)
		}
	}
	b, err := json.Marshal(struct {
		Version   string      `json:"Version"`
		Statement []Statement `json:"Statement"`
	}{Version, statements})
	return string(b), err
}

// ServiceTrust is the trust policy of a role an AWS service assumes, such
// as "eks.amazonaws.com". Conditions (e.g. aws:SourceAccount) narrow it to
// the service acting for this account.
func ServiceTrust(service string, actions []string, condition map[string]any) (string, error) {
	return Document(Statement{
		Effect:    Allow,
		Principal: Principal{Service: service},
		Action:    actions,
		Condition: condition,
	})
}

// Equals is a StringEquals condition on one key.
func Equals(key string, value any) map[string]any {
	return map[string]any{"StringEquals": map[string]any{key: value}}
}

// DenyPlainTransport refuses any request on resource made without TLS,
// whoever makes it.
func DenyPlainTransport(action string, resource any) Statement {
	return Statement{
		Sid:       "DenyPlainTransport",
		Effect:    Deny,
		Principal: "*",
		Action:    action,
		Resource:  resource,
		Condition: map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
	}
}
