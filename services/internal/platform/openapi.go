package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/google/uuid"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"go.yaml.in/yaml/v4"
)

// API is a service's OpenAPI document, loaded and checked once at start:
// the contract every request is validated against before its handler runs,
// served as JSON at /openapi.json, and what the integration tests check
// every response against.
type API struct {
	Doc *openapi3.T
	// JSON is the document as served: the YAML source converted, key for key.
	JSON []byte
	opts *openapi3filter.Options
	// ops finds the operation of a method and path template, and of a
	// concrete request through mux (patterns only, no handlers run).
	ops map[string]*routers.Route
	// reqs are the same operations for request validation (see LoadAPI).
	reqs map[string]*routers.Route
	mux  *http.ServeMux
}

// formats are the string formats the documents use that kin-openapi does
// not check by default. A UUID must be the canonical 36-character form,
// which is what the services write.
var formats = map[string]openapi3.StringFormatValidator{
	"uuid": openapi3.NewCallbackValidator(func(s string) error {
		if _, err := uuid.Parse(s); err != nil || len(s) != 36 {
			return errors.New("not a UUID")
		}
		return nil
	}),
	"uri": openapi3.NewCallbackValidator(func(s string) error {
		if u, err := url.Parse(s); err != nil || u.Scheme == "" {
			return errors.New("not an absolute URI")
		}
		return nil
	}),
}

