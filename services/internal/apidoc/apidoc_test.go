package apidoc

import (
	"encoding/json"
	"reflect"
	"testing"

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
// and the same platform routes in every service's document.
func TestDocumentsShareTheirCommonParts(t *testing.T) {
	common := map[string][]string{
		"paths":                      {"/healthz", "/readyz", "/metrics", "/openapi.json"},
		"components.securitySchemes": {"bearer"},
		"components.headers":         {"Retry-After"},
		"components.schemas":         {"Problem", "ProblemCode", "Readiness"},
		"components.responses":       {"BadRequest", "Unauthorized", "Forbidden", "NotFound", "Conflict", "TooLarge", "UnsupportedMediaType", "Misdirected", "Unavailable", "Internal"},
	}
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
