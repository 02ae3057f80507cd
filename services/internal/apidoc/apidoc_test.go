package apidoc

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/example/ecommerce-platform/services/internal/auth"
	"github.com/example/ecommerce-platform/services/internal/order"
	"github.com/example/ecommerce-platform/services/internal/platform"
	"github.com/example/ecommerce-platform/services/internal/product"
	"github.com/example/ecommerce-platform/services/internal/user"
)

var documents = map[string][]byte{"auth": auth.OpenAPI, "user": user.OpenAPI, "product": product.OpenAPI, "order": order.OpenAPI}

func TestDocumentsLoad(t *testing.T) {
	for name, src := range documents {
		api, err := platform.LoadAPI(src)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var back map[string]any
		if err := json.Unmarshal(api.JSON, &back); err != nil || back["openapi"] != "3.1.0" {
			t.Errorf("%s: served JSON does not read back as the 3.1.0 document: %v", name, err)
		}
		if _, err := platform.LoadAPI(api.JSON); err != nil {
			t.Errorf("%s: the served JSON does not load: %v", name, err)
		}
		t.Logf("%s: %d operations", name, len(api.Operations()))
	}
}

// TestDocumentsShareTheirCommonParts: one error shape, one security scheme
// and the same platform routes in every service's document; a shared
// response a document uses is the same as in the others (one it does not
// use it leaves out: the linter refuses unused components).
func TestDocumentsShareTheirCommonParts(t *testing.T) {
	common := map[string][]string{
		"paths":                      {"/healthz", "/readyz", "/metrics", "/openapi.json"},
		"components.securitySchemes": {"bearer"},
		"components.headers":         {"Retry-After"},
		"components.schemas":         {"Problem", "ProblemCode", "Readiness"},
		"components.responses":       {"Unavailable", "Internal"},
	}
	shared := []string{"BadRequest", "Unauthorized", "Forbidden", "NotFound", "Conflict", "TooLarge", "UnsupportedMediaType", "Misdirected"}
	trees := map[string]map[string]any{}
	for name, src := range documents {
		api, err := platform.LoadAPI(src)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var tree map[string]any
		if err := json.Unmarshal(api.JSON, &tree); err != nil {
			t.Fatal(err)
		}
		trees[name] = tree
	}
	section := func(tree map[string]any, path string) map[string]any {
		if path == "paths" {
			return tree["paths"].(map[string]any)
		}
		c, _ := tree["components"].(map[string]any)
		m, _ := c[path[len("components."):]].(map[string]any)
		return m
	}
	for _, key := range shared {
		var want any
		for name, tree := range trees {
			got := section(tree, "components.responses")[key]
			switch {
			case got == nil:
			case want == nil:
				want = got
			case !reflect.DeepEqual(got, want):
				t.Errorf("%s: components.responses.%s differs from another document's", name, key)
			}
		}
		if want == nil {
			t.Errorf("no document has the shared response %s", key)
		}
	}
	for path, keys := range common {
		for _, key := range keys {
			want := section(trees["auth"], path)[key]
			if want == nil {
				t.Errorf("auth: %s.%s is missing", path, key)
				continue
			}
			for _, name := range []string{"user", "product", "order"} {
				if got := section(trees[name], path)[key]; !reflect.DeepEqual(got, want) {
					t.Errorf("%s: %s.%s differs from auth's; the common parts must be the same in every document", name, path, key)
				}
			}
		}
	}
}