// LoadAPI parses and validates an OpenAPI 3.1 document (YAML or JSON).
func LoadAPI(src []byte) (*API, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(src)
	if err != nil {
		return nil, fmt.Errorf("load the OpenAPI document: %w", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		return nil, fmt.Errorf("the OpenAPI document is version %q; the services' documents are 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("the OpenAPI document is invalid: %w", err)
	}
	var tree any
	if err := yaml.Unmarshal(src, &tree); err != nil {
		return nil, fmt.Errorf("convert the OpenAPI document to JSON: %w", err)
	}
	js, err := json.Marshal(tree)
	if err != nil {
		return nil, fmt.Errorf("convert the OpenAPI document to JSON: %w", err)
	}
	// Requests are validated with kin-openapi's OpenAPI 3.0 schema
	// validator. For a 3.1 document it would use its JSON Schema 2020-12
	// validator, which v0.153.0 compiles anew from the schema for every
	// value it checks: 35 to 260 µs and up to 1700 allocations per request
	// (BenchmarkRequestValidation), more than the cached product read
	// costs whole. The request schemas keep to the keywords both versions
	// read alike (TestRequestSchemasReadAlikeIn30And31), so the outcome is
	// the same; responses, checked only in the tests, get the full 3.1
	// validator.
	reqSpec := &openapi3.T{}
	*reqSpec = *doc
	reqSpec.OpenAPI = "3.0.3"
	a := &API{
		Doc: doc, JSON: append(js, '\n'), ops: map[string]*routers.Route{}, reqs: map[string]*routers.Route{}, mux: http.NewServeMux(),
		opts: &openapi3filter.Options{
			// The handlers keep their own defaults; the request is not rewritten.
			SkipSettingDefaults: true,
			// The caller is authenticated before validation (validating),
			// by the service's Authenticator.
			AuthenticationFunc: func(context.Context, *openapi3filter.AuthenticationInput) error { return nil },
			// An undocumented status fails response validation.
			IncludeResponseStatus:   true,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{FormatValidators()},
		},
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			pattern := method + " " + path
			a.ops[pattern] = &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
			a.reqs[pattern] = &routers.Route{Spec: reqSpec, Path: path, PathItem: item, Method: method, Operation: op}
			a.mux.Handle(pattern, http.NotFoundHandler())
		}
	}
	return a, nil
}

// Operations are the document's operations as ServeMux patterns
// ("GET /v1/products/{id}"), sorted.
func (a *API) Operations() []string {
	out := make([]string, 0, len(a.ops))
	for p := range a.ops {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// Route is the documented operation of a ServeMux pattern, or nil.
func (a *API) Route(pattern string) *routers.Route { return a.ops[pattern] }

// FormatValidators is the option that checks the string formats the
// documents use (uuid, uri) as the services do.
func FormatValidators() openapi3.SchemaValidationOption {
	return openapi3.WithStringFormatValidators(formats)
}

// Find is the documented operation serving r and its path parameters, or
// nil when the document has none (ServeMux matching, HEAD served by GET).
func (a *API) Find(r *http.Request) (*routers.Route, map[string]string) {
	_, pattern := a.mux.Handler(r)
	route := a.ops[pattern]
	if route == nil {
		return nil, nil
	}
	return route, pathParams(route.Path, r.URL.Path)
}

// pathParams reads the values of a template's {name} segments from path.
func pathParams(template, path string) map[string]string {
	t, p := strings.Split(template, "/"), strings.Split(path, "/")
	params := map[string]string{}
	for i, seg := range t {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") && i < len(p) {
			v, err := url.PathUnescape(p[i])
			if err != nil {
				v = p[i]
			}
			params[strings.Trim(seg, "{}")] = v
		}
	}
	return params
}

// ValidateResponse checks a response to r against the document: a
// documented operation and status, the documented headers and content
// type, and a body matching its schema.
func (a *API) ValidateResponse(ctx context.Context, r *http.Request, status int, header http.Header, body []byte) error {
	route, params := a.Find(r)
	if route == nil {
		return fmt.Errorf("%s %s: no operation in the document", r.Method, r.URL.Path)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: a.opts},
		Status:                 status, Header: header, Options: a.opts,
	}
	in.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(ctx, in)
}

// Router is a service's mux bound to its document: each route is
// registered with the document's operation for it and validates requests
// against it before the handler runs. A route without an operation, or an
// operation without a route, is an error Check reports, and the service
// does not start.
type Router struct {
	mux    *http.ServeMux
	api    *API
	auth   Authenticator
	routes []string
	errs   []error
}

// Authenticator verifies a request's credentials for the operations whose
// document entry requires the bearer scheme.
type Authenticator interface {
	// Authenticate returns the request carrying the caller's verified
	// identity, or the error to answer (401, or 503 when the keys to
	// verify with cannot be had).
	Authenticate(r *http.Request) (*http.Request, error)
	// HasRole tells whether an authenticated request's caller has role.
	HasRole(r *http.Request, role string) bool
}

// RequiredRoleExtension on an operation names the role its caller must
// have (403 otherwise), checked after authentication and before validation.
const RequiredRoleExtension = "x-required-role"

// NewRouter makes a Router for api's operations; auth verifies callers
// where the document requires it (nil when no operation does).
func NewRouter(api *API, auth Authenticator) *Router {
	return &Router{mux: http.NewServeMux(), api: api, auth: auth}
}

// HandleFunc registers h for pattern ("METHOD /path/{param}").
func (rt *Router) HandleFunc(pattern string, h http.HandlerFunc) { rt.Handle(pattern, h) }

// Handle registers h for pattern ("METHOD /path/{param}"), behind request
// validation against the pattern's operation.
func (rt *Router) Handle(pattern string, h http.Handler) {
	rt.routes = append(rt.routes, pattern)
	route := rt.api.reqs[pattern]
	switch {
	case route == nil:
		rt.errs = append(rt.errs, fmt.Errorf("route %q has no operation in the OpenAPI document (method and path as written there)", pattern))
	case needsBearer(route) && rt.auth == nil:
		rt.errs = append(rt.errs, fmt.Errorf("operation %q requires a bearer token but the service has no Authenticator", pattern))
	default:
		h = rt.api.validating(route, rt.auth, h)
	}
	rt.mux.Handle(pattern, h)
}

// Routes are the registered patterns, sorted.
func (rt *Router) Routes() []string { return slices.Sorted(slices.Values(rt.routes)) }

// Check reports every registered route without an operation and every
// operation without a route.
func (rt *Router) Check() error {
	errs := slices.Clone(rt.errs)
	for _, op := range rt.api.Operations() {
		if !slices.Contains(rt.routes, op) {
			errs = append(errs, fmt.Errorf("operation %q of the OpenAPI document has no handler", op))
		}
	}
	return errors.Join(errs...)
}

// ServeHTTP dispatches to the registered routes.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) { rt.mux.ServeHTTP(w, r) }

// validating runs next only for requests the operation accepts: first the
// caller where the operation requires the bearer scheme (401, 503) and its
// role (x-required-role, 403), then the parameters and the body (400
// naming the field, 413, 415). Authentication comes first, as it did when
// each handler checked it: a caller without a valid token learns nothing
// about the request.
func (a *API) validating(route *routers.Route, auth Authenticator, next http.Handler) http.Handler {
	bearer := needsBearer(route)
	role, _ := route.Operation.Extensions[RequiredRoleExtension].(string)
	var names []string
	for _, seg := range strings.Split(route.Path, "/") {
		if strings.HasPrefix(seg, "{") {
			names = append(names, strings.Trim(seg, "{}"))
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if bearer {
			ar, err := auth.Authenticate(r)
			if err != nil {
				WriteError(w, r, err)
				return
			}
			if role != "" && !auth.HasRole(ar, role) {
				WriteError(w, r, Forbidden("the "+role+" role is required"))
				return
			}
			r = ar
		}
		if err := a.checkRequest(w, r, route, names); err != nil {
			WriteError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func needsBearer(route *routers.Route) bool {
	reqs := route.Operation.Security
	if reqs == nil {
		reqs = &route.Spec.Security
	}
	for _, req := range *reqs {
		if len(req) == 0 {
			return false // an empty requirement: anonymous is fine
		}
	}
	return len(*reqs) > 0
}

func (a *API) checkRequest(w http.ResponseWriter, r *http.Request, route *routers.Route, names []string) error {
	if route.Operation.RequestBody != nil && r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		if ct := r.Header.Get("Content-Type"); ct == "" {
			// As before the document: a body without a type is read as JSON.
			r.Header.Set("Content-Type", "application/json")
		} else if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Field: "Content-Type", Message: "must be application/json"}
		}
	}
	params := make(map[string]string, len(names))
	for _, n := range names {
		params[n] = r.PathValue(n)
	}
	err := openapi3filter.ValidateRequest(r.Context(), &openapi3filter.RequestValidationInput{
		Request: r, PathParams: params, Route: route, Options: a.opts,
	})
	if err == nil {
		return nil
	}
	return requestProblem(err)
}

// requestProblem turns a validation failure into a 4xx naming the field,
// in words of its own: the validators' messages may quote the value, which
// can be a password.
func requestProblem(err error) *Error {
	var maxErr *http.MaxBytesError
	var reqErr *openapi3filter.RequestError
	switch {
	case errors.As(err, &maxErr):
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Field: "body", Message: "is too large"}
	case !errors.As(err, &reqErr):
		return Invalid("body", "does not match the API document")
	case reqErr.Parameter != nil:
		p := reqErr.Parameter
		var schema *openapi3.Schema
		if p.Schema != nil {
			schema = p.Schema.Value
		}
		var parseErr *openapi3filter.ParseError
		switch {
		case errors.Is(reqErr.Err, openapi3filter.ErrInvalidRequired):
			return Invalid(p.Name, "is required")
		case errors.Is(reqErr.Err, openapi3filter.ErrInvalidEmptyValue):
			return Invalid(p.Name, "must not be empty")
		case errors.As(reqErr.Err, &parseErr):
			return Invalid(p.Name, "%s", describe("type", schema))
		}
		return schemaProblem(p.Name, reqErr.Err)
	case reqErr.RequestBody != nil:
		var parseErr *openapi3filter.ParseError
		switch {
		case errors.Is(reqErr.Err, openapi3filter.ErrInvalidRequired):
			return Invalid("body", "is empty")
		case errors.As(reqErr.Err, &parseErr):
			return Invalid("body", "is not valid JSON")
		case reqErr.Err == nil:
			return Invalid("body", "%s", reqErr.Reason)
		}
		return schemaProblem("", reqErr.Err)
	}
	return Invalid("body", "does not match the API document")
}

var unsupportedProperty = regexp.MustCompile(`^property "(.*)" is unsupported$`)

// schemaProblem names the first failing value of a schema error (under
// base, a parameter's name or "" for the body) and says what it must be.
func schemaProblem(base string, err error) *Error {
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		return Invalid(orBody(base), "does not match the API document")
	}
	se = firstLeaf(se)
	path := se.JSONPointer()
	keyword := se.SchemaField
	var verr *jsonschema.ValidationError
	if errors.As(se, &verr) {
		// The JSON Schema 2020-12 validator (OpenAPI 3.1 documents) says
		// which property is missing or unknown in its error kind.
		switch k := verr.ErrorKind.(type) {
		case *kind.Required:
			return Invalid(fieldName(base, append(path, k.Missing[0])), "is required")
		case *kind.AdditionalProperties:
			return Invalid(fieldName(base, append(path, k.Properties[0])), "is not a known field")
		}
	}
	switch keyword {
	case "required":
		// The 3.0 validator put the missing property on the path.
		return Invalid(fieldName(base, path), "is required")
	case "properties", "additionalProperties":
		if m := unsupportedProperty.FindStringSubmatch(se.Reason); m != nil {
			return Invalid(fieldName(base, append(path, m[1])), "is not a known field")
		}
	}
	if se.Schema != nil {
		if d, ok := se.Schema.Extensions["x-problem-detail"].(string); ok && d != "" {
			return Invalid(fieldName(base, path), "%s", d)
		}
	}
	return Invalid(fieldName(base, path), "%s", describe(keyword, se.Schema))
}

