package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
)

// Error is a client-facing error: a status, a stable code, a message and,
// for bad input, the field at fault.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// RetryAfter, when set, becomes the Retry-After header (whole seconds,
	// rounded up) of a 429 or 503.
	RetryAfter time.Duration `json:"-"`
}

// TooMany reports a client over a rate limit, with when to retry.
func TooMany(field, msg string, retry time.Duration) *Error {
	return &Error{Status: http.StatusTooManyRequests, Code: "too_many_requests", Field: field, Message: msg, RetryAfter: retry}
}

// Overloaded reports load shed before doing the work, with when to retry.
func Overloaded(msg string, retry time.Duration) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: "overloaded", Message: msg, RetryAfter: retry}
}

func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

// Invalid reports bad input in one field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid_argument", Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound reports a missing resource.
func NotFound(what string) *Error {
	return &Error{Status: http.StatusNotFound, Code: "not_found", Message: what + " not found"}
}

// Unauthorized reports missing or bad credentials.
func Unauthorized(field, msg string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: "unauthenticated", Field: field, Message: msg}
}

// Forbidden reports a caller without the needed role.
func Forbidden(msg string) *Error {
	return &Error{Status: http.StatusForbidden, Code: "permission_denied", Message: msg}
}

// Conflict reports a request that clashes with the current state.
func Conflict(field, msg string) *Error {
	return &Error{Status: http.StatusConflict, Code: "conflict", Field: field, Message: msg}
}

// Misdirected reports a request this instance does not serve: a write
// that reached a read-only region.
func Misdirected(msg string) *Error {
	return &Error{Status: http.StatusMisdirectedRequest, Code: "misdirected", Message: msg}
}

// Unprocessable reports input that is well formed but cannot be carried out.
func Unprocessable(field, msg string) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: "unprocessable", Field: field, Message: msg}
}

// WriteJSON writes v as the JSON response body.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError turns err into an RFC 9457 problem response
// (application/problem+json, see WriteProblem). Client errors keep their
// status; a database or network outage is a 503 the client may retry;
// anything else is a 500 whose detail stays in the log.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	switch {
	case errors.As(err, &e):
		switch {
		case e.RetryAfter > 0:
			w.Header().Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
		case e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable:
			// The documents promise Retry-After on every 429 and 503.
			w.Header().Set("Retry-After", "1")
		}
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away; nobody reads this response.
		e = &Error{Status: 499, Code: "canceled", Message: "request canceled"}
	case Transient(err):
		Logger(r.Context()).Warn("dependency unavailable", "err", err)
		w.Header().Set("Retry-After", "1")
		e = &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "a dependency is unavailable, retry later"}
	default:
		Logger(r.Context()).Error("internal error", "err", err)
		e = &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error"}
	}
	WriteProblem(w, r, e)
}

// Transient tells whether err comes from a dependency being down or slow,
// not from a bug: lost connections, timeouts and PostgreSQL shutting down.
func Transient(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// 08: connection exception, 57P: operator intervention (shutdown),
		// 53: insufficient resources, 40001/40P01: serialization/deadlock.
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P") ||
			strings.HasPrefix(pgErr.Code, "53") || pgErr.Code == "40001" || pgErr.Code == "40P01"
	}
	var netErr net.Error
	var connErr *pgconn.ConnectError
	return errors.As(err, &connErr) || errors.As(err, &netErr) || pgconn.Timeout(err) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || pgconn.SafeToRetry(err) ||
		strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "closed pool")
}

// MaxBodyBytes bounds every JSON request body.
const MaxBodyBytes = 1 << 20

// DecodeJSON reads one JSON object into dst. It rejects unknown fields,
// trailing data and oversized bodies, and names the offending field.
func DecodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Field: "Content-Type", Message: "must be application/json"}
	}
	return DecodeJSONBytes(http.MaxBytesReader(w, r.Body, MaxBodyBytes), dst)
}

// Validator is a request body that checks its own fields.
type Validator interface{ Validate() error }

// DecodeRequest decodes a JSON body into dst and validates it. On failure
// it has already written the 4xx response and returns false.
func DecodeRequest(w http.ResponseWriter, r *http.Request, dst Validator) bool {
	err := DecodeJSON(w, r, dst)
	if err == nil {
		err = dst.Validate()
	}
	if err != nil {
		WriteError(w, r, err)
		return false
	}
	return true
}

// DecodeJSONBytes is DecodeJSON's core, separate so it can be fuzzed.
func DecodeJSONBytes(body io.Reader, dst any) error {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return Invalid("body", "must hold a single JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return Invalid("body", "must hold a single JSON object")
	}
	return CheckText(dst)
}

// CheckText walks a decoded request and rejects any string PostgreSQL
// cannot store as text: a NUL character (JSON's \u0000 decodes to one) would
// otherwise reach the database and come back as a 500 (SQLSTATE 22021).
// Invalid UTF-8 needs no check here: encoding/json replaces it. The error
// names the field by its JSON path, as the decoder's own errors do.
func CheckText(v any) error {
	return checkText(reflect.ValueOf(v), "")
}

func checkText(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return checkText(v.Elem(), path)
	case reflect.String:
		return ValidText(orBody(path), v.String())
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if f.Anonymous && f.Tag.Get("json") == "" {
				name = ""
			}
			if err := checkText(v.Field(i), joinPath(path, name)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil // bytes and UUIDs
		}
		for i := range v.Len() {
			if err := checkText(v.Index(i), fmt.Sprintf("%s[%d]", orBody(path), i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			if k := iter.Key(); k.Kind() == reflect.String {
				if err := ValidText(orBody(path), k.String()); err != nil {
					return err
				}
			}
			if err := checkText(iter.Value(), joinPath(path, fmt.Sprint(iter.Key().Interface()))); err != nil {
				return err
			}
		}
	}
	return nil
}

func joinPath(path, name string) string {
	switch {
	case name == "":
		return path
	case path == "":
		return name
	}
	return path + "." + name
}

func orBody(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

// ValidText checks one client-supplied string (a body field, a query
// parameter) for what no text column accepts: NUL and invalid UTF-8.
func ValidText(field, s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return Invalid(field, "must not contain NUL characters")
	}
	if !utf8.ValidString(s) {
		return Invalid(field, "must be valid UTF-8 text")
	}
	return nil
}

func decodeError(err error) error {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	var maxErr *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return Invalid("body", "is empty")
	case errors.As(err, &maxErr):
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Field: "body", Message: "is too large"}
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return Invalid("body", "is not valid JSON")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		return Invalid(field, "must be of type %s", jsonType(typeErr.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, uerr := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		if uerr != nil || name == "" || len(name) > 100 {
			return Invalid("body", "has an unknown field")
		}
		return Invalid(name, "is not a known field")
	default:
		return Invalid("body", "is not valid JSON")
	}
}

func jsonType(kind string) string {
	switch kind {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "number"
	case "slice", "array":
		return "array"
	case "struct", "map":
		return "object"
	case "bool":
		return "boolean"
	default:
		return kind
	}
}
