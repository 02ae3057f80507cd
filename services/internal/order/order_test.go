package order

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/example/ecommerce-platform/services/internal/platform"
)

// A product id that is not a UUID is reported as its own field, not as an
// unreadable body.
func TestProductIDNamesItsField(t *testing.T) {
	for _, id := range []string{"nope", "7d9f3c5e2a8b4c1d9e6f0a1b2c3d4e5f0", "00000000-0000-0000-0000-000000000000", "{7d9f3c5e-2a8b-4c1d-9e6f-0a1b2c3d4e5f}"} {
		var in PlaceRequest
		err := platform.DecodeJSONBytes(strings.NewReader(fmt.Sprintf(`{"items":[{"product_id":"7d9f3c5e-2a8b-4c1d-9e6f-0a1b2c3d4e5f","quantity":1},{"product_id":%q,"quantity":1}]}`, id)), &in)
		if err == nil {
			err = in.Validate()
		}
		var e *platform.Error
		if !errors.As(err, &e) || e.Field != "items[1].product_id" || e.Status != http.StatusBadRequest {
			t.Errorf("%q: %v", id, err)
		}
	}
}

// FuzzPlaceRequest: any body either decodes into a request whose items are
// valid, unique and sorted, or yields a 4xx naming a field.
func FuzzPlaceRequest(f *testing.F) {
	for _, s := range []string{
		`{"items":[{"product_id":"7d9f3c5e-2a8b-4c1d-9e6f-0a1b2c3d4e5f","quantity":2}]}`,
		`{"items":[{"product_id":"7d9f3c5e-2a8b-4c1d-9e6f-0a1b2c3d4e5f","quantity":1},{"product_id":"0d9f3c5e-2a8b-4c1d-9e6f-0a1b2c3d4e5f","quantity":3}]}`,
		`{"items":[]}`, `{"items":[{"product_id":"x","quantity":1}]}`, `{"items":[{"product_id":"a\u0000","quantity":1}]}`, `{"items":[{"quantity":-1}]}`,
		`{"items":[{"product_id":"7d9f3c5e-2a8b-4c1d-9e6f-0a1b2c3d4e5f","quantity":99999999999}]}`, `{}`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in PlaceRequest
		err := platform.DecodeJSONBytes(bytes.NewReader(body), &in)
		if err == nil {
			err = in.Validate()
		}
		if err != nil {
			var e *platform.Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Field == "" {
				t.Fatalf("%q: %#v", body, err)
			}
			return
		}
		if len(in.Items) == 0 || len(in.Items) > MaxItems {
			t.Fatalf("%d items accepted", len(in.Items))
		}
		for i, it := range in.Items {
			if it.Quantity < 1 || it.Quantity > MaxQuantity {
				t.Fatalf("quantity %d accepted", it.Quantity)
			}
			if _, err := uuid.Parse(it.ProductID); err != nil {
				t.Fatalf("product id %q accepted", it.ProductID)
			}
			if i > 0 && in.Items[i-1].ProductID >= it.ProductID {
				t.Fatal("items not sorted and unique")
			}
		}
	})
}

func TestValidateKey(t *testing.T) {
	for k, ok := range map[string]bool{"a": true, "order-2024-01-01#1": true, "": false, "has space": false,
		strings.Repeat("k", MaxKeyLen): true, strings.Repeat("k", MaxKeyLen+1): false, "ключ": false} {
		if err := ValidateKey(k); (err == nil) != ok {
			t.Errorf("%q: %v", k, err)
		}
	}
}

func TestSameItemsSameHash(t *testing.T) {
	p1, p2 := "0d9f3c5e-2a8b-4c1d-9e6f-0a1b2c3d4e5f", "7D9F3C5E-2A8B-4C1D-9E6F-0A1B2C3D4E5F"
	a := PlaceRequest{Items: []Item{{ProductID: p2, Quantity: 1}, {ProductID: p1, Quantity: 2}}}
	b := PlaceRequest{Items: []Item{{ProductID: p1, Quantity: 2}, {ProductID: strings.ToLower(p2), Quantity: 1}}}
	if a.Validate() != nil || b.Validate() != nil || !bytes.Equal(a.hash(), b.hash()) {
		t.Fatal("the same items in another order must hash the same")
	}
	b.Items[0].Quantity = 3
	if bytes.Equal(a.hash(), b.hash()) {
		t.Fatal("different quantities hash the same")
	}
}