// firstLeaf follows a schema error to the first error it is made of.
func firstLeaf(se *openapi3.SchemaError) *openapi3.SchemaError {
	for se.Origin != nil {
		var me openapi3.MultiError
		var next *openapi3.SchemaError
		switch {
		case errors.As(se.Origin, &me) && len(me) > 0 && errors.As(me[0], &next):
		case errors.As(se.Origin, &next) && next != se:
		default:
			return se
		}
		se = next
	}
	return se
}

// fieldName writes a JSON pointer's tokens as this API names fields:
// items[0].product_id.
func fieldName(base string, path []string) string {
	var b strings.Builder
	b.WriteString(base)
	for _, tok := range path {
		if _, err := strconv.Atoi(tok); err == nil && b.Len() > 0 {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return orBody(b.String())
}

// describe says what a value must be, from the failing keyword and the
// schema's own limits; never from the value.
func describe(keyword string, s *openapi3.Schema) string {
	if s == nil {
		return "does not match the API document"
	}
	typ := ""
	if s.Type != nil && len(*s.Type) > 0 {
		typ = (*s.Type)[0]
	}
	num := func(f *float64) string { return strconv.FormatFloat(*f, 'f', -1, 64) }
	switch keyword {
	case "type":
		switch typ {
		case "integer", "array", "object":
			return "must be an " + typ
		case "":
			return "has the wrong type"
		}
		return "must be a " + typ
	case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf":
		what := "a number"
		if typ == "integer" {
			what = "an integer"
		}
		switch {
		case s.Min != nil && s.Max != nil:
			return fmt.Sprintf("must be %s from %s to %s", what, num(s.Min), num(s.Max))
		case s.Min != nil:
			return fmt.Sprintf("must be %s of at least %s", what, num(s.Min))
		case s.Max != nil:
			return fmt.Sprintf("must be %s of at most %s", what, num(s.Max))
		}
	case "minLength", "maxLength":
		switch {
		case s.MaxLength != nil && s.MinLength > 1:
			return fmt.Sprintf("must be %d to %d characters", s.MinLength, *s.MaxLength)
		case s.MaxLength != nil && s.MinLength == 1 && keyword == "minLength":
			return "must not be empty"
		case s.MaxLength != nil:
			return fmt.Sprintf("must be at most %d characters", *s.MaxLength)
		}
		return fmt.Sprintf("must be at least %d characters", s.MinLength)
	case "minItems", "maxItems":
		if keyword == "minItems" {
			return fmt.Sprintf("must hold at least %d items", s.MinItems)
		}
		return fmt.Sprintf("must hold at most %d items", *s.MaxItems)
	case "minProperties":
		return fmt.Sprintf("must hold at least %d field", s.MinProps)
	case "enum":
		vals := make([]string, len(s.Enum))
		for i, v := range s.Enum {
			vals[i] = fmt.Sprint(v)
		}
		return "must be one of " + strings.Join(vals, ", ")
	case "const":
		return fmt.Sprintf("must be %v", s.Const)
	case "format":
		if s.Format == "uuid" {
			return "must be a UUID"
		}
		return "must be a " + s.Format
	case "pattern":
		return "has an invalid format"
	case "not":
		return "is not allowed"
	}
	return "does not match the API document"
}

// serveDocument answers GET /openapi.json.
func (a *API) serveDocument(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(a.JSON)
}