// TestRequestSchemasReadAlikeIn30And31: requests are validated with
// kin-openapi's OpenAPI 3.0 schema validator (see platform.LoadAPI), so
// the request schemas must not use what 3.0 reads otherwise or not at
// all: const, type arrays, numeric exclusive bounds, the 2020-12
// applicators. And on sample requests both validators agree.
func TestRequestSchemasReadAlikeIn30And31(t *testing.T) {
	for name, src := range documents {
		api, err := platform.LoadAPI(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, pattern := range api.Operations() {
			route := api.Route(pattern)
			var schemas []*openapi3.SchemaRef
			for _, p := range append(route.PathItem.Parameters, route.Operation.Parameters...) {
				schemas = append(schemas, p.Value.Schema)
			}
			if rb := route.Operation.RequestBody; rb != nil {
				for _, mt := range rb.Value.Content {
					schemas = append(schemas, mt.Schema)
				}
			}
			for _, s := range schemas {
				err := s.WalkSubtree(func(path string, ref *openapi3.SchemaRef) error {
					if why := onlyIn31(ref.Value); why != "" {
						return fmt.Errorf("%s%s: %s", pattern, path, why)
					}
					return nil
				})
				if err != nil {
					t.Errorf("%s: %v", name, err)
				}
			}
		}
	}

	// Sample bodies, valid and not, read by both validators.
	samples := map[string][]string{
		"order POST /v1/orders": {`{"items":[{"product_id":"7d9f3c5e-2a8b-4c1d-9e6f-0a1b2c3d4e5f","quantity":1}]}`, `{"items":[]}`,
			`{"items":[{"product_id":"x","quantity":1}]}`, `{"items":[{"product_id":"7d9f3c5e-2a8b-4c1d-9e6f-0a1b2c3d4e5f","quantity":0}]}`,
			`{"items":[{"quantity":1}]}`, `{"items":1}`, `{}`, `{"items":[],"x":1}`, `[]`},
		"product POST /v1/products": {`{"sku":"A","name":"a","price_cents":1}`, `{"sku":"","name":"a","price_cents":1}`, `{"sku":"A","name":"a","price_cents":-1}`,
			`{"sku":"A","name":"a","price_cents":1,"currency":"usd"}`, `{"sku":"A","name":"a","price_cents":1,"stock":-1}`, `{"sku":"A","name":"a"}`},
		"product PATCH /v1/products/{id}":                        {`{"name":"b"}`, `{}`, `{"stock":1}`, `{"currency":"EUR"}`, `{"price_cents":1.5}`},
		"product POST /v1/products/{id}/stock-adjustments":       {`{"delta":1}`, `{"delta":0}`, `{"delta":-5,"reason":"broken"}`, `{"delta":2000000000}`, `{"reason":"x"}`},
		"product PUT /v1/products/{id}/stock":                    {`{"stock":0}`, `{"stock":-1}`, `{}`},
		"auth POST /v1/auth/register":                            {`{"email":"a@b.c","password":"0123456789"}`, `{"email":"a@b.c","password":"short"}`, `{"email":"","password":"0123456789"}`},
		"auth POST /v1/auth/refresh":                             {`{"refresh_token":"x"}`, `{"refresh_token":""}`, `{}`},
		"user PUT /v1/users/me":                                  {`{"display_name":"Ada"}`, `{"display_name":""}`, `{}`, `{"display_name":null}`},
		"auth PUT /v1/auth/roles/{role}/members/{user} (params)": nil,
	}
	for key, bodies := range samples {
		name, pattern, _ := strings.Cut(key, " ")
		api, _ := platform.LoadAPI(documents[name])
		route := api.Route(strings.TrimSuffix(pattern, " (params)"))
		if route == nil {
			t.Errorf("%s: no such operation", key)
			continue
		}
		if bodies == nil {
			continue
		}
		schema := route.Operation.RequestBody.Value.Content.Get("application/json").Schema.Value
		for _, body := range bodies {
			var v any
			if err := json.Unmarshal([]byte(body), &v); err != nil {
				t.Fatal(err)
			}
			opts := []openapi3.SchemaValidationOption{openapi3.VisitAsRequest(), platform.FormatValidators()}
			err30 := schema.VisitJSON(v, opts...)
			err31 := schema.VisitJSON(v, append(opts, openapi3.EnableJSONSchema2020())...)
			if (err30 == nil) != (err31 == nil) {
				t.Errorf("%s %s: the 3.0 validator says %v, the 3.1 one %v", key, body, err30, err31)
			}
		}
	}
}

// onlyIn31 says which keyword of s the OpenAPI 3.0 validator would read
// otherwise, or "".
func onlyIn31(s *openapi3.Schema) string {
	switch {
	case s == nil:
	case s.Const != nil:
		return "const (use enum with one value)"
	case s.Type != nil && len(*s.Type) > 1:
		return "a type array"
	case s.ExclusiveMin.Value != nil || s.ExclusiveMax.Value != nil:
		return "a numeric exclusive bound"
	case len(s.PrefixItems) > 0 || s.Contains != nil || len(s.PatternProperties) > 0 || len(s.DependentSchemas) > 0 ||
		s.PropertyNames != nil || s.UnevaluatedItems.Has != nil || s.UnevaluatedItems.Schema != nil ||
		s.UnevaluatedProperties.Has != nil || s.UnevaluatedProperties.Schema != nil ||
		s.If != nil || s.Then != nil || s.Else != nil || len(s.DependentRequired) > 0 || s.ContentSchema != nil:
		return "a JSON Schema 2020-12 keyword"
	}
	return ""
}
