// Package check is the one way components (and the stack configuration)
// check their arguments: every problem is collected, each names one field,
// and the caller gets them all at once before anything is created.
package check

import (
	"fmt"
	"strings"
)

// Problem is one field at fault and what is allowed.
type Problem struct {
	// Field names the argument, e.g. "WorkloadNodes.MinSize", or a config
	// key when the stack configuration uses it.
	Field string
	// Msg says what is wrong and what is allowed.
	Msg string
}

func (p Problem) String() string { return p.Field + ": " + p.Msg }

// Problems collects the problems of one scope (a component's name).
type Problems struct {
	scope string
	list  []Problem
}

// New starts a collection for a scope such as "database".
func New(scope string) *Problems { return &Problems{scope: scope} }

// Add records a problem with field.
func (p *Problems) Add(field, format string, args ...any) {
	p.list = append(p.list, Problem{Field: field, Msg: fmt.Sprintf(format, args...)})
}

// Require records "is required" for field unless present.
func (p *Problems) Require(field string, present bool) {
	if !present {
		p.Add(field, "is required")
	}
}

// Merge records problems found by a shared rule (a type's own Check), each
// field prefixed ("SystemNodes" + "minSize" = "SystemNodes.minSize").
func (p *Problems) Merge(prefix string, problems []Problem) {
	for _, q := range problems {
		if prefix != "" {
			q.Field = prefix + "." + q.Field
		}
		p.list = append(p.list, q)
	}
}

// List returns the problems recorded so far.
func (p *Problems) List() []Problem { return p.list }

// Err is nil without problems, otherwise an *Error listing them all.
func (p *Problems) Err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &Error{Scope: p.scope, Problems: p.list}
}

// Error is every problem of one scope.
type Error struct {
	Scope    string
	Problems []Problem
}

func (e *Error) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return fmt.Sprintf("%s: invalid arguments: %s", e.Scope, strings.Join(parts, "; "))
}

// Fields returns the fields named, in order.
func (e *Error) Fields() []string {
	out := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p.Field
	}
	return out
}
